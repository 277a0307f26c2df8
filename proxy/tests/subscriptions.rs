//! Subscriptions and products through the real gateway: APIM's key rules, its exact 401
//! bodies, key stripping, product contexts and their policies.

mod support;

use support::client::{body_of, status_of};
use support::{raw, Backend, Gateway, Reply};

const MISSING: &str = r#"{"statusCode":401,"message":"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}"#;
const INVALID: &str = r#"{"statusCode":401,"message":"Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}"#;

fn gateway(be: &Backend) -> Gateway {
    let b = be.addr;
    Gateway::start(&format!(
        r#"apis:
  - id: orders
    path: orders
    service-url: http://{b}/v1
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
  - id: custom
    path: custom
    service-url: http://{b}/c
    subscription-key: {{ header: X-Key, query: key }}
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
  - id: handled
    path: handled
    service-url: http://{b}/h
    policy: |
      <policies><inbound><base/></inbound><backend><forward-request/></backend><outbound><base/></outbound>
      <on-error>
        <set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason + "/" + context.LastError.Scope)</value></set-header>
        <set-header name="X-Message" exists-action="override"><value>@(context.LastError.Message)</value></set-header>
      </on-error></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
  - id: free
    path: free
    service-url: http://{b}/f
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
  - id: public
    path: public
    service-url: http://{b}/p
    subscription-required: false
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
products:
  - id: starter
    display-name: Starter
    apis: [orders, custom, handled]
    policy: |
      <policies><inbound><base/>
        <set-header name="X-Product" exists-action="override"><value>@(context.Product.Id + "/" + context.Subscription.Id + "/" + context.Subscription.Name)</value></set-header>
      </inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
  - id: open
    apis: [free]
    subscription-required: false
    state: published
    policy: |
      <policies><inbound><base/>
        <set-header name="X-Open" exists-action="override"><value>@(context.Product.Name + "/" + context.Product.State + "/" + (context.Subscription == null))</value></set-header>
      </inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
subscriptions:
  - {{ id: plant, display-name: Plant App, scope: product/starter, primary-key: {{ value: primary-1 }}, secondary-key: {{ value: "second 2" }} }}
  - {{ id: ops, scope: api/orders, primary-key: {{ value: api-key-3 }} }}
  - {{ id: admin, scope: all-apis, primary-key: {{ value: all-key-4 }} }}
  - {{ id: halted, scope: all-apis, primary-key: {{ value: halted-5 }}, state: suspended }}
  - {{ id: old, scope: all-apis, primary-key: {{ value: old-6 }}, end-date: "2020-01-01" }}
  - {{ id: other, scope: api/public, primary-key: {{ value: public-7 }} }}
"#
    ))
}

fn get(gw: &Gateway, target: &str, headers: &str) -> String {
    raw(
        gw.addr,
        format!("GET {target} HTTP/1.1\r\nHost: gw\r\n{headers}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

#[test]
fn missing_and_invalid_keys_get_apims_exact_401s() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    let t = get(&gw, "/orders/1", "");
    assert_eq!(status_of(&t), 401, "{t}");
    assert_eq!(body_of(&t), MISSING);
    assert!(
        t.to_ascii_lowercase()
            .contains("content-type: application/json\r\n"),
        "{t}"
    );
    for (key, why) in [
        ("nope", "unknown"),
        ("halted-5", "suspended"),
        ("old-6", "past its end date"),
        ("public-7", "scoped to another API"),
        ("primary-1x", "a prefix of nothing"),
    ] {
        let t = get(
            &gw,
            "/orders/1",
            &format!("Ocp-Apim-Subscription-Key: {key}\r\n"),
        );
        assert_eq!(status_of(&t), 401, "{why}: {t}");
        assert_eq!(body_of(&t), INVALID, "{why}");
    }
    // The product's key does not open an API outside the product.
    let t = get(&gw, "/public/x", "Ocp-Apim-Subscription-Key: primary-1\r\n");
    assert_eq!(body_of(&t), INVALID, "{t}");
    // An empty header is no key.
    let t = get(&gw, "/orders/1", "Ocp-Apim-Subscription-Key: \r\n");
    assert_eq!(body_of(&t), MISSING, "{t}");
    assert_eq!(be.request_count(), 0, "nothing refused reached the backend");
}

#[test]
fn valid_keys_pass_by_header_or_query_and_the_query_key_is_not_forwarded() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    for (target, headers) in [
        ("/orders/1", "Ocp-Apim-Subscription-Key: primary-1\r\n"),
        ("/orders/1", "ocp-apim-subscription-key: all-key-4\r\n"),
        ("/orders/1", "Ocp-Apim-Subscription-Key: api-key-3\r\n"),
    ] {
        let t = get(&gw, target, headers);
        assert_eq!(status_of(&t), 200, "{headers}: {t}");
        let head = be.last_head();
        assert!(
            head.to_ascii_lowercase()
                .contains("ocp-apim-subscription-key: "),
            "the header key is forwarded: {head}"
        );
    }
    // Query key, percent-encoded (the secondary key has a space), between other parameters.
    let t = get(&gw, "/orders/1?a=1&subscription-key=second%202&b=2", "");
    assert_eq!(status_of(&t), 200, "{t}");
    let head = be.last_head();
    assert!(head.starts_with("GET /v1/1?a=1&b=2 HTTP/1.1\r\n"), "{head}");
    let t = get(&gw, "/orders/1?subscription-key=api-key-3", "");
    assert_eq!(status_of(&t), 200, "{t}");
    assert!(
        be.last_head().starts_with("GET /v1/1 HTTP/1.1\r\n"),
        "{}",
        be.last_head()
    );
    // The header wins over the query: a bad header key is refused even with a good query key.
    let t = get(
        &gw,
        "/orders/1?subscription-key=api-key-3",
        "Ocp-Apim-Subscription-Key: bad\r\n",
    );
    assert_eq!(body_of(&t), INVALID, "{t}");
}

#[test]
fn an_api_can_rename_where_the_key_travels() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    let t = get(&gw, "/custom/x", "X-Key: primary-1\r\n");
    assert_eq!(status_of(&t), 200, "{t}");
    let t = get(&gw, "/custom/x?key=all-key-4&z=1", "");
    assert_eq!(status_of(&t), 200, "{t}");
    assert!(
        be.last_head().starts_with("GET /c/x?z=1 HTTP/1.1\r\n"),
        "{}",
        be.last_head()
    );
    // The default names mean nothing to this API.
    let t = get(&gw, "/custom/x", "Ocp-Apim-Subscription-Key: primary-1\r\n");
    assert_eq!(body_of(&t), MISSING, "{t}");
    let t = get(&gw, "/custom/x?subscription-key=primary-1", "");
    assert_eq!(body_of(&t), MISSING, "{t}");
}

