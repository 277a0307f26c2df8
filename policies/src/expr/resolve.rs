//! Member resolution: which builtin implements `recv.Name`, `recv.Name(args)` and
//! `recv[index]` for each static receiver type, and with what result type.

use super::context::{Entity, Field, Msg, UrlKind};
use super::ir::{Const, Num, B, C, J, R, S, T, V, W};
use super::types::{Elem, EnumKind, Type};
use super::value::Handle;

/// A resolved property: a constant or a builtin call on the receiver.
pub enum Prop {
    Const(Const, Type),
    /// Builtin, result type, whether a null receiver is a null-reference failure.
    Call(B, Type),
}

pub type Resolved = Result<(B, Type), String>;

pub fn is_str(t: Type) -> bool {
    matches!(t, Type::Str | Type::Null)
}

pub fn is_int(t: Type) -> bool {
    matches!(t, Type::Int | Type::Char)
}

pub fn is_num(t: Type) -> bool {
    t.is_numeric()
}

pub fn is_value_type(t: Type) -> bool {
    matches!(
        t,
        Type::Int
            | Type::Long
            | Type::Double
            | Type::Bool
            | Type::Char
            | Type::DateTime
            | Type::TimeSpan
            | Type::Guid
    )
}

fn cmp_enum(t: Type) -> bool {
    t == Type::Enum(EnumKind::StringComparison)
}

pub fn no_member(t: Type, name: &str) -> String {
    format!("'{}' does not contain a definition for '{name}'", t.name())
}

pub fn bad_args(name: &str, n: usize) -> String {
    format!("no overload for method '{name}' takes {n} argument(s) of these types")
}

fn c(f: C, t: Type) -> Option<Prop> {
    Some(Prop::Call(B::Ctx(f), t))
}

