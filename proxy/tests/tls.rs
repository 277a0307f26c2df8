//! TLS termination through the real gateway: certificates by SNI, versions, ALPN,
//! resumption across shards, hot certificate reload under load, config errors, and
//! real clients (curl, openssl s_client) besides a rustls one.

mod support;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::HandshakeKind;
use support::gateway::{binary, config};
use support::tls::{self, fixture, Options};
use support::{Backend, Gateway, Reply};

fn tls_yaml(backend: std::net::SocketAddr, tls_block: &str) -> String {
    config(backend, &format!("  tls:\n{tls_block}"))
}

fn three_certs() -> String {
    let f = |n: &str| fixture(n).display().to_string();
    format!(
        "    certificates:\n      - {{ hostnames: [localhost], cert: {}, key: {} }}\n      - {{ hostnames: [api.test], cert: {}, key: {} }}\n      - {{ hostnames: [\"*.wild.test\"], cert: {}, key: {} }}\n",
        f("default.pem"),
        f("default.key"),
        f("api.pem"),
        f("api.key"),
        f("wild.pem"),
        f("wild.key")
    )
}

#[test]
fn sni_picks_exact_wildcard_and_default_certificates() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &three_certs()), 2);
    let addr = gw.tls_addr.unwrap();
    let cfg = tls::config(&Options::default());
    for (sni, cn) in [
        ("api.test", "api.test"),
        ("x.wild.test", "*.wild.test"),
        ("localhost", "localhost"),
        // No match, and no SNI at all (an IP address): the default (first) certificate.
        ("other.test", "localhost"),
        ("127.0.0.1", "localhost"),
    ] {
        let insecure = sni == "other.test";
        let conn = if insecure {
            // The default certificate does not name other.test: only look at it.
            tls::connect_unverified(addr, sni)
        } else {
            tls::connect(addr, sni, &cfg).unwrap()
        };
        assert_eq!(tls::server_cn(&conn), cn, "SNI {sni}");
    }
    let mut conn = tls::connect(addr, "api.test", &cfg).unwrap();
    let r = tls::get(&mut conn, "/orders/orders/5", "api.test").unwrap();
    assert_eq!(r.status, 200);
    let head = backend.last_head();
    assert!(head.contains("X-Forwarded-Proto: https"), "{head}");
}

#[test]
fn tls12_and_tls13_negotiate_and_alpn_prefers_h2() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &three_certs()), 1);
    let addr = gw.tls_addr.unwrap();
    for (versions, want) in [
        (tls::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (tls::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ] {
        let both = Options {
            versions,
            alpn: vec![b"http/1.1".to_vec(), b"h2".to_vec()],
            ..Options::default()
        };
        let conn = tls::connect(addr, "localhost", &tls::config(&both)).unwrap();
        assert_eq!(conn.conn.alpn_protocol(), Some(&b"h2"[..]), "h2 first");
        let opts = Options {
            versions,
            ..Options::default()
        };
        let mut conn = tls::connect(addr, "localhost", &tls::config(&opts)).unwrap();
        assert_eq!(conn.conn.protocol_version(), Some(want));
        assert_eq!(conn.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        // Keep-alive: several requests on one TLS connection.
        for _ in 0..3 {
            let r = tls::get(&mut conn, "/orders/orders/1", "localhost").unwrap();
            assert_eq!(r.status, 200);
        }
    }
}

#[test]
fn min_version_and_cipher_suites_are_enforced() {
    let backend = Backend::start(Reply::Normal);
    let block = format!(
        "    min-version: \"1.3\"\n    cipher-suites: [TLS13_AES_128_GCM_SHA256]\n{}",
        three_certs()
    );
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &block), 1);
    let addr = gw.tls_addr.unwrap();
    let tls12 = Options {
        versions: tls::TLS12,
        ..Options::default()
    };
    assert!(tls::connect(addr, "localhost", &tls::config(&tls12)).is_err());
    let mut conn = tls::connect(addr, "localhost", &tls::config(&Options::default())).unwrap();
    let suite = conn.conn.negotiated_cipher_suite().unwrap().suite();
    assert_eq!(suite.as_str(), Some("TLS13_AES_128_GCM_SHA256"));
    assert_eq!(
        tls::get(&mut conn, "/orders/orders/1", "localhost")
            .unwrap()
            .status,
        200
    );
}

