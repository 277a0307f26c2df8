//! Policy documents (`<policies>` with its sections) and fragments (`<fragment>`), built
//! from the element tree and validated against the catalog.
//!
//! Not for scopes: merging documents and inlining fragments is `merge`'s job.

use super::catalog::{self, SectionKind};
use super::error::{did_you_mean, PolicyError};
use super::parse::parse_tree;
use super::tree::{Element, Loc, Node, Origin};
use super::validate::{self, Place};

/// Largest fragment accepted, in bytes (APIM's limit).
pub const MAX_FRAGMENT_BYTES: usize = 512 * 1024;

/// One section of a document: its policies in order, `<base/>` included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub loc: Loc,
    pub policies: Vec<Element>,
}

/// A validated `<policies>` document of one scope. Sections are optional: a missing one
/// inherits its parent scope's (see `merge`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub file: String,
    /// Which scope's document this is, by name (`product/starter`, `api/orders`,
    /// `operation/orders/get`): the identity of the per-subscription counters it declares,
    /// stable across reloads and edits that move lines. The file name until the loader
    /// names it.
    pub owner: String,
    /// Where `<policies>` starts.
    pub loc: Loc,
    pub inbound: Option<Section>,
    pub backend: Option<Section>,
    pub outbound: Option<Section>,
    pub on_error: Option<Section>,
}

impl Document {
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        match kind {
            SectionKind::Inbound => self.inbound.as_ref(),
            SectionKind::Backend => self.backend.as_ref(),
            SectionKind::Outbound => self.outbound.as_ref(),
            SectionKind::OnError => self.on_error.as_ref(),
        }
    }

    pub fn section_mut(&mut self, kind: SectionKind) -> &mut Option<Section> {
        match kind {
            SectionKind::Inbound => &mut self.inbound,
            SectionKind::Backend => &mut self.backend,
            SectionKind::Outbound => &mut self.outbound,
            SectionKind::OnError => &mut self.on_error,
        }
    }

    /// The sections present, in execution order.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        SectionKind::ALL.into_iter().filter_map(|k| self.section(k))
    }
}

/// A validated `<fragment>`: policies to inline wherever `include-fragment` names `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub id: String,
    pub file: String,
    /// Where `<fragment>` starts.
    pub loc: Loc,
    pub policies: Vec<Element>,
}

/// Parses and validates a policy document; every error found is returned.
pub fn parse_document(text: &str, origin: &Origin) -> Result<Document, Vec<PolicyError>> {
    let root = parse_tree(text, origin, catalog::keeps_whitespace).map_err(|e| vec![e])?;
    let file = origin.file.as_str();
    let mut errors = Vec::new();
    if root.name != "policies" {
        let hint = if root.name == "fragment" {
            "this is a policy fragment; list it under `policies.fragments` and include it with \
             `<include-fragment fragment-id=\"…\"/>`"
                .to_owned()
        } else {
            "a policy document is `<policies><inbound/><backend/><outbound/><on-error/></policies>`"
                .to_owned()
        };
        return Err(vec![PolicyError::new(
            file,
            root.loc,
            format!(
                "the root element must be `<policies>`, not `<{}>`",
                root.name
            ),
        )
        .hint(hint)]);
    }
    no_attributes(&root, file, &mut errors);
    let mut doc = Document {
        file: file.to_owned(),
        owner: file.to_owned(),
        loc: root.loc,
        inbound: None,
        backend: None,
        outbound: None,
        on_error: None,
    };
    for node in root.children {
        let element = match node {
            Node::Element(e) => e,
            Node::Text(t) => {
                if !t.text.trim().is_empty() {
                    errors.push(
                        PolicyError::new(file, t.loc, "text directly inside `<policies>`").hint(
                            "policies go inside a section: inbound, backend, outbound or on-error",
                        ),
                    );
                }
                continue;
            }
        };
        let Some(kind) = SectionKind::from_name(&element.name) else {
            errors.push(unknown_section(file, &element));
            continue;
        };
        if let Some(first) = doc.section(kind) {
            errors.push(
                PolicyError::new(
                    file,
                    element.loc,
                    format!("`<{}>` appears twice", kind.name()),
                )
                .hint(format!(
                    "each section may appear once; merge it into the one at {}:{}",
                    first.loc.line, first.loc.col
                )),
            );
            continue;
        }
        no_attributes(&element, file, &mut errors);
        let policies = section_policies(element.children, kind.name(), file, &mut errors);
        validate::check_policies(&policies, Place::Section(kind), file, &mut errors);
        *doc.section_mut(kind) = Some(Section {
            kind,
            loc: element.loc,
            policies,
        });
    }
    validate::check_once_per_document(&doc, &mut errors);
    if errors.is_empty() {
        Ok(doc)
    } else {
        Err(errors)
    }
}

