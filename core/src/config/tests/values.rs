//! Named values (inline, env, file), secrets, and `config show` masking.

use super::{errors, find, load, ok, TempDir};
use crate::config::*;

#[test]
fn named_value_sources() {
    let dir = TempDir::new("nv");
    dir.write("ca.pem", "PEM\r\n");
    std::env::set_var("TOLLGATE_TEST_NV_ENV", "from-env");
    let yaml = "named-values:\n  inline: { value: \"x\" }\n  from-env: { env: TOLLGATE_TEST_NV_ENV, secret: true }\n\
                \x20 from-file: { file: ca.pem }\n  absolute: { file: ABS }\n";
    let abs = dir.write("abs.txt", "abs");
    let path = dir.write("gateway.yaml", &yaml.replace("ABS", &abs.to_string_lossy()));
    let loaded = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let nv = &loaded.named_values;
    assert_eq!(
        nv["inline"],
        NamedValue {
            value: "x".into(),
            secret: false
        }
    );
    assert_eq!(
        nv["from-env"],
        NamedValue {
            value: "from-env".into(),
            secret: true
        }
    );
    assert_eq!(nv["from-file"].value, "PEM");
    assert_eq!(nv["absolute"].value, "abs");
    assert!(
        !format!("{:?}", nv["from-env"]).contains("from-env\""),
        "Debug masks secrets"
    );
}

#[test]
fn unreadable_named_values_are_named() {
    let errs = errors("named-values:\n  a: { env: TOLLGATE_TEST_NV_MISSING }\n  b: { file: /nonexistent/tollgate/b.txt }\n");
    assert_eq!(errs.len(), 2);
    let d = find(
        &errs,
        "named-values.a.env",
        "environment variable `TOLLGATE_TEST_NV_MISSING` is not set",
    );
    assert_eq!((d.line, d.col), (2, 13));
    find(
        &errs,
        "named-values.b.file",
        "cannot read file `/nonexistent/tollgate/b.txt`",
    );
}

#[test]
fn exactly_one_source() {
    let errs = errors("named-values:\n  a: { value: x, env: Y }\n  b: { secret: true }\n  c: { valeu: x }\n  d: plain\n");
    assert_eq!(errs.len(), 4, "{}", ConfigErrors(errs.clone()));
    find(
        &errs,
        "named-values.a",
        "exactly one of `value`, `env` or `file`",
    );
    find(&errs, "named-values.b", "exactly one");
    let d = find(&errs, "named-values.c.valeu", "unknown key");
    assert!(d
        .hint
        .as_deref()
        .unwrap_or("")
        .starts_with("did you mean `value`?"));
    find(&errs, "named-values.d", "expected a map");
    // A secret written in the wrong shape is not echoed back.
    let errs = errors("named-values:\n  k: hunter2-shape\nsubscriptions: [ { id: s, scope: all-apis, primary-key: hunter2-key } ]\n");
    assert_eq!(errs.len(), 2);
    let all = ConfigErrors(errs).to_string();
    assert!(!all.contains("hunter2"), "{all}");
    find(
        &errors("named-values:\n  \"bad name!\": { value: x }\n"),
        "named-values.bad name!",
        "invalid named value name",
    );
    find(
        &errors("subscriptions: [ { id: s, scope: all-apis, primary-key: { value: k, secret: true } } ]\n"),
        "subscriptions[0].primary-key.secret",
        "unknown key",
    );
}

const SECRETS: &str = "named-values:\n  open: { value: visible-value }\n  hidden: { value: hunter2-named, secret: true }\n\
                       \x20 env-secret: { env: TOLLGATE_TEST_SHOW_SECRET, secret: true }\n\
                       apis:\n  - id: a\n    path: a\n    service-url: http://127.0.0.1:9001/v1\n\
                       \x20   operations: [ { id: o, method: GET, url-template: \"/o/{id}\" } ]\n\
                       subscriptions:\n  - id: s\n    scope: api/a\n    primary-key: { value: hunter2-primary }\n\
                       \x20   secondary-key: { env: TOLLGATE_TEST_SHOW_SECRET }\n";

#[test]
fn show_masks_every_secret() {
    std::env::set_var("TOLLGATE_TEST_SHOW_SECRET", "hunter2-env");
    let loaded = ok(SECRETS);
    let shown = loaded.to_masked_yaml();
    for secret in ["hunter2-named", "hunter2-primary", "hunter2-env"] {
        assert!(!shown.contains(secret), "`{secret}` leaked:\n{shown}");
    }
    assert!(shown.contains("visible-value"), "{shown}");
    assert!(shown.contains("\"***\""), "{shown}");
    assert!(
        shown.contains("client-header: 10s"),
        "defaults are shown:\n{shown}"
    );
    assert!(shown.contains("http: \"0.0.0.0:8080\""), "{shown}");
    assert!(
        shown.contains("env: TOLLGATE_TEST_SHOW_SECRET"),
        "sources stay visible:\n{shown}"
    );
}

#[test]
fn shown_config_reads_back_the_same() {
    let yaml = "gateway:\n  shards: 3\n  timeouts: { client-header: 1500ms, shutdown-grace: 2m }\n\
                named-values:\n  h: { value: \"127.0.0.1:9001\" }\n\
                apis:\n  - id: a\n    path: v1/a\n    service-url: \"http://{{h}}/v1\"\n    subscription-required: false\n\
                \x20   protocols: [https]\n    operations: [ { id: o, method: GET, url-template: \"/o/{id}\" } ]\n\
                logging: { level: debug }\n";
    let first = ok(yaml);
    let shown = first.to_masked_yaml();
    let second = load(&shown).unwrap_or_else(|e| panic!("{e}\n{shown}"));
    assert_eq!(first.config, second.config, "{shown}");
}
