//! HTTP/2 through the real gateway: curl over TLS (ALPN) and h2c, many streams with
//! h2load, bodies larger than the flow-control windows both ways, and rapid reset.

mod support;

use std::future::poll_fn;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::gateway::config;
use support::tls::fixture;
use support::{Backend, Gateway, Reply};

fn yaml(backend: std::net::SocketAddr, http2: &str) -> String {
    let f = |n: &str| fixture(n).display().to_string();
    config(
        backend,
        &format!(
            "  http2: {http2}\n  tls:\n    certificates:\n      - {{ hostnames: [localhost], cert: {}, key: {} }}\n",
            f("default.pem"),
            f("default.key")
        ),
    )
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(fixture("gw-ca.pem"))
        .args(args)
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_speaks_h2_over_tls_and_h2c_when_allowed() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&yaml(backend.addr, "{ h2c: true }"), 2);
    let tls = format!(
        "https://localhost:{}/orders/orders/7",
        gw.tls_addr.unwrap().port()
    );
    let out = curl(&["--http2", "-w", "\n%{http_code} %{http_version}", &tls]);
    assert!(out.ends_with("200 2"), "{out}");
    assert!(out.starts_with("GET /v1/orders/7 HTTP/1.1"), "{out}");
    let head = backend.last_head();
    assert!(head.contains("X-Forwarded-Proto: https"), "{head}");
    let h2c = format!("http://{}/orders/orders/8", gw.addr);
    let out = curl(&[
        "--http2-prior-knowledge",
        "-w",
        "\n%{http_code} %{http_version}",
        &h2c,
    ]);
    assert!(out.ends_with("200 2"), "{out}");
    // A gateway error keeps APIM's body over HTTP/2.
    let missing = format!("http://{}/nothing", gw.addr);
    let out = curl(&["--http2-prior-knowledge", "-w", " %{http_code}", &missing]);
    assert_eq!(
        out,
        "{\"statusCode\":404,\"message\":\"Resource not found\"} 404"
    );
    // HTTP/1.1 still works on both listeners.
    let out = curl(&[
        "--http1.1",
        "-w",
        " %{http_version}",
        "-o",
        "/dev/null",
        &tls,
    ]);
    assert_eq!(out, " 1.1");
}

#[test]
fn h2c_is_off_by_default() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(backend.addr, ""));
    let out = curl(&[
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://{}/orders/orders/1", gw.addr),
    ]);
    assert_ne!(out, "200", "the preface is not an HTTP/1.1 request");
}

#[test]
fn bodies_larger_than_the_windows_stream_both_ways() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(
        &yaml(backend.addr, "{ h2c: true, initial-window-size: 16KiB }"),
        1,
    );
    let dir = support::gateway::temp_dir("h2body");
    let upload = dir.join("up.bin");
    std::fs::write(&upload, vec![b'x'; 3 * 1024 * 1024]).unwrap();
    let base = format!("http://{}/orders", gw.addr);
    // Upload 3 MB through a 16 KiB stream window.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2-prior-knowledge",
            "-X",
            "POST",
            "--data-binary",
        ])
        .arg(format!("@{}", upload.display()))
        .arg(format!("{base}/upload"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        backend.body_bytes.lock().unwrap().last(),
        Some(&(3 * 1024 * 1024))
    );
    // Download 5 MB through a 16 KiB stream window.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
        ])
        .arg(format!("{base}/download/5000000"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5000000");
}

#[test]
fn h2load_many_streams_on_few_connections() {
    if Command::new("h2load").arg("--version").output().is_err() {
        panic!("h2load is missing: scripts/test.sh installs nghttp2-client");
    }
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start_tls(&yaml(backend.addr, "{ h2c: true }"), 2);
    for url in [
        format!("http://{}/orders/orders/1", gw.addr),
        format!(
            "https://127.0.0.1:{}/orders/orders/1",
            gw.tls_addr.unwrap().port()
        ),
    ] {
        let out = Command::new("h2load")
            .args(["-n", "4000", "-c", "4", "-m", "100", &url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("4000 succeeded, 0 failed, 0 errored, 0 timeout"),
            "{url}: {text}"
        );
        assert!(text.contains("4000 2xx"), "{text}");
    }
}

/// Opens `n` streams as fast as possible, cancelling each at once (RST_STREAM).
/// Returns how many were sent before the gateway ended the connection.
fn rapid_reset(addr: std::net::SocketAddr, n: usize) -> usize {
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
        .unwrap();
    rt.block_on(async move {
        let tcp = monoio::net::TcpStream::connect(addr).await.unwrap();
        let io = monoio_compat::StreamWrapper::new(tcp);
        let (mut send, conn) = h2::client::handshake(io).await.unwrap();
        let driver = monoio::spawn(async move {
            let _ = conn.await;
        });
        let mut sent = 0;
        for i in 0..n {
            if poll_fn(|cx| send.poll_ready(cx)).await.is_err() {
                break;
            }
            let req = http::Request::get(format!("http://gw.test/orders/orders/{i}"))
                .body(())
                .unwrap();
            match send.send_request(req, true) {
                Ok((response, _)) => {
                    drop(response); // RST_STREAM(CANCEL)
                    sent += 1;
                }
                Err(_) => break,
            }
            if i % 64 == 0 {
                monoio::time::sleep(Duration::from_micros(1)).await;
            }
        }
        drop(send);
        let _ = monoio::time::timeout(Duration::from_secs(5), driver).await;
        sent
    })
}

#[test]
fn rapid_reset_is_bounded() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(
        backend.addr,
        "  http2: { h2c: true, max-concurrent-streams: 50 }\n",
    ));
    let started = Instant::now();
    let sent = rapid_reset(gw.addr, 20_000);
    let reached = backend.requests.load(Ordering::SeqCst);
    eprintln!("rapid reset: {sent} streams opened and reset, {reached} reached the backend");
    // The work the attack buys is bounded: far fewer requests reach the backend than
    // streams were opened, and the connection ends instead of running 20,000.
    assert!(
        sent < 20_000 || reached < 2_000,
        "sent {sent}, backend saw {reached}"
    );
    assert!(reached < 5_000, "backend saw {reached} of {sent}");
    assert!(started.elapsed() < Duration::from_secs(30));
    // Still serving, over HTTP/1.1 and HTTP/2.
    assert_eq!(support::get(gw.addr, "/orders/orders/1").status, 200);
    let out = curl(&[
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://{}/orders/orders/1", gw.addr),
    ]);
    assert_eq!(out, "200");
}

#[test]
fn a_body_ended_by_the_close_ends_the_stream_and_a_cut_one_resets_it() {
    let backend = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(backend.addr, "  http2: { h2c: true }\n"));
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
        ])
        .arg(format!("http://{}/orders/until-close/300000", gw.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "300000");
    // Cut short by the backend: the HTTP/2 client must not see a complete response.
    let out = Command::new("curl")
        .args(["-sS", "--http2-prior-knowledge", "-o", "/dev/null"])
        .arg(format!("http://{}/orders/until-close/300000/cut", gw.addr))
        .output()
        .unwrap();
    assert!(!out.status.success(), "a cut body must not look complete");
}
