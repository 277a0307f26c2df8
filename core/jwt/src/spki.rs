//! Keys from their usual containers: PEM (`PUBLIC KEY`, `CERTIFICATE`, `RSA PUBLIC KEY`),
//! DER X.509 certificates and DER SubjectPublicKeyInfo. The certificate is only a
//! container here: its signature, dates and chain are not checked.

use crate::der::{self, PublicKeyInfo};
use crate::error::KeyError;
use crate::key::Key;
use crate::pem;

impl Key {
    /// A public key from the first PEM block of `text`: `PUBLIC KEY` (SubjectPublicKeyInfo),
    /// `CERTIFICATE` (X.509, its subjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(text: &str) -> Result<Key, KeyError> {
        let block = pem::decode(text)?;
        match block.label {
            "PUBLIC KEY" => Key::from_spki_der(&block.der),
            "CERTIFICATE" => Key::from_der_certificate(&block.der),
            "RSA PUBLIC KEY" => {
                let (n, e) = der::parse_rsa_public_key(&block.der)?;
                Key::rsa(n, e)
            }
            label if label.contains("PRIVATE KEY") => Err(KeyError::Pem(
                "a private key was given where a public key is expected",
            )),
            _ => Err(KeyError::Pem(
                "expected PUBLIC KEY, CERTIFICATE or RSA PUBLIC KEY",
            )),
        }
    }

    /// The subject public key of a DER X.509 certificate.
    pub fn from_der_certificate(cert: &[u8]) -> Result<Key, KeyError> {
        Key::from_spki_der(der::certificate_spki(cert)?)
    }

    /// A DER SubjectPublicKeyInfo.
    pub fn from_spki_der(spki: &[u8]) -> Result<Key, KeyError> {
        match der::parse_spki(spki)? {
            PublicKeyInfo::Rsa { n, e } => Key::rsa(n, e),
            PublicKeyInfo::Ec { curve, point } => Key::ec_point(curve, point),
            PublicKeyInfo::Ed25519(public) => Key::ed25519(public),
        }
    }
}
