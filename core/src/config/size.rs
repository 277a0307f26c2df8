//! Byte sizes as users write them: a plain integer of bytes, or `512B`, `64KiB`, `256MiB`,
//! `1GiB` (binary) and `10KB`, `5MB`, `1GB` (decimal).
//!
//! [`ByteSize`] for new keys; `#[serde(deserialize_with = "size::usize_bytes")]` lets the
//! integer `limits` keys accept the same spellings.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::de_error::HINT_SEPARATOR;

const UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

/// A number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// Parses `256MiB`, `10KB`, `4096`; `Err` is the message with an optional hint.
pub fn parse(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let unit = unit.trim_start();
    let units_hint =
        || format!("{HINT_SEPARATOR}units are B, KB, MB, GB, KiB, MiB, GiB (e.g. 256MiB)");
    if number.is_empty() {
        return Err(format!("`{text}` is not a size{}", units_hint()));
    }
    let per = match unit {
        "" => 1,
        _ => match UNITS.iter().find(|(u, _)| *u == unit) {
            Some((_, per)) => *per,
            None => {
                return Err(format!(
                    "unknown unit `{unit}` in size `{text}`{}",
                    units_hint()
                ))
            }
        },
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .ok_or_else(|| format!("size `{text}` is too large"))
}

/// `256MiB` when exact in a binary unit, else the number of bytes.
pub fn format(bytes: u64) -> String {
    for (unit, per) in UNITS[4..].iter().rev() {
        if bytes > 0 && (bytes / per) * per == bytes {
            return format!("{}{unit}", bytes / per);
        }
    }
    bytes.to_string()
}

struct SizeVisitor;

impl de::Visitor<'_> for SizeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size such as 65536, 64KiB or 100MiB")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom("a size cannot be negative"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SizeVisitor).map(ByteSize)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(self.0))
    }
}

/// For `u64` byte-count fields.
pub fn u64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(SizeVisitor)
}

/// For `usize` byte-count fields.
pub fn usize_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = d.deserialize_any(SizeVisitor)?;
    usize::try_from(n).map_err(|_| de::Error::custom("size too large for this machine"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_sizes() {
        assert_eq!(parse("256MiB"), Ok(256 << 20));
        assert_eq!(parse("10KB"), Ok(10_000));
        assert_eq!(parse("4096"), Ok(4096));
        assert_eq!(parse("1 GiB"), Ok(1 << 30));
        assert!(parse("10XB").unwrap_err().contains("unknown unit"));
        assert!(parse("MiB").is_err());
        assert!(parse("99999999999GiB").is_err());
        assert_eq!(format(256 << 20), "256MiB");
        assert_eq!(format(1000), "1000");
        assert_eq!(format(0), "0");
    }
}
