//! Policy XML text → element tree, with every element, attribute and text positioned in
//! the original file (quick-xml underneath).
//!
//! Comments, the XML declaration and processing instructions are dropped; a DOCTYPE is
//! refused (no DTDs, no custom entities). Whitespace-only text between elements is dropped
//! unless an enclosing element's content is literal (`set-body`, `value`, …; the caller
//! says which). Stops at the first malformation: XML cannot be resynchronised reliably.
//!
//! Expressions written without XML escaping, as APIM accepts them (`condition="@(h ==
//! "x")"`, `As<JObject>()` in text, `a && b`), are marked by `prescan` before quick-xml
//! reads the text and put back in every attribute value and text node afterwards; the
//! marking keeps every character where it was, so positions are those of the file.

use std::borrow::Cow;
use std::cell::Cell;

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::escape::{resolve_xml_entity, EscapeError};
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::error::PolicyError;
use super::prescan::{prescan, unmark};
use super::tree::{Attr, Element, Loc, Node, Origin, Text};

/// Deepest element nesting accepted; deeper documents are refused rather than risk the
/// recursive passes (validation, merge, printing) running out of stack.
pub const MAX_DEPTH: usize = 64;

/// Largest policy document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 4 << 20;

/// Maps byte offsets of the parsed text to file positions.
pub(crate) struct Positions<'a> {
    text: &'a str,
    origin: &'a Origin,
    /// Byte offset of the start of each line; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// The last position computed, `(offset, line index, column in characters)`:
    /// offsets mostly grow, so columns are counted from there, not from the line start
    /// (keeps long single-line documents linear).
    last: Cell<(usize, usize, usize)>,
}

impl<'a> Positions<'a> {
    pub(crate) fn new(text: &'a str, origin: &'a Origin) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Positions {
            text,
            origin,
            line_starts,
            last: Cell::new((0, 0, 0)),
        }
    }

    pub(crate) fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.text.len());
        let line_idx = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let (last_offset, last_line, last_col) = self.last.get();
        let (from, base) = if last_line == line_idx && last_offset <= offset {
            (last_offset, last_col)
        } else {
            (start, 0)
        };
        let col = base
            + match self.text.get(from..offset) {
                Some(s) => s.chars().count(),
                None => offset - from,
            };
        self.last.set((offset, line_idx, col));
        let col = u32::try_from(col).unwrap_or(u32::MAX);
        let line_idx = u32::try_from(line_idx).unwrap_or(u32::MAX);
        let o = self.origin;
        if line_idx == 0 {
            Loc::new(o.line, o.col.saturating_add(col))
        } else {
            Loc::new(
                o.line.saturating_add(line_idx),
                o.indent.saturating_add(col).saturating_add(1),
            )
        }
    }

    /// The byte offset of `part` inside the parsed text, if it is a slice of it.
    fn offset_of(&self, part: &str) -> Option<usize> {
        let base = self.text.as_ptr() as usize;
        let at = (part.as_ptr() as usize).checked_sub(base)?;
        (at <= self.text.len()).then_some(at)
    }
}

struct Frame {
    element: Element,
    /// Whitespace-only text is kept inside this element.
    keep_ws: bool,
}

/// Text being gathered across text events, entity references and comments.
struct Pending {
    text: String,
    offset: usize,
}

struct Parser<'a> {
    pos: Positions<'a>,
    keep_ws: fn(&str) -> bool,
    stack: Vec<Frame>,
    root: Option<Element>,
    pending: Option<Pending>,
    /// `prescan` marked characters: attribute values, text and messages get them back.
    marked: bool,
}

