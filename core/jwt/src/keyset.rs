//! A set of verification keys — a JWKS or APIM's configured `issuer-signing-keys` — and
//! the choice of which keys to try for a token. Keys that are not for signatures or
//! cannot be used are skipped and listed, so one odd key does not break a whole set.

use serde_json::Value;

use crate::alg::Alg;
use crate::error::{KeyError, VerifyError};
use crate::header::Header;
use crate::key::Key;
use crate::token::Token;
use crate::verify::verify;

/// The keys a token may be verified with.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    pub keys: Vec<Key>,
    /// Keys of a JWKS left out, and why (for a log line at load time).
    pub skipped: Vec<SkippedKey>,
}

/// A JWKS entry that is not in [`KeySet::keys`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    pub kid: Option<String>,
    pub reason: KeyError,
}

impl KeySet {
    /// A set of the given keys.
    pub fn new(keys: Vec<Key>) -> KeySet {
        KeySet {
            keys,
            skipped: Vec::new(),
        }
    }

    /// Parses a JWKS (`{"keys": [...]}`). Keys that are not for signatures, of an unknown
    /// type or curve, or invalid (say RSA-1024) are skipped into [`KeySet::skipped`];
    /// [`KeyError::NoUsableKeys`] when none is left.
    pub fn from_jwks(json: &[u8]) -> Result<KeySet, KeyError> {
        let doc: Value = serde_json::from_slice(json).map_err(|e| KeyError::Json(e.to_string()))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeyError::Json("a JWKS is an object with a \"keys\" array".into()))?;
        let mut set = KeySet::default();
        for jwk in entries {
            match Key::from_jwk(jwk) {
                Ok(key) => set.keys.push(key),
                Err(reason) => set.skipped.push(SkippedKey {
                    kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
                    reason,
                }),
            }
        }
        if set.keys.is_empty() {
            return Err(KeyError::NoUsableKeys {
                skipped: set.skipped.len(),
                first: set.skipped.first().map(|s| Box::new(s.reason.clone())),
            });
        }
        Ok(set)
    }

    /// The keys to try for a token. With a `kid`: the keys with that kid (whatever their
    /// type, so that [`verify`] can report an alg/key mismatch) and the keys without any
    /// kid that support `alg` (a configured key that names no kid claims no token).
    /// Without a `kid`: every key that supports `alg`. Empty means "key not found".
    pub fn candidates<'s>(
        &'s self,
        kid: Option<&'s str>,
        alg: Alg,
    ) -> impl Iterator<Item = &'s Key> + 's {
        self.keys
            .iter()
            .filter(move |key| is_candidate(key, kid, alg))
    }

    /// True when some key has this kid (to tell "unknown kid" from "bad signature").
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Verifies `token` with each candidate until one accepts it, returning that key.
    /// Errors: [`VerifyError::NoKey`] when there is no candidate, otherwise
    /// [`VerifyError::BadSignature`] if any candidate computed and rejected the
    /// signature, else the first [`VerifyError::KeyMismatch`].
    pub fn verify(&self, header: &Header<'_>, token: &Token<'_>) -> Result<&Key, VerifyError> {
        let mut error = VerifyError::NoKey;
        let candidates = self
            .keys
            .iter()
            .filter(|key| is_candidate(key, header.kid, header.alg));
        for key in candidates {
            match verify(header.alg, key, token) {
                Ok(()) => return Ok(key),
                Err(e @ VerifyError::BadSignature) => error = e,
                Err(e) if error == VerifyError::NoKey => error = e,
                Err(_) => {}
            }
        }
        Err(error)
    }
}

/// See [`KeySet::candidates`].
fn is_candidate(key: &Key, kid: Option<&str>, alg: Alg) -> bool {
    match (kid, key.kid.as_deref()) {
        (Some(wanted), Some(has)) => wanted == has,
        (_, None) | (None, _) => key.supports(alg),
    }
}