/// Instance properties.
pub fn property(t: Type, name: &str) -> Option<Prop> {
    use Type as Ty;
    let k = |c: Const, t: Type| Some(Prop::Const(c, t));
    match (t, name) {
        (Ty::Context, _) => match name {
            "Request" => k(Const::Handle(Handle::Msg(Msg::Request)), Ty::Request),
            "Response" => k(Const::Handle(Handle::Msg(Msg::Response)), Ty::Response),
            "Variables" => k(Const::Handle(Handle::Variables), Ty::Variables),
            "User" => k(Const::Null, Ty::Entity(Entity::User)),
            "Subscription" => c(
                C::Entity(Entity::Subscription),
                Ty::Entity(Entity::Subscription),
            ),
            "Product" => c(C::Entity(Entity::Product), Ty::Entity(Entity::Product)),
            "Api" => c(C::Entity(Entity::Api), Ty::Entity(Entity::Api)),
            "Operation" => c(C::Entity(Entity::Operation), Ty::Entity(Entity::Operation)),
            "Deployment" => c(
                C::Entity(Entity::Deployment),
                Ty::Entity(Entity::Deployment),
            ),
            "LastError" => c(C::Entity(Entity::LastError), Ty::Entity(Entity::LastError)),
            "RequestId" => c(C::RequestId, Ty::Guid),
            "Timestamp" => c(C::Timestamp, Ty::DateTime),
            "Elapsed" => c(C::Elapsed, Ty::TimeSpan),
            "Tracing" => c(C::Tracing, Ty::Bool),
            _ => None,
        },
        (Ty::Request, "Method") => c(C::Method, Ty::Str),
        (Ty::Request, "Url") => k(Const::Handle(Handle::Url(UrlKind::Request)), Ty::Url),
        (Ty::Request, "OriginalUrl") => k(Const::Handle(Handle::Url(UrlKind::Original)), Ty::Url),
        (Ty::Request, "IpAddress") => c(C::IpAddress, Ty::Str),
        (Ty::Request, "MatchedParameters") => {
            k(Const::Handle(Handle::MatchedParams), Ty::MatchedParams)
        }
        (Ty::Request, "Certificate") => c(C::Certificate, Ty::Certificate),
        (Ty::Request | Ty::Response, "Headers") => c(C::MsgHeaders, Ty::Headers),
        (Ty::Request | Ty::Response, "Body") => c(C::MsgBody, Ty::Body),
        (Ty::Response, "StatusCode") => c(C::StatusCode, Ty::Int),
        (Ty::Response, "StatusReason") => c(C::StatusReason, Ty::Str),
        (Ty::Url, _) => match name {
            "Scheme" => c(C::UrlScheme, Ty::Str),
            "Host" => c(C::UrlHost, Ty::Str),
            "Port" => c(C::UrlPort, Ty::Int),
            "Path" => c(C::UrlPath, Ty::Str),
            "QueryString" => c(C::UrlQueryString, Ty::Str),
            "Query" => c(C::UrlQuery, Ty::StrMap),
            _ => None,
        },
        (Ty::Headers, "Count") => c(C::HeadersCount, Ty::Int),
        (Ty::Headers, "Keys") => c(C::HeadersKeys, Ty::Seq(Elem::Str)),
        (Ty::StrMap, "Count") => c(C::MapCount, Ty::Int),
        (Ty::StrMap, "Keys") => c(C::MapKeys, Ty::Seq(Elem::Str)),
        (Ty::Entity(e), _) => entity_field(e, name),
        (Ty::Certificate, _) => match name {
            "Subject" | "SubjectName" => c(C::CertSubject, Ty::Str),
            "Issuer" | "IssuerName" => c(C::CertIssuer, Ty::Str),
            "Thumbprint" => c(C::CertThumbprint, Ty::Str),
            "SerialNumber" => c(C::CertSerial, Ty::Str),
            "NotBefore" => c(C::CertNotBefore, Ty::DateTime),
            "NotAfter" => c(C::CertNotAfter, Ty::DateTime),
            _ => None,
        },
        (Ty::Str, "Length") => Some(Prop::Call(B::Str(S::Length), Ty::Int)),
        (Ty::Seq(_), "Length" | "Count") => Some(Prop::Call(B::Conv(V::SeqLength), Ty::Int)),
        (Ty::Bytes, "Length") => Some(Prop::Call(B::Conv(V::BytesLength), Ty::Int)),
        (t, "HasValue") if is_value_type(t) => Some(Prop::Call(B::Conv(V::HasValue), Ty::Bool)),
        (t, "Value") if is_value_type(t) => Some(Prop::Call(B::Conv(V::NullableValue), t)),
        (Ty::DateTime, _) => datetime_prop(name),
        (Ty::TimeSpan, _) => timespan_prop(name),
        (Ty::JProperty, "Name" | "Key") => Some(Prop::Call(B::Json(J::PropName), Ty::Str)),
        (Ty::JProperty, "Value") => Some(Prop::Call(B::Json(J::PropValue), Ty::JToken)),
        (t, _) if t.is_json() => match name {
            "HasValues" => Some(Prop::Call(B::Json(J::HasValues), Ty::Bool)),
            "Count" => Some(Prop::Call(B::Json(J::Count), Ty::Int)),
            "Type" => Some(Prop::Call(
                B::Json(J::TokenType),
                Ty::Enum(EnumKind::JTokenType),
            )),
            _ => None,
        },
        (Ty::Jwt, _) => {
            let (f, t) = match name {
                "Algorithm" => (W::Algorithm, Ty::Str),
                "Audiences" => (W::Audiences, Ty::Seq(Elem::Str)),
                "Claims" => (W::Claims, Ty::StrMap),
                "ExpirationTime" => (W::ExpirationTime, Ty::DateTime),
                "Id" => (W::Id, Ty::Str),
                "Issuer" => (W::Issuer, Ty::Str),
                "IssuedAt" => (W::IssuedAt, Ty::DateTime),
                "NotBefore" => (W::NotBefore, Ty::DateTime),
                "Subject" => (W::Subject, Ty::Str),
                "Type" => (W::Type, Ty::Str),
                _ => return None,
            };
            Some(Prop::Call(B::Jwt(f), t))
        }
        (Ty::Basic, "UserId") => Some(Prop::Call(B::Jwt(W::BasicUser), Ty::Str)),
        (Ty::Basic, "Password") => Some(Prop::Call(B::Jwt(W::BasicPassword), Ty::Str)),
        (Ty::Match | Ty::Group, _) => match name {
            "Value" => Some(Prop::Call(B::Re(R::Value), Ty::Str)),
            "Success" => Some(Prop::Call(B::Re(R::Success), Ty::Bool)),
            "Index" => Some(Prop::Call(B::Re(R::Index), Ty::Int)),
            "Length" => Some(Prop::Call(B::Re(R::Length), Ty::Int)),
            "Groups" if t == Ty::Match => Some(Prop::Call(B::Re(R::Groups), Ty::Groups)),
            _ => None,
        },
        _ => None,
    }
}

