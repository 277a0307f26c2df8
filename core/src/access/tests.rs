//! APIM's key rules, case by case.

use super::*;
use crate::config::Config;

fn config(yaml: &str) -> Config {
    crate::config::load_str(yaml, std::path::Path::new("t.yaml"))
        .expect("config loads")
        .config
}

const BASE: &str = "
apis:
  - { id: orders, path: orders, service-url: 'http://127.0.0.1:1' }
  - { id: open-api, path: open, service-url: 'http://127.0.0.1:1', subscription-required: false }
  - { id: other, path: other, service-url: 'http://127.0.0.1:1' }
  - { id: free, path: free, service-url: 'http://127.0.0.1:1' }
products:
  - { id: starter, apis: [orders] }
  - { id: public, apis: [free], subscription-required: false }
subscriptions:
  - { id: s-product, scope: product/starter, primary-key: { value: pk-1 }, secondary-key: { value: sk-1 } }
  - { id: s-api, scope: api/other, primary-key: { value: pk-2 } }
  - { id: s-all, scope: all-apis, primary-key: { value: pk-3 } }
  - { id: s-off, scope: all-apis, primary-key: { value: pk-4 }, state: suspended }
  - { id: s-late, scope: all-apis, primary-key: { value: pk-5 }, start-date: '2030-01-01' }
  - { id: s-gone, scope: all-apis, primary-key: { value: pk-6 }, end-date: '2020-01-01T00:00:00Z' }
";

const NOW: i64 = 1_796_000_000; // 2026-11-29

fn access() -> Access {
    Access::build(&config(BASE)).expect("builds")
}

#[test]
fn product_key_gives_product_context_on_its_apis_only() {
    let a = access();
    let c = a.authorize(0, Some(b"pk-1"), NOW).unwrap();
    assert_eq!(c.subscription, Some((0, Which::Primary)));
    assert_eq!(c.product, Some(0));
    let c = a.authorize(0, Some(b"sk-1"), NOW).unwrap();
    assert_eq!(c.subscription, Some((0, Which::Secondary)));
    assert_eq!(
        a.authorize(2, Some(b"pk-1"), NOW),
        Err(GatewayError::SubscriptionKeyInvalid)
    );
}

#[test]
fn api_and_all_apis_keys_have_no_product() {
    let a = access();
    assert_eq!(a.authorize(2, Some(b"pk-2"), NOW).unwrap().product, None);
    assert_eq!(
        a.authorize(0, Some(b"pk-2"), NOW),
        Err(GatewayError::SubscriptionKeyInvalid)
    );
    for api in 0..4 {
        let c = a.authorize(api, Some(b"pk-3"), NOW).unwrap();
        assert_eq!(
            c,
            Caller {
                subscription: Some((2, Which::Primary)),
                product: None
            }
        );
    }
}

#[test]
fn only_active_keys_within_their_dates_pass() {
    let a = access();
    for key in [&b"pk-4"[..], b"pk-5", b"pk-6", b"nope", b""] {
        assert_eq!(
            a.authorize(0, Some(key), NOW),
            Err(GatewayError::SubscriptionKeyInvalid)
        );
    }
    assert!(a
        .authorize(0, Some(b"pk-5"), parse_utc("2030-01-02").unwrap())
        .is_ok());
}

#[test]
fn missing_key() {
    let a = access();
    assert_eq!(
        a.authorize(0, None, NOW),
        Err(GatewayError::SubscriptionKeyNotFound)
    );
    // The API itself needs no subscription: no context.
    assert_eq!(a.authorize(1, None, NOW), Ok(Caller::default()));
    // An open product gives its context, and ignores a key that does not pass.
    let open = Caller {
        subscription: None,
        product: Some(1),
    };
    assert_eq!(a.authorize(3, None, NOW), Ok(open));
    assert_eq!(a.authorize(3, Some(b"wrong"), NOW), Ok(open));
    // A key that passes still wins over the open product.
    assert_eq!(
        a.authorize(3, Some(b"pk-3"), NOW).unwrap().subscription,
        Some((2, Which::Primary))
    );
    // An invalid key on an API that needs no subscription is still refused (APIM).
    assert_eq!(
        a.authorize(1, Some(b"wrong"), NOW),
        Err(GatewayError::SubscriptionKeyInvalid)
    );
}

#[test]
fn duplicate_keys_and_double_open_products_are_config_errors() {
    let dup =
        format!("{BASE}  - {{ id: s-dup, scope: all-apis, primary-key: {{ value: pk-1 }} }}\n");
    let err = crate::config::load_str(&dup, std::path::Path::new("t.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the same key as `subscriptions[0].primary-key`"),
        "{err}"
    );
    let two_open = BASE.replace(
        "  - { id: public, apis: [free], subscription-required: false }\n",
        "  - { id: public, apis: [free], subscription-required: false }\n  - { id: public2, apis: [free], subscription-required: false }\n",
    );
    let err = crate::config::load_str(&two_open, std::path::Path::new("t.yaml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("already in open product `public`"), "{err}");
    let bad_date = BASE.replace("'2030-01-01'", "'next year'");
    let err = crate::config::load_str(&bad_date, std::path::Path::new("t.yaml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a UTC date"), "{err}");
}
