//! Policy expressions written the way APIM accepts them: without XML escaping.
//!
//! APIM takes `@(...)` / `@{...}` out of a policy document before it parses the XML, so
//! its documentation (and every policy copied from the portal) writes C# as C#:
//!
//! ```text
//! <when condition="@(context.Request.Headers.GetValueOrDefault("X-Mode","") == "mock")">
//! <set-body>@{ var b = context.Request.Body.As<JObject>(); return b.ToString(); }</set-body>
//! <when condition="@(a && b)">
//! ```
//!
//! None of that is XML. Before quick-xml sees the text, [`prescan`] finds every expression
//! that starts an attribute value (`="`, optional whitespace, `@(` or `@{`) or a run of
//! element text (after a tag, optional whitespace, `@(` or `@{`), follows it to its
//! balanced end with a small C# scanner (strings, verbatim and interpolated strings, char
//! literals, comments; entity references read as the character they stand for), and inside
//! it replaces the characters XML refuses — the attribute's own quote, `<`, and a `&` that
//! starts no entity reference — by private-use characters ([`MARKS`]), one character for
//! one character. Lines and character columns are therefore unchanged; [`unmark`] puts the
//! characters back in attribute values and text once the tree is built.
//!
//! Nothing changes unless something has to: a document that is already well-formed XML
//! (`&quot;`, `&lt;`, `&amp;&amp;`, or a `>` / `'` XML allows anyway) comes back borrowed,
//! byte for byte. An expression the scanner cannot close (unbalanced, a newline inside a
//! `"…"` literal, not followed by the attribute's closing quote or by markup) is left as
//! it is, so quick-xml reports the error it reports today.
//!
//! Not for expressions themselves: what the C# means is `expr`'s business; this only needs
//! to know where it ends.

use std::borrow::Cow;

use crate::expr::MAX_SOURCE_LEN;

/// The characters replaced inside expressions, each with its stand-in.
pub(crate) const MARKS: [(u8, char); 4] = [
    (b'"', '\u{E000}'),
    (b'\'', '\u{E001}'),
    (b'<', '\u{E002}'),
    (b'&', '\u{E003}'),
];

const FIRST_MARK: char = MARKS[0].1;
const LAST_MARK: char = MARKS[MARKS.len() - 1].1;

fn is_mark(c: char) -> bool {
    (FIRST_MARK..=LAST_MARK).contains(&c)
}

/// A stand-in character already in a document that needed marking: it would come out of
/// the tree as the character it stands for, so the document is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// Byte offset in the scanned text (of the character, or of its `&#…;` reference).
    pub offset: usize,
    pub ch: char,
}

/// The text to parse: `text` itself when nothing needs marking, otherwise a copy with the
/// unescaped characters of expressions replaced by their marks.
pub(crate) fn prescan(text: &str) -> Result<Cow<'_, str>, Conflict> {
    let marks = find_marks(text.as_bytes());
    if marks.is_empty() {
        return Ok(Cow::Borrowed(text));
    }
    if let Some(conflict) = find_conflict(text) {
        return Err(conflict);
    }
    let mut out = String::with_capacity(text.len() + 2 * marks.len());
    let mut last = 0;
    for at in marks {
        // Marks sit on ASCII bytes, so both slices end on character boundaries.
        out.push_str(text.get(last..at).unwrap_or_default());
        let b = text.as_bytes().get(at).copied().unwrap_or_default();
        if let Some(&(_, mark)) = MARKS.iter().find(|(c, _)| *c == b) {
            out.push(mark);
        }
        last = at + 1;
    }
    out.push_str(text.get(last..).unwrap_or_default());
    Ok(Cow::Owned(out))
}

/// Puts the marked characters back.
pub(crate) fn unmark(s: String) -> String {
    if !s.chars().any(is_mark) {
        return s;
    }
    s.chars()
        .map(|c| match MARKS.iter().find(|(_, m)| *m == c) {
            Some(&(b, _)) => char::from(b),
            None => c,
        })
        .collect()
}

/// The first stand-in character in `text`, written as itself or as a character reference.
fn find_conflict(text: &str) -> Option<Conflict> {
    let raw = text
        .char_indices()
        .find(|&(_, c)| is_mark(c))
        .map(|(offset, ch)| Conflict { offset, ch });
    let b = text.as_bytes();
    let reference = text.match_indices("&#").find_map(|(offset, _)| {
        let (c, _) = char_ref(b, offset)?;
        let ch = char::from_u32(c)?;
        is_mark(ch).then_some(Conflict { offset, ch })
    });
    match (raw, reference) {
        (Some(a), Some(r)) => Some(if a.offset < r.offset { a } else { r }),
        (a, r) => a.or(r),
    }
}

