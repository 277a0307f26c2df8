//! Token creation for tests and benchmarks of other crates (cargo feature `sign`, off by
//! default; the gateway never signs). [`sign`] builds a compact JWS; [`SigningKey`]
//! loads PKCS#8 keys or generates them and gives their public JWK; [`fixture`] hands out
//! the checked-in test keys (RSA keys cannot be generated with ring).

mod fixtures;
mod signing_key;

use std::fmt;

use ring::rand::SystemRandom;
use serde_json::{Map, Value};

use crate::alg::Alg;
use crate::b64;
use crate::key::KeyType;

pub use fixtures::{fixture, FIXTURES};
pub use signing_key::SigningKey;

/// Why a token could not be signed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The key cannot sign this alg.
    KeyMismatch { alg: Alg, key: KeyType },
    /// `header_extra_json` is not a JSON object.
    Header(String),
    /// The crypto library refused to sign.
    Crypto,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::KeyMismatch { alg, key } => write!(f, "a {key} key cannot sign {alg}"),
            SignError::Header(e) => write!(f, "header_extra_json: {e}"),
            SignError::Crypto => f.write_str("signing failed"),
        }
    }
}

impl std::error::Error for SignError {}

/// A compact JWS of `payload_json` (used verbatim) signed with `key` as `alg`. The header
/// is `{"alg": alg}` merged with the members of `header_extra_json` (a JSON object, or
/// empty); its members win, so tests can write any `alg`, `kid`, `crit`, … they need.
pub fn sign(
    alg: Alg,
    key: &SigningKey,
    header_extra_json: &str,
    payload_json: &str,
) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(alg.name()));
    if !header_extra_json.trim().is_empty() {
        let extra: Map<String, Value> = serde_json::from_str(header_extra_json)
            .map_err(|e| SignError::Header(e.to_string()))?;
        header.extend(extra);
    }
    let header = Value::Object(header).to_string();
    let mut token = b64::encode(header.as_bytes());
    token.push('.');
    token.push_str(&b64::encode(payload_json.as_bytes()));
    let signature = key.sign_bytes(alg, token.as_bytes(), &SystemRandom::new())?;
    token.push('.');
    token.push_str(&b64::encode(&signature));
    Ok(token)
}
