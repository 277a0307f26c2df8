//! Policies through the real gateway: APIM policy XML in gateway.yaml changes what the
//! backend receives and what the caller gets back.

mod support;

use support::client::{body_of, status_of};
use support::{get, raw, Backend, Gateway, Reply};

fn gateway(be: &Backend, api_policy: &str, global: &str) -> Gateway {
    let indent = |xml: &str| {
        xml.lines()
            .map(|l| format!("      {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let global = if global.is_empty() {
        String::new()
    } else {
        format!("policies:\n  global: |\n{}\n", indent(global))
    };
    Gateway::start(&format!(
        "{global}apis:\n  - id: orders\n    path: orders\n    service-url: http://{}/v1\n    subscription-required: false\n    policy: |\n{}\n    operations:\n      - {{ id: get-order, method: GET, url-template: \"/orders/{{id}}\" }}\n      - {{ id: create, method: POST, url-template: \"/orders\" }}\n",
        be.addr,
        indent(api_policy)
    ))
}

#[test]
fn set_header_and_query_reach_the_backend_and_outbound_changes_the_response() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies>
  <inbound><base/>
    <set-header name="X-Api-Version" exists-action="override"><value>2</value></set-header>
    <set-header name="X-Drop-Me" exists-action="delete"/>
    <set-query-parameter name="source" exists-action="override"><value>gateway</value></set-query-parameter>
  </inbound>
  <backend><base/></backend>
  <outbound><base/><set-header name="X-Backend" exists-action="delete"/><set-header name="X-Served-By"><value>@(context.Deployment.GatewayId)</value></set-header></outbound>
</policies>"#,
        "",
    );
    let text = raw(gw.addr, b"GET /orders/orders/7?a=1 HTTP/1.1\r\nHost: x\r\nX-Drop-Me: 1\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&text), 200, "{text}");
    let head = be.last_head();
    assert!(
        head.starts_with("GET /v1/orders/7?a=1&source=gateway HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains("X-Api-Version: 2\r\n"), "{head}");
    assert!(!head.contains("X-Drop-Me"), "{head}");
    let lower = text.to_ascii_lowercase();
    assert!(!lower.contains("x-backend:"), "{text}");
    assert!(lower.contains("x-served-by: tollgate\r\n"), "{text}");
    assert!(
        body_of(&text).starts_with("GET /v1/orders/7"),
        "the backend body is relayed: {text}"
    );
}

#[test]
fn rewrite_uri_with_template_parameters() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/legacy/order?id={id}"/></inbound></policies>"#,
        "",
    );
    assert_eq!(get(gw.addr, "/orders/orders/42?debug=1").status, 200);
    assert!(
        be.last_head()
            .starts_with("GET /v1/legacy/order?id=42&debug=1 HTTP/1.1"),
        "{}",
        be.last_head()
    );
}

#[test]
fn choose_and_return_response_answer_without_the_backend() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/>
  <choose>
    <when condition="@(context.Request.MatchedParameters[&quot;id&quot;] == &quot;0&quot;)">
      <return-response>
        <set-status code="404" reason="Not Found"/>
        <set-header name="Content-Type"><value>application/json</value></set-header>
        <set-body>@($"{{\"error\":\"no order {context.Request.MatchedParameters["id"]}\"}}")</set-body>
      </return-response>
    </when>
    <otherwise><set-header name="X-Branch"><value>otherwise</value></set-header></otherwise>
  </choose>
</inbound></policies>"#,
        "",
    );
    let r = get(gw.addr, "/orders/orders/0");
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), r#"{"error":"no order 0"}"#);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(be.request_count(), 0);
    assert_eq!(get(gw.addr, "/orders/orders/5").status, 200);
    assert!(
        be.last_head().contains("X-Branch: otherwise\r\n"),
        "{}",
        be.last_head()
    );
}

