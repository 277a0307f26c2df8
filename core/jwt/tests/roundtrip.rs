//! Every alg with real keys: sign → verify, and every tampering refused.

mod common;

use common::*;
use tollgate_jwt::sign::{fixture, sign, SigningKey};
use tollgate_jwt::{Alg, Key, VerifyError};

#[test]
fn all_thirteen_algs_round_trip() {
    for alg in Alg::ALL {
        let (token, key) = token_and_key(alg);
        assert_eq!(check(&token, &key), Outcome::Ok(alg), "{alg}");
    }
}

#[test]
fn generated_keys_round_trip() {
    for alg in [Alg::HS384, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA] {
        let sk = SigningKey::generate(alg).unwrap();
        let token = sign(alg, &sk, "", PAYLOAD).unwrap();
        assert_eq!(
            check(&token, &sk.public_key().unwrap()),
            Outcome::Ok(alg),
            "{alg}"
        );
        let other = SigningKey::generate(alg).unwrap().public_key().unwrap();
        assert_eq!(
            check(&token, &other),
            Outcome::Verify(VerifyError::BadSignature),
            "{alg} with another key"
        );
    }
    assert!(SigningKey::generate(Alg::RS256).is_err());
}

#[test]
fn rsa_4096_and_rotation_keys() {
    let big = SigningKey::from_pkcs8_pem(fixture("rsa4096.pem")).unwrap();
    let b = SigningKey::from_pkcs8_pem(fixture("rsa2048-b.pem")).unwrap();
    let a_public = signing_key(Alg::RS256).public_key().unwrap();
    for alg in [Alg::RS256, Alg::PS512] {
        let token = sign(alg, &big, "", PAYLOAD).unwrap();
        assert_eq!(check(&token, &big.public_key().unwrap()), Outcome::Ok(alg));
        let token = sign(alg, &b, "", PAYLOAD).unwrap();
        assert_eq!(check(&token, &b.public_key().unwrap()), Outcome::Ok(alg));
        assert_eq!(
            check(&token, &a_public),
            Outcome::Verify(VerifyError::BadSignature),
            "key b's token with key a"
        );
    }
}

#[test]
fn tampered_payload_fails() {
    for alg in Alg::ALL {
        let (token, key) = token_and_key(alg);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = b64(PAYLOAD.replace("orders.read", "orders.admin").as_bytes());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(
            check(&forged, &key),
            Outcome::Verify(VerifyError::BadSignature),
            "{alg}"
        );
    }
}

#[test]
fn tampered_signature_fails() {
    for alg in Alg::ALL {
        let (token, key) = token_and_key(alg);
        let dot = token.rfind('.').unwrap();
        let (head, sig) = token.split_at(dot + 1);
        // Flip one bit of the first signature byte: change the first character.
        let first = sig.as_bytes()[0];
        let swapped = if first == b'A' { 'B' } else { 'A' };
        let forged = format!("{head}{swapped}{}", &sig[1..]);
        assert_eq!(
            check(&forged, &key),
            Outcome::Verify(VerifyError::BadSignature),
            "{alg}: flipped"
        );
        // Truncated, empty, and doubled signatures.
        for sig2 in [&sig[..sig.len() - 4], "", &format!("{sig}{sig}")] {
            let forged = format!("{head}{sig2}");
            assert_eq!(
                check(&forged, &key),
                Outcome::Verify(VerifyError::BadSignature),
                "{alg}: signature {} chars",
                sig2.len()
            );
        }
    }
}

#[test]
fn oversized_signature_is_invalid_not_a_panic() {
    let (token, key) = token_and_key(Alg::RS256);
    let head = &token[..token.rfind('.').unwrap() + 1];
    for len in [1365, 1366, 1367, 1368, 4000] {
        let forged = format!("{head}{}", "A".repeat(len));
        assert_eq!(
            check(&forged, &key),
            Outcome::Verify(VerifyError::BadSignature),
            "{len}"
        );
    }
}

#[test]
fn hmac_key_from_secret_matches_jwk() {
    let key = Key::symmetric(HMAC_SECRET).unwrap();
    let (token, _) = token_and_key(Alg::HS512);
    assert_eq!(check(&token, &key), Outcome::Ok(Alg::HS512));
    let wrong = Key::symmetric(b"another secret, 32 bytes long...").unwrap();
    assert_eq!(
        check(&token, &wrong),
        Outcome::Verify(VerifyError::BadSignature)
    );
}
