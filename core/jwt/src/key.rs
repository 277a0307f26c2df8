//! A verification key as the verifier uses it: an HMAC secret, an RSA public key, an EC
//! public point or an Ed25519 public key, with an optional `kid` and an optional pinned
//! `alg`. Constructors validate once (RSA size and exponent, EC point on its curve) so
//! verification only has to compute. JWKs are read in `jwk.rs`, PEM and certificates in
//! `spki.rs`.

use std::fmt;

use ring::agreement;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::RsaPublicKeyComponents;

use crate::alg::{Alg, Family};
use crate::b64;
use crate::error::{KeyError, VerifyError};

/// The shortest HMAC secret accepted: 128 bits, the minimum Microsoft.IdentityModel
/// (and so APIM) enforces. RFC 7518 §3.2 asks for the hash size (32 bytes for HS256).
pub const MIN_HMAC_SECRET_LEN: usize = 16;

/// RSA modulus limits, in bits (ring's `RSA_*_2048_8192_*` verifiers).
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 8192;

/// A key usable for verification.
#[derive(Clone, Debug)]
pub struct Key {
    /// The JWK `kid`, matched against the token header's `kid`.
    pub kid: Option<String>,
    /// When set, the key verifies tokens of this alg only. Set with [`Key::with_alg`],
    /// which checks that it fits the key.
    alg: Option<Alg>,
    kind: KeyKind,
}

/// The key material. Only constructors of [`Key`] make one, so its invariants hold:
/// RSA moduli are 2048..=8192 bits and odd, exponents odd in 3..2^33; EC points are
/// uncompressed and on their curve.
#[derive(Clone, Debug)]
pub enum KeyKind {
    /// Boxed: three prepared HMAC keys are ~530 bytes.
    Hmac(Box<HmacKey>),
    /// Big-endian modulus and exponent without leading zeros.
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    /// `point` is SEC1 uncompressed: `0x04 || x || y`.
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519([u8; 32]),
}

/// An HMAC secret, prepared for the three HS algs.
#[derive(Clone)]
pub struct HmacKey {
    hs256: hmac::Key,
    hs384: hmac::Key,
    hs512: hmac::Key,
}

/// The NIST curves of ES256/ES384/ES512.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
}

/// What a key is, for messages and compatibility checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    Hmac,
    Rsa,
    Ec(Curve),
    Ed25519,
}

