//! `xml-to-json`: an XML body as JSON.
//!
//! Common to both kinds (Newtonsoft's `SerializeXmlNode` conventions, which APIM's
//! output follows):
//! * The root element is the single member of the top-level object: `{"root": …}`.
//! * An element with only text is that text (`<a>1</a>` → `"a":"1"`: values are always
//!   strings); an empty element (`<a/>`, `<a></a>`, whitespace only) is `null`.
//! * Attributes are `"@name"` members; an element with attributes or child elements
//!   keeps its text as `"#text"` (all its text pieces joined: a guess; Newtonsoft makes
//!   an array of them).
//! * Same-named sibling elements become one array at the place of the first;
//!   `always-array-child-elements="true"` makes every child element an array, even a
//!   single one (the root itself stays an object member).
//! * Whitespace-only text between elements is dropped; CDATA is text; comments and
//!   processing instructions are dropped; a DOCTYPE is refused (DTD processing off, as
//!   APIM's reader has it).
//!
//! `direct` (observed APIM output): the XML declaration's `version`, `encoding`,
//! `standalone` become top-level members before the root; prefixed names keep their
//! prefix with `:` written `$` (`soap:Envelope` → `soap$Envelope`); namespace
//! declarations stay as attributes (`"@xmlns$soap"`).
//!
//! `javascript-friendly` (UNVERIFIED: APIM documents only "a form friendly to JavaScript
//! developers"): no declaration members, namespace declarations dropped, names without
//! their prefixes (`soap:Envelope` → `Envelope`), and `xsi:nil="true"` on an otherwise
//! empty element gives `null` (the inverse of json-to-xml's `null`).
//!
//! Output is compact JSON (Newtonsoft `Formatting.None`).

use std::cell::RefCell;

use bumpalo::collections::{String as BString, Vec as BVec};
use bumpalo::Bump;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::expr::builtins::json::JNode;

pub(crate) struct Options {
    pub direct: bool,
    pub always_array: bool,
}

/// Deepest element nesting converted: bounds the recursion, and keeps the JSON within
/// what the JSON writer nests (2 levels per element with arrays, 128 in all).
const MAX_DEPTH: usize = 60;

struct Elem<'a> {
    name: &'a str,
    attrs: BVec<'a, (&'a str, &'a str)>,
    children: BVec<'a, Child<'a>>,
}

#[derive(Clone, Copy)]
enum Child<'a> {
    Elem(usize),
    Text(&'a str),
}

/// The XML `body` as JSON text in the arena, or why it is not well-formed XML.
pub(crate) fn convert<'a>(arena: &'a Bump, body: &'a [u8], o: &Options) -> Result<&'a str, String> {
    let text =
        std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8 text ({e})"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let tree = parse(arena, text)?;
    let root = tree.root.ok_or("Root element is missing.")?;
    let mut top = BVec::new_in(arena);
    if o.direct {
        for (k, v) in tree.declaration.iter() {
            top.push((*k, &*arena.alloc(JNode::Str(v))));
        }
    }
    let c = Converter {
        arena,
        elems: &tree.elems,
        o,
    };
    top.push((c.name(tree.elems[root].name), c.value(root)));
    let doc = JNode::Object(RefCell::new(top));
    let mut out = BString::with_capacity_in(text.len(), arena);
    doc.write_json(&mut out, false, false);
    Ok(out.into_bump_str())
}

struct Tree<'a> {
    elems: BVec<'a, Elem<'a>>,
    root: Option<usize>,
    /// `version`, `encoding`, `standalone` of the XML declaration.
    declaration: BVec<'a, (&'a str, &'a str)>,
}

