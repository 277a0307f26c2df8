//! Validation: references, formats, uniqueness, and the "not supported yet" errors.

use super::{errors, find, ok, TempDir};
use crate::config::*;

/// An API block that passes every rule, for building cases.
fn api(id: &str, path: &str, extra: &str) -> String {
    format!("  - id: {id}\n    path: \"{path}\"\n    subscription-required: false\n{extra}")
}

#[test]
fn api_ids_and_paths_are_unique() {
    let yaml = format!(
        "apis:\n{}{}{}",
        api("a", "x", ""),
        api("a", "y", ""),
        api("c", "x", "")
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{}", ConfigErrors(errs.clone()));
    let d = find(&errs, "apis[1].id", "duplicate API id `a`");
    assert_eq!(d.hint.as_deref(), Some("first defined at line 2"));
    assert_eq!((d.line, d.col), (5, 9));
    find(&errs, "apis[2].path", "path `x` is already used by API `a`");
}

#[test]
fn api_path_shape() {
    for (path, hint) in [
        ("/orders/", "write `path: orders`"),
        ("orders?x=1", "write `path: orders`"),
        ("my api", "write `path: myapi`"),
        ("a#b", "write `path: a`"),
        ("/", "write `path: \"\"`"),
    ] {
        let errs = errors(&format!("apis:\n{}", api("a", path, "")));
        let d = find(&errs, "apis[0].path", "an API path must not");
        assert_eq!(d.hint.as_deref(), Some(hint), "{path}");
    }
    ok(&format!(
        "apis:\n{}{}",
        api("root", "", ""),
        api("v", "v1/orders", "")
    ));
}

#[test]
fn service_urls() {
    let case = |url: &str| {
        errors(&format!(
            "apis:\n{}",
            api("a", "a", &format!("    service-url: \"{url}\"\n"))
        ))
    };
    find(
        &case("127.0.0.1:9001"),
        "apis[0].service-url",
        "missing scheme",
    );
    find(
        &case("ftp://x"),
        "apis[0].service-url",
        "unsupported scheme",
    );
    find(&case("http://"), "apis[0].service-url", "no host");
    find(
        &case("http://h:70000"),
        "apis[0].service-url",
        "not a valid port",
    );
    ok(&format!(
        "apis:\n{}",
        api("a", "a", "    service-url: https://orders.internal:9443\n")
    ));
    ok(&format!(
        "apis:\n{}",
        api("a", "a", "    service-url: http://[::1]:9001/v1\n")
    ));
    let errs =
        errors("backends:\n  b: { url: \"https://x\", tls: { client-cert: c.pem } }\n  c: {}\n");
    find(&errs, "backends.b.tls", "go together");
    find(&errs, "backends.c", "a backend needs `url`");
}

#[test]
fn operations() {
    let ops = "    operations:\n\
               \x20     - { id: get, method: get, url-template: \"/o/{id}\" }\n\
               \x20     - { id: get, method: POST, url-template: /o }\n\
               \x20     - { id: any, method: \"*\", url-template: /any }\n\
               \x20     - { id: bad, method: \"G T\", url-template: /bad }\n\
               \x20     - { id: rel, method: PUT, url-template: orders }\n\
               \x20     - { id: again, method: GET, url-template: \"/o/{orderId}\" }\n";
    let errs = errors(&format!("apis:\n{}", api("a", "a", ops)));
    assert_eq!(errs.len(), 5, "{}", ConfigErrors(errs.clone()));
    find(
        &errs,
        "apis[0].operations[1].id",
        "duplicate operation id `get`",
    );
    find(&errs, "apis[0].operations[2].method", "`*` is not allowed");
    find(
        &errs,
        "apis[0].operations[3].method",
        "`G T` is not an HTTP method",
    );
    let d = find(
        &errs,
        "apis[0].operations[4].url-template",
        "must start with `/`",
    );
    assert_eq!(d.hint.as_deref(), Some("write `url-template: \"/orders\"`"));
    find(
        &errs,
        "apis[0].operations[5].url-template",
        "operations `get` and `again` both match GET",
    );
    ok(&format!(
        "apis:\n{}",
        api(
            "a",
            "a",
            "    operations: [ { id: all, method: GET, url-template: \"/*\" } ]\n"
        )
    ));
}

#[test]
fn products_and_subscriptions_refer_to_what_exists() {
    let yaml = format!(
        "apis:\n{}products:\n  - {{ id: p, apis: [orderz] }}\n  - {{ id: p }}\nsubscriptions:\n\
         \x20 - {{ id: s1, scope: product/nope }}\n  - {{ id: s2, scope: api/orders }}\n  - {{ id: s3, scope: all-apis }}\n\
         \x20 - {{ id: s4, scope: products/p }}\n  - {{ id: s5, scope: everything }}\n\
         \x20 - {{ id: s6, scope: api/ordrs, primary-key: {{ value: \"\" }}, secondary-key: {{ env: TOLLGATE_TEST_UNSET_KEY }} }}\n\
         \x20 - {{ id: s1, scope: all-apis }}\n",
        api("orders", "orders", "")
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 9, "{}", ConfigErrors(errs.clone()));
    let d = find(&errs, "products[0].apis[0]", "unknown API `orderz`");
    assert!(d
        .hint
        .as_deref()
        .unwrap_or("")
        .starts_with("did you mean `orders`?"));
    find(&errs, "products[1].id", "duplicate product id `p`");
    find(&errs, "subscriptions[0].scope", "unknown product `nope`");
    let d = find(&errs, "subscriptions[3].scope", "invalid scope");
    assert_eq!(d.hint.as_deref(), Some("write `scope: product/p`"));
    find(
        &errs,
        "subscriptions[4].scope",
        "invalid scope `everything`",
    );
    find(&errs, "subscriptions[5].scope", "unknown api `ordrs`");
    find(
        &errs,
        "subscriptions[5].primary-key.value",
        "cannot be empty",
    );
    find(
        &errs,
        "subscriptions[5].secondary-key.env",
        "`TOLLGATE_TEST_UNSET_KEY` is not set",
    );
    find(
        &errs,
        "subscriptions[6].id",
        "duplicate subscription id `s1`",
    );
}

#[test]
fn backend_pools() {
    let errs = errors(
        "backends:\n  a: { url: \"http://a\" }\n  p: { pool: [ { backend: a }, { backend: q }, { backend: b } ] }\n  q: { pool: [ { backend: a } ] }\n",
    );
    find(&errs, "backends.p.pool[1].backend", "`q` is itself a pool");
    let d = find(&errs, "backends.p.pool[2].backend", "unknown backend `b`");
    assert!(d.hint.as_deref().unwrap_or("").contains("`a`"));
    find(&errs, "backends.p.pool", "`pool` is not supported yet");
}

#[test]
fn named_value_references_must_exist() {
    let yaml = format!(
        "named-values:\n  orders-host: {{ value: x }}\nbackends:\n  b:\n    url: \"http://{{{{orders-hst}}}}\"\n\
         \x20   credentials: {{ header: {{ x-key: [\"{{{{key}}}}\"] }} }}\napis:\n{}",
        api("a", "a", "    service-url: \"http://{{orders-host}}:{{port}}\"\n    policy: \"<policies>{{nope}}</policies>\"\n")
    );
    let errs = errors(&yaml);
    let d = find(
        &errs,
        "backends.b.url",
        "`{{orders-hst}}` is not a defined named value",
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap_or("")
            .starts_with("did you mean `orders-host`?"),
        "{d}"
    );
    find(&errs, "backends.b.credentials.header.x-key[0]", "`{{key}}`");
    find(&errs, "apis[0].service-url", "`{{port}}`");
    find(&errs, "apis[0].policy", "`{{nope}}`");
    ok(&format!(
        "named-values:\n  h: {{ value: \"127.0.0.1:9001\" }}\napis:\n{}",
        api("a", "a", "    service-url: \"http://{{h}}/v1\"\n")
    ));
    find(
        &errors(
            "named-values:\n  h: { value: \"a b\" }\nbackends:\n  b: { url: \"http://{{h}}\" }\n",
        ),
        "backends.b.url",
        "whitespace",
    );
    let errs = errors(
        "named-values:\n  h: { value: \"hunter2 x\", secret: true }\nbackends:\n  b: { url: \"http://{{h}}\" }\n",
    );
    let d = find(
        &errs,
        "backends.b.url",
        "invalid URL `http://{{h}}` once named values are filled in",
    );
    assert!(!d.to_string().contains("hunter2"));
}

#[test]
fn policy_files_must_exist() {
    let dir = TempDir::new("policies");
    dir.write("policies/global.xml", "<policies/>");
    let path = dir.write(
        "gateway.yaml",
        "policies:\n  global: policies/global.xml\n  fragments:\n    corr: policies/missing.xml\n",
    );
    let errs = load_file(&path).unwrap_err().0;
    assert_eq!(errs.len(), 1, "{}", ConfigErrors(errs.clone()));
    find(&errs, "policies.fragments.corr", "not found");
}

#[test]
fn unsupported_features_are_loud() {
    let yaml = "gateway:\n  listen: { http: 0.0.0.0:8080, https: 0.0.0.0:8081 }\n\
                \x20 admin: { listen: 127.0.0.1:8090, token: { env: T } }\n\
                \x20 tls: { certificates: [ { hostnames: [a], cert: c.pem, key: c.key } ], client-certificates: { mode: optional } }\n\
                backends:\n  b:\n    url: http://b\n    protocol: h2c\n    circuit-breaker:\n      rules:\n        - name: r\n\
                \x20         failure-condition: { count: 3, interval: 10s, status-code-ranges: [ { min: 500, max: 599 } ] }\n\
                \x20         trip-duration: 5s\n    health-check: { path: /health }\n    tls: { verify: false }\n\
                apis:\n  - id: a\n    path: a\n    policy: \"<policies/>\"\n    openapi: spec.yaml\n    api-version: v1\n\
                \x20   api-version-set-id: set\n    api-revision: \"2\"\n    is-current: true\n\
                \x20   operations: [ { id: o, method: GET, url-template: /o, policy: \"<policies/>\" } ]\n\
                products: [ { id: p, policy: \"<policies/>\" } ]\n\
                api-version-sets: [ { id: set, versioning-scheme: Segment } ]\n\
                rate-limits: { max-keys: 10, redis: { url: \"redis://r\", sync-interval: 50ms, on-failure: closed } }\n\
                cache: { memory: 256MiB, redis: { url: \"redis://r\", timeout: 50ms } }\n\
                logging: { level: warn, access: { path: stdout, format: json } }\n\
                telemetry: { otlp: { endpoint: \"http://127.0.0.1:4318\", sampling: 0.1 } }\n";
    let errs = errors(yaml);
    let expect = [
        ("gateway.admin", "a later issue"),
        ("backends.b.circuit-breaker", "a later issue"),
        ("backends.b.health-check", "a later issue"),
        ("apis[0].openapi", "a later issue"),
        ("apis[0].api-version", "a later issue"),
        ("apis[0].api-version-set-id", "a later issue"),
        ("apis[0].api-revision", "a later issue"),
        ("apis[0].is-current", "a later issue"),
        ("api-version-sets", "a later issue"),
        ("cache", "a later issue"),
        ("logging.access", "a later issue"),
        ("telemetry", "a later issue"),
    ];
    for (path, issue) in expect {
        let key = path
            .rsplit(['.', '['])
            .next()
            .unwrap_or(path)
            .trim_end_matches(']');
        let d = find(&errs, path, &format!("`{key}` is not supported yet"));
        assert!(d.message.contains(issue), "{d}");
    }
    assert_eq!(errs.len(), expect.len(), "{}", ConfigErrors(errs.clone()));
    let d = find(&errs, "gateway.admin", "not supported");
    assert_eq!((d.line, d.col), (3, 3), "located at the key");
}

#[test]
fn a_subscription_without_keys_is_a_warning() {
    let yaml = "apis:\n  - { id: a, path: a }\nproducts: [ { id: p, apis: [a] } ]\n\
                subscriptions: [ { id: s, scope: product/p, primary-key: { value: k } }, { id: t, scope: all-apis } ]\n";
    let loaded = ok(yaml);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(
        loaded.warnings[0].message,
        "subscription `t` has no key: no request can use it"
    );
    assert_eq!(loaded.warnings[0].key_path, "subscriptions[1]");
    assert!(ok("apis:\n  - { id: a, path: a }\n").warnings.is_empty());
}

#[test]
fn gateway_sanity() {
    find(
        &errors("gateway: { listen: { http: ~ } }\n"),
        "gateway.listen",
        "no listener",
    );
    find(
        &errors("gateway: { limits: { max-headers: 0 } }\n"),
        "gateway.limits.max-headers",
        "at least 1",
    );
    find(
        &errors("gateway: { timeouts: { backend-connect: 0s } }\n"),
        "gateway.timeouts.backend-connect",
        "longer than 0",
    );
    find(
        &errors("gateway: { listen: { http: \"localhost:80\" } }\n"),
        "gateway.listen.http",
        "socket address",
    );
    find(
        &errors("apis:\n  - { id: a, path: a, api-version-set-id: nope }\n"),
        "apis[0].api-version-set-id",
        "unknown api-version-set",
    );
}

#[test]
fn structural_errors_come_first() {
    // With an unknown key present, cross-entry rules wait: their results could be noise.
    let yaml = format!(
        "apis:\n{}{}    bogus: 1\n",
        api("a", "a", ""),
        api("a", "a", "")
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 1, "{}", ConfigErrors(errs.clone()));
}

#[test]
fn openid_settings_must_be_usable() {
    let errs = errors("gateway:\n  openid: { wait: 0s, azure-ad-authority: login.example }\n");
    find(&errs, "gateway.openid.wait", "must be longer than 0");
    find(
        &errs,
        "gateway.openid.azure-ad-authority",
        "is not an http(s) URL",
    );
}

#[test]
fn redis_for_rate_limits_must_be_usable() {
    let errs = errors(
        "gateway: {}\nrate-limits:\n  redis: { url: \"http://r:6379\", sync-interval: 0s }\n",
    );
    let d = find(&errs, "rate-limits.redis.url", "is not a Redis URL");
    assert!(d.message.contains("use redis://"), "{d}");
    assert_eq!((d.line, d.col), (3, 17), "located at the value");
    find(
        &errs,
        "rate-limits.redis.sync-interval",
        "must be longer than 0",
    );
    assert_eq!(errs.len(), 2, "{}", ConfigErrors(errs.clone()));
    let loaded = ok(
        "rate-limits: { redis: { url: \"redis://:pw@127.0.0.1:6380/1\", on-failure: closed } }\n",
    );
    let redis = loaded.config.rate_limits.and_then(|r| r.redis);
    assert!(redis.is_some_and(|r| r.sync_interval.as_millis() == 50));
}

#[test]
fn tls_settings_must_be_usable() {
    let errs = errors("gateway:\n  listen: { https: 0.0.0.0:8443 }\n");
    find(&errs, "gateway.listen.https", "needs a certificate");
    let yaml = "gateway:\n  listen: { https: 0.0.0.0:8443 }\n  tls:\n    certificates:\n\
                \x20     - { hostnames: [a.test, \"*.b.test\"], cert: c.pem, key: c.key, default: true }\n\
                \x20     - { hostnames: [A.test, \"x.*.test\"], cert: d.pem, key: d.key, default: true }\n\
                \x20   client-certificates: { mode: required, crl: x.crl }\n";
    let errs = errors(yaml);
    let d = find(
        &errs,
        "gateway.tls.certificates[1].hostnames[0]",
        "already served by",
    );
    assert_eq!((d.line, d.col), (6, 23), "located at the name");
    find(
        &errs,
        "gateway.tls.certificates[1].hostnames[1]",
        "only be the whole first label",
    );
    find(
        &errs,
        "gateway.tls.certificates",
        "more than one certificate",
    );
    find(
        &errs,
        "gateway.tls.client-certificates.mode",
        "need a CA bundle",
    );
    find(&errs, "gateway.tls.client-certificates.crl", "needs `ca`");
}
