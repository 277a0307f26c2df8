//! The spanned YAML tree: yaml-rust2's event parser turned into [`Node`]s that remember
//! where they were written, so every later error can say `file:line:col`.
//!
//! Plain scalars keep their raw text next to their YAML 1.2 core-schema reading, so a
//! string-typed key accepts `8080` while an integer-typed key refuses `"8080"`. Duplicate
//! keys are reported (the first one wins); aliases and tags other than `!!str` are refused
//! (`scalar.rs` reads plain scalars).
//! The tree itself is `node.rs`. Not for serde: see `de.rs`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diagnostics::Location;
use super::node::{join_index, join_key, Node, NodeKind};
use super::scalar::resolve_plain;

/// Containers nested deeper than this are refused (a config needs fewer than ten levels).
pub const MAX_DEPTH: usize = 64;

/// A problem found while reading the YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlIssue {
    pub loc: Location,
    /// Where in the document (`gateway.name`), empty for the root or when unknown.
    pub key_path: String,
    pub message: String,
    pub hint: Option<String>,
}

/// The parsed document plus the problems that did not stop parsing (duplicate keys).
#[derive(Debug)]
pub struct Document {
    pub root: Node,
    pub issues: Vec<YamlIssue>,
}

/// Parses one YAML document. `Err` holds problems that make the tree unusable (syntax,
/// aliases, tags, nesting); `Ok` may still carry duplicate-key issues.
pub fn parse(text: &str) -> Result<Document, Vec<YamlIssue>> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    // Driven event by event (not `Parser::load`, which recurses) so depth stays bounded.
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => builder.on_event(event, mark),
            Err(e) => {
                builder.fatal.push(issue(
                    to_loc(e.marker()),
                    format!("invalid YAML: {}", e.info()),
                ));
                break;
            }
        }
        if builder.stop {
            break;
        }
    }
    if !builder.fatal.is_empty() {
        return Err(builder.fatal);
    }
    let root = builder
        .root
        .unwrap_or_else(|| Node::null(Location { line: 1, col: 1 }));
    Ok(Document {
        root,
        issues: builder.issues,
    })
}

fn to_loc(mark: &Marker) -> Location {
    Location {
        line: mark.line(),
        col: mark.col() + 1,
    }
}

fn issue(loc: Location, message: String) -> YamlIssue {
    YamlIssue {
        loc,
        key_path: String::new(),
        message,
        hint: None,
    }
}

/// A container being built, with its key path.
enum Frame {
    Seq {
        node: Node,
        path: String,
        items: Vec<Node>,
    },
    Map {
        node: Node,
        path: String,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        seen: HashMap<String, Location>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    issues: Vec<YamlIssue>,
    fatal: Vec<YamlIssue>,
    stop: bool,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let loc = to_loc(&mark);
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fatal.push(YamlIssue {
                        loc,
                        key_path: String::new(),
                        message: "a config file holds one YAML document; found a second `---`"
                            .into(),
                        hint: Some("remove the second document or move it to its own file".into()),
                    });
                    self.stop = true;
                }
            }
            Event::Scalar(text, style, _anchor, tag) => {
                let forced_str = match tag {
                    None => false,
                    Some(t) if t.suffix == "str" => true,
                    Some(t) => {
                        self.fatal.push(YamlIssue {
                            loc,
                            key_path: self.child_path(),
                            message: format!(
                                "YAML tags are not supported (found `{}{}`)",
                                t.handle, t.suffix
                            ),
                            hint: Some("remove the tag; use quotes to force a string".into()),
                        });
                        false
                    }
                };
                let node = scalar(text, style, forced_str, loc);
                self.finish(node);
            }
            Event::SequenceStart(..) => {
                let path = self.child_path();
                self.open(Frame::Seq {
                    node: Node::null(loc),
                    path,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(..) => {
                let node = Node::null(loc);
                let path = self.child_path();
                let frame = Frame::Map {
                    node,
                    path,
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                };
                self.open(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq {
                        mut node, items, ..
                    }) => {
                        node.kind = NodeKind::Seq(items);
                        node
                    }
                    Some(Frame::Map {
                        mut node, entries, ..
                    }) => {
                        node.kind = NodeKind::Map(entries);
                        node
                    }
                    None => return,
                };
                self.finish(node);
            }
            Event::Alias(_) => {
                self.fatal.push(YamlIssue {
                    loc,
                    key_path: self.child_path(),
                    message: "YAML aliases (`*name`) are not supported".into(),
                    hint: Some("write the value out in full".into()),
                });
                self.finish(Node::null(loc));
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

impl Builder {
    /// The key path of the next node to complete in the current container.
    fn child_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { path, items, .. }) => join_index(path, items.len()),
            Some(Frame::Map {
                path, key: None, ..
            }) => path.clone(),
            Some(Frame::Map {
                path, key: Some(k), ..
            }) => join_key(path, k.scalar_text().unwrap_or("?")),
        }
    }

    fn open(&mut self, frame: Frame) {
        if self.stack.len() >= MAX_DEPTH {
            let loc = match &frame {
                Frame::Seq { node, .. } | Frame::Map { node, .. } => node.loc,
            };
            self.fatal
                .push(issue(loc, format!("nested deeper than {MAX_DEPTH} levels")));
            self.stop = true;
            return;
        }
        self.stack.push(frame);
    }

    /// Attaches a completed node to its parent (or makes it the root).
    fn finish(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                node: map,
                path,
                entries,
                key,
                seen,
            }) => match key.take() {
                None => {
                    // A block mapping's start mark sits after its first key; point at the key.
                    if entries.is_empty() && is_before(&node, map) {
                        map.loc = node.loc;
                    }
                    *key = Some(node);
                }
                Some(k) => {
                    let Some(text) = k.scalar_text().map(str::to_owned) else {
                        self.fatal.push(issue(
                            k.loc,
                            "a key must be a plain string, not a list or map".into(),
                        ));
                        return;
                    };
                    if let Some(first) = seen.get(&text) {
                        self.issues.push(YamlIssue {
                            loc: k.loc,
                            key_path: join_key(path, &text),
                            message: format!("duplicate key `{text}`"),
                            hint: Some(format!("first defined at line {}; keep one", first.line)),
                        });
                        return;
                    }
                    seen.insert(text, k.loc);
                    entries.push((k, node));
                }
            },
        }
    }
}

