//! `{{name}}` named-value substitution in a parsed document or fragment: every attribute
//! value and text node, before any expression is parsed (reference §1.3).
//!
//! Substitution is textual and may be partial (`Bearer {{token}}`); a value is never
//! scanned again (no recursion). Text that marks a secret value's use sets the node's
//! `secret` flag so printers mask it; positions keep pointing at the original text.
//! Only `{{x}}` whose trimmed inner text is a valid name (letters, digits, `-`, `_`, `.`)
//! is a reference: `new[] {{"a", "b"}}` in C# code is left alone. Inside a Liquid
//! `set-body` an unknown `{{body.x}}` is Liquid's, not a named value, and stays as is.

use std::collections::BTreeMap;

use tollgate_core::config::named_values::is_valid_name;
use tollgate_core::config::NamedValue;

use super::catalog;
use super::document::{Document, Fragment};
use super::error::{closest, PolicyError};
use super::tree::{Element, Loc, Node};

/// Substitutes `{{name}}` throughout `doc`; unknown names are errors (all reported).
pub fn substitute_named_values(
    doc: &mut Document,
    values: &BTreeMap<String, NamedValue>,
) -> Result<(), Vec<PolicyError>> {
    let mut s = Substituter {
        file: doc.file.clone(),
        values,
        errors: Vec::new(),
    };
    for kind in catalog::SectionKind::ALL {
        if let Some(section) = doc.section_mut(kind) {
            for el in &mut section.policies {
                s.element(el, None, false);
            }
        }
    }
    s.finish()
}

/// Substitutes `{{name}}` throughout a fragment.
pub fn substitute_fragment_named_values(
    fragment: &mut Fragment,
    values: &BTreeMap<String, NamedValue>,
) -> Result<(), Vec<PolicyError>> {
    let mut s = Substituter {
        file: fragment.file.clone(),
        values,
        errors: Vec::new(),
    };
    for el in &mut fragment.policies {
        s.element(el, None, false);
    }
    s.finish()
}

struct Substituter<'a> {
    file: String,
    values: &'a BTreeMap<String, NamedValue>,
    errors: Vec<PolicyError>,
}

/// The outcome of substituting one string.
struct Substituted {
    text: String,
    secret: bool,
}

impl Substituter<'_> {
    fn finish(self) -> Result<(), Vec<PolicyError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    /// `policy`: the nearest enclosing policy, for messages; `liquid`: inside a Liquid
    /// `set-body`.
    fn element(&mut self, el: &mut Element, policy: Option<&str>, liquid: bool) {
        let own_policy;
        let policy = if catalog::policy(&el.name).is_some() {
            own_policy = el.name.clone();
            Some(own_policy.as_str())
        } else {
            policy
        };
        // Attributes of output markup inside a Liquid body hold Liquid too.
        let in_liquid = liquid;
        let liquid = liquid
            || (el.name == "set-body"
                && el
                    .attr_value("template")
                    .is_some_and(|t| t.trim() == "liquid"));
        for attr in &mut el.attrs {
            if let Some(out) = self.substitute(&attr.value, attr.loc, policy, in_liquid) {
                attr.value = out.text;
                attr.secret |= out.secret;
            }
        }
        for node in &mut el.children {
            match node {
                Node::Element(child) => self.element(child, policy, liquid),
                Node::Text(t) => {
                    if let Some(out) = self.substitute(&t.text, t.loc, policy, liquid) {
                        t.text = out.text;
                        t.secret |= out.secret;
                    }
                }
            }
        }
    }

    /// `None` when `text` has no reference (or an unknown one, recorded as an error).
    fn substitute(
        &mut self,
        text: &str,
        loc: Loc,
        policy: Option<&str>,
        liquid: bool,
    ) -> Option<Substituted> {
        if !text.contains("{{") {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut secret = false;
        let mut changed = false;
        let mut ok = true;
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            let inner = after[..end].trim();
            out.push_str(&rest[..start]);
            let whole = &rest[start..start + 2 + end + 2];
            match self.values.get(inner) {
                Some(v) if is_valid_name(inner) => {
                    out.push_str(&v.value);
                    secret |= v.secret;
                    changed = true;
                }
                None if is_valid_name(inner) && !liquid => {
                    ok = false;
                    self.errors.push(self.unknown(inner, loc, policy));
                    out.push_str(whole);
                }
                _ => out.push_str(whole),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        (ok && changed).then_some(Substituted { text: out, secret })
    }

    fn unknown(&self, name: &str, loc: Loc, policy: Option<&str>) -> PolicyError {
        let hint = match closest(name, self.values.keys().map(String::as_str)) {
            Some(c) => format!("did you mean `{{{{{c}}}}}`?"),
            None => "define it under `named-values:` in the gateway configuration".to_owned(),
        };
        let mut e = PolicyError::new(
            &self.file,
            loc,
            format!("unknown named value `{{{{{name}}}}}`"),
        )
        .hint(hint);
        if let Some(p) = policy {
            e = e.policy(p);
        }
        e
    }
}
