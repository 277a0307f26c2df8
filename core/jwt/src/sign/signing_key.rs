//! A private key for [`super::sign`]: HMAC secret, RSA (ring `RsaKeyPair`, PKCS#8 only),
//! ECDSA P-256/P-384 (ring), Ed25519 (ring) or P-521 (p521, because ring has none), with
//! its public half as a JWK or a verification [`Key`].

use p521::ecdsa::signature::Signer;
use p521::elliptic_curve::rand_core::OsRng;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{json, Value};

use super::SignError;
use crate::alg::{Alg, Family};
use crate::b64;
use crate::der::{self, PrivateKeyInfo};
use crate::error::KeyError;
use crate::key::{Curve, Key, KeyType};
use crate::pem;

/// A key that can sign tokens.
pub struct SigningKey {
    inner: Inner,
}

enum Inner {
    Hmac(Vec<u8>),
    Rsa(RsaKeyPair),
    Ecdsa { curve: Curve, pair: EcdsaKeyPair },
    Ed25519(Ed25519KeyPair),
    P521(p521::ecdsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.key_type())
    }
}

fn ring_ecdsa(curve: Curve) -> Option<&'static sig::EcdsaSigningAlgorithm> {
    match curve {
        Curve::P256 => Some(&sig::ECDSA_P256_SHA256_FIXED_SIGNING),
        Curve::P384 => Some(&sig::ECDSA_P384_SHA384_FIXED_SIGNING),
        Curve::P521 => None,
    }
}

fn rejected(what: &'static str) -> impl FnOnce(ring::error::KeyRejected) -> KeyError {
    move |_| KeyError::Der(what)
}

impl SigningKey {
    /// An HMAC secret.
    pub fn hmac(secret: &[u8]) -> SigningKey {
        SigningKey {
            inner: Inner::Hmac(secret.to_vec()),
        }
    }

