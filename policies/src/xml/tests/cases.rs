//! The data-driven runner for `policies/tests/xml/*.txt`.
//!
//! A file is a list of cases:
//!
//! ```text
//! ### name
//! @fragment ID                      (optional: parse as the fragment ID)
//! @origin FILE LINE COL INDENT      (optional: where the text sits in its file)
//! <policies>…</policies>
//! >>> ok                            (parses and validates)
//! >>> 3:5 | policy | message part | hint part     (one line per expected error, in order)
//! ```
//!
//! `policy` is `-` for none; the hint column may be left out. A location `FILE:L:C`
//! also checks the file. Merge cases hold several documents, each after `--- global`,
//! `--- product`, `--- api`, `--- operation` or `--- fragment ID`, then `--- expect`
//! with one `section: label label …` line per section (a label is the policy's `id`
//! or name, `@` its scope, then its nested policies in parentheses), or `>>>` errors.

use std::collections::BTreeMap;

use super::super::merge::{MergedElement, Scope};
use super::super::validate::policy_bodies;
use super::super::{
    merge, parse_document, parse_fragment, Document, Effective, Fragment, Origin, Scopes,
    SectionKind,
};
use super::{describe, origin, PolicyError};

struct Case {
    name: String,
    line: usize,
    directives: Vec<String>,
    /// `(header, text)`; the header is empty for the text before any `---`.
    parts: Vec<(String, String)>,
    expect: Vec<String>,
}