fn entity_field(e: Entity, name: &str) -> Option<Prop> {
    use Field as F;
    use Type as Ty;
    let (f, t) = match (e, name) {
        (Entity::Subscription, "Id") => (F::SubscriptionId, Ty::Str),
        (Entity::Subscription, "Name") => (F::SubscriptionName, Ty::Str),
        (Entity::Subscription, "Key") => (F::SubscriptionKey, Ty::Str),
        (Entity::Subscription, "PrimaryKey") => (F::SubscriptionPrimaryKey, Ty::Str),
        (Entity::Subscription, "SecondaryKey") => (F::SubscriptionSecondaryKey, Ty::Str),
        (Entity::Subscription, "CreatedDate") => (F::SubscriptionCreatedDate, Ty::DateTime),
        (Entity::Subscription, "StartDate") => (F::SubscriptionStartDate, Ty::DateTime),
        (Entity::Subscription, "EndDate") => (F::SubscriptionEndDate, Ty::DateTime),
        (Entity::Product, "Id") => (F::ProductId, Ty::Str),
        (Entity::Product, "Name") => (F::ProductName, Ty::Str),
        (Entity::Product, "State") => (F::ProductState, Ty::Str),
        (Entity::Product, "SubscriptionRequired") => (F::ProductSubscriptionRequired, Ty::Bool),
        (Entity::Product, "ApprovalRequired") => (F::ProductApprovalRequired, Ty::Bool),
        (Entity::Product, "SubscriptionLimit") => (F::ProductSubscriptionLimit, Ty::Int),
        (Entity::Api, "Id") => (F::ApiId, Ty::Str),
        (Entity::Api, "Name") => (F::ApiName, Ty::Str),
        (Entity::Api, "Path") => (F::ApiPath, Ty::Str),
        (Entity::Api, "Revision") => (F::ApiRevision, Ty::Str),
        (Entity::Api, "Version") => (F::ApiVersion, Ty::Str),
        (Entity::Api, "IsCurrentRevision") => (F::ApiIsCurrentRevision, Ty::Bool),
        (Entity::Api, "ServiceUrl") => {
            return Some(Prop::Const(
                Const::Handle(Handle::Url(UrlKind::ApiService)),
                Ty::Url,
            ))
        }
        (Entity::Operation, "Id") => (F::OperationId, Ty::Str),
        (Entity::Operation, "Name") => (F::OperationName, Ty::Str),
        (Entity::Operation, "Method") => (F::OperationMethod, Ty::Str),
        (Entity::Operation, "UrlTemplate") => (F::OperationUrlTemplate, Ty::Str),
        (Entity::Deployment, "GatewayId") => (F::DeploymentGatewayId, Ty::Str),
        (Entity::Deployment, "Region") => (F::DeploymentRegion, Ty::Str),
        (Entity::Deployment, "ServiceName") => (F::DeploymentServiceName, Ty::Str),
        (Entity::LastError, "Source") => (F::LastErrorSource, Ty::Str),
        (Entity::LastError, "Reason") => (F::LastErrorReason, Ty::Str),
        (Entity::LastError, "Message") => (F::LastErrorMessage, Ty::Str),
        (Entity::LastError, "Scope") => (F::LastErrorScope, Ty::Str),
        (Entity::LastError, "Section") => (F::LastErrorSection, Ty::Str),
        (Entity::LastError, "Path") => (F::LastErrorPath, Ty::Str),
        (Entity::LastError, "PolicyId") => (F::LastErrorPolicyId, Ty::Str),
        (Entity::User, "Id" | "Email" | "FirstName" | "LastName" | "Note") => {
            return Some(Prop::Call(B::Ctx(C::Never), Ty::Str))
        }
        (Entity::User, "RegistrationDate") => {
            return Some(Prop::Call(B::Ctx(C::Never), Ty::DateTime))
        }
        _ => return None,
    };
    Some(Prop::Call(B::Ctx(C::Field(f)), t))
}