#[test]
fn product_keys_run_the_product_policy_with_context_subscription_and_product() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    let t = get(&gw, "/orders/1", "Ocp-Apim-Subscription-Key: primary-1\r\n");
    assert_eq!(status_of(&t), 200, "{t}");
    assert!(
        be.last_head()
            .contains("X-Product: starter/plant/Plant App\r\n"),
        "{}",
        be.last_head()
    );
    // API- and all-APIs-scoped keys have no product context: the product policy does not run.
    for key in ["api-key-3", "all-key-4"] {
        let t = get(
            &gw,
            "/orders/1",
            &format!("Ocp-Apim-Subscription-Key: {key}\r\n"),
        );
        assert_eq!(status_of(&t), 200, "{t}");
        assert!(!be.last_head().contains("X-Product"), "{}", be.last_head());
    }
}

#[test]
fn open_products_and_apis_without_subscription() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    // No key: the open product's context.
    let t = get(&gw, "/free/x", "");
    assert_eq!(status_of(&t), 200, "{t}");
    assert!(
        be.last_head().contains("X-Open: open/Published/True\r\n"),
        "{}",
        be.last_head()
    );
    // A key that does not pass is ignored in favour of the open product.
    let t = get(&gw, "/free/x", "Ocp-Apim-Subscription-Key: nope\r\n");
    assert_eq!(status_of(&t), 200, "{t}");
    // A key that passes takes its own context (all-APIs: none).
    let t = get(&gw, "/free/x", "Ocp-Apim-Subscription-Key: all-key-4\r\n");
    assert_eq!(status_of(&t), 200, "{t}");
    assert!(!be.last_head().contains("X-Open"), "{}", be.last_head());
    // subscription-required: false — no key passes, a wrong key does not.
    let t = get(&gw, "/public/x", "");
    assert_eq!(status_of(&t), 200, "{t}");
    let t = get(&gw, "/public/x", "Ocp-Apim-Subscription-Key: public-7\r\n");
    assert_eq!(status_of(&t), 200, "{t}");
    let t = get(&gw, "/public/x", "Ocp-Apim-Subscription-Key: wrong\r\n");
    assert_eq!(body_of(&t), INVALID, "{t}");
}

#[test]
fn on_error_sees_the_refusal_as_apim_names_it() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    let t = get(&gw, "/handled/x", "");
    assert_eq!(status_of(&t), 401, "{t}");
    assert_eq!(body_of(&t), MISSING, "{t}");
    let lower = t.to_ascii_lowercase();
    assert!(
        lower.contains("x-reason: authorization/subscriptionkeynotfound/global\r\n"),
        "{t}"
    );
    assert!(
        t.contains("when making requests to this API."),
        "LastError says `this API`: {t}"
    );
    let t = get(&gw, "/handled/x", "Ocp-Apim-Subscription-Key: bad\r\n");
    assert_eq!(body_of(&t), INVALID, "{t}");
    assert!(
        t.to_ascii_lowercase()
            .contains("x-reason: authorization/subscriptionkeyinvalid/global\r\n"),
        "{t}"
    );
    assert_eq!(be.request_count(), 0);
}

#[test]
fn keep_alive_survives_a_refusal() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be);
    let t = raw(
        gw.addr,
        b"GET /orders/1 HTTP/1.1\r\nHost: gw\r\n\r\nGET /orders/1 HTTP/1.1\r\nHost: gw\r\nOcp-Apim-Subscription-Key: primary-1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(t.matches("HTTP/1.1 401").count(), 1, "{t}");
    assert_eq!(t.matches("HTTP/1.1 200").count(), 1, "{t}");
}