fn parse<'a>(arena: &'a Bump, text: &'a str) -> Result<Tree<'a>, String> {
    let mut tree = Tree {
        elems: BVec::new_in(arena),
        root: None,
        declaration: BVec::new_in(arena),
    };
    let mut stack: BVec<'a, usize> = BVec::new_in(arena);
    // Text gathered since the last tag; `cdata`: it holds a CDATA section (kept even
    // when it is only whitespace).
    let mut pending = BString::new_in(arena);
    let mut cdata = false;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("{e} (at byte {})", reader.error_position()))?;
        let is_text = matches!(
            event,
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_)
        );
        if !is_text && (!pending.is_empty() || cdata) {
            let t = std::mem::replace(&mut pending, BString::new_in(arena));
            let keep = cdata || !t.trim().is_empty();
            cdata = false;
            match stack.last() {
                Some(&parent) if keep => tree.elems[parent]
                    .children
                    .push(Child::Text(t.into_bump_str())),
                None if keep => {
                    return Err(format!("Data at the root level is invalid (at byte {at})."))
                }
                _ => {}
            }
        }
        match event {
            Event::Start(tag) | Event::Empty(tag) if tree.root.is_some() && stack.is_empty() => {
                let name = tag.name();
                return Err(format!(
                    "There are multiple root elements (`<{}>` at byte {at}).",
                    name.as_ref() as &str
                ));
            }
            Event::Start(tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nest deeper than {MAX_DEPTH} levels"));
                }
                let i = element(arena, &mut tree, &tag, stack.last().copied())?;
                stack.push(i);
            }
            Event::Empty(tag) => {
                element(arena, &mut tree, &tag, stack.last().copied())?;
            }
            Event::End(_) => {
                // quick-xml checked that the name matches.
                stack.pop();
            }
            Event::Text(t) => pending.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => pending.push(c),
                Ok(None) => match resolve_xml_entity(&r) {
                    Some(s) => pending.push_str(s),
                    None => {
                        return Err(format!("Reference to undeclared entity '{}'.", &*r));
                    }
                },
                Err(e) => return Err(format!("{e} (at byte {at})")),
            },
            Event::CData(c) => {
                pending.push_str(&c.xml10_content());
                cdata = true;
            }
            Event::Decl(d) if tree.elems.is_empty() => {
                let mut put = |k: &'static str, v: &str| {
                    let v: &'a str = arena.alloc_str(v);
                    tree.declaration.push((k, v));
                };
                if let Ok(v) = d.version() {
                    put("version", &v);
                }
                if let Some(Ok(v)) = d.encoding() {
                    put("encoding", &v);
                }
                if let Some(Ok(v)) = d.standalone() {
                    put("standalone", &v);
                }
            }
            Event::DocType(_) => {
                return Err("For security reasons DTD is prohibited in this XML document.".into())
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(&open) = stack.last() {
        return Err(format!(
            "Unexpected end of file has occurred. The following elements are not closed: {}.",
            tree.elems[open].name
        ));
    }
    Ok(tree)
}

/// Adds the element `tag` below `parent` (or as the root); its index.
fn element<'a>(
    arena: &'a Bump,
    tree: &mut Tree<'a>,
    tag: &BytesStart<'_>,
    parent: Option<usize>,
) -> Result<usize, String> {
    let name: &'a str = arena.alloc_str(tag.name().as_ref());
    let mut attrs = BVec::new_in(arena);
    for attr in tag.attributes() {
        let attr = attr.map_err(|e| format!("{e} in `<{name}>`"))?;
        let key: &str = attr.key.as_ref();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("{e} in attribute `{key}` of `<{name}>`"))?;
        attrs.push((&*arena.alloc_str(key), &*arena.alloc_str(&value)));
    }
    tree.elems.push(Elem {
        name,
        attrs,
        children: BVec::new_in(arena),
    });
    let i = tree.elems.len() - 1;
    match parent {
        Some(p) => tree.elems[p].children.push(Child::Elem(i)),
        None => tree.root = Some(i),
    }
    Ok(i)
}

struct Converter<'a, 't, 'o> {
    arena: &'a Bump,
    elems: &'t [Elem<'a>],
    o: &'o Options,
}

