//! Scopes → the effective policy: `<base/>` resolution from the narrowest scope up to
//! global, fragment inlining, and the scope rules of the catalog.
//!
//! APIM's rules (reference §1.2–1.3): start from the narrowest document; in each section
//! `<base/>` stands for the parent scope's same section, recursively up to global; a
//! section without `<base/>` cuts inheritance; `<base/>` at global does nothing. The
//! reference says nothing of a *missing* section; here it inherits the parent's section
//! whole, as if it were `<section><base/></section>` (which is what the portal writes).
//! Global's parent is the built-in default ([`DEFAULT_GLOBAL_POLICY`]), so a global
//! document without `<backend>` still forwards the request.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::catalog::{self, Content, Once, SectionKind};
use super::document::{parse_document, Document, Fragment, Section};
use super::error::PolicyError;
use super::tree::{Attr, Element, Loc, Node, Origin, Text};
use super::validate::{check_placement, holds_policies, once_error, worst_path, PolicyNode};

/// What APIM runs at global scope when no global policy is configured.
pub const DEFAULT_GLOBAL_POLICY: &str =
    "<policies><inbound/><backend><forward-request/></backend><outbound/><on-error/></policies>";

/// The file name errors and `explain` show for [`DEFAULT_GLOBAL_POLICY`].
pub const DEFAULT_GLOBAL_FILE: &str = "(built-in global policy)";

/// Where a policy was written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Global,
    Product,
    Api,
    Operation,
    /// Inlined from the fragment with this id.
    Fragment(String),
}

impl Scope {
    /// `global`, `product`, `api`, `operation` or `fragment` (as `context.LastError.Scope`
    /// spells the first four).
    pub fn name(&self) -> &str {
        match self {
            Scope::Global => "global",
            Scope::Product => "product",
            Scope::Api => "api",
            Scope::Operation => "operation",
            Scope::Fragment(_) => "fragment",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Fragment(id) => write!(f, "fragment {id}"),
            other => f.write_str(other.name()),
        }
    }
}

/// The documents that apply to one operation in one product context (`product` is
/// `None` outside a product context), and every fragment they may include.
#[derive(Clone, Copy, Debug)]
pub struct Scopes<'a> {
    pub global: Option<&'a Document>,
    pub product: Option<&'a Document>,
    pub api: Option<&'a Document>,
    pub operation: Option<&'a Document>,
    pub fragments: &'a BTreeMap<String, Fragment>,
}

/// An element of the effective policy, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedElement {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<MergedNode>,
    pub loc: Loc,
    pub file: Arc<str>,
    /// The named document (or `fragment/ID`) whose text this is: see [`Document::owner`].
    pub owner: Arc<str>,
    /// The scope whose text this is (`Fragment(id)` for inlined fragment content).
    pub scope: Scope,
    /// The scope whose document brought it in: `scope`, or for fragment content the
    /// scope that included the fragment. What `context.LastError.Scope` reports.
    pub host: Scope,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergedNode {
    Element(MergedElement),
    Text(Text),
}

impl MergedElement {
    pub fn attr_value(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &MergedElement> {
        self.children.iter().filter_map(|n| match n {
            MergedNode::Element(e) => Some(e),
            MergedNode::Text(_) => None,
        })
    }
}

impl PolicyNode for MergedElement {
    fn tag(&self) -> &str {
        &self.name
    }

    fn child_elements(&self) -> Vec<&Self> {
        self.elements().collect()
    }
}

/// The effective policy: what runs, section by section, `<base/>` and fragments resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective {
    pub inbound: Vec<MergedElement>,
    pub backend: Vec<MergedElement>,
    pub outbound: Vec<MergedElement>,
    pub on_error: Vec<MergedElement>,
}

impl Effective {
    pub fn section(&self, kind: SectionKind) -> &[MergedElement] {
        match kind {
            SectionKind::Inbound => &self.inbound,
            SectionKind::Backend => &self.backend,
            SectionKind::Outbound => &self.outbound,
            SectionKind::OnError => &self.on_error,
        }
    }

    fn section_mut(&mut self, kind: SectionKind) -> &mut Vec<MergedElement> {
        match kind {
            SectionKind::Inbound => &mut self.inbound,
            SectionKind::Backend => &mut self.backend,
            SectionKind::Outbound => &mut self.outbound,
            SectionKind::OnError => &mut self.on_error,
        }
    }
}

/// A section of one scope after fragment inlining, `<base/>` still in place.
enum Item {
    Base,
    Policy(MergedElement),
}

