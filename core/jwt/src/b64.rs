//! Base64 as JOSE uses it: base64url without padding for token parts and JWK members
//! (RFC 7515 §2), standard base64 with padding for `x5c` certificates and PEM bodies.
//! Token parts decode into caller buffers, never onto the heap.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// True when every byte is in the base64url alphabet (`A-Z a-z 0-9 - _`); `=` padding,
/// `+`, `/`, whitespace and anything else make it false.
pub(crate) fn is_url_safe(part: &[u8]) -> bool {
    part.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The exact decoded length of `len` unpadded base64url characters, `None` for a length
/// no valid encoding has (`len % 4 == 1`).
pub(crate) fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        r => Some(len / 4 * 3 + r.saturating_sub(1)),
    }
}

/// Decodes unpadded base64url `part` into the front of `buf`. `None` for bad base64url
/// (padding, the standard alphabet, non-zero trailing bits) or when `buf` is too small.
pub(crate) fn decode_into<'b>(part: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    if decoded_len(part.len())? > buf.len() {
        return None;
    }
    let n = URL_SAFE_NO_PAD.decode_slice(part, buf).ok()?;
    buf.get(..n)
}

/// Decodes a JWK member (base64url). Trailing `=` padding is tolerated here, unlike in
/// tokens: keys come from configuration and discovery documents, not from clients.
pub(crate) fn decode_member(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Decodes standard base64 with padding (`x5c`, PEM), ignoring ASCII whitespace.
pub(crate) fn decode_standard(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// Encodes base64url without padding.
#[cfg(any(test, feature = "sign"))]
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_base64url() {
        let mut buf = [0u8; 8];
        assert_eq!(decode_into(b"aGk", &mut buf), Some(&b"hi"[..]));
        assert_eq!(decode_into(b"aGk=", &mut buf), None, "padding");
        assert_eq!(decode_into(b"+/8", &mut buf), None, "standard alphabet");
        assert_eq!(
            decode_into(b"aGl", &mut buf),
            None,
            "non-zero trailing bits"
        );
        assert_eq!(decode_into(b"a", &mut buf), None, "impossible length");
        assert_eq!(decode_into(b"", &mut buf), Some(&b""[..]));
        assert!(!is_url_safe(b"ab=") && !is_url_safe(b"a+b") && !is_url_safe(b"a/b"));
        assert!(!is_url_safe(b"a b") && is_url_safe(b"Az09-_"));
    }

    #[test]
    fn decodes_exactly_to_the_buffer_size() {
        let bytes = [0xA5u8; 1024];
        let text = encode(&bytes);
        let mut buf = [0u8; 1024];
        assert_eq!(decode_into(text.as_bytes(), &mut buf), Some(&bytes[..]));
        let mut small = [0u8; 1023];
        assert_eq!(decode_into(text.as_bytes(), &mut small), None);
        for len in 0..40 {
            let t = encode(&bytes[..len]);
            assert_eq!(decoded_len(t.len()), Some(len));
        }
    }

    #[test]
    fn members_tolerate_padding() {
        assert_eq!(decode_member("aGk="), Some(b"hi".to_vec()));
        assert_eq!(decode_standard("aG\nk=").as_deref(), Some(&b"hi"[..]));
    }
}
