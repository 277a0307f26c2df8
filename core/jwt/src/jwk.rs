//! One JSON Web Key (RFC 7517, RFC 7518 §6, RFC 8037) to a [`Key`]: `kty` RSA, EC, OKP
//! (Ed25519) and oct; `use` must be absent or `sig`, `key_ops` (when present) must allow
//! `verify`; `x5c` supplies the key when the type's own members are absent. Private
//! members (`d`, …) are ignored.

use serde_json::{Map, Value};

use crate::alg::Alg;
use crate::b64;
use crate::error::KeyError;
use crate::key::{Curve, Key, KeyType};

type Object = Map<String, Value>;

impl Key {
    /// A key from a JWK object.
    pub fn from_jwk(jwk: &Value) -> Result<Key, KeyError> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| KeyError::Json("a JWK must be a JSON object".into()))?;
        match obj.get("use") {
            None => {}
            Some(Value::String(u)) if u == "sig" => {}
            Some(_) => return Err(KeyError::NotForSignatures),
        }
        if let Some(ops) = obj.get("key_ops") {
            let ops = ops
                .as_array()
                .ok_or_else(|| KeyError::Json("key_ops must be an array".into()))?;
            if !ops.iter().any(|op| op == "verify") {
                return Err(KeyError::NotForSignatures);
            }
        }
        let alg = match optional_str(obj, "alg")? {
            None => None,
            Some(name) => match Alg::parse(name) {
                Some(alg) => Some(alg),
                None if is_encryption_alg(name) => return Err(KeyError::NotForSignatures),
                None => return Err(KeyError::UnsupportedAlg(name.into())),
            },
        };
        let kty = optional_str(obj, "kty")?.ok_or(KeyError::Missing("kty"))?;
        let mut key = match kty {
            "RSA" => rsa(obj)?,
            "EC" => ec(obj)?,
            "OKP" => okp(obj)?,
            "oct" => {
                let k = member(obj, "k")?.ok_or(KeyError::Missing("k"))?;
                Key::symmetric(&k)?
            }
            other => return Err(KeyError::UnsupportedKeyType(other.into())),
        };
        key.kid = optional_str(obj, "kid")?.map(str::to_owned);
        match alg {
            Some(alg) => key.with_alg(alg),
            None => Ok(key),
        }
    }
}

fn rsa(obj: &Object) -> Result<Key, KeyError> {
    match (optional_str(obj, "n")?, optional_str(obj, "e")?) {
        (Some(n), Some(e)) => Key::rsa_components(n, e),
        (None, None) => from_x5c(obj, |t| t == KeyType::Rsa)?.ok_or(KeyError::Missing("n")),
        (None, Some(_)) => Err(KeyError::Missing("n")),
        (Some(_), None) => Err(KeyError::Missing("e")),
    }
}

fn ec(obj: &Object) -> Result<Key, KeyError> {
    let crv = optional_str(obj, "crv")?.ok_or(KeyError::Missing("crv"))?;
    let curve = match crv {
        "P-256" => Curve::P256,
        "P-384" => Curve::P384,
        "P-521" => Curve::P521,
        other => return Err(KeyError::UnsupportedCurve(other.into())),
    };
    match (member(obj, "x")?, member(obj, "y")?) {
        (Some(x), Some(y)) => Key::ec_coordinates(curve, &x, &y),
        (None, None) => from_x5c(obj, |t| t == KeyType::Ec(curve))?.ok_or(KeyError::Missing("x")),
        (None, Some(_)) => Err(KeyError::Missing("x")),
        (Some(_), None) => Err(KeyError::Missing("y")),
    }
}

fn okp(obj: &Object) -> Result<Key, KeyError> {
    match optional_str(obj, "crv")?.ok_or(KeyError::Missing("crv"))? {
        "Ed25519" => {}
        "X25519" | "X448" => return Err(KeyError::NotForSignatures),
        other => return Err(KeyError::UnsupportedCurve(other.into())),
    }
    match member(obj, "x")? {
        Some(x) => Key::ed25519(&x),
        None => from_x5c(obj, |t| t == KeyType::Ed25519)?.ok_or(KeyError::Missing("x")),
    }
}

/// The key of the first `x5c` certificate, when there is one; it must be of the JWK's type.
fn from_x5c(obj: &Object, fits: impl Fn(KeyType) -> bool) -> Result<Option<Key>, KeyError> {
    let Some(chain) = obj.get("x5c") else {
        return Ok(None);
    };
    let first = chain
        .as_array()
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Json("x5c must be a non-empty array of strings".into()))?;
    let der = b64::decode_standard(first).ok_or(KeyError::Base64("x5c"))?;
    let key = Key::from_der_certificate(&der)?;
    if !fits(key.key_type()) {
        return Err(KeyError::Der(
            "the x5c certificate's key is not of the JWK's kty/crv",
        ));
    }
    Ok(Some(key))
}

/// A string member, `None` when absent; an error when present but not a string.
fn optional_str<'a>(obj: &'a Object, name: &'static str) -> Result<Option<&'a str>, KeyError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::Missing(name)),
    }
}

/// A base64url member, decoded.
fn member(obj: &Object, name: &'static str) -> Result<Option<Vec<u8>>, KeyError> {
    optional_str(obj, name)?
        .map(|text| b64::decode_member(text).ok_or(KeyError::Base64(name)))
        .transpose()
}

/// JWE key-management algs (RFC 7518 §4), which mark a key as not for signatures.
fn is_encryption_alg(name: &str) -> bool {
    name == "RSA1_5"
        || name == "dir"
        || name.starts_with("RSA-OAEP")
        || name.starts_with("ECDH-ES")
        || name.starts_with("PBES2-")
        || (name.starts_with('A') && name.ends_with("KW"))
}
