//! validate-jwt through the real gateway: tokens made here with real keys of every
//! algorithm, keys served by a local OpenID provider that rotates them mid-run, the
//! hostile-token list, fail-closed behaviour when the provider is down, and
//! validate-azure-ad-token against a local authority.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use support::client::{body_of, status_of};
use support::idp::Idp;
use support::{raw, Backend, Gateway, Reply};
use tollgate_jwt::sign::{fixture, sign, SigningKey};
use tollgate_jwt::Alg;

const INVALID: &str = r#"{"statusCode":401,"message":"Invalid JWT."}"#;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(extra: Value) -> String {
    let mut c = json!({"iss": "https://idp.test/", "aud": "api://orders", "sub": "alice", "exp": now() + 600});
    if let (Some(o), Value::Object(e)) = (c.as_object_mut(), extra) {
        o.extend(e);
    }
    c.to_string()
}

fn jwk(key: &SigningKey, kid: &str) -> Value {
    let mut j = key.public_jwk();
    j["kid"] = json!(kid);
    j
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn rsa(name: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(fixture(name)).expect("fixture key")
}

fn gateway(be: &Backend, openid: &str, extra_gateway: &str) -> Gateway {
    Gateway::start(&format!(
        r#"gateway:
  shards: 2
{extra_gateway}
apis:
  - id: orders
    path: orders
    service-url: http://{}/v1
    subscription-required: false
    policy: |
      <policies><inbound><base/>
        <validate-jwt header-name="Authorization" output-token-variable-name="jwt">
          <openid-config url="{openid}"/>
          <audiences><audience>api://orders</audience></audiences>
        </validate-jwt>
        <set-header name="X-Sub" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Subject)</value></set-header>
      </inbound><backend><base/></backend><outbound><base/></outbound>
      <on-error><base/><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
"#,
        be.addr
    ))
}

