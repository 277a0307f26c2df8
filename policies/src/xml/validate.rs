//! Checks policies against the catalog: known names, allowed sections, attributes
//! (unknown, required, exclusive groups), child elements recursively, `<base/>` rules and
//! the once-per-section / once-per-document limits.
//!
//! Collects every error rather than stopping at the first. Scope rules need to know the
//! scope, so `merge` checks those (with [`check_placement`]).

use super::catalog::{self, AttrSpec, Child, Content, Group, Once, SectionKind};
use super::document::Document;
use super::error::{did_you_mean, PolicyError};
use super::merge::Scope;
use super::tree::{Element, Loc, Node};

/// Where a list of policies sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Section(SectionKind),
    /// A fragment: any section, no `<base/>`, no `include-fragment`.
    Fragment,
}

struct Validator<'a> {
    file: &'a str,
    errors: &'a mut Vec<PolicyError>,
    section: Option<SectionKind>,
    in_fragment: bool,
}

/// Checks the policies of one section (or a fragment's), recursively.
pub(crate) fn check_policies(
    policies: &[Element],
    place: Place,
    file: &str,
    errors: &mut Vec<PolicyError>,
) {
    let (section, in_fragment) = match place {
        Place::Section(kind) => (Some(kind), false),
        Place::Fragment => (None, true),
    };
    let mut v = Validator {
        file,
        errors,
        section,
        in_fragment,
    };
    let mut first_base: Option<Loc> = None;
    for el in policies {
        if el.name != "base" {
            v.policy(el);
            continue;
        }
        v.empty_base(el);
        if in_fragment {
            v.err(el.loc, "base", "`<base/>` is not allowed in a fragment")
                .hint("a fragment is inlined as-is; put `<base/>` in the section that includes it");
        } else if let Some(first) = first_base {
            let name = section.map_or("section", SectionKind::name);
            v.err(
                el.loc,
                "base",
                format!("`<base/>` appears twice in `<{name}>`"),
            )
            .hint(format!(
                "keep one; the first is at {}:{}",
                first.line, first.col
            ));
        } else {
            first_base = Some(el.loc);
        }
    }
    for spec in catalog::policies() {
        let limited = match spec.once {
            Once::Many => false,
            Once::PerSection => true,
            Once::PerDocument => in_fragment,
        };
        if limited {
            let path = worst_path(policies.iter(), spec.name);
            if let [first, second, ..] = path.as_slice() {
                let container = section.map_or("fragment", SectionKind::name);
                v.errors.push(once_error(
                    v.file, second.loc, first.loc, spec.name, container,
                ));
            }
        }
    }
}

/// `rate-limit`, `quota`: at most once in the whole document.
pub(crate) fn check_once_per_document(doc: &Document, errors: &mut Vec<PolicyError>) {
    for spec in catalog::policies()
        .iter()
        .filter(|p| p.once == Once::PerDocument)
    {
        let path: Vec<&Element> = doc
            .sections()
            .flat_map(|s| worst_path(s.policies.iter(), spec.name))
            .collect();
        if let [first, second, ..] = path.as_slice() {
            errors.push(once_error(
                &doc.file,
                second.loc,
                first.loc,
                spec.name,
                "policy document",
            ));
        }
    }
}

pub(crate) fn once_error(
    file: &str,
    at: Loc,
    first: Loc,
    policy: &str,
    container: &str,
) -> PolicyError {
    PolicyError::new(
        file,
        at,
        format!("`{policy}` may appear only once per {container}"),
    )
    .policy(policy)
    .hint(format!(
        "it already appears at {}:{}; keep one",
        first.line, first.col
    ))
}

/// Checks a policy (and the policies inside it) for its section and scope. Used by
/// `merge` for inlined fragments (`check_section`) and for every document's scope.
pub(crate) fn check_placement(
    el: &Element,
    section: SectionKind,
    scope: &Scope,
    check_section: bool,
    file: &str,
    errors: &mut Vec<PolicyError>,
) {
    let Some(spec) = catalog::policy(&el.name) else {
        return;
    };
    if check_section && !spec.sections.contains(section) {
        errors.push(section_error(file, el, section, spec.sections));
    }
    if !spec.scopes.allows(scope) {
        errors.push(
            PolicyError::new(
                file,
                el.loc,
                format!("`{}` is not allowed at {} scope", el.name, scope.name()),
            )
            .policy(&el.name)
            .hint(format!(
                "`{}` may be used at: {}",
                el.name,
                spec.scopes.describe()
            )),
        );
    }
    for body in policy_bodies(el) {
        for child in body.child_elements() {
            check_placement(child, section, scope, check_section, file, errors);
        }
    }
}

