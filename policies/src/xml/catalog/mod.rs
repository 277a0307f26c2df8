//! What APIM policy documents may contain: every policy of the APIM reference with its
//! allowed sections and scopes, attributes, child elements and usage limits, plus the
//! implementation status the compiler reports.
//!
//! Only data and lookups live here; `validate` enforces it and `merge` checks scopes.
//! The table itself is in `table.rs` (policies) and `children.rs` (their child elements).

mod children;
mod table;

use super::merge::Scope;

/// A policy section, in execution order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    Inbound,
    Backend,
    Outbound,
    OnError,
}

impl SectionKind {
    pub const ALL: [SectionKind; 4] = [
        SectionKind::Inbound,
        SectionKind::Backend,
        SectionKind::Outbound,
        SectionKind::OnError,
    ];

    /// The element name: `inbound`, `backend`, `outbound`, `on-error`.
    pub const fn name(self) -> &'static str {
        match self {
            SectionKind::Inbound => "inbound",
            SectionKind::Backend => "backend",
            SectionKind::Outbound => "outbound",
            SectionKind::OnError => "on-error",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    const fn bit(self) -> u8 {
        match self {
            SectionKind::Inbound => 1,
            SectionKind::Backend => 2,
            SectionKind::Outbound => 4,
            SectionKind::OnError => 8,
        }
    }
}

/// A set of sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sections(u8);

impl Sections {
    pub const INBOUND: Sections = Sections(1);
    pub const BACKEND: Sections = Sections(2);
    pub const OUTBOUND: Sections = Sections(4);
    pub const ON_ERROR: Sections = Sections(8);
    pub const ALL: Sections = Sections(15);

    pub const fn with(self, other: Sections) -> Sections {
        Sections(self.0 | other.0)
    }

    pub const fn contains(self, section: SectionKind) -> bool {
        self.0 & section.bit() != 0
    }

    /// "inbound, backend" for messages.
    pub fn describe(self) -> String {
        let names: Vec<&str> = SectionKind::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(SectionKind::name)
            .collect();
        if names.is_empty() {
            "no section".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// A set of scopes a policy may be used at (fragments count as the scope including them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub const GLOBAL: ScopeSet = ScopeSet(1);
    pub const WORKSPACE: ScopeSet = ScopeSet(2);
    pub const PRODUCT: ScopeSet = ScopeSet(4);
    pub const API: ScopeSet = ScopeSet(8);
    pub const OPERATION: ScopeSet = ScopeSet(16);
    pub const ALL: ScopeSet = ScopeSet(31);

    pub const fn with(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    /// Whether `scope` is in the set; a fragment is allowed wherever it may be included.
    pub fn allows(self, scope: &Scope) -> bool {
        let bit = match scope {
            Scope::Global => Self::GLOBAL.0,
            Scope::Product => Self::PRODUCT.0,
            Scope::Api => Self::API.0,
            Scope::Operation => Self::OPERATION.0,
            Scope::Fragment(_) => return true,
        };
        self.0 & bit != 0
    }

    /// "product, api" for messages.
    pub fn describe(self) -> String {
        let all = [
            (Self::GLOBAL, "global"),
            (Self::WORKSPACE, "workspace"),
            (Self::PRODUCT, "product"),
            (Self::API, "api"),
            (Self::OPERATION, "operation"),
        ];
        let names: Vec<&str> = all
            .into_iter()
            .filter(|(s, _)| self.0 & s.0 != 0)
            .map(|(_, n)| n)
            .collect();
        names.join(", ")
    }
}

/// How often a policy may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Once {
    Many,
    /// At most once per policy document (one scope's `<policies>`), e.g. `rate-limit`.
    PerDocument,
    /// At most once per section of a document, e.g. `cors`, `forward-request`.
    PerSection,
}

/// What Tollgate does with a policy. The compiler owns the values; `Unknown` until it
/// fills them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    Unknown,
    Supported,
    /// Recognised and validated, but the compiler refuses it ("not supported yet").
    NotSupported,
}

/// An attribute an element accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrSpec {
    pub name: &'static str,
    pub required: bool,
}

/// Of `names`, between `min` and `max` must be present (e.g. validate-jwt's token source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub names: &'static [&'static str],
    pub min: u8,
    pub max: u8,
}

