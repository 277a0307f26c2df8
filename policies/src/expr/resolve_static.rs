//! Static members (`DateTime.UtcNow`, `Math.Max`, `JObject.Parse`, enum constants) and
//! constructors (`new JObject(...)`, `new TimeSpan(h, m, s)`, ...).

use super::builtins::time::{DateKind, DateTime, Guid, TimeSpan, MAX_TICKS};
use super::ir::{Const, B, J, R, S, T, V};
use super::resolve::{bad_args, is_int, is_num, is_str, promote, Prop, Resolved};
use super::types::{enum_members, Class, Elem, EnumKind, Type};
use super::value::Handle;

pub fn static_property(c: Class, name: &str) -> Option<Prop> {
    use Type as Ty;
    let k = |c: Const, t: Type| Some(Prop::Const(c, t));
    match (c, name) {
        (Class::Enum(e), _) => {
            let (_, v) = enum_members(e).iter().find(|(n, _)| *n == name)?;
            k(Const::Enum(e, *v), Ty::Enum(e))
        }
        (Class::String, "Empty") => k(Const::Str("".into()), Ty::Str),
        (Class::Int, "MaxValue") => k(Const::Int(i32::MAX), Ty::Int),
        (Class::Int, "MinValue") => k(Const::Int(i32::MIN), Ty::Int),
        (Class::Long, "MaxValue") => k(Const::Long(i64::MAX), Ty::Long),
        (Class::Long, "MinValue") => k(Const::Long(i64::MIN), Ty::Long),
        (Class::Double, "MaxValue") => k(Const::Double(f64::MAX), Ty::Double),
        (Class::Double, "MinValue") => k(Const::Double(f64::MIN), Ty::Double),
        (Class::Double, "NaN") => k(Const::Double(f64::NAN), Ty::Double),
        (Class::Double, "PositiveInfinity") => k(Const::Double(f64::INFINITY), Ty::Double),
        (Class::Double, "NegativeInfinity") => k(Const::Double(f64::NEG_INFINITY), Ty::Double),
        (Class::Double, "Epsilon") => k(Const::Double(f64::from_bits(1)), Ty::Double),
        (Class::Math, "PI") => k(Const::Double(std::f64::consts::PI), Ty::Double),
        (Class::Math, "E") => k(Const::Double(std::f64::consts::E), Ty::Double),
        (Class::Guid, "Empty") => k(Const::Guid(Guid([0; 16])), Ty::Guid),
        (Class::TimeSpan, "Zero") => k(Const::TimeSpan(TimeSpan { ticks: 0 }), Ty::TimeSpan),
        (Class::TimeSpan, "MaxValue") => {
            k(Const::TimeSpan(TimeSpan { ticks: i64::MAX }), Ty::TimeSpan)
        }
        (Class::TimeSpan, "MinValue") => {
            k(Const::TimeSpan(TimeSpan { ticks: i64::MIN }), Ty::TimeSpan)
        }
        (Class::DateTime | Class::DateTimeOffset, "MinValue") => k(
            Const::DateTime(DateTime {
                ticks: 0,
                kind: DateKind::Unspecified,
            }),
            Ty::DateTime,
        ),
        (Class::DateTime | Class::DateTimeOffset, "MaxValue") => k(
            Const::DateTime(DateTime {
                ticks: MAX_TICKS,
                kind: DateKind::Unspecified,
            }),
            Ty::DateTime,
        ),
        (Class::DateTime, "UnixEpoch") => k(
            Const::DateTime(DateTime {
                ticks: super::builtins::time::UNIX_EPOCH_TICKS,
                kind: DateKind::Utc,
            }),
            Ty::DateTime,
        ),
        (Class::DateTime, "UtcNow") | (Class::DateTimeOffset, "UtcNow") => {
            Some(Prop::Call(B::Time(T::UtcNow), Ty::DateTime))
        }
        (Class::DateTime, "Now") | (Class::DateTimeOffset, "Now") => {
            Some(Prop::Call(B::Time(T::Now), Ty::DateTime))
        }
        (Class::DateTime, "Today") => Some(Prop::Call(B::Time(T::Today), Ty::DateTime)),
        (Class::Encoding, "UTF8" | "Default") => {
            k(Const::Handle(Handle::Encoding(0)), Ty::Encoding)
        }
        (Class::Encoding, "ASCII") => k(Const::Handle(Handle::Encoding(1)), Ty::Encoding),
        (Class::Encoding, "Unicode") => k(Const::Handle(Handle::Encoding(2)), Ty::Encoding),
        (Class::CultureInfo, "InvariantCulture" | "CurrentCulture") => {
            k(Const::Null, Ty::Class(Class::CultureInfo))
        }
        _ => None,
    }
}