/// Whether `key` starts before the mapping's own start mark (true for block mappings).
fn is_before(key: &Node, map: &Node) -> bool {
    (key.loc.line, key.loc.col) < (map.loc.line, map.loc.col)
}

fn scalar(text: String, style: TScalarStyle, forced_str: bool, loc: Location) -> Node {
    if style != TScalarStyle::Plain || forced_str {
        return Node::new(NodeKind::Str(text), loc, None);
    }
    let kind = resolve_plain(&text);
    Node::new(kind, loc, Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text)
            .map(|d| d.root)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn locations_are_one_based_and_maps_point_at_first_key() {
        let r = root("gateway:\n  name: x\napis:\n  - id: a\n    path: p\n");
        let (k, v) = r.find("gateway.name").unwrap();
        assert_eq!(
            (k.loc, v.loc),
            (Location { line: 2, col: 3 }, Location { line: 2, col: 9 })
        );
        let (item, _) = r.find("apis[0]").unwrap();
        assert_eq!(item.loc, Location { line: 4, col: 5 });
        assert_eq!(
            r.find("apis[0].path").unwrap().0.loc,
            Location { line: 5, col: 5 }
        );
        assert!(r.find("apis[1]").is_none());
        assert_eq!(r.loc, Location { line: 1, col: 1 });
        let r = root("a: 8080\nb: \"8080\"\n");
        assert_eq!(r.find("a").unwrap().1.plain_text(), Some("8080"));
        assert_eq!(r.find("b").unwrap().1.kind, NodeKind::Str("8080".into()));
        assert_eq!(r.find("b").unwrap().1.plain_text(), None);
    }

    #[test]
    fn duplicates_aliases_tags_documents_and_depth() {
        let doc = parse("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(doc.issues.len(), 1);
        assert_eq!(doc.issues[0].loc, Location { line: 3, col: 1 });
        assert_eq!(doc.root.find("a").unwrap().1.kind, NodeKind::Int(1));
        assert!(parse("a: &x 1\nb: *x\n").unwrap_err()[0]
            .message
            .contains("aliases"));
        assert!(parse("a: !custom 1\n").unwrap_err()[0]
            .message
            .contains("tags"));
        assert_eq!(
            root("a: !!str 1\n").find("a").unwrap().1.kind,
            NodeKind::Str("1".into())
        );
        assert!(parse("a: 1\n---\nb: 2\n").unwrap_err()[0]
            .message
            .contains("one YAML document"));
        assert!(parse(&"- ".repeat(100_000)).unwrap_err()[0]
            .message
            .contains("nested"));
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert!(parse("a: [1, 2\nb: 3").is_err());
        assert_eq!(root("").kind, NodeKind::Null);
    }
}