/// A `&#NNN;` / `&#xHH;` reference at `at`: its code point (saturated) and length.
fn char_ref(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let rest = b.get(at..)?.strip_prefix(b"&#")?;
    let (hex, digits) = match rest.first() {
        Some(b'x') => (true, &rest[1..]),
        _ => (false, rest),
    };
    let n = digits
        .iter()
        .take_while(|d| {
            if hex {
                d.is_ascii_hexdigit()
            } else {
                d.is_ascii_digit()
            }
        })
        .count();
    if n == 0 || digits.get(n) != Some(&b';') {
        return None;
    }
    let radix = if hex { 16 } else { 10 };
    let value = digits[..n].iter().fold(0u32, |v, d| {
        let d = char::from(*d).to_digit(radix).unwrap_or(0);
        v.saturating_mul(radix).saturating_add(d)
    });
    Some((value, 2 + usize::from(hex) + n + 1))
}

/// An entity reference XML resolves at `at` (`&` there): the character it stands for
/// (ASCII, or `NON_ASCII`) and its length.
fn entity(b: &[u8], at: usize) -> Option<(u8, usize)> {
    const NAMED: [(&[u8], u8); 5] = [
        (b"&quot;", b'"'),
        (b"&apos;", b'\''),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
        (b"&amp;", b'&'),
    ];
    let rest = b.get(at..)?;
    if let Some((name, c)) = NAMED.iter().find(|(name, _)| rest.starts_with(name)) {
        return Some((*c, name.len()));
    }
    let (value, len) = char_ref(b, at)?;
    let c = u8::try_from(value)
        .ok()
        .filter(u8::is_ascii)
        .unwrap_or(NON_ASCII);
    Some((c, len))
}

/// What the scanner reads for anything that is not ASCII: never structural.
const NON_ASCII: u8 = 0x80;

/// Where an expression sits: in an attribute quoted with this byte, or in element text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Attr(u8),
    Text,
}

/// Byte offsets (in order) of the characters to mark in `b`.
fn find_marks(b: &[u8]) -> Vec<usize> {
    let mut w = Walker {
        b,
        marks: Vec::new(),
        // Failed scans can overlap; past this much scanning in all, expressions are left
        // alone (quick-xml then reports them), so the pass stays linear in the document.
        budget: b.len().saturating_mul(8).saturating_add(1 << 20),
    };
    w.document();
    w.marks
}

struct Walker<'a> {
    b: &'a [u8],
    marks: Vec<usize>,
    budget: usize,
}

fn is_xml_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

