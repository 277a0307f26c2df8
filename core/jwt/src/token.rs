//! A compact JWS split into its three base64url parts, borrowed from the request, with
//! no decoding and no allocation. Not for JWE (refused) or JWS JSON serialization.

use std::fmt;

use crate::b64;
use crate::error::TokenError;

/// A token that has the shape `header.payload.signature`, each part base64url without
/// padding. The header is parsed separately ([`crate::Header::parse`]); the signature may
/// be empty here (an `alg: none` token) and is judged by the header rules and [`crate::verify`].
/// `Debug` shows part lengths only: a token is a bearer credential and must not reach logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Token<'t> {
    text: &'t str,
    /// Index of the first dot. Invariant: `0 < header_end < payload_end < text.len() + 1`.
    header_end: usize,
    /// Index of the second dot.
    payload_end: usize,
}

impl fmt::Debug for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("header_len", &self.header_b64().len())
            .field("payload_len", &self.payload_b64().len())
            .field("signature_len", &self.signature_b64().len())
            .finish()
    }
}

impl<'t> Token<'t> {
    /// Splits `token` (without any `Bearer ` prefix). Refuses tokens longer than `max_len`
    /// ([`TokenError::TooLarge`]), five-part JWEs ([`TokenError::Encrypted`]), any other
    /// part count, empty header or payload, and characters outside base64url
    /// ([`TokenError::Malformed`]).
    pub fn split(token: &'t str, max_len: usize) -> Result<Token<'t>, TokenError> {
        let bytes = token.as_bytes();
        if bytes.len() > max_len {
            return Err(TokenError::TooLarge {
                len: bytes.len(),
                max: max_len,
            });
        }
        let mut dots = [0usize; 2];
        let mut count = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'.' {
                if let Some(slot) = dots.get_mut(count) {
                    *slot = i;
                }
                count += 1;
            }
        }
        match count {
            2 => {}
            4 => return Err(TokenError::Encrypted),
            _ => return Err(TokenError::Malformed("not three dot-separated parts")),
        }
        let [header_end, payload_end] = dots;
        if header_end == 0 {
            return Err(TokenError::Malformed("empty header"));
        }
        if payload_end == header_end + 1 {
            return Err(TokenError::Malformed("empty payload"));
        }
        let t = Token {
            text: token,
            header_end,
            payload_end,
        };
        if !(b64::is_url_safe(t.header_b64().as_bytes())
            && b64::is_url_safe(t.payload_b64().as_bytes())
            && b64::is_url_safe(t.signature_b64().as_bytes()))
        {
            return Err(TokenError::Malformed("not base64url without padding"));
        }
        Ok(t)
    }

    /// The whole token.
    pub fn as_str(&self) -> &'t str {
        self.text
    }

    /// The base64url header part.
    pub fn header_b64(&self) -> &'t str {
        self.text.get(..self.header_end).unwrap_or_default()
    }

    /// The base64url payload (claims) part.
    pub fn payload_b64(&self) -> &'t str {
        self.text
            .get(self.header_end + 1..self.payload_end)
            .unwrap_or_default()
    }

    /// The base64url signature part; empty for an unsigned token.
    pub fn signature_b64(&self) -> &'t str {
        self.text.get(self.payload_end + 1..).unwrap_or_default()
    }

    /// What was signed: the ASCII bytes `header.payload`.
    pub fn signing_input(&self) -> &'t [u8] {
        self.text
            .as_bytes()
            .get(..self.payload_end)
            .unwrap_or_default()
    }

    /// Decodes the payload into the front of `buf` (for the caller's claims parser).
    pub fn decode_payload<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], TokenError> {
        let part = self.payload_b64().as_bytes();
        let need = b64::decoded_len(part.len())
            .ok_or(TokenError::Malformed("payload is not valid base64url"))?;
        if need > buf.len() {
            return Err(TokenError::TooLarge {
                len: need,
                max: buf.len(),
            });
        }
        b64::decode_into(part, buf).ok_or(TokenError::Malformed("payload is not valid base64url"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_parts() {
        let t = Token::split("aGVhZA.cGF5.c2ln", 100).unwrap();
        assert_eq!(t.header_b64(), "aGVhZA");
        assert_eq!(t.payload_b64(), "cGF5");
        assert_eq!(t.signature_b64(), "c2ln");
        assert_eq!(t.signing_input(), b"aGVhZA.cGF5");
        let mut buf = [0u8; 8];
        assert_eq!(t.decode_payload(&mut buf), Ok(&b"pay"[..]));
        assert!(
            !format!("{t:?}").contains("aGVhZA"),
            "no token text in Debug"
        );
        let mut tiny = [0u8; 2];
        assert!(matches!(
            t.decode_payload(&mut tiny),
            Err(TokenError::TooLarge { len: 3, max: 2 })
        ));
    }

    #[test]
    fn empty_signature_parses() {
        let t = Token::split("aGVhZA.cGF5.", 100).unwrap();
        assert_eq!(t.signature_b64(), "");
        assert_eq!(t.signing_input(), b"aGVhZA.cGF5");
    }

    #[test]
    fn refusals() {
        use TokenError::*;
        assert_eq!(Token::split("a.b.c", 4), Err(TooLarge { len: 5, max: 4 }));
        assert_eq!(Token::split("a.b.c.d.e", 100), Err(Encrypted));
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a.b.c.d.e.f",
            ".b.c",
            "a..c",
            "..",
            "a.b=.c",
            "a=.b.c",
            "a.b.c=",
            "a+.b.c",
            "a/.b.c",
            "a.b.c ",
            " a.b.c",
            "a.b.\u{e9}",
        ] {
            assert!(
                matches!(Token::split(bad, 100), Err(Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
