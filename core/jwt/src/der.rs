//! A minimal DER reader for the key containers JWT deployments use: X.509 certificates
//! (only as far as tbsCertificate → subjectPublicKeyInfo), SubjectPublicKeyInfo, PKCS#1
//! RSAPublicKey and, for the `sign` feature, PKCS#8 PrivateKeyInfo. It reads one TLV at a
//! time with every length bounds-checked; it never recurses (each structure is walked by
//! straight-line code, so the nesting depth is fixed by this file). It does not check
//! certificate signatures, validity dates or chains: a certificate is a key container.

use crate::error::KeyError;
use crate::key::Curve;

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
#[cfg(feature = "sign")]
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// `[0] EXPLICIT`, the certificate version.
const CONTEXT_0: u8 = 0xA0;

const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Longest length field accepted: 3 bytes, 16 MiB; no key container comes near.
const MAX_LENGTH_BYTES: usize = 3;

/// A cursor over DER bytes.
pub(crate) struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Der { rest: bytes }
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads one TLV, returning its tag and contents.
    fn any(&mut self) -> Result<(u8, &'a [u8]), KeyError> {
        let (&tag, rest) = self.rest.split_first().ok_or(KeyError::Der("truncated"))?;
        if tag & 0x1f == 0x1f {
            return Err(KeyError::Der("multi-byte tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(KeyError::Der("truncated"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > MAX_LENGTH_BYTES {
                return Err(KeyError::Der("unsupported length form"));
            }
            let (digits, after) = rest.split_at_checked(n).ok_or(KeyError::Der("truncated"))?;
            rest = after;
            if digits.first() == Some(&0) {
                return Err(KeyError::Der("non-minimal length"));
            }
            let len = digits
                .iter()
                .fold(0usize, |acc, &d| acc << 8 | usize::from(d));
            if len < 0x80 {
                return Err(KeyError::Der("non-minimal length"));
            }
            len
        };
        let (value, after) = rest
            .split_at_checked(len)
            .ok_or(KeyError::Der("truncated"))?;
        self.rest = after;
        Ok((tag, value))
    }

    /// Reads one TLV that must carry `tag`.
    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
        match self.any()? {
            (t, value) if t == tag => Ok(value),
            _ => Err(KeyError::Der(what)),
        }
    }

    /// Fails if anything is left.
    fn finish(&self) -> Result<(), KeyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(KeyError::Der("trailing data"))
        }
    }
}

/// Reads exactly one TLV with `tag` spanning all of `bytes`.
fn whole<'a>(bytes: &'a [u8], tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
    let mut d = Der::new(bytes);
    let value = d.expect(tag, what)?;
    d.finish()?;
    Ok(value)
}

/// A public key found in a SubjectPublicKeyInfo.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PublicKeyInfo<'a> {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa {
        n: &'a [u8],
        e: &'a [u8],
    },
    /// A SEC1 point as encoded (the caller insists on the uncompressed form).
    Ec {
        curve: Curve,
        point: &'a [u8],
    },
    Ed25519(&'a [u8]),
}

/// The subjectPublicKeyInfo of an X.509 certificate (DER), as a whole TLV.
pub(crate) fn certificate_spki(cert: &[u8]) -> Result<&[u8], KeyError> {
    let certificate = whole(cert, SEQUENCE, "certificate is not a SEQUENCE")?;
    let mut c = Der::new(certificate);
    let tbs = c.expect(SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let mut t = Der::new(tbs);
    if t.peek_tag() == Some(CONTEXT_0) {
        t.any()?; // version
    }
    t.expect(INTEGER, "serialNumber")?;
    t.expect(SEQUENCE, "signature algorithm")?;
    t.expect(SEQUENCE, "issuer")?;
    t.expect(SEQUENCE, "validity")?;
    t.expect(SEQUENCE, "subject")?;
    let start = t.rest;
    t.expect(SEQUENCE, "subjectPublicKeyInfo")?;
    let spki_len = start.len() - t.rest.len();
    start
        .get(..spki_len)
        .ok_or(KeyError::Der("subjectPublicKeyInfo"))
}

/// Parses a SubjectPublicKeyInfo TLV (the DER of a `PUBLIC KEY` PEM).
pub(crate) fn parse_spki(spki: &[u8]) -> Result<PublicKeyInfo<'_>, KeyError> {
    let mut s = Der::new(whole(
        spki,
        SEQUENCE,
        "SubjectPublicKeyInfo is not a SEQUENCE",
    )?);
    let mut alg = Der::new(s.expect(SEQUENCE, "AlgorithmIdentifier")?);
    let bits = s.expect(BIT_STRING, "subjectPublicKey is not a BIT STRING")?;
    s.finish()?;
    let key = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err(KeyError::Der("subjectPublicKey has unused bits")),
    };
    let oid = alg.expect(OID, "algorithm OID")?;
    if oid == OID_RSA_ENCRYPTION {
        if alg.peek_tag() == Some(NULL) {
            alg.expect(NULL, "RSA parameters")?;
        }
        alg.finish()?;
        let (n, e) = parse_rsa_public_key(key)?;
        Ok(PublicKeyInfo::Rsa { n, e })
    } else if oid == OID_EC_PUBLIC_KEY {
        let curve = curve_of(alg.expect(OID, "EC parameters are not a named curve")?)?;
        alg.finish()?;
        Ok(PublicKeyInfo::Ec { curve, point: key })
    } else if oid == OID_ED25519 {
        alg.finish()?;
        Ok(PublicKeyInfo::Ed25519(key))
    } else {
        Err(KeyError::Der(
            "public key algorithm is not rsaEncryption, id-ecPublicKey or Ed25519",
        ))
    }
}

