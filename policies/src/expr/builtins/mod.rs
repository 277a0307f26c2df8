//! The standard library shim: implementations of the builtin members and methods that
//! the checker resolved at compile time (see `ir::B`). Every function takes the evaluated
//! receiver and arguments (`[recv, args...]` for instance members) and allocates only in
//! the request arena.

pub(crate) mod convert;
pub(crate) mod ctx;
pub(crate) mod datetime;
pub mod format;
pub mod json;
pub(crate) mod jsonfns;
pub(crate) mod jsonpath;
pub mod jwt;
pub mod regex;
pub(crate) mod strings;
pub mod time;

use bumpalo::Bump;

use super::context::ExprContext;
use super::error::{EResult, EvalError};
use super::ir::B;
use super::value::Value;

/// What a builtin can reach at runtime.
pub struct Rt<'c, 'a> {
    pub arena: &'a Bump,
    pub ctx: &'c dyn ExprContext<'a>,
    pub regexes: &'a [::regex::Regex],
}

pub(crate) fn call<'a>(f: B, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    match f {
        B::Ctx(c) => ctx::call(c, a, rt),
        B::Str(s) => strings::call(s, a, rt),
        B::Conv(v) => convert::call(v, a, rt),
        B::Time(t) => datetime::call(t, a, rt),
        B::Json(j) => jsonfns::call(j, a, rt),
        B::Re(r) => regex::call(r, a, rt),
        B::Jwt(w) => jwt::call(w, a, rt),
    }
}

/// Argument `i`, or `null` when absent.
pub(crate) fn arg<'a>(a: &[Value<'a>], i: usize) -> Value<'a> {
    a.get(i).copied().unwrap_or(Value::Null)
}

/// A string argument; `None` for null.
pub(crate) fn opt_str<'a>(a: &[Value<'a>], i: usize) -> Option<&'a str> {
    match arg(a, i) {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// A non-null string argument (`ArgumentNullException` otherwise).
pub(crate) fn req_str<'a>(a: &[Value<'a>], i: usize, name: &str) -> EResult<&'a str> {
    opt_str(a, i)
        .ok_or_else(|| EvalError::new(format!("Value cannot be null. (Parameter '{name}')")))
}

pub(crate) fn int_arg(a: &[Value<'_>], i: usize) -> EResult<i64> {
    match arg(a, i) {
        Value::Int(x) => Ok(i64::from(x)),
        Value::Long(x) => Ok(x),
        Value::Char(c) => Ok(c as i64),
        Value::Enum(_, x) => Ok(i64::from(x)),
        Value::Double(d) => Ok(d as i64),
        Value::Null => Err(EvalError::null_ref()),
        other => Err(EvalError::new(format!(
            "expected a number, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn f64_arg(a: &[Value<'_>], i: usize) -> EResult<f64> {
    match arg(a, i) {
        Value::Double(d) => Ok(d),
        _ => int_arg(a, i).map(|x| x as f64),
    }
}

/// Ignores a formatting result (writes go to in-memory buffers that cannot fail).
pub(crate) fn ign<E>(_: Result<(), E>) {}