    /// A PKCS#8 private key (DER): RSA, EC P-256/P-384/P-521 or Ed25519.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let inner = match der::parse_pkcs8(der)? {
            PrivateKeyInfo::Rsa => {
                Inner::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected("RSA PKCS#8 rejected"))?)
            }
            PrivateKeyInfo::Ed25519 => Inner::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(rejected("Ed25519 PKCS#8 rejected"))?,
            ),
            PrivateKeyInfo::Ec { curve, scalar } => match ring_ecdsa(curve) {
                Some(alg) => Inner::Ecdsa {
                    curve,
                    pair: EcdsaKeyPair::from_pkcs8(alg, der, &rng)
                        .map_err(rejected("EC PKCS#8 rejected"))?,
                },
                None => Inner::P521(
                    p521::ecdsa::SigningKey::from_slice(scalar)
                        .map_err(|_| KeyError::Der("P-521 private key rejected"))?,
                ),
            },
        };
        Ok(SigningKey { inner })
    }

    /// A `PRIVATE KEY` PEM (PKCS#8).
    pub fn from_pkcs8_pem(text: &str) -> Result<SigningKey, KeyError> {
        let block = pem::decode(text)?;
        if block.label != "PRIVATE KEY" {
            return Err(KeyError::Pem("expected a PKCS#8 PRIVATE KEY"));
        }
        SigningKey::from_pkcs8_der(&block.der)
    }

    /// A fresh random key for `alg`: 64-byte HMAC secret, EC key on the alg's curve or an
    /// Ed25519 key. RSA cannot be generated with ring: load a fixture instead.
    pub fn generate(alg: Alg) -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let fail = |_| KeyError::Der("key generation failed");
        let inner = match alg.family() {
            Family::Hmac => {
                let mut secret = vec![0u8; 64];
                rng.fill(&mut secret).map_err(fail)?;
                Inner::Hmac(secret)
            }
            Family::RsaPkcs1 | Family::RsaPss => {
                return Err(KeyError::UnsupportedAlg(format!(
                    "{alg}: ring cannot generate RSA keys; use fixture(\"rsa2048-a.pem\")"
                )))
            }
            Family::EdDsa => {
                let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(fail)?;
                Inner::Ed25519(
                    Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(rejected("Ed25519"))?,
                )
            }
            Family::Ecdsa => match alg {
                Alg::ES256 | Alg::ES384 => {
                    let curve = if alg == Alg::ES256 {
                        Curve::P256
                    } else {
                        Curve::P384
                    };
                    let algorithm = ring_ecdsa(curve).ok_or(KeyError::Der("curve"))?;
                    let doc = EcdsaKeyPair::generate_pkcs8(algorithm, &rng).map_err(fail)?;
                    Inner::Ecdsa {
                        curve,
                        pair: EcdsaKeyPair::from_pkcs8(algorithm, doc.as_ref(), &rng)
                            .map_err(rejected("EC"))?,
                    }
                }
                _ => Inner::P521(p521::ecdsa::SigningKey::random(&mut OsRng)),
            },
        };
        Ok(SigningKey { inner })
    }

    /// What the key is.
    pub fn key_type(&self) -> KeyType {
        match &self.inner {
            Inner::Hmac(_) => KeyType::Hmac,
            Inner::Rsa(_) => KeyType::Rsa,
            Inner::Ecdsa { curve, .. } => KeyType::Ec(*curve),
            Inner::Ed25519(_) => KeyType::Ed25519,
            Inner::P521(_) => KeyType::Ec(Curve::P521),
        }
    }

    /// The public JWK (no `kid` or `alg`; add them to the object as needed). For an HMAC
    /// secret: the `oct` JWK, secret included.
    pub fn public_jwk(&self) -> Value {
        match &self.inner {
            Inner::Hmac(secret) => json!({"kty": "oct", "k": b64::encode(secret)}),
            Inner::Rsa(pair) => {
                let c = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                json!({"kty": "RSA", "n": b64::encode(&c.n), "e": b64::encode(&c.e)})
            }
            Inner::Ecdsa { curve, pair } => ec_jwk(*curve, pair.public_key().as_ref()),
            Inner::Ed25519(pair) => json!({
                "kty": "OKP", "crv": "Ed25519", "x": b64::encode(pair.public_key().as_ref())
            }),
            Inner::P521(key) => {
                let public = p521::ecdsa::VerifyingKey::from(key);
                ec_jwk(Curve::P521, public.to_encoded_point(false).as_bytes())
            }
        }
    }

    /// The verification key of this signing key.
    pub fn public_key(&self) -> Result<Key, KeyError> {
        Key::from_jwk(&self.public_jwk())
    }

    /// The raw signature of `message` as `alg`.
    pub(super) fn sign_bytes(
        &self,
        alg: Alg,
        message: &[u8],
        rng: &SystemRandom,
    ) -> Result<Vec<u8>, SignError> {
        let key = self.key_type();
        if !key.fits(alg) {
            return Err(SignError::KeyMismatch { alg, key });
        }
        match &self.inner {
            Inner::Hmac(secret) => {
                let algorithm = match alg {
                    Alg::HS256 => hmac::HMAC_SHA256,
                    Alg::HS384 => hmac::HMAC_SHA384,
                    _ => hmac::HMAC_SHA512,
                };
                let tag = hmac::sign(&hmac::Key::new(algorithm, secret), message);
                Ok(tag.as_ref().to_vec())
            }
            Inner::Rsa(pair) => {
                let padding: &'static dyn sig::RsaEncoding = match alg {
                    Alg::RS256 => &sig::RSA_PKCS1_SHA256,
                    Alg::RS384 => &sig::RSA_PKCS1_SHA384,
                    Alg::RS512 => &sig::RSA_PKCS1_SHA512,
                    Alg::PS256 => &sig::RSA_PSS_SHA256,
                    Alg::PS384 => &sig::RSA_PSS_SHA384,
                    _ => &sig::RSA_PSS_SHA512,
                };
                let mut out = vec![0u8; pair.public().modulus_len()];
                pair.sign(padding, rng, message, &mut out)
                    .map_err(|_| SignError::Crypto)?;
                Ok(out)
            }
            Inner::Ecdsa { pair, .. } => pair
                .sign(rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError::Crypto),
            Inner::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Inner::P521(key) => {
                let signature: p521::ecdsa::Signature =
                    key.try_sign(message).map_err(|_| SignError::Crypto)?;
                Ok(signature.to_bytes().to_vec())
            }
        }
    }
}

/// The EC JWK of an uncompressed point.
fn ec_jwk(curve: Curve, point: &[u8]) -> Value {
    let size = curve.coordinate_len();
    let x = point.get(1..1 + size).unwrap_or_default();
    let y = point.get(1 + size..).unwrap_or_default();
    json!({"kty": "EC", "crv": curve.name(), "x": b64::encode(x), "y": b64::encode(y)})
}
