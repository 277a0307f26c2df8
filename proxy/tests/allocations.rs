//! Heap allocations per proxied request in steady state, counted.
//!
//! The gateway runs in this process (its shards are threads here) behind a counting
//! global allocator. The load client and the backend in this test are written to
//! allocate nothing per request (fixed buffers), so every allocation counted during the
//! measured window is the gateway's. Target: zero.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789";

/// A backend that answers every request head with a fixed response, allocation-free.
fn start_backend() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut have = 0;
                loop {
                    match s.read(&mut buf[have..]) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => have += n,
                    }
                    while let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                        if s.write_all(RESPONSE).is_err() {
                            return;
                        }
                        buf.copy_within(i + 4..have, 0);
                        have -= i + 4;
                    }
                }
            });
        }
    });
    addr
}

fn request(s: &mut TcpStream, req: &[u8], buf: &mut [u8]) {
    s.write_all(req).unwrap();
    let mut have = 0;
    loop {
        let n = s.read(&mut buf[have..]).unwrap();
        assert!(n > 0, "gateway closed the connection");
        have += n;
        if have >= RESPONSE.len() {
            break;
        }
    }
    assert!(
        buf.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..have])
    );
}

/// A 10-policy inbound pipeline of the kind the policy-engine issue benchmarks.
const POLICY: &str = r#"
    policy: |
      <policies><inbound><base/>
        <set-header name="X-A"><value>1</value></set-header>
        <set-header name="X-B" exists-action="skip"><value>2</value></set-header>
        <set-header name="X-Drop" exists-action="delete"/>
        <set-variable name="agent" value="@(context.Request.Headers.GetValueOrDefault(&quot;User-Agent&quot;, &quot;&quot;))"/>
        <choose><when condition="@((string)context.Variables[&quot;agent&quot;] == &quot;alloc-test&quot;)"><set-header name="X-Agent"><value>known</value></set-header></when></choose>
        <rewrite-uri template="/items/{id}"/>
        <set-query-parameter name="v" exists-action="override"><value>2</value></set-query-parameter>
        <check-header name="Accept" failed-check-httpcode="406" failed-check-error-message="Accept required" ignore-case="true"/>
        <set-backend-service base-url="http://BACKEND"/>
      </inbound><outbound><base/><set-header name="X-Out"><value>@(context.Response.StatusCode.ToString())</value></set-header></outbound></policies>
"#;

/// The counter is process-wide: tests that count must not overlap.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn count_allocations(policy: &str, template: &str) {
    count_allocations_with(
        policy,
        template,
        "    subscription-required: false\n",
        "",
        "",
    )
}

/// `api_keys`: lines added to the API; `extra`: top-level YAML after it; `headers`:
/// request header lines.
fn count_allocations_with(
    policy: &str,
    template: &str,
    api_keys: &str,
    extra: &str,
    headers: &str,
) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let backend = start_backend();
    let policy = policy.replace("BACKEND", &backend.to_string());
    let yaml = format!(
        "apis:\n  - id: a\n    path: a\n    service-url: http://{backend}\n{api_keys}{policy}    operations:\n      - {{ id: g, method: GET, url-template: \"{template}\" }}\n{extra}"
    );
    let loaded = tollgate_core::config::load_str(&yaml, Path::new("alloc.yaml")).unwrap();
    let snapshot = Arc::new(tollgate::snapshot::Snapshot::build(&loaded).unwrap());
    for driver in [
        tollgate::runtime::Driver::IoUring,
        tollgate::runtime::Driver::Epoll,
    ] {
        let gw = tollgate::runtime::start(
            snapshot.clone(),
            "127.0.0.1:0".parse().unwrap(),
            1,
            tollgate::runtime::DriverChoice::Force(driver),
        )
        .unwrap();
        let mut s = TcpStream::connect(gw.http_addr.unwrap()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!("GET /a/items/1?x=y HTTP/1.1\r\nHost: gw\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n{headers}\r\n");
        let req = req.as_bytes();
        let mut buf = [0u8; 4096];
        for _ in 0..2000 {
            request(&mut s, req, &mut buf);
        }
        // Three windows; the harness' own threads may allocate now and then (they are
        // counted too, the counter is process-wide), but a per-request allocation in
        // the gateway shows up in every window, so the quietest window must be 0.
        const N: u64 = 5000;
        let mut allocs = u64::MAX;
        for _ in 0..3 {
            let before = tollgate_alloc_count::total();
            for _ in 0..N {
                request(&mut s, req, &mut buf);
            }
            allocs = allocs.min(tollgate_alloc_count::total() - before);
        }
        let path = match (policy.is_empty(), headers.is_empty()) {
            (true, true) => "fast path",
            (true, false) => "fast path with a subscription key",
            (false, true) => "policy path",
            (false, false) => "validate-jwt + subscription key",
        };
        eprintln!("{driver}, {path}: {allocs} heap allocations over {N} proxied requests");
        assert_eq!(
            allocs, 0,
            "{driver}, {path}: steady-state requests allocated"
        );
        drop(s);
        gw.shutdown();
        gw.join();
    }
}

#[test]
fn steady_state_proxying_allocates_nothing() {
    count_allocations("", "/*");
}

#[test]
fn steady_state_policy_pipeline_allocates_nothing() {
    count_allocations(POLICY, "/items/{id}");
}

