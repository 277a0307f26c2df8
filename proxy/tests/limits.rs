//! gateway.limits: each limit answers its status with the APIM body, and nothing is
//! forwarded.

mod support;

use support::client::{body_of, status_of};
use support::gateway::config;
use support::{raw, Backend, Gateway, Reply};

const LIMITS: &str = "  limits: { max-header-bytes: 2048, max-headers: 10, max-uri-bytes: 256, max-body-bytes: 1000 }";

#[test]
fn header_bytes_over_the_limit_is_431() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, LIMITS));
    let big = format!(
        "GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(3000)
    );
    let text = raw(gw.addr, big.as_bytes());
    assert_eq!(status_of(&text), 431, "{text}");
    assert_eq!(
        body_of(&text),
        r#"{"statusCode":431,"message":"Request header fields too large"}"#
    );
    assert_eq!(be.request_count(), 0);
}

#[test]
fn too_many_headers_is_431() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, LIMITS));
    let mut req = String::from("GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n");
    for i in 0..12 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let text = raw(gw.addr, req.as_bytes());
    assert_eq!(status_of(&text), 431, "{text}");
    assert_eq!(be.request_count(), 0);
}

#[test]
fn headers_at_the_limit_pass() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, LIMITS));
    let mut req = String::from("GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..8 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let text = raw(gw.addr, req.as_bytes());
    assert_eq!(status_of(&text), 200, "{text}");
}

#[test]
fn long_uri_is_414() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, LIMITS));
    let req = format!(
        "GET /orders/orders/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "9".repeat(400)
    );
    let text = raw(gw.addr, req.as_bytes());
    assert_eq!(status_of(&text), 414, "{text}");
    assert_eq!(
        body_of(&text),
        r#"{"statusCode":414,"message":"Request URI too long"}"#
    );
    assert_eq!(be.request_count(), 0);
}

#[test]
fn content_length_over_max_body_is_413_before_forwarding() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, LIMITS));
    let req = format!(
        "POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n{}",
        "a".repeat(1001)
    );
    let text = raw(gw.addr, req.as_bytes());
    assert_eq!(status_of(&text), 413, "{text}");
    assert_eq!(
        body_of(&text),
        r#"{"statusCode":413,"message":"Request entity too large"}"#
    );
    assert_eq!(be.request_count(), 0);
}

#[test]
fn chunked_body_over_max_body_is_413() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, LIMITS));
    let req = format!(
        "POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n{}\r\n0\r\n\r\n",
        "a".repeat(1001)
    );
    let text = raw(gw.addr, req.as_bytes());
    assert_eq!(status_of(&text), 413, "{text}");
    assert_eq!(be.request_count(), 0);
}