fn curve_of(oid: &[u8]) -> Result<Curve, KeyError> {
    match oid {
        OID_P256 => Ok(Curve::P256),
        OID_P384 => Ok(Curve::P384),
        OID_P521 => Ok(Curve::P521),
        _ => Err(KeyError::UnsupportedCurve("(curve OID)".into())),
    }
}

/// Parses a PKCS#1 RSAPublicKey: modulus and exponent without leading zeros.
pub(crate) fn parse_rsa_public_key(der: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    let mut k = Der::new(whole(der, SEQUENCE, "RSAPublicKey is not a SEQUENCE")?);
    let n = positive(k.expect(INTEGER, "RSA modulus")?)?;
    let e = positive(k.expect(INTEGER, "RSA exponent")?)?;
    k.finish()?;
    Ok((n, e))
}

/// A non-negative INTEGER's magnitude without leading zero bytes.
fn positive(int: &[u8]) -> Result<&[u8], KeyError> {
    match int.first() {
        None => Err(KeyError::Der("empty INTEGER")),
        Some(b) if b & 0x80 != 0 => Err(KeyError::Der("negative INTEGER")),
        Some(_) => {
            let zeros = int.iter().take_while(|&&b| b == 0).count();
            Ok(int.get(zeros..).unwrap_or_default())
        }
    }
}

/// The key a PKCS#8 PrivateKeyInfo holds, for the `sign` feature.
#[cfg(feature = "sign")]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PrivateKeyInfo<'a> {
    Rsa,
    /// The curve and the private scalar from the inner ECPrivateKey.
    Ec {
        curve: Curve,
        scalar: &'a [u8],
    },
    Ed25519,
}

/// Reads the algorithm of a PKCS#8 PrivateKeyInfo (and an EC key's scalar).
#[cfg(feature = "sign")]
pub(crate) fn parse_pkcs8(der: &[u8]) -> Result<PrivateKeyInfo<'_>, KeyError> {
    let mut p = Der::new(whole(der, SEQUENCE, "PrivateKeyInfo is not a SEQUENCE")?);
    p.expect(INTEGER, "PKCS#8 version")?;
    let mut alg = Der::new(p.expect(SEQUENCE, "AlgorithmIdentifier")?);
    let private = p.expect(OCTET_STRING, "privateKey is not an OCTET STRING")?;
    let oid = alg.expect(OID, "algorithm OID")?;
    if oid == OID_RSA_ENCRYPTION {
        Ok(PrivateKeyInfo::Rsa)
    } else if oid == OID_ED25519 {
        Ok(PrivateKeyInfo::Ed25519)
    } else if oid == OID_EC_PUBLIC_KEY {
        let curve = curve_of(alg.expect(OID, "EC parameters are not a named curve")?)?;
        let mut ec = Der::new(whole(private, SEQUENCE, "ECPrivateKey is not a SEQUENCE")?);
        ec.expect(INTEGER, "ECPrivateKey version")?;
        let scalar = ec.expect(OCTET_STRING, "EC private key")?;
        Ok(PrivateKeyInfo::Ec { curve, scalar })
    } else {
        Err(KeyError::Der("unsupported private key algorithm"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(Der::new(&[0x04, 0x01, 0xAA]).any(), Ok((0x04, &[0xAA][..])));
        let long: Vec<u8> = [&[0x04, 0x81, 0x80][..], &[7u8; 0x80]].concat();
        assert_eq!(Der::new(&long).any().map(|(_, v)| v.len()), Ok(0x80));
        for bad in [
            &[][..],
            &[0x04],
            &[0x04, 0x02, 0xAA],                   // value past the end
            &[0x04, 0x80, 0x00, 0x00],             // indefinite
            &[0x04, 0x81, 0x05, 1, 2, 3, 4, 5],    // long form for a short length
            &[0x04, 0x82, 0x00, 0x80],             // leading zero in the length
            &[0x04, 0x84, 0x01, 0x00, 0x00, 0x00], // four length bytes
            &[0x04, 0x83, 0xff, 0xff, 0xff],       // 16 MiB claimed, 0 present
            &[0x1f, 0x01, 0x00],                   // multi-byte tag
        ] {
            assert!(Der::new(bad).any().is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn integers_and_trailing_data() {
        assert_eq!(positive(&[0, 0, 0x80, 1]), Ok(&[0x80, 1][..]));
        assert!(positive(&[0x80]).is_err() && positive(&[]).is_err());
        assert!(whole(&[0x05, 0x00, 0x00], NULL, "x").is_err());
        assert_eq!(
            parse_rsa_public_key(&[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03]),
            Ok((&[5u8][..], &[3u8][..]))
        );
    }

    #[test]
    fn never_panics_on_prefixes_and_bit_flips() {
        let pem = include_str!("../tests/keys/rsa2048-a.crt");
        let der = crate::pem::decode(pem).unwrap().der;
        assert!(certificate_spki(&der).is_ok());
        for cut in 0..der.len() {
            assert!(certificate_spki(&der[..cut]).is_err());
        }
        let mut flipped = der.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            if let Ok(spki) = certificate_spki(&flipped) {
                let _ = parse_spki(spki);
            }
            flipped[i] ^= 0xff;
        }
    }
}
