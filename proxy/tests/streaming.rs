//! Bodies stream through without being buffered: 50 MB each way with bounded gateway
//! memory, Content-Length and chunked, plus `Expect: 100-continue` via curl.

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::client::read_response;
use support::gateway::config;
use support::{Backend, Gateway, Reply};

const MB50: usize = 50 * 1024 * 1024;

#[test]
fn upload_50mb_streams_with_bounded_memory() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(be.addr, ""), &[], 1);
    let rss_before = gw.rss_kib();
    let mut s = support::client::connect(gw.addr);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /orders/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {MB50}\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'u'; 256 * 1024];
    let mut peak = 0;
    for i in 0..(MB50 / chunk.len()) {
        s.write_all(&chunk).unwrap();
        if i % 20 == 0 {
            peak = peak.max(gw.rss_kib());
        }
    }
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains(&format!("body-bytes: {MB50}")),
        "{}",
        r.text()
    );
    assert!(
        peak < rss_before + 16 * 1024,
        "RSS grew from {rss_before} KiB to {peak} KiB"
    );
}

#[test]
fn chunked_upload_streams() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(be.addr, ""), &[], 1);
    let mut s = support::client::connect(gw.addr);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /orders/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'c'; 100_000];
    for _ in 0..100 {
        write!(s, "{:x}\r\n", chunk.len()).unwrap();
        s.write_all(&chunk).unwrap();
        s.write_all(b"\r\n").unwrap();
    }
    s.write_all(b"0\r\n\r\n").unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("body-bytes: 10000000"), "{}", r.text());
    assert!(be
        .last_head()
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked"));
}

#[test]
fn download_50mb_streams_with_bounded_memory() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(be.addr, ""), &[], 1);
    let rss_before = gw.rss_kib();
    let mut s = support::client::connect(gw.addr);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET /orders/download/{MB50} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let mut peak = 0;
    let mut reads = 0;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
        reads += 1;
        if reads % 50 == 0 {
            // Read slowly now and then so the gateway has to hold back, not buffer.
            std::thread::sleep(Duration::from_millis(1));
            peak = peak.max(gw.rss_kib());
        }
    }
    assert!(total > MB50, "got {total} bytes");
    assert!(
        peak < rss_before + 16 * 1024,
        "RSS grew from {rss_before} KiB to {peak} KiB"
    );
}

#[test]
fn curl_expect_100_continue_post() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let file = gw.dir.join("body.bin");
    std::fs::write(&file, vec![b'e'; 2 * 1024 * 1024]).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-H", "Expect: 100-continue", "--data-binary"])
        .arg(format!("@{}", file.display()))
        .arg(gw.url("/orders/orders"))
        .output()
        .expect("curl is installed (scripts/test.sh installs it)");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(body.contains("body-bytes: 2097152"), "{body}");
    assert!(
        !be.last_head().to_ascii_lowercase().contains("expect:"),
        "Expect is answered by the gateway"
    );
}

#[test]
fn chunked_response_relays_to_curl() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let out = Command::new("curl")
        .args(["-sS", "-i"])
        .arg(gw.url("/orders/chunked"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{text}"
    );
    assert!(text.ends_with("hello world"), "{text}");
}
