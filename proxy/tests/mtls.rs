//! Client certificates through the real gateway with real handshakes: `required` mode
//! (the handshake decides), `optional` mode with validate-client-certificate deciding,
//! and `context.Request.Certificate` in expressions.

mod support;

use std::process::Command;

use rustls::pki_types::pem::PemObject;
use support::gateway::config;
use support::tls::{self, fixture, Options};
use support::{Backend, Gateway, Reply};

fn cert_block(mode: &str) -> String {
    let f = |n: &str| fixture(n).display().to_string();
    format!(
        "  tls:\n    certificates:\n      - {{ hostnames: [localhost], cert: {}, key: {} }}\n    client-certificates: {{ mode: {mode}, ca: {}, crl: {} }}\n",
        f("default.pem"),
        f("default.key"),
        f("client-ca.pem"),
        f("client-ca.crl")
    )
}

/// A gateway whose `orders` API runs `policy` (inbound), with `mode` client certificates.
fn gateway(backend: &Backend, mode: &str, policy: &str) -> Gateway {
    let mut yaml = config(backend.addr, &cert_block(mode));
    yaml.push_str(&format!(
        "certificates:\n  client-ca: {{ file: {} }}\n",
        fixture("client-ca.pem").display()
    ));
    if !policy.is_empty() {
        yaml = yaml.replace(
            "    subscription-required: false\n",
            &format!(
                "    subscription-required: false\n    policy: |\n      <policies><inbound><base/>{policy}</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/><set-header name=\"X-Reason\" exists-action=\"override\"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>\n"
            ),
        );
    }
    Gateway::start_tls(&yaml, 2)
}

/// One GET with `cert` (a fixture base name) or none; `None` when the connection failed.
fn call(gw: &Gateway, cert: Option<&'static str>) -> Option<support::Response> {
    let cfg = tls::config(&Options {
        client_cert: cert,
        ..Options::default()
    });
    let mut conn = tls::connect(gw.tls_addr.unwrap(), "localhost", &cfg).ok()?;
    tls::get(&mut conn, "/orders/orders/1", "localhost")
}

