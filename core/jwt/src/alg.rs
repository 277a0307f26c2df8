//! The JWS signature algorithms Tollgate verifies (RFC 7518 §3, RFC 8037 for EdDSA) and
//! the families that decide which kind of key each one needs. Not for `none`: an
//! unsigned token is refused before an [`Alg`] exists.

use std::fmt;

/// A JWS `alg` this crate can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    /// Ed25519 only (RFC 8037); Ed448 is not supported.
    EdDSA,
}

/// What kind of key an [`Alg`] needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// HMAC with a shared secret.
    Hmac,
    /// RSASSA-PKCS1-v1_5 with an RSA public key.
    RsaPkcs1,
    /// RSASSA-PSS with an RSA public key.
    RsaPss,
    /// ECDSA with a key on the alg's own curve.
    Ecdsa,
    /// EdDSA with an Ed25519 public key.
    EdDsa,
}

impl Alg {
    /// Every algorithm, in the order of RFC 7518's table.
    pub const ALL: [Alg; 13] = [
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::EdDSA,
    ];

    /// The algorithm named exactly `name` (JWA names are case-sensitive); `None` for
    /// anything else, `none` included.
    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JWA name, as written in a JOSE header.
    pub fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// The kind of key this algorithm needs.
    pub fn family(self) -> Family {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => Family::Hmac,
            Alg::RS256 | Alg::RS384 | Alg::RS512 => Family::RsaPkcs1,
            Alg::PS256 | Alg::PS384 | Alg::PS512 => Family::RsaPss,
            Alg::ES256 | Alg::ES384 | Alg::ES512 => Family::Ecdsa,
            Alg::EdDSA => Family::EdDsa,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.name()), Some(alg));
            assert_eq!(Alg::parse(&alg.name().to_ascii_lowercase()), None);
        }
        for bad in ["none", "None", "", "RS1", "HS256 ", "ES256K", "Ed25519"] {
            assert_eq!(Alg::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn families() {
        assert_eq!(Alg::HS384.family(), Family::Hmac);
        assert_eq!(Alg::RS512.family(), Family::RsaPkcs1);
        assert_eq!(Alg::PS256.family(), Family::RsaPss);
        assert_eq!(Alg::ES512.family(), Family::Ecdsa);
        assert_eq!(Alg::EdDSA.family(), Family::EdDsa);
    }
}
