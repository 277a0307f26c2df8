//! The two members of an OpenID Provider configuration document
//! (`.well-known/openid-configuration`) that validate-jwt needs: `issuer` and
//! `jwks_uri`. Fetching the document and the JWKS is the caller's job.

use serde::Deserialize;

use crate::error::KeyError;

/// What validate-jwt takes from an OpenID configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenIdConfig {
    pub issuer: Option<String>,
    pub jwks_uri: String,
}

#[derive(Deserialize)]
struct Raw {
    issuer: Option<String>,
    jwks_uri: Option<String>,
}

impl OpenIdConfig {
    /// Parses the document; `jwks_uri` is required, other members are ignored.
    pub fn parse(json: &[u8]) -> Result<OpenIdConfig, KeyError> {
        let raw: Raw = serde_json::from_slice(json).map_err(|e| KeyError::Json(e.to_string()))?;
        let jwks_uri = raw
            .jwks_uri
            .filter(|u| !u.is_empty())
            .ok_or(KeyError::Missing("jwks_uri"))?;
        Ok(OpenIdConfig {
            issuer: raw.issuer,
            jwks_uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_requires_jwks_uri() {
        let doc =
            br#"{"issuer":"https://login.example/t/v2.0","jwks_uri":"https://login.example/keys",
            "id_token_signing_alg_values_supported":["RS256"]}"#;
        assert_eq!(
            OpenIdConfig::parse(doc),
            Ok(OpenIdConfig {
                issuer: Some("https://login.example/t/v2.0".into()),
                jwks_uri: "https://login.example/keys".into()
            })
        );
        assert_eq!(
            OpenIdConfig::parse(br#"{"issuer":"x"}"#),
            Err(KeyError::Missing("jwks_uri"))
        );
        assert_eq!(
            OpenIdConfig::parse(br#"{"jwks_uri":""}"#),
            Err(KeyError::Missing("jwks_uri"))
        );
        assert!(matches!(
            OpenIdConfig::parse(b"[1]"),
            Err(KeyError::Json(_))
        ));
        assert!(matches!(
            OpenIdConfig::parse(br#"{"jwks_uri":7}"#),
            Err(KeyError::Json(_))
        ));
    }
}