#[test]
fn sessions_resume_on_whichever_shard_the_client_lands() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &three_certs()), 2);
    let addr = gw.tls_addr.unwrap();
    for (version, versions) in [("1.3", tls::TLS13), ("1.2", tls::TLS12)] {
        let cfg = tls::config(&Options {
            versions,
            ..Options::default()
        });
        let mut first = tls::connect(addr, "localhost", &cfg).unwrap();
        assert_eq!(first.conn.handshake_kind(), Some(HandshakeKind::Full));
        // A request makes the client read the TLS 1.3 tickets sent after the handshake.
        assert_eq!(
            tls::get(&mut first, "/orders/orders/1", "localhost")
                .unwrap()
                .status,
            200
        );
        // Connections spread over both shards (SO_REUSEPORT): all of them resume.
        for i in 0..8 {
            let mut c = tls::connect(addr, "localhost", &cfg).unwrap();
            assert_eq!(
                c.conn.handshake_kind(),
                Some(HandshakeKind::Resumed),
                "TLS {version} connection {i}"
            );
            assert_eq!(
                tls::get(&mut c, "/orders/orders/1", "localhost")
                    .unwrap()
                    .status,
                200
            );
        }
    }
}

#[test]
fn curl_and_openssl_talk_to_it() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &three_certs()), 2);
    let port = gw.tls_addr.unwrap().port();
    let out = Command::new("curl")
        .args(["-sS", "--http1.1", "--cacert"])
        .arg(fixture("gw-ca.pem"))
        .args(["-w", "\n%{http_code} %{http_version}"])
        .arg(format!("https://localhost:{port}/orders/orders/7"))
        .output()
        .expect("curl is installed (scripts/test.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.ends_with("200 1.1"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // openssl s_client: a saved session is resumed ("Reused").
    let dir = support::gateway::temp_dir("sess");
    let sess = dir.join("s.pem");
    for (arg, want) in [("-sess_out", "New,"), ("-sess_in", "Reused,")] {
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-servername", "localhost", "-tls1_3", arg])
            .arg(&sess)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl is installed (scripts/test.sh installs it)");
        // Ask for something so the TLS 1.3 ticket arrives before s_client exits.
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(
                b"GET /orders/orders/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
            .unwrap();
        let mut text = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        drop(stdin);
        let _ = child.wait();
        assert!(text.contains(want), "{arg}: {text}");
        assert!(text.contains("HTTP/1.1 200"), "{text}");
    }
}

#[test]
fn plain_http_on_the_tls_port_and_silent_clients_are_dropped() {
    let backend = Backend::start(Reply::Normal);
    let yaml = tls_yaml(backend.addr, &three_certs()).replace(
        "  shards: 2\n",
        "  shards: 1\n  timeouts: { client-header: 300ms }\n",
    );
    let gw = Gateway::start_tls(&yaml, 1);
    let addr = gw.tls_addr.unwrap();
    let reply = support::raw(addr, b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(!reply.starts_with("HTTP/"), "{reply}");
    // A client that never starts the handshake is dropped after client-header.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0);
    assert!(start.elapsed() < Duration::from_secs(3));
    // Still serving.
    let mut conn = tls::connect(addr, "localhost", &tls::config(&Options::default())).unwrap();
    assert_eq!(
        tls::get(&mut conn, "/orders/orders/1", "localhost")
            .unwrap()
            .status,
        200
    );
}

/// default.pem/key copied to a fresh folder (so a test can replace them), and the
/// `tls:` block serving them with `watch` as the watch interval.
fn copied_certificate(tag: &str, watch: &str) -> (PathBuf, PathBuf, String) {
    let dir = support::gateway::temp_dir(tag);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::copy(fixture("default.pem"), &cert).unwrap();
    std::fs::copy(fixture("default.key"), &key).unwrap();
    let block = format!(
        "    watch-interval: {watch}\n    certificates:\n      - {{ hostnames: [localhost], cert: {}, key: {} }}\n",
        cert.display(),
        key.display()
    );
    (cert, key, block)
}

#[test]
fn certificates_reload_under_load_without_a_failed_request() {
    let backend = Backend::start(Reply::Normal);
    let (cert, key, block) = copied_certificate("reload", "100ms");
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &block), 2);
    let addr = gw.tls_addr.unwrap();
    let cfg = tls::config(&Options::default());
    // A keep-alive connection opened before the reload keeps working after it.
    let mut long_lived = tls::connect(addr, "localhost", &cfg).unwrap();
    assert_eq!(
        tls::get(&mut long_lived, "/orders/orders/1", "localhost")
            .unwrap()
            .status,
        200
    );

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, failures, done, seen) =
                (stop.clone(), failures.clone(), done.clone(), seen.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // New connections (full handshakes, no resumption: fresh configs).
                    let fresh = tls::no_resume(&Options::default());
                    match tls::connect(addr, "localhost", &fresh) {
                        Ok(mut c) => {
                            let cn = tls::server_cn(&c);
                            match tls::get(&mut c, "/orders/orders/1", "localhost") {
                                Some(r) if r.status == 200 => {
                                    done.fetch_add(1, Ordering::Relaxed);
                                    seen.lock().unwrap().push(cn);
                                }
                                _ => {
                                    failures.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(600));
    // Replace both files the way deployment tools do: write aside, rename over.
    for (src, dst) in [("default2.key", &key), ("default2.pem", &cert)] {
        let tmp = dst.with_extension("tmp");
        std::fs::copy(fixture(src), &tmp).unwrap();
        std::fs::rename(&tmp, dst).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.lock().unwrap().iter().any(|cn| cn == "localhost-2") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().any(|cn| cn == "localhost"),
        "served the first certificate"
    );
    assert!(
        seen.iter().any(|cn| cn == "localhost-2"),
        "new connections get the new certificate; log:\n{}",
        gw.log_text()
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "{} done",
        done.load(Ordering::Relaxed)
    );
    assert!(done.load(Ordering::Relaxed) > 20);
    assert_eq!(
        tls::get(&mut long_lived, "/orders/orders/2", "localhost")
            .unwrap()
            .status,
        200
    );
    assert!(gw.log_shows("TLS certificates reloaded"));
}

#[test]
fn bad_certificates_fail_the_load_naming_file_and_key() {
    let f = |n: &str| fixture(n).display().to_string();
    let cases = [
        (f("api.pem"), f("wild.key"), "does not belong", "wild.key"),
        (
            f("expired.pem"),
            f("expired.key"),
            "expired on 2021-01-01",
            "expired.pem",
        ),
        (f("missing.pem"), f("api.key"), "cannot read", "missing.pem"),
    ];
    for (cert, key, want, file) in cases {
        let dir = support::gateway::temp_dir("badcert");
        let path = dir.join("gateway.yaml");
        let yaml = format!(
            "gateway:\n  listen: {{ https: \"127.0.0.1:0\" }}\n  tls:\n    certificates:\n      - {{ hostnames: [localhost], cert: {cert}, key: {key} }}\napis: []\n"
        );
        std::fs::write(&path, yaml).unwrap();
        for args in [&["config", "validate"][..], &["run", "--config"][..]] {
            let out = Command::new(binary())
                .args(args)
                .arg(&path)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} {want}: {err}");
            assert!(err.contains(want) && err.contains(file), "{args:?}: {err}");
            assert!(err.contains("gateway.yaml:5:"), "located: {err}");
        }
    }
}

#[test]
fn websocket_over_tls_echoes_both_ways() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &three_certs()), 1);
    let cfg = tls::config(&Options::default());
    let mut conn = tls::connect(gw.tls_addr.unwrap(), "localhost", &cfg).unwrap();
    conn.write_all(
        b"GET /orders/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let r = support::client::read_response(&mut conn, false).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    for msg in [&b"ping-1"[..], b"second message", &[0u8, 1, 2, 255]] {
        conn.write_all(msg).unwrap();
        conn.flush().unwrap();
        let mut got = vec![0u8; msg.len()];
        conn.read_exact(&mut got).unwrap();
        assert_eq!(got, msg);
    }
}

