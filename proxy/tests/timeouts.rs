//! gateway.timeouts and gateway.pool bounds: a slow client is dropped, a backend that
//! does not accept is a 504, idle pooled connections expire.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::client::{connect, read_response};
use support::gateway::config;
use support::{get, Backend, Gateway, Reply};

#[test]
fn client_that_stalls_mid_head_is_closed_after_client_header() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, "  timeouts: { client-header: 300ms }"));
    let mut s = connect(gw.addr);
    s.write_all(b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    let n = s.read_to_end(&mut buf).unwrap_or(0);
    assert_eq!(
        n,
        0,
        "closed without a response: {}",
        String::from_utf8_lossy(&buf)
    );
    assert!(
        t.elapsed() >= Duration::from_millis(250) && t.elapsed() < Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(be.request_count(), 0);
}

#[test]
fn idle_keepalive_client_is_closed_after_keepalive_idle() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, "  timeouts: { keepalive-idle: 300ms }"));
    let mut s = connect(gw.addr);
    s.write_all(b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s, false).unwrap().status, 200);
    let t = Instant::now();
    let mut buf = [0u8; 1];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn backend_that_never_accepts_is_504_after_backend_connect() {
    // A listener with a backlog of 0 that never accepts: once its queue is full, the
    // kernel drops further SYNs and connect() hangs.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(c) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(c);
        }
    }
    let gw = Gateway::start(&config(addr, "  timeouts: { backend-connect: 300ms }"));
    let t = Instant::now();
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"statusCode":504,"message":"Backend connection timed out"}"#
    );
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn idle_pooled_connections_expire_after_idle_timeout() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(be.addr, "  pool: { idle-timeout: 200ms }"), &[], 1);
    assert_eq!(get(gw.addr, "/orders/orders/1").status, 200);
    assert_eq!(get(gw.addr, "/orders/orders/2").status, 200);
    assert_eq!(be.connection_count(), 1, "reused within the idle timeout");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(gw.addr, "/orders/orders/3").status, 200);
    assert_eq!(be.connection_count(), 2, "expired connection replaced");
}

#[test]
fn interim_103_is_relayed_and_204_has_no_body() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let mut s = connect(gw.addr);
    s.write_all(b"GET /orders/early-hints HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 103, "{}", r.head);
    assert_eq!(r.header("link").as_deref(), Some("</a.css>; rel=preload"));
    let r = read_response(&mut s, false).unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    s.write_all(b"GET /orders/no-content HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(r.header("x-empty").as_deref(), Some("1"));
    // The connection is still in sync: the next response is the right one.
    s.write_all(b"GET /orders/orders/9 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert!(r.text().starts_with("GET /v1/orders/9 "), "{}", r.text());
}
