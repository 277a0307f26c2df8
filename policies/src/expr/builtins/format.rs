//! C# `ToString()` and format strings: shortest round-trip doubles, numeric standard
//! (`D`, `X`, `N`, `F`, `G`, `P`) and simple custom (`0.00`, `#,##0`) formats, and
//! composite formatting (`{0}`, `{1,5:D3}`) for `String.Format` and interpolation.
// Formatting helpers report an invalid format string as `Err(())`; callers map it to
// .NET's FormatException message.
#![allow(clippy::result_unit_err)]

use super::ign;
use std::fmt::Write;

use super::super::value::Value;
use super::time::{format_datetime, format_timespan};

/// Writes the C# `ToString()` of a value.
pub fn display_into<W: Write>(v: Value<'_>, out: &mut W) {
    match v {
        Value::Null => {}
        Value::Bool(b) => ign(out.write_str(if b { "True" } else { "False" })),
        Value::Int(i) => ign(write!(out, "{i}")),
        Value::Long(i) => ign(write!(out, "{i}")),
        Value::Double(d) => write_double(d, out),
        Value::Char(c) => ign(out.write_char(c)),
        Value::Str(s) => ign(out.write_str(s)),
        Value::DateTime(dt) => ign(format_datetime(dt, "", out)),
        Value::TimeSpan(ts) => ign(format_timespan(ts, "", out)),
        Value::Guid(g) => ign(g.format("D", out)),
        Value::Json(n) => n.write_json(out, true, true),
        Value::Enum(k, n) => match super::super::types::enum_name(k, n) {
            Some(name) => ign(out.write_str(name)),
            None => ign(write!(out, "{n}")),
        },
        Value::Match(m, g) => ign(out.write_str(m.group_str(g))),
        Value::Cert(c) => ign(out.write_str(c.subject)),
        other => ign(out.write_str(other.type_name())),
    }
}

/// .NET Core 3.0+ `double.ToString()`: shortest round-trip digits, exponent form for
/// exponents >= 15 or < -5 (`1E+15`, `1E-05`).
pub fn write_double<W: Write>(d: f64, out: &mut W) {
    if d.is_nan() {
        let _ = out.write_str("NaN");
        return;
    }
    if d.is_infinite() {
        let _ = out.write_str(if d > 0.0 { "∞" } else { "-∞" });
        return;
    }
    if d == 0.0 {
        let _ = out.write_str(if d.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    let mut sci = String::new();
    let _ = write!(sci, "{:e}", d);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if neg {
        let _ = out.write_char('-');
    }
    write_digits(&digits, exp, 15, out);
}

/// Writes digits `d.ddd × 10^exp` in .NET "R"/"G17" style.
fn write_digits<W: Write>(digits: &str, exp: i32, threshold: i32, out: &mut W) {
    if exp >= threshold || exp < -4 {
        let (first, rest) = digits.split_at(1);
        let _ = out.write_str(first);
        if !rest.is_empty() {
            let _ = write!(out, ".{rest}");
        }
        let _ = write!(out, "E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if exp < 0 {
        let _ = out.write_str("0.");
        for _ in 0..(-exp - 1) {
            let _ = out.write_char('0');
        }
        let _ = out.write_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            let _ = out.write_str(digits);
            for _ in digits.len()..int_len {
                let _ = out.write_char('0');
            }
        } else {
            let _ = write!(out, "{}.{}", &digits[..int_len], &digits[int_len..]);
        }
    }
}

fn group_thousands(int_part: &str) -> String {
    let mut s = String::new();
    let n = int_part.len();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            s.push(',');
        }
        s.push(c);
    }
    s
}

/// Formats an integer (`i128` covers int and long) with a .NET numeric format.
pub fn format_integer<W: Write>(v: i128, bits: u32, fmt: &str, out: &mut W) -> Result<(), ()> {
    if fmt.is_empty() {
        let _ = write!(out, "{v}");
        return Ok(());
    }
    let (spec, prec) = split_spec(fmt);
    match (spec, prec) {
        ('D' | 'd', p) => {
            let p = p.unwrap_or(0);
            if v < 0 {
                let _ = write!(out, "-{:0p$}", v.unsigned_abs());
            } else {
                let _ = write!(out, "{v:0p$}");
            }
            Ok(())
        }
        ('X' | 'x', p) => {
            let p = p.unwrap_or(0);
            let u = if bits == 32 {
                (v as i32) as u32 as u128
            } else {
                (v as i64) as u64 as u128
            };
            if spec == 'X' {
                let _ = write!(out, "{u:0p$X}");
            } else {
                let _ = write!(out, "{u:0p$x}");
            }
            Ok(())
        }
        ('G' | 'g', None) => {
            let _ = write!(out, "{v}");
            Ok(())
        }
        ('N' | 'n' | 'F' | 'f' | 'P' | 'p' | 'E' | 'e' | 'C' | 'c' | 'G' | 'g', _) => {
            format_double(v as f64, fmt, out)
        }
        _ => format_custom(v as f64, fmt, out),
    }
}

