//! Runtime values. `Value<'a>` is `Copy` and owns no heap memory: strings, lists, JSON
//! trees and parsed tokens live in the per-request `bumpalo::Bump` arena (`'a`).

use bumpalo::Bump;

use super::builtins::json::JNode;
use super::builtins::jwt::Jwt;
use super::builtins::regex::RegexMatch;
use super::builtins::time::{DateTime, Guid, TimeSpan};
use super::context::{Certificate, Entity, Msg, UrlKind};
use super::types::{enum_name, EnumKind};

/// Handles to context objects: resolved through [`super::ExprContext`] when a member is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handle {
    Context,
    Msg(Msg),
    Url(UrlKind),
    Headers(Msg),
    Body(Msg),
    Variables,
    MatchedParams,
    Entity(Entity),
    /// 0 = UTF8, 1 = ASCII, 2 = Unicode (UTF-16LE).
    Encoding(u8),
}

/// Username and password from `AsBasic()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basic<'a> {
    pub user_id: &'a str,
    pub password: &'a str,
}

/// A runtime value.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Char(char),
    Str(&'a str),
    DateTime(DateTime),
    TimeSpan(TimeSpan),
    Guid(Guid),
    Bytes(&'a [u8]),
    /// Arrays, lists and LINQ results.
    List(&'a [Value<'a>]),
    /// A Newtonsoft `JToken` (object, array, value or property).
    Json(&'a JNode<'a>),
    Jwt(&'a Jwt<'a>),
    Basic(&'a Basic<'a>),
    /// A regex match and a group index (0 = the whole match; `u16::MAX` = no such group).
    Match(&'a RegexMatch<'a>, u16),
    /// `dict<string, string[]>`: `Url.Query`, `Jwt.Claims`.
    StrMap(&'a [(&'a str, &'a [&'a str])]),
    Cert(&'a Certificate<'a>),
    Handle(Handle),
    Enum(EnumKind, i32),
}

impl<'a> Value<'a> {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `true` only for `Bool(true)`; `null` (a lifted `bool?`) is false.
    pub fn truthy(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The .NET type name, for cast error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "System.Boolean",
            Value::Int(_) => "System.Int32",
            Value::Long(_) => "System.Int64",
            Value::Double(_) => "System.Double",
            Value::Char(_) => "System.Char",
            Value::Str(_) => "System.String",
            Value::DateTime(_) => "System.DateTime",
            Value::TimeSpan(_) => "System.TimeSpan",
            Value::Guid(_) => "System.Guid",
            Value::Bytes(_) => "System.Byte[]",
            Value::List(items) => {
                if !items.is_empty() && items.iter().all(|v| matches!(v, Value::Str(_))) {
                    "System.String[]"
                } else {
                    "System.Object[]"
                }
            }
            Value::Json(n) => n.type_name(),
            Value::Jwt(_) => "Jwt",
            Value::Basic(_) => "BasicAuthCredentials",
            Value::Match(_, 0) => "System.Text.RegularExpressions.Match",
            Value::Match(..) => "System.Text.RegularExpressions.Group",
            Value::StrMap(_) => {
                "System.Collections.Generic.Dictionary`2[System.String,System.String[]]"
            }
            Value::Cert(_) => "System.Security.Cryptography.X509Certificates.X509Certificate2",
            Value::Handle(h) => match h {
                Handle::Context => "IContext",
                Handle::Msg(Msg::Request) => "IRequest",
                Handle::Msg(_) => "IResponse",
                Handle::Url(_) => "IUrl",
                Handle::Headers(_) => "IReadOnlyDictionary`2[System.String,System.String[]]",
                Handle::Body(_) => "IMessageBody",
                Handle::Variables => "IReadOnlyDictionary`2[System.String,System.Object]",
                Handle::MatchedParams => "IReadOnlyDictionary`2[System.String,System.String]",
                Handle::Entity(e) => e.type_name(),
                Handle::Encoding(_) => "System.Text.Encoding",
            },
            Value::Enum(..) => "System.Enum",
        }
    }

    /// C# `ToString()` semantics for putting a value into a header or body: `null` → `""`,
    /// bool → `True`/`False`, double → shortest round-trip, DateTime → invariant
    /// `MM/dd/yyyy HH:mm:ss`, JSON objects/arrays → indented JSON.
    pub fn to_display(&self, arena: &'a Bump) -> &'a str {
        match *self {
            Value::Null => "",
            Value::Str(s) => s,
            Value::Bool(true) => "True",
            Value::Bool(false) => "False",
            Value::Enum(k, v) => match enum_name(k, v) {
                Some(n) => n,
                None => arena.alloc_str(&v.to_string()),
            },
            Value::Match(m, g) => m.group_str(g),
            _ => {
                let mut out = bumpalo::collections::String::new_in(arena);
                super::builtins::format::display_into(*self, &mut out);
                out.into_bump_str()
            }
        }
    }
}

/// Ordinal/structural equality used by `==` on `object`, `Contains`, `Distinct`.
pub fn values_equal<'a>(a: &Value<'a>, b: &Value<'a>) -> bool {
    use Value::*;
    match (a, b) {
        (Null, Null) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Long(x), Long(y)) => x == y,
        (Double(x), Double(y)) => x == y,
        (Int(x), Long(y)) | (Long(y), Int(x)) => i64::from(*x) == *y,
        (Int(x), Double(y)) | (Double(y), Int(x)) => f64::from(*x) == *y,
        (Long(x), Double(y)) | (Double(y), Long(x)) => (*x as f64) == *y,
        (Char(x), Char(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (DateTime(x), DateTime(y)) => x.ticks == y.ticks,
        (TimeSpan(x), TimeSpan(y)) => x == y,
        (Guid(x), Guid(y)) => x == y,
        (Bytes(x), Bytes(y)) => std::ptr::eq(*x, *y),
        (List(x), List(y)) => std::ptr::eq(*x, *y),
        (Json(x), Json(y)) => std::ptr::eq(*x, *y) || x.value_equals(y),
        (Jwt(x), Jwt(y)) => std::ptr::eq(*x, *y),
        (Handle(x), Handle(y)) => x == y,
        (Enum(k1, x), Enum(k2, y)) => k1 == k2 && x == y,
        _ => false,
    }
}