#[test]
fn failures_run_on_error_with_last_error() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies>
  <inbound><base/><check-header name="X-Key" failed-check-httpcode="401" failed-check-error-message="Missing key" ignore-case="true"/></inbound>
  <on-error><base/><set-header name="X-Error"><value>@(context.LastError.Source + "/" + context.LastError.Reason + "/" + context.LastError.Section)</value></set-header></on-error>
</policies>"#,
        "",
    );
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 401);
    assert_eq!(r.text(), r#"{"statusCode":401,"message":"Missing key"}"#);
    assert_eq!(
        r.header("x-error").as_deref(),
        Some("check-header/HeaderNotFound/inbound")
    );
    assert_eq!(be.request_count(), 0);
}

#[test]
fn backend_failure_goes_through_on_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead = Backend {
        addr: port,
        ..Backend::start(Reply::Normal)
    };
    let gw = gateway(
        &dead,
        r#"<policies><inbound><base/></inbound><on-error><base/><return-response><set-status code="503" reason="Unavailable"/><set-body>backend down</set-body></return-response></on-error></policies>"#,
        "",
    );
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 503);
    assert_eq!(r.text(), "backend down");
}

#[test]
fn global_policy_merges_with_base() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><set-header name="X-Order"><value>api-first</value></set-header><base/></inbound></policies>"#,
        r#"<policies><inbound><set-header name="X-Order" exists-action="append"><value>global</value></set-header></inbound><backend><forward-request/></backend></policies>"#,
    );
    assert_eq!(get(gw.addr, "/orders/orders/1").status, 200);
    let head = be.last_head();
    assert!(
        head.contains("X-Order: api-first\r\nX-Order: global\r\n"),
        "{head}"
    );
}

#[test]
fn set_body_replaces_the_request_body() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><set-body>{"replaced":true}</set-body></inbound></policies>"#,
        "",
    );
    let text = raw(
        gw.addr,
        b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(text.contains("body-bytes: 17"), "{text}");
    assert!(
        be.last_head().contains("Content-Length: 17\r\n"),
        "{}",
        be.last_head()
    );
}

