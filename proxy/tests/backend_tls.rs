//! TLS towards backends through the real gateway and a real rustls backend: https
//! service URLs, verification on by default (untrusted certificate, wrong name → 502),
//! `verify: false`, a private CA, SNI, client certificates (mTLS to the backend), pooled
//! TLS connections, and send-request over https.

mod support;

use std::sync::atomic::Ordering;

use support::tls::fixture;
use support::tls_backend::TlsBackend;
use support::{get, Gateway};

/// One API `orders` at `service_url`, plus `backends` YAML (may be empty).
fn yaml(service_url: &str, backends: &str, policy: &str) -> String {
    let policy = if policy.is_empty() {
        String::new()
    } else {
        format!("    policy: |\n      <policies><inbound><base/>{policy}</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>\n")
    };
    format!(
        "gateway:\n  shards: 1\n{backends}apis:\n  - id: orders\n    path: orders\n    service-url: {service_url}\n    subscription-required: false\n{policy}    operations:\n      - {{ id: get, method: GET, url-template: \"/*\" }}\n"
    )
}

fn ca() -> String {
    fixture("gw-ca.pem").display().to_string()
}

#[test]
fn https_service_url_with_a_private_ca_pools_its_connections() {
    let be = TlsBackend::start("default", None);
    let url = format!("https://localhost:{}/v1", be.addr.port());
    let backends = format!(
        "backends:\n  internal:\n    url: {url}\n    tls: {{ ca: {} }}\n",
        ca()
    );
    // One shard: one pool (each shard pools its own connections).
    let gw = Gateway::start_with(&yaml(&url, &backends, ""), &[], 1);
    for i in 0..5 {
        let r = get(gw.addr, &format!("/orders/x/{i}"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            r.text().starts_with(&format!("GET /v1/x/{i} HTTP/1.1")),
            "{}",
            r.text()
        );
        assert!(r
            .text()
            .contains(&format!("Host: localhost:{}", be.addr.port())));
    }
    assert_eq!(
        be.connections.load(Ordering::SeqCst),
        1,
        "one pooled TLS connection"
    );
}

#[test]
fn untrusted_or_misnamed_backend_certificates_fail_with_502() {
    let be = TlsBackend::start("default", None);
    let port = be.addr.port();
    // Default settings: Mozilla's roots do not know the test CA.
    let url = format!("https://localhost:{port}");
    let gw = Gateway::start(&yaml(&url, "", ""));
    let r = get(gw.addr, "/orders/a");
    assert_eq!(r.status, 502);
    assert_eq!(
        r.text(),
        "{\"statusCode\":502,\"message\":\"Backend service is unreachable\"}"
    );
    assert!(gw.log_shows("TLS handshake failed"), "{}", gw.log_text());
    drop(gw);
    // Trusted CA, but the certificate does not name the SNI host.
    let backends = format!(
        "backends:\n  b:\n    url: {url}\n    tls: {{ ca: {}, sni: api.test }}\n",
        ca()
    );
    let gw = Gateway::start(&yaml(&url, &backends, ""));
    assert_eq!(get(gw.addr, "/orders/a").status, 502);
    drop(gw);
    // verify: false accepts it.
    let backends = format!("backends:\n  b:\n    url: {url}\n    tls: {{ verify: false }}\n");
    let gw = Gateway::start(&yaml(&url, &backends, ""));
    assert_eq!(get(gw.addr, "/orders/a").status, 200);
}

#[test]
fn client_certificate_towards_the_backend() {
    let be = TlsBackend::start("default", Some("client-ca"));
    let url = format!("https://localhost:{}", be.addr.port());
    let gw = Gateway::start(&yaml(
        &url,
        &format!(
            "backends:\n  b:\n    url: {url}\n    tls: {{ ca: {} }}\n",
            ca()
        ),
        "",
    ));
    assert_eq!(
        get(gw.addr, "/orders/a").status,
        502,
        "no client certificate"
    );
    drop(gw);
    let backends = format!(
        "backends:\n  b:\n    url: {url}\n    tls: {{ ca: {}, client-cert: {}, client-key: {} }}\n",
        ca(),
        fixture("client.pem").display(),
        fixture("client.key").display()
    );
    let gw = Gateway::start(&yaml(&url, &backends, ""));
    assert_eq!(get(gw.addr, "/orders/a").status, 200);
    assert_eq!(be.client_certs.lock().unwrap().last(), Some(&true));
}

#[test]
fn set_backend_service_and_send_request_over_https() {
    let be = TlsBackend::start("default", None);
    let url = format!("https://localhost:{}", be.addr.port());
    let backends = format!(
        "backends:\n  b:\n    url: {url}/named\n    tls: {{ ca: {} }}\n",
        ca()
    );
    let policy = format!(
        "<send-request mode=\"new\" response-variable-name=\"side\"><set-url>{url}/side</set-url><set-method>GET</set-method></send-request>\
         <set-header name=\"X-Side\"><value>@(((IResponse)context.Variables[\"side\"]).StatusCode.ToString())</value></set-header>\
         <set-backend-service backend-id=\"b\"/>"
    );
    let gw = Gateway::start(&yaml("http://127.0.0.1:9", &backends, &policy));
    let r = get(gw.addr, "/orders/p");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with("GET /named/p HTTP/1.1"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("X-Side: 200"), "{}", r.text());
    let heads = be.heads.lock().unwrap();
    assert!(
        heads.iter().any(|h| h.starts_with("GET /side ")),
        "{heads:?}"
    );
}

#[test]
fn bad_backend_tls_files_are_load_errors() {
    let url = "https://localhost:9443";
    let backends = format!(
        "backends:\n  b:\n    url: {url}\n    tls: {{ ca: {}/missing.pem }}\n",
        fixture("").display()
    );
    let dir = support::gateway::temp_dir("badbe");
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, yaml(url, &backends, "")).unwrap();
    let out = std::process::Command::new(support::gateway::binary())
        .args(["config", "validate"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("backends.b.tls.ca") && err.contains("missing.pem"),
        "{err}"
    );
}
