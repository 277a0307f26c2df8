//! YAML documents read with the model's key paths: the walk that names every node both
//! ways, and the documents the checks load (every section at its minimum, every key set).

use super::tracer::{join, Model};
use super::NAME;
use crate::config::node::{Node, NodeKind};
use crate::config::yaml;

/// Walks a document, naming each node by its key path in the file (`apis[0].id`) and in
/// the model (`apis[].id`, `backends.<name>.url`).
pub(super) fn walk<'n>(
    model: &Model,
    node: &'n Node,
    raw: &str,
    path: &str,
    visit: &mut dyn FnMut(&str, &str, &'n Node),
) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let text = k.scalar_text().expect("scalar keys");
                let exact = join(path, text);
                let named = join(path, NAME);
                let key = if model.keys.contains(&exact) {
                    exact
                } else if model.keys.contains(&named) {
                    named
                } else {
                    panic!("`{}` is not a key of the model", join(raw, text));
                };
                let raw = join(raw, text);
                visit(&raw, &key, v);
                walk(model, v, &raw, &key, visit);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(
                    model,
                    item,
                    &format!("{raw}[{i}]"),
                    &format!("{path}[]"),
                    visit,
                );
            }
        }
        _ => {}
    }
}

pub(super) fn parse(text: &str) -> Node {
    yaml::parse(text).unwrap_or_else(|e| panic!("{e:?}")).root
}

/// A value as the page writes defaults: `10s`, `[http, https]`, `{}`. `None` for maps and
/// lists that hold maps (their keys have rows of their own).
pub(super) fn rendered(node: &Node) -> Option<String> {
    match &node.kind {
        NodeKind::Map(entries) if entries.is_empty() => Some("{}".into()),
        NodeKind::Map(_) => None,
        NodeKind::Seq(items) => {
            let texts: Option<Vec<&str>> = items.iter().map(Node::scalar_text).collect();
            texts.map(|t| format!("[{}]", t.join(", ")))
        }
        _ => node.scalar_text().map(str::to_owned),
    }
}

/// Every optional section present with only its required keys, so everything else in it
/// takes its default.
pub(super) const MINIMAL: &str = r#"
gateway:
  admin: { listen: "127.0.0.1:8090" }
  tls: { client-certificates: {} }
named-values:
  n: { value: x }
backends:
  b:
    url: http://b
    credentials: {}
    circuit-breaker: { rules: [ { name: r, failure-condition: { interval: 10s }, trip-duration: 5s } ] }
    health-check: { path: /h }
    tls: {}
    pool: [ { backend: c } ]
apis: [ { id: a, path: a } ]
products: [ { id: p } ]
subscriptions: [ { id: s, scope: all-apis } ]
api-version-sets: [ { id: v, versioning-scheme: Segment } ]
rate-limits: { redis: { url: "redis://r" } }
cache: { redis: { url: "redis://r" } }
logging: { access: {} }
telemetry: { otlp: { endpoint: "http://o" } }
"#;

/// List items with only their required keys, where `MINIMAL` needs the list empty to
/// show the list's own default.
pub(super) const MINIMAL_ITEMS: &str = r#"
gateway:
  tls: { certificates: [ { cert: c.pem, key: c.key } ] }
"#;

/// Every key of the model set, to see which ones the loader refuses: the first document
/// sets all but the admin token's other sources.
pub(super) const ALL_KEYS: [&str; 3] = [
    FULL,
    "gateway: { admin: { listen: \"127.0.0.1:8090\", token: { env: TOLLGATE_TEST_DOCS_UNSET } } }\n",
    "gateway: { admin: { listen: \"127.0.0.1:8090\", token: { file: t.txt } } }\n",
];

