//! Key material: JWKS with mixed keys, x5c, PEM and certificates, RSA size limits, and
//! how candidates are chosen by kid and alg.

mod common;

use common::*;
use serde_json::json;
use tollgate_jwt::sign::{fixture, sign, SigningKey};
use tollgate_jwt::{
    Alg, Curve, Header, HeaderBuf, Key, KeyError, KeySet, KeyType, Token, VerifyError,
    MAX_HEADER_LEN,
};

fn jwk(alg: Alg, kid: &str) -> serde_json::Value {
    let mut v = signing_key(alg).public_jwk();
    v["kid"] = json!(kid);
    v
}

fn mixed_jwks() -> Vec<u8> {
    let mut enc = jwk(Alg::RS256, "enc-1");
    enc["use"] = json!("enc");
    let mut oaep = jwk(Alg::RS256, "oaep");
    oaep["alg"] = json!("RSA-OAEP-256");
    let mut wrap_only = jwk(Alg::ES256, "wrap");
    wrap_only["key_ops"] = json!(["wrapKey"]);
    let mut pinned = jwk(Alg::ES384, "ec384");
    pinned["alg"] = json!("ES384");
    pinned["use"] = json!("sig");
    json!({"keys": [
        jwk(Alg::RS256, "rsa"),
        jwk(Alg::ES256, "ec256"),
        pinned,
        jwk(Alg::ES512, "ec521"),
        jwk(Alg::EdDSA, "ed"),
        jwk(Alg::HS256, "oct"),
        enc,
        oaep,
        wrap_only,
        {"kty": "OKP", "crv": "X25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo", "kid": "x25519"},
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA", "kid": "k1curve"},
        {"kty": "FOO", "kid": "foo"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "tiny"},
    ]})
    .to_string()
    .into_bytes()
}

#[test]
fn jwks_with_mixed_keys() {
    let set = KeySet::from_jwks(&mixed_jwks()).unwrap();
    let kids: Vec<&str> = set.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    assert_eq!(kids, ["rsa", "ec256", "ec384", "ec521", "ed", "oct"]);
    let skipped: Vec<(&str, &KeyError)> = set
        .skipped
        .iter()
        .map(|s| (s.kid.as_deref().unwrap(), &s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            ("enc-1", &KeyError::NotForSignatures),
            ("oaep", &KeyError::NotForSignatures),
            ("wrap", &KeyError::NotForSignatures),
            ("x25519", &KeyError::NotForSignatures),
            ("k1curve", &KeyError::UnsupportedCurve("secp256k1".into())),
            ("foo", &KeyError::UnsupportedKeyType("FOO".into())),
            ("tiny", &KeyError::RsaTooSmall { bits: 17 }),
        ]
    );
    // Every usable key verifies its own alg's token through the set.
    for (alg, kid) in [
        (Alg::RS256, "rsa"),
        (Alg::PS512, "rsa"),
        (Alg::ES256, "ec256"),
        (Alg::ES384, "ec384"),
        (Alg::ES512, "ec521"),
        (Alg::EdDSA, "ed"),
        (Alg::HS384, "oct"),
    ] {
        let token = sign(
            alg,
            &signing_key(alg),
            &json!({"kid": kid}).to_string(),
            PAYLOAD,
        )
        .unwrap();
        let t = Token::split(&token, MAX_TOKEN).unwrap();
        let mut buf: HeaderBuf = [0; MAX_HEADER_LEN];
        let header = Header::parse(&t, &mut buf).unwrap();
        assert_eq!(
            set.verify(&header, &t).map(|k| k.kid.as_deref()),
            Ok(Some(kid))
        );
    }
}

