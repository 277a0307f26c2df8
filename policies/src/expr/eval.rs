//! The evaluator: walks the flat node array. Recursion depth is bounded at compile time
//! (see `Expr::max_depth`); loops and LINQ share a per-evaluation step budget. Locals live
//! in an arena-allocated slot array, so evaluation allocates only in the request arena.

use bumpalo::collections::{String as BString, Vec as BVec};
use bumpalo::Bump;

use super::builtins::format::{display_into, format_value, write_aligned};
use super::builtins::json::JNode;
use super::builtins::{self, Rt};
use super::context::ExprContext;
use super::error::{EResult, EvalError};
use super::eval_ops::{binary, convert, to_jnode, unary_neg, value_is};
use super::ir::{Id, InterpHole, Node, TestMode, B};
use super::value::Value;
use super::{Expr, ExprScratch};

pub enum Flow<'a> {
    Normal,
    Return(Value<'a>),
    Break,
    Continue,
}

pub struct Ev<'c, 'a> {
    pub x: &'a Expr,
    pub ctx: &'c dyn ExprContext<'a>,
    pub arena: &'a Bump,
    pub slots: &'a mut [Value<'a>],
    pub budget: u32,
}

pub fn run<'a>(
    x: &'a Expr,
    ctx: &dyn ExprContext<'a>,
    scratch: &mut ExprScratch,
) -> EResult<Value<'a>> {
    let arena = ctx.arena();
    let slots = arena.alloc_slice_fill_copy(x.n_slots, Value::Null);
    let mut ev = Ev {
        x,
        ctx,
        arena,
        slots,
        budget: scratch.step_budget,
    };
    match x.nodes.get(x.root as usize) {
        Some(Node::Block(_)) => match ev.exec(x.root)? {
            Flow::Return(v) => Ok(v),
            _ => Err(EvalError::new("not all code paths return a value")),
        },
        _ => ev.eval(x.root),
    }
}

/// Calls `f` for each child node id (used for the compile-time depth bound).
pub fn for_each_child(n: &Node, mut f: impl FnMut(Id)) {
    match n {
        Node::Const(_) | Node::Local(_) | Node::Break | Node::Continue | Node::Nop => {}
        Node::Assign(_, a)
        | Node::Neg(_, a)
        | Node::Not(a)
        | Node::BitNot(_, a)
        | Node::Conv(_, a)
        | Node::Return(a)
        | Node::Discard(a) => f(*a),
        Node::Test { node, .. } => f(*node),
        Node::Call { args, .. }
        | Node::NewList(args)
        | Node::Block(args)
        | Node::TryOut { args, .. } => args.iter().for_each(|a| f(*a)),
        Node::Bin(_, a, b) | Node::And(a, b) | Node::Or(a, b) | Node::Coalesce(a, b) => {
            f(*a);
            f(*b)
        }
        Node::Cond(a, b, c) => {
            f(*a);
            f(*b);
            f(*c)
        }
        Node::CondAccess { target, body, .. } => {
            f(*target);
            f(*body)
        }
        Node::Linq { src, body, arg, .. } => {
            f(*src);
            body.iter().chain(arg.iter()).for_each(|a| f(*a))
        }
        Node::Interp(parts) => parts.iter().for_each(|p| f(p.0)),
        Node::IndexSet { target, key, value } => {
            f(*target);
            f(*key);
            f(*value)
        }
        Node::Anon(m) => m.iter().for_each(|p| f(p.1)),
        Node::If(c, t, e) => {
            f(*c);
            f(*t);
            e.iter().for_each(|a| f(*a))
        }
        Node::Foreach { src, body, .. } => {
            f(*src);
            f(*body)
        }
        Node::For {
            init,
            cond,
            step,
            body,
        } => {
            init.iter().chain(step.iter()).for_each(|a| f(*a));
            f(*cond);
            f(*body)
        }
        Node::Throw(m) => m.iter().for_each(|a| f(*a)),
    }
}