/// Parses and validates the fragment `id`.
pub fn parse_fragment(id: &str, text: &str, origin: &Origin) -> Result<Fragment, Vec<PolicyError>> {
    let file = origin.file.as_str();
    if text.len() > MAX_FRAGMENT_BYTES {
        return Err(vec![PolicyError::new(
            file,
            Loc::new(origin.line, origin.col),
            format!(
                "fragment `{id}` is {} bytes; fragments are limited to {} KB",
                text.len(),
                MAX_FRAGMENT_BYTES / 1024
            ),
        )
        .hint("split it into several fragments")]);
    }
    let root = parse_tree(text, origin, catalog::keeps_whitespace).map_err(|e| vec![e])?;
    if root.name != "fragment" {
        return Err(vec![PolicyError::new(
            file,
            root.loc,
            format!(
                "the root element of fragment `{id}` must be `<fragment>`, not `<{}>`",
                root.name
            ),
        )
        .hint(
            "a fragment is `<fragment>` followed by policies, without sections or `<base/>`",
        )]);
    }
    let mut errors = Vec::new();
    no_attributes(&root, file, &mut errors);
    let policies = section_policies(root.children, "fragment", file, &mut errors);
    validate::check_policies(&policies, Place::Fragment, file, &mut errors);
    if errors.is_empty() {
        Ok(Fragment {
            id: id.to_owned(),
            file: file.to_owned(),
            loc: root.loc,
            policies,
        })
    } else {
        Err(errors)
    }
}

/// The elements of a section or fragment; stray text is an error.
fn section_policies(
    children: Vec<Node>,
    container: &str,
    file: &str,
    errors: &mut Vec<PolicyError>,
) -> Vec<Element> {
    let mut policies = Vec::new();
    for node in children {
        match node {
            Node::Element(e) => policies.push(e),
            Node::Text(t) if t.text.trim().is_empty() => {}
            Node::Text(t) => errors.push(
                PolicyError::new(file, t.loc, format!("text directly inside `<{container}>`"))
                    .hint(
                    "a section holds policy elements only; put text in a policy such as `set-body`",
                ),
            ),
        }
    }
    policies
}

fn unknown_section(file: &str, element: &Element) -> PolicyError {
    let names = SectionKind::ALL.map(SectionKind::name);
    let message = if catalog::policy(&element.name).is_some() || element.name == "base" {
        format!(
            "`<{}>` must be inside a section, not directly in `<policies>`",
            element.name
        )
    } else {
        format!("unknown section `<{}>`", element.name)
    };
    let hint = did_you_mean(&element.name, names)
        .unwrap_or_else(|| "sections are inbound, backend, outbound and on-error".to_owned());
    PolicyError::new(file, element.loc, message).hint(hint)
}

fn no_attributes(element: &Element, file: &str, errors: &mut Vec<PolicyError>) {
    for attr in &element.attrs {
        errors.push(
            PolicyError::new(
                file,
                attr.loc,
                format!(
                    "`<{}>` takes no attributes; found `{}`",
                    element.name, attr.name
                ),
            )
            .hint(format!("remove `{}`", attr.name)),
        );
    }
}