fn datetime_prop(name: &str) -> Option<Prop> {
    use Type as Ty;
    let (f, t) = match name {
        "Year" => (T::Year, Ty::Int),
        "Month" => (T::Month, Ty::Int),
        "Day" => (T::Day, Ty::Int),
        "Hour" => (T::Hour, Ty::Int),
        "Minute" => (T::Minute, Ty::Int),
        "Second" => (T::Second, Ty::Int),
        "Millisecond" => (T::Millisecond, Ty::Int),
        "DayOfWeek" => (T::DayOfWeek, Ty::Enum(EnumKind::DayOfWeek)),
        "DayOfYear" => (T::DayOfYear, Ty::Int),
        "Date" => (T::Date, Ty::DateTime),
        "TimeOfDay" => (T::TimeOfDay, Ty::TimeSpan),
        "Ticks" => (T::Ticks, Ty::Long),
        "Kind" => (T::Kind, Ty::Enum(EnumKind::DateTimeKind)),
        "UtcDateTime" | "DateTime" => (T::DtoUtcDateTime, Ty::DateTime),
        _ => return None,
    };
    Some(Prop::Call(B::Time(f), t))
}

fn timespan_prop(name: &str) -> Option<Prop> {
    use super::builtins::time::*;
    use Type as Ty;
    let (f, t) = match name {
        "Days" => (T::TsPart(TICKS_PER_DAY, i64::MAX), Ty::Int),
        "Hours" => (T::TsPart(TICKS_PER_HOUR, 24), Ty::Int),
        "Minutes" => (T::TsPart(TICKS_PER_MIN, 60), Ty::Int),
        "Seconds" => (T::TsPart(TICKS_PER_SEC, 60), Ty::Int),
        "Milliseconds" => (T::TsPart(TICKS_PER_MS, 1000), Ty::Int),
        "TotalDays" => (T::TsTotal(TICKS_PER_DAY), Ty::Double),
        "TotalHours" => (T::TsTotal(TICKS_PER_HOUR), Ty::Double),
        "TotalMinutes" => (T::TsTotal(TICKS_PER_MIN), Ty::Double),
        "TotalSeconds" => (T::TsTotal(TICKS_PER_SEC), Ty::Double),
        "TotalMilliseconds" => (T::TsTotal(TICKS_PER_MS), Ty::Double),
        "Ticks" => (T::TsTicks, Ty::Long),
        _ => return None,
    };
    Some(Prop::Call(B::Time(f), t))
}