#[test]
fn sighup_reloads_the_certificates() {
    let backend = Backend::start(Reply::Normal);
    // No watching: only SIGHUP reloads.
    let (cert, key, block) = copied_certificate("hup", "0s");
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &block), 2);
    let addr = gw.tls_addr.unwrap();
    let fresh = || tls::no_resume(&Options::default());
    assert_eq!(
        tls::server_cn(&tls::connect(addr, "localhost", &fresh()).unwrap()),
        "localhost"
    );
    std::fs::copy(fixture("default2.pem"), &cert).unwrap();
    std::fs::copy(fixture("default2.key"), &key).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        tls::server_cn(&tls::connect(addr, "localhost", &fresh()).unwrap()),
        "localhost",
        "not watched: unchanged until asked"
    );
    // SAFETY: kill(2) with a pid we spawned and still own.
    unsafe {
        libc::kill(gw.child.id() as i32, libc::SIGHUP);
    }
    assert!(
        gw.log_shows("TLS certificates reloaded"),
        "{}",
        gw.log_text()
    );
    assert_eq!(
        tls::server_cn(&tls::connect(addr, "localhost", &fresh()).unwrap()),
        "localhost-2"
    );
}

#[test]
fn ocsp_response_is_stapled() {
    let backend = Backend::start(Reply::Normal);
    let f = |n: &str| fixture(n).display().to_string();
    let block = format!(
        "    certificates:\n      - {{ hostnames: [localhost], cert: {}, key: {}, ocsp: {} }}\n",
        f("default.pem"),
        f("default.key"),
        f("default.ocsp")
    );
    let gw = Gateway::start_tls(&tls_yaml(backend.addr, &block), 1);
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-status",
            "-servername",
            "localhost",
            "-connect",
        ])
        .arg(gw.tls_addr.unwrap().to_string())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("OCSP Response Status: successful"), "{text}");
    assert!(text.contains("Cert Status: good"), "{text}");
}