#[test]
fn bad_policies_fail_the_load_with_file_line_col() {
    let dir = support::gateway::temp_dir("pol");
    let file = dir.join("gateway.yaml");
    std::fs::write(
        &file,
        "apis:\n  - id: a\n    path: a\n    service-url: http://127.0.0.1:1\n    subscription-required: false\n    policy: |\n      <policies><inbound>\n        <set-heder name=\"x\"/>\n        <rate-limit calls=\"5\" renewal-period=\"60\"/>\n      </inbound></policies>\n    operations:\n      - { id: o, method: GET, url-template: /o }\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::gateway::binary())
        .args(["config", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("set-heder") && err.contains("set-header"),
        "suggests the right name: {err}"
    );
    assert!(
        err.contains(&format!("{}:8:", file.display())),
        "located on line 8: {err}"
    );
}

#[test]
fn forward_request_timeout_bounds_the_backend() {
    let be = Backend::start(Reply::Hang);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/></inbound><backend><forward-request timeout-ms="300"/></backend></policies>"#,
        "",
    );
    let t = std::time::Instant::now();
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn policy_explain_prints_the_effective_policy_and_program() {
    let dir = support::gateway::temp_dir("explain");
    let file = dir.join("gateway.yaml");
    std::fs::write(
        &file,
        "named-values:\n  key: { value: s3cret, secret: true }\npolicies:\n  global: |\n    <policies><inbound><set-header name=\"X-G\"><value>g</value></set-header></inbound><backend><forward-request/></backend></policies>\napis:\n  - id: a\n    path: a\n    service-url: http://127.0.0.1:1\n    subscription-required: false\n    policy: |\n      <policies><inbound><base/><set-header name=\"X-Key\"><value>{{key}}</value></set-header></inbound></policies>\n    operations:\n      - { id: o, method: GET, url-template: /o }\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::gateway::binary())
        .args(["policy", "explain"])
        .arg(&file)
        .args(["--api", "a", "--operation", "o"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("<!-- global:") && text.contains("<!-- api:"),
        "{text}"
    );
    assert!(
        text.find("X-G").unwrap() < text.find("X-Key").unwrap(),
        "global first at <base/>: {text}"
    );
    assert!(!text.contains("s3cret"), "secret masked: {text}");
    assert!(
        text.contains("inbound: 2 instructions") && text.contains("forward"),
        "{text}"
    );
}

const CORS: &str = r#"<policies><inbound><base/>
  <cors allow-credentials="true">
    <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
    <allowed-methods preflight-result-max-age="300"><method>GET</method><method>POST</method></allowed-methods>
    <allowed-headers><header>Content-Type</header><header>Authorization</header></allowed-headers>
    <expose-headers><header>X-Request-Id</header></expose-headers>
  </cors>
</inbound></policies>"#;

#[test]
fn cors_preflight_is_answered_by_the_gateway() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, CORS, "");
    let text = raw(
        gw.addr,
        b"OPTIONS /orders/orders/1 HTTP/1.1\r\nHost: x\r\nOrigin: https://app.contoso.com\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    for h in [
        "Access-Control-Allow-Origin: https://app.contoso.com",
        "Access-Control-Allow-Credentials: true",
        "Access-Control-Allow-Methods: GET, POST",
        "Access-Control-Allow-Headers: Content-Type, Authorization",
        "Access-Control-Max-Age: 300",
    ] {
        assert!(text.contains(h), "{h}: {text}");
    }
    assert_eq!(
        be.request_count(),
        0,
        "a preflight never reaches the backend"
    );
    // A disallowed origin gets an empty 200 without CORS headers.
    let text = raw(
        gw.addr,
        b"OPTIONS /orders/orders/1 HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(!text.contains("Access-Control-Allow-Origin"), "{text}");
}

#[test]
fn cors_headers_on_actual_requests() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, CORS, "");
    let text = raw(gw.addr, b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nOrigin: https://app.contoso.com\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(
        text.contains("Access-Control-Allow-Origin: https://app.contoso.com\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Access-Control-Expose-Headers: X-Request-Id\r\n"),
        "{text}"
    );
    assert_eq!(be.request_count(), 1);
    // An unmatched simple GET is terminated with an empty 200.
    let text = raw(gw.addr, b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&text), 200, "{text}");
    assert_eq!(body_of(&text), "");
    assert_eq!(be.request_count(), 1);
}

#[test]
fn retry_reforwards_until_the_backend_recovers() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/flaky"/></inbound>
<backend><retry condition="@(context.Response.StatusCode == 503)" count="3" interval="0" delta="0"><forward-request/></retry></backend>
<outbound><base/><set-header name="X-Attempts"><value>@(context.Response.StatusCode.ToString())</value></set-header></outbound></policies>"#,
        "",
    );
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "ok");
    assert_eq!(be.request_count(), 3, "two 503s then a 200");
}

#[test]
fn retry_cannot_resend_a_streamed_body() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/flaky"/></inbound>
<backend><retry condition="@(context.Response.StatusCode == 503)" count="3" interval="0"><forward-request/></retry></backend></policies>"#,
        "",
    );
    let text = raw(
        gw.addr,
        b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(status_of(&text), 500, "{text}");
    assert_eq!(be.request_count(), 1, "the body went out once");
}

