//! Operators and conversions at runtime: wrapping `int`/`long` arithmetic, division
//! checks, lifted null semantics, string concatenation, DateTime/TimeSpan arithmetic,
//! casts (`Unbox`), Newtonsoft conversions between JTokens and scalars, and type tests.

use std::cmp::Ordering;

use bumpalo::Bump;

use super::builtins::json::JNode;
use super::builtins::time::{DateTime, TimeSpan};
use super::context::Msg;
use super::error::{EResult, EvalError};
use super::ir::{Conv, Num, Op};
use super::types::{elem_type, Elem, Type};
use super::value::{values_equal, Handle, Value};

fn div_zero() -> EvalError {
    EvalError::new("Attempted to divide by zero.")
}

pub(super) fn overflow() -> EvalError {
    EvalError::new("Arithmetic operation resulted in an overflow.")
}

pub fn as_i64(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(i)),
        Value::Long(i) => Some(i),
        Value::Char(c) => Some(c as i64),
        Value::Enum(_, i) => Some(i64::from(i)),
        _ => None,
    }
}

pub fn as_f64(v: Value<'_>) -> Option<f64> {
    match v {
        Value::Double(d) => Some(d),
        other => as_i64(other).map(|i| i as f64),
    }
}

/// Ordering for comparisons, `OrderBy`, `Min`/`Max`.
pub fn compare(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) => Some(Ordering::Less),
        (_, Value::Null) => Some(Ordering::Greater),
        (Value::Double(_), _) | (_, Value::Double(_)) => as_f64(*a)?.partial_cmp(&as_f64(*b)?),
        (Value::Str(x), Value::Str(y)) => {
            // Culture-like ordering: case-insensitive first, lowercase before uppercase.
            let ci = x.to_lowercase().cmp(&y.to_lowercase());
            Some(ci.then_with(|| y.cmp(x)))
        }
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.ticks.cmp(&y.ticks)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Some(x.ticks.cmp(&y.ticks)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Guid(x), Value::Guid(y)) => Some(x.0.cmp(&y.0)),
        _ => Some(as_i64(*a)?.cmp(&as_i64(*b)?)),
    }
}

pub fn binary<'a>(op: Op, a: Value<'a>, b: Value<'a>, arena: &'a Bump) -> EResult<Value<'a>> {
    match op {
        Op::Eq(neg) => return Ok(Value::Bool(values_equal(&a, &b) != neg)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            if a.is_null() || b.is_null() {
                return Ok(Value::Bool(false));
            }
            let o = compare(&a, &b);
            let r = match (op, o) {
                (_, None) => false,
                (Op::Lt, Some(o)) => o == Ordering::Less,
                (Op::Le, Some(o)) => o != Ordering::Greater,
                (Op::Gt, Some(o)) => o == Ordering::Greater,
                (_, Some(o)) => o != Ordering::Less,
            };
            return Ok(Value::Bool(r));
        }
        Op::Concat => {
            let x = a.as_str().unwrap_or("");
            let y = b.as_str().unwrap_or("");
            if x.is_empty() {
                return Ok(Value::Str(y));
            }
            if y.is_empty() {
                return Ok(Value::Str(x));
            }
            let mut s = bumpalo::collections::String::with_capacity_in(x.len() + y.len(), arena);
            s.push_str(x);
            s.push_str(y);
            return Ok(Value::Str(s.into_bump_str()));
        }
        _ => {}
    }
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    let bad = || {
        EvalError::new(format!(
            "operator cannot be applied to {} and {}",
            a.type_name(),
            b.type_name()
        ))
    };
    Ok(match op {
        Op::BoolAnd | Op::BoolOr | Op::BoolXor => {
            let (Value::Bool(x), Value::Bool(y)) = (a, b) else {
                return Err(bad());
            };
            Value::Bool(match op {
                Op::BoolAnd => x & y,
                Op::BoolOr => x | y,
                _ => x ^ y,
            })
        }
        Op::DtAddTs | Op::DtSubTs => {
            let (Value::DateTime(d), Value::TimeSpan(t)) = (a, b) else {
                return Err(bad());
            };
            let delta = if op == Op::DtAddTs {
                Some(t.ticks)
            } else {
                t.ticks.checked_neg()
            };
            Value::DateTime(delta.and_then(|x| d.add_ticks(x)).ok_or_else(|| {
                EvalError::new(
                    "The added or subtracted value results in an un-representable DateTime.",
                )
            })?)
        }
        Op::DtSubDt => {
            let (Value::DateTime(x), Value::DateTime(y)) = (a, b) else {
                return Err(bad());
            };
            Value::TimeSpan(TimeSpan {
                ticks: x.ticks - y.ticks,
            })
        }
        Op::TsAdd | Op::TsSub => {
            let (Value::TimeSpan(x), Value::TimeSpan(y)) = (a, b) else {
                return Err(bad());
            };
            let r = if op == Op::TsAdd {
                x.ticks.checked_add(y.ticks)
            } else {
                x.ticks.checked_sub(y.ticks)
            };
            Value::TimeSpan(TimeSpan {
                ticks: r.ok_or_else(|| {
                    EvalError::new("TimeSpan overflowed because the duration is too long.")
                })?,
            })
        }
        Op::BitAnd(_) | Op::BitOr(_) | Op::BitXor(_) if matches!(a, Value::Enum(..)) => {
            let (Value::Enum(k, x), Value::Enum(_, y)) = (a, b) else {
                return Err(bad());
            };
            Value::Enum(
                k,
                match op {
                    Op::BitAnd(_) => x & y,
                    Op::BitOr(_) => x | y,
                    _ => x ^ y,
                },
            )
        }
        Op::Add(n)
        | Op::Sub(n)
        | Op::Mul(n)
        | Op::Div(n)
        | Op::Rem(n)
        | Op::BitAnd(n)
        | Op::BitOr(n)
        | Op::BitXor(n) => arith(op, n, a, b).ok_or_else(bad)??,
        _ => return Err(bad()),
    })
}