impl Walker<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn starts(&self, i: usize, s: &[u8]) -> bool {
        self.b.get(i..).is_some_and(|r| r.starts_with(s))
    }

    fn skip_space(&self, mut i: usize) -> usize {
        while i < self.b.len() && is_xml_space(self.b[i]) {
            i += 1;
        }
        i
    }

    /// Whether `@(` / `@{` starts at `i`.
    fn expression_at(&self, i: usize) -> bool {
        self.at(i) == b'@' && matches!(self.at(i + 1), b'(' | b'{')
    }

    /// Markup the way quick-xml reads it; text after each piece of markup may start an
    /// expression.
    fn document(&mut self) {
        let n = self.b.len();
        let mut i = 0;
        while i < n {
            if self.b[i] != b'<' {
                i += 1;
                continue;
            }
            i = if self.starts(i, b"<!--") {
                find(self.b, i + 4, b"-->").map_or(n, |e| e + 3)
            } else if self.starts(i, b"<![CDATA[") {
                find(self.b, i + 9, b"]]>").map_or(n, |e| e + 3)
            } else if self.starts(i, b"<?") {
                find(self.b, i + 2, b"?>").map_or(n, |e| e + 2)
            } else if self.starts(i, b"<!") || self.starts(i, b"</") {
                find(self.b, i + 2, b">").map_or(n, |e| e + 1)
            } else {
                self.tag(i + 1)
            };
            i = self.text(i);
        }
    }

    /// Element text from `i`: an expression there is scanned and marked. Returns where
    /// to go on.
    fn text(&mut self, i: usize) -> usize {
        let start = self.skip_space(i);
        if !self.expression_at(start) {
            return i;
        }
        match self.expression(start + 1, Place::Text) {
            // The expression is the whole text: markup follows.
            Some(end) if self.at(self.skip_space(end)) == b'<' => end,
            Some(_) => {
                self.unmark_from(start);
                i
            }
            None => i,
        }
    }

    /// A start tag from `i` (after its `<`) to after its `>`, quotes respected as
    /// quick-xml does; expression attribute values are scanned and marked.
    fn tag(&mut self, mut i: usize) -> usize {
        let n = self.b.len();
        while i < n {
            let c = self.b[i];
            match c {
                b'>' => return i + 1,
                b'"' | b'\'' => {
                    let value = i + 1;
                    let after_eq = {
                        let mut j = i;
                        while j > 0 && is_xml_space(self.b[j - 1]) {
                            j -= 1;
                        }
                        j > 0 && self.b[j - 1] == b'='
                    };
                    let start = self.skip_space(value);
                    if after_eq && self.expression_at(start) {
                        if let Some(end) = self.expression(start + 1, Place::Attr(c)) {
                            let close = self.skip_space(end);
                            if self.at(close) == c {
                                i = close + 1;
                                continue;
                            }
                            self.unmark_from(start);
                        }
                    }
                    i = self.b[value..]
                        .iter()
                        .position(|&q| q == c)
                        .map_or(n, |p| value + p + 1);
                }
                _ => i += 1,
            }
        }
        n
    }

    /// Forgets marks at or after `from` (an expression that turned out not to be one).
    fn unmark_from(&mut self, from: usize) {
        let keep = self.marks.partition_point(|&m| m < from);
        self.marks.truncate(keep);
    }

    /// Scans the C# expression whose `(` / `{` is at `open`; on success returns the
    /// offset after its closing bracket, with the characters to mark recorded. On failure
    /// nothing is recorded.
    fn expression(&mut self, open: usize, place: Place) -> Option<usize> {
        if self.budget == 0 {
            return None;
        }
        let before = self.marks.len();
        let mut scan = Scan {
            b: self.b,
            place,
            marks: &mut self.marks,
            limit: open.saturating_add(MAX_SOURCE_LEN.saturating_mul(2)),
            steps: 0,
        };
        let end = scan.run(open);
        self.budget = self.budget.saturating_sub(scan.steps);
        if end.is_none() || self.budget == 0 {
            self.marks.truncate(before);
            return None;
        }
        end
    }
}

/// One open construct of the C# being scanned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `(`, `[` or `{` of code, waiting for this closer.
    Group(u8),
    /// The text of an interpolated string.
    Interp { verbatim: bool },
    /// A `{…}` hole of an interpolated string (code until its `}`).
    Hole,
}

struct Scan<'a, 'm> {
    b: &'a [u8],
    place: Place,
    marks: &'m mut Vec<usize>,
    /// Expressions longer than this are not looked for further (`expr` refuses them).
    limit: usize,
    steps: usize,
}

impl Scan<'_, '_> {
    /// The character at `i` as C# sees it (an entity reference read as its character) and
    /// how many bytes it takes; `None` at the end.
    fn peek(&self, i: usize) -> Option<(u8, usize)> {
        if i >= self.b.len() || i >= self.limit {
            return None;
        }
        match self.b[i] {
            b'&' => Some(entity(self.b, i).unwrap_or((b'&', 1))),
            c if c.is_ascii() => Some((c, 1)),
            _ => Some((NON_ASCII, 1)),
        }
    }

    /// As `peek`, moving past it: a raw character XML refuses here is recorded for
    /// marking.
    fn take(&mut self, i: usize) -> Option<(u8, usize)> {
        let (c, len) = self.peek(i)?;
        self.steps += 1;
        let raw = self.b[i];
        let refused = match raw {
            b'<' => true,
            b'&' => entity(self.b, i).is_none(),
            b'"' | b'\'' => self.place == Place::Attr(raw),
            _ => false,
        };
        if refused {
            self.marks.push(i);
        }
        Some((c, len))
    }

    fn peek_char(&self, i: usize) -> u8 {
        self.peek(i).map_or(0, |(c, _)| c)
    }