#[test]
fn jwks_with_nothing_usable_is_an_error() {
    let mut enc = jwk(Alg::RS256, "enc-1");
    enc["use"] = json!("enc");
    let doc = json!({"keys": [enc]}).to_string();
    assert_eq!(
        KeySet::from_jwks(doc.as_bytes()).unwrap_err(),
        KeyError::NoUsableKeys {
            skipped: 1,
            first: Some(Box::new(KeyError::NotForSignatures))
        }
    );
    assert!(matches!(
        KeySet::from_jwks(br#"{"keys":[]}"#),
        Err(KeyError::NoUsableKeys { skipped: 0, .. })
    ));
    for bad in [&b"[]"[..], b"{}", b"{\"keys\":{}}", b"not json"] {
        assert!(matches!(KeySet::from_jwks(bad), Err(KeyError::Json(_))));
    }
}

#[test]
fn candidates_by_kid_and_alg() {
    let mut set = KeySet::from_jwks(&mixed_jwks()).unwrap();
    let kids = |set: &KeySet, kid: Option<&str>, alg: Alg| -> Vec<Option<String>> {
        set.candidates(kid, alg).map(|k| k.kid.clone()).collect()
    };
    assert!(kids(&set, Some("unknown"), Alg::RS256).is_empty());
    assert!(!set.has_kid("unknown") && set.has_kid("ec256"));
    assert_eq!(kids(&set, Some("rsa"), Alg::RS256), [Some("rsa".into())]);
    // A kid match is a candidate whatever the alg, so verify can name the mismatch.
    assert_eq!(kids(&set, Some("rsa"), Alg::HS256), [Some("rsa".into())]);
    // Without kid: the keys that fit the alg.
    assert_eq!(kids(&set, None, Alg::ES384), [Some("ec384".into())]);
    assert_eq!(kids(&set, None, Alg::PS256), [Some("rsa".into())]);
    assert_eq!(kids(&set, None, Alg::HS512), [Some("oct".into())]);
    // A key without kid is tried for tokens with any kid, when it fits the alg.
    set.keys
        .push(Key::symmetric(b"a secret without any kid").unwrap());
    assert_eq!(kids(&set, Some("unknown"), Alg::HS256), [None]);
    assert!(kids(&set, Some("unknown"), Alg::RS256).is_empty());

    // KeySet::verify: unknown kid → NoKey; kid of the RSA key with an HS256 token →
    // the mismatch, not a secret made of the RSA key.
    let set = KeySet::from_jwks(&mixed_jwks()).unwrap();
    let run = |token: &str| {
        let t = Token::split(token, MAX_TOKEN).unwrap();
        let mut buf: HeaderBuf = [0; MAX_HEADER_LEN];
        let header = Header::parse(&t, &mut buf).unwrap();
        set.verify(&header, &t).map(|k| k.kid.clone())
    };
    let hs = SigningKey::hmac(b"guess");
    assert_eq!(
        run(&sign(Alg::HS256, &hs, r#"{"kid":"nope"}"#, PAYLOAD).unwrap()),
        Err(VerifyError::NoKey)
    );
    assert_eq!(
        run(&sign(Alg::HS256, &hs, r#"{"kid":"rsa"}"#, PAYLOAD).unwrap()),
        Err(VerifyError::KeyMismatch {
            alg: Alg::HS256,
            key: KeyType::Rsa,
            pinned: None
        })
    );
    assert_eq!(
        run(&sign(Alg::HS256, &hs, "", PAYLOAD).unwrap()),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn x5c_jwk_takes_the_certificate_key() {
    let cert_b64: String = fixture("rsa2048-a.crt")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let x5c = json!({"kty": "RSA", "use": "sig", "kid": "cert", "x5c": [cert_b64, "ignored"]});
    let key = Key::from_jwk(&x5c).unwrap();
    assert_eq!(key.kid.as_deref(), Some("cert"));
    let (token, _) = token_and_key(Alg::RS256);
    assert_eq!(check(&token, &key), Outcome::Ok(Alg::RS256));
    // An EC certificate under kty RSA is refused.
    let ec_cert: String = fixture("ec-p256.crt")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(matches!(
        Key::from_jwk(&json!({"kty": "RSA", "x5c": [ec_cert.clone()]})),
        Err(KeyError::Der(_))
    ));
    let ec = Key::from_jwk(&json!({"kty": "EC", "crv": "P-256", "x5c": [ec_cert]})).unwrap();
    assert_eq!(ec.key_type(), KeyType::Ec(Curve::P256));
    assert!(matches!(
        Key::from_jwk(&json!({"kty": "RSA", "x5c": ["not base64!"]})),
        Err(KeyError::Base64("x5c"))
    ));
    assert_eq!(
        Key::from_jwk(&json!({"kty": "RSA"})).unwrap_err(),
        KeyError::Missing("n")
    );
}

#[test]
fn pem_public_keys_and_certificates() {
    let cases = [
        ("rsa2048-a.pub.pem", Alg::RS256),
        ("rsa2048-a.crt", Alg::PS384),
        ("ec-p256.pub.pem", Alg::ES256),
        ("ec-p256.crt", Alg::ES256),
        ("ec-p384.pub.pem", Alg::ES384),
        ("ec-p521.pub.pem", Alg::ES512),
        ("ed25519.pub.pem", Alg::EdDSA),
    ];
    for (name, alg) in cases {
        let key = Key::from_pem(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (token, _) = token_and_key(alg);
        assert_eq!(check(&token, &key), Outcome::Ok(alg), "{name}");
    }
    // The DER certificate path directly.
    let der = certificate_der("ec-p256.crt");
    assert_eq!(
        Key::from_der_certificate(&der).unwrap().key_type(),
        KeyType::Ec(Curve::P256)
    );
    assert!(Key::from_der_certificate(&der[..der.len() - 1]).is_err());
    assert!(matches!(
        Key::from_pem(fixture("rsa2048-a.pem")),
        Err(KeyError::Pem(_))
    ));
}

fn certificate_der(name: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = fixture(name)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn rsa_1024_is_refused() {
    assert_eq!(
        Key::from_pem(fixture("rsa1024.pub.pem")).unwrap_err(),
        KeyError::RsaTooSmall { bits: 1024 }
    );
    let sk = SigningKey::from_pkcs8_pem(fixture("rsa1024.pem"));
    // ring refuses to even load a 1024-bit private key; either way no token is made.
    if let Ok(sk) = sk {
        assert!(matches!(
            sk.public_key(),
            Err(KeyError::RsaTooSmall { bits: 1024 })
        ));
    }
    let jwk = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert!(matches!(
        Key::from_jwk(&jwk),
        Err(KeyError::RsaTooSmall { .. })
    ));
}

#[test]
fn jwk_validation() {
    let good = jwk(Alg::ES256, "k");
    let mut off_curve = good.clone();
    off_curve["y"] = off_curve["x"].clone();
    assert_eq!(
        Key::from_jwk(&off_curve).unwrap_err(),
        KeyError::EcPoint("not a point on the curve")
    );
    let mut p521_off = jwk(Alg::ES512, "k");
    p521_off["y"] = p521_off["x"].clone();
    assert_eq!(
        Key::from_jwk(&p521_off).unwrap_err(),
        KeyError::EcPoint("not a point on the curve")
    );
    let mut wrong_alg = good.clone();
    wrong_alg["alg"] = json!("RS256");
    assert_eq!(
        Key::from_jwk(&wrong_alg).unwrap_err(),
        KeyError::AlgMismatch {
            alg: Alg::RS256,
            key: KeyType::Ec(Curve::P256)
        }
    );
    let mut bad_b64 = good.clone();
    bad_b64["x"] = json!("not/base64+");
    assert_eq!(Key::from_jwk(&bad_b64).unwrap_err(), KeyError::Base64("x"));
    let rsa = jwk(Alg::RS256, "r");
    let mut even_e = rsa.clone();
    even_e["e"] = json!("AQAA");
    assert_eq!(Key::from_jwk(&even_e).unwrap_err(), KeyError::RsaExponent);
    assert_eq!(
        Key::from_jwk(&json!({"kty": "oct", "k": ""})).unwrap_err(),
        KeyError::HmacTooShort { len: 0 }
    );
    // 15 bytes refused, 16 accepted (APIM's 128-bit minimum).
    assert_eq!(
        Key::from_jwk(&json!({"kty": "oct", "k": "MDEyMzQ1Njc4OWFiY2Rl"})).unwrap_err(),
        KeyError::HmacTooShort { len: 15 }
    );
    assert!(Key::from_jwk(&json!({"kty": "oct", "k": "MDEyMzQ1Njc4OWFiY2RlZg"})).is_ok());
    assert_eq!(
        Key::from_jwk(&json!({"kty": "OKP", "crv": "Ed448", "x": "AA"})).unwrap_err(),
        KeyError::UnsupportedCurve("Ed448".into())
    );
    assert!(Key::from_jwk(&json!("a string")).is_err());
    assert!(Key::from_jwk(&json!({"kty": 1})).is_err());
}