#[test]
fn steady_state_subscription_key_allocates_nothing() {
    count_allocations_with(
        "",
        "/*",
        "",
        "products: [ { id: p, apis: [a] } ]\nsubscriptions: [ { id: s, scope: product/p, primary-key: { value: alloc-key-0123456789 } } ]\n",
        "Ocp-Apim-Subscription-Key: alloc-key-0123456789\r\n",
    );
}

/// validate-jwt (RS256, verified once then cached) behind a subscription key, a rate
/// limit per subscription and one per client IP, and two set-headers: the policy path of
/// a typical protected API.
#[test]
fn steady_state_validate_jwt_with_subscription_allocates_nothing() {
    use tollgate_jwt::sign::{fixture, sign, SigningKey};
    let key = SigningKey::from_pkcs8_pem(fixture("rsa2048-a.pem")).unwrap();
    let jwk = key.public_jwk();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let token = sign(
        tollgate_jwt::Alg::RS256,
        &key,
        r#"{"kid":"k1"}"#,
        &format!(r#"{{"iss":"https://idp.test/","aud":"api://a","sub":"alice","exp":{exp}}}"#),
    )
    .unwrap();
    let policy = format!(
        r#"    policy: |
      <policies><inbound><base/>
        <validate-jwt header-name="Authorization">
          <issuer-signing-keys><key id="k1" n="{}" e="{}"/></issuer-signing-keys>
          <audiences><audience>api://a</audience></audiences>
          <issuers><issuer>https://idp.test/</issuer></issuers>
        </validate-jwt>
        <rate-limit calls="1000000000" renewal-period="60"/>
        <rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Request.IpAddress)"/>
        <set-header name="X-Caller"><value>@(context.Subscription.Id)</value></set-header>
        <set-header name="Authorization" exists-action="delete"/>
      </inbound></policies>
"#,
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap()
    );
    count_allocations_with(
        &policy,
        "/items/{id}",
        "",
        "products: [ { id: p, apis: [a] } ]\nsubscriptions: [ { id: s, scope: product/p, primary-key: { value: alloc-key-0123456789 } } ]\n",
        &format!("Ocp-Apim-Subscription-Key: alloc-key-0123456789\r\nAuthorization: Bearer {token}\r\n"),
    );
}

/// TLS 1.3 keep-alive requests: rustls' buffered API allocates for every record it
/// encrypts or decrypts, so the TLS path is not allocation-free. This measures what it
/// costs (printed) and bounds it, so a regression shows.
#[test]
fn steady_state_tls_allocations_are_bounded() {
    use rustls::pki_types::pem::PemObject;
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let backend = start_backend();
    let fixture = |n: &str| format!("{}/tests/fixtures/tls/{n}", env!("CARGO_MANIFEST_DIR"));
    let yaml = format!(
        "gateway:\n  tls:\n    certificates: [ {{ hostnames: [localhost], cert: {}, key: {} }} ]\n    watch-interval: 0s\napis:\n  - id: a\n    path: a\n    service-url: http://{backend}\n    subscription-required: false\n    operations:\n      - {{ id: g, method: GET, url-template: \"/*\" }}\n",
        fixture("default.pem"),
        fixture("default.key")
    );
    let loaded = tollgate_core::config::load_str(&yaml, Path::new("alloc.yaml")).unwrap();
    let snapshot = Arc::new(tollgate::snapshot::Snapshot::build(&loaded).unwrap());
    let listen = tollgate::runtime::Listen {
        http: None,
        https: Some("127.0.0.1:0".parse().unwrap()),
    };
    let gw = tollgate::runtime::start_listening(
        snapshot,
        listen,
        1,
        tollgate::runtime::DriverChoice::Force(tollgate::runtime::Driver::IoUring),
    )
    .unwrap();
    let addr = gw.https_addr.unwrap();
    let per_request = std::thread::spawn(move || {
        tollgate_alloc_count::exclude_this_thread();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_file(fixture("gw-ca.pem")).unwrap())
            .unwrap();
        let config = Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
        );
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(config, name).unwrap();
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let req = b"GET /a/items/1 HTTP/1.1\r\nHost: gw\r\nUser-Agent: alloc-test\r\n\r\n";
        let mut buf = [0u8; 4096];
        let mut one = |tls: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>| {
            tls.write_all(req).unwrap();
            let mut have = 0;
            while have < RESPONSE.len() {
                let n = tls.read(&mut buf[have..]).unwrap();
                assert!(n > 0);
                have += n;
            }
            assert!(buf.starts_with(b"HTTP/1.1 200"));
        };
        for _ in 0..2000 {
            one(&mut tls);
        }
        const N: u64 = 5000;
        let mut least = u64::MAX;
        for _ in 0..3 {
            let before = tollgate_alloc_count::total();
            for _ in 0..N {
                one(&mut tls);
            }
            least = least.min(tollgate_alloc_count::total() - before);
        }
        least as f64 / N as f64
    })
    .join()
    .unwrap();
    eprintln!(
        "io_uring, TLS 1.3 keep-alive: {per_request:.2} heap allocations per proxied request"
    );
    assert!(
        per_request <= 2.5,
        "TLS path allocations per request grew: {per_request:.2}"
    );
    gw.shutdown();
    gw.join();
}
