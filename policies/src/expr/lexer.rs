//! Tokenizer for the C# subset: identifiers, numeric/char/string literals (regular,
//! `@"verbatim"`, `$"interpolated {x,align:format}"`), and punctuation. Offsets are byte
//! offsets into the whole expression source (interpolation holes are re-lexed in place).

use super::error::ExprError;

/// One part of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum IPart {
    Text(String),
    /// Hole source range (absolute byte offsets), alignment, format.
    Hole {
        start: usize,
        end: usize,
        align: Option<i32>,
        format: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tk {
    Ident(String),
    /// Value and whether it had an `L` suffix.
    Int(u64, bool),
    Double(f64),
    Str(String),
    Char(char),
    Interp(Vec<IPart>),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tk,
    pub pos: usize,
}

const PUNCTS: &[&str] = &[
    "??=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "?[", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "::", "(", ")", "{", "}", "[", "]", ".", ",", ";", ":",
    "?", "+", "-", "*", "/", "%", "!", "~", "<", ">", "=", "&", "|", "^",
];

/// Max tokens per expression (a load-time limit).
pub const MAX_TOKENS: usize = 20_000;

/// Lexes `src[start..end]`; token positions are absolute.
pub fn lex(full: &str, start: usize, end: usize) -> Result<Vec<Token>, ExprError> {
    let mut lx = Lexer {
        s: full,
        b: full.as_bytes(),
        i: start,
        end,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'s> {
    s: &'s str,
    b: &'s [u8],
    i: usize,
    end: usize,
    out: Vec<Token>,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        let j = self.i + k;
        if j < self.end {
            Some(self.b[j])
        } else {
            None
        }
    }

    fn ch(&self) -> Option<char> {
        if self.i < self.end {
            self.s.get(self.i..self.end).and_then(|r| r.chars().next())
        } else {
            None
        }
    }

    fn push(&mut self, kind: Tk, pos: usize) -> Result<(), ExprError> {
        if self.out.len() >= MAX_TOKENS {
            return Err(ExprError::new(pos, "expression is too long"));
        }
        self.out.push(Token { kind, pos });
        Ok(())
    }

    fn run(&mut self) -> Result<(), ExprError> {
        while let Some(c) = self.ch() {
            let pos = self.i;
            if c.is_whitespace() {
                self.i += c.len_utf8();
                continue;
            }
            if c == '/' && self.peek(1) == Some(b'/') {
                while let Some(c) = self.ch() {
                    if c == '\n' {
                        break;
                    }
                    self.i += c.len_utf8();
                }
                continue;
            }
            if c == '/' && self.peek(1) == Some(b'*') {
                let rest = &self.s[self.i + 2..self.end];
                let close = rest
                    .find("*/")
                    .ok_or_else(|| ExprError::new(pos, "unterminated comment"))?;
                self.i += 2 + close + 2;
                continue;
            }
            let interp = match (c, self.peek(1), self.peek(2)) {
                ('$', Some(b'"'), _) => Some((false, 2)),
                ('$', Some(b'@'), Some(b'"')) | ('@', Some(b'$'), Some(b'"')) => Some((true, 3)),
                _ => None,
            };
            if let Some((verbatim, skip)) = interp {
                self.i += skip;
                let parts = self.interpolated(pos, verbatim)?;
                self.push(Tk::Interp(parts), pos)?;
                continue;
            }
            if c == '@' && self.peek(1) == Some(b'"') {
                self.i += 2;
                let s = self.verbatim(pos)?;
                self.push(Tk::Str(s), pos)?;
                continue;
            }
            if c == '@' && self.ch_at(1).is_some_and(is_ident_start) {
                self.i += 1;
                let id = self.ident();
                self.push(Tk::Ident(id), pos)?;
                continue;
            }
            if c == '"' {
                self.i += 1;
                let s = self.regular(pos)?;
                self.push(Tk::Str(s), pos)?;
                continue;
            }
            if c == '\'' {
                self.i += 1;
                let ch = match self.ch() {
                    Some('\\') => {
                        self.i += 1;
                        self.escape(pos)?
                    }
                    Some(ch) if ch != '\'' && ch != '\n' => {
                        self.i += ch.len_utf8();
                        ch
                    }
                    _ => return Err(ExprError::new(pos, "empty or invalid character literal")),
                };
                if self.ch() != Some('\'') {
                    return Err(ExprError::new(
                        pos,
                        "too many characters in character literal",
                    ));
                }
                self.i += 1;
                self.push(Tk::Char(ch), pos)?;
                continue;
            }
            if c.is_ascii_digit() || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit()))
            {
                let t = self.number(pos)?;
                self.push(t, pos)?;
                continue;
            }
            if is_ident_start(c) {
                let id = self.ident();
                self.push(Tk::Ident(id), pos)?;
                continue;
            }
            let rest = &self.s[self.i..self.end];
            let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) else {
                return Err(ExprError::new(pos, format!("unexpected character '{c}'")));
            };
            // `a ?.5 : b` is a conditional, not `?.`.
            if *p == "?." && self.peek(2).is_some_and(|d| d.is_ascii_digit()) {
                self.i += 1;
                self.push(Tk::Punct("?"), pos)?;
                continue;
            }
            self.i += p.len();
            self.push(Tk::Punct(p), pos)?;
        }
        self.push(Tk::Eof, self.end)
    }

    fn ch_at(&self, k: usize) -> Option<char> {
        self.s
            .get(self.i + k..self.end)
            .and_then(|r| r.chars().next())
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.ch() {
            if !is_ident_char(c) {
                break;
            }
            self.i += c.len_utf8();
        }
        self.s[start..self.i].to_string()
    }

    fn number(&mut self, pos: usize) -> Result<Tk, ExprError> {
        let bad = || ExprError::new(pos, "invalid numeric literal");
        if self.peek(0) == Some(b'0') && matches!(self.peek(1), Some(b'x' | b'X')) {
            self.i += 2;
            let start = self.i;
            while self
                .peek(0)
                .is_some_and(|c| c.is_ascii_hexdigit() || c == b'_')
            {
                self.i += 1;
            }
            let digits: String = self.s[start..self.i]
                .chars()
                .filter(|c| *c != '_')
                .collect();
            let v = u64::from_str_radix(&digits, 16).map_err(|_| bad())?;
            let long = self.int_suffix();
            return Ok(Tk::Int(v, long));
        }
        let start = self.i;
        let mut float = false;
        while let Some(c) = self.peek(0) {
            if c.is_ascii_digit() || c == b'_' {
                self.i += 1;
            } else if c == b'.' && !float && self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
                float = true;
                self.i += 1;
            } else if matches!(c, b'e' | b'E')
                && (self.peek(1).is_some_and(|d| d.is_ascii_digit())
                    || (matches!(self.peek(1), Some(b'+' | b'-'))
                        && self.peek(2).is_some_and(|d| d.is_ascii_digit())))
            {
                float = true;
                self.i += 2;
            } else {
                break;
            }
        }
        let text: String = self.s[start..self.i]
            .chars()
            .filter(|c| *c != '_')
            .collect();
        if let Some(b'd' | b'D' | b'f' | b'F' | b'm' | b'M') = self.peek(0) {
            self.i += 1;
            return text.parse::<f64>().map(Tk::Double).map_err(|_| bad());
        }
        if float {
            return text.parse::<f64>().map(Tk::Double).map_err(|_| bad());
        }
        let v = text
            .parse::<u64>()
            .map_err(|_| ExprError::new(pos, "integral constant is too large"))?;
        let long = self.int_suffix();
        Ok(Tk::Int(v, long))
    }

    fn int_suffix(&mut self) -> bool {
        let mut long = false;
        while let Some(c) = self.peek(0) {
            match c {
                b'l' | b'L' => long = true,
                b'u' | b'U' => {}
                _ => break,
            }
            self.i += 1;
        }
        long
    }

    fn escape(&mut self, pos: usize) -> Result<char, ExprError> {
        let bad = || ExprError::new(pos, "unrecognized escape sequence");
        let c = self.ch().ok_or_else(bad)?;
        self.i += c.len_utf8();
        Ok(match c {
            '\'' => '\'',
            '"' => '"',
            '\\' => '\\',
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            'u' | 'x' | 'U' => {
                let max = match c {
                    'u' => 4,
                    'U' => 8,
                    _ => 4,
                };
                let start = self.i;
                while self.i - start < max && self.peek(0).is_some_and(|d| d.is_ascii_hexdigit()) {
                    self.i += 1;
                }
                if (c != 'x' && self.i - start != max) || self.i == start {
                    return Err(bad());
                }
                let v = u32::from_str_radix(&self.s[start..self.i], 16).map_err(|_| bad())?;
                char::from_u32(v).unwrap_or('\u{FFFD}')
            }
            _ => return Err(bad()),
        })
    }

    fn regular(&mut self, pos: usize) -> Result<String, ExprError> {
        let mut out = String::new();
        loop {
            match self.ch() {
                None | Some('\n') => {
                    return Err(ExprError::new(
                        pos,
                        "newline in constant (unterminated string)",
                    ))
                }
                Some('"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.i += 1;
                    out.push(self.escape(pos)?);
                }
                Some(c) => {
                    self.i += c.len_utf8();
                    out.push(c);
                }
            }
        }
    }

    fn verbatim(&mut self, pos: usize) -> Result<String, ExprError> {
        let mut out = String::new();
        loop {
            match self.ch() {
                None => return Err(ExprError::new(pos, "unterminated verbatim string")),
                Some('"') if self.peek(1) == Some(b'"') => {
                    self.i += 2;
                    out.push('"');
                }
                Some('"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(c) => {
                    self.i += c.len_utf8();
                    out.push(c);
                }
            }
        }
    }

    fn interpolated(&mut self, pos: usize, verbatim: bool) -> Result<Vec<IPart>, ExprError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.ch() else {
                return Err(ExprError::new(pos, "unterminated interpolated string"));
            };
            match c {
                '"' if verbatim && self.peek(1) == Some(b'"') => {
                    self.i += 2;
                    text.push('"');
                }
                '"' => {
                    self.i += 1;
                    if !text.is_empty() {
                        parts.push(IPart::Text(text));
                    }
                    return Ok(parts);
                }
                '\\' if !verbatim => {
                    self.i += 1;
                    text.push(self.escape(pos)?);
                }
                '\n' if !verbatim => {
                    return Err(ExprError::new(pos, "newline in interpolated string"))
                }
                '{' if self.peek(1) == Some(b'{') => {
                    self.i += 2;
                    text.push('{');
                }
                '}' if self.peek(1) == Some(b'}') => {
                    self.i += 2;
                    text.push('}');
                }
                '}' => {
                    return Err(ExprError::new(
                        self.i,
                        "unexpected '}' in interpolated string (use '}}')",
                    ))
                }
                '{' => {
                    if !text.is_empty() {
                        parts.push(IPart::Text(std::mem::take(&mut text)));
                    }
                    self.i += 1;
                    parts.push(self.hole()?);
                }
                c => {
                    self.i += c.len_utf8();
                    text.push(c);
                }
            }
        }
    }

    /// Scans one `{expr[,align][:format]}` hole (after the `{`).
    fn hole(&mut self) -> Result<IPart, ExprError> {
        let start = self.i;
        let mut depth = 0i32;
        let mut expr_end = None;
        let mut align_start = None;
        loop {
            let Some(c) = self.ch() else {
                return Err(ExprError::new(start, "unterminated interpolation hole"));
            };
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' => depth -= 1,
                '}' if depth > 0 => depth -= 1,
                '}' | ':' if depth == 0 => break,
                ',' if depth == 0 && align_start.is_none() => {
                    expr_end = Some(self.i);
                    align_start = Some(self.i + 1);
                }
                '"' | '\'' => {
                    // Skip a nested literal.
                    self.i += 1;
                    while let Some(d) = self.ch() {
                        self.i += d.len_utf8();
                        if d == '\\' {
                            if let Some(e) = self.ch() {
                                self.i += e.len_utf8();
                            }
                        } else if d == c {
                            break;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            self.i += c.len_utf8();
        }
        let end = expr_end.unwrap_or(self.i);
        let align = match align_start {
            Some(a) => Some(
                self.s[a..self.i]
                    .trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|v| v.abs() <= 1000)
                    .ok_or_else(|| ExprError::new(a, "invalid alignment in interpolation hole"))?,
            ),
            None => None,
        };
        let mut format = None;
        if self.ch() == Some(':') {
            self.i += 1;
            let fs = self.i;
            while let Some(c) = self.ch() {
                if c == '}' {
                    break;
                }
                self.i += c.len_utf8();
            }
            format = Some(self.s[fs..self.i].to_string());
        }
        if self.ch() != Some('}') {
            return Err(ExprError::new(start, "unterminated interpolation hole"));
        }
        self.i += 1;
        if self.s[start..end].trim().is_empty() {
            return Err(ExprError::new(start, "empty interpolation hole"));
        }
        Ok(IPart::Hole {
            start,
            end,
            align,
            format,
        })
    }
}