/// Instance methods (LINQ is handled by the checker). `generics` are explicit type args.
pub fn method(t: Type, name: &str, generics: &[Type], a: &[Type]) -> Resolved {
    use Type as Ty;
    let bad = || Err(bad_args(name, a.len()));
    // Members every type has.
    match (name, a) {
        ("ToString", []) => {
            return Ok((
                match t {
                    Ty::Url => B::Ctx(C::UrlToString),
                    t if t.is_json() => B::Json(J::ToStr),
                    _ => B::Str(S::ToStr),
                },
                Ty::Str,
            ))
        }
        ("Equals", [_]) if t != Ty::Str => return Ok((B::Str(S::ObjEquals), Ty::Bool)),
        ("GetType" | "GetHashCode", _) => {
            return Err(format!("'{name}' (reflection) is not supported"))
        }
        _ => {}
    }
    match t {
        Ty::Str => string_method(name, a),
        Ty::Certificate => match (name, a) {
            ("Verify", []) => Ok((B::Ctx(C::CertVerify), Ty::Bool)),
            _ => Err(no_member(t, name)),
        },
        Ty::Headers | Ty::StrMap | Ty::MatchedParams => {
            let (get, contains) = match t {
                Ty::Headers => (C::HeadersGet, C::HeadersContains),
                Ty::StrMap => (C::MapGet, C::MapContains),
                _ => (C::MpGet, C::MpContains),
            };
            match (name, a) {
                ("GetValueOrDefault", [k]) | ("GetValueOrDefault", [k, Ty::Str | Ty::Null])
                    if is_str(*k) =>
                {
                    Ok((B::Ctx(get), Ty::Str))
                }
                ("ContainsKey", [k]) if is_str(*k) => Ok((B::Ctx(contains), Ty::Bool)),
                ("GetValueOrDefault" | "ContainsKey", _) => bad(),
                _ => Err(no_member(t, name)),
            }
        }
        Ty::Variables => match (name, generics, a) {
            ("ContainsKey", [], [k]) if is_str(*k) => Ok((B::Ctx(C::VarContains), Ty::Bool)),
            ("GetValueOrDefault", [g], [k]) | ("GetValueOrDefault", [g], [k, _]) if is_str(*k) => {
                let target = if *g == Ty::Object { None } else { Some(*g) };
                Ok((B::Ctx(C::VarGet(target)), *g))
            }
            ("GetValueOrDefault", [], [k]) if is_str(*k) => {
                Ok((B::Ctx(C::VarGet(None)), Ty::Object))
            }
            ("GetValueOrDefault", [], [k, d]) if is_str(*k) => {
                let d = if *d == Ty::Null { Ty::Object } else { *d };
                let target = if d == Ty::Object { None } else { Some(d) };
                Ok((B::Ctx(C::VarGet(target)), d))
            }
            ("GetValueOrDefault" | "ContainsKey", _, _) => bad(),
            _ => Err(no_member(t, name)),
        },
        Ty::Body => match (name, generics, a) {
            ("As", [g], []) | ("As", [g], [Ty::Bool]) => match g {
                Ty::Str | Ty::Bytes | Ty::JObject | Ty::JArray | Ty::JToken => {
                    Ok((B::Ctx(C::BodyAs(*g)), *g))
                }
                _ => Err(format!(
                    "Body.As<{}>() is not supported (string, byte[], JObject, JArray, JToken are)",
                    g.name()
                )),
            },
            ("As", _, _) => bad(),
            _ => Err(no_member(t, name)),
        },
        Ty::Encoding => match (name, a) {
            ("GetBytes", [s]) if is_str(*s) => Ok((B::Conv(V::GetBytes), Ty::Bytes)),
            ("GetString", [Ty::Bytes | Ty::Null]) => Ok((B::Conv(V::GetString), Ty::Str)),
            _ => Err(no_member(t, name)),
        },
        Ty::DateTime => datetime_method(name, a),
        Ty::TimeSpan => match (name, a) {
            ("Add" | "Subtract", [Ty::TimeSpan]) => Ok((
                B::Time(if name == "Add" { T::Add } else { T::Subtract }),
                Ty::TimeSpan,
            )),
            ("Duration", []) => Ok((B::Time(T::TsDuration), Ty::TimeSpan)),
            ("Negate", []) => Ok((B::Time(T::TsNegate), Ty::TimeSpan)),
            ("ToString", [f]) if is_str(*f) => Ok((B::Str(S::ToStrFmt), Ty::Str)),
            ("CompareTo", [Ty::TimeSpan]) => Ok((B::Time(T::CompareTo), Ty::Int)),
            _ => Err(no_member(t, name)),
        },
        Ty::Int | Ty::Long | Ty::Double | Ty::Guid => match (name, a) {
            ("ToString", [f]) if is_str(*f) => Ok((B::Str(S::ToStrFmt), Ty::Str)),
            ("GetValueOrDefault", []) => Ok((B::Conv(V::NullableOrDefault(t)), t)),
            ("CompareTo", [o]) if is_num(*o) && t != Ty::Guid => {
                Ok((B::Time(T::CompareTo), Ty::Int))
            }
            _ => Err(no_member(t, name)),
        },
        Ty::Bool | Ty::Char => match (name, a) {
            ("GetValueOrDefault", []) => Ok((B::Conv(V::NullableOrDefault(t)), t)),
            _ => Err(no_member(t, name)),
        },
        t if t.is_json() => json_method(t, name, generics, a),
        Ty::Match => match (name, a) {
            ("NextMatch", []) => Ok((B::Re(R::NextMatch), Ty::Match)),
            _ => Err(no_member(t, name)),
        },
        _ => Err(no_member(t, name)),
    }
}