fn section_error(
    file: &str,
    el: &Element,
    section: SectionKind,
    allowed: catalog::Sections,
) -> PolicyError {
    PolicyError::new(
        file,
        el.loc,
        format!(
            "`{}` is not allowed in `{}`; allowed in {}",
            el.name,
            section.name(),
            allowed.describe()
        ),
    )
    .policy(&el.name)
    .hint(format!("move it to {}", allowed.describe()))
}

/// An element of a policy tree: the parsed [`Element`] or the merged element.
pub(crate) trait PolicyNode {
    fn tag(&self) -> &str;
    fn child_elements(&self) -> Vec<&Self>;
}

impl PolicyNode for Element {
    fn tag(&self) -> &str {
        &self.name
    }

    fn child_elements(&self) -> Vec<&Self> {
        self.elements().collect()
    }
}

/// The elements whose children are policies: `el` itself for `retry`, `wait` and
/// `limit-concurrency`; each `when`/`otherwise` for `choose`. Empty for other policies.
pub(crate) fn policy_bodies<T: PolicyNode>(el: &T) -> Vec<&T> {
    match catalog::policy(el.tag()).map(|s| s.content) {
        Some(Content::Policies) => vec![el],
        Some(Content::Children(children)) => el
            .child_elements()
            .into_iter()
            .filter(|c| holds_policies(children, c.tag()))
            .collect(),
        _ => Vec::new(),
    }
}

impl Element {
    /// The elements whose children are policies: itself for `retry`, `wait` and
    /// `limit-concurrency`; each `when`/`otherwise` for `choose`; none otherwise.
    pub fn policy_bodies(&self) -> Vec<&Element> {
        policy_bodies(self)
    }
}

impl super::merge::MergedElement {
    /// As [`Element::policy_bodies`].
    pub fn policy_bodies(&self) -> Vec<&Self> {
        policy_bodies(self)
    }
}

/// Whether the child `name` of a policy with these `children` holds policies (`when`).
pub(crate) fn holds_policies(children: &[Child], name: &str) -> bool {
    children
        .iter()
        .any(|spec| matches!(spec, Child::Element(e) if e.name == name && e.content == Content::Policies))
}

/// The occurrences of `name` along the execution path with the most of them: sequences
/// add up, `choose` branches are alternatives (the branch with the most counts).
pub(crate) fn worst_path<'e, T: PolicyNode>(
    policies: impl Iterator<Item = &'e T>,
    name: &str,
) -> Vec<&'e T> {
    let mut path = Vec::new();
    for el in policies {
        if el.tag() == name {
            path.push(el);
        }
        let bodies = policy_bodies(el);
        if el.tag() == "choose" {
            let best = bodies
                .into_iter()
                .map(|b| worst_path(b.child_elements().into_iter(), name))
                .max_by_key(Vec::len)
                .unwrap_or_default();
            path.extend(best);
        } else {
            for body in bodies {
                path.extend(worst_path(body.child_elements().into_iter(), name));
            }
        }
    }
    path
}

