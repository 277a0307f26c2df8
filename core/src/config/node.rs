//! The spanned node tree `yaml.rs` builds: each node knows where it was written, and any
//! node can be found again by its key path (`apis[1].operations[0].url-template`).

use super::diagnostics::Location;

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub loc: Location,
    /// The source text of a plain (unquoted) scalar; `None` for quoted scalars and containers.
    plain: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are unique.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn new(kind: NodeKind, loc: Location, plain: Option<String>) -> Self {
        Node { kind, loc, plain }
    }

    /// A null node, e.g. the value of an empty document.
    pub fn null(loc: Location) -> Self {
        Node {
            kind: NodeKind::Null,
            loc,
            plain: None,
        }
    }

    /// The raw text of a plain scalar (`8080`, `true`, `~`), `None` otherwise.
    pub fn plain_text(&self) -> Option<&str> {
        self.plain.as_deref()
    }

    /// The text of any scalar: a quoted string's value or a plain scalar's source text.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => self.plain_text(),
        }
    }

    /// What this node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        // Never the value itself: a misplaced secret would end up in the error output.
        match &self.kind {
            NodeKind::Null => "nothing (null)",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }

    /// Finds `key_path` (`apis[1].operations[0].url-template`) below this node; returns the
    /// key node (or the list item) and the value node.
    pub fn find(&self, key_path: &str) -> Option<(&Node, &Node)> {
        let mut key = self;
        let mut value = self;
        let mut rest = key_path;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']')?;
                let index: usize = after[..end].parse().ok()?;
                let NodeKind::Seq(items) = &value.kind else {
                    return None;
                };
                value = items.get(index)?;
                key = value;
                rest = &after[end + 1..];
            } else {
                let name = rest.strip_prefix('.').unwrap_or(rest);
                let NodeKind::Map(entries) = &value.kind else {
                    return None;
                };
                // Keys may themselves contain '.' or '['; the longest matching key wins.
                let (k, v, len) = entries
                    .iter()
                    .filter_map(|(k, v)| {
                        let text = k.scalar_text()?;
                        let tail = name.strip_prefix(text)?;
                        let ends = tail.is_empty() || tail.starts_with(['.', '[']);
                        ends.then_some((k, v, text.len()))
                    })
                    .max_by_key(|(_, _, len)| *len)?;
                key = k;
                value = v;
                rest = &name[len..];
            }
        }
        Some((key, value))
    }
}

/// `parent.key`, or `key` at the root.
pub fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub fn join_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}
