//! The C# scanner behind [`prescan`](super::prescan): follows an `@(...)` / `@{...}`
//! expression to its balanced end through strings (regular, verbatim `@"…"`, interpolated
//! `$"…"` / `$@"…"` with their `{…}` holes), char literals, `//` and `/* */` comments and
//! `()[]{}` brackets, reading entity references as the characters they stand for, and
//! records the raw characters XML refuses at the expression's place for marking.
//!
//! Not for what the C# means (that is `expr`'s business): only where it ends.

use crate::expr::MAX_SOURCE_LEN;

use super::{entity, Place, NON_ASCII};

/// Scans the C# expression whose `(` / `{` is at `open`, in `place`: the offset after its
/// closing bracket (`None` when it does not close), and how many characters were read.
/// The offsets of the characters to mark are pushed onto `marks`, also on failure.
pub(super) fn scan(
    b: &[u8],
    place: Place,
    marks: &mut Vec<usize>,
    open: usize,
) -> (Option<usize>, usize) {
    let mut scan = Scan {
        b,
        place,
        marks,
        limit: open.saturating_add(MAX_SOURCE_LEN.saturating_mul(2)),
        steps: 0,
    };
    let end = scan.run(open);
    (end, scan.steps)
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