impl Validator<'_> {
    /// Records an error; `.hint(…)` on the result adds its hint.
    fn err(&mut self, loc: Loc, policy: &str, message: impl Into<String>) -> Hint<'_> {
        self.errors
            .push(PolicyError::new(self.file, loc, message).policy(policy));
        Hint(self.errors.last_mut())
    }

    fn policy(&mut self, el: &Element) {
        if el.name == "base" {
            self.empty_base(el);
            self.err(
                el.loc,
                "base",
                "`<base/>` may only appear directly inside a section",
            )
            .hint("move it out to the section level");
            return;
        }
        let Some(spec) = catalog::policy(&el.name) else {
            self.unknown_policy(el);
            return;
        };
        if let Some(section) = self.section {
            if !spec.sections.contains(section) {
                self.errors
                    .push(section_error(self.file, el, section, spec.sections));
            }
        }
        if self.in_fragment && el.name == "include-fragment" {
            self.err(
                el.loc,
                spec.name,
                "a fragment cannot include another fragment",
            )
            .hint("fragments do not nest; inline the other fragment's policies here");
        }
        self.attrs(el, spec.attrs, spec.groups, true, spec.name);
        self.content(el, spec.content, spec.name);
        match spec.name {
            "choose" => self.choose_order(el),
            "wait" => self.wait_children(el),
            _ => {}
        }
    }

    fn unknown_policy(&mut self, el: &Element) {
        let parents = catalog::parents_of_child(&el.name);
        if !parents.is_empty() {
            let list: Vec<String> = parents.iter().map(|p| format!("`<{p}>`")).collect();
            self.err(el.loc, &el.name, format!("`<{}>` is not a policy", el.name))
                .hint(format!(
                    "`<{}>` belongs inside {}",
                    el.name,
                    list.join(" or ")
                ));
        } else if SectionKind::from_name(&el.name).is_some() {
            self.err(
                el.loc,
                &el.name,
                format!("section `<{}>` inside another section", el.name),
            )
            .hint("sections sit directly inside `<policies>`; close the previous one first");
        } else {
            let names = catalog::policies().iter().map(|p| p.name).chain(["base"]);
            let hint = did_you_mean(&el.name, names)
                .unwrap_or_else(|| "see the APIM policy reference for the policy names".to_owned());
            self.err(el.loc, &el.name, format!("unknown policy `<{}>`", el.name))
                .hint(hint);
        }
    }

    fn empty_base(&mut self, el: &Element) {
        if !el.attrs.is_empty() || el.children.iter().any(not_blank) {
            self.err(el.loc, "base", "`<base/>` takes no attributes or content")
                .hint("write `<base />`");
        }
    }

    fn attrs(
        &mut self,
        el: &Element,
        specs: &[AttrSpec],
        groups: &[Group],
        is_policy: bool,
        policy: &str,
    ) {
        for attr in &el.attrs {
            if (is_policy && attr.name == catalog::POLICY_ID_ATTR)
                || specs.iter().any(|s| s.name == attr.name)
            {
                continue;
            }
            let names = specs.iter().map(|s| s.name);
            let hint = did_you_mean(&attr.name, names).unwrap_or_else(|| {
                if specs.is_empty() {
                    format!(
                        "`<{}>` takes no attributes{}",
                        el.name,
                        if is_policy { " besides `id`" } else { "" }
                    )
                } else {
                    let list: Vec<&str> = specs.iter().map(|s| s.name).collect();
                    format!("`<{}>` takes: {}", el.name, list.join(", "))
                }
            });
            self.err(
                attr.loc,
                policy,
                format!("unknown attribute `{}` on `<{}>`", attr.name, el.name),
            )
            .hint(hint);
        }
        for spec in specs.iter().filter(|s| s.required) {
            if el.attr(spec.name).is_none() {
                self.err(
                    el.loc,
                    policy,
                    format!("`<{}>` needs the attribute `{}`", el.name, spec.name),
                )
                .hint(format!("add {}=\"…\"", spec.name));
            }
        }
        for group in groups {
            let present = group.names.iter().filter(|n| el.attr(n).is_some()).count();
            let list = group
                .names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if present < usize::from(group.min) {
                self.err(
                    el.loc,
                    policy,
                    format!("`<{}>` needs one of {list}", el.name),
                )
                .hint("add one of them");
            } else if present > usize::from(group.max) {
                self.err(
                    el.loc,
                    policy,
                    format!("`<{}>` takes only one of {list}", el.name),
                )
                .hint("keep one of them");
            }
        }
    }

    fn content(&mut self, el: &Element, content: Content, policy: &str) {
        match content {
            Content::Raw => {}
            Content::Empty => {
                for node in &el.children {
                    match node {
                        Node::Element(c) => {
                            self.err(
                                c.loc,
                                policy,
                                format!(
                                    "`<{}>` takes no child elements; found `<{}>`",
                                    el.name, c.name
                                ),
                            )
                            .hint(format!("write `<{} … />`", el.name));
                        }
                        Node::Text(t) if !t.text.trim().is_empty() => {
                            self.err(t.loc, policy, format!("`<{}>` takes no text", el.name))
                                .hint("values go in attributes");
                        }
                        Node::Text(_) => {}
                    }
                }
            }
            Content::Text => {
                for c in el.elements() {
                    self.err(
                        c.loc,
                        policy,
                        format!("`<{}>` holds text only; found `<{}>`", el.name, c.name),
                    )
                    .hint("escape markup as `&lt;…&gt;` or wrap it in <![CDATA[…]]>");
                }
            }
            Content::Policies => {
                for node in &el.children {
                    match node {
                        Node::Element(c) => self.policy(c),
                        Node::Text(t) if !t.text.trim().is_empty() => {
                            self.err(
                                t.loc,
                                policy,
                                format!("text inside `<{}>`, which holds policies only", el.name),
                            )
                            .hint("put text in a policy such as `set-body`");
                        }
                        Node::Text(_) => {}
                    }
                }
            }
            Content::Children(children) => self.children(el, children, policy),
        }
    }

    fn children(&mut self, el: &Element, children: &[Child], policy: &str) {
        let mut seen: Vec<(&str, Loc)> = Vec::new();
        for node in &el.children {
            let c = match node {
                Node::Element(c) => c,
                Node::Text(t) => {
                    if !t.text.trim().is_empty() {
                        self.err(
                            t.loc,
                            policy,
                            format!("`<{}>` takes child elements, not text", el.name),
                        )
                        .hint(expected(children));
                    }
                    continue;
                }
            };
            let Some(child) = children.iter().find(|s| s.name() == c.name) else {
                let hint = did_you_mean(&c.name, children.iter().map(Child::name))
                    .unwrap_or_else(|| expected(children));
                self.err(
                    c.loc,
                    policy,
                    format!("`<{}>` is not allowed inside `<{}>`", c.name, el.name),
                )
                .hint(hint);
                continue;
            };
            match child {
                Child::Element(spec) => {
                    if spec.unique {
                        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == spec.name) {
                            let first = *first;
                            self.err(
                                c.loc,
                                policy,
                                format!("`<{}>` appears twice in `<{}>`", c.name, el.name),
                            )
                            .hint(format!(
                                "merge it into the one at {}:{}",
                                first.line, first.col
                            ));
                        }
                    }
                    self.attrs(c, spec.attrs, spec.groups, false, policy);
                    self.content(c, spec.content, policy);
                }
                Child::Policy(name) => {
                    if let Some(spec) = catalog::policy(name) {
                        self.attrs(c, spec.attrs, spec.groups, true, spec.name);
                        self.content(c, spec.content, spec.name);
                    }
                }
            }
            seen.push((child.name(), c.loc));
        }
        for child in children {
            if let Child::Element(spec) = child {
                if spec.required && !seen.iter().any(|(n, _)| *n == spec.name) {
                    self.err(
                        el.loc,
                        policy,
                        format!("`<{}>` needs a `<{}>` element", el.name, spec.name),
                    )
                    .hint(format!("add `<{}>` inside it", spec.name));
                }
            }
        }
    }

    fn choose_order(&mut self, el: &Element) {
        let mut otherwise: Option<Loc> = None;
        for c in el.elements() {
            match (c.name.as_str(), otherwise) {
                ("otherwise", None) => otherwise = Some(c.loc),
                ("when", Some(at)) => {
                    self.err(at, "choose", "`<otherwise>` must come after every `<when>`")
                        .hint("move `<otherwise>` to the end of `<choose>`");
                    return;
                }
                _ => {}
            }
        }
    }

    fn wait_children(&mut self, el: &Element) {
        const ALLOWED: [&str; 3] = ["send-request", "cache-lookup-value", "choose"];
        for c in el.elements() {
            if catalog::policy(&c.name).is_some() && !ALLOWED.contains(&c.name.as_str()) {
                self.err(
                    c.loc,
                    "wait",
                    format!("`<{}>` is not allowed inside `<wait>`", c.name),
                )
                .hint("`<wait>` may contain send-request, cache-lookup-value and choose");
            }
        }
    }
}

/// The error just recorded, to add a hint to.
struct Hint<'a>(Option<&'a mut PolicyError>);

impl Hint<'_> {
    fn hint(self, hint: impl Into<String>) {
        if let Some(e) = self.0 {
            e.hint = Some(hint.into());
        }
    }
}

fn not_blank(node: &Node) -> bool {
    match node {
        Node::Element(_) => true,
        Node::Text(t) => !t.text.trim().is_empty(),
    }
}

fn expected(children: &[Child]) -> String {
    let names: Vec<String> = children
        .iter()
        .map(|c| format!("`<{}>`", c.name()))
        .collect();
    format!("expected {}", names.join(", "))
}
