//! `docs/configuration.md` against the model: every key the model parses has a row, every
//! row is a key the model parses, and each row's allowed values, default and status are
//! the code's.
//!
//! The keys come from the model itself, not from a list: `tracer::Tracer` is a serde
//! `Deserializer` that answers every `deserialize_struct` with all of the struct's fields
//! (serde hands it their names), every list with one item, every map with one `<name>`
//! entry and every `Option` with `None` or (one at a time) `Some`. A key added to any model
//! struct is therefore found without touching this file, and fails the test until the page
//! has a row for it.
//!
//! `tracer` finds the keys, `page` reads the page's rows, `documents` walks YAML with the
//! model's key paths and holds the documents the checks load; the checks are here.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use self::documents::{parse, rendered, walk, ALL_KEYS, MINIMAL, MINIMAL_ITEMS};
use self::page::rows_by_key;
use self::tracer::{model, trace};
use super::{load, ok};
use crate::config::recover::deserialize_all;
use crate::config::Config;

mod documents;
mod page;
mod tracer;

const PAGE: &str = include_str!("../../../../../docs/configuration.md");

/// How the page names the entries of a map whose keys the user chooses.
const NAME: &str = "<name>";

/// `apis[].operations[].policy` → `apis[].operations[]` → `apis[].operations` → `apis[]`…
fn parent(path: &str) -> Option<&str> {
    path.rfind(['.', '[']).map(|i| &path[..i])
}

/// `issue 6` or `a later issue`, as a "not supported yet" message says.
fn issue(message: &str) -> String {
    if message.contains("a later issue") {
        return "a later issue".to_owned();
    }
    let at = message
        .find("issue ")
        .unwrap_or_else(|| panic!("no issue in `{message}`"));
    let digits: String = message[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!digits.is_empty(), "no issue number in `{message}`");
    format!("issue {digits}")
}

// ---------------------------------------------------------------------------------------
// The checks.

#[test]
fn every_key_has_a_row_and_every_row_is_a_key() {
    let model = model();
    let rows = rows_by_key();
    let missing: Vec<&String> = model
        .keys
        .iter()
        .filter(|k| !rows.contains_key(*k))
        .collect();
    let stale: Vec<&String> = rows.keys().filter(|k| !model.keys.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys of the model without a row in docs/configuration.md: {missing:#?}"
    );
    assert!(
        stale.is_empty(),
        "rows in docs/configuration.md that are not keys of the model: {stale:#?}"
    );
}

#[test]
fn every_allowed_value_is_listed() {
    let model = model();
    let rows = rows_by_key();
    for (path, values) in &model.enums {
        let key = path.trim_end_matches("[]");
        let row = rows
            .get(key)
            .unwrap_or_else(|| panic!("no row for `{key}`"));
        for value in values {
            assert!(
                row.ty.contains(&format!("`{value}`")),
                "`{key}`: the type column does not list `{value}`: {}",
                row.ty
            );
        }
    }
}

#[test]
fn defaults_are_the_codes() {
    let model = model();
    let rows = rows_by_key();
    let mut checked = BTreeSet::new();
    for input in ["", MINIMAL, MINIMAL_ITEMS] {
        let written = parse(input);
        let config = deserialize_all::<Config>(&written)
            .unwrap_or_else(|e| panic!("{input}\n{}", e[0].message));
        let mut shown = ok("");
        shown.config = config;
        let shown = parse(&shown.to_masked_yaml());
        walk(&model, &shown, "", "", &mut |raw, key, node| {
            let Some(value) = rendered(node) else { return };
            if written.find(raw).is_some() {
                return;
            }
            let row = rows
                .get(key)
                .unwrap_or_else(|| panic!("no row for `{key}`"));
            assert!(
                row.default.contains(&format!("`{value}`")),
                "`{key}` defaults to `{value}`; the page says {}",
                row.default
            );
            checked.insert(key.to_owned());
        });
    }
    for (key, row) in &rows {
        if row.default.starts_with('`') {
            assert!(
                checked.contains(key),
                "`{key}`: the page gives default {} but the code has none",
                row.default
            );
        }
    }
}

#[test]
fn statuses_are_the_loaders() {
    let model = model();
    let rows = rows_by_key();
    let mut set = BTreeSet::new();
    // Refused key → "issue N" or "a later issue", from the loader's own message.
    let mut refused = BTreeMap::new();
    for document in ALL_KEYS {
        let written = parse(document);
        let mut model_path = BTreeMap::new();
        walk(&model, &written, "", "", &mut |raw, key, _| {
            set.insert(key.to_owned());
            model_path.insert(raw.to_owned(), key.to_owned());
        });
        let errors = match load(document) {
            Ok(_) => panic!("loaded:\n{document}"),
            Err(e) => e.0,
        };
        for d in errors
            .iter()
            .filter(|d| d.message.contains("is not supported yet"))
        {
            let key = model_path
                .get(&d.key_path)
                .unwrap_or_else(|| panic!("refused key not written: {d}"));
            refused.insert(key.clone(), issue(&d.message));
        }
    }
    let unset: Vec<&String> = model.keys.difference(&set).collect();
    assert!(unset.is_empty(), "ALL_KEYS must set every key: {unset:#?}");
    assert!(!refused.is_empty(), "nothing refused?");
    for (key, row) in &rows {
        let mut at = Some(key.as_str());
        let mut label = None;
        while let Some(p) = at {
            if let Some(l) = refused.get(p) {
                label = Some(l);
                break;
            }
            at = parent(p);
        }
        let expected = match label {
            Some(l) => format!("parsed, refused at load: not supported yet ({l})"),
            None => "supported".to_owned(),
        };
        assert_eq!(row.status, expected, "status of `{key}`");
    }
}

#[test]
fn the_error_example_is_the_loaders_output() {
    let section = &PAGE[PAGE.find("## Errors and warnings").expect("errors section")..];
    let block = |fence: &str| {
        let start = section.find(fence).expect("example block") + fence.len();
        let len = section[start..].find("```").expect("closing fence");
        &section[start..start + len]
    };
    let errors = match load(block("```yaml\n")) {
        Ok(_) => panic!("the example loaded"),
        Err(e) => e,
    };
    assert_eq!(errors.to_string(), block("```text\n").trim_end());
}

#[test]
fn the_tracer_finds_keys_it_was_not_told_about() {
    use std::time::Duration;

    use crate::config::model::{LogLevel, SecretSource};

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        plain: String,
        #[serde(default)]
        listed: Vec<Inner>,
        named: BTreeMap<String, Inner>,
        maybe: Option<Inner>,
        secret: Option<SecretSource>,
        #[serde(with = "crate::config::duration")]
        wait: Duration,
        level: LogLevel,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Inner {
        deep: Option<Deep>,
        leaf: u16,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Deep {
        deeper: Option<SecretSource>,
    }

    let m = trace::<Outer>();
    let has = |k: &str| m.keys.contains(k);
    for key in [
        "plain",
        "listed[].leaf",
        "named.<name>.leaf",
        "maybe.leaf",
        "maybe.deep.deeper.env",
        "named.<name>.deep.deeper.file",
        "secret.value",
        "secret.env",
        "secret.file",
        "wait",
        "level",
    ] {
        assert!(has(key), "`{key}` not found in {:#?}", m.keys);
    }
    assert!(m.enums["level"].contains("debug"));
}
