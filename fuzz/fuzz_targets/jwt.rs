//! Fuzz target: arbitrary bytes as a JWT through the per-request path — `Token::split`,
//! `Header::parse` into a stack buffer, candidate choice and `verify` against fixed keys
//! of every type (an HMAC secret and the RSA, P-256, P-521 and Ed25519 test keys) — and
//! the same bytes as key material: a JWKS, a PEM text, a DER certificate and a DER
//! SubjectPublicKeyInfo. Every step must return Ok or an error, never panic; an accepted
//! split must reassemble to the input.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate_jwt::{verify, Header, HeaderBuf, Key, KeySet, Token, MAX_HEADER_LEN};

const KEY_RSA: &str = include_str!("../../core/jwt/tests/keys/rsa2048-a.pub.pem");
const KEY_P256: &str = include_str!("../../core/jwt/tests/keys/ec-p256.pub.pem");
const KEY_P521: &str = include_str!("../../core/jwt/tests/keys/ec-p521.pub.pem");
const KEY_ED25519: &str = include_str!("../../core/jwt/tests/keys/ed25519.pub.pem");

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = vec![Key::symmetric(b"fuzz-secret, 16+ bytes")
            .unwrap()
            .with_kid("hmac")];
        for (kid, pem) in [
            ("rsa", KEY_RSA),
            ("p256", KEY_P256),
            ("p521", KEY_P521),
            ("ed", KEY_ED25519),
        ] {
            keys.push(Key::from_pem(pem).unwrap().with_kid(kid));
        }
        KeySet::new(keys)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(token) = Token::split(text, 16 * 1024) {
            let whole = format!(
                "{}.{}.{}",
                token.header_b64(),
                token.payload_b64(),
                token.signature_b64()
            );
            assert_eq!(whole, text);
            assert_eq!(
                token.signing_input().len() + 1 + token.signature_b64().len(),
                text.len()
            );
            let mut buf: HeaderBuf = [0; MAX_HEADER_LEN];
            if let Ok(header) = Header::parse(&token, &mut buf) {
                let set = keys();
                let _ = set.verify(&header, &token);
                for key in &set.keys {
                    let _ = verify(header.alg, key, &token);
                }
            }
            let mut payload = [0u8; 16 * 1024];
            let _ = token.decode_payload(&mut payload);
        }
        let _ = Key::from_pem(text);
    }
    if let Ok(set) = KeySet::from_jwks(data) {
        assert!(!set.keys.is_empty());
    }
    let _ = Key::from_der_certificate(data);
    let _ = Key::from_spki_der(data);
});