#[test]
fn send_request_response_is_readable_from_expressions() {
    let be = Backend::start(Reply::Normal);
    let policy = format!(
        r#"<policies><inbound><base/>
  <send-request mode="new" response-variable-name="lookup" timeout="5" ignore-error="false">
    <set-url>@($"http://{}/v1/lookup?id={{context.Request.MatchedParameters["id"]}}")</set-url>
    <set-method>POST</set-method>
    <set-header name="X-Side"><value>1</value></set-header>
    <set-body>side-body</set-body>
  </send-request>
  <set-header name="X-Lookup-Status"><value>@(((IResponse)context.Variables["lookup"]).StatusCode.ToString())</value></set-header>
  <set-header name="X-Lookup-Backend"><value>@(((IResponse)context.Variables["lookup"]).Headers.GetValueOrDefault("x-backend", "none"))</value></set-header>
  <set-header name="X-Lookup-Body"><value>@(((IResponse)context.Variables["lookup"]).Body.As<string>().Split('\n')[0].Trim())</value></set-header>
</inbound></policies>"#,
        be.addr
    )
    .replace("<string>", "&lt;string&gt;")
    .replace("@(((IResponse)context.Variables[\"lookup\"])", "@(((IResponse)context.Variables[&quot;lookup&quot;])")
    .replace("GetValueOrDefault(\"x-backend\", \"none\")", "GetValueOrDefault(&quot;x-backend&quot;, &quot;none&quot;)")
    ;
    let gw = gateway(&be, &policy, "");
    let r = get(gw.addr, "/orders/orders/9");
    assert_eq!(r.status, 200, "{}", r.text());
    let heads = be.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(
        heads[0].starts_with("POST /v1/lookup?id=9 HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].contains("X-Side: 1\r\n") && heads[0].contains("Content-Length: 9\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[1].contains("X-Lookup-Status: 200\r\n"),
        "{}",
        heads[1]
    );
    assert!(
        heads[1].contains("X-Lookup-Backend: yes\r\n"),
        "{}",
        heads[1]
    );
    assert!(
        heads[1].contains("X-Lookup-Body: POST /v1/lookup?id=9 HTTP/1.1\r\n"),
        "{}",
        heads[1]
    );
}

#[test]
fn send_request_errors_go_to_on_error_unless_ignored() {
    let be = Backend::start(Reply::Normal);
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let policy = format!(
        r#"<policies><inbound><base/>
  <send-request response-variable-name="a" ignore-error="true"><set-url>http://{dead}/x</set-url></send-request>
  <set-header name="X-Ignored"><value>@(context.Variables[&quot;a&quot;] == null ? "null" : "set")</value></set-header>
  <send-request response-variable-name="b"><set-url>http://{dead}/y</set-url></send-request>
</inbound>
<on-error><base/><return-response><set-status code="502"/><set-body>@(context.LastError.Source + "/" + context.LastError.Reason)</set-body></return-response></on-error></policies>"#
    );
    let gw = gateway(&be, &policy, "");
    let r = get(gw.addr, "/orders/orders/1");
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.text(), "send-request/BackendConnectionFailure");
    assert_eq!(be.request_count(), 0);
}

#[test]
fn policies_read_and_transform_bodies() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies>
  <inbound><base/>
    <set-body>@{ var body = context.Request.Body.As&lt;JObject&gt;(preserveContent: true); body["added"] = "yes"; return body.ToString(Newtonsoft.Json.Formatting.None); }</set-body>
  </inbound>
  <outbound><base/>
    <set-body>@(context.Response.Body.As&lt;string&gt;().Split('\n')[0].ToUpper())</set-body>
  </outbound>
  <on-error><base/><set-header name="X-Err"><value>@(context.LastError.Section + ": " + context.LastError.Message)</value></set-header></on-error>