fn cases(data: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if let Some(name) = line.strip_prefix("### ") {
            out.push(Case {
                name: name.trim().to_owned(),
                line: i + 1,
                directives: Vec::new(),
                parts: vec![(String::new(), String::new())],
                expect: Vec::new(),
            });
            continue;
        }
        let Some(case) = out.last_mut() else { continue };
        let in_expect = case.parts.last().is_some_and(|(h, _)| h == "expect");
        if let Some(e) = line.strip_prefix(">>> ") {
            case.expect.push(e.trim().to_owned());
        } else if let Some(header) = line.strip_prefix("--- ") {
            case.parts.push((header.trim().to_owned(), String::new()));
        } else if in_expect {
            if !line.trim().is_empty() {
                case.expect.push(line.trim().to_owned());
            }
        } else if line.starts_with('@') && case.parts.len() == 1 && case.parts[0].1.is_empty() {
            case.directives.push(line.to_owned());
        } else if let Some((_, text)) = case.parts.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// Compares errors with `>>>` expectations; `Err` explains the mismatch.
fn check_errors(
    errors: &[PolicyError],
    expect: &[String],
    default_file: &str,
) -> Result<(), String> {
    let actual: Vec<String> = errors.iter().map(describe).collect();
    let shown = || format!("actual errors:\n  {}", actual.join("\n  "));
    if expect.len() != errors.len() {
        return Err(format!(
            "expected {} error(s), got {}; {}",
            expect.len(),
            errors.len(),
            shown()
        ));
    }
    for (want, got) in expect.iter().zip(errors) {
        let cols: Vec<&str> = want.split(" | ").map(str::trim).collect();
        let loc = cols.first().copied().unwrap_or_default();
        let (file, lc) = match loc.matches(':').count() {
            2 => loc.split_once(':').map_or(("", loc), |(f, lc)| (f, lc)),
            _ => (default_file, loc),
        };
        let got_loc = format!("{}:{}", got.line, got.col);
        let ok = got.file == file
            && got_loc == lc
            && cols
                .get(1)
                .is_none_or(|p| *p == "*" || *p == got.policy.as_deref().unwrap_or("-"))
            && cols.get(2).is_none_or(|m| got.message.contains(m))
            && cols
                .get(3)
                .is_none_or(|h| got.hint.as_deref().unwrap_or("-").contains(h));
        if !ok {
            return Err(format!(
                "expected `{want}`, got `{}`; {}",
                describe(got),
                shown()
            ));
        }
    }
    Ok(())
}

fn run_file(path: &str, data: &str, run: impl Fn(&Case) -> Result<(), String>) -> usize {
    let all = cases(data);
    let mut failures = Vec::new();
    for case in &all {
        if let Err(why) = run(case) {
            failures.push(format!("{path}:{} `{}`: {why}", case.line, case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
    all.len()
}

/// Runs a parse/validate case: a document (or `@fragment`) and its expected errors.
fn run_document_case(case: &Case) -> Result<(), String> {
    let mut file = "test.xml".to_owned();
    let mut origin_at = origin(&file);
    let mut fragment: Option<String> = None;
    for d in &case.directives {
        let words: Vec<&str> = d.split_whitespace().collect();
        match words.as_slice() {
            ["@fragment", id] => fragment = Some((*id).to_owned()),
            ["@origin", f, l, c, i] => {
                file = (*f).to_owned();
                let n = |s: &str| s.parse::<u32>().map_err(|e| format!("bad @origin: {e}"));
                origin_at = Origin::inline(file.clone(), n(l)?, n(c)?, n(i)?);
            }
            _ => return Err(format!("unknown directive `{d}`")),
        }
    }
    let text = case.parts[0].1.trim_end_matches('\n');
    let result = match &fragment {
        Some(id) => parse_fragment(id, text, &origin_at).map(|_| ()),
        None => parse_document(text, &origin_at).map(|_| ()),
    };
    if case.expect == ["ok"] {
        return result.map_err(|errors| {
            format!(
                "expected ok, got:\n  {}",
                errors.iter().map(describe).collect::<Vec<_>>().join("\n  ")
            )
        });
    }
    match result {
        Ok(()) => Err("expected errors, got ok".to_owned()),
        Err(errors) => check_errors(&errors, &case.expect, &file),
    }
}

#[test]
fn malformed_xml() {
    let n = run_file(
        "parse.txt",
        include_str!("../../../tests/xml/parse.txt"),
        run_document_case,
    );
    assert!(n >= 20, "only {n} cases");
}

#[test]
fn validation() {
    let n = run_file(
        "validate.txt",
        include_str!("../../../tests/xml/validate.txt"),
        run_document_case,
    );
    assert!(n >= 40, "only {n} cases");
}

#[test]
fn fragments() {
    let n = run_file(
        "fragments.txt",
        include_str!("../../../tests/xml/fragments.txt"),
        run_document_case,
    );
    assert!(n >= 6, "only {n} cases");
}

/// `id` or name, `@scope`, then nested policies: `choose@api(when(a@api) otherwise())`.
pub(super) fn label(e: &MergedElement) -> String {
    let scope = match &e.scope {
        Scope::Fragment(id) => format!("frag:{id}"),
        other => other.name().to_owned(),
    };
    let mut out = format!("{}@{scope}", e.attr_value("id").unwrap_or(&e.name));
    let bodies = policy_bodies(e);
    if e.name == "choose" {
        let inner: Vec<String> = bodies
            .iter()
            .map(|b| format!("{}({})", b.name, labels(b.elements())))
            .collect();
        out.push_str(&format!("({})", inner.join(" ")));
    } else if let Some(body) = bodies.first() {
        out.push_str(&format!("({})", labels(body.elements())));
    }
    out
}

fn labels<'a>(list: impl Iterator<Item = &'a MergedElement>) -> String {
    list.map(label).collect::<Vec<_>>().join(" ")
}

pub(super) fn summary(e: &Effective) -> Vec<String> {
    SectionKind::ALL
        .into_iter()
        .map(|k| {
            format!("{}: {}", k.name(), labels(e.section(k).iter()))
                .trim_end()
                .to_owned()
        })
        .collect()
}

fn run_merge_case(case: &Case) -> Result<(), String> {
    let mut docs: BTreeMap<String, Document> = BTreeMap::new();
    let mut fragments: BTreeMap<String, Fragment> = BTreeMap::new();
    for (header, text) in &case.parts[1..] {
        let parse_err = |errors: Vec<PolicyError>| {
            format!(
                "`{header}` does not parse:\n  {}",
                errors.iter().map(describe).collect::<Vec<_>>().join("\n  ")
            )
        };
        match header.split_once(' ') {
            Some(("fragment", id)) => {
                let f = parse_fragment(id, text, &origin(&format!("fragments/{id}.xml")))
                    .map_err(parse_err)?;
                fragments.insert(id.to_owned(), f);
            }
            None if header == "expect" => {}
            None => {
                let d =
                    parse_document(text, &origin(&format!("{header}.xml"))).map_err(parse_err)?;
                docs.insert(header.clone(), d);
            }
            Some(_) => return Err(format!("unknown part `{header}`")),
        }
    }
    let scopes = Scopes {
        global: docs.get("global"),
        product: docs.get("product"),
        api: docs.get("api"),
        operation: docs.get("operation"),
        fragments: &fragments,
    };
    let result = merge(&scopes);
    if case.expect.iter().any(|e| !e.contains(" | ")) {
        let effective = result.map_err(|errors| {
            format!(
                "merge failed:\n  {}",
                errors.iter().map(describe).collect::<Vec<_>>().join("\n  ")
            )
        })?;
        let got = summary(&effective);
        if got != case.expect {
            return Err(format!(
                "expected\n  {}\ngot\n  {}",
                case.expect.join("\n  "),
                got.join("\n  ")
            ));
        }
        return Ok(());
    }
    match result {
        Ok(e) => Err(format!(
            "expected errors, got\n  {}",
            summary(&e).join("\n  ")
        )),
        Err(errors) => check_errors(&errors, &case.expect, "api.xml"),
    }
}

#[test]
fn merging() {
    let n = run_file(
        "merge.txt",
        include_str!("../../../tests/xml/merge.txt"),
        run_merge_case,
    );
    assert!(n >= 25, "only {n} cases");
}