/// The type `c.Parse` / `c.TryParse` reads, for the classes that have them.
pub fn parse_target(c: Class) -> Option<Type> {
    Some(match c {
        Class::Int => Type::Int,
        Class::Long => Type::Long,
        Class::Double => Type::Double,
        Class::Bool => Type::Bool,
        Class::Guid => Type::Guid,
        Class::DateTime | Class::DateTimeOffset => Type::DateTime,
        Class::TimeSpan => Type::TimeSpan,
        _ => return None,
    })
}

/// Static methods. `TryParse` is handled by the checker (it needs the `out` slot).
pub fn static_method(c: Class, name: &str, generics: &[Type], a: &[Type]) -> Resolved {
    use Type as Ty;
    let bad = || Err(bad_args(name, a.len()));
    let any_obj = |_: &Type| true;
    match (c, name) {
        (_, "Parse") if parse_target(c).is_some() => match a {
            [s] if is_str(*s) => {
                let t = parse_target(c).unwrap_or(Ty::Object);
                Ok((B::Conv(V::Parse(t)), t))
            }
            _ => bad(),
        },
        (Class::String, _) => match (name, a) {
            ("IsNullOrEmpty", [s]) if is_str(*s) => Ok((B::Str(S::IsNullOrEmpty), Ty::Bool)),
            ("IsNullOrWhiteSpace", [s]) if is_str(*s) => {
                Ok((B::Str(S::IsNullOrWhiteSpace), Ty::Bool))
            }
            ("Format", [f, rest @ ..]) if is_str(*f) && rest.iter().all(any_obj) => {
                Ok((B::Str(S::Format), Ty::Str))
            }
            ("Join", [sep, _, ..]) if is_str(*sep) || *sep == Ty::Char => {
                Ok((B::Str(S::Join), Ty::Str))
            }
            ("Concat", _) => Ok((B::Str(S::Concat), Ty::Str)),
            ("Compare", [x, y]) | ("Compare", [x, y, _]) if is_str(*x) && is_str(*y) => {
                Ok((B::Str(S::Compare), Ty::Int))
            }
            ("Equals", [x, y]) | ("Equals", [x, y, Ty::Enum(EnumKind::StringComparison)])
                if is_str(*x) && is_str(*y) =>
            {
                Ok((B::Str(S::StaticEquals), Ty::Bool))
            }
            _ => Err(format!(
                "'string' does not contain a static method '{name}' with {} argument(s)",
                a.len()
            )),
        },
        (Class::Char, _) => {
            let f = match name {
                "IsDigit" | "IsNumber" => S::CharIsDigit,
                "IsLetter" => S::CharIsLetter,
                "IsLetterOrDigit" => S::CharIsLetterOrDigit,
                "IsWhiteSpace" => S::CharIsWhiteSpace,
                "IsUpper" => S::CharIsUpper,
                "IsLower" => S::CharIsLower,
                "ToUpper" | "ToUpperInvariant" => S::CharToUpper,
                "ToLower" | "ToLowerInvariant" => S::CharToLower,
                _ => return Err(format!("'char' does not contain a static method '{name}'")),
            };
            match a {
                [Ty::Char] => Ok((
                    B::Str(f),
                    if matches!(f, S::CharToUpper | S::CharToLower) {
                        Ty::Char
                    } else {
                        Ty::Bool
                    },
                )),
                _ => bad(),
            }
        }
        (Class::Guid, "NewGuid") if a.is_empty() => Ok((B::Conv(V::NewGuid), Ty::Guid)),
        (Class::DateTimeOffset, "FromUnixTimeSeconds") if a.len() == 1 && is_num(a[0]) => {
            Ok((B::Time(T::FromUnixSeconds), Ty::DateTime))
        }
        (Class::DateTimeOffset, "FromUnixTimeMilliseconds") if a.len() == 1 && is_num(a[0]) => {
            Ok((B::Time(T::FromUnixMs), Ty::DateTime))
        }
        (Class::DateTime, "Compare") | (Class::TimeSpan, "Compare") if a.len() == 2 => {
            Ok((B::Time(T::CompareTo), Ty::Int))
        }
        (Class::TimeSpan, _) => {
            use super::builtins::time::*;
            let per = match name {
                "FromDays" => TICKS_PER_DAY,
                "FromHours" => TICKS_PER_HOUR,
                "FromMinutes" => TICKS_PER_MIN,
                "FromSeconds" => TICKS_PER_SEC,
                "FromMilliseconds" => TICKS_PER_MS,
                "FromTicks" => 1,
                _ => {
                    return Err(format!(
                        "'TimeSpan' does not contain a static method '{name}'"
                    ))
                }
            };
            match a {
                [x] if is_num(*x) => Ok((B::Time(T::TsFrom(per)), Ty::TimeSpan)),
                _ => bad(),
            }
        }
        (Class::Math, _) => math(name, a),
        (Class::Convert, _) => match (name, a) {
            ("ToBase64String", [Ty::Bytes | Ty::Null]) => Ok((B::Conv(V::ToBase64), Ty::Str)),
            ("FromBase64String", [s]) if is_str(*s) => Ok((B::Conv(V::FromBase64), Ty::Bytes)),
            ("ToInt32", [_]) => Ok((B::Conv(V::ConvToInt), Ty::Int)),
            ("ToInt64", [_]) => Ok((B::Conv(V::ConvToLong), Ty::Long)),
            ("ToDouble" | "ToDecimal", [_]) => Ok((B::Conv(V::ConvToDouble), Ty::Double)),
            ("ToBoolean", [_]) => Ok((B::Conv(V::ConvToBool), Ty::Bool)),
            ("ToString", [_]) => Ok((B::Conv(V::ConvToString), Ty::Str)),
            _ => Err(format!(
                "'Convert.{name}' with {} argument(s) is not supported",
                a.len()
            )),
        },
        (Class::Uri, "EscapeDataString") if matches!(a, [s] if is_str(*s)) => {
            Ok((B::Conv(V::EscapeDataString), Ty::Str))
        }
        (Class::Uri, "UnescapeDataString") if matches!(a, [s] if is_str(*s)) => {
            Ok((B::Conv(V::UnescapeDataString), Ty::Str))
        }
        (Class::WebUtility, "UrlEncode") if matches!(a, [s] if is_str(*s)) => {
            Ok((B::Conv(V::UrlEncode), Ty::Str))
        }
        (Class::WebUtility, "UrlDecode") if matches!(a, [s] if is_str(*s)) => {
            Ok((B::Conv(V::UrlDecode), Ty::Str))
        }
        (Class::Regex, _) => {
            let opts = |rest: &[Type]| {
                matches!(
                    rest,
                    [] | [Ty::Enum(EnumKind::RegexOptions)]
                        | [Ty::Enum(EnumKind::RegexOptions), Ty::TimeSpan]
                )
            };
            match (name, a) {
                ("IsMatch", [i, p, rest @ ..]) if is_str(*i) && is_str(*p) && opts(rest) => {
                    Ok((B::Re(R::IsMatch(None)), Ty::Bool))
                }
                ("Match", [i, p, rest @ ..]) if is_str(*i) && is_str(*p) && opts(rest) => {
                    Ok((B::Re(R::Match(None)), Ty::Match))
                }
                ("Matches", [i, p, rest @ ..]) if is_str(*i) && is_str(*p) && opts(rest) => {
                    Ok((B::Re(R::Matches(None)), Ty::Seq(Elem::Match)))
                }
                ("Split", [i, p, rest @ ..]) if is_str(*i) && is_str(*p) && opts(rest) => {
                    Ok((B::Re(R::Split(None)), Ty::Seq(Elem::Str)))
                }
                ("Replace", [i, p, r, rest @ ..])
                    if is_str(*i) && is_str(*p) && is_str(*r) && opts(rest) =>
                {
                    Ok((B::Re(R::Replace(None)), Ty::Str))
                }
                ("Escape", [s]) if is_str(*s) => Ok((B::Re(R::Escape), Ty::Str)),
                ("Replace", [_, _, _, ..]) => {
                    Err("Regex.Replace with a MatchEvaluator is not supported".to_string())
                }
                _ => bad(),
            }
        }
        (Class::JObject | Class::JArray | Class::JToken | Class::JValue, "Parse") => match a {
            [s] if is_str(*s) => {
                let t = match c {
                    Class::JObject => Ty::JObject,
                    Class::JArray => Ty::JArray,
                    _ => Ty::JToken,
                };
                Ok((B::Json(J::Parse(t)), t))
            }
            _ => bad(),
        },
        (Class::JObject | Class::JArray | Class::JToken, "FromObject") if a.len() == 1 => {
            let t = match c {
                Class::JObject => Ty::JObject,
                Class::JArray => Ty::JArray,
                _ => Ty::JToken,
            };
            Ok((B::Json(J::FromObject), t))
        }
        (Class::JsonConvert, "SerializeObject") => match a {
            [_] | [_, Ty::Enum(EnumKind::Formatting)] => Ok((B::Json(J::Serialize), Ty::Str)),
            _ => bad(),
        },
        (Class::JsonConvert, "DeserializeObject") => match (generics, a) {
            ([], [s]) if is_str(*s) => Ok((B::Json(J::Parse(Ty::JToken)), Ty::Object)),
            ([g @ (Ty::JObject | Ty::JArray | Ty::JToken)], [s]) if is_str(*s) => {
                Ok((B::Json(J::Parse(*g)), *g))
            }
            ([g], [s]) if is_str(*s) => Ok((B::Json(J::Deserialize), *g)),
            _ => bad(),
        },
        _ => Err(format!("'{c:?}' does not contain a static member '{name}'")),
    }
}