struct Level<'a> {
    scope: Scope,
    doc: &'a Document,
    /// Per section (in `SectionKind::ALL` order); `None` when the document lacks it.
    sections: [Option<Vec<Item>>; 4],
}

/// Merges the scopes into the effective policy; every error found is returned.
pub fn merge(scopes: &Scopes) -> Result<Effective, Vec<PolicyError>> {
    let default = parse_document(DEFAULT_GLOBAL_POLICY, &Origin::file(DEFAULT_GLOBAL_FILE))?;
    let mut errors = Vec::new();
    let mut docs = vec![(Scope::Global, &default)];
    for (scope, doc) in [
        (Scope::Global, scopes.global),
        (Scope::Product, scopes.product),
        (Scope::Api, scopes.api),
        (Scope::Operation, scopes.operation),
    ] {
        if let Some(doc) = doc {
            docs.push((scope, doc));
        }
    }
    let levels: Vec<Level> = docs
        .into_iter()
        .map(|(scope, doc)| {
            let mut x = Expander {
                fragments: scopes.fragments,
                host: scope.clone(),
                errors: &mut errors,
            };
            let sections = SectionKind::ALL
                .map(|k| doc.section(k).map(|s| x.section(s, &doc.file, &doc.owner)));
            Level {
                scope,
                doc,
                sections,
            }
        })
        .collect();
    for level in &levels {
        check_once(level, &mut errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut effective = Effective::default();
    for (i, kind) in SectionKind::ALL.into_iter().enumerate() {
        resolve(&levels, levels.len() - 1, i, effective.section_mut(kind));
    }
    Ok(effective)
}

/// Appends section `i` of `levels[at]` to `out`, resolving `<base/>` (and a missing
/// section) to the level above. Level 0 is the built-in default, the parent of global.
fn resolve(levels: &[Level], at: usize, i: usize, out: &mut Vec<MergedElement>) {
    let Some(level) = levels.get(at) else { return };
    match &level.sections[i] {
        None if at > 0 => resolve(levels, at - 1, i, out),
        None => {}
        Some(items) => {
            for item in items {
                match item {
                    // `<base/>` at global has no effect (the built-in default is only
                    // the parent of a *missing* global section).
                    Item::Base if level.scope == Scope::Global => {}
                    Item::Base => resolve(levels, at.saturating_sub(1), i, out),
                    Item::Policy(p) => out.push(p.clone()),
                }
            }
        }
    }
}

/// Once-per-section and once-per-document limits, counted after fragments are inlined
/// (documents and fragments were each checked alone when parsed).
fn check_once(level: &Level, errors: &mut Vec<PolicyError>) {
    for spec in catalog::policies().iter().filter(|p| p.once != Once::Many) {
        let mut doc_path = Vec::new();
        for (i, kind) in SectionKind::ALL.into_iter().enumerate() {
            let list = own_policies(&level.sections[i]);
            let path = worst_path(list.into_iter(), spec.name);
            if spec.once == Once::PerSection {
                if let [first, second, ..] = path.as_slice() {
                    errors.push(once_at(first, second, spec.name, kind.name()));
                }
            }
            doc_path.extend(path);
        }
        if spec.once == Once::PerDocument {
            if let [first, second, ..] = doc_path.as_slice() {
                let container = format!("policy document ({})", level.doc.file);
                errors.push(once_at(first, second, spec.name, &container));
            }
        }
    }
}

fn own_policies(items: &Option<Vec<Item>>) -> Vec<&MergedElement> {
    items
        .iter()
        .flatten()
        .filter_map(|it| match it {
            Item::Policy(p) => Some(p),
            Item::Base => None,
        })
        .collect()
}

fn once_at(
    first: &MergedElement,
    second: &MergedElement,
    policy: &str,
    container: &str,
) -> PolicyError {
    let mut e = once_error(&second.file, second.loc, first.loc, policy, container);
    e.hint = Some(format!(
        "it already appears at {}:{}:{} ({}); keep one",
        first.file, first.loc.line, first.loc.col, first.scope
    ));
    e
}

/// Turns one scope's parsed policies into merged elements, inlining fragments.
struct Expander<'a, 'e> {
    fragments: &'a BTreeMap<String, Fragment>,
    /// The scope of the document being expanded.
    host: Scope,
    errors: &'e mut Vec<PolicyError>,
}

/// Where an element sits, which decides how its children are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A policy: its catalog entry says what its children are.
    Policy,
    /// `when`, `otherwise`: children are policies.
    Body,
    /// Anything else: children copied as they are.
    Plain,
}

/// Where the text being expanded comes from.
struct Source<'s> {
    scope: &'s Scope,
    file: &'s Arc<str>,
    owner: &'s Arc<str>,
}

