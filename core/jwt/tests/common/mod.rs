//! Shared by the integration tests: a signing key per alg from the fixtures, a ~300-byte
//! payload, and the per-request path (split → header → verify) in one call.
#![allow(dead_code)]

use tollgate_jwt::sign::{fixture, sign, SigningKey};
use tollgate_jwt::{verify, Alg, Header, HeaderBuf, Key, Token, TokenError, VerifyError};

pub const MAX_TOKEN: usize = 16 * 1024;

/// Claims of a typical Entra ID access token, ~300 bytes.
pub const PAYLOAD: &str = r#"{"aud":"api://orders","iss":"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0","iat":1735689600,"nbf":1735689600,"exp":1735693200,"azp":"5e1f7c1e-3b1d-4c55-9a5a-2f1c0e7d9b21","scp":"orders.read orders.write","sub":"AAAAAAAAAAAAAAAAAAAAAGVpMWhJZ2RhbzN","tid":"72f988bf","ver":"2.0"}"#;

pub const HMAC_SECRET: &[u8] = b"a 64-byte HMAC secret for tests, long enough for HS512 as well!!";

/// The fixture (or fixed secret) that signs `alg` in these tests.
pub fn signing_key(alg: Alg) -> SigningKey {
    let name = match alg {
        Alg::HS256 | Alg::HS384 | Alg::HS512 => return SigningKey::hmac(HMAC_SECRET),
        Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
            "rsa2048-a.pem"
        }
        Alg::ES256 => "ec-p256.pem",
        Alg::ES384 => "ec-p384.pem",
        Alg::ES512 => "ec-p521.pem",
        Alg::EdDSA => "ed25519.pem",
    };
    SigningKey::from_pkcs8_pem(fixture(name)).expect(name)
}

/// A token of `alg` signed with the fixture key, and the verification key.
pub fn token_and_key(alg: Alg) -> (String, Key) {
    let sk = signing_key(alg);
    let token = sign(alg, &sk, r#"{"typ":"JWT","kid":"k1"}"#, PAYLOAD).unwrap();
    (token, sk.public_key().unwrap().with_kid("k1"))
}

/// What the per-request path says about `token` and `key`.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Ok(Alg),
    Token(TokenError),
    Verify(VerifyError),
}

pub fn check(token: &str, key: &Key) -> Outcome {
    let token = match Token::split(token, MAX_TOKEN) {
        Ok(t) => t,
        Err(e) => return Outcome::Token(e),
    };
    let mut buf: HeaderBuf = [0; tollgate_jwt::MAX_HEADER_LEN];
    let header = match Header::parse(&token, &mut buf) {
        Ok(h) => h,
        Err(e) => return Outcome::Token(e),
    };
    match verify(header.alg, key, &token) {
        Ok(()) => Outcome::Ok(header.alg),
        Err(e) => Outcome::Verify(e),
    }
}

/// base64url without padding, for hand-made tokens.
pub fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
