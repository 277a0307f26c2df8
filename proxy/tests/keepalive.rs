//! Keep-alive on both sides: client connections carry many requests, pipelined
//! requests are answered in order, and backend connections are pooled and reused —
//! with a stale pooled connection retried once for idempotent requests only.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use support::client::read_response;
use support::gateway::config;
use support::{Backend, Gateway, Reply};

fn conn(gw: &Gateway) -> TcpStream {
    let s = support::client::connect(gw.addr);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn one_client_connection_many_requests_few_backend_connections() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(be.addr, ""), &[], 1);
    let mut s = conn(&gw);
    for i in 0..200 {
        write!(s, "GET /orders/orders/{i} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_response(&mut s, false).expect("response");
        assert_eq!(r.status, 200);
        assert!(
            r.text().starts_with(&format!("GET /v1/orders/{i} ")),
            "{}",
            r.text()
        );
    }
    assert_eq!(be.request_count(), 200);
    assert_eq!(
        be.connection_count(),
        1,
        "the pooled backend connection is reused"
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let mut s = conn(&gw);
    let mut batch = String::new();
    for i in 0..5 {
        batch.push_str(&format!(
            "GET /orders/orders/{i} HTTP/1.1\r\nHost: x\r\n\r\n"
        ));
    }
    batch.push_str("POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    batch.push_str("GET /orders/orders/last HTTP/1.1\r\nHost: x\r\n\r\n");
    s.write_all(batch.as_bytes()).unwrap();
    for i in 0..5 {
        let r = read_response(&mut s, false).unwrap();
        assert!(
            r.text().starts_with(&format!("GET /v1/orders/{i} ")),
            "{}",
            r.text()
        );
    }
    let r = read_response(&mut s, false).unwrap();
    assert!(r.text().starts_with("POST /v1/orders "), "{}", r.text());
    assert!(r.text().contains("body-bytes: 3"), "{}", r.text());
    let r = read_response(&mut s, false).unwrap();
    assert!(r.text().starts_with("GET /v1/orders/last "), "{}", r.text());
}

#[test]
fn stale_pooled_connection_is_retried_for_get() {
    // The backend closes every connection after its response without saying so: each
    // pooled connection is stale by the time it is reused.
    let be = Backend::start(Reply::CloseSilently);
    let gw = Gateway::start_with(&config(be.addr, ""), &[], 1);
    let mut s = conn(&gw);
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(20));
        write!(s, "GET /orders/orders/{i} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_response(&mut s, false).unwrap();
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
    }
}

#[test]
fn stale_pooled_connection_is_not_retried_for_post() {
    let be = Backend::start(Reply::CloseSilently);
    let gw = Gateway::start_with(&config(be.addr, ""), &[], 1);
    let mut s = conn(&gw);
    write!(s, "GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s, false).unwrap().status, 200);
    std::thread::sleep(Duration::from_millis(100));
    write!(
        s,
        "POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
    )
    .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(be.request_count(), 1, "the POST was not sent twice");
}

#[test]
fn http10_client_gets_a_closed_connection_by_default() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let text = support::raw(gw.addr, b"GET /orders/orders/1 HTTP/1.0\r\nHost: x\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        be.last_head().starts_with("GET /v1/orders/1 HTTP/1.0\r\n"),
        "{}",
        be.last_head()
    );
}