fn thumbprint(base: &str) -> String {
    let der =
        rustls::pki_types::CertificateDer::from_pem_file(fixture(&format!("{base}.pem"))).unwrap();
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[test]
fn required_mode_lets_only_trusted_unrevoked_certificates_in() {
    let backend = Backend::start(Reply::Normal);
    let gw = gateway(&backend, "required", "");
    assert_eq!(call(&gw, Some("client")).map(|r| r.status), Some(200));
    for (cert, why) in [
        (None, "no certificate"),
        (Some("rogue"), "wrong CA"),
        (Some("revoked"), "revoked by the CRL"),
    ] {
        assert!(call(&gw, cert).is_none(), "{why}: refused in the handshake");
    }
    // curl with a client certificate (a real client).
    let port = gw.tls_addr.unwrap().port();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(fixture("gw-ca.pem"))
        .arg("--cert")
        .arg(fixture("client.pem"))
        .arg("--key")
        .arg(fixture("client.key"))
        .arg(format!("https://localhost:{port}/orders/orders/1"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
}

#[test]
fn optional_mode_leaves_the_decision_to_validate_client_certificate() {
    let backend = Backend::start(Reply::Normal);
    let gw = gateway(&backend, "optional", "<validate-client-certificate/>");
    assert_eq!(call(&gw, Some("client")).unwrap().status, 200);
    for (cert, reason, message) in [
        (
            None,
            "ClientCertificateNotPresent",
            "Client certificate is missing.",
        ),
        (
            Some("rogue"),
            "ClientCertificateNotTrusted",
            "Client certificate is not trusted.",
        ),
        (
            Some("revoked"),
            "ClientCertificateRevoked",
            "Client certificate has been revoked.",
        ),
    ] {
        let r = call(&gw, cert).expect("optional: the handshake succeeds");
        assert_eq!(r.status, 401, "{cert:?}");
        assert_eq!(r.header("X-Reason").as_deref(), Some(reason));
        assert_eq!(
            r.text(),
            format!("{{\"statusCode\":401,\"message\":\"{message}\"}}")
        );
    }
}

#[test]
fn identities_and_relaxed_checks() {
    let backend = Backend::start(Reply::Normal);
    let good = thumbprint("client");
    let issuer = thumbprint("client-ca");
    let policy = format!(
        "<validate-client-certificate validate-trust=\"false\" validate-revocation=\"false\"><identities><identity thumbprint=\"{good}\"/><identity common-name=\"client-revoked\" issuer-certificate-id=\"client-ca\"/></identities></validate-client-certificate>"
    );
    let gw = gateway(&backend, "optional", &policy);
    assert_eq!(
        call(&gw, Some("client")).unwrap().status,
        200,
        "by thumbprint"
    );
    assert_eq!(
        call(&gw, Some("revoked")).unwrap().status,
        200,
        "by CN + issuer"
    );
    // rogue has client's subject but another key and issuer: no identity matches.
    let r = call(&gw, Some("rogue")).unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("X-Reason").as_deref(),
        Some("ClientCertificateIdentityMismatch")
    );
    drop(gw);

    let policy = format!(
        "<validate-client-certificate><identities><identity issuer-thumbprint=\"{issuer}\" dns-name=\"client-one.contoso.test\" subject=\"C=US, O=Contoso, CN=client-one\"/></identities></validate-client-certificate>"
    );
    let gw = gateway(&backend, "optional", &policy);
    assert_eq!(call(&gw, Some("client")).unwrap().status, 200);
}

#[test]
fn request_certificate_in_expressions() {
    let backend = Backend::start(Reply::Normal);
    let policy = "<set-header name=\"X-Subject\"><value>@(context.Request.Certificate == null ? \"none\" : context.Request.Certificate.Subject)</value></set-header>\
                  <set-header name=\"X-Thumb\"><value>@(context.Request.Certificate?.Thumbprint ?? \"none\")</value></set-header>\
                  <set-header name=\"X-Verified\"><value>@(context.Request.Certificate == null ? \"none\" : context.Request.Certificate.Verify().ToString())</value></set-header>\
                  <set-header name=\"X-NotAfter\"><value>@(context.Request.Certificate == null ? \"none\" : context.Request.Certificate.NotAfter.Year.ToString())</value></set-header>";
    let gw = gateway(&backend, "optional", policy);
    let head = |cert| {
        assert_eq!(call(&gw, cert).unwrap().status, 200);
        backend.last_head()
    };
    let h = head(Some("client"));
    assert!(
        h.contains("X-Subject: C=US, O=Contoso, CN=client-one"),
        "{h}"
    );
    assert!(
        h.contains(&format!("X-Thumb: {}", thumbprint("client"))),
        "{h}"
    );
    assert!(h.contains("X-Verified: True"), "{h}");
    let h = head(Some("rogue"));
    assert!(h.contains("X-Verified: False"), "{h}");
    let h = head(Some("revoked"));
    assert!(h.contains("X-Verified: False"), "{h}");
    let h = head(None);
    assert!(
        h.contains("X-Subject: none") && h.contains("X-Verified: none"),
        "{h}"
    );
    // Over plain HTTP there is no certificate either.
    let r = support::get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 200);
    assert!(backend.last_head().contains("X-Thumb: none"));
}

#[test]
fn a_ca_certificate_sent_along_proves_no_issuer() {
    // validate-trust off, identity pinned to the client CA's thumbprint: a rogue
    // certificate sent together with the real (public) CA certificate must not pass.
    let backend = Backend::start(Reply::Normal);
    let policy = "<validate-client-certificate validate-trust=\"false\" validate-revocation=\"false\"><identities><identity issuer-certificate-id=\"client-ca\"/></identities></validate-client-certificate>";
    let gw = gateway(&backend, "optional", policy);
    let claim = |cert, chain| {
        let cfg = tls::config(&Options {
            client_cert: Some(cert),
            chain,
            ..Options::default()
        });
        let mut conn = tls::connect(gw.tls_addr.unwrap(), "localhost", &cfg).unwrap();
        tls::get(&mut conn, "/orders/orders/1", "localhost").unwrap()
    };
    let forged = claim("rogue", &["client-ca"]);
    assert_eq!(forged.status, 401);
    assert_eq!(
        forged.header("X-Reason").as_deref(),
        Some("ClientCertificateIdentityMismatch")
    );
    assert_eq!(
        claim("client", &[]).status,
        200,
        "really issued by client-ca"
    );
}