fn string_method(name: &str, a: &[Type]) -> Resolved {
    use Type as Ty;
    let s = |f: S, t: Type| Ok((B::Str(f), t));
    let ok = match (name, a) {
        ("Split", args) => {
            let seps_ok = match args {
                [] => true,
                [x] => matches!(
                    x,
                    Ty::Char | Ty::Str | Ty::Seq(Elem::Char) | Ty::Seq(Elem::Str) | Ty::Null
                ),
                [x, y] => {
                    (matches!(
                        x,
                        Ty::Char | Ty::Str | Ty::Seq(Elem::Char) | Ty::Seq(Elem::Str) | Ty::Null
                    ) && (matches!(y, Ty::Enum(EnumKind::StringSplitOptions) | Ty::Int)))
                        || (*x == Ty::Char && *y == Ty::Char)
                }
                more => more.iter().all(|t| *t == Ty::Char),
            };
            if seps_ok {
                return s(S::Split, Ty::Seq(Elem::Str));
            }
            false
        }
        ("Substring", [i]) | ("Remove", [i]) if is_int(*i) => true,
        ("Substring", [i, j]) | ("Remove", [i, j]) if is_int(*i) && is_int(*j) => true,
        ("StartsWith" | "EndsWith" | "Contains", [x]) if is_str(*x) || *x == Ty::Char => true,
        ("StartsWith" | "EndsWith" | "Contains", [x, c])
            if (is_str(*x) || *x == Ty::Char) && cmp_enum(*c) =>
        {
            true
        }
        ("StartsWith" | "EndsWith", [x, Ty::Bool, _]) if is_str(*x) => true,
        ("IndexOf" | "LastIndexOf", [x]) if is_str(*x) || *x == Ty::Char => true,
        ("IndexOf" | "LastIndexOf", [x, i])
            if (is_str(*x) || *x == Ty::Char) && (is_int(*i) || cmp_enum(*i)) =>
        {
            true
        }
        ("IndexOf" | "LastIndexOf", [x, i, c])
            if (is_str(*x) || *x == Ty::Char) && is_int(*i) && (is_int(*c) || cmp_enum(*c)) =>
        {
            true
        }
        ("ToUpper" | "ToLower" | "ToUpperInvariant" | "ToLowerInvariant" | "ToCharArray", []) => {
            true
        }
        ("Trim" | "TrimStart" | "TrimEnd", args) => args
            .iter()
            .all(|t| *t == Ty::Char || *t == Ty::Seq(Elem::Char)),
        ("Replace", [x, y]) => (is_str(*x) && is_str(*y)) || (*x == Ty::Char && *y == Ty::Char),
        ("Replace", [x, y, c]) => is_str(*x) && is_str(*y) && cmp_enum(*c),
        ("PadLeft" | "PadRight", [i]) => is_int(*i),
        ("PadLeft" | "PadRight", [i, Ty::Char]) => is_int(*i),
        ("Equals", [x]) => is_str(*x) || *x == Ty::Object,
        ("Equals", [x, c]) => is_str(*x) && cmp_enum(*c),
        ("Insert", [i, x]) => is_int(*i) && is_str(*x),
        ("CompareTo", [x]) => is_str(*x),
        ("AsJwt", []) => return Ok((B::Jwt(W::AsJwt), Ty::Jwt)),
        ("AsBasic", []) => return Ok((B::Jwt(W::AsBasic), Ty::Basic)),
        _ => {
            let known = [
                "Split",
                "Substring",
                "Remove",
                "StartsWith",
                "EndsWith",
                "Contains",
                "IndexOf",
                "LastIndexOf",
                "ToUpper",
                "ToLower",
                "ToUpperInvariant",
                "ToLowerInvariant",
                "Trim",
                "TrimStart",
                "TrimEnd",
                "Replace",
                "PadLeft",
                "PadRight",
                "Equals",
                "Insert",
                "CompareTo",
                "ToCharArray",
            ];
            if known.contains(&name) {
                return Err(bad_args(name, a.len()));
            }
            return Err(no_member(Ty::Str, name));
        }
    };
    if !ok {
        return Err(bad_args(name, a.len()));
    }
    let (f, t) = match name {
        "Substring" => (S::Substring, Ty::Str),
        "Remove" => (S::Remove, Ty::Str),
        "StartsWith" => (S::StartsWith, Ty::Bool),
        "EndsWith" => (S::EndsWith, Ty::Bool),
        "Contains" => (S::Contains, Ty::Bool),
        "IndexOf" => (S::IndexOf, Ty::Int),
        "LastIndexOf" => (S::LastIndexOf, Ty::Int),
        "ToUpper" | "ToUpperInvariant" => (S::ToUpper, Ty::Str),
        "ToLower" | "ToLowerInvariant" => (S::ToLower, Ty::Str),
        "ToCharArray" => (S::ToCharArray, Ty::Seq(Elem::Char)),
        "Trim" => (S::Trim, Ty::Str),
        "TrimStart" => (S::TrimStart, Ty::Str),
        "TrimEnd" => (S::TrimEnd, Ty::Str),
        "Replace" => (S::Replace, Ty::Str),
        "PadLeft" => (S::PadLeft, Ty::Str),
        "PadRight" => (S::PadRight, Ty::Str),
        "Equals" => (S::Equals, Ty::Bool),
        "Insert" => (S::Insert, Ty::Str),
        _ => (S::Compare, Ty::Int),
    };
    s(f, t)
}