impl<'a> Converter<'a, '_, '_> {
    /// A member name for an element or attribute name.
    fn name(&self, qname: &'a str) -> &'a str {
        if self.o.direct {
            if qname.contains(':') {
                let mut s = BString::with_capacity_in(qname.len(), self.arena);
                s.extend(qname.chars().map(|c| if c == ':' { '$' } else { c }));
                s.into_bump_str()
            } else {
                qname
            }
        } else {
            qname.rsplit(':').next().unwrap_or(qname)
        }
    }

    fn str(&self, s: &'a str) -> &'a JNode<'a> {
        self.arena.alloc(JNode::Str(s))
    }

    /// The JSON value of element `i`.
    fn value(&self, i: usize) -> &'a JNode<'a> {
        let arena = self.arena;
        let e = &self.elems[i];
        let mut props: BVec<'a, (&'a str, &'a JNode<'a>)> = BVec::new_in(arena);
        let mut nil = false;
        for &(k, v) in e.attrs.iter() {
            if !self.o.direct {
                if k == "xmlns" || k.starts_with("xmlns:") {
                    continue;
                }
                if k == "xsi:nil" {
                    nil = v.trim() == "true";
                    continue;
                }
            }
            let mut n = BString::from_str_in("@", arena);
            n.push_str(self.name(k));
            props.push((n.into_bump_str(), self.str(v)));
        }
        let mut text = BString::new_in(arena);
        let mut has_elements = false;
        for c in e.children.iter() {
            match c {
                Child::Text(t) => text.push_str(t),
                Child::Elem(_) => has_elements = true,
            }
        }
        if props.is_empty() && !has_elements {
            return if text.is_empty() || nil {
                arena.alloc(JNode::Null)
            } else {
                self.str(text.into_bump_str())
            };
        }
        let text = text.into_bump_str();
        // Groups in order of first appearance: "#text", or an element name with its
        // values.
        let mut groups: BVec<'a, (&'a str, BVec<'a, &'a JNode<'a>>)> = BVec::new_in(arena);
        for c in e.children.iter() {
            let (key, value) = match *c {
                Child::Text(_) => ("#text", None),
                Child::Elem(j) => (self.name(self.elems[j].name), Some(self.value(j))),
            };
            let slot = match groups.iter().position(|(k, _)| *k == key) {
                Some(s) => s,
                None => {
                    groups.push((key, BVec::new_in(arena)));
                    groups.len() - 1
                }
            };
            if let Some(v) = value {
                groups[slot].1.push(v);
            }
        }
        for (key, values) in groups {
            let v: &'a JNode<'a> = if key == "#text" {
                self.str(text)
            } else if values.len() > 1 || self.o.always_array {
                arena.alloc(JNode::Array(RefCell::new(values)))
            } else {
                values[0]
            };
            props.push((key, v));
        }
        arena.alloc(JNode::Object(RefCell::new(props)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(xml: &str, direct: bool, always_array: bool) -> Result<String, String> {
        let arena = Bump::new();
        let body = arena.alloc_slice_copy(xml.as_bytes());
        convert(
            &arena,
            body,
            &Options {
                direct,
                always_array,
            },
        )
        .map(str::to_string)
    }

    #[test]
    fn shapes() {
        assert_eq!(
            conv("<a><b>1</b><b>2</b><c/></a>", false, false).unwrap(),
            r#"{"a":{"b":["1","2"],"c":null}}"#
        );
        assert_eq!(
            conv("<a x=\"1\">t<b/>u</a>", false, false).unwrap(),
            r##"{"a":{"@x":"1","#text":"tu","b":null}}"##
        );
        assert_eq!(
            conv("<a><b>1</b></a>", false, true).unwrap(),
            r#"{"a":{"b":["1"]}}"#
        );
        assert_eq!(
            conv(
                "<?xml version=\"1.0\"?><s:E xmlns:s=\"urn:s\"><s:B>x</s:B></s:E>",
                true,
                false
            )
            .unwrap(),
            r#"{"version":"1.0","s$E":{"@xmlns$s":"urn:s","s$B":"x"}}"#
        );
        assert_eq!(
            conv(
                "<?xml version=\"1.0\"?><s:E xmlns:s=\"urn:s\"><s:B>x</s:B></s:E>",
                false,
                false
            )
            .unwrap(),
            r#"{"E":{"B":"x"}}"#
        );
        assert_eq!(
            conv("<a>&lt;&#65;<![CDATA[ ]]></a>", false, false).unwrap(),
            r#"{"a":"<A "}"#
        );
        assert_eq!(
            conv("<a>\n  <b>x</b>\n</a>", false, false).unwrap(),
            r#"{"a":{"b":"x"}}"#
        );
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let seed = r#"<?xml version="1.0"?><s:a xmlns:s="u" x="1">t&amp;<b>1</b><b/><![CDATA[c]]><!--n--></s:a>"#;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..4000 {
            let mut b = seed.as_bytes().to_vec();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x as usize) % b.len();
                let chars = b"<>/=\"&;!?[]-: ab\xc3";
                b[i] = chars[(x >> 32) as usize % chars.len()];
            }
            let arena = Bump::new();
            let body = arena.alloc_slice_copy(&b);
            let _ = convert(
                &arena,
                body,
                &Options {
                    direct: x % 2 == 0,
                    always_array: x % 3 == 0,
                },
            );
        }
    }

    #[test]
    fn deep_documents() {
        let deep = |n: usize| format!("{}x{}", "<a>".repeat(n), "</a>".repeat(n));
        let out = conv(&deep(MAX_DEPTH), false, true).unwrap();
        assert!(out.contains("[\"x\"]"), "{out}");
        assert!(conv(&deep(MAX_DEPTH + 1), false, false).is_err());
    }

    #[test]
    fn malformed() {
        assert!(conv("<a><b></a>", false, false).is_err());
        assert!(conv("<a>", false, false).is_err());
        assert!(conv("<a/><b/>", false, false).is_err());
        assert!(conv("text", false, false).is_err());
        assert!(conv("<!DOCTYPE a><a/>", false, false).is_err());
        assert!(conv("<a>&bogus;</a>", false, false).is_err());
        assert!(conv("", false, false).is_err());
    }
}
