//! Routing by APIM rules through the real gateway: longest path prefix, URL templates,
//! the forwarded URL and headers, the APIM 404 body, and the health probe.

mod support;

use support::client::{body_of, status_of};
use support::gateway::config;
use support::{get, raw, Backend, Gateway, Reply};

#[test]
fn forwards_to_service_url_plus_rest_and_query() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let r = get(gw.addr, "/orders/orders/42?expand=lines&x=1");
    assert_eq!(r.status, 200, "{}", r.text());
    let head = be.last_head();
    assert!(
        head.starts_with("GET /v1/orders/42?expand=lines&x=1 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!("Host: {}\r\n", be.addr)),
        "Host rewritten: {head}"
    );
    assert!(head.contains("X-Forwarded-For: 127.0.0.1\r\n"), "{head}");
    assert!(head.contains("X-Forwarded-Proto: http\r\n"), "{head}");
    assert!(head.contains("X-Forwarded-Host: gw.test\r\n"), "{head}");
    assert_eq!(r.header("x-backend").as_deref(), Some("yes"));
}

#[test]
fn wildcard_template_forwards_the_whole_rest() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    assert_eq!(get(gw.addr, "/orders/files/a/b/c.txt").status, 200);
    assert!(
        be.last_head()
            .starts_with("GET /v1/files/a/b/c.txt HTTP/1.1"),
        "{}",
        be.last_head()
    );
}

#[test]
fn unknown_api_or_operation_is_apim_404() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    for path in ["/nope", "/orders/unknown", "/orders", "/ordersx/orders/1"] {
        let r = get(gw.addr, path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.text(),
            r#"{"statusCode":404,"message":"Resource not found"}"#,
            "{path}"
        );
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
    }
    // A method with no operation is 404 too (APIM does not answer 405).
    let text = raw(
        gw.addr,
        b"DELETE /orders/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&text), 404, "{text}");
    assert_eq!(
        body_of(&text),
        r#"{"statusCode":404,"message":"Resource not found"}"#
    );
    assert_eq!(be.request_count(), 0, "nothing reached the backend");
}

#[test]
fn status_probe_answers_without_a_backend() {
    let gw = Gateway::start(&config("127.0.0.1:9".parse().unwrap(), ""));
    let r = get(gw.addr, "/status-0123456789abcdef");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

#[test]
fn hop_by_hop_headers_are_not_forwarded() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let text = raw(
        gw.addr,
        b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Kept: yes\r\n\r\n",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    let head = be.last_head().to_ascii_lowercase();
    assert!(head.contains("x-kept: yes"), "{head}");
    for gone in ["x-secret-hop", "keep-alive:", "te:", "connection: close"] {
        assert!(!head.contains(gone), "{gone} forwarded: {head}");
    }
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
}

#[test]
fn preserve_host_and_xff_append_are_configurable() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(
        be.addr,
        "  forwarded: { preserve-host: true, x-forwarded-proto: false }",
    ));
    let text = raw(
        gw.addr,
        b"GET /orders/orders/1 HTTP/1.1\r\nHost: api.contoso.com\r\nX-Forwarded-For: 10.1.1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    let head = be.last_head();
    assert!(head.contains("Host: api.contoso.com\r\n"), "{head}");
    assert!(
        head.contains("X-Forwarded-For: 10.1.1.1, 127.0.0.1\r\n"),
        "{head}"
    );
    assert!(!head.contains("X-Forwarded-Proto"), "{head}");
}

#[test]
fn head_requests_and_chunked_responses_relay() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let text = raw(
        gw.addr,
        b"HEAD /orders/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    assert_eq!(body_of(&text), "", "HEAD has no body");
}

#[test]
fn named_values_fill_the_service_url() {
    let be = Backend::start(Reply::Normal);
    let yaml = format!(
        "named-values:\n  orders-host: {{ value: \"{}\" }}\napis:\n  - id: o\n    path: o\n    service-url: http://{{{{orders-host}}}}/base\n    subscription-required: false\n    operations:\n      - {{ id: g, method: GET, url-template: \"/*\" }}\n",
        be.addr
    );
    let gw = Gateway::start(&yaml);
    assert_eq!(get(gw.addr, "/o/x").status, 200);
    assert!(
        be.last_head().starts_with("GET /base/x HTTP/1.1"),
        "{}",
        be.last_head()
    );
}

#[test]
fn pooling_can_be_disabled() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(
        &config(be.addr, "  pool: { max-idle-per-backend: 0 }"),
        &[],
        1,
    );
    for i in 0..3 {
        assert_eq!(get(gw.addr, &format!("/orders/orders/{i}")).status, 200);
    }
    assert_eq!(be.connection_count(), 3);
}