fn math(name: &str, a: &[Type]) -> Resolved {
    use Type as Ty;
    let bad = || Err(bad_args(name, a.len()));
    match (name, a) {
        ("Min" | "Max", [x, y]) => {
            let n = promote(*x, *y).ok_or_else(|| bad_args(name, 2))?;
            let f = if name == "Min" { V::Min(n) } else { V::Max(n) };
            Ok((B::Conv(f), super::resolve::num_type(n)))
        }
        ("Abs" | "Sign", [x]) if is_num(*x) => {
            let n = promote(*x, Ty::Int).unwrap_or(super::ir::Num::Double);
            if name == "Abs" {
                Ok((B::Conv(V::Abs(n)), super::resolve::num_type(n)))
            } else {
                Ok((B::Conv(V::Sign(n)), Ty::Int))
            }
        }
        ("Floor" | "Ceiling" | "Truncate" | "Sqrt" | "Log" | "Log10" | "Exp", [x])
            if is_num(*x) =>
        {
            let f = match name {
                "Floor" => V::Floor,
                "Ceiling" => V::Ceiling,
                "Truncate" => V::Truncate,
                "Sqrt" => V::Sqrt,
                "Log" => V::Log,
                "Log10" => V::Log10,
                _ => V::Exp,
            };
            Ok((B::Conv(f), Ty::Double))
        }
        ("Round", [x]) | ("Round", [x, Ty::Int]) if is_num(*x) => {
            Ok((B::Conv(V::Round), Ty::Double))
        }
        ("Pow", [x, y]) if is_num(*x) && is_num(*y) => Ok((B::Conv(V::Pow), Ty::Double)),
        _ => bad(),
    }
}

