//! Tokens that must never verify: alg/key confusion, unsigned, critical, encrypted,
//! oversized and badly encoded tokens.

mod common;

use common::*;
use tollgate_jwt::sign::{fixture, sign, SigningKey};
use tollgate_jwt::{Alg, Curve, Key, KeyType, TokenError, VerifyError};

#[test]
fn hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic attack: take the RSA public key the server trusts and use its PEM
    // (or DER) bytes as an HMAC secret.
    let pem = fixture("rsa2048-a.pub.pem");
    let rsa = Key::from_pem(pem).unwrap();
    for secret in [pem.as_bytes(), pem.trim().as_bytes()] {
        let attacker = SigningKey::hmac(secret);
        for alg in [Alg::HS256, Alg::HS384, Alg::HS512] {
            let token = sign(alg, &attacker, "", PAYLOAD).unwrap();
            assert_eq!(
                check(&token, &rsa),
                Outcome::Verify(VerifyError::KeyMismatch {
                    alg,
                    key: KeyType::Rsa,
                    pinned: None
                })
            );
        }
    }
    // Same with an EC and an Ed25519 public key.
    for name in ["ec-p256.pub.pem", "ed25519.pub.pem"] {
        let key = Key::from_pem(fixture(name)).unwrap();
        let token = sign(
            Alg::HS256,
            &SigningKey::hmac(fixture(name).as_bytes()),
            "",
            PAYLOAD,
        )
        .unwrap();
        assert!(matches!(
            check(&token, &key),
            Outcome::Verify(VerifyError::KeyMismatch { .. })
        ));
    }
}

#[test]
fn alg_and_key_type_must_agree() {
    let rsa = signing_key(Alg::RS256).public_key().unwrap();
    let p256 = signing_key(Alg::ES256).public_key().unwrap();
    let p384 = signing_key(Alg::ES384).public_key().unwrap();
    let p521 = signing_key(Alg::ES512).public_key().unwrap();
    let ed = signing_key(Alg::EdDSA).public_key().unwrap();
    let hmac = Key::symmetric(HMAC_SECRET).unwrap();
    let mismatches: &[(Alg, &Key)] = &[
        (Alg::RS256, &p256),
        (Alg::PS384, &ed),
        (Alg::RS512, &hmac),
        (Alg::ES256, &p384),
        (Alg::ES384, &p256),
        (Alg::ES512, &p384),
        (Alg::ES256, &rsa),
        (Alg::EdDSA, &p256),
        (Alg::ES256, &p521),
        (Alg::HS256, &p256),
    ];
    for (alg, key) in mismatches {
        // The token is genuinely signed as `alg`, with that alg's own key.
        let (token, _) = token_and_key(*alg);
        assert!(
            matches!(
                check(&token, key),
                Outcome::Verify(VerifyError::KeyMismatch { alg: a, .. }) if a == *alg
            ),
            "{alg} with a {} key",
            key.key_type()
        );
    }
    // ES256 token against a P-384 key, spelled out.
    let (token, _) = token_and_key(Alg::ES256);
    assert_eq!(
        check(&token, &p384),
        Outcome::Verify(VerifyError::KeyMismatch {
            alg: Alg::ES256,
            key: KeyType::Ec(Curve::P384),
            pinned: None
        })
    );
}

#[test]
fn pinned_alg_is_enforced() {
    let key = signing_key(Alg::RS256)
        .public_key()
        .unwrap()
        .with_alg(Alg::RS256)
        .unwrap();
    let (rs256, _) = token_and_key(Alg::RS256);
    assert_eq!(check(&rs256, &key), Outcome::Ok(Alg::RS256));
    let (ps256, _) = token_and_key(Alg::PS256);
    assert_eq!(
        check(&ps256, &key),
        Outcome::Verify(VerifyError::KeyMismatch {
            alg: Alg::PS256,
            key: KeyType::Rsa,
            pinned: Some(Alg::RS256)
        })
    );
    assert!(Key::symmetric(HMAC_SECRET)
        .unwrap()
        .with_alg(Alg::RS256)
        .is_err());
}

