//! `Convert`, `Encoding`, `Uri`/`WebUtility` escaping, `Math`, `T.Parse`, `Guid.NewGuid`,
//! nullable members and small collection members (`Length`, `[i]`).

use std::fmt::Write;

use bumpalo::collections::String as BString;
use bumpalo::Bump;

use super::super::error::{EResult, EvalError};
use super::super::eval_ops::{as_f64, as_i64};
use super::super::ir::{Num, V};
use super::super::types::Type;
use super::super::value::{Handle, Value};
use super::time::{parse_datetime, parse_timespan, Guid};
use super::{arg, f64_arg, int_arg, opt_str, req_str, Rt};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode<W: Write>(data: &[u8], url: bool, out: &mut W) {
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let mut c = B64[((n >> (18 - 6 * i)) & 63) as usize] as char;
                if url {
                    c = match c {
                        '+' => '-',
                        '/' => '_',
                        c => c,
                    };
                }
                let _ = out.write_char(c);
            } else if !url {
                let _ = out.write_char('=');
            }
        }
    }
}

/// Decodes standard base64 (or base64url when `url`), ignoring whitespace. `.NET` rejects
/// missing padding for standard base64; base64url (JWT) has none.
pub fn base64_decode<'a>(s: &str, url: bool, arena: &'a Bump) -> Option<&'a [u8]> {
    let mut out = bumpalo::collections::Vec::with_capacity_in(s.len() * 3 / 4 + 3, arena);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut n = 0usize;
    let mut pad = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !url => 62,
            b'/' if !url => 63,
            b'-' if url => 62,
            b'_' if url => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        n += 1;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if !url && ((n + pad) % 4 != 0 || pad > 2) {
        return None;
    }
    if n % 4 == 1 {
        return None;
    }
    Some(out.into_bump_slice())
}

pub fn utf8_lossy<'a>(b: &'a [u8], arena: &'a Bump) -> &'a str {
    match std::str::from_utf8(b) {
        Ok(s) => s,
        Err(_) => {
            let mut out = BString::with_capacity_in(b.len(), arena);
            for chunk in b.utf8_chunks() {
                out.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    out.push('\u{FFFD}');
                }
            }
            out.into_bump_str()
        }
    }
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Percent-decoding (`plus` also maps `+` to space); invalid escapes are kept.
pub fn url_decode_into<W: Write>(s: &str, plus: bool, out: &mut W) {
    let b = s.as_bytes();
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    bytes.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => bytes.push(b'%'),
            },
            b'+' if plus => bytes.push(b' '),
            c => bytes.push(c),
        }
        i += 1;
    }
    let _ = out.write_str(&String::from_utf8_lossy(&bytes));
}

fn escape_into(s: &str, form: bool, out: &mut BString<'_>) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || if form {
                matches!(b, b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')')
            } else {
                matches!(b, b'-' | b'_' | b'.' | b'~')
            };
        if keep {
            out.push(b as char);
        } else if form && b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// .NET `Math.Round` (banker's rounding by default).
fn round_even(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    let y = x * m;
    let r = y.round();
    let r = if (y - y.trunc()).abs() == 0.5 {
        2.0 * (y / 2.0).round()
    } else {
        r
    };
    r / m
}