impl<'c, 'a> Ev<'c, 'a> {
    fn node(&self, id: Id) -> EResult<&'a Node> {
        let x: &'a Expr = self.x;
        x.nodes
            .get(id as usize)
            .ok_or_else(|| EvalError::new("internal error: bad node"))
    }

    pub fn step(&mut self) -> EResult<()> {
        if self.budget == 0 {
            return Err(EvalError::new(
                "the expression exceeded its evaluation step budget",
            ));
        }
        self.budget -= 1;
        Ok(())
    }

    pub fn set(&mut self, slot: u16, v: Value<'a>) {
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = v;
        }
    }

    pub fn rt(&self) -> Rt<'_, 'a> {
        Rt {
            arena: self.arena,
            ctx: self.ctx,
            regexes: &self.x.regexes,
        }
    }

    pub fn eval(&mut self, id: Id) -> EResult<Value<'a>> {
        match self.node(id)? {
            Node::Const(c) => Ok(c.to_value()),
            Node::Local(s) => Ok(self.slots.get(*s as usize).copied().unwrap_or(Value::Null)),
            Node::Assign(s, v) => {
                let v = self.eval(*v)?;
                self.set(*s, v);
                Ok(v)
            }
            Node::Call {
                f,
                args,
                null_check,
            } => self.call(*f, args, *null_check),
            Node::Bin(op, a, b) => {
                let a = self.eval(*a)?;
                let b = self.eval(*b)?;
                binary(*op, a, b, self.arena)
            }
            Node::Neg(n, a) => {
                let v = self.eval(*a)?;
                unary_neg(*n, v, false)
            }
            Node::BitNot(n, a) => {
                let v = self.eval(*a)?;
                unary_neg(*n, v, true)
            }
            Node::Not(a) => Ok(match self.eval(*a)? {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            }),
            Node::And(a, b) => {
                if !self.eval(*a)?.truthy() {
                    return Ok(Value::Bool(false));
                }
                Ok(Value::Bool(self.eval(*b)?.truthy()))
            }
            Node::Or(a, b) => {
                if self.eval(*a)?.truthy() {
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(self.eval(*b)?.truthy()))
            }
            Node::Coalesce(a, b) => match self.eval(*a)? {
                Value::Null => self.eval(*b),
                v => Ok(v),
            },
            Node::Cond(c, a, b) => {
                if self.eval(*c)?.truthy() {
                    self.eval(*a)
                } else {
                    self.eval(*b)
                }
            }
            Node::CondAccess { target, slot, body } => match self.eval(*target)? {
                Value::Null => Ok(Value::Null),
                v => {
                    self.set(*slot, v);
                    self.eval(*body)
                }
            },
            Node::Conv(c, a) => {
                let v = self.eval(*a)?;
                convert(*c, v, self.arena)
            }
            Node::Test { ty, mode, node } => {
                let v = self.eval(*node)?;
                Ok(match mode {
                    TestMode::Is => Value::Bool(value_is(&v, *ty)),
                    TestMode::IsNull => Value::Bool(v.is_null()),
                    TestMode::IsNotNull => Value::Bool(!v.is_null()),
                    TestMode::As => {
                        if value_is(&v, *ty) {
                            v
                        } else {
                            Value::Null
                        }
                    }
                    TestMode::IsBind(slot) => {
                        let ok = value_is(&v, *ty);
                        if ok {
                            self.set(*slot, v);
                        }
                        Value::Bool(ok)
                    }
                })
            }
            Node::Linq {
                op,
                src,
                slot,
                body,
                arg,
                num,
            } => self.linq(*op, *src, *slot, *body, *arg, *num),
            Node::NewList(items) => {
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                for i in items.iter() {
                    out.push(self.eval(*i)?);
                }
                Ok(Value::List(out.into_bump_slice()))
            }
            Node::Interp(parts) => self.interp(parts),
            Node::TryOut {
                f,
                args,
                slot,
                default,
            } => {
                let r = self.call(*f, args, false);
                match r {
                    Ok(v) if !v.is_null() => {
                        self.set(*slot, v);
                        Ok(Value::Bool(true))
                    }
                    _ => {
                        self.set(*slot, default.to_value());
                        Ok(Value::Bool(false))
                    }
                }
            }
            Node::IndexSet { target, key, value } => {
                let t = self.eval(*target)?;
                let k = self.eval(*key)?;
                let v = self.eval(*value)?;
                let Value::Json(node) = t else {
                    return Err(EvalError::null_ref());
                };
                let vn = match to_jnode(v, self.arena)? {
                    n @ (JNode::Object(_) | JNode::Array(_)) => n.deep_clone(self.arena, 0)?,
                    n => n,
                };
                match k {
                    Value::Str(s) => node.set_key(s, vn)?,
                    Value::Int(i) => node.set_index(i64::from(i), vn)?,
                    _ => {
                        return Err(EvalError::new(
                            "Value cannot be null. (Parameter 'propertyName')",
                        ))
                    }
                }
                Ok(Value::Json(vn))
            }
            Node::Anon(members) => {
                let obj = JNode::new_object(self.arena);
                for (name, id) in members.iter() {
                    let v = self.eval(*id)?;
                    let n = to_jnode(v, self.arena)?;
                    obj.set_key(name, n)?;
                }
                Ok(Value::Json(obj))
            }
            Node::Discard(a) => {
                self.eval(*a)?;
                Ok(Value::Null)
            }
            Node::Nop => Ok(Value::Null),
            Node::Block(_)
            | Node::If(..)
            | Node::Return(_)
            | Node::Foreach { .. }
            | Node::For { .. }
            | Node::Break
            | Node::Continue
            | Node::Throw(_) => match self.exec(id)? {
                Flow::Return(v) => Ok(v),
                _ => Ok(Value::Null),
            },
        }
    }

    fn interp(&mut self, parts: &'a [InterpHole]) -> EResult<Value<'a>> {
        let mut out = BString::new_in(self.arena);
        for (id, fmt, align) in parts.iter() {
            let v = self.eval(*id)?;
            if *align == 0 {
                match fmt {
                    Some(f) => format_value(v, f, &mut out).map_err(|_| EvalError::format())?,
                    None => display_into(v, &mut out),
                }
            } else {
                let mut tmp = BString::new_in(self.arena);
                match fmt {
                    Some(f) => format_value(v, f, &mut tmp).map_err(|_| EvalError::format())?,
                    None => display_into(v, &mut tmp),
                }
                write_aligned(&tmp, *align, &mut out);
            }
        }
        Ok(Value::Str(out.into_bump_str()))
    }

    pub fn call(&mut self, f: B, args: &'a [Id], null_check: bool) -> EResult<Value<'a>> {
        let mut buf = [Value::Null; 8];
        let vals: &[Value<'a>] = if args.len() <= buf.len() {
            for (i, a) in args.iter().enumerate() {
                buf[i] = self.eval(*a)?;
            }
            &buf[..args.len()]
        } else {
            let mut v = BVec::with_capacity_in(args.len(), self.arena);
            for a in args {
                v.push(self.eval(*a)?);
            }
            v.into_bump_slice()
        };
        if null_check && vals.first().is_some_and(|v| v.is_null()) {
            return Err(EvalError::null_ref());
        }
        builtins::call(f, vals, &self.rt())
    }

    pub fn exec(&mut self, id: Id) -> EResult<Flow<'a>> {
        match self.node(id)? {
            Node::Block(ids) => {
                for i in ids.iter() {
                    match self.exec(*i)? {
                        Flow::Normal => {}
                        other => return Ok(other),
                    }
                }
                Ok(Flow::Normal)
            }
            Node::If(c, t, e) => {
                if self.eval(*c)?.truthy() {
                    self.exec(*t)
                } else if let Some(e) = e {
                    self.exec(*e)
                } else {
                    Ok(Flow::Normal)
                }
            }
            Node::Return(v) => Ok(Flow::Return(self.eval(*v)?)),
            Node::Break => Ok(Flow::Break),
            Node::Continue => Ok(Flow::Continue),
            Node::Throw(m) => {
                let msg = match m {
                    Some(m) => self.eval(*m)?.to_display(self.arena),
                    None => "Exception of type 'System.Exception' was thrown.",
                };
                Err(EvalError::new(msg))
            }
            Node::Foreach { slot, src, body } => {
                let src = self.eval(*src)?;
                let items = super::eval_linq::as_seq(src, self.arena)?;
                for v in items {
                    self.step()?;
                    self.set(*slot, *v);
                    match self.exec(*body)? {
                        Flow::Break => break,
                        Flow::Return(r) => return Ok(Flow::Return(r)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
                Ok(Flow::Normal)
            }
            Node::For {
                init,
                cond,
                step,
                body,
            } => {
                if let Some(i) = init {
                    self.exec(*i)?;
                }
                loop {
                    self.step()?;
                    if !self.eval(*cond)?.truthy() {
                        break;
                    }
                    match self.exec(*body)? {
                        Flow::Break => break,
                        Flow::Return(r) => return Ok(Flow::Return(r)),
                        Flow::Normal | Flow::Continue => {}
                    }
                    if let Some(s) = step {
                        self.eval(*s)?;
                    }
                }
                Ok(Flow::Normal)
            }
            _ => {
                self.eval(id)?;
                Ok(Flow::Normal)
            }
        }
    }
}