fn call(gw: &Gateway, token: &str) -> String {
    raw(
        gw.addr,
        format!("GET /orders/1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

fn reason(text: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("X-Reason: ")
                .or_else(|| l.strip_prefix("x-reason: "))
        })
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Every algorithm, each with its own kid in one JWKS.
fn all_keys() -> Vec<(Alg, SigningKey, &'static str)> {
    vec![
        (Alg::RS256, rsa("rsa2048-a.pem"), "rsa-a"),
        (Alg::RS384, rsa("rsa2048-a.pem"), "rsa-a"),
        (Alg::RS512, rsa("rsa4096.pem"), "rsa-4096"),
        (Alg::PS256, rsa("rsa2048-b.pem"), "rsa-b"),
        (Alg::PS384, rsa("rsa2048-b.pem"), "rsa-b"),
        (Alg::PS512, rsa("rsa2048-b.pem"), "rsa-b"),
        (
            Alg::ES256,
            SigningKey::generate(Alg::ES256).unwrap(),
            "p256",
        ),
        (
            Alg::ES384,
            SigningKey::generate(Alg::ES384).unwrap(),
            "p384",
        ),
        (
            Alg::ES512,
            SigningKey::generate(Alg::ES512).unwrap(),
            "p521",
        ),
        (
            Alg::EdDSA,
            SigningKey::generate(Alg::EdDSA).unwrap(),
            "ed25519",
        ),
        (
            Alg::HS256,
            SigningKey::generate(Alg::HS256).unwrap(),
            "hs256",
        ),
        (
            Alg::HS384,
            SigningKey::generate(Alg::HS384).unwrap(),
            "hs384",
        ),
        (
            Alg::HS512,
            SigningKey::generate(Alg::HS512).unwrap(),
            "hs512",
        ),
    ]
}

fn jwks_of(keys: &[(Alg, SigningKey, &str)]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (_, k, kid) in keys {
        if !seen.contains(kid) {
            seen.push(kid);
            out.push(jwk(k, kid));
        }
    }
    jwks(&out)
}

#[test]
fn every_algorithm_verifies_and_a_tampered_token_does_not() {
    let keys = all_keys();
    let idp = Idp::start(&jwks_of(&keys));
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, &idp.openid_url(), "");
    for (alg, key, kid) in &keys {
        let token = sign(
            *alg,
            key,
            &json!({"kid": kid}).to_string(),
            &claims(json!({"sub": format!("user-{alg}")})),
        )
        .unwrap();
        let t = call(&gw, &token);
        assert_eq!(status_of(&t), 200, "{alg}: {t}");
        assert!(
            be.last_head().contains(&format!("X-Sub: user-{alg}\r\n")),
            "{alg}: {}",
            be.last_head()
        );
        // Flip one character of the signature.
        let mut bad = token.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let t = call(&gw, std::str::from_utf8(&bad).unwrap());
        assert_eq!(status_of(&t), 401, "{alg} tampered: {t}");
        assert_eq!(body_of(&t), INVALID, "{alg}");
        assert_eq!(reason(&t), "TokenSignatureInvalid", "{alg}: {t}");
    }
}

#[test]
fn hostile_tokens_are_refused_with_the_configured_answer() {
    let rsa_a = rsa("rsa2048-a.pem");
    let idp = Idp::start(&jwks(&[jwk(&rsa_a, "rsa-a")]));
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, &idp.openid_url(), "  openid: { wait: 500ms }\n");
    let good = sign(Alg::RS256, &rsa_a, r#"{"kid":"rsa-a"}"#, &claims(json!({}))).unwrap();
    assert_eq!(status_of(&call(&gw, &good)), 200);

    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let payload = b64(&claims(json!({})));
    // The classic confusion attack: HS256 "signed" with the RSA public key as the secret.
    let public_pem = fixture("rsa2048-a.pub.pem");
    let confused = sign(
        Alg::HS256,
        &SigningKey::hmac(public_pem.as_bytes()),
        r#"{"kid":"rsa-a"}"#,
        &claims(json!({})),
    )
    .unwrap();
    let huge = sign(
        Alg::RS256,
        &rsa_a,
        r#"{"kid":"rsa-a"}"#,
        &claims(json!({"pad": "x".repeat(20_000)})),
    )
    .unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!("{}.{payload}.", b64(r#"{"alg":"none","kid":"rsa-a"}"#)),
            "JwtInvalid",
        ),
        (
            "alg None",
            format!("{}.{payload}.", b64(r#"{"alg":"None"}"#)),
            "JwtInvalid",
        ),
        (
            "HS256 with the RSA public key",
            confused,
            "TokenSignatureInvalid",
        ),
        (
            "unknown kid",
            sign(
                Alg::RS256,
                &rsa("rsa2048-b.pem"),
                r#"{"kid":"nobody"}"#,
                &claims(json!({})),
            )
            .unwrap(),
            "TokenSignatureKeyNotFound",
        ),
        (
            "crit header",
            sign(
                Alg::RS256,
                &rsa_a,
                r#"{"kid":"rsa-a","crit":["exp"],"exp":1}"#,
                &claims(json!({})),
            )
            .unwrap(),
            "JwtInvalid",
        ),
        ("oversized", huge, "JwtInvalid"),
        (
            "bad base64",
            format!("{}.{payload}.!!!", b64(r#"{"alg":"RS256","kid":"rsa-a"}"#)),
            "JwtInvalid",
        ),
        ("padded base64", good.replacen('.', "=.", 1), "JwtInvalid"),
        (
            "nested JWE",
            format!("{}.a.b.c.d", b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)),
            "JwtInvalid",
        ),
        (
            "two parts",
            good.rsplit_once('.').unwrap().0.to_string(),
            "JwtInvalid",
        ),
        (
            "expired",
            sign(
                Alg::RS256,
                &rsa_a,
                r#"{"kid":"rsa-a"}"#,
                &claims(json!({"exp": now() - 120})),
            )
            .unwrap(),
            "TokenExpired",
        ),
        (
            "wrong audience",
            sign(
                Alg::RS256,
                &rsa_a,
                r#"{"kid":"rsa-a"}"#,
                &claims(json!({"aud": "api://other"})),
            )
            .unwrap(),
            "TokenAudienceNotAllowed",
        ),
    ];
    for (name, token, want) in cases {
        let started = Instant::now();
        let t = call(&gw, &token);
        assert_eq!(status_of(&t), 401, "{name}: {t}");
        assert_eq!(body_of(&t), INVALID, "{name}");
        assert_eq!(reason(&t), want, "{name}: {t}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{name} took {:?}",
            started.elapsed()
        );
    }
    let t = raw(
        gw.addr,
        b"GET /orders/1 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        body_of(&t),
        r#"{"statusCode":401,"message":"JWT not present."}"#,
        "{t}"
    );
    assert_eq!(
        be.request_count(),
        1,
        "only the good token reached the backend"
    );
}

/// Keys a and b, a provider serving only kid a with a long max-age (only an unknown kid
/// can make the gateway fetch again soon), and a gateway trusting it.
fn rotation() -> (SigningKey, SigningKey, Idp, Backend, Gateway) {
    let (a, b) = (rsa("rsa2048-a.pem"), rsa("rsa2048-b.pem"));
    let idp = Idp::start(&jwks(&[jwk(&a, "a")]));
    let be = Backend::start(Reply::Normal);
    idp.set_max_age(Some(3600));
    let gw = gateway(
        &be,
        &idp.openid_url(),
        "  openid: { min-refresh: 5m, wait: 10s }\n",
    );
    (a, b, idp, be, gw)
}

#[test]
fn rotated_keys_are_picked_up_without_a_failed_request() {
    let (a, b, idp, _be, gw) = rotation();
    let token_a = sign(Alg::RS256, &a, r#"{"kid":"a"}"#, &claims(json!({}))).unwrap();
    let token_b = sign(Alg::RS256, &b, r#"{"kid":"b"}"#, &claims(json!({}))).unwrap();
    for _ in 0..4 {
        assert_eq!(status_of(&call(&gw, &token_a)), 200);
    }
    // The provider adds kid b: the first token with it fetches the keys again and waits.
    idp.set_jwks(&jwks(&[jwk(&a, "a"), jwk(&b, "b")]));
    for i in 0..6 {
        let t = call(&gw, &token_b);
        assert_eq!(
            status_of(&t),
            200,
            "new kid, request {i}: {t}\n{}",
            gw.log_text()
        );
        // The old kid is still accepted while the set holds it.
        assert_eq!(status_of(&call(&gw, &token_a)), 200, "old kid, request {i}");
    }
    assert_eq!(
        idp.jwks_fetches(),
        2,
        "one fetch at start, one for the new kid"
    );
    // Another rotation within min-refresh: an unknown kid may not force a fetch, so a
    // token with it fails (fast) until the schedule fetches again.
    let c = rsa("rsa4096.pem");
    let token_c = sign(Alg::RS256, &c, r#"{"kid":"c"}"#, &claims(json!({}))).unwrap();
    idp.set_jwks(&jwks(&[jwk(&b, "b"), jwk(&c, "c")]));
    let started = Instant::now();
    let t = call(&gw, &token_c);
    assert_eq!(reason(&t), "TokenSignatureKeyNotFound", "{t}");
    // `wait` is 10 s here: well under it means the request did not wait for keys.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "rate-limited: no wait"
    );
    assert_eq!(idp.jwks_fetches(), 2);
}

#[test]
fn keys_follow_the_providers_max_age_and_dropped_kids_stop_working() {
    let (a, b) = (rsa("rsa2048-a.pem"), rsa("rsa2048-b.pem"));
    let idp = Idp::start(&jwks(&[jwk(&a, "a"), jwk(&b, "b")]));
    idp.set_max_age(Some(1));
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, &idp.openid_url(), "  openid: { min-refresh: 5m }\n");
    let token_a = sign(Alg::RS256, &a, r#"{"kid":"a"}"#, &claims(json!({}))).unwrap();
    let token_b = sign(Alg::RS256, &b, r#"{"kid":"b"}"#, &claims(json!({}))).unwrap();
    assert_eq!(status_of(&call(&gw, &token_a)), 200);
    assert_eq!(status_of(&call(&gw, &token_a)), 200, "cached");
    idp.set_jwks(&jwks(&[jwk(&b, "b")]));
    // The next scheduled fetch (max-age 1 s) drops kid a; a cached verification does
    // not outlive the keys it was made with.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = call(&gw, &token_a);
        if status_of(&t) == 401 {
            assert_eq!(reason(&t), "TokenSignatureKeyNotFound", "{t}");
            break;
        }
        assert!(Instant::now() < deadline, "kid a was never dropped");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status_of(&call(&gw, &token_b)), 200);
    assert!(idp.jwks_fetches() >= 2);
}

#[test]
fn no_keys_fails_closed_fast_and_recovers() {
    // A provider that is not listening yet.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let be = Backend::start(Reply::Normal);
    let url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let gw = gateway(&be, &url, "  openid: { wait: 400ms }\n");
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let token = sign(Alg::ES256, &key, r#"{"kid":"k"}"#, &claims(json!({}))).unwrap();
    for i in 0..4 {
        let started = Instant::now();
        let t = call(&gw, &token);
        assert_eq!(status_of(&t), 401, "{i}: {t}");
        assert_eq!(reason(&t), "TokenSignatureKeyNotFound", "{t}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "request {i} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(be.request_count(), 0);
    // The provider comes up: the keys arrive (retries back off, requests nudge them) and
    // the same token passes.
    let _idp = Idp::start_on(&format!("127.0.0.1:{port}"), &jwks(&[jwk(&key, "k")]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&call(&gw, &token)) != 200 {
        assert!(
            Instant::now() < deadline,
            "the keys never arrived:\n{}",
            gw.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn validate_azure_ad_token_against_a_local_authority() {
    let key = rsa("rsa2048-a.pem");
    let idp = Idp::start(&jwks(&[jwk(&key, "entra")]));
    let be = Backend::start(Reply::Normal);
    let client = "11111111-2222-3333-4444-555555555555";
    let gw = Gateway::start(&format!(
        r#"gateway:
  openid: {{ azure-ad-authority: "http://{}" }}
apis:
  - id: orders
    path: orders
    service-url: http://{}/v1
    subscription-required: false
    policy: |
      <policies><inbound><base/>
        <validate-azure-ad-token tenant-id="contoso.onmicrosoft.com">
          <client-application-ids><application-id>{client}</application-id></client-application-ids>
          <backend-application-ids><application-id>orders-api</application-id></backend-application-ids>
        </validate-azure-ad-token>
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
"#,
        idp.addr, be.addr
    ));
    let entra = |azp: &str, aud: &str, iss: &str| {
        let payload =
            json!({"iss": iss, "aud": aud, "azp": azp, "sub": "s", "exp": now() + 600}).to_string();
        sign(Alg::RS256, &key, r#"{"kid":"entra"}"#, &payload).unwrap()
    };
    let v2 = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0";
    let v1 = "https://sts.windows.net/contoso.onmicrosoft.com/";
    assert_eq!(status_of(&call(&gw, &entra(client, "orders-api", v2))), 200);
    assert_eq!(
        status_of(&call(&gw, &entra(client, "api://orders-api", v1))),
        200
    );
    for (name, token) in [
        (
            "other client",
            entra("99999999-2222-3333-4444-555555555555", "orders-api", v2),
        ),
        ("other audience", entra(client, "billing-api", v2)),
        (
            "other tenant",
            entra(
                client,
                "orders-api",
                "https://login.microsoftonline.com/fabrikam/v2.0",
            ),
        ),
    ] {
        let t = call(&gw, &token);
        assert_eq!(status_of(&t), 401, "{name}: {t}");
    }
    assert!(idp.jwks_fetches() >= 1);
}

#[test]
fn keys_are_fetched_over_https_from_a_provider_with_a_private_ca() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let idp = Idp::start_tls(&jwks(&[jwk(&key, "k")]));
    let be = Backend::start(Reply::Normal);
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let token = sign(Alg::ES256, &key, r#"{"kid":"k"}"#, &claims(json!({}))).unwrap();
    let gw = gateway(
        &be,
        &idp.openid_url(),
        &format!("  openid: {{ ca: {ca} }}\n"),
    );
    let t = call(&gw, &token);
    assert_eq!(status_of(&t), 200, "{t}\n{}", gw.log_text());
    assert!(
        gw.log_text().contains("1 signing key(s)"),
        "{}",
        gw.log_text()
    );
    // Without the private CA the provider's certificate is not trusted: no keys, 401.
    let be2 = Backend::start(Reply::Normal);
    let untrusting = gateway(&be2, &idp.openid_url(), "  openid: { wait: 1s }\n");
    let t = call(&untrusting, &token);
    assert_eq!(reason(&t), "TokenSignatureKeyNotFound", "{t}");
    assert!(
        untrusting.log_text().contains("fetch failed"),
        "{}",
        untrusting.log_text()
    );
}

#[test]
fn issuer_signing_keys_by_certificate_id() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/jwt/tests/keys");
    let be = Backend::start(Reply::Normal);
    let yaml = |cert: &str| {
        format!(
            r#"certificates:
  signer: {{ file: "{cert}" }}
apis:
  - id: orders
    path: orders
    service-url: http://{}/v1
    subscription-required: false
    policy: |
      <policies><inbound><base/>
        <validate-jwt header-name="Authorization">
          <issuer-signing-keys><key certificate-id="signer"/></issuer-signing-keys>
        </validate-jwt>
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
"#,
            be.addr
        )
    };
    let gw = Gateway::start(&yaml(&format!("{keys}/rsa2048-a.crt")));
    let good = sign(
        Alg::RS256,
        &rsa("rsa2048-a.pem"),
        r#"{"kid":"any"}"#,
        &claims(json!({})),
    )
    .unwrap();
    let other = sign(
        Alg::RS256,
        &rsa("rsa2048-b.pem"),
        r#"{"kid":"any"}"#,
        &claims(json!({})),
    )
    .unwrap();
    assert_eq!(status_of(&call(&gw, &good)), 200);
    assert_eq!(status_of(&call(&gw, &other)), 401);
    // A file without a key is refused when the configuration loads, naming the file.
    let dir = support::gateway::temp_dir("cert");
    let junk = dir.join("not-a-cert.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(dir.join("gateway.yaml"), yaml(junk.to_str().unwrap())).unwrap();
    let out = std::process::Command::new(support::gateway::binary())
        .args(["config", "validate"])
        .arg(dir.join("gateway.yaml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("certificates.signer.file") && err.contains("no usable public key"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A token whose kid only a later key set holds, arriving before its shard took in the
/// first keys: the wait for the first keys does not use up the wait for the fetch the
/// unknown kid needs.
#[test]
fn a_new_kid_on_a_shard_still_waiting_for_its_first_keys_is_fetched_and_accepted() {
    let (a, b, idp, _be, gw) = rotation();
    // Right after the first fetch (kid a only), before the shards' first look at the key
    // channel (every 50 ms), the provider adds kid b.
    let start = Instant::now();
    while idp.jwks_fetches() == 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_micros(200));
    }
    idp.set_jwks(&jwks(&[jwk(&a, "a"), jwk(&b, "b")]));
    let token_b = sign(Alg::RS256, &b, r#"{"kid":"b"}"#, &claims(json!({}))).unwrap();
    let t = call(&gw, &token_b);
    assert_eq!(status_of(&t), 200, "{t}\n{}", gw.log_text());
}
