//! Request smuggling vectors: each is refused with 400 and the APIM body, and nothing
//! reaches the backend.

mod support;

use support::client::{body_of, status_of};
use support::gateway::config;
use support::{raw, Backend, Gateway, Reply};

const VECTORS: &[(&str, &[u8])] = &[
    ("CL+TE", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("duplicate CL", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"),
    ("equal duplicate CL", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd"),
    ("CL list", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd"),
    ("CL sign", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd"),
    ("TE not final chunked", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
    ("TE identity", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"),
    ("TE xchunked", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
    ("TE in HTTP/1.0", b"POST /orders/orders HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("obs-fold", b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
    ("bare LF in head", b"GET /orders/orders/1 HTTP/1.1\nHost: x\r\n\r\n"),
    ("bare LF after field", b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"),
    ("bare CR", b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"),
    ("space before colon", b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n"),
    ("space before colon TE", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
    ("invalid header name", b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n"),
    ("NUL in value", b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"),
    ("missing Host", b"GET /orders/orders/1 HTTP/1.1\r\n\r\n"),
    ("two Hosts", b"GET /orders/orders/1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("bad chunk size", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
    ("chunk size overflow", b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\na\r\n0\r\n\r\n"),
    ("double space request line", b"GET  /orders/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("fragment in target", b"GET /orders/orders/1#x HTTP/1.1\r\nHost: x\r\n\r\n"),
];

#[test]
fn every_vector_is_refused_and_never_forwarded() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    for (name, bytes) in VECTORS {
        let text = raw(gw.addr, bytes);
        assert_eq!(status_of(&text), 400, "{name}: {text}");
        assert!(
            body_of(&text).starts_with(r#"{"statusCode":400,"message":"Bad request"#),
            "{name}: {text}"
        );
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{name}: {text}"
        );
    }
    assert_eq!(
        be.request_count(),
        0,
        "a smuggling vector reached the backend"
    );
}

#[test]
fn a_valid_chunked_request_after_the_vectors_still_works() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let text = raw(
        gw.addr,
        b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(text.contains("body-bytes: 5"), "{text}");
}

#[test]
fn unsupported_version_is_505() {
    let gw = Gateway::start(&config("127.0.0.1:9".parse().unwrap(), ""));
    let text = raw(gw.addr, b"GET /orders/orders/1 HTTP/2.0\r\nHost: x\r\n\r\n");
    assert_eq!(status_of(&text), 505, "{text}");
}
