//! The JOSE header of a token, decoded into a caller's stack buffer and parsed with
//! serde_json borrowing from it: `alg`, `kid` and `typ`, plus the members that make a
//! token unacceptable (`alg: none`, `crit`, `enc`, `zip`). Other members (`jku`, `x5u`,
//! `jwk`, `x5t`, …) are ignored: keys never come from the token itself.

use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;

use crate::alg::Alg;
use crate::b64;
use crate::error::TokenError;
use crate::token::Token;

/// The largest decoded header accepted, and the size of a [`HeaderBuf`].
pub const MAX_HEADER_LEN: usize = 2048;

/// A stack buffer for [`Header::parse`].
pub type HeaderBuf = [u8; MAX_HEADER_LEN];

/// The members of an acceptable header that verification needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'h> {
    pub alg: Alg,
    pub kid: Option<&'h str>,
    pub typ: Option<&'h str>,
}

/// The header as written; `Seen` members only record presence (even `null`).
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow, default)]
    alg: Option<&'a str>,
    #[serde(borrow, default)]
    kid: Option<&'a str>,
    #[serde(borrow, default)]
    typ: Option<&'a str>,
    #[serde(default)]
    crit: Seen,
    #[serde(default)]
    enc: Seen,
    #[serde(default)]
    zip: Seen,
}

/// A member that is refused whatever its value.
#[derive(Default)]
struct Seen(bool);

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Seen(true))
    }
}

impl<'h> Header<'h> {
    /// Decodes and parses the header of `token` into `buf` (its length is the limit,
    /// normally a [`HeaderBuf`]). Refusals, checked in this order: bad base64url or not a
    /// JSON object ([`TokenError::Malformed`], also for strings with JSON escapes, which
    /// no header value needs), `enc`/`zip` ([`TokenError::Encrypted`]), `alg: none` in any
    /// case ([`TokenError::Unsigned`]), `crit` ([`TokenError::Critical`]), an unknown
    /// `alg` ([`TokenError::UnknownAlg`]).
    ///
    /// Allocation-free when the header is accepted; a JSON syntax or type error costs
    /// serde_json one boxed error.
    pub fn parse(token: &Token<'_>, buf: &'h mut [u8]) -> Result<Header<'h>, TokenError> {
        let part = token.header_b64().as_bytes();
        let len = b64::decoded_len(part.len())
            .ok_or(TokenError::Malformed("header is not valid base64url"))?;
        if len > buf.len() {
            return Err(TokenError::TooLarge {
                len,
                max: buf.len(),
            });
        }
        let json = b64::decode_into(part, buf)
            .ok_or(TokenError::Malformed("header is not valid base64url"))?;
        // serde_json would also read a struct from an array: insist on an object.
        if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(TokenError::Malformed("header is not a JSON object"));
        }
        let raw: RawHeader<'h> = serde_json::from_slice(json).map_err(|e| {
            TokenError::Malformed(match e.classify() {
                serde_json::error::Category::Data => {
                    "header member of the wrong type, duplicated or with escapes"
                }
                _ => "header is not valid JSON",
            })
        })?;
        if raw.enc.0 || raw.zip.0 {
            return Err(TokenError::Encrypted);
        }
        let alg = raw.alg.ok_or(TokenError::Malformed("header has no alg"))?;
        if alg.eq_ignore_ascii_case("none") {
            return Err(TokenError::Unsigned);
        }
        if raw.crit.0 {
            return Err(TokenError::Critical);
        }
        Ok(Header {
            alg: Alg::parse(alg).ok_or(TokenError::UnknownAlg)?,
            kid: raw.kid,
            typ: raw.typ,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(json: &str) -> Result<(Alg, Option<String>, Option<String>), TokenError> {
        let text = format!("{}.e30.c2ln", b64::encode(json.as_bytes()));
        let token = Token::split(&text, 10_000)?;
        let mut buf = [0u8; MAX_HEADER_LEN];
        let h = Header::parse(&token, &mut buf)?;
        Ok((h.alg, h.kid.map(str::to_owned), h.typ.map(str::to_owned)))
    }

    #[test]
    fn accepts_plain_headers() {
        assert_eq!(
            parse_json(r#"{"alg":"RS256","kid":"k1","typ":"JWT","x5t":"abc","jku":"https://x"}"#),
            Ok((Alg::RS256, Some("k1".into()), Some("JWT".into())))
        );
        assert_eq!(
            parse_json(" {\"kid\":null,\"alg\":\"EdDSA\"} "),
            Ok((Alg::EdDSA, None, None))
        );
        assert_eq!(
            parse_json(r#"{"alg":"ES512","kid":"k\u00e9"}"#).map(|h| h.1),
            Err(TokenError::Malformed(
                "header member of the wrong type, duplicated or with escapes"
            )),
            "escapes refused rather than allocated"
        );
    }

    #[test]
    fn refusals() {
        use TokenError::*;
        let cases: &[(&str, TokenError)] = &[
            (r#"{"alg":"none"}"#, Unsigned),
            (r#"{"alg":"nOnE","kid":"x"}"#, Unsigned),
            (r#"{"alg":"HS256","crit":["exp"]}"#, Critical),
            (r#"{"alg":"HS256","crit":null}"#, Critical),
            (r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#, Encrypted),
            (r#"{"alg":"HS256","zip":"DEF"}"#, Encrypted),
            (r#"{"alg":"HS1"}"#, UnknownAlg),
            (r#"{"alg":"hs256"}"#, UnknownAlg),
        ];
        for (json, want) in cases {
            assert_eq!(parse_json(json).map(|h| h.0), Err(*want), "{json}");
        }
        for bad in [
            r#"["HS256"]"#,
            r#""HS256""#,
            "",
            "{",
            r#"{"alg":"HS256"} x"#,
            r#"{"alg":"HS256","alg":"none"}"#,
            r#"{"alg":256}"#,
            r#"{"kid":"k"}"#,
            r#"{"alg":"HS256","kid":7}"#,
        ] {
            assert!(matches!(parse_json(bad), Err(Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn limits_and_base64() {
        let big = format!(r#"{{"alg":"HS256","x":"{}"}}"#, "a".repeat(MAX_HEADER_LEN));
        assert!(matches!(
            parse_json(&big),
            Err(TokenError::TooLarge {
                max: MAX_HEADER_LEN,
                ..
            })
        ));
        let mut buf = [0u8; MAX_HEADER_LEN];
        let token = Token::split("eyJhbGciOiJIUzI1NiJ9.e30.x", 100).unwrap();
        assert_eq!(
            Header::parse(&token, &mut buf).map(|h| h.alg),
            Ok(Alg::HS256)
        );
        // "e31": non-zero trailing bits, a non-canonical encoding of "{}".
        let token = Token::split("e31.e30.x", 100).unwrap();
        assert_eq!(
            Header::parse(&token, &mut buf),
            Err(TokenError::Malformed("header is not valid base64url"))
        );
    }
}