fn split_spec(fmt: &str) -> (char, Option<usize>) {
    let mut chars = fmt.chars();
    let c = chars.next().unwrap_or('G');
    let rest = chars.as_str();
    if rest.is_empty() {
        return (c, None);
    }
    match rest.parse::<usize>() {
        Ok(p) if p <= 99 && c.is_ascii_alphabetic() => (c, Some(p)),
        _ => ('\0', None),
    }
}

/// Formats a double with a .NET numeric format.
pub fn format_double<W: Write>(v: f64, fmt: &str, out: &mut W) -> Result<(), ()> {
    if fmt.is_empty() || fmt == "R" || fmt == "r" || fmt == "G" || fmt == "g" {
        write_double(v, out);
        return Ok(());
    }
    let (spec, prec) = split_spec(fmt);
    if !v.is_finite() && spec != '\0' {
        write_double(v, out);
        return Ok(());
    }
    match spec {
        'F' | 'f' | 'N' | 'n' | 'P' | 'p' | 'C' | 'c' => {
            let p = prec.unwrap_or(2);
            let x = if matches!(spec, 'P' | 'p') {
                v * 100.0
            } else {
                v
            };
            let s = format!("{:.*}", p, round_half_away(x, p));
            let (neg, s) = match s.strip_prefix('-') {
                Some(r) if r.bytes().any(|b| b.is_ascii_digit() && b != b'0') => (true, r),
                Some(r) => (false, r),
                None => (false, s.as_str()),
            };
            let (ip, fp) = s.split_once('.').unwrap_or((s, ""));
            if neg {
                let _ = out.write_char('-');
            }
            if matches!(spec, 'C' | 'c') {
                let _ = out.write_char('¤');
            }
            if matches!(spec, 'F' | 'f') {
                let _ = out.write_str(ip);
            } else {
                let _ = out.write_str(&group_thousands(ip));
            }
            if !fp.is_empty() {
                let _ = write!(out, ".{fp}");
            }
            if matches!(spec, 'P' | 'p') {
                let _ = out.write_str(" %");
            }
            Ok(())
        }
        'E' | 'e' => {
            let p = prec.unwrap_or(6);
            let s = format!("{:.*e}", p, v);
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            let _ = write!(
                out,
                "{m}{}{}{:03}",
                spec,
                if e < 0 { '-' } else { '+' },
                e.abs()
            );
            Ok(())
        }
        'G' | 'g' => {
            let p = prec.unwrap_or(15).clamp(1, 17);
            let s = format!("{:.*e}", p - 1, v);
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            let (neg, m) = match m.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, m),
            };
            let digits: String = m.chars().filter(|c| *c != '.').collect();
            let digits = digits.trim_end_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            if neg {
                let _ = out.write_char('-');
            }
            write_digits(digits, e, p as i32, out);
            Ok(())
        }
        _ => format_custom(v, fmt, out),
    }
}

fn round_half_away(x: f64, places: usize) -> f64 {
    if places > 15 {
        return x;
    }
    let m = 10f64.powi(places as i32);
    let r = (x * m).round() / m;
    if r.is_finite() {
        r
    } else {
        x
    }
}