/// `op` on two integers of one width (`i32` or `i64`): wrapping (C#'s unchecked context),
/// with .NET's exceptions for a zero divisor and for `MinValue / -1`.
macro_rules! integer_op {
    ($op:expr, $x:expr, $y:expr) => {{
        let (op, x, y) = ($op, $x, $y);
        match op {
            Op::Add(_) => Ok(x.wrapping_add(y)),
            Op::Sub(_) => Ok(x.wrapping_sub(y)),
            Op::Mul(_) => Ok(x.wrapping_mul(y)),
            Op::Div(_) | Op::Rem(_) if y == 0 => Err(div_zero()),
            Op::Div(_) => x.checked_div(y).ok_or_else(overflow),
            Op::Rem(_) => x.checked_rem(y).ok_or_else(overflow),
            Op::BitAnd(_) => Ok(x & y),
            Op::BitOr(_) => Ok(x | y),
            _ => Ok(x ^ y),
        }
    }};
}

fn arith<'a>(op: Op, n: Num, a: Value<'a>, b: Value<'a>) -> Option<EResult<Value<'a>>> {
    Some(match n {
        Num::Int => integer_op!(op, as_i64(a)? as i32, as_i64(b)? as i32).map(Value::Int),
        Num::Long => integer_op!(op, as_i64(a)?, as_i64(b)?).map(Value::Long),
        Num::Double => {
            let (x, y) = (as_f64(a)?, as_f64(b)?);
            Ok(Value::Double(match op {
                Op::Add(_) => x + y,
                Op::Sub(_) => x - y,
                Op::Mul(_) => x * y,
                Op::Div(_) => x / y,
                Op::Rem(_) => x % y,
                _ => return None,
            }))
        }
    })
}

pub fn unary_neg(n: Num, v: Value<'_>, bitnot: bool) -> EResult<Value<'_>> {
    Ok(match (n, v) {
        (_, Value::Null) => Value::Null,
        (Num::Int, v) => {
            let x = as_i64(v).unwrap_or(0) as i32;
            Value::Int(if bitnot { !x } else { x.wrapping_neg() })
        }
        (Num::Long, v) => {
            let x = as_i64(v).unwrap_or(0);
            Value::Long(if bitnot { !x } else { x.wrapping_neg() })
        }
        (Num::Double, v) => Value::Double(-as_f64(v).unwrap_or(0.0)),
    })
}

/// .NET unchecked double → int64 on x64: NaN/out of range gives `i64::MIN`.
fn f64_to_i64(d: f64) -> i64 {
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
        d.trunc() as i64
    } else {
        i64::MIN
    }
}

fn f64_to_i32(d: f64) -> i32 {
    let t = d.trunc();
    if (-2_147_483_648.0..=2_147_483_647.0).contains(&t) {
        t as i32
    } else {
        i32::MIN
    }
}

pub fn cast_error(v: &Value<'_>, to: Type) -> EvalError {
    EvalError::new(format!(
        "Unable to cast object of type '{}' to type '{}'.",
        v.type_name(),
        to.name()
    ))
}