pub(crate) fn parse_to<'a>(t: Type, s: &str) -> EResult<Value<'a>> {
    let st = s.trim();
    let bad = EvalError::format;
    Ok(match t {
        Type::Int => {
            let v: i64 = parse_int(st).ok_or_else(bad)?;
            Value::Int(i32::try_from(v).map_err(|_| EvalError::new("Value was either too large or too small for an Int32."))?)
        }
        Type::Long => Value::Long(parse_int(st).ok_or_else(bad)?),
        Type::Double => {
            let lower = st.to_ascii_lowercase();
            if lower.contains("inf") && !matches!(lower.as_str(), "infinity" | "-infinity" | "+infinity") || lower.contains("nan") && lower != "nan" {
                return Err(bad());
            }
            let cleaned: String = st.chars().filter(|c| *c != ',').collect();
            Value::Double(cleaned.parse::<f64>().map_err(|_| bad())?)
        }
        Type::Bool => match st.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(EvalError::new(format!("String '{s}' was not recognized as a valid Boolean."))),
        },
        Type::Guid => Value::Guid(Guid::parse(st).ok_or_else(|| {
            EvalError::new("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
        })?),
        Type::DateTime => Value::DateTime(parse_datetime(st).ok_or_else(|| {
            EvalError::new(format!("String '{s}' was not recognized as a valid DateTime."))
        })?),
        Type::TimeSpan => Value::TimeSpan(parse_timespan(st).ok_or_else(|| {
            EvalError::new(format!("String '{s}' was not recognized as a valid TimeSpan."))
        })?),
        _ => return Err(bad()),
    })
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

fn overflow32() -> EvalError {
    EvalError::new("Value was either too large or too small for an Int32.")
}

pub(crate) fn call<'a>(f: V, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    Ok(match f {
        V::ToBase64 => {
            let Value::Bytes(b) = arg(a, 0) else {
                return Err(EvalError::new(
                    "Value cannot be null. (Parameter 'inArray')",
                ));
            };
            let mut out = BString::with_capacity_in(b.len() * 4 / 3 + 4, rt.arena);
            base64_encode(b, false, &mut out);
            Value::Str(out.into_bump_str())
        }
        V::FromBase64 => {
            let s = req_str(a, 0, "s")?;
            Value::Bytes(base64_decode(s, false, rt.arena).ok_or_else(|| {
                EvalError::new("The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.")
            })?)
        }
        V::ConvToInt => match arg(a, 0) {
            Value::Null => Value::Int(0),
            Value::Str(s) => match parse_to(Type::Int, s)? {
                v @ Value::Int(_) => v,
                _ => return Err(EvalError::format()),
            },
            Value::Double(d) => {
                let r = round_even(d, 0);
                if !(-2_147_483_648.5..2_147_483_647.5).contains(&r) {
                    return Err(overflow32());
                }
                Value::Int(r as i32)
            }
            Value::Bool(b) => Value::Int(i32::from(b)),
            v => Value::Int(
                i32::try_from(as_i64(v).ok_or_else(|| cast(&v, "Int32"))?)
                    .map_err(|_| overflow32())?,
            ),
        },
        V::ConvToLong => match arg(a, 0) {
            Value::Null => Value::Long(0),
            Value::Str(s) => parse_to(Type::Long, s)?,
            Value::Double(d) => Value::Long(round_even(d, 0) as i64),
            Value::Bool(b) => Value::Long(i64::from(b)),
            v => Value::Long(as_i64(v).ok_or_else(|| cast(&v, "Int64"))?),
        },
        V::ConvToDouble => match arg(a, 0) {
            Value::Null => Value::Double(0.0),
            Value::Str(s) => parse_to(Type::Double, s)?,
            Value::Bool(b) => Value::Double(if b { 1.0 } else { 0.0 }),
            v => Value::Double(as_f64(v).ok_or_else(|| cast(&v, "Double"))?),
        },
        V::ConvToBool => match arg(a, 0) {
            Value::Null => Value::Bool(false),
            Value::Str(s) => parse_to(Type::Bool, s)?,
            Value::Bool(b) => Value::Bool(b),
            v => Value::Bool(as_f64(v).ok_or_else(|| cast(&v, "Boolean"))? != 0.0),
        },
        V::ConvToString => match arg(a, 0) {
            Value::Null => Value::Str(""),
            v => Value::Str(v.to_display(rt.arena)),
        },
        V::GetBytes => {
            let Value::Handle(Handle::Encoding(e)) = arg(a, 0) else {
                return Err(EvalError::null_ref());
            };
            let s = req_str(a, 1, "s")?;
            Value::Bytes(match e {
                0 => s.as_bytes(),
                1 => bumpalo::collections::Vec::from_iter_in(
                    s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }),
                    rt.arena,
                )
                .into_bump_slice(),
                _ => {
                    let mut v = bumpalo::collections::Vec::new_in(rt.arena);
                    for u in s.encode_utf16() {
                        v.extend_from_slice(&u.to_le_bytes());
                    }
                    v.into_bump_slice()
                }
            })
        }
        V::GetString => {
            let Value::Handle(Handle::Encoding(e)) = arg(a, 0) else {
                return Err(EvalError::null_ref());
            };
            let Value::Bytes(b) = arg(a, 1) else {
                return Err(EvalError::new("Value cannot be null. (Parameter 'bytes')"));
            };
            Value::Str(match e {
                0 => utf8_lossy(b, rt.arena),
                1 => {
                    let mut s = BString::with_capacity_in(b.len(), rt.arena);
                    s.extend(
                        b.iter()
                            .map(|x| if x.is_ascii() { *x as char } else { '?' }),
                    );
                    s.into_bump_str()
                }
                _ => {
                    let units = b
                        .chunks(2)
                        .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]));
                    let mut s = BString::with_capacity_in(b.len() / 2, rt.arena);
                    s.extend(char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')));
                    s.into_bump_str()
                }
            })
        }
        V::EscapeDataString | V::UrlEncode => {
            let s = match (f, opt_str(a, 0)) {
                (V::UrlEncode, None) => return Ok(Value::Null),
                (_, s) => s.ok_or_else(|| {
                    EvalError::new("Value cannot be null. (Parameter 'stringToEscape')")
                })?,
            };
            let mut out = BString::with_capacity_in(s.len(), rt.arena);
            escape_into(s, f == V::UrlEncode, &mut out);
            Value::Str(out.into_bump_str())
        }
        V::UnescapeDataString | V::UrlDecode => {
            let Some(s) = opt_str(a, 0) else {
                return if f == V::UrlDecode {
                    Ok(Value::Null)
                } else {
                    Err(EvalError::new(
                        "Value cannot be null. (Parameter 'stringToUnescape')",
                    ))
                };
            };
            let mut out = BString::with_capacity_in(s.len(), rt.arena);
            url_decode_into(s, f == V::UrlDecode, &mut out);
            Value::Str(out.into_bump_str())
        }
        V::Min(n) | V::Max(n) => {
            let min = matches!(f, V::Min(_));
            match n {
                Num::Double => {
                    let (x, y) = (f64_arg(a, 0)?, f64_arg(a, 1)?);
                    Value::Double(if x.is_nan() || y.is_nan() {
                        f64::NAN
                    } else if min {
                        x.min(y)
                    } else {
                        x.max(y)
                    })
                }
                _ => {
                    let (x, y) = (int_arg(a, 0)?, int_arg(a, 1)?);
                    let r = if min { x.min(y) } else { x.max(y) };
                    if n == Num::Int {
                        Value::Int(r as i32)
                    } else {
                        Value::Long(r)
                    }
                }
            }
        }
        V::Abs(n) => match n {
            Num::Double => Value::Double(f64_arg(a, 0)?.abs()),
            Num::Int => Value::Int((int_arg(a, 0)? as i32).checked_abs().ok_or_else(|| {
                EvalError::new("Negating the minimum value of a twos complement number is invalid.")
            })?),
            Num::Long => Value::Long(int_arg(a, 0)?.checked_abs().ok_or_else(|| {
                EvalError::new("Negating the minimum value of a twos complement number is invalid.")
            })?),
        },
        V::Sign(_) => {
            let x = f64_arg(a, 0)?;
            if x.is_nan() {
                return Err(EvalError::new(
                    "Function does not accept floating point Not-a-Number values.",
                ));
            }
            Value::Int(if x > 0.0 {
                1
            } else if x < 0.0 {
                -1
            } else {
                0
            })
        }
        V::Floor => Value::Double(f64_arg(a, 0)?.floor()),
        V::Ceiling => Value::Double(f64_arg(a, 0)?.ceil()),
        V::Truncate => Value::Double(f64_arg(a, 0)?.trunc()),
        V::Round => {
            let digits = if a.len() > 1 { int_arg(a, 1)? } else { 0 };
            if !(0..=15).contains(&digits) {
                return Err(EvalError::new(
                    "Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')",
                ));
            }
            Value::Double(round_even(f64_arg(a, 0)?, digits as i32))
        }
        V::Pow => Value::Double(f64_arg(a, 0)?.powf(f64_arg(a, 1)?)),
        V::Sqrt => Value::Double(f64_arg(a, 0)?.sqrt()),
        V::Log => Value::Double(f64_arg(a, 0)?.ln()),
        V::Log10 => Value::Double(f64_arg(a, 0)?.log10()),
        V::Exp => Value::Double(f64_arg(a, 0)?.exp()),
        V::Parse(t) => {
            let s = opt_str(a, 0)
                .ok_or_else(|| EvalError::new("Value cannot be null. (Parameter 's')"))?;
            parse_to(t, s)?
        }
        V::NewGuid => Value::Guid(Guid::from_random(rt.ctx.random_u64(), rt.ctx.random_u64())),
        V::SeqLength => match arg(a, 0) {
            Value::List(l) => Value::Int(l.len() as i32),
            _ => return Err(EvalError::null_ref()),
        },
        V::SeqIndex => {
            let i = int_arg(a, 1)?;
            let bad = || EvalError::new("Index was outside the bounds of the array.");
            match arg(a, 0) {
                Value::List(l) => *usize::try_from(i)
                    .ok()
                    .and_then(|i| l.get(i))
                    .ok_or_else(bad)?,
                Value::Bytes(b) => Value::Int(i32::from(
                    *usize::try_from(i)
                        .ok()
                        .and_then(|i| b.get(i))
                        .ok_or_else(bad)?,
                )),
                _ => return Err(EvalError::null_ref()),
            }
        }
        V::BytesLength => match arg(a, 0) {
            Value::Bytes(b) => Value::Int(b.len() as i32),
            _ => return Err(EvalError::null_ref()),
        },
        V::HasValue => Value::Bool(!arg(a, 0).is_null()),
        V::NullableValue => match arg(a, 0) {
            Value::Null => return Err(EvalError::new("Nullable object must have a value.")),
            v => v,
        },
        V::NullableOrDefault(t) => match arg(a, 0) {
            Value::Null => super::super::eval_ops::default_value(t),
            v => v,
        },
    })
}

fn cast(v: &Value<'_>, to: &str) -> EvalError {
    EvalError::new(format!(
        "Unable to cast object of type '{}' to type 'System.{to}'.",
        v.type_name()
    ))
}
