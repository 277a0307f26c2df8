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
//! balanced end with a small C# scanner (`csharp`: strings, verbatim and interpolated
//! strings, char literals, comments; entity references read as the character they stand
//! for), and inside it replaces the characters XML refuses — the attribute's own quote,
//! `<`, and a `&` that starts no entity reference — by private-use characters ([`MARKS`]),
//! one character for one character. Lines and character columns are therefore unchanged;
//! [`unmark`] puts the characters back in attribute values and text once the tree is
//! built.
//!
//! Nothing changes unless something has to: a document that is already well-formed XML
//! (`&quot;`, `&lt;`, `&amp;&amp;`, or a `>` / `'` XML allows anyway) comes back borrowed,
//! byte for byte. An expression the scanner cannot close (unbalanced, a newline inside a
//! `"…"` literal, not followed by the attribute's closing quote or by markup) is left as
//! it is, so quick-xml reports the error it reports today.
//!
//! Not for expressions themselves: what the C# means is `expr`'s business; this only needs
//! to know where it ends.
//!
//! This file walks the document (tags, attribute values, text runs) and makes the
//! replacements; `csharp` scans one expression; `tests` has the tests.

use std::borrow::Cow;

mod csharp;
#[cfg(test)]
mod tests;

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
        let (end, steps) = csharp::scan(self.b, place, &mut self.marks, open);
        self.budget = self.budget.saturating_sub(steps);
        if end.is_none() || self.budget == 0 {
            self.marks.truncate(before);
            return None;
        }
        end
    }
}
