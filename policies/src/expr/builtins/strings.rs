//! `System.String` and `char` members with .NET semantics: UTF-16 indices and lengths,
//! ordinal comparisons (with `StringComparison.*IgnoreCase`), `Split` with options,
//! composite formatting, `Join`/`Concat`, and `ToString()` of any value.

use bumpalo::collections::{String as BString, Vec as BVec};

use super::super::error::{EResult, EvalError};
use super::super::eval_ops::compare;
use super::super::ir::S;
use super::super::value::{values_equal, Value};
use super::format::{composite, display_into, format_value};
use super::{arg, int_arg, opt_str, req_str, Rt};

/// Length in UTF-16 code units.
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Byte offset of UTF-16 index `idx` (None if out of range or inside a surrogate pair).
pub fn u16_to_byte(s: &str, idx: usize) -> Option<usize> {
    if s.is_ascii() {
        return (idx <= s.len()).then_some(idx);
    }
    let mut units = 0;
    for (b, c) in s.char_indices() {
        if units == idx {
            return Some(b);
        }
        units += c.len_utf16();
        if units > idx {
            return None;
        }
    }
    (units == idx).then_some(s.len())
}

pub fn byte_to_u16(s: &str, byte: usize) -> usize {
    let head = s.get(..byte).unwrap_or(s);
    utf16_len(head)
}

fn ignore_case(v: Value<'_>) -> bool {
    matches!(v, Value::Enum(_, 1 | 3 | 5) | Value::Bool(true))
}

fn out_of_range(param: &str) -> EvalError {
    EvalError::new(format!(
        "Index and length must refer to a location within the string. (Parameter '{param}')"
    ))
}

fn recv<'a>(a: &[Value<'a>]) -> EResult<&'a str> {
    opt_str(a, 0).ok_or_else(EvalError::null_ref)
}

/// The needle of StartsWith/Contains/IndexOf: a string or a char (as a small string).
fn needle<'a: 'b, 'b>(v: Value<'a>, buf: &'b mut [u8; 4]) -> EResult<&'b str> {
    match v {
        Value::Str(s) => Ok(s),
        Value::Char(c) => Ok(c.encode_utf8(buf)),
        _ => Err(EvalError::new("Value cannot be null. (Parameter 'value')")),
    }
}

fn lower<'a>(s: &'a str, rt: &Rt<'_, 'a>) -> &'a str {
    if !s.chars().any(|c| c.is_uppercase()) {
        return s;
    }
    rt.arena.alloc_str(&s.to_lowercase())
}

fn upper<'a>(s: &'a str, rt: &Rt<'_, 'a>) -> &'a str {
    if !s.chars().any(|c| c.is_lowercase()) {
        return s;
    }
    let mut out = BString::with_capacity_in(s.len(), rt.arena);
    for c in s.chars() {
        // .NET keeps 'ß' (no SpecialCasing); Rust maps it to "SS".
        if c == 'ß' {
            out.push(c);
        } else {
            out.extend(c.to_uppercase());
        }
    }
    out.into_bump_str()
}

fn find_ci(h: &str, n: &str, last: bool) -> Option<usize> {
    let (hl, nl) = (h.to_lowercase(), n.to_lowercase());
    if hl.len() != h.len() || nl.len() != n.len() {
        // Case mapping changed byte lengths: fall back to a char-wise scan.
        let starts: Vec<usize> = h
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(h.len()))
            .collect();
        let it: Box<dyn Iterator<Item = &usize>> = if last {
            Box::new(starts.iter().rev())
        } else {
            Box::new(starts.iter())
        };
        for &i in it {
            let rest = &h[i..];
            let mut rc = rest.chars();
            if n.chars().all(|c| {
                rc.next()
                    .is_some_and(|r| r.to_lowercase().eq(c.to_lowercase()))
            }) {
                return Some(i);
            }
        }
        return None;
    }
    if last {
        hl.rfind(&nl)
    } else {
        hl.find(&nl)
    }
}