fn datetime_method(name: &str, a: &[Type]) -> Resolved {
    use super::builtins::time::*;
    use Type as Ty;
    let per = match name {
        "AddTicks" => Some(1),
        "AddMilliseconds" => Some(TICKS_PER_MS),
        "AddSeconds" => Some(TICKS_PER_SEC),
        "AddMinutes" => Some(TICKS_PER_MIN),
        "AddHours" => Some(TICKS_PER_HOUR),
        "AddDays" => Some(TICKS_PER_DAY),
        _ => None,
    };
    match (name, a) {
        (_, [x]) if per.is_some() && is_num(*x) => {
            Ok((B::Time(T::AddTicks(per.unwrap_or(1))), Ty::DateTime))
        }
        ("AddMonths", [x]) if is_int(*x) => Ok((B::Time(T::AddMonths), Ty::DateTime)),
        ("AddYears", [x]) if is_int(*x) => Ok((B::Time(T::AddYears), Ty::DateTime)),
        ("Add", [Ty::TimeSpan]) => Ok((B::Time(T::Add), Ty::DateTime)),
        ("Subtract", [Ty::TimeSpan]) => Ok((B::Time(T::Subtract), Ty::DateTime)),
        ("Subtract", [Ty::DateTime]) => Ok((B::Time(T::Subtract), Ty::TimeSpan)),
        ("ToUniversalTime", []) => Ok((B::Time(T::ToUniversalTime), Ty::DateTime)),
        ("ToLocalTime", []) => Ok((B::Time(T::ToLocalTime), Ty::DateTime)),
        ("ToUnixTimeSeconds", []) => Ok((B::Time(T::ToUnixSeconds), Ty::Long)),
        ("ToUnixTimeMilliseconds", []) => Ok((B::Time(T::ToUnixMs), Ty::Long)),
        ("ToString", [f]) if is_str(*f) => Ok((B::Str(S::ToStrFmt), Ty::Str)),
        ("CompareTo", [Ty::DateTime]) => Ok((B::Time(T::CompareTo), Ty::Int)),
        ("GetValueOrDefault", []) => {
            Ok((B::Conv(V::NullableOrDefault(Ty::DateTime)), Ty::DateTime))
        }
        _ => Err(no_member(Ty::DateTime, name)),
    }
}

