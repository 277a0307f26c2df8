//! Signature verification of one token with one key. The key must fit the alg (no
//! alg/key-type confusion, no curve swap, no pinned-alg override) before anything is
//! computed; the signature is decoded into a stack buffer. ring does HMAC (constant-time
//! compare), RSA PKCS#1 v1.5 and PSS (2048–8192 bits), ECDSA P-256/P-384 and Ed25519;
//! p521 does ES512, because ring has no P-521. Nothing here allocates, except inside
//! ring's RSA arithmetic.

use p521::ecdsa::signature::Verifier;
use ring::hmac;
use ring::signature::{self as sig, RsaParameters, UnparsedPublicKey, VerificationAlgorithm};

use crate::alg::Alg;
use crate::b64;
use crate::error::VerifyError;
use crate::key::{Curve, Key, KeyKind};
use crate::token::Token;

/// The longest signature accepted: an RSA-8192 signature.
pub const MAX_SIGNATURE_LEN: usize = 1024;

/// Verifies `token`'s signature over its signing input with `key`, as `alg` (the
/// header's alg). [`VerifyError::KeyMismatch`] when the key cannot be used for `alg`,
/// [`VerifyError::BadSignature`] when the signature is empty, oversized, badly encoded
/// or wrong. Never panics.
pub fn verify(alg: Alg, key: &Key, token: &Token<'_>) -> Result<(), VerifyError> {
    key.check(alg)?;
    let mut buf = [0u8; MAX_SIGNATURE_LEN];
    let signature = b64::decode_into(token.signature_b64().as_bytes(), &mut buf)
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::BadSignature)?;
    let message = token.signing_input();
    let ok = match key.kind() {
        KeyKind::Hmac(secret) => secret
            .for_alg(alg)
            .is_some_and(|k| hmac::verify(k, message, signature).is_ok()),
        KeyKind::Rsa(public) => {
            rsa_params(alg).is_some_and(|p| public.verify(p, message, signature).is_ok())
        }
        KeyKind::Ec {
            curve: Curve::P256,
            point,
        } => ring_verify(&sig::ECDSA_P256_SHA256_FIXED, point, message, signature),
        KeyKind::Ec {
            curve: Curve::P384,
            point,
        } => ring_verify(&sig::ECDSA_P384_SHA384_FIXED, point, message, signature),
        KeyKind::Ec {
            curve: Curve::P521,
            point,
        } => p521_verify(point, message, signature),
        KeyKind::Ed25519(public) => ring_verify(&sig::ED25519, public, message, signature),
    };
    if ok {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

fn rsa_params(alg: Alg) -> Option<&'static RsaParameters> {
    Some(match alg {
        Alg::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn ring_verify(
    algorithm: &'static dyn VerificationAlgorithm,
    public: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    UnparsedPublicKey::new(algorithm, public)
        .verify(message, signature)
        .is_ok()
}

/// ES512: SHA-512 and P-521, signature `r || s` of 66 bytes each.
fn p521_verify(point: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = p521::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
        return false;
    };
    let Ok(signature) = p521::ecdsa::Signature::from_slice(signature) else {
        return false;
    };
    key.verify(message, &signature).is_ok()
}
