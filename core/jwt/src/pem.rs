//! PEM framing (RFC 7468): the first `-----BEGIN <label>-----` … `-----END <label>-----`
//! block of a text, its label and its DER bytes. Not for encrypted or legacy
//! `Proc-Type` PEM.

use crate::b64;
use crate::error::KeyError;

/// One PEM block.
#[derive(Debug)]
pub(crate) struct Pem<'a> {
    pub label: &'a str,
    pub der: Vec<u8>,
}

/// Decodes the first PEM block in `text`.
pub(crate) fn decode(text: &str) -> Result<Pem<'_>, KeyError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let start = text.find(BEGIN).ok_or(KeyError::Pem("no BEGIN line"))? + BEGIN.len();
    let after_begin = text.get(start..).unwrap_or_default();
    let label_len = after_begin
        .find(DASHES)
        .ok_or(KeyError::Pem("unterminated BEGIN line"))?;
    let label = after_begin.get(..label_len).unwrap_or_default();
    if label.contains('\n') {
        return Err(KeyError::Pem("unterminated BEGIN line"));
    }
    let body_and_rest = after_begin
        .get(label_len + DASHES.len()..)
        .unwrap_or_default();
    let end_line = format!("-----END {label}-----");
    let body_len = body_and_rest
        .find(&end_line)
        .ok_or(KeyError::Pem("no matching END line"))?;
    let body = body_and_rest.get(..body_len).unwrap_or_default();
    let der = b64::decode_standard(body).ok_or(KeyError::Base64("PEM body"))?;
    if der.is_empty() {
        return Err(KeyError::Pem("empty body"));
    }
    Ok(Pem { label, der })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let p =
            decode("junk\n-----BEGIN PUBLIC KEY-----\naGk=\n-----END PUBLIC KEY-----\n").unwrap();
        assert_eq!((p.label, p.der.as_slice()), ("PUBLIC KEY", &b"hi"[..]));
        for bad in [
            "",
            "aGk=",
            "-----BEGIN PUBLIC KEY-----\naGk=\n",
            "-----BEGIN PUBLIC KEY-----\naGk=\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----\na-Gk\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY\n-----END PUBLIC KEY-----",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }
}
