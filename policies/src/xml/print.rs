//! Renders an effective policy (or one document) back to indented XML, for `tollgate
//! policy explain` — APIM's "Calculate effective policy" view.
//!
//! Secrets from named values print as `***`. With `annotate`, each policy of a section,
//! and each element whose origin differs from its parent's (fragment content), is
//! preceded by a comment naming its scope and `file:line`. Elements holding text
//! (bodies, values, literal markup) are printed inline so their text stays exact; the
//! output parses back to the same tree (`print → parse → equal` modulo positions).

use std::fmt::Write as _;

use tollgate_core::config::MASK;

use super::catalog::{self, SectionKind};
use super::document::Document;
use super::merge::{Effective, MergedElement, MergedNode};
use super::tree::{Attr, Element, Node, Text};

const INDENT: &str = "  ";

/// The effective policy as a `<policies>` document with all four sections.
pub fn print_effective(e: &Effective, annotate: bool) -> String {
    let mut out = String::from("<policies>\n");
    for kind in SectionKind::ALL {
        let policies = e.section(kind);
        if policies.is_empty() {
            let _ = writeln!(out, "{INDENT}<{} />", kind.name());
            continue;
        }
        let _ = writeln!(out, "{INDENT}<{}>", kind.name());
        for p in policies {
            merged(&mut out, p, 2, annotate, None);
        }
        let _ = writeln!(out, "{INDENT}</{}>", kind.name());
    }
    out.push_str("</policies>\n");
    out
}

/// One scope's document as written (sections it lacks are left out), secrets masked.
pub fn print_document(doc: &Document) -> String {
    let mut out = String::from("<policies>\n");
    for section in doc.sections() {
        let name = section.kind.name();
        if section.policies.is_empty() {
            let _ = writeln!(out, "{INDENT}<{name} />");
            continue;
        }
        let _ = writeln!(out, "{INDENT}<{name}>");
        for p in &section.policies {
            let node = Tree::Parsed(p);
            block(&mut out, &node, 2);
        }
        let _ = writeln!(out, "{INDENT}</{name}>");
    }
    out.push_str("</policies>\n");
    out
}

/// Either kind of element, so one printer serves both.
enum Tree<'a> {
    Parsed(&'a Element),
    Merged(&'a MergedElement),
}

enum Child<'a> {
    Element(Tree<'a>),
    Text(&'a Text),
}

impl<'a> Tree<'a> {
    fn name(&self) -> &'a str {
        match self {
            Tree::Parsed(e) => &e.name,
            Tree::Merged(e) => &e.name,
        }
    }

    fn attrs(&self) -> &'a [Attr] {
        match self {
            Tree::Parsed(e) => &e.attrs,
            Tree::Merged(e) => &e.attrs,
        }
    }

    fn children(&self) -> Vec<Child<'a>> {
        match self {
            Tree::Parsed(e) => e
                .children
                .iter()
                .map(|n| match n {
                    Node::Element(c) => Child::Element(Tree::Parsed(c)),
                    Node::Text(t) => Child::Text(t),
                })
                .collect(),
            Tree::Merged(e) => e
                .children
                .iter()
                .map(|n| match n {
                    MergedNode::Element(c) => Child::Element(Tree::Merged(c)),
                    MergedNode::Text(t) => Child::Text(t),
                })
                .collect(),
        }
    }

    /// Printed on one line, children included, so text stays exact.
    fn inline(&self) -> bool {
        catalog::keeps_whitespace(self.name())
            || self.children().iter().any(|c| matches!(c, Child::Text(_)))
    }
}

/// A merged element with its origin comment when `annotate` and its origin differs
/// from `parent`'s.
fn merged(
    out: &mut String,
    e: &MergedElement,
    depth: usize,
    annotate: bool,
    parent: Option<&MergedElement>,
) {
    let differs = parent.is_none_or(|p| p.scope != e.scope || p.file != e.file);
    if annotate && differs {
        indent(out, depth);
        let what = comment_safe(&format!("{}: {}:{}", e.scope, e.file, e.loc.line));
        let _ = writeln!(out, "<!-- {what} -->");
    }
    let node = Tree::Merged(e);
    if node.inline() || e.children.is_empty() {
        indent(out, depth);
        inline(out, &node);
        out.push('\n');
        return;
    }
    indent(out, depth);
    open_tag(out, &node, false);
    out.push('\n');
    for c in e.elements() {
        merged(out, c, depth + 1, annotate, Some(e));
    }
    indent(out, depth);
    let _ = writeln!(out, "</{}>", e.name);
}

/// An element and its children, children on their own lines unless it holds text.
fn block(out: &mut String, node: &Tree, depth: usize) {
    indent(out, depth);
    let children = node.children();
    if node.inline() || children.is_empty() {
        inline(out, node);
        out.push('\n');
        return;
    }
    open_tag(out, node, false);
    out.push('\n');
    for c in &children {
        if let Child::Element(e) = c {
            block(out, e, depth + 1);
        }
    }
    indent(out, depth);
    let _ = writeln!(out, "</{}>", node.name());
}

/// An element on one line, exactly as its tree says.
fn inline(out: &mut String, node: &Tree) {
    let children = node.children();
    if children.is_empty() {
        open_tag(out, node, true);
        return;
    }
    open_tag(out, node, false);
    for c in &children {
        match c {
            Child::Element(e) => inline(out, e),
            Child::Text(t) => text(out, t),
        }
    }
    let _ = write!(out, "</{}>", node.name());
}

fn open_tag(out: &mut String, node: &Tree, empty: bool) {
    out.push('<');
    out.push_str(node.name());
    for a in node.attrs() {
        let _ = write!(out, " {}=\"", a.name);
        if a.secret {
            out.push_str(MASK);
        } else {
            escape(out, &a.value, true);
        }
        out.push('"');
    }
    out.push_str(if empty { " />" } else { ">" });
}

fn text(out: &mut String, t: &Text) {
    let value = if t.secret { MASK } else { t.text.as_str() };
    if t.is_cdata {
        out.push_str("<![CDATA[");
        out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]>");
    } else {
        escape(out, value, false);
    }
}

fn escape(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str(INDENT);
    }
}

/// Comment text cannot hold `--` or end in `-`.
fn comment_safe(s: &str) -> String {
    let mut t = s.replace("--", "- -");
    if t.ends_with('-') {
        t.push(' ');
    }
    t
}
