//! Plain YAML scalars read by the YAML 1.2 core schema: null, booleans, integers (decimal,
//! `0o` octal, `0x` hex) and floats; anything else is a string. Quoted scalars never come
//! here: they are always strings.

use super::node::NodeKind;

/// The YAML 1.2 core schema reading of a plain scalar.
pub(super) fn resolve_plain(text: &str) -> NodeKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    if matches!(digits, ".inf" | ".Inf" | ".INF") {
        return NodeKind::Float(f64::INFINITY * f64::from(sign));
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i128::from_str_radix(oct, 8) {
            return NodeKind::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i128::from_str_radix(hex, 16) {
            return NodeKind::Int(i);
        }
    }
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i128>() {
            return NodeKind::Int(i);
        }
    }
    if is_core_float(digits) {
        if let Ok(f) = text.parse::<f64>() {
            return NodeKind::Float(f);
        }
    }
    NodeKind::Str(text.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.into_iter().all(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.into_iter().all(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema() {
        let cases = [
            ("8080", NodeKind::Int(8080)),
            ("-12", NodeKind::Int(-12)),
            ("0x1F", NodeKind::Int(31)),
            ("0o17", NodeKind::Int(15)),
            ("true", NodeKind::Bool(true)),
            ("FALSE", NodeKind::Bool(false)),
            ("~", NodeKind::Null),
            ("", NodeKind::Null),
            ("1.5", NodeKind::Float(1.5)),
            ("1e3", NodeKind::Float(1000.0)),
            (".5", NodeKind::Float(0.5)),
            ("-.inf", NodeKind::Float(f64::NEG_INFINITY)),
            ("1.2.3", NodeKind::Str("1.2.3".into())),
            ("yes", NodeKind::Str("yes".into())),
            ("10s", NodeKind::Str("10s".into())),
            ("0x", NodeKind::Str("0x".into())),
            ("e3", NodeKind::Str("e3".into())),
            (".", NodeKind::Str(".".into())),
            ("-", NodeKind::Str("-".into())),
        ];
        for (text, kind) in cases {
            assert_eq!(resolve_plain(text), kind, "{text}");
        }
        assert!(matches!(resolve_plain(".nan"), NodeKind::Float(f) if f.is_nan()));
        // Too big for an integer: still a number, not a string.
        assert!(matches!(resolve_plain(&"9".repeat(41)), NodeKind::Float(_)));
    }
}
