//! The APIM context object model: request/response members, URLs and query strings,
//! headers, bodies, matched parameters, variables (with .NET-like typed reads), entity
//! fields and the client certificate. Everything is read through [`ExprContext`].

use bumpalo::collections::{String as BString, Vec as BVec};

use super::super::context::{Entity, Msg, UrlParts};
use super::super::error::{EResult, EvalError};
use super::super::eval_ops::{cast_error, value_is};
use super::super::ir::C;
use super::super::types::Type;
use super::super::value::{Handle, Value};
use super::convert::url_decode_into;
use super::json::JNode;
use super::{arg, req_str, Rt};

fn msg_of(v: Value<'_>) -> EResult<Msg> {
    match v {
        Value::Handle(Handle::Msg(m) | Handle::Headers(m) | Handle::Body(m)) => Ok(m),
        Value::Null => Err(EvalError::null_ref()),
        other => Err(EvalError::new(format!(
            "{} is not a message",
            other.type_name()
        ))),
    }
}

fn url_of<'a>(v: Value<'a>, rt: &Rt<'_, 'a>) -> EResult<UrlParts<'a>> {
    match v {
        Value::Handle(Handle::Url(k)) => rt.ctx.url(k).ok_or_else(EvalError::null_ref),
        _ => Err(EvalError::null_ref()),
    }
}

/// Joins header values with `,` (no allocation for a single value).
fn join<'a>(vals: &'a [&'a str], rt: &Rt<'_, 'a>) -> &'a str {
    match vals {
        [] => "",
        [one] => one,
        many => {
            let mut s = BString::new_in(rt.arena);
            for (i, v) in many.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(v);
            }
            s.into_bump_str()
        }
    }
}

fn str_list<'a>(vals: &'a [&'a str], rt: &Rt<'_, 'a>) -> Value<'a> {
    Value::List(
        rt.arena
            .alloc_slice_fill_iter(vals.iter().map(|s| Value::Str(s))),
    )
}

/// Parses a raw query string into `dict<string, string[]>` (names matched
/// case-insensitively on lookup, values URL-decoded).
pub(crate) fn parse_query<'a>(q: &'a str, rt: &Rt<'_, 'a>) -> &'a [(&'a str, &'a [&'a str])] {
    let q = q.strip_prefix('?').unwrap_or(q);
    let mut out: BVec<'a, (&'a str, BVec<'a, &'a str>)> = BVec::new_in(rt.arena);
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k, rt);
        let v = decode(v, rt);
        match out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
            Some((_, vals)) => vals.push(v),
            None => {
                let mut vals = BVec::new_in(rt.arena);
                vals.push(v);
                out.push((k, vals));
            }
        }
    }
    let mut res = BVec::with_capacity_in(out.len(), rt.arena);
    for (k, v) in out {
        res.push((k, v.into_bump_slice()));
    }
    res.into_bump_slice()
}

fn decode<'a>(s: &'a str, rt: &Rt<'_, 'a>) -> &'a str {
    if !s.contains(['%', '+']) {
        return s;
    }
    let mut out = BString::new_in(rt.arena);
    url_decode_into(s, true, &mut out);
    out.into_bump_str()
}

pub(crate) fn map_get<'a>(m: &'a [(&'a str, &'a [&'a str])], k: &str) -> Option<&'a [&'a str]> {
    m.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(k))
        .map(|(_, v)| *v)
}

fn url_to_string<'a>(u: UrlParts<'a>, rt: &Rt<'_, 'a>) -> &'a str {
    let mut s = BString::new_in(rt.arena);
    let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{u}"));
    s.into_bump_str()
}

/// Typed read of a variable (`GetValueOrDefault<T>`): exact type match like .NET unboxing,
/// with the JToken family and numeric widening of int to long/double allowed.
fn typed<'a>(v: Value<'a>, t: Type) -> EResult<Value<'a>> {
    if v.is_null() || value_is(&v, t) {
        return Ok(v);
    }
    match (t, v) {
        (Type::Long, Value::Int(i)) => Ok(Value::Long(i64::from(i))),
        (Type::Double, Value::Int(i)) => Ok(Value::Double(f64::from(i))),
        (Type::Response, Value::Handle(Handle::Msg(Msg::Stored(_)))) => Ok(v),
        _ => Err(cast_error(&v, t)),
    }
}

