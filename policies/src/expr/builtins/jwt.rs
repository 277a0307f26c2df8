//! `string.AsJwt()` / `TryParseJwt(out jwt)` (decode only: no signature check here) and
//! `AsBasic()` / `TryParseBasic(out b)` for `Authorization: Basic` credentials.

use bumpalo::collections::{String as BString, Vec as BVec};
use bumpalo::Bump;

use super::super::error::{EResult, EvalError};
use super::super::ir::W;
use super::super::value::{Basic, Value};
use super::convert::base64_decode;
use super::json::{parse, JNode};
use super::time::{DateKind, DateTime};
use super::{arg, Rt};

/// A decoded JWT: header, payload and the claims as `dict<string, string[]>`.
#[derive(Debug)]
pub struct Jwt<'a> {
    pub header: &'a JNode<'a>,
    pub payload: &'a JNode<'a>,
    pub claims: &'a [(&'a str, &'a [&'a str])],
}

fn claim_strings<'a>(v: &'a JNode<'a>, arena: &'a Bump) -> &'a [&'a str] {
    let one = |n: &'a JNode<'a>| -> &'a str {
        match n {
            JNode::Str(s) => s,
            other => {
                let mut s = BString::new_in(arena);
                other.write_json(&mut s, false, false);
                s.into_bump_str()
            }
        }
    };
    match v {
        JNode::Array(items) => match items.try_borrow() {
            Ok(items) => arena.alloc_slice_fill_iter(items.iter().map(|n| one(n))),
            Err(_) => &[],
        },
        n => arena.alloc_slice_copy(&[one(n)]),
    }
}

/// Decodes `header.payload.signature` (an optional `Bearer ` prefix is ignored).
pub fn decode<'a>(token: &'a str, arena: &'a Bump) -> Option<&'a Jwt<'a>> {
    let t = token.trim();
    let t = match t.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => t[7..].trim_start(),
        _ => t,
    };
    let mut parts = t.split('.');
    let (h, p, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let hb = base64_decode(h.trim_end_matches('='), true, arena)?;
    let pb = base64_decode(p.trim_end_matches('='), true, arena)?;
    let header = parse(arena, std::str::from_utf8(hb).ok()?).ok()?;
    let payload = parse(arena, std::str::from_utf8(pb).ok()?).ok()?;
    let (JNode::Object(_), JNode::Object(props)) = (header, payload) else {
        return None;
    };
    let props = props.try_borrow().ok()?;
    let mut claims = BVec::with_capacity_in(props.len(), arena);
    for (k, v) in props.iter() {
        claims.push((*k, claim_strings(v, arena)));
    }
    Some(arena.alloc(Jwt {
        header,
        payload,
        claims: claims.into_bump_slice(),
    }))
}

fn basic<'a>(s: &'a str, arena: &'a Bump) -> Option<&'a Basic<'a>> {
    let t = s.trim();
    let t = match t.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("basic ") => t[6..].trim_start(),
        _ => t,
    };
    let raw = base64_decode(t, false, arena)?;
    let text = std::str::from_utf8(raw).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(arena.alloc(Basic {
        user_id: user,
        password,
    }))
}

fn jwt<'a>(a: &[Value<'a>]) -> EResult<&'a Jwt<'a>> {
    match arg(a, 0) {
        Value::Jwt(j) => Ok(j),
        _ => Err(EvalError::null_ref()),
    }
}

fn str_claim<'a>(n: &'a JNode<'a>, key: &str) -> Value<'a> {
    match n.get_key(key) {
        Ok(Some(JNode::Str(s))) => Value::Str(s),
        Ok(Some(JNode::Null) | None) | Err(_) => Value::Null,
        Ok(Some(other)) => match other {
            JNode::Int(_) | JNode::Float(_) | JNode::Bool(_) => Value::Null,
            _ => Value::Null,
        },
    }
}

fn time_claim<'a>(n: &'a JNode<'a>, key: &str) -> Value<'a> {
    let secs = match n.get_key(key) {
        Ok(Some(JNode::Int(i))) => *i,
        Ok(Some(JNode::Float(f))) => *f as i64,
        Ok(Some(JNode::Str(s))) => match s.parse::<i64>() {
            Ok(i) => i,
            Err(_) => return Value::Null,
        },
        _ => return Value::Null,
    };
    match DateTime::from_unix_seconds(secs, DateKind::Utc) {
        Some(d) => Value::DateTime(d),
        None => Value::Null,
    }
}

pub(crate) fn call<'a>(f: W, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    Ok(match f {
        W::AsJwt => match arg(a, 0) {
            Value::Str(s) => decode(s, rt.arena).map_or(Value::Null, Value::Jwt),
            _ => Value::Null,
        },
        W::AsBasic => match arg(a, 0) {
            Value::Str(s) => basic(s, rt.arena).map_or(Value::Null, Value::Basic),
            _ => Value::Null,
        },
        W::Algorithm => str_claim(jwt(a)?.header, "alg"),
        W::Type => str_claim(jwt(a)?.header, "typ"),
        W::Id => str_claim(jwt(a)?.payload, "jti"),
        W::Issuer => str_claim(jwt(a)?.payload, "iss"),
        W::Subject => str_claim(jwt(a)?.payload, "sub"),
        W::Audiences => {
            let j = jwt(a)?;
            let list = match j.payload.get_key("aud") {
                Ok(Some(v)) => claim_strings(v, rt.arena),
                _ => &[],
            };
            Value::List(
                rt.arena
                    .alloc_slice_fill_iter(list.iter().map(|s| Value::Str(s))),
            )
        }
        W::Claims => Value::StrMap(jwt(a)?.claims),
        W::ExpirationTime => time_claim(jwt(a)?.payload, "exp"),
        W::IssuedAt => time_claim(jwt(a)?.payload, "iat"),
        W::NotBefore => time_claim(jwt(a)?.payload, "nbf"),
        W::BasicUser | W::BasicPassword => match arg(a, 0) {
            Value::Basic(b) => Value::Str(if f == W::BasicUser {
                b.user_id
            } else {
                b.password
            }),
            _ => return Err(EvalError::null_ref()),
        },
    })
}
