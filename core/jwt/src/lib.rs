//! JSON Web Token signature verification for APIM's `validate-jwt` policy: pure, no I/O,
//! no async. The policy engine calls it per request; fetching OpenID configurations and
//! JWKS, and checking claims (`exp`, `nbf`, `aud`, `iss`, required claims), are the
//! caller's jobs.
//!
//! Per request: [`Token::split`] → [`Header::parse`] (into a stack [`HeaderBuf`]) →
//! [`KeySet::candidates`] / [`KeySet::verify`] → [`verify`]. That path does not allocate
//! when the token is accepted (ring's RSA arithmetic allocates internally; serde_json
//! boxes its error for a malformed header) and never panics, whatever the input.
//!
//! What is checked and refused:
//! - shape: exactly three base64url parts without padding (`=`, `+`, `/` and whitespace
//!   refused); five parts (JWE) → [`TokenError::Encrypted`]; a length limit chosen by
//!   the caller → [`TokenError::TooLarge`]; the decoded header at most
//!   [`MAX_HEADER_LEN`] bytes and a JSON object;
//! - header: `alg: none` in any case → [`TokenError::Unsigned`]; any `crit` →
//!   [`TokenError::Critical`]; `enc`/`zip` → [`TokenError::Encrypted`]; algs other than
//!   HS/RS/PS/ES 256/384/512 and EdDSA (Ed25519) → [`TokenError::UnknownAlg`]. Keys named
//!   in the token (`jwk`, `jku`, `x5u`, `x5c`) are never used;
//! - key choice: the token's alg must fit the key's type — an HMAC alg never uses an RSA
//!   or EC public key as a secret, ES256 needs a P-256 key, ES384 P-384, ES512 P-521 —
//!   and a key pinned to an alg (JWK `alg`) verifies only that alg
//!   ([`VerifyError::KeyMismatch`]);
//! - keys: HMAC secrets of at least 16 bytes, RSA 2048–8192 bits with a sane exponent, EC points validated on their curve,
//!   JWKs with `use` other than `sig` or `key_ops` without `verify` skipped, PEM/X.509
//!   read by a small bounds-checked DER reader (certificates are key containers: their
//!   signatures, dates and chains are not checked).
//!
//! ring does HMAC (constant-time comparison), RSA PKCS#1 v1.5 and PSS, ECDSA P-256/P-384
//! and Ed25519; the RustCrypto `p521` crate does ES512, because ring has no P-521.
//!
//! With the `sign` feature, the `sign` module creates tokens and keys for other crates'
//! tests and benchmarks.
#![forbid(unsafe_code)]

mod alg;
mod b64;
mod der;
mod error;
mod header;
mod jwk;
mod key;
mod keyset;
mod openid;
mod pem;
mod spki;
mod token;
mod verify;

#[cfg(feature = "sign")]
pub mod sign;

pub use alg::{Alg, Family};
pub use error::{KeyError, TokenError, VerifyError};
pub use header::{Header, HeaderBuf, MAX_HEADER_LEN};
pub use key::{
    Curve, HmacKey, Key, KeyKind, KeyType, MAX_RSA_BITS, MIN_HMAC_SECRET_LEN, MIN_RSA_BITS,
};
pub use keyset::{KeySet, SkippedKey};
pub use openid::OpenIdConfig;
pub use token::Token;
pub use verify::{verify, MAX_SIGNATURE_LEN};
