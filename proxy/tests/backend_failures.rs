//! Backend failures become APIM bodies with statuses that tell them apart: refused and
//! reset → 502, too slow → 504; the gateway keeps serving afterwards.

mod support;

use support::gateway::config;
use support::{get, Backend, Gateway, Reply};

#[test]
fn refused_backend_is_502() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gw = Gateway::start(&config(port, ""));
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 502);
    assert_eq!(
        r.text(),
        r#"{"statusCode":502,"message":"Backend service is unreachable"}"#
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[test]
fn reset_backend_is_502() {
    let be = Backend::start(Reply::Reset);
    let gw = Gateway::start(&config(be.addr, ""));
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.text()
            .starts_with(r#"{"statusCode":502,"message":"Backend service failed to respond"#),
        "{}",
        r.text()
    );
}

#[test]
fn slow_backend_is_504_after_backend_response_timeout() {
    let be = Backend::start(Reply::Hang);
    let gw = Gateway::start(&config(be.addr, "  timeouts: { backend-response: 300ms }"));
    let t = std::time::Instant::now();
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"statusCode":504,"message":"Backend service did not respond in time"}"#
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    // The gateway is fine afterwards.
    assert_eq!(get(gw.addr, "/status-0123456789abcdef").status, 200);
}

#[test]
fn api_without_service_url_is_500() {
    let gw = Gateway::start(
        "apis:\n  - id: nourl\n    path: x\n    subscription-required: false\n    operations:\n      - { id: a, method: GET, url-template: /a }\n",
    );
    let r = get(gw.addr, "/x/a");
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        r#"{"statusCode":500,"message":"Backend service URL is not defined."}"#
    );
}