/// Custom numeric formats made of `0`, `#`, one `.`, `,` grouping, `%` and literals.
fn format_custom<W: Write>(v: f64, fmt: &str, out: &mut W) -> Result<(), ()> {
    if !fmt.chars().any(|c| c == '0' || c == '#') || fmt.contains(';') || fmt.len() > 64 {
        return Err(());
    }
    let (int_fmt, frac_fmt) = fmt.split_once('.').unwrap_or((fmt, ""));
    let percent = fmt.contains('%');
    let x = if percent { v * 100.0 } else { v };
    let min_frac = frac_fmt.chars().filter(|c| *c == '0').count();
    let max_frac = frac_fmt.chars().filter(|c| *c == '0' || *c == '#').count();
    let min_int = int_fmt.chars().filter(|c| *c == '0').count();
    let grouping = int_fmt.contains(',');
    let s = format!("{:.*}", max_frac, round_half_away(x.abs(), max_frac));
    let (ip, fp) = s.split_once('.').unwrap_or((&s, ""));
    let mut fp = fp.to_string();
    while fp.len() > min_frac && fp.ends_with('0') {
        fp.pop();
    }
    let ip = ip.trim_start_matches('0');
    let mut ip = format!("{ip:0>min_int$}");
    if grouping {
        ip = group_thousands(&ip);
    }
    let nonzero =
        ip.bytes().any(|b| b.is_ascii_digit() && b != b'0') || fp.bytes().any(|b| b != b'0');
    if v < 0.0 && nonzero {
        let _ = out.write_char('-');
    }
    // Literal prefix/suffix characters around the digit placeholders.
    let is_ph = |c: char| matches!(c, '0' | '#' | ',' | '.');
    let prefix: String = fmt.chars().take_while(|c| !is_ph(*c)).collect();
    let suffix: String = fmt
        .chars()
        .rev()
        .take_while(|c| !is_ph(*c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let _ = out.write_str(&prefix);
    let _ = out.write_str(&ip);
    if !fp.is_empty() {
        let _ = write!(out, ".{fp}");
    }
    let _ = out.write_str(&suffix);
    Ok(())
}

/// Formats one value with an optional format string (as in `{0:fmt}` or `x.ToString(fmt)`).
pub fn format_value<W: Write>(v: Value<'_>, fmt: &str, out: &mut W) -> Result<(), ()> {
    match v {
        Value::Int(i) => format_integer(i128::from(i), 32, fmt, out),
        Value::Long(i) => format_integer(i128::from(i), 64, fmt, out),
        Value::Double(d) => format_double(d, fmt, out),
        Value::DateTime(dt) => format_datetime(dt, fmt, out),
        Value::TimeSpan(ts) => format_timespan(ts, fmt, out),
        Value::Guid(g) => g.format(fmt, out),
        other => {
            display_into(other, out);
            Ok(())
        }
    }
}

/// A parsed composite-format item: literal text or `{index[,align][:format]}`.
pub enum Piece<'f> {
    Text(&'f str),
    Brace(char),
    Hole {
        index: usize,
        align: i32,
        format: &'f str,
    },
}

/// Splits a composite format string; `Err` on malformed braces.
pub fn parse_composite(
    fmt: &str,
    mut f: impl FnMut(Piece<'_>) -> Result<(), ()>,
) -> Result<(), ()> {
    let b = fmt.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'}' if b.get(i + 1) == Some(&b[i]) => {
                f(Piece::Text(&fmt[start..i]))?;
                f(Piece::Brace(b[i] as char))?;
                i += 2;
                start = i;
            }
            b'{' => {
                f(Piece::Text(&fmt[start..i]))?;
                let end = fmt[i..].find('}').ok_or(())? + i;
                let inner = &fmt[i + 1..end];
                let (head, format) = inner.split_once(':').unwrap_or((inner, ""));
                let (idx, align) = head.split_once(',').unwrap_or((head, "0"));
                let index: usize = idx.trim().parse().map_err(|_| ())?;
                let align: i32 = align.trim().parse().map_err(|_| ())?;
                if index > 1000 || align.abs() > 1000 {
                    return Err(());
                }
                f(Piece::Hole {
                    index,
                    align,
                    format,
                })?;
                i = end + 1;
                start = i;
            }
            b'}' => return Err(()),
            _ => i += 1,
        }
    }
    f(Piece::Text(&fmt[start..]))
}

/// Writes `text` padded to `align` (positive: right-aligned, negative: left-aligned).
pub fn write_aligned<W: Write>(text: &str, align: i32, out: &mut W) {
    let n = text.chars().count();
    let w = align.unsigned_abs() as usize;
    if align > 0 {
        for _ in n..w {
            let _ = out.write_char(' ');
        }
    }
    let _ = out.write_str(text);
    if align < 0 {
        for _ in n..w {
            let _ = out.write_char(' ');
        }
    }
}

/// Composite formatting (`String.Format`).
pub fn composite<W: Write>(fmt: &str, args: &[Value<'_>], out: &mut W) -> Result<(), &'static str> {
    let mut bad_index = false;
    let r = parse_composite(fmt, |p| {
        match p {
            Piece::Text(t) => ign(out.write_str(t)),
            Piece::Brace(c) => ign(out.write_char(c)),
            Piece::Hole {
                index,
                align,
                format,
            } => {
                let Some(v) = args.get(index) else {
                    bad_index = true;
                    return Err(());
                };
                if align == 0 {
                    format_value(*v, format, out)?;
                } else {
                    let mut tmp = String::new();
                    format_value(*v, format, &mut tmp)?;
                    write_aligned(&tmp, align, out);
                }
            }
        }
        Ok(())
    });
    match r {
        Ok(()) => Ok(()),
        Err(()) if bad_index => Err("Index (zero based) must be greater than or equal to zero and less than the size of the argument list."),
        Err(()) => Err("Input string was not in a correct format."),
    }
}