fn json_method(t: Type, name: &str, generics: &[Type], a: &[Type]) -> Resolved {
    use Type as Ty;
    let j = |f: J, t: Type| Ok((B::Json(f), t));
    match (name, generics, a) {
        ("ToString", [], [Ty::Enum(EnumKind::Formatting)]) => j(J::ToStr, Ty::Str),
        ("Value", [g], [k]) if is_str(*k) || is_int(*k) => j(J::ValueOf(*g), *g),
        ("Value", [g], []) => j(J::ValueOf(*g), *g),
        ("SelectToken", [], [p]) | ("SelectToken", [], [p, Ty::Bool]) if is_str(*p) => {
            j(J::SelectToken, Ty::JToken)
        }
        ("SelectTokens", [], [p]) if is_str(*p) => j(J::SelectTokens, Ty::Seq(Elem::JToken)),
        ("Property", [], [k]) if is_str(*k) => j(J::Property, Ty::JProperty),
        ("GetValue", [], [k]) if is_str(*k) => j(J::Index, Ty::JToken),
        ("Remove", [], [k]) if is_str(*k) => j(J::Remove, Ty::Bool),
        ("ContainsKey", [], [k]) if is_str(*k) => j(J::ContainsKey, Ty::Bool),
        ("Add", [], [k, _]) if is_str(*k) => j(J::Add, Ty::Void),
        ("Add", [], [_]) => j(J::Add, Ty::Void),
        ("Properties", [], []) => j(J::Properties, Ty::Seq(Elem::JProperty)),
        ("Children", [], []) | ("Values", [], []) => j(J::Children, Ty::Seq(Elem::JToken)),
        ("DeepClone", [], []) => j(J::DeepClone, t),
        ("ToObject", [g], []) => match g {
            Ty::Str
            | Ty::Int
            | Ty::Long
            | Ty::Double
            | Ty::Bool
            | Ty::DateTime
            | Ty::Guid
            | Ty::JObject
            | Ty::JArray
            | Ty::JToken
            | Ty::Object => j(J::ToObject(*g), *g),
            Ty::Seq(Elem::Str) => j(J::ToObject(*g), *g),
            _ => Err(format!("ToObject<{}>() is not supported", g.name())),
        },
        _ => Err(no_member(t, name)),
    }
}

/// `recv[index]`.
pub fn indexer(t: Type, a: &[Type]) -> Resolved {
    use Type as Ty;
    match (t, a) {
        (Ty::Str, [i]) if is_int(*i) => Ok((B::Str(S::CharAt), Ty::Char)),
        (Ty::Seq(e), [i]) if is_int(*i) => Ok((B::Conv(V::SeqIndex), super::types::elem_type(e))),
        (Ty::Bytes, [i]) if is_int(*i) => Ok((B::Conv(V::SeqIndex), Ty::Int)),
        (Ty::Headers, [k]) if is_str(*k) => Ok((B::Ctx(C::HeadersIndex), Ty::Seq(Elem::Str))),
        (Ty::StrMap, [k]) if is_str(*k) => Ok((B::Ctx(C::MapIndex), Ty::Seq(Elem::Str))),
        (Ty::MatchedParams, [k]) if is_str(*k) => Ok((B::Ctx(C::MpIndex), Ty::Str)),
        (Ty::Variables, [k]) if is_str(*k) => Ok((B::Ctx(C::VarIndex), Ty::Object)),
        (t, [k]) if t.is_json() && (is_str(*k) || is_int(*k) || *k == Ty::Object) => {
            Ok((B::Json(J::Index), Ty::JToken))
        }
        (Ty::Groups, [k]) if is_str(*k) || is_int(*k) => Ok((B::Re(R::GroupAt), Ty::Group)),
        _ => Err(format!(
            "cannot apply indexing to an expression of type '{}'",
            t.name()
        )),
    }
}

/// Numeric promotion for binary arithmetic / comparison.
pub fn promote(a: Type, b: Type) -> Option<Num> {
    if !a.is_numeric() || !b.is_numeric() {
        return None;
    }
    Some(if a == Type::Double || b == Type::Double {
        Num::Double
    } else if a == Type::Long || b == Type::Long {
        Num::Long
    } else {
        Num::Int
    })
}

pub fn num_type(n: Num) -> Type {
    match n {
        Num::Int => Type::Int,
        Num::Long => Type::Long,
        Num::Double => Type::Double,
    }
}