impl Expander<'_, '_> {
    fn section(&mut self, section: &Section, file: &str, owner: &str) -> Vec<Item> {
        let file: Arc<str> = Arc::from(file);
        let owner: Arc<str> = Arc::from(owner);
        let host = self.host.clone();
        let src = Source {
            scope: &host,
            file: &file,
            owner: &owner,
        };
        let mut items = Vec::new();
        for el in &section.policies {
            if el.name == "base" {
                items.push(Item::Base);
                continue;
            }
            check_placement(el, section.kind, &self.host, false, &file, self.errors);
            for p in self.policy(el, section.kind, &src) {
                items.push(Item::Policy(p));
            }
        }
        items
    }

    /// A policy, or for `include-fragment` the fragment's policies.
    fn policy(&mut self, el: &Element, kind: SectionKind, src: &Source) -> Vec<MergedElement> {
        if el.name != "include-fragment" {
            return vec![self.convert(el, Role::Policy, kind, src)];
        }
        let id = el.attr_value("fragment-id").unwrap_or_default();
        let Some(fragment) = self.fragments.get(id) else {
            let known: Vec<&str> = self.fragments.keys().map(String::as_str).collect();
            let hint = if known.is_empty() {
                "no fragments are defined; add it under `policies.fragments`".to_owned()
            } else {
                let suggestion = super::error::closest(id, known.iter().copied())
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                format!("{suggestion}fragments: {}", known.join(", "))
            };
            self.errors.push(
                PolicyError::new(src.file, el.loc, format!("unknown fragment `{id}`"))
                    .policy("include-fragment")
                    .hint(hint),
            );
            return Vec::new();
        };
        let scope = Scope::Fragment(id.to_owned());
        let file: Arc<str> = Arc::from(fragment.file.as_str());
        let owner: Arc<str> = Arc::from(format!("fragment/{id}"));
        let inner = Source {
            scope: &scope,
            file: &file,
            owner: &owner,
        };
        let mut out = Vec::new();
        let before = self.errors.len();
        for p in &fragment.policies {
            check_placement(p, kind, &self.host, true, &fragment.file, self.errors);
            out.extend(self.policy(p, kind, &inner));
        }
        for e in self.errors.iter_mut().skip(before) {
            let site = format!(
                "fragment `{id}` is included in {} at {}:{}:{}",
                kind.name(),
                src.file,
                el.loc.line,
                el.loc.col
            );
            e.hint = Some(match e.hint.take() {
                Some(h) => format!("{h}; {site}"),
                None => site,
            });
        }
        out
    }

    fn convert(
        &mut self,
        el: &Element,
        role: Role,
        kind: SectionKind,
        src: &Source,
    ) -> MergedElement {
        let spec_children = match (role, catalog::policy(&el.name).map(|s| s.content)) {
            (Role::Policy, Some(Content::Children(children))) => Some(children),
            _ => None,
        };
        let children_are_policies = match role {
            Role::Body => true,
            Role::Policy => matches!(
                catalog::policy(&el.name).map(|s| s.content),
                Some(Content::Policies)
            ),
            Role::Plain => false,
        };
        let mut children = Vec::new();
        for node in &el.children {
            match node {
                Node::Text(t) => children.push(MergedNode::Text(t.clone())),
                Node::Element(c) if children_are_policies => {
                    children.extend(
                        self.policy(c, kind, src)
                            .into_iter()
                            .map(MergedNode::Element),
                    );
                }
                Node::Element(c) => {
                    let child_role = match spec_children {
                        Some(list) if holds_policies(list, &c.name) => Role::Body,
                        Some(list)
                            if list.iter().any(
                                |s| matches!(s, catalog::Child::Policy(p) if *p == c.name),
                            ) =>
                        {
                            Role::Policy
                        }
                        _ => Role::Plain,
                    };
                    children.push(MergedNode::Element(self.convert(c, child_role, kind, src)));
                }
            }
        }
        MergedElement {
            name: el.name.clone(),
            attrs: el.attrs.clone(),
            children,
            loc: el.loc,
            file: src.file.clone(),
            owner: src.owner.clone(),
            scope: src.scope.clone(),
            host: self.host.clone(),
        }
    }
}
