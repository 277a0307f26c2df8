//! Operators and conversions in the checker: C# binary operators with numeric promotion,
//! string concatenation, DateTime/TimeSpan arithmetic, implicit (`coerce`) and explicit
//! (`cast`) conversions.

use super::ast::BinOp;
use super::check::{op_str, unify, CResult, Checker, TE};
use super::error::ExprError;
use super::ir::{Conv, Id, Node, Num, Op};
use super::resolve::{num_type, promote};
use super::types::{Class, Elem, Type};

/// C#'s error for a binary operator without an overload for these operand types.
fn no_operator(op: BinOp, l: Type, r: Type, pos: usize) -> ExprError {
    ExprError::new(
        pos,
        format!(
            "operator '{}' cannot be applied to operands of type '{}' and '{}'",
            op_str(op),
            l.name(),
            r.name()
        ),
    )
}

impl Checker<'_> {
    pub fn binary(&mut self, op: BinOp, l: TE, r: TE, pos: usize) -> CResult<TE> {
        let bad = || no_operator(op, l.1, r.1, pos);
        match op {
            BinOp::Coalesce => {
                let t = match (l.1, r.1) {
                    (a, b) if a == b => a,
                    (Type::Null, b) => b,
                    (a, b) => unify(a, b).ok_or_else(bad)?,
                };
                let a = self.coerce(l, t, pos)?;
                let b = self.coerce(r, t, pos)?;
                Ok((self.push(Node::Coalesce(a, b), pos)?, t))
            }
            BinOp::And | BinOp::Or => {
                if !matches!(l.1, Type::Bool | Type::Null)
                    || !matches!(r.1, Type::Bool | Type::Null)
                {
                    return Err(bad());
                }
                let n = if op == BinOp::And {
                    Node::And(l.0, r.0)
                } else {
                    Node::Or(l.0, r.0)
                };
                Ok((self.push(n, pos)?, Type::Bool))
            }
            BinOp::Add if matches!(l.1, Type::Str) || matches!(r.1, Type::Str) => {
                let a = self.stringify(l, pos)?;
                let b = self.stringify(r, pos)?;
                Ok((self.push(Node::Bin(Op::Concat, a, b), pos)?, Type::Str))
            }
            BinOp::Add | BinOp::Sub => {
                let (o, t) = match (l.1, r.1, op) {
                    (Type::DateTime, Type::TimeSpan, BinOp::Add) => (Op::DtAddTs, Type::DateTime),
                    (Type::DateTime, Type::TimeSpan, _) => (Op::DtSubTs, Type::DateTime),
                    (Type::DateTime, Type::DateTime, BinOp::Sub) => (Op::DtSubDt, Type::TimeSpan),
                    (Type::TimeSpan, Type::TimeSpan, BinOp::Add) => (Op::TsAdd, Type::TimeSpan),
                    (Type::TimeSpan, Type::TimeSpan, _) => (Op::TsSub, Type::TimeSpan),
                    _ => return self.arith(op, l, r, pos),
                };
                Ok((self.push(Node::Bin(o, l.0, r.0), pos)?, t))
            }
            BinOp::Mul | BinOp::Div | BinOp::Rem => self.arith(op, l, r, pos),
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                if l.1 == Type::Bool && r.1 == Type::Bool {
                    let o = match op {
                        BinOp::BitAnd => Op::BoolAnd,
                        BinOp::BitOr => Op::BoolOr,
                        _ => Op::BoolXor,
                    };
                    return Ok((self.push(Node::Bin(o, l.0, r.0), pos)?, Type::Bool));
                }
                match (l.1, r.1) {
                    (Type::Enum(a), Type::Enum(b)) if a == b => {
                        let o = match op {
                            BinOp::BitAnd => Op::BitAnd(Num::Int),
                            BinOp::BitOr => Op::BitOr(Num::Int),
                            _ => Op::BitXor(Num::Int),
                        };
                        Ok((self.push(Node::Bin(o, l.0, r.0), pos)?, l.1))
                    }
                    _ => self.arith(op, l, r, pos),
                }
            }
            BinOp::Eq | BinOp::Ne => {
                let neg = op == BinOp::Ne;
                if let Some(n) = promote(l.1, r.1) {
                    let a = self.coerce(l, num_type(n), pos)?;
                    let b = self.coerce(r, num_type(n), pos)?;
                    return Ok((self.push(Node::Bin(Op::Eq(neg), a, b), pos)?, Type::Bool));
                }
                let ok = l.1 == r.1
                    || matches!(
                        (l.1, r.1),
                        (Type::Null, _) | (_, Type::Null) | (Type::Object, _) | (_, Type::Object)
                    )
                    || (l.1.is_json() && r.1.is_json())
                    || (l.1.is_json() && r.1 == Type::Str)
                    || (l.1 == Type::Str && r.1.is_json())
                    || matches!(
                        (l.1, r.1),
                        (Type::Match | Type::Group, Type::Match | Type::Group)
                    );
                if !ok {
                    return Err(bad());
                }
                Ok((
                    self.push(Node::Bin(Op::Eq(neg), l.0, r.0), pos)?,
                    Type::Bool,
                ))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let o = match op {
                    BinOp::Lt => Op::Lt,
                    BinOp::Le => Op::Le,
                    BinOp::Gt => Op::Gt,
                    _ => Op::Ge,
                };
                if let Some(n) = promote(l.1, r.1) {
                    let a = self.coerce(l, num_type(n), pos)?;
                    let b = self.coerce(r, num_type(n), pos)?;
                    return Ok((self.push(Node::Bin(o, a, b), pos)?, Type::Bool));
                }
                let ok = matches!(
                    (l.1, r.1),
                    (Type::DateTime, Type::DateTime)
                        | (Type::TimeSpan, Type::TimeSpan)
                        | (
                            Type::Null,
                            Type::Int | Type::Long | Type::Double | Type::DateTime | Type::TimeSpan
                        )
                        | (
                            Type::Int | Type::Long | Type::Double | Type::DateTime | Type::TimeSpan,
                            Type::Null
                        )
                );
                if !ok {
                    return Err(bad());
                }
                Ok((self.push(Node::Bin(o, l.0, r.0), pos)?, Type::Bool))
            }
        }
    }

    pub(super) fn arith(&mut self, op: BinOp, l: TE, r: TE, pos: usize) -> CResult<TE> {
        let n = promote(l.1, r.1).ok_or_else(|| no_operator(op, l.1, r.1, pos))?;
        if n == Num::Double && matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor) {
            return Err(ExprError::new(
                pos,
                "bitwise operators need integer operands",
            ));
        }
        let a = self.coerce(l, num_type(n), pos)?;
        let b = self.coerce(r, num_type(n), pos)?;
        let o = match op {
            BinOp::Add => Op::Add(n),
            BinOp::Sub => Op::Sub(n),
            BinOp::Mul => Op::Mul(n),
            BinOp::Div => Op::Div(n),
            BinOp::Rem => Op::Rem(n),
            BinOp::BitAnd => Op::BitAnd(n),
            BinOp::BitOr => Op::BitOr(n),
            _ => Op::BitXor(n),
        };
        Ok((self.push(Node::Bin(o, a, b), pos)?, num_type(n)))
    }

    pub fn stringify(&mut self, v: TE, pos: usize) -> CResult<Id> {
        match v.1 {
            Type::Str => Ok(v.0),
            Type::Void => Err(ExprError::new(pos, "cannot concatenate a void expression")),
            _ => self.push(Node::Conv(Conv::ToStr, v.0), pos),
        }
    }

    /// Implicit conversion (C# assignment compatibility).
    pub fn coerce(&mut self, v: TE, to: Type, pos: usize) -> CResult<Id> {
        let (id, from) = v;
        if from == to {
            return Ok(id);
        }
        let conv = match (from, to) {
            (Type::Void, _) => return Err(ExprError::new(pos, "the expression does not produce a value")),
            (_, Type::Object) | (Type::Null, _) => return Ok(id),
            (Type::Int | Type::Char, Type::Long) => Conv::ToLong,
            (Type::Int | Type::Long | Type::Char, Type::Double) => Conv::ToDouble,
            (Type::Char, Type::Int) => Conv::ToInt,
            (Type::JObject | Type::JArray | Type::JProperty, Type::JToken) => return Ok(id),
            (Type::Match, Type::Group) => return Ok(id),
            (Type::Str | Type::Int | Type::Long | Type::Double | Type::Bool | Type::DateTime | Type::Guid | Type::TimeSpan | Type::Char, Type::JToken) => {
                Conv::ToJson
            }
            (Type::Seq(_), Type::Seq(Elem::Object)) => return Ok(id),
            (Type::Seq(Elem::JObject | Elem::JArray | Elem::JProperty), Type::Seq(Elem::JToken)) => return Ok(id),
            (Type::Class(Class::CultureInfo), _) => return Ok(id),
            _ => {
                return Err(ExprError::new(
                    pos,
                    format!("cannot implicitly convert type '{}' to '{}'", from.name(), to.name()),
                )
                .with_hint(if from == Type::Object {
                    "values from context.Variables are 'object': cast them, e.g. (string)context.Variables[\"x\"]"
                } else {
                    "add an explicit cast or conversion"
                }))
            }
        };
        self.push(Node::Conv(conv, id), pos)
    }

    /// Explicit cast `(T)x`.
    pub fn cast(&mut self, v: TE, to: Type, pos: usize) -> CResult<Id> {
        let (id, from) = v;
        if from == to {
            return Ok(id);
        }
        if from.is_numeric() && to.is_numeric() || matches!(from, Type::Enum(_)) && to == Type::Int
        {
            let c = match to {
                Type::Int => Conv::ToInt,
                Type::Long => Conv::ToLong,
                Type::Double => Conv::ToDouble,
                _ => Conv::ToChar,
            };
            return self.push(Node::Conv(c, id), pos);
        }
        if let Ok(id2) = self.coerce(v, to, pos) {
            return Ok(id2);
        }
        let conv = match (from, to) {
            (Type::Object, _) => Conv::Unbox(to),
            (
                f,
                Type::Str
                | Type::Int
                | Type::Long
                | Type::Double
                | Type::Bool
                | Type::DateTime
                | Type::Guid
                | Type::TimeSpan,
            ) if f.is_json() => Conv::FromJson(to),
            (Type::JToken, Type::JObject | Type::JArray | Type::JProperty) => Conv::Unbox(to),
            (Type::Seq(_), Type::Seq(_)) => Conv::Unbox(to),
            _ => {
                return Err(ExprError::new(
                    pos,
                    format!("cannot convert type '{}' to '{}'", from.name(), to.name()),
                ))
            }
        };
        self.push(Node::Conv(conv, id), pos)
    }
}