fn hand_made(header: &str, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(PAYLOAD.as_bytes()),
        signature
    )
}

#[test]
fn header_refusals() {
    let key = Key::symmetric(HMAC_SECRET).unwrap();
    let (good, _) = token_and_key(Alg::HS256);
    let sig = good.rsplit('.').next().unwrap();
    let cases: &[(&str, &str, TokenError)] = &[
        (r#"{"alg":"none"}"#, "", TokenError::Unsigned),
        (r#"{"alg":"none","typ":"JWT"}"#, sig, TokenError::Unsigned),
        (r#"{"alg":"NONE"}"#, "", TokenError::Unsigned),
        (
            r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
            sig,
            TokenError::Critical,
        ),
        (
            r#"{"alg":"HS256","enc":"A128GCM"}"#,
            sig,
            TokenError::Encrypted,
        ),
        (r#"{"alg":"HS256","zip":"DEF"}"#, sig, TokenError::Encrypted),
        (r#"{"alg":"HS1"}"#, sig, TokenError::UnknownAlg),
        (r#"{"alg":"ES256K"}"#, sig, TokenError::UnknownAlg),
    ];
    for (header, signature, want) in cases {
        assert_eq!(
            check(&hand_made(header, signature), &key),
            Outcome::Token(*want),
            "{header}"
        );
    }
    // A signed token whose header adds crit, through the signer.
    let token = sign(
        Alg::HS256,
        &SigningKey::hmac(HMAC_SECRET),
        r#"{"crit":["b64"],"b64":false}"#,
        PAYLOAD,
    )
    .unwrap();
    assert_eq!(check(&token, &key), Outcome::Token(TokenError::Critical));
    for header in [
        r#"["HS256"]"#,
        "null",
        r#"{"alg":"HS256""#,
        r#"{"alg":["HS256"]}"#,
    ] {
        assert!(
            matches!(
                check(&hand_made(header, sig), &key),
                Outcome::Token(TokenError::Malformed(_))
            ),
            "{header}"
        );
    }
}

#[test]
fn jwe_and_shape_refusals() {
    let key = Key::symmetric(HMAC_SECRET).unwrap();
    let jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ";
    assert_eq!(check(jwe, &key), Outcome::Token(TokenError::Encrypted));
    let (good, _) = token_and_key(Alg::HS256);
    assert_eq!(check(&good, &key), Outcome::Ok(Alg::HS256));
    assert_eq!(
        check(&format!("{good}.x"), &key),
        Outcome::Token(TokenError::Malformed("not three dot-separated parts"))
    );
    // Oversized.
    let huge = sign(
        Alg::HS256,
        &SigningKey::hmac(HMAC_SECRET),
        "",
        &"x".repeat(MAX_TOKEN),
    )
    .unwrap();
    assert!(matches!(
        check(&huge, &key),
        Outcome::Token(TokenError::TooLarge { max: MAX_TOKEN, .. })
    ));
}

#[test]
fn bad_base64_is_refused() {
    let key = Key::symmetric(HMAC_SECRET).unwrap();
    let (good, _) = token_and_key(Alg::HS256);
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let bad = [
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}==.{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}.{}", s.replace(['-', '_'], "+")),
        format!("{h}.{p}.+{}", &s[1..]),
        format!("{h}.{p}./{}", &s[1..]),
        format!("{h}.+{}.{s}", &p[1..]),
        format!("/{}.{p}.{s}", &h[1..]),
        format!("{h}.{p}.{s} "),
        format!("{h}.{p}.{}\n{}", &s[..4], &s[4..]),
    ];
    for token in &bad {
        assert!(
            matches!(check(token, &key), Outcome::Token(TokenError::Malformed(_))),
            "{token}"
        );
    }
    // Standard base64 of the same signature bytes differs from base64url only where the
    // alphabets differ; pad it the standard way and it is refused too.
    let padded = format!("{h}.{p}.{s}{}", "=".repeat((4 - s.len() % 4) % 4));
    if padded != good {
        assert!(matches!(
            check(&padded, &key),
            Outcome::Token(TokenError::Malformed(_))
        ));
    }
}
