//! Structural errors: unknown keys, wrong types, duplicates, missing keys, YAML syntax —
//! every one located, all reported at once, and no input that panics.

use std::path::Path;

use super::{errors, find, load};
use crate::config::*;

#[test]
fn unknown_key_has_hint_and_exact_location() {
    let yaml = "apis:\n  - id: a\n    path: a\n    operations:\n      - id: x\n        mehtod: GET\n        url-template: /x\n";
    let errs = errors(yaml);
    assert_eq!(errs.len(), 1, "{}", ConfigErrors(errs.clone()));
    let d = &errs[0];
    assert_eq!((d.line, d.col), (6, 9));
    assert_eq!(d.key_path, "apis[0].operations[0].mehtod");
    assert_eq!(d.message, "unknown key `mehtod`");
    assert!(
        d.hint
            .as_deref()
            .unwrap_or("")
            .starts_with("did you mean `method`?"),
        "{:?}",
        d.hint
    );
    assert!(
        d.hint.as_deref().unwrap_or("").contains("`url-template`"),
        "short key lists are spelled out"
    );
    assert_eq!(
        d.to_string().lines().next(),
        Some("gateway.yaml:6:9: apis[0].operations[0].mehtod: unknown key `mehtod`")
    );
    assert!(
        errors("apis:\n  - id: a\n    path: a\n    url_template: x\n")[0]
            .hint
            .is_some()
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let yaml = "gateway:\n  nmae: x\n  timeouts:\n    client-header: 10\napis:\n  - id: a\n    path: a\n    srevice-url: http://x\n";
    let errs = errors(yaml);
    assert_eq!(errs.len(), 3, "{}", ConfigErrors(errs.clone()));
    let unknown = find(&errs, "gateway.nmae", "unknown key `nmae`");
    assert_eq!((unknown.line, unknown.col), (2, 3));
    assert_eq!(
        unknown
            .hint
            .as_deref()
            .map(|h| h.starts_with("did you mean `name`?")),
        Some(true)
    );
    let duration = find(&errs, "gateway.timeouts.client-header", "needs a unit");
    assert_eq!((duration.line, duration.col), (4, 20));
    assert_eq!(duration.hint.as_deref(), Some("add a unit: 10s"));
    let service = find(&errs, "apis[0].srevice-url", "unknown key");
    assert!(service
        .hint
        .as_deref()
        .unwrap_or("")
        .contains("`service-url`"));
    let all = ConfigErrors(errs).to_string();
    assert!(all.ends_with("3 errors"), "{all}");
}

#[test]
fn wrong_types_say_what_was_expected() {
    let errs = errors("gateway:\n  limits:\n    max-headers: many\n  forwarded:\n    preserve-host: \"true\"\n  name: [a]\n");
    assert_eq!(errs.len(), 3, "{}", ConfigErrors(errs.clone()));
    find(
        &errs,
        "gateway.limits.max-headers",
        "expected an integer, found a string",
    );
    let b = find(
        &errs,
        "gateway.forwarded.preserve-host",
        "expected a boolean",
    );
    assert_eq!(b.hint.as_deref(), Some("remove the quotes"));
    find(&errs, "gateway.name", "expected a string, found a list");
    let q = errors("gateway:\n  pool:\n    max-idle-per-backend: \"8\"\n");
    assert_eq!(q[0].hint.as_deref(), Some("remove the quotes"));
    find(&errors("apis: 3\n"), "apis", "expected a list");
    find(&errors("- a\n"), "", "expected a map");
    find(
        &errors("gateway:\n  limits:\n    max-headers: -1\n"),
        "gateway.limits.max-headers",
        "-1",
    );
}

#[test]
fn duplicate_keys_are_errors() {
    let errs = errors("gateway:\n  name: a\n  name: b\n");
    let d = find(&errs, "gateway.name", "duplicate key `name`");
    assert_eq!((d.line, d.col), (3, 3));
    assert_eq!(d.hint.as_deref(), Some("first defined at line 2; keep one"));
    // Reported together with the other errors.
    assert_eq!(
        errors("gateway:\n  name: a\n  name: b\n  nmae: c\n").len(),
        2
    );
}

#[test]
fn missing_required_key() {
    let errs = errors("apis:\n  - path: a\n    display-name: A\n  - id: b\n");
    assert_eq!(errs.len(), 2, "{}", ConfigErrors(errs.clone()));
    let d = find(&errs, "apis[0]", "missing required key `id`");
    assert_eq!((d.line, d.col), (2, 5));
    find(&errs, "apis[1]", "missing required key `path`");
}

#[test]
fn removing_a_bad_value_does_not_also_report_it_missing() {
    let errs = errors("apis:\n  - id: [x]\n    path: a\n  - id: b\n    path: b\n    bogus: 1\n");
    assert_eq!(errs.len(), 2, "{}", ConfigErrors(errs.clone()));
    find(&errs, "apis[0].id", "expected a string");
    find(&errs, "apis[1].bogus", "unknown key");
}

#[test]
fn yaml_problems_are_located() {
    let d = &errors("gateway:\n  name: [a, b\n  shards: 2\n")[0];
    assert!(d.message.starts_with("invalid YAML"), "{d}");
    assert!(d.line >= 2);
    find(&errors("a: &x 1\nb: [*x]\n"), "b[0]", "aliases");
    find(&errors("a: 1\n---\nb: 2\n"), "", "one YAML document");
}

#[test]
fn missing_file_is_named() {
    let e = load_file(Path::new("/nonexistent/tollgate/gateway.yaml")).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/tollgate/gateway.yaml: cannot read"),
        "{e}"
    );
}

#[test]
fn error_count_is_capped() {
    let yaml: String = (0..150).map(|i| format!("k{i}: 1\n")).collect();
    let errs = load(&yaml).unwrap_err().0;
    assert_eq!(errs.len(), 100);
}

#[test]
fn no_panic_on_garbage() {
    // A deterministic stream of YAML-ish fragments; any input must give Ok or Err.
    let pieces = [
        "apis:",
        "\n",
        "  - ",
        "id: ",
        "x",
        "{",
        "}",
        "[",
        "]",
        ":",
        "'",
        "\"",
        "&a ",
        "*a",
        "!!int ",
        "? ",
        "|\n",
        "-",
        "gateway: ",
        "timeouts: ",
        "10s",
        "~",
        "\t",
        "#",
        ",",
        "%YAML 1.2\n",
        "---\n",
        "...\n",
        "\u{feff}",
        "é",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..2000 {
        let mut text = String::new();
        for _ in 0..(seed % 24) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
        }
        let _ = load(&text);
    }
}