/// Parses `text` into its root element. `keep_ws(name)` says whether whitespace-only text
/// inside elements named `name` (and their descendants) is content.
pub(crate) fn parse_tree(
    text: &str,
    origin: &Origin,
    keep_ws: fn(&str) -> bool,
) -> Result<Element, PolicyError> {
    // A byte-order mark (editors on Windows write one) is not content, nor a column.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(PolicyError::new(
            &origin.file,
            Positions::new(text, origin).loc(0),
            format!(
                "policy document is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
                text.len()
            ),
        ));
    }
    let scanned = match prescan(text) {
        Ok(scanned) => scanned,
        Err(c) => {
            return Err(PolicyError::new(
                &origin.file,
                Positions::new(text, origin).loc(c.offset),
                format!(
                    "character U+{:04X} (private use) cannot appear in a document whose \
                     expressions are not XML-escaped",
                    u32::from(c.ch)
                ),
            )
            .hint(
                "Tollgate reads `\"`, `'`, `<` and `&` inside unescaped @(…) / @{…} by \
                 standing in U+E000–U+E003 for them; remove the character or escape the \
                 expressions (`&quot;` `&apos;` `&lt;` `&amp;`)",
            ));
        }
    };
    // Same characters, lines and columns as `text`; only the bytes of marks differ.
    let text: &str = &scanned;
    let mut p = Parser {
        pos: Positions::new(text, origin),
        keep_ws,
        stack: Vec::new(),
        root: None,
        pending: None,
        marked: matches!(scanned, Cow::Owned(_)),
    };
    let mut reader = Reader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.check_comments = true;
        config.trim_text(false);
    }
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(start);
                return Err(p.xml_error(&e, at));
            }
        };
        match event {
            Event::Start(tag) => {
                p.flush_text()?;
                if p.stack.len() >= MAX_DEPTH {
                    return Err(p
                        .error(
                            start,
                            format!("elements nest deeper than {MAX_DEPTH} levels"),
                        )
                        .hint("policy documents are never this deep; check for unclosed tags"));
                }
                let element = p.element(&tag, start)?;
                let keep_ws =
                    p.stack.last().is_some_and(|f| f.keep_ws) || (p.keep_ws)(&element.name);
                p.stack.push(Frame { element, keep_ws });
            }
            Event::Empty(tag) => {
                p.flush_text()?;
                let element = p.element(&tag, start)?;
                p.attach(element, start)?;
            }
            Event::End(end) => {
                p.flush_text()?;
                let name = end.name().as_ref().to_owned();
                let Some(frame) = p.stack.pop() else {
                    return Err(p
                        .error(start, format!("closing tag `</{name}>` has no opening tag"))
                        .hint(format!("remove `</{name}>` or add `<{name}>` before it")));
                };
                if frame.element.name != name {
                    let open = frame.element.loc;
                    return Err(p
                        .error(
                            start,
                            format!(
                                "closing tag `</{name}>` does not match `<{}>` opened at {}:{}",
                                frame.element.name, open.line, open.col
                            ),
                        )
                        .hint(format!(
                            "close `<{}>` first with `</{}>`",
                            frame.element.name, frame.element.name
                        )));
                }
                p.attach(frame.element, start)?;
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                p.push_text(&content, start);
            }
            Event::GeneralRef(r) => {
                let resolved = p.entity(&r, start)?;
                p.push_text(&resolved, start);
            }
            Event::CData(c) => {
                p.flush_text()?;
                let text = c.xml10_content().into_owned();
                let loc = p.pos.loc(start);
                match p.stack.last_mut() {
                    Some(frame) => frame.element.children.push(Node::Text(Text {
                        text,
                        loc,
                        is_cdata: true,
                        secret: false,
                    })),
                    None => {
                        return Err(p.error(start, "CDATA outside the root element"));
                    }
                }
            }
            Event::DocType(_) => {
                return Err(p
                    .error(
                        start,
                        "DOCTYPE declarations are not allowed in policy documents",
                    )
                    .hint(
                        "remove the `<!DOCTYPE …>`; only the predefined XML entities are supported",
                    ));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    p.flush_text()?;
    if let Some(frame) = p.stack.last() {
        let name = &frame.element.name;
        let open = frame.element.loc;
        return Err(PolicyError::new(
            &origin.file,
            open,
            format!("`<{name}>` is never closed (the document ends first)"),
        )
        .hint(format!("add `</{name}>` or write it as `<{name} … />`")));
    }
    match p.root.take() {
        Some(root) => Ok(root),
        None => Err(p
            .error(text.len(), "the document has no root element")
            .hint("a policy document is `<policies>…</policies>`")),
    }
}

impl Parser<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> PolicyError {
        let message = self.unmarked(message.into());
        PolicyError::new(&self.pos.origin.file, self.pos.loc(offset), message)
    }

    /// `s` with any characters `prescan` marked put back.
    fn unmarked(&self, s: String) -> String {
        if self.marked {
            unmark(s)
        } else {
            s
        }
    }

    fn element(&self, tag: &BytesStart<'_>, start: usize) -> Result<Element, PolicyError> {
        let name = tag.name().as_ref().to_owned();
        if name.is_empty() {
            return Err(self.error(start, "element without a name"));
        }
        let loc = self.pos.loc(start);
        // Offsets the attribute errors give are relative to the tag's content (after `<`).
        let tag_at = self.pos.offset_of(tag).unwrap_or(start);
        let mut attrs = Vec::new();
        for attr in tag.attributes() {
            let attr = match attr {
                Ok(attr) => attr,
                Err(e) => return Err(self.attr_error(&e, &name, tag_at)),
            };
            let key = attr.key.as_ref().to_owned();
            let key_at = self.pos.offset_of(attr.key.as_ref()).unwrap_or(start);
            let value = match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => v.into_owned(),
                Err(e) => {
                    let what = format!("attribute `{key}`");
                    let err = match &e {
                        XmlError::Escape(esc) => self.escape_error(esc, key_at, &what),
                        other => self.error(key_at, format!("{other} in {what}")),
                    };
                    return Err(err.policy(name.clone()));
                }
            };
            attrs.push(Attr {
                name: key,
                value: self.unmarked(value),
                loc: self.pos.loc(key_at),
                secret: false,
            });
        }
        Ok(Element {
            name,
            attrs,
            children: Vec::new(),
            loc,
        })
    }

    fn attach(&mut self, element: Element, start: usize) -> Result<(), PolicyError> {
        match self.stack.last_mut() {
            Some(frame) => {
                frame.element.children.push(Node::Element(element));
                Ok(())
            }
            None if self.root.is_some() => {
                let root = self
                    .root
                    .as_ref()
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                Err(self
                    .error(
                        start,
                        format!(
                            "a second root element `<{}>` after `<{root}>`",
                            element.name
                        ),
                    )
                    .hint(format!(
                        "a document has one root; move `<{}>` inside `<{root}>`",
                        element.name
                    )))
            }
            None => {
                self.root = Some(element);
                Ok(())
            }
        }
    }

    fn push_text(&mut self, text: &str, offset: usize) {
        match &mut self.pending {
            Some(p) => p.text.push_str(text),
            None => {
                self.pending = Some(Pending {
                    text: text.to_owned(),
                    offset,
                })
            }
        }
    }

    fn flush_text(&mut self) -> Result<(), PolicyError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let blank = pending.text.chars().all(char::is_whitespace);
        match self.stack.last_mut() {
            None if blank => Ok(()),
            None => {
                let first = pending.text.len() - pending.text.trim_start().len();
                Err(self
                    .error(pending.offset + first, "text outside the root element")
                    .hint("everything must sit inside `<policies>…</policies>`"))
            }
            Some(frame) if blank && !frame.keep_ws => Ok(()),
            Some(frame) => {
                let text = if self.marked {
                    unmark(pending.text)
                } else {
                    pending.text
                };
                frame.element.children.push(Node::Text(Text {
                    text,
                    loc: self.pos.loc(pending.offset),
                    is_cdata: false,
                    secret: false,
                }));
                Ok(())
            }
        }
    }

    fn entity(&self, r: &BytesRef<'_>, start: usize) -> Result<String, PolicyError> {
        match r.resolve_char_ref() {
            Ok(Some(c)) => return Ok(c.to_string()),
            Ok(None) => {}
            Err(_) => {
                return Err(self
                    .error(start, format!("invalid character reference `&{};`", &**r))
                    .hint("write `&#NNN;` (decimal) or `&#xHH;` (hex) of a valid character"))
            }
        }
        match resolve_xml_entity(r) {
            Some(s) => Ok(s.to_owned()),
            None => Err(self
                .error(start, format!("unknown entity `&{};`", &**r))
                .hint(ENTITY_HINT)),
        }
    }

    fn xml_error(&self, e: &XmlError, at: usize) -> PolicyError {
        let (message, hint): (String, Option<&str>) = match e {
            XmlError::Syntax(s) => (
                s.to_string(),
                match s {
                    SyntaxError::UnclosedTag => Some("close the tag with `>` or `/>`"),
                    SyntaxError::UnclosedComment => Some("close the comment with `-->`"),
                    SyntaxError::UnclosedCData => Some("close the CDATA section with `]]>`"),
                    SyntaxError::UnclosedDoubleQuotedAttributeValue
                    | SyntaxError::UnclosedSingleQuotedAttributeValue => {
                        Some("close the attribute value with the quote it opened with")
                    }
                    SyntaxError::InvalidBangMarkup => {
                        Some("`<!` must start a comment `<!--` or a CDATA section `<![CDATA[`")
                    }
                    _ => None,
                },
            ),
            XmlError::IllFormed(IllFormedError::UnclosedReference) => (
                "`&` starts an entity reference that is never closed with `;`".to_owned(),
                Some(ENTITY_HINT),
            ),
            XmlError::IllFormed(IllFormedError::DoubleHyphenInComment) => {
                ("`--` is not allowed inside a comment".to_owned(), None)
            }
            XmlError::IllFormed(other) => (other.to_string(), None),
            XmlError::InvalidAttr(a) => return self.attr_error(a, "", at),
            XmlError::Escape(esc) => return self.escape_error(esc, at, "text"),
            other => (other.to_string(), None),
        };
        let mut err = self.error(at, message);
        if let Some(h) = hint {
            err = err.hint(h);
        }
        err
    }

    fn attr_error(&self, e: &AttrError, element: &str, tag_at: usize) -> PolicyError {
        let (at, message, hint) = match e {
            AttrError::ExpectedEq(p) => (
                *p,
                "attribute name must be followed by `=`",
                "write `name=\"value\"`",
            ),
            AttrError::ExpectedValue(p) => (
                *p,
                "`=` must be followed by a quoted value",
                "write `name=\"value\"`",
            ),
            AttrError::UnquotedValue(p) => (
                *p,
                "attribute value must be quoted",
                "put the value in `\"…\"` or `'…'`",
            ),
            AttrError::ExpectedQuote(p, _) => (
                *p,
                "attribute value is never closed with its quote",
                "close the value with the quote it opened with",
            ),
            AttrError::Duplicated(p, _) => {
                (*p, "the same attribute is given twice", "keep one of them")
            }
        };
        let mut at = tag_at.saturating_add(at);
        if matches!(e, AttrError::ExpectedEq(_)) {
            at = self.name_start_before(at);
        }
        let mut err = self.error(at, message).hint(hint);
        if !element.is_empty() {
            err = err.policy(element);
        }
        err
    }

    /// For an attribute name missing its `=`: the start of the name that ends before
    /// `at` (quick-xml reports the position after it).
    fn name_start_before(&self, at: usize) -> usize {
        let bytes = self.pos.text.as_bytes();
        let mut i = at.min(bytes.len());
        while i > 0 && bytes[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        while i > 0
            && !bytes[i - 1].is_ascii_whitespace()
            && !matches!(bytes[i - 1], b'"' | b'\'' | b'<')
        {
            i -= 1;
        }
        i
    }

    fn escape_error(&self, e: &EscapeError, at: usize, what: &str) -> PolicyError {
        match e {
            EscapeError::UnrecognizedEntity(_, name) => self
                .error(at, format!("unknown entity `&{name};` in {what}"))
                .hint(ENTITY_HINT),
            EscapeError::UnterminatedEntity(_) => self
                .error(
                    at,
                    format!(
                        "`&` in {what} starts an entity reference that is never closed with `;`"
                    ),
                )
                .hint(ENTITY_HINT),
            other => self
                .error(at, format!("{other} in {what}"))
                .hint(ENTITY_HINT),
        }
    }
}

const ENTITY_HINT: &str = "only `&lt;` `&gt;` `&amp;` `&apos;` `&quot;` and `&#…;` are defined; \
write `&amp;` for a literal `&` (so `a && b` is `a &amp;&amp; b`), or wrap text in <![CDATA[…]]>";