/// What an element may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Nothing (whitespace aside).
    Empty,
    /// Text and CDATA only (an expression, a literal), no elements.
    Text,
    /// Anything: literal markup kept as written (`set-body` Liquid templates, XSLT).
    Raw,
    /// Policies, run in order (`retry`, `when`, …).
    Policies,
    /// These child elements, no text.
    Children(&'static [Child]),
}

/// A child element allowed under a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    Element(&'static ElementSpec),
    /// A policy used as a child (`set-header` inside `return-response`): validated like
    /// the policy, without section or scope rules.
    Policy(&'static str),
}

impl Child {
    pub fn name(&self) -> &'static str {
        match self {
            Child::Element(e) => e.name,
            Child::Policy(p) => p,
        }
    }
}

/// A non-policy element (`when`, `value`, `allowed-origins`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementSpec {
    pub name: &'static str,
    pub attrs: &'static [AttrSpec],
    pub groups: &'static [Group],
    pub content: Content,
    /// Must appear at least once in its parent.
    pub required: bool,
    /// May appear at most once in its parent.
    pub unique: bool,
}

/// A policy element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicySpec {
    pub name: &'static str,
    pub sections: Sections,
    pub scopes: ScopeSet,
    /// Besides `id`, which every policy accepts.
    pub attrs: &'static [AttrSpec],
    pub groups: &'static [Group],
    pub content: Content,
    pub once: Once,
    pub status: Status,
}

/// Every APIM policy name accepts `id` (shown as `context.LastError.PolicyId`).
pub const POLICY_ID_ATTR: &str = "id";

/// Every policy, in the order of the reference.
pub fn policies() -> &'static [PolicySpec] {
    table::POLICIES
}

/// The policy named `name`.
pub fn policy(name: &str) -> Option<&'static PolicySpec> {
    table::POLICIES.iter().find(|p| p.name == name)
}

/// Whether whitespace-only text inside `name` (and below it) is content, not layout.
pub fn keeps_whitespace(name: &str) -> bool {
    children::LITERAL_CONTENT.contains(&name)
}

/// The policies a non-policy element name belongs in, for "`when` goes inside
/// `choose`" hints.
pub fn parents_of_child(name: &str) -> Vec<&'static str> {
    table::POLICIES
        .iter()
        .filter(|p| matches!(p.content, Content::Children(children) if children.iter().any(|c| c.name() == name)))
        .map(|p| p.name)
        .collect()
}

// Builders for the table: `entry("x", I | O, &[req("a")], Content::Empty).once(…)`.

pub(crate) const fn req(name: &'static str) -> AttrSpec {
    AttrSpec {
        name,
        required: true,
    }
}

pub(crate) const fn opt(name: &'static str) -> AttrSpec {
    AttrSpec {
        name,
        required: false,
    }
}

/// Of `names`, exactly one.
pub(crate) const fn one_of(names: &'static [&'static str]) -> Group {
    Group {
        names,
        min: 1,
        max: 1,
    }
}

pub(crate) const fn entry(
    name: &'static str,
    sections: Sections,
    attrs: &'static [AttrSpec],
    content: Content,
) -> PolicySpec {
    PolicySpec {
        name,
        sections,
        scopes: ScopeSet::ALL,
        attrs,
        groups: &[],
        content,
        once: Once::Many,
        status: Status::Unknown,
    }
}

impl PolicySpec {
    pub(crate) const fn scopes(mut self, scopes: ScopeSet) -> Self {
        self.scopes = scopes;
        self
    }

    pub(crate) const fn once(mut self, once: Once) -> Self {
        self.once = once;
        self
    }

    pub(crate) const fn groups(mut self, groups: &'static [Group]) -> Self {
        self.groups = groups;
        self
    }
}

pub(crate) const fn element(
    name: &'static str,
    attrs: &'static [AttrSpec],
    content: Content,
) -> ElementSpec {
    ElementSpec {
        name,
        attrs,
        groups: &[],
        content,
        required: false,
        unique: false,
    }
}

impl ElementSpec {
    pub(crate) const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(crate) const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
}