const FULL: &str = r#"
gateway:
  name: g
  shards: 2
  listen: { http: "127.0.0.1:8080", https: "127.0.0.1:8443" }
  admin: { listen: "127.0.0.1:8090", token: { value: t } }
  http2: { enabled: true, h2c: false, max-concurrent-streams: 100, initial-window-size: 256KiB, max-send-buffer: 256KiB, max-pending-resets: 20, max-local-resets: 1024 }
  tls:
    certificates: [ { hostnames: [a.example], cert: c.pem, key: c.key, ocsp: o.der, default: true } ]
    client-certificates: { mode: optional, ca: ca.pem, crl: ca.crl }
    min-version: "1.2"
    cipher-suites: [TLS13_AES_128_GCM_SHA256]
    session-tickets: true
    session-cache: 4096
    watch-interval: 5s
  limits: { max-header-bytes: 64KiB, max-headers: 100, max-uri-bytes: 8KiB, max-body-bytes: 100MiB }
  timeouts: { client-header: 10s, keepalive-idle: 75s, backend-connect: 5s, backend-response: 5m, shutdown-grace: 30s }
  forwarded: { x-forwarded-for: true, x-forwarded-proto: true, x-forwarded-host: true, preserve-host: false }
  pool: { max-idle-per-backend: 64, idle-timeout: 1m }
  openid: { azure-ad-authority: "http://127.0.0.1:9", refresh: 1h, min-refresh: 5m, wait: 3s, timeout: 5s, ca: ca.pem }
  reload: { watch-interval: 5s }
named-values:
  a: { value: x, secret: true }
  b: { env: TOLLGATE_TEST_DOCS_UNSET }
  c: { file: c.txt }
certificates:
  signer: { file: signer.pem }
backends:
  b:
    url: "http://127.0.0.1:9001"
    protocol: http1
    credentials: { header: { x-key: ["{{a}}"] }, query: { key: ["{{a}}"] } }
    circuit-breaker:
      rules:
        - name: r
          failure-condition: { count: 3, percentage: 50, interval: 10s, status-code-ranges: [ { min: 500, max: 599 } ], error-reasons: [ x ] }
          trip-duration: 5s
          accept-retry-after: true
    health-check: { path: /h, interval: 5s, timeout: 1s, expected-status: 200, healthy-threshold: 2, unhealthy-threshold: 3 }
    tls: { verify: true, ca: ca.pem, sni: b.example, client-cert: c.pem, client-key: c.key }
    pool: [ { backend: b, priority: 1, weight: 1 } ]
apis:
  - id: a
    display-name: A
    path: a
    service-url: "http://127.0.0.1:9001"
    protocols: [http]
    subscription-required: true
    subscription-key: { header: K, query: k }
    policy: "<policies/>"
    operations: [ { id: o, display-name: O, method: GET, url-template: /o, policy: "<policies/>" } ]
    openapi: spec.yaml
    api-version: v1
    api-version-set-id: v
    api-revision: "2"
    is-current: true
products:
  - { id: p, display-name: P, description: d, apis: [a], subscription-required: true, approval-required: false, state: published, policy: "<policies/>" }
subscriptions:
  - { id: s, display-name: S, scope: all-apis, primary-key: { value: k }, secondary-key: { env: TOLLGATE_TEST_DOCS_UNSET }, state: active, allow-tracing: false, start-date: '2026-01-01', end-date: '2027-01-01T00:00:00Z' }
  - { id: t, scope: all-apis, primary-key: { env: TOLLGATE_TEST_DOCS_UNSET }, secondary-key: { file: k.txt } }
  - { id: u, scope: all-apis, primary-key: { file: k.txt }, secondary-key: { value: k } }
policies: { global: "<policies/>", fragments: { f: "<fragment/>" } }
api-version-sets:
  - { id: v, display-name: V, description: d, versioning-scheme: Query, version-query-name: api-version, version-header-name: Api-Version }
rate-limits: { max-keys: 10, redis: { url: "redis://r", key-prefix: "t:", sync-interval: 50ms, on-failure: closed } }
cache: { memory: 256MiB, redis: { url: "redis://r", key-prefix: "t:", timeout: 50ms } }
logging: { level: warn, access: { path: stdout, format: json } }
telemetry: { otlp: { endpoint: "http://127.0.0.1:4318", sampling: 0.1 } }
"#;