</policies>"#,
        "",
    );
    let body = r#"{"order":7}"#;
    let req = format!("POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let text = raw(gw.addr, req.as_bytes());
    assert_eq!(status_of(&text), 200, "{text}");
    assert_eq!(
        body_of(&text),
        "POST /V1/ORDERS HTTP/1.1\r",
        "outbound saw the backend body: {text}"
    );
    assert!(
        be.body_bytes
            .lock()
            .unwrap()
            .contains(&(r#"{"order":7,"added":"yes"}"#.len() as u64)),
        "inbound rewrote the body"
    );
}

#[test]
fn buffered_request_bodies_can_be_retried() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/flaky"/></inbound>
<backend><retry condition="@(context.Response.StatusCode == 503)" count="3" interval="0"><forward-request buffer-request-body="true"/></retry></backend></policies>"#,
        "",
    );
    let text = raw(gw.addr, b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    assert_eq!(status_of(&text), 200, "{text}");
    assert_eq!(be.request_count(), 3);
    assert_eq!(
        *be.body_bytes.lock().unwrap(),
        vec![5, 5, 5],
        "the body was sent with every attempt"
    );
}

#[test]
fn limit_concurrency_refuses_beyond_max_count_and_releases_slots() {
    let be = Backend::start(Reply::Normal);
    let indent = |xml: &str| {
        xml.lines()
            .map(|l| format!("      {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let policy = r#"<policies><inbound><base/><rewrite-uri template="/slow"/></inbound>
<backend><limit-concurrency key="@(context.Api.Id)" max-count="1"><forward-request/></limit-concurrency></backend></policies>"#;
    let gw = Gateway::start_with(
        &format!(
            "apis:\n  - id: orders\n    path: orders\n    service-url: http://{}/v1\n    subscription-required: false\n    policy: |\n{}\n    operations:\n      - {{ id: get-order, method: GET, url-template: \"/orders/{{id}}\" }}\n",
            be.addr,
            indent(policy)
        ),
        &[],
        1,
    );
    let addr = gw.addr;
    let first = std::thread::spawn(move || get(addr, "/orders/orders/1"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = get(gw.addr, "/orders/orders/2");
    assert_eq!(second.status, 429, "{}", second.text());
    assert_eq!(
        second.text(),
        r#"{"statusCode":429,"message":"Too many concurrent requests."}"#
    );
    assert_eq!(first.join().unwrap().status, 200);
    assert_eq!(
        get(gw.addr, "/orders/orders/3").status,
        200,
        "the slot was given back"
    );
}

#[test]
fn forward_request_follows_redirects_when_asked() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/redirect/{id}" copy-unmatched-params="false"/></inbound>
<backend><forward-request follow-redirects="true"/></backend></policies>"#,
        "",
    );
    let r = get(gw.addr, "/orders/orders/302");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text()
            .starts_with("GET /v1/orders/after-redirect?from=302 HTTP/1.1"),
        "{}",
        r.text()
    );
}

#[test]
fn a_post_redirected_with_303_becomes_a_get() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/redirect/303"/></inbound>
<backend><forward-request follow-redirects="true"/></backend></policies>"#,
        "",
    );
    let text = raw(gw.addr, b"POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(
        body_of(&text).starts_with("GET /v1/orders/after-redirect?from=303 HTTP/1.1"),
        "{text}"
    );
    assert_eq!(be.request_count(), 2);
}

#[test]
fn redirects_are_relayed_by_default() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/redirect/{id}"/></inbound></policies>"#,
        "",
    );
    let r = get(gw.addr, "/orders/orders/307");
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/v1/orders/after-redirect?from=307")
    );
}

#[test]
fn websocket_upgrade_through_the_policy_path() {
    use std::io::{Read, Write};
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><rewrite-uri template="/ws"/><set-header name="X-Via"><value>policy</value></set-header></inbound></policies>"#,
        "",
    );
    let mut s = support::client::connect(gw.addr);
    s.write_all(b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let r = support::client::read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    assert!(
        be.last_head().contains("X-Via: policy\r\n"),
        "{}",
        be.last_head()
    );
    s.write_all(b"through the policy path").unwrap();
    let mut got = vec![0u8; 23];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"through the policy path");
}

#[test]
fn http10_clients_get_http10_backend_requests_on_the_policy_path() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(
        &be,
        r#"<policies><inbound><base/><set-header name="X-P"><value>1</value></set-header></inbound></policies>"#,
        "",
    );
    let text = raw(gw.addr, b"GET /orders/orders/1 HTTP/1.0\r\nHost: x\r\n\r\n");
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(
        be.last_head().starts_with("GET /v1/orders/1 HTTP/1.0\r\n"),
        "{}",
        be.last_head()
    );
}