    fn run(&mut self, open: usize) -> Option<usize> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut i = open;
        let (c, len) = self.take(i)?;
        stack.push(Frame::Group(if c == b'(' { b')' } else { b'}' }));
        i += len;
        loop {
            let top = *stack.last()?;
            if let Frame::Interp { verbatim } = top {
                i = self.interpolated_text(i, verbatim, &mut stack)?;
                continue;
            }
            let (c, len) = self.take(i)?;
            let next = i + len;
            i = match c {
                b'(' | b'[' | b'{' => {
                    stack.push(Frame::Group(match c {
                        b'(' => b')',
                        b'[' => b']',
                        _ => b'}',
                    }));
                    next
                }
                b')' | b']' | b'}' => {
                    match top {
                        Frame::Group(close) if close == c => {
                            stack.pop();
                        }
                        Frame::Hole if c == b'}' => {
                            stack.pop();
                        }
                        // Unbalanced: not C#, leave it to the XML and expression errors.
                        _ => return None,
                    }
                    if stack.is_empty() {
                        return Some(next);
                    }
                    next
                }
                // A format after `:` at a hole's top level runs to the hole's `}`.
                b':' if top == Frame::Hole => self.until(next, b'}')?,
                b'"' => self.regular_string(next)?,
                b'\'' => self.char_literal(next)?,
                b'@' if self.peek_char(next) == b'"' => {
                    let (_, l) = self.take(next)?;
                    self.verbatim_string(next + l)?
                }
                b'$' | b'@' => {
                    let (a, la) = self.peek(next).unwrap_or((0, 0));
                    let (b2, lb) = self.peek(next + la).unwrap_or((0, 0));
                    match (c, a, b2) {
                        (b'$', b'"', _) => {
                            self.take(next)?;
                            stack.push(Frame::Interp { verbatim: false });
                            next + la
                        }
                        (b'$', b'@', b'"') | (b'@', b'$', b'"') => {
                            self.take(next)?;
                            self.take(next + la)?;
                            stack.push(Frame::Interp { verbatim: true });
                            next + la + lb
                        }
                        _ => next,
                    }
                }
                b'/' if self.peek_char(next) == b'/' => self.line_comment(next)?,
                b'/' if self.peek_char(next) == b'*' => self.block_comment(next)?,
                _ => next,
            };
        }
    }

    /// Up to (not past) the next `stop`.
    fn until(&mut self, mut i: usize, stop: u8) -> Option<usize> {
        loop {
            let (c, len) = self.peek(i)?;
            if c == stop {
                return Some(i);
            }
            self.take(i)?;
            i += len;
        }
    }

    /// A `"…"` literal from after its `"`; returns the offset after its closing `"`.
    fn regular_string(&mut self, mut i: usize) -> Option<usize> {
        loop {
            let (c, len) = self.take(i)?;
            i += len;
            match c {
                b'"' => return Some(i),
                b'\\' => {
                    let (e, l) = self.take(i)?;
                    if matches!(e, b'\n' | b'\r') {
                        return None;
                    }
                    i += l;
                }
                // C# has no newline in a regular literal; an unbalanced `"` stops here.
                b'\n' | b'\r' => return None,
                _ => {}
            }
        }
    }

    /// A `@"…"` literal from after its `"` (`""` is a quote; newlines allowed).
    fn verbatim_string(&mut self, mut i: usize) -> Option<usize> {
        loop {
            let (c, len) = self.take(i)?;
            i += len;
            if c == b'"' {
                if self.peek_char(i) != b'"' {
                    return Some(i);
                }
                let (_, l) = self.take(i)?;
                i += l;
            }
        }
    }

    /// A `'x'` literal from after its `'`.
    fn char_literal(&mut self, mut i: usize) -> Option<usize> {
        // The longest is `'\U0001F600'`: ten characters before the closing quote.
        for _ in 0..11 {
            let (c, len) = self.take(i)?;
            i += len;
            match c {
                b'\'' => return Some(i),
                b'\\' => {
                    let (_, l) = self.take(i)?;
                    i += l;
                }
                b'\n' | b'\r' => return None,
                _ => {}
            }
        }
        None
    }

    /// A `//` comment from its second `/`, to (not past) the end of the line.
    fn line_comment(&mut self, mut i: usize) -> Option<usize> {
        loop {
            let Some((c, len)) = self.peek(i) else {
                return Some(i);
            };
            if matches!(c, b'\n' | b'\r') {
                return Some(i);
            }
            self.take(i)?;
            i += len;
        }
    }

    /// A `/*` comment from its `*`, past its `*/`.
    fn block_comment(&mut self, mut i: usize) -> Option<usize> {
        let (_, len) = self.take(i)?;
        i += len;
        loop {
            let (c, len) = self.take(i)?;
            i += len;
            if c == b'*' && self.peek_char(i) == b'/' {
                let (_, l) = self.take(i)?;
                return Some(i + l);
            }
        }
    }

    /// The text of an interpolated string, up to a hole (pushed) or its end (popped).
    fn interpolated_text(
        &mut self,
        mut i: usize,
        verbatim: bool,
        stack: &mut Vec<Frame>,
    ) -> Option<usize> {
        loop {
            let (c, len) = self.take(i)?;
            i += len;
            match c {
                b'{' | b'}' if self.peek_char(i) == c => {
                    let (_, l) = self.take(i)?;
                    i += l;
                }
                b'{' => {
                    stack.push(Frame::Hole);
                    return Some(i);
                }
                b'}' => return None,
                b'"' if verbatim && self.peek_char(i) == b'"' => {
                    let (_, l) = self.take(i)?;
                    i += l;
                }
                b'"' => {
                    stack.pop();
                    return Some(i);
                }
                b'\\' if !verbatim => {
                    let (_, l) = self.take(i)?;
                    i += l;
                }
                b'\n' | b'\r' if !verbatim => return None,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::parse::parse_tree;
    use super::super::tree::{Element, Node, Origin};
    use super::super::{catalog, merge, Scopes};
    use super::*;

    /// The original characters `prescan` marks in `text`, in order.
    fn marked(text: &str) -> String {
        find_marks(text.as_bytes())
            .into_iter()
            .map(|i| char::from(text.as_bytes()[i]))
            .collect()
    }

    /// `text` after `prescan` has the same characters, lines and columns.
    fn same_shape(text: &str) {
        let out = prescan(text).unwrap();
        assert_eq!(out.chars().count(), text.chars().count(), "{text}");
        for (a, b) in text.chars().zip(out.chars()) {
            assert!(a == b || is_mark(b), "{a:?} became {b:?} in {text}");
            assert_eq!(a == '\n', b == '\n');
        }
        assert_eq!(unmark(out.into_owned()), text);
    }

    fn tree(text: &str) -> Element {
        same_shape(text);
        parse_tree(text, &Origin::file("t.xml"), catalog::keeps_whitespace)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn find<'e>(e: &'e Element, name: &str) -> Option<&'e Element> {
        if e.name == name {
            return Some(e);
        }
        e.elements().find_map(|c| find(c, name))
    }

    fn attr(text: &str, element: &str, name: &str) -> String {
        let root = tree(text);
        let e = find(&root, element).unwrap_or_else(|| panic!("no <{element}>"));
        e.attr_value(name).unwrap().to_owned()
    }

    fn text_of(text: &str, element: &str) -> String {
        let root = tree(text);
        find(&root, element).unwrap().text()
    }

    /// The expression in `condition="…"` (or `value="…"`) reads back as written.
    fn attr_roundtrip(expr: &str) {
        for (q, name) in [('"', "condition"), ('\'', "condition")] {
            if q == '\'' && expr.contains('"') {
                continue;
            }
            let doc = format!("<when {name}={q}{expr}{q}><x/></when>");
            assert_eq!(attr(&doc, "when", name), expr, "{doc}");
        }
    }

    fn text_roundtrip(expr: &str) {
        let doc = format!("<set-body>{expr}</set-body>");
        assert_eq!(text_of(&doc, "set-body"), expr, "{doc}");
    }

    #[test]
    fn the_brief_snippets() {
        attr_roundtrip(r#"@(context.Request.Headers.GetValueOrDefault("X-Mode","") == "mock")"#);
        assert_eq!(
            attr(
                r#"<set-variable name="x" value="@(context.Variables.GetValueOrDefault<string>("a", "b"))" />"#,
                "set-variable",
                "value"
            ),
            r#"@(context.Variables.GetValueOrDefault<string>("a", "b"))"#
        );
        text_roundtrip(
            "@{ var body = context.Request.Body.As<JObject>(preserveContent: true); return body.ToString(); }",
        );
        assert_eq!(
            text_of(
                r#"<value>@(context.Response.StatusCode < 400 ? "ok" : "bad")</value>"#,
                "value"
            ),
            r#"@(context.Response.StatusCode < 400 ? "ok" : "bad")"#
        );
        assert_eq!(
            text_of(
                r#"<set-header name="X"><value>@(string.Join(",", new[] {"a", "b"}))</value></set-header>"#,
                "value"
            ),
            r#"@(string.Join(",", new[] {"a", "b"}))"#
        );
    }

    #[test]
    fn only_what_xml_refuses_is_marked() {
        assert_eq!(marked(r#"<w c="@(a("x") > 'y')"/>"#), "\"\"");
        assert_eq!(marked(r#"<w c='@(a("x") == 'y')'/>"#), "''");
        assert_eq!(marked("<v>@(a < b && c > \"d\")</v>"), "<&&");
        // The attribute's closing quote is not part of the expression.
        assert_eq!(marked(r#"<w c="@(f("a"))" d="x"/>"#), "\"\"");
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        attr_roundtrip(r#"@(string.Format("({0}]", "}") + ")" + "{")"#);
        text_roundtrip(r#"@{ return "}))" + "{{"; }"#);
        attr_roundtrip(r#"@("a\"b(" + "\\")"#);
    }

    #[test]
    fn interpolated_strings() {
        attr_roundtrip(
            r#"@($"{context.Request.Headers.GetValueOrDefault("X-A", "(")}-{(1 > 0 ? "}" : "{")}")"#,
        );
        attr_roundtrip(r#"@($"{{literal}} {context.Request.Method} \" {1:D3}")"#);
        attr_roundtrip(r#"@($@"a""b{context.Request.Method}""")"#);
        attr_roundtrip(r#"@(@$"{$"{"n"}"}")"#);
        text_roundtrip(
            "@{\n    var s = $@\"line\n{context.Request.Method}\n\"\"x\"\"\";\n    return s;\n}",
        );
    }

    #[test]
    fn verbatim_strings_and_char_literals() {
        attr_roundtrip(r#"@(@"C:\dir\" + @"say ""hi"")" + "x")"#);
        attr_roundtrip(r#"@(context.Request.Url.Path.Trim('"').Split('/', '(')[0])"#);
        attr_roundtrip(r#"@("a".IndexOf('\'') < 0 && "b" != "\"")"#);
        text_roundtrip(r#"@(new string('<', 2) + '\u0041' + '\\')"#);
    }

    #[test]
    fn escaped_documents_are_untouched() {
        for doc in [
            r#"<when condition="@(context.Request.Headers.GetValueOrDefault(&quot;X-Mode&quot;,&quot;&quot;) == &quot;mock&quot;)"/>"#,
            r#"<set-variable name="x" value="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;a&quot;))" />"#,
            "<v>@(a &lt; b &amp;&amp; c &gt; d &#65; &#x42;)</v>",
            r#"<v>@(a > b ? "x" : 'y')</v>"#,
            r#"<w c="@(x.Where(i => i > 'a'))"/>"#,
            "<v>@(&quot;)&quot; + &quot;(&quot;)</v>",
            "<v><![CDATA[@(a < b && c)]]></v>",
            "<!-- @(\"x\" < y) --><v/>",
        ] {
            assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))), "{doc}");
        }
    }

    #[test]
    fn raw_and_escaped_ampersands() {
        text_roundtrip("@(true && false || 1 & 2 == 0)");
        assert_eq!(
            text_of("<v>@(true &amp;&amp; x && y)</v>", "v"),
            "@(true && x && y)"
        );
        attr_roundtrip(r#"@(a && "&nbsp;" != "&" && b)"#);
        // A well-formed reference is XML's: decoded, not marked.
        assert_eq!(
            attr(r#"<w c="@(&quot;a&quot; + "&lt;" && x)"/>"#, "w", "c"),
            r#"@("a" + "<" && x)"#
        );
        assert_eq!(
            marked(r#"<w c="@(&quot;a&quot; + "&lt;" && x)"/>"#),
            "\"\"&&"
        );
    }

    #[test]
    fn generics_and_comparisons() {
        text_roundtrip(
            "@(context.Request.Body.As<JObject>(preserveContent: true)[\"a\"].Value<string>())",
        );
        attr_roundtrip(
            "@(context.Variables.GetValueOrDefault<Dictionary<string, List<int>>>(\"m\") != null)",
        );
        text_roundtrip(
            "@(context.Response.StatusCode >= 200 && context.Response.StatusCode <= 299)",
        );
        text_roundtrip("@(x<y)");
        text_roundtrip("@(a[b[0]]>1 && c[d[1]]> 2)");
        attr_roundtrip("@(x.Select(i => i < 3).Count() > 1)");
    }

    #[test]
    fn multi_line_blocks_with_comments() {
        let block = "@{\n    // don't \"quote\" me <here> {\n    var b = context.Request.Body.As<JObject>(true); /* a ) b ' */\n    if (b[\"n\"] == null && true) {\n        return \"none\";\n    }\n    return b.ToString();\n}";
        text_roundtrip(block);
        let doc = format!(
            "<policies>\n  <inbound>\n    <set-body>{block}</set-body>\n  </inbound>\n</policies>"
        );
        let root = tree(&doc);
        let body = find(&root, "set-body").unwrap();
        assert_eq!(body.text(), block);
        match &body.children[0] {
            Node::Text(t) => assert_eq!((t.loc.line, t.loc.col), (3, 15)),
            Node::Element(_) => panic!("text expected"),
        }
        // An element after a marked block is where the file has it.
        let doc = format!("<p><set-body>{block}</set-body>\n<after a=\"1\"/></p>");
        let root = tree(&doc);
        let after = find(&root, "after").unwrap();
        assert_eq!((after.loc.line, after.loc.col), (9, 1));
    }

    #[test]
    fn leading_and_trailing_whitespace() {
        text_roundtrip("\n   @(a < b)\n  ");
        assert_eq!(
            attr(r#"<w c="  @(f("x"))  "/>"#, "w", "c"),
            r#"  @(f("x"))  "#
        );
    }

    #[test]
    fn not_an_expression_is_left_alone() {
        for doc in [
            // Unterminated: quick-xml reports what it reports today.
            r#"<w c="@(f("x")"/>"#,
            "<v>@(a < b</v>",
            "<v>@{ return \"x; }</v>",
            r#"<w c="@(f("a
b"))"/>"#,
            // Mismatched brackets.
            r#"<w c="@(f("x"])"/>"#,
            // Something after the expression: not the whole value.
            r#"<w c="@(f("x")) + 1"/>"#,
            "<v>@(a < b) tail</v>",
            // Not at the start of the value / text.
            r#"<w c="x @(f("x"))"/>"#,
            "<v>x @(a < b)</v>",
            // Not an attribute value.
            r#"<w "@(f("x"))"/>"#,
            "<v>@ (a < b)</v>",
        ] {
            assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))), "{doc}");
        }
    }

    #[test]
    fn unterminated_keeps_todays_error() {
        let origin = Origin::file("t.xml");
        for (doc, at, message) in [
            (
                r#"<policies><w c="@(f("x")"/></policies>"#,
                26,
                "attribute name must be followed by `=`",
            ),
            (
                "<policies><v>@(a.As<JObject>(</v></policies>",
                30,
                "does not match `<JObject>`",
            ),
        ] {
            // The text goes to quick-xml as it is, so the error is today's.
            assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))));
            let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
            assert_eq!((e.line, e.col), (1, at), "{e}");
            assert!(e.message.contains(message), "{e}");
        }
    }

    #[test]
    fn bare_ampersand_outside_an_expression_is_still_an_error() {
        let origin = Origin::file("t.xml");
        let doc = "<policies>\n  <inbound>\n    <set-body>true && false</set-body>\n  </inbound>\n</policies>";
        assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))));
        let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
        assert_eq!((e.line, e.col), (3, 20), "{e}");
        assert!(e.message.contains("never closed with `;`"), "{e}");
        // In an expression it is C#.
        let doc = "<policies>\n  <inbound>\n    <set-body>@(true && false)</set-body>\n  </inbound>\n</policies>";
        assert_eq!(text_of(doc, "set-body"), "@(true && false)");
    }

    #[test]
    fn private_use_characters_are_refused_when_marking() {
        let origin = Origin::file("t.xml");
        // Marking needed and U+E000 present (raw or as a reference): refused, located.
        for (doc, col) in [
            ("<p><v>\u{E000}</v><w c=\"@(f(\"x\"))\"/></p>", 7),
            ("<p><w c=\"@(f(\"x\"))\"/><v>a&#xE001;</v></p>", 26),
            ("<p><w c=\"@(f(\"x\"))\"/><v>&#57347;</v></p>", 25),
        ] {
            let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
            assert_eq!((e.line, e.col), (1, col), "{e}");
            assert!(e.message.contains("private use"), "{e}");
            assert!(e.hint.as_deref().unwrap_or("").contains("&quot;"), "{e}");
        }
        // Without unescaped expressions the document is XML and read as before.
        let doc = "<p><v>\u{E000}&#xE001;</v><w c=\"@(f(&quot;x&quot;))\"/></p>";
        let root = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap();
        assert_eq!(find(&root, "v").unwrap().text(), "\u{E000}\u{E001}");
        // Other private-use characters are not ours.
        let doc = "<p><v>\u{E004}\u{F8FF}</v><w c=\"@(f(\"x\"))\"/></p>";
        let root = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap();
        assert_eq!(find(&root, "v").unwrap().text(), "\u{E004}\u{F8FF}");
    }

    #[test]
    fn error_positions_after_marked_text_are_the_files() {
        let origin = Origin::file("t.xml");
        let doc = "<policies>\n  <w c=\"@(f(\"é€\") && g<int>())\"/><v>@(a < b)</v>\n  </nope>\n</policies>";
        same_shape(doc);
        let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
        assert_eq!((e.line, e.col), (3, 3), "{e}");
        // The same document escaped reports the same place.
        let escaped = "<policies>\n  <w c=\"@(f(&quot;é€&quot;) &amp;&amp; g&lt;int>())\"/><v>@(a &lt; b)</v>\n  </nope>\n</policies>";
        let e2 = parse_tree(escaped, &origin, catalog::keeps_whitespace).unwrap_err();
        assert_eq!((e2.line, e2.message.as_str()), (3, e.message.as_str()));
        // Attribute positions on a line after marks are the file's.
        let doc = "<p><w c=\"@(f(\"x\"))\"/><q\n a=\"@(\"é\" + 'x')\" b=\"1\"/></p>";
        let root = tree(doc);
        let q = find(&root, "q").unwrap();
        assert_eq!((q.loc.line, q.loc.col), (1, 22));
        let b = q.attr("b").unwrap();
        assert_eq!((b.loc.line, b.loc.col), (2, 19));
    }

    #[test]
    fn no_panics_on_fragments() {
        // Every prefix and a few splices of marked snippets: no panic, same shape.
        let pieces = [
            r#"<w c="@($"{f("x")}{{}}" + @"""" + '\'' + "\\" /* x */)"/>"#,
            "<v>@{\n// c\nreturn a<b && c[\"}\"];\n}</v>",
            "<v>@(&quot;&#x28;&amp;&#0;&unknown;&)</v>",
            "<w c='@($@\"{'}'}\" + '\"')'/>",
        ];
        for p in pieces {
            for end in (0..=p.len()).filter(|&e| p.is_char_boundary(e)) {
                let s = &p[..end];
                if let Ok(out) = prescan(s) {
                    assert_eq!(out.chars().count(), s.chars().count());
                    let _ = parse_tree(s, &Origin::file("t"), catalog::keeps_whitespace);
                }
                for q in pieces {
                    let spliced = format!("{s}{q}{s}");
                    let _ = prescan(&spliced);
                }
            }
        }
    }

    #[test]
    fn scanning_stays_linear() {
        // Thousands of unclosed expressions: each scan fails, the total is bounded.
        let doc = "<a b=\"@((((\" c='@{{{'>".repeat(20_000);
        let t = std::time::Instant::now();
        let _ = prescan(&doc);
        assert!(t.elapsed().as_secs() < 20);
    }

    /// Through the whole front end and the compiler: load, merge, compile.
    fn compiles(policy: &str) {
        let doc = crate::build::load_document(policy, &Origin::file("api.xml"), &BTreeMap::new())
            .unwrap_or_else(|e| panic!("{}\n{policy}", e[0]));
        let fragments = BTreeMap::new();
        let scopes = Scopes {
            global: None,
            product: None,
            api: Some(&doc),
            operation: None,
            fragments: &fragments,
        };
        merge(&scopes).unwrap_or_else(|e| panic!("{}", e[0]));
        crate::build::build_program(&scopes).unwrap_or_else(|e| panic!("{}\n{policy}", e[0]));
    }

    #[test]
    fn documents_from_apim_load_and_compile() {
        compiles(
            r#"<policies>
  <inbound>
    <base />
    <set-variable name="a" value="@(context.Request.Headers.GetValueOrDefault("X-A", "x"))" />
    <set-variable name="x" value="@(context.Variables.GetValueOrDefault<string>("a", "b"))" />
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault("X-Mode","") == "mock" && context.Request.Method != "POST")">
        <return-response>
          <set-status code="200" reason="OK" />
          <set-header name="X"><value>@(string.Join(",", new[] {"a", "b"}))</value></set-header>
          <set-body>@{
              // mock: echo the variable back
              var v = context.Variables.GetValueOrDefault<string>("x", "none");
              return new JObject(new JProperty("x", v)).ToString();
          }</set-body>
        </return-response>
      </when>
    </choose>
    <set-body>@{ var body = context.Request.Body.As<JObject>(preserveContent: true); return body.ToString(); }</set-body>
  </inbound>
  <backend><base /></backend>
  <outbound>
    <base />
    <set-header name="X-Status" exists-action="override">
      <value>@(context.Response.StatusCode < 400 ? "ok" : "bad")</value>
    </set-header>
  </outbound>
</policies>"#,
        );
    }

    #[test]
    fn expression_errors_point_into_the_file() {
        // The `)` the expression parser trips on is at 2:47. Unescaped, every character
        // of the value is one in the file, so the compiler's column is exact.
        let policy = "<policies><inbound>\n<set-variable name=\"x\" value='@(\"a\" + 1 < 2 + )'/></inbound></policies>";
        let doc = crate::build::load_document(policy, &Origin::file("api.xml"), &BTreeMap::new())
            .unwrap();
        let fragments = BTreeMap::new();
        let scopes = Scopes {
            global: None,
            product: None,
            api: Some(&doc),
            operation: None,
            fragments: &fragments,
        };
        let e = crate::build::build_program(&scopes).unwrap_err();
        assert!(e[0].message.starts_with("expression:"), "{}", e[0]);
        assert_eq!((e[0].line, e[0].col), (2, 47), "{}", e[0]);
    }
}