/// `new T(args)`.
pub fn constructor(name: &str, a: &[Type]) -> Resolved {
    use Type as Ty;
    let short = name.rsplit('.').next().unwrap_or(name);
    match short {
        "JObject" => Ok((B::Json(J::NewObject), Ty::JObject)),
        "JArray" => Ok((B::Json(J::NewArray), Ty::JArray)),
        "JProperty" => match a {
            [n, _] if is_str(*n) => Ok((B::Json(J::NewProperty), Ty::JProperty)),
            _ => Err(bad_args("JProperty", a.len())),
        },
        "JValue" => match a {
            [_] => Ok((B::Json(J::NewValue), Ty::JToken)),
            _ => Err(bad_args("JValue", a.len())),
        },
        "TimeSpan" => match a {
            [] => Ok((B::Time(T::NewTimeSpan), Ty::TimeSpan)),
            [Ty::Long | Ty::Int] | [_, _, _] | [_, _, _, _] | [_, _, _, _, _]
                if a.iter().all(|t| is_int(*t) || *t == Ty::Long) =>
            {
                Ok((B::Time(T::NewTimeSpan), Ty::TimeSpan))
            }
            _ => Err(bad_args("TimeSpan", a.len())),
        },
        "DateTime" | "DateTimeOffset" => match a.len() {
            0 | 3 | 6 | 7 if a.iter().all(|t| is_int(*t)) => {
                Ok((B::Time(T::NewDateTime), Ty::DateTime))
            }
            1 if a[0] == Ty::Long => Ok((B::Time(T::NewDateTime), Ty::DateTime)),
            _ => Err(bad_args("DateTime", a.len())),
        },
        "Guid" => match a {
            [s] if is_str(*s) => Ok((B::Conv(V::Parse(Ty::Guid)), Ty::Guid)),
            _ => Err(bad_args("Guid", a.len())),
        },
        _ => Err(format!(
            "'new {short}(...)' is not supported in policy expressions"
        )),
    }
}
