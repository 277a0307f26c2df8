//! The three error enums: [`TokenError`] (the token's shape and header, per request),
//! [`VerifyError`] (a key and a signature, per request) and [`KeyError`] (key material
//! and discovery documents, at configuration or refresh time). The per-request ones are
//! `Copy` and allocation-free; their `Display` is written for logs.
//!
//! The caller maps them to APIM's reasons: [`VerifyError::BadSignature`] →
//! `TokenSignatureInvalid`, no candidate key ([`VerifyError::NoKey`]) →
//! `TokenSignatureKeyNotFound`, every
//! [`TokenError`] → `JwtInvalid`.

use std::fmt;

use crate::alg::Alg;
use crate::key::KeyType;

/// Why a token was refused before any key was tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The token (or its decoded header) is longer than the limit.
    TooLarge { len: usize, max: usize },
    /// Not a compact JWS: wrong number of parts, bad base64url, header not a JSON object…
    Malformed(&'static str),
    /// A JWE (five parts, or a header with `enc`/`zip`): encrypted tokens are not supported.
    Encrypted,
    /// `alg: none`: unsigned tokens are always refused.
    Unsigned,
    /// An `alg` this crate does not verify.
    UnknownAlg,
    /// A `crit` header member: no extension is understood, so any is refused (RFC 7515 §4.1.11).
    Critical,
}

/// Why a signature did not verify with one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The key cannot be used with the token's alg (alg/key-type confusion, wrong curve,
    /// or the key is pinned to another alg). Nothing was computed.
    KeyMismatch {
        alg: Alg,
        key: KeyType,
        pinned: Option<Alg>,
    },
    /// The signature is not valid for this key (wrong, tampered, empty or oversized).
    BadSignature,
    /// No key of the set matches the token's `kid` and `alg` ([`crate::KeySet::verify`]).
    NoKey,
}

/// What is wrong with key material or a key-discovery document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not JSON, or not the expected JSON shape.
    Json(String),
    /// A required member is absent or not a string.
    Missing(&'static str),
    /// A member is not valid base64url (or base64, for `x5c` and PEM).
    Base64(&'static str),
    UnsupportedKeyType(String),
    UnsupportedCurve(String),
    UnsupportedAlg(String),
    /// `use` is not `sig`, `key_ops` lacks `verify`, or the `alg` is for encryption.
    NotForSignatures,
    /// The key's `alg` does not fit its type (say `ES256` on an RSA key).
    AlgMismatch {
        alg: Alg,
        key: KeyType,
    },
    /// RSA moduli under 2048 bits are refused (ring's minimum, and NIST's).
    RsaTooSmall {
        bits: usize,
    },
    RsaTooLarge {
        bits: usize,
    },
    /// The public exponent must be odd, at least 3 and below 2^33 (ring's limits).
    RsaExponent,
    /// The modulus must be odd.
    RsaModulus,
    /// An EC point of the wrong length or form (only uncompressed points are accepted).
    EcPoint(&'static str),
    /// An HMAC secret shorter than [`crate::MIN_HMAC_SECRET_LEN`].
    HmacTooShort {
        len: usize,
    },
    /// Bad DER in a certificate or public key.
    Der(&'static str),
    /// Bad PEM framing or an unexpected PEM label.
    Pem(&'static str),
    /// A JWKS in which no key is usable for signatures; `first` says why the first was skipped.
    NoUsableKeys {
        skipped: usize,
        first: Option<Box<KeyError>>,
    },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::TooLarge { len, max } => {
                write!(f, "token too large: {len} bytes, limit {max}")
            }
            TokenError::Malformed(what) => write!(f, "malformed token: {what}"),
            TokenError::Encrypted => f.write_str("encrypted tokens (JWE) are not supported"),
            TokenError::Unsigned => f.write_str("unsigned token (alg none) refused"),
            TokenError::UnknownAlg => f.write_str("unsupported signature algorithm"),
            TokenError::Critical => f.write_str("token header has a crit member; refused"),
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::KeyMismatch {
                alg,
                key,
                pinned: Some(pinned),
            } => write!(f, "token alg {alg} but the {key} key is pinned to {pinned}"),
            VerifyError::KeyMismatch { alg, key, .. } => {
                write!(f, "token alg {alg} cannot be verified with a {key} key")
            }
            VerifyError::BadSignature => f.write_str("signature invalid"),
            VerifyError::NoKey => f.write_str("no key for the token's kid and alg"),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Json(e) => write!(f, "invalid JSON: {e}"),
            KeyError::Missing(m) => write!(f, "member {m:?} missing or not a string"),
            KeyError::Base64(m) => write!(f, "member {m:?} is not valid base64"),
            KeyError::UnsupportedKeyType(k) => write!(f, "unsupported key type {k:?}"),
            KeyError::UnsupportedCurve(c) => write!(f, "unsupported curve {c:?}"),
            KeyError::UnsupportedAlg(a) => write!(f, "unsupported alg {a:?}"),
            KeyError::NotForSignatures => f.write_str("key is not for signatures"),
            KeyError::AlgMismatch { alg, key } => {
                write!(f, "alg {alg} does not fit a {key} key")
            }
            KeyError::RsaTooSmall { bits } => {
                write!(
                    f,
                    "RSA key of {bits} bits refused: at least 2048 are required"
                )
            }
            KeyError::RsaTooLarge { bits } => {
                write!(
                    f,
                    "RSA key of {bits} bits refused: at most 8192 are supported"
                )
            }
            KeyError::RsaExponent => f.write_str("RSA public exponent out of range"),
            KeyError::RsaModulus => f.write_str("RSA modulus is not odd"),
            KeyError::EcPoint(what) => write!(f, "bad EC public key: {what}"),
            KeyError::HmacTooShort { len } => write!(
                f,
                "HMAC secret of {len} bytes refused: at least {} are required",
                crate::key::MIN_HMAC_SECRET_LEN
            ),
            KeyError::Der(what) => write!(f, "bad DER: {what}"),
            KeyError::Pem(what) => write!(f, "bad PEM: {what}"),
            KeyError::NoUsableKeys { skipped, first } => {
                write!(f, "no usable signature key ({skipped} skipped")?;
                match first {
                    Some(e) => write!(f, "; first: {e})"),
                    None => f.write_str(")"),
                }
            }
        }
    }
}

impl std::error::Error for TokenError {}
impl std::error::Error for VerifyError {}
impl std::error::Error for KeyError {}