pub fn convert<'a>(c: Conv, v: Value<'a>, arena: &'a Bump) -> EResult<Value<'a>> {
    if v.is_null()
        && !matches!(
            c,
            Conv::ToStr | Conv::Unbox(_) | Conv::FromJson(_) | Conv::ToJson
        )
    {
        return Ok(Value::Null);
    }
    Ok(match c {
        Conv::ToLong => match v {
            Value::Double(d) => Value::Long(f64_to_i64(d)),
            other => Value::Long(as_i64(other).ok_or_else(|| cast_error(&other, Type::Long))?),
        },
        Conv::ToDouble => Value::Double(as_f64(v).ok_or_else(|| cast_error(&v, Type::Double))?),
        Conv::ToInt => match v {
            Value::Double(d) => Value::Int(f64_to_i32(d)),
            other => Value::Int(as_i64(other).ok_or_else(|| cast_error(&other, Type::Int))? as i32),
        },
        Conv::ToChar => {
            let code = match v {
                Value::Double(d) => f64_to_i64(d),
                other => as_i64(other).ok_or_else(|| cast_error(&other, Type::Char))?,
            };
            Value::Char(char::from_u32((code as u16) as u32).unwrap_or('\u{FFFD}'))
        }
        Conv::ToStr => Value::Str(v.to_display(arena)),
        Conv::Unbox(t) => {
            if v.is_null() {
                if super::resolve::is_value_type(t) {
                    return Err(EvalError::null_ref());
                }
                return Ok(Value::Null);
            }
            if !value_is(&v, t) {
                return Err(cast_error(&v, t));
            }
            v
        }
        Conv::FromJson(t) => match v {
            Value::Null => {
                if super::resolve::is_value_type(t) {
                    return Err(EvalError::new(format!(
                        "Can not convert Null to {}.",
                        t.name()
                    )));
                }
                Value::Null
            }
            Value::Json(n) => super::builtins::jsonfns::json_to(n, t, arena)?,
            other => other,
        },
        Conv::ToJson => Value::Json(to_jnode(v, arena)?),
    })
}

/// Implicit conversion of a value to a JToken (Newtonsoft `JToken.FromObject` for scalars).
pub fn to_jnode<'a>(v: Value<'a>, arena: &'a Bump) -> EResult<&'a JNode<'a>> {
    super::builtins::jsonfns::from_value(v, arena, 0)
}

/// Runtime type test for `is`, `as` and casts.
pub fn value_is(v: &Value<'_>, t: Type) -> bool {
    match (t, v) {
        (_, Value::Null) => false,
        (Type::Object, _) => true,
        (Type::Str, Value::Str(_))
        | (Type::Int, Value::Int(_))
        | (Type::Long, Value::Long(_))
        | (Type::Double, Value::Double(_))
        | (Type::Bool, Value::Bool(_))
        | (Type::Char, Value::Char(_))
        | (Type::DateTime, Value::DateTime(_))
        | (Type::TimeSpan, Value::TimeSpan(_))
        | (Type::Guid, Value::Guid(_))
        | (Type::Bytes, Value::Bytes(_))
        | (Type::JToken, Value::Json(_))
        | (Type::Jwt, Value::Jwt(_))
        | (Type::Basic, Value::Basic(_))
        | (Type::Match | Type::Group, Value::Match(..))
        | (Type::StrMap, Value::StrMap(_)) => true,
        (Type::JObject, Value::Json(n)) => matches!(n, JNode::Object(_)),
        (Type::JArray, Value::Json(n)) => matches!(n, JNode::Array(_)),
        (Type::JProperty, Value::Json(n)) => matches!(n, JNode::Prop(..)),
        (Type::Response, Value::Handle(Handle::Msg(m))) => *m != Msg::Request,
        (Type::Seq(e), Value::List(items)) => {
            e == Elem::Object || items.iter().all(|x| value_is(x, elem_type(e)))
        }
        (Type::Enum(k), Value::Enum(k2, _)) => k == *k2,
        _ => false,
    }
}

/// `default(T)` for value types; `null` otherwise.
pub fn default_value<'a>(t: Type) -> Value<'a> {
    match t {
        Type::Bool => Value::Bool(false),
        Type::Int => Value::Int(0),
        Type::Long => Value::Long(0),
        Type::Double => Value::Double(0.0),
        Type::Char => Value::Char('\0'),
        Type::DateTime => Value::DateTime(DateTime {
            ticks: 0,
            kind: super::builtins::time::DateKind::Unspecified,
        }),
        Type::TimeSpan => Value::TimeSpan(TimeSpan { ticks: 0 }),
        Type::Guid => Value::Guid(super::builtins::time::Guid([0; 16])),
        _ => Value::Null,
    }
}