fn char_set(a: &[Value<'_>]) -> Vec<char> {
    let mut set = Vec::new();
    for v in a {
        match v {
            Value::Char(c) => set.push(*c),
            Value::List(items) => set.extend(items.iter().filter_map(|x| match x {
                Value::Char(c) => Some(*c),
                _ => None,
            })),
            _ => {}
        }
    }
    set
}

fn split<'a>(s: &'a str, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    let mut chars: Vec<char> = Vec::new();
    let mut strs: Vec<&'a str> = Vec::new();
    let mut options = 0;
    let mut count = i64::MAX;
    for v in &a[1..] {
        match v {
            Value::Char(c) => chars.push(*c),
            Value::Str(x) => strs.push(x),
            Value::Enum(_, o) => options = *o,
            Value::Int(n) => {
                if *n < 0 {
                    return Err(EvalError::new(
                        "Count cannot be less than zero. (Parameter 'count')",
                    ));
                }
                count = i64::from(*n)
            }
            Value::List(items) => {
                for it in items.iter() {
                    match it {
                        Value::Char(c) => chars.push(*c),
                        Value::Str(x) => strs.push(x),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    strs.retain(|x| !x.is_empty());
    let whitespace =
        chars.is_empty() && strs.is_empty() && !a[1..].iter().any(|v| matches!(v, Value::Str(_)));
    let remove_empty = options & 1 != 0;
    let trim = options & 2 != 0;
    let mut out = BVec::new_in(rt.arena);
    let push = |piece: &'a str, out: &mut BVec<'a, Value<'a>>| {
        let piece = if trim { piece.trim() } else { piece };
        if !(remove_empty && piece.is_empty()) {
            out.push(Value::Str(piece));
        }
    };
    if count == 0 {
        return Ok(Value::List(&[]));
    }
    if !whitespace && chars.is_empty() && strs.is_empty() {
        push(s, &mut out);
        return Ok(Value::List(out.into_bump_slice()));
    }
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        if (out.len() as i64) >= count - 1 {
            break;
        }
        let rest = &s[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let hit = if whitespace {
            c.is_whitespace().then(|| c.len_utf8())
        } else if chars.contains(&c) {
            Some(c.len_utf8())
        } else {
            strs.iter().find(|x| rest.starts_with(**x)).map(|x| x.len())
        };
        match hit {
            Some(len) => {
                push(&s[start..i], &mut out);
                i += len;
                start = i;
            }
            None => i += c.len_utf8(),
        }
    }
    push(&s[start..], &mut out);
    Ok(Value::List(out.into_bump_slice()))
}

fn display<'a>(v: Value<'a>, rt: &Rt<'_, 'a>) -> &'a str {
    v.to_display(rt.arena)
}

pub(crate) fn call<'a>(f: S, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    Ok(match f {
        S::Length => Value::Int(utf16_len(recv(a)?) as i32),
        S::CharAt => {
            let s = recv(a)?;
            let i = int_arg(a, 1)?;
            let b = usize::try_from(i)
                .ok()
                .and_then(|i| u16_to_byte(s, i))
                .filter(|b| *b < s.len());
            let b =
                b.ok_or_else(|| EvalError::new("Index was outside the bounds of the array."))?;
            Value::Char(s[b..].chars().next().unwrap_or('\0'))
        }
        S::Split => split(recv(a)?, a, rt)?,
        S::Substring | S::Remove => {
            let s = recv(a)?;
            let len16 = utf16_len(s) as i64;
            let start = int_arg(a, 1)?;
            let count = if a.len() > 2 {
                int_arg(a, 2)?
            } else {
                len16 - start
            };
            if start < 0 || start > len16 {
                return Err(EvalError::new(if f == S::Substring {
                    "startIndex cannot be larger than length of string. (Parameter 'startIndex')"
                } else {
                    "startIndex must be less than length of string. (Parameter 'startIndex')"
                }));
            }
            if count < 0 || start + count > len16 {
                return Err(out_of_range("length"));
            }
            let b0 = u16_to_byte(s, start as usize).ok_or_else(|| out_of_range("startIndex"))?;
            let b1 =
                u16_to_byte(s, (start + count) as usize).ok_or_else(|| out_of_range("length"))?;
            if f == S::Substring {
                Value::Str(&s[b0..b1])
            } else {
                let mut out = BString::with_capacity_in(s.len(), rt.arena);
                out.push_str(&s[..b0]);
                out.push_str(&s[b1..]);
                Value::Str(out.into_bump_str())
            }
        }
        S::StartsWith | S::EndsWith | S::Contains => {
            let s = recv(a)?;
            let mut buf = [0u8; 4];
            let n = needle(arg(a, 1), &mut buf)?;
            let ci = a.len() > 2 && ignore_case(arg(a, 2));
            Value::Bool(match (f, ci) {
                (S::StartsWith, false) => s.starts_with(n),
                (S::EndsWith, false) => s.ends_with(n),
                (_, false) => s.contains(n),
                (S::StartsWith, true) => {
                    s.get(..n.len()).is_some_and(|p| p.eq_ignore_ascii_case(n))
                        || find_ci(s, n, false) == Some(0)
                }
                (S::EndsWith, true) => {
                    s.len() >= n.len()
                        && s.get(s.len() - n.len()..)
                            .is_some_and(|p| p.to_lowercase() == n.to_lowercase())
                }
                _ => find_ci(s, n, false).is_some(),
            })
        }
        S::IndexOf | S::LastIndexOf => {
            let s = recv(a)?;
            let mut buf = [0u8; 4];
            let n = needle(arg(a, 1), &mut buf)?;
            let mut ci = false;
            let mut from: Option<i64> = None;
            for v in &a[2..] {
                match v {
                    Value::Enum(..) => ci = ignore_case(*v),
                    Value::Int(i) if from.is_none() => from = Some(i64::from(*i)),
                    _ => {}
                }
            }
            let last = f == S::LastIndexOf;
            let (lo, hi) = match (from, last) {
                (None, _) => (0, s.len()),
                (Some(i), false) => {
                    let b = usize::try_from(i).ok().and_then(|i| u16_to_byte(s, i)).ok_or_else(|| {
                        EvalError::new("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')")
                    })?;
                    (b, s.len())
                }
                (Some(i), true) => {
                    let b = usize::try_from(i + 1).ok().and_then(|i| u16_to_byte(s, i.min(utf16_len(s)))).ok_or_else(|| {
                        EvalError::new("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')")
                    })?;
                    (0, b)
                }
            };
            let hay = &s[lo..hi];
            let found = match (ci, last) {
                (false, false) => hay.find(n),
                (false, true) => hay.rfind(n),
                (true, l) => find_ci(hay, n, l),
            };
            Value::Int(match found {
                Some(b) => byte_to_u16(s, lo + b) as i32,
                None => -1,
            })
        }
        S::ToUpper => Value::Str(upper(recv(a)?, rt)),
        S::ToLower => Value::Str(lower(recv(a)?, rt)),
        S::Trim | S::TrimStart | S::TrimEnd => {
            let s = recv(a)?;
            let set = char_set(&a[1..]);
            let pred = |c: char| {
                if set.is_empty() {
                    c.is_whitespace()
                } else {
                    set.contains(&c)
                }
            };
            Value::Str(match f {
                S::Trim => s.trim_matches(pred),
                S::TrimStart => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            })
        }
        S::Replace => {
            let s = recv(a)?;
            match (arg(a, 1), arg(a, 2)) {
                (Value::Char(x), Value::Char(y)) => {
                    if !s.contains(x) {
                        Value::Str(s)
                    } else {
                        let mut out = BString::with_capacity_in(s.len(), rt.arena);
                        out.extend(s.chars().map(|c| if c == x { y } else { c }));
                        Value::Str(out.into_bump_str())
                    }
                }
                (old, new) => {
                    let old = match old {
                        Value::Str(o) => o,
                        _ => {
                            return Err(EvalError::new(
                                "Value cannot be null. (Parameter 'oldValue')",
                            ))
                        }
                    };
                    if old.is_empty() {
                        return Err(EvalError::new(
                            "String cannot be of zero length. (Parameter 'oldValue')",
                        ));
                    }
                    let new = new.as_str().unwrap_or("");
                    let ci = a.len() > 3 && ignore_case(arg(a, 3));
                    if !ci {
                        if !s.contains(old) {
                            return Ok(Value::Str(s));
                        }
                        let mut out = BString::with_capacity_in(s.len(), rt.arena);
                        let mut last = 0;
                        for (i, _) in s.match_indices(old) {
                            out.push_str(&s[last..i]);
                            out.push_str(new);
                            last = i + old.len();
                        }
                        out.push_str(&s[last..]);
                        Value::Str(out.into_bump_str())
                    } else {
                        let mut out = BString::with_capacity_in(s.len(), rt.arena);
                        let mut rest = s;
                        while let Some(i) = find_ci(rest, old, false) {
                            out.push_str(&rest[..i]);
                            out.push_str(new);
                            let skip = rest[i..]
                                .char_indices()
                                .nth(old.chars().count())
                                .map_or(rest.len() - i, |(b, _)| b);
                            rest = &rest[i + skip..];
                        }
                        out.push_str(rest);
                        Value::Str(out.into_bump_str())
                    }
                }
            }
        }
        S::PadLeft | S::PadRight => {
            let s = recv(a)?;
            let n = int_arg(a, 1)?;
            if n < 0 {
                return Err(EvalError::new(
                    "Non-negative number required. (Parameter 'totalWidth')",
                ));
            }
            if n > 1_000_000 {
                return Err(EvalError::new("totalWidth is too large"));
            }
            let c = match arg(a, 2) {
                Value::Char(c) => c,
                _ => ' ',
            };
            let len = utf16_len(s) as i64;
            if n <= len {
                return Ok(Value::Str(s));
            }
            let mut out = BString::with_capacity_in(s.len() + (n - len) as usize, rt.arena);
            if f == S::PadRight {
                out.push_str(s);
            }
            for _ in len..n {
                out.push(c);
            }
            if f == S::PadLeft {
                out.push_str(s);
            }
            Value::Str(out.into_bump_str())
        }
        S::Equals => {
            let s = recv(a)?;
            let ci = a.len() > 2 && ignore_case(arg(a, 2));
            Value::Bool(match arg(a, 1) {
                Value::Str(o) if ci => s.to_lowercase() == o.to_lowercase(),
                Value::Str(o) => s == o,
                _ => false,
            })
        }
        S::StaticEquals => {
            let ci = a.len() > 2 && ignore_case(arg(a, 2));
            Value::Bool(match (opt_str(a, 0), opt_str(a, 1)) {
                (None, None) => true,
                (Some(x), Some(y)) if ci => x.to_lowercase() == y.to_lowercase(),
                (Some(x), Some(y)) => x == y,
                _ => false,
            })
        }
        S::Insert => {
            let s = recv(a)?;
            let i = int_arg(a, 1)?;
            let x = req_str(a, 2, "value")?;
            let b = usize::try_from(i)
                .ok()
                .and_then(|i| u16_to_byte(s, i))
                .ok_or_else(|| out_of_range("startIndex"))?;
            let mut out = BString::with_capacity_in(s.len() + x.len(), rt.arena);
            out.push_str(&s[..b]);
            out.push_str(x);
            out.push_str(&s[b..]);
            Value::Str(out.into_bump_str())
        }
        S::ToCharArray => Value::List(
            BVec::from_iter_in(recv(a)?.chars().map(Value::Char), rt.arena).into_bump_slice(),
        ),
        S::IsNullOrEmpty => Value::Bool(opt_str(a, 0).is_none_or(|s| s.is_empty())),
        S::IsNullOrWhiteSpace => Value::Bool(opt_str(a, 0).is_none_or(|s| s.trim().is_empty())),
        S::Format => {
            let fmt = req_str(a, 0, "format")?;
            let mut out = BString::new_in(rt.arena);
            composite(fmt, &a[1..], &mut out).map_err(EvalError::new)?;
            Value::Str(out.into_bump_str())
        }
        S::Join | S::Concat => {
            let (sep, items): (&str, &[Value<'a>]) = if f == S::Join {
                let sep = match arg(a, 0) {
                    Value::Char(c) => &*rt.arena.alloc_str(c.encode_utf8(&mut [0u8; 4])),
                    v => v.as_str().unwrap_or(""),
                };
                (sep, &a[1..])
            } else {
                ("", a)
            };
            let items: &[Value<'a>] = match items {
                [one] => match one {
                    Value::List(l) => l,
                    Value::Json(_) => super::super::eval_linq::as_seq(*one, rt.arena)?,
                    _ => items,
                },
                _ => items,
            };
            let mut out = BString::new_in(rt.arena);
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                display_into(*v, &mut out);
            }
            Value::Str(out.into_bump_str())
        }
        S::Compare => {
            let ci = a.len() > 2 && ignore_case(arg(a, 2));
            let (x, y) = (arg(a, 0), arg(a, 1));
            let o = match (x, y) {
                (Value::Str(p), Value::Str(q)) if ci => p.to_lowercase().cmp(&q.to_lowercase()),
                _ => compare(&x, &y).unwrap_or(std::cmp::Ordering::Equal),
            };
            Value::Int(o as i32)
        }
        S::ToStr => Value::Str(display(arg(a, 0), rt)),
        S::ToStrFmt => {
            let fmt = opt_str(a, 1).unwrap_or("");
            let mut out = BString::new_in(rt.arena);
            format_value(arg(a, 0), fmt, &mut out).map_err(|_| EvalError::format())?;
            Value::Str(out.into_bump_str())
        }
        S::ObjEquals => Value::Bool(values_equal(&arg(a, 0), &arg(a, 1))),
        S::CharIsDigit
        | S::CharIsLetter
        | S::CharIsLetterOrDigit
        | S::CharIsWhiteSpace
        | S::CharIsUpper
        | S::CharIsLower => {
            let Value::Char(c) = arg(a, 0) else {
                return Err(EvalError::null_ref());
            };
            let digit = c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric());
            Value::Bool(match f {
                S::CharIsDigit => digit,
                S::CharIsLetter => c.is_alphabetic(),
                S::CharIsLetterOrDigit => c.is_alphabetic() || digit,
                S::CharIsWhiteSpace => c.is_whitespace(),
                S::CharIsUpper => c.is_uppercase(),
                _ => c.is_lowercase(),
            })
        }
        S::CharToUpper | S::CharToLower => {
            let Value::Char(c) = arg(a, 0) else {
                return Err(EvalError::null_ref());
            };
            let m = if f == S::CharToUpper {
                c.to_uppercase().next()
            } else {
                c.to_lowercase().next()
            };
            Value::Char(m.unwrap_or(c))
        }
    })
}
