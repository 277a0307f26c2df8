//! Durations as users write them: `250ms`, `10s`, `5m`, `1h`, or a sum like `1m30s`.
//!
//! Use as `#[serde(with = "duration")]` on a `std::time::Duration` field. A bare number is
//! refused (is `10` seconds or milliseconds?) with the hint "add a unit: 10s".

use std::fmt;
use std::time::Duration;

use serde::{de, Deserializer, Serializer};

use super::de_error::HINT_SEPARATOR;

/// Units, longest suffix first so `ms` is not read as `m` + `s`.
const UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Parses `250ms`, `10s`, `5m`, `1h`, `1m30s`; `Err` is (message, hint).
pub fn parse(text: &str) -> Result<Duration, (String, Option<String>)> {
    let text = text.trim();
    if text.is_empty() {
        return Err((
            "a duration cannot be empty".into(),
            Some("write e.g. 10s or 250ms".into()),
        ));
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err((
                format!("`{text}` is not a duration"),
                Some("write a whole number and a unit: 250ms, 10s, 5m, 1h".into()),
            ));
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.bytes().take_while(|b| !b.is_ascii_digit()).count();
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err((
                format!("duration `{text}` has no unit"),
                Some(format!("add a unit: {text}s")),
            ));
        }
        let Some(&(_, ms_per)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err((
                format!("unknown unit `{unit}` in duration `{text}`"),
                Some("units are ms, s, m, h (e.g. 10s)".into()),
            ));
        };
        let too_long = || (format!("duration `{text}` is too long"), None);
        let n: u64 = number.parse().map_err(|_| too_long())?;
        let ms = n.checked_mul(ms_per).ok_or_else(too_long)?;
        total_ms = total_ms.checked_add(ms).ok_or_else(too_long)?;
        rest = next;
    }
    Ok(Duration::from_millis(total_ms))
}

/// The shortest exact spelling: `250ms`, `10s`, `5m`, `1h`, `90s`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    let exact = |per: u128| (ms / per) * per == ms;
    match ms {
        0 => "0s".into(),
        _ if exact(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if exact(60_000) => format!("{}m", ms / 60_000),
        _ if exact(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

struct DurationVisitor;

impl DurationVisitor {
    fn bare<E: de::Error>(n: impl fmt::Display) -> E {
        E::custom(format!(
            "a duration needs a unit{HINT_SEPARATOR}add a unit: {n}s"
        ))
    }
}

impl de::Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as 250ms, 10s, 5m or 1h")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(|(message, hint)| match hint {
            Some(hint) => E::custom(format!("{message}{HINT_SEPARATOR}{hint}")),
            None => E::custom(message),
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Err(Self::bare(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        Err(Self::bare(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "a duration is a whole number and a unit{HINT_SEPARATOR}write {}ms",
            (v * 1000.0).round()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn refuses_bad_durations_with_hints() {
        let (msg, hint) = parse("10").unwrap_err();
        assert!(msg.contains("no unit"));
        assert_eq!(hint.as_deref(), Some("add a unit: 10s"));
        let (msg, hint) = parse("10x").unwrap_err();
        assert!(msg.contains("unknown unit `x`"), "{msg}");
        assert!(hint.unwrap().contains("ms, s, m, h"));
        assert!(parse("").is_err());
        assert!(parse("s").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("99999999999999999999s").is_err());
        assert!(parse("18446744073709551615h").is_err());
    }

    #[test]
    fn formats_shortest_exact_unit() {
        for s in ["250ms", "10s", "5m", "1h", "90s", "1500ms"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