pub(crate) fn call<'a>(f: C, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    let ctx = rt.ctx;
    Ok(match f {
        C::Entity(Entity::User) => Value::Null,
        C::Entity(e) => {
            if ctx.has_entity(e) {
                Value::Handle(Handle::Entity(e))
            } else {
                Value::Null
            }
        }
        C::RequestId => Value::Guid(ctx.request_id()),
        C::Timestamp => Value::DateTime(ctx.timestamp()),
        C::Elapsed => Value::TimeSpan(ctx.elapsed()),
        C::Tracing => Value::Bool(ctx.tracing()),
        C::Method => Value::Str(ctx.method()),
        C::IpAddress => Value::Str(ctx.ip_address()),
        C::Certificate => match ctx.certificate() {
            Some(c) => Value::Cert(rt.arena.alloc(c)),
            None => Value::Null,
        },
        C::MsgHeaders => Value::Handle(Handle::Headers(msg_of(arg(a, 0))?)),
        C::MsgBody => {
            let m = msg_of(arg(a, 0))?;
            if ctx.has_body(m) {
                Value::Handle(Handle::Body(m))
            } else {
                Value::Null
            }
        }
        C::StatusCode => Value::Int(ctx.status(msg_of(arg(a, 0))?).0),
        C::StatusReason => Value::Str(ctx.status(msg_of(arg(a, 0))?).1),
        C::UrlScheme => Value::Str(url_of(arg(a, 0), rt)?.scheme),
        C::UrlHost => Value::Str(url_of(arg(a, 0), rt)?.host),
        C::UrlPort => Value::Int(url_of(arg(a, 0), rt)?.port),
        C::UrlPath => Value::Str(url_of(arg(a, 0), rt)?.path),
        C::UrlQueryString => {
            let q = url_of(arg(a, 0), rt)?.query;
            if q.is_empty() {
                Value::Str("")
            } else {
                let mut s = BString::with_capacity_in(q.len() + 1, rt.arena);
                s.push('?');
                s.push_str(q);
                Value::Str(s.into_bump_str())
            }
        }
        C::UrlQuery => Value::StrMap(parse_query(url_of(arg(a, 0), rt)?.query, rt)),
        C::UrlToString => Value::Str(url_to_string(url_of(arg(a, 0), rt)?, rt)),
        C::HeadersIndex => {
            let m = msg_of(arg(a, 0))?;
            let k = req_str(a, 1, "key")?;
            str_list(
                ctx.header_values(m, k)
                    .ok_or_else(|| EvalError::key_missing(k))?,
                rt,
            )
        }
        C::HeadersGet => {
            let m = msg_of(arg(a, 0))?;
            let k = req_str(a, 1, "key")?;
            match ctx.header_values(m, k) {
                Some(v) => Value::Str(join(v, rt)),
                None => arg(a, 2),
            }
        }
        C::HeadersContains => {
            let m = msg_of(arg(a, 0))?;
            Value::Bool(ctx.header_values(m, req_str(a, 1, "key")?).is_some())
        }
        C::HeadersCount => Value::Int(ctx.header_names(msg_of(arg(a, 0))?).len() as i32),
        C::HeadersKeys => str_list(ctx.header_names(msg_of(arg(a, 0))?), rt),
        C::BodyAs(t) => {
            let m = msg_of(arg(a, 0))?;
            let preserve = arg(a, 1).truthy();
            let bytes = ctx.body(m, preserve)?;
            body_as(bytes, t, rt)?
        }
        C::MpIndex => {
            let k = req_str(a, 1, "key")?;
            Value::Str(
                ctx.matched_parameter(k)
                    .ok_or_else(|| EvalError::key_missing(k))?,
            )
        }
        C::MpGet => match ctx.matched_parameter(req_str(a, 1, "key")?) {
            Some(v) => Value::Str(v),
            None => arg(a, 2),
        },
        C::MpContains => Value::Bool(ctx.matched_parameter(req_str(a, 1, "key")?).is_some()),
        C::VarIndex => {
            let k = req_str(a, 1, "key")?;
            ctx.variable(k).ok_or_else(|| EvalError::key_missing(k))?
        }
        C::VarContains => Value::Bool(ctx.variable(req_str(a, 1, "key")?).is_some()),
        C::VarGet(t) => match ctx.variable(req_str(a, 1, "name")?) {
            Some(v) => match t {
                Some(t) => typed(v, t)?,
                None => v,
            },
            None => arg(a, 2),
        },
        C::Field(fl) => ctx.field(fl),
        C::CertSubject
        | C::CertIssuer
        | C::CertThumbprint
        | C::CertSerial
        | C::CertNotBefore
        | C::CertNotAfter
        | C::CertVerify => {
            let Value::Cert(c) = arg(a, 0) else {
                return Err(EvalError::null_ref());
            };
            match f {
                C::CertSubject => Value::Str(c.subject),
                C::CertIssuer => Value::Str(c.issuer),
                C::CertThumbprint => Value::Str(c.thumbprint),
                C::CertSerial => Value::Str(c.serial_number),
                C::CertNotBefore => Value::DateTime(c.not_before),
                C::CertVerify => Value::Bool(c.verified),
                _ => Value::DateTime(c.not_after),
            }
        }
        C::MapIndex | C::MapGet | C::MapContains | C::MapCount | C::MapKeys => {
            let Value::StrMap(m) = arg(a, 0) else {
                return Err(EvalError::null_ref());
            };
            match f {
                C::MapCount => Value::Int(m.len() as i32),
                C::MapKeys => Value::List(
                    rt.arena
                        .alloc_slice_fill_iter(m.iter().map(|(k, _)| Value::Str(k))),
                ),
                C::MapContains => Value::Bool(map_get(m, req_str(a, 1, "key")?).is_some()),
                C::MapIndex => {
                    let k = req_str(a, 1, "key")?;
                    str_list(map_get(m, k).ok_or_else(|| EvalError::key_missing(k))?, rt)
                }
                _ => match map_get(m, req_str(a, 1, "key")?) {
                    Some(v) => Value::Str(join(v, rt)),
                    None => arg(a, 2),
                },
            }
        }
        C::Never => return Err(EvalError::null_ref()),
    })
}

/// `Body.As<T>()` conversion of raw bytes.
pub(crate) fn body_as<'a>(bytes: &'a [u8], t: Type, rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    if t == Type::Bytes {
        return Ok(Value::Bytes(bytes));
    }
    let text = super::convert::utf8_lossy(bytes, rt.arena);
    match t {
        Type::Str => Ok(Value::Str(text)),
        _ if text.trim().is_empty() => Ok(Value::Null),
        _ => {
            let n = super::json::parse(rt.arena, text)?;
            let ok = match t {
                Type::JObject => matches!(n, JNode::Object(_)),
                Type::JArray => matches!(n, JNode::Array(_)),
                _ => true,
            };
            if !ok {
                return Err(EvalError::new(format!(
                    "Error reading {} from JsonReader. Current JsonReader item is not an {}.",
                    t.name(),
                    if t == Type::JObject {
                        "object"
                    } else {
                        "array"
                    }
                )));
            }
            Ok(Value::Json(n))
        }
    }
}