impl Curve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Bytes per coordinate.
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The only alg that signs with this curve.
    pub fn alg(self) -> Alg {
        match self {
            Curve::P256 => Alg::ES256,
            Curve::P384 => Alg::ES384,
            Curve::P521 => Alg::ES512,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::Hmac => f.write_str("HMAC"),
            KeyType::Rsa => f.write_str("RSA"),
            KeyType::Ec(c) => write!(f, "EC {}", c.name()),
            KeyType::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

impl KeyType {
    /// True when tokens of `alg` can be verified with a key of this type.
    pub fn fits(self, alg: Alg) -> bool {
        match self {
            KeyType::Hmac => alg.family() == Family::Hmac,
            KeyType::Rsa => matches!(alg.family(), Family::RsaPkcs1 | Family::RsaPss),
            KeyType::Ec(curve) => curve.alg() == alg,
            KeyType::Ed25519 => alg == Alg::EdDSA,
        }
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

impl HmacKey {
    /// The prepared key for an HS alg; `None` for any other alg.
    pub(crate) fn for_alg(&self, alg: Alg) -> Option<&hmac::Key> {
        match alg {
            Alg::HS256 => Some(&self.hs256),
            Alg::HS384 => Some(&self.hs384),
            Alg::HS512 => Some(&self.hs512),
            _ => None,
        }
    }
}

impl Key {
    fn new(kind: KeyKind) -> Key {
        Key {
            kid: None,
            alg: None,
            kind,
        }
    }

    /// An HMAC secret (raw bytes; APIM's `issuer-signing-keys` give it base64-encoded),
    /// at least [`MIN_HMAC_SECRET_LEN`] bytes.
    pub fn symmetric(secret: &[u8]) -> Result<Key, KeyError> {
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(KeyError::HmacTooShort { len: secret.len() });
        }
        Ok(Key::new(KeyKind::Hmac(Box::new(HmacKey {
            hs256: hmac::Key::new(hmac::HMAC_SHA256, secret),
            hs384: hmac::Key::new(hmac::HMAC_SHA384, secret),
            hs512: hmac::Key::new(hmac::HMAC_SHA512, secret),
        }))))
    }

    /// An RSA public key from the JWK members `n` and `e` (base64url).
    pub fn rsa_components(n_b64url: &str, e_b64url: &str) -> Result<Key, KeyError> {
        let n = b64::decode_member(n_b64url).ok_or(KeyError::Base64("n"))?;
        let e = b64::decode_member(e_b64url).ok_or(KeyError::Base64("e"))?;
        Key::rsa(&n, &e)
    }

    /// An RSA public key from big-endian modulus and exponent (leading zeros allowed).
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<Key, KeyError> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        let bits = match n.first() {
            Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
            None => 0,
        };
        if bits < MIN_RSA_BITS {
            return Err(KeyError::RsaTooSmall { bits });
        }
        if bits > MAX_RSA_BITS {
            return Err(KeyError::RsaTooLarge { bits });
        }
        if n.last().is_some_and(|b| b & 1 == 0) {
            return Err(KeyError::RsaModulus);
        }
        let e_value = if e.len() <= 5 {
            e.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
        } else {
            0
        };
        if !(3..1 << 33).contains(&e_value) || e_value & 1 == 0 {
            return Err(KeyError::RsaExponent);
        }
        Ok(Key::new(KeyKind::Rsa(RsaPublicKeyComponents {
            n: n.to_vec(),
            e: e.to_vec(),
        })))
    }

    /// An EC public key from its coordinates (each left-padded to the curve's size).
    pub fn ec_coordinates(curve: Curve, x: &[u8], y: &[u8]) -> Result<Key, KeyError> {
        let size = curve.coordinate_len();
        if x.len() > size || y.len() > size {
            return Err(KeyError::EcPoint("coordinate longer than the curve's"));
        }
        let mut point = Vec::with_capacity(1 + 2 * size);
        point.push(0x04);
        point.resize(1 + size - x.len(), 0);
        point.extend_from_slice(x);
        point.resize(1 + 2 * size - y.len(), 0);
        point.extend_from_slice(y);
        Key::ec_point(curve, &point)
    }

    /// An EC public key from a SEC1 point, which must be uncompressed and on the curve.
    pub fn ec_point(curve: Curve, point: &[u8]) -> Result<Key, KeyError> {
        if point.first() != Some(&0x04) {
            return Err(KeyError::EcPoint("only uncompressed points are supported"));
        }
        if point.len() != 1 + 2 * curve.coordinate_len() {
            return Err(KeyError::EcPoint("wrong length for the curve"));
        }
        if !on_curve(curve, point) {
            return Err(KeyError::EcPoint("not a point on the curve"));
        }
        Ok(Key::new(KeyKind::Ec {
            curve,
            point: point.to_vec(),
        }))
    }

    /// An Ed25519 public key (32 bytes).
    pub fn ed25519(public: &[u8]) -> Result<Key, KeyError> {
        let bytes: [u8; 32] = public
            .try_into()
            .map_err(|_| KeyError::EcPoint("an Ed25519 public key is 32 bytes"))?;
        Ok(Key::new(KeyKind::Ed25519(bytes)))
    }

    /// Sets the `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Key {
        self.kid = Some(kid.into());
        self
    }

    /// Pins the key to one alg, which must fit its type.
    pub fn with_alg(mut self, alg: Alg) -> Result<Key, KeyError> {
        let key = self.key_type();
        if !key.fits(alg) {
            return Err(KeyError::AlgMismatch { alg, key });
        }
        self.alg = Some(alg);
        Ok(self)
    }

    /// The pinned alg, if any.
    pub fn alg(&self) -> Option<Alg> {
        self.alg
    }

    /// The key material.
    pub fn kind(&self) -> &KeyKind {
        &self.kind
    }

    /// What the key is.
    pub fn key_type(&self) -> KeyType {
        match &self.kind {
            KeyKind::Hmac(_) => KeyType::Hmac,
            KeyKind::Rsa(_) => KeyType::Rsa,
            KeyKind::Ec { curve, .. } => KeyType::Ec(*curve),
            KeyKind::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// True when this key may verify tokens of `alg`: the type fits and no other alg is pinned.
    pub fn supports(&self, alg: Alg) -> bool {
        self.check(alg).is_ok()
    }

    /// [`Key::supports`], with the refusal spelled out.
    pub fn check(&self, alg: Alg) -> Result<(), VerifyError> {
        let key = self.key_type();
        if key.fits(alg) && self.alg.is_none_or(|pinned| pinned == alg) {
            Ok(())
        } else {
            Err(VerifyError::KeyMismatch {
                alg,
                key,
                pinned: self.alg,
            })
        }
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(zeros..).unwrap_or_default()
}

/// Full public-key validation: P-256 and P-384 through an ephemeral ECDH in ring (which
/// validates the peer point), P-521 through p521's decoding.
fn on_curve(curve: Curve, point: &[u8]) -> bool {
    let ecdh = match curve {
        Curve::P256 => &agreement::ECDH_P256,
        Curve::P384 => &agreement::ECDH_P384,
        Curve::P521 => return p521::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok(),
    };
    let Ok(mine) = agreement::EphemeralPrivateKey::generate(ecdh, &SystemRandom::new()) else {
        return false;
    };
    agreement::agree_ephemeral(
        mine,
        &agreement::UnparsedPublicKey::new(ecdh, point),
        |_| (),
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(top: u8, len: usize) -> Vec<u8> {
        let mut n = vec![0xff; len];
        n[0] = top;
        n
    }

    #[test]
    fn rsa_limits() {
        let e = [1, 0, 1];
        assert!(Key::rsa(&modulus(0x80, 256), &e).is_ok());
        assert!(Key::rsa(&[&[0, 0][..], &modulus(0x80, 256)].concat(), &[0, 3]).is_ok());
        assert_eq!(
            Key::rsa(&modulus(0x7f, 256), &e).unwrap_err(),
            KeyError::RsaTooSmall { bits: 2047 }
        );
        assert!(Key::rsa(&modulus(0x80, 1024), &e).is_ok());
        assert_eq!(
            Key::rsa(&modulus(0x01, 1025), &e).unwrap_err(),
            KeyError::RsaTooLarge { bits: 8193 }
        );
        assert_eq!(
            Key::rsa(&[], &e).unwrap_err(),
            KeyError::RsaTooSmall { bits: 0 }
        );
        let mut even = modulus(0x80, 256);
        even[255] = 0xfe;
        assert_eq!(Key::rsa(&even, &e).unwrap_err(), KeyError::RsaModulus);
        let n = modulus(0x80, 256);
        assert!(
            Key::rsa(&n, &[0x01, 0xff, 0xff, 0xff, 0xff]).is_ok(),
            "2^33 - 1"
        );
        for bad_e in [
            &[][..],
            &[1],
            &[2],
            &[1, 0],
            &[2, 0, 0, 0, 1],
            &[1, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(
                Key::rsa(&n, bad_e).unwrap_err(),
                KeyError::RsaExponent,
                "{bad_e:?}"
            );
        }
    }

    #[test]
    fn ec_points() {
        let p256 = Key::ec_coordinates(Curve::P256, &[1; 40], &[1; 32]);
        assert_eq!(
            p256.unwrap_err(),
            KeyError::EcPoint("coordinate longer than the curve's")
        );
        assert_eq!(
            Key::ec_point(Curve::P256, &[0x02; 33]).unwrap_err(),
            KeyError::EcPoint("only uncompressed points are supported")
        );
        assert_eq!(
            Key::ec_point(Curve::P384, &[0x04; 65]).unwrap_err(),
            KeyError::EcPoint("wrong length for the curve")
        );
        assert_eq!(
            Key::ec_coordinates(Curve::P521, &[], &[]).unwrap_err(),
            KeyError::EcPoint("not a point on the curve")
        );
    }

    #[test]
    fn compatibility() {
        let hmac = Key::symmetric(&[7; 16]).unwrap();
        assert!(hmac.supports(Alg::HS512) && !hmac.supports(Alg::RS256));
        let pinned = hmac.with_alg(Alg::HS384).unwrap();
        assert!(pinned.supports(Alg::HS384) && !pinned.supports(Alg::HS256));
        assert_eq!(
            Key::symmetric(&[7; 15]).unwrap_err(),
            KeyError::HmacTooShort { len: 15 }
        );
        assert!(KeyType::Ec(Curve::P384).fits(Alg::ES384));
        assert!(!KeyType::Ec(Curve::P384).fits(Alg::ES256));
        assert!(KeyType::Rsa.fits(Alg::PS512) && !KeyType::Rsa.fits(Alg::HS256));
        assert!(KeyType::Ed25519.fits(Alg::EdDSA) && !KeyType::Ed25519.fits(Alg::ES256));
        assert_eq!(KeyType::Ec(Curve::P521).to_string(), "EC P-521");
    }
}
