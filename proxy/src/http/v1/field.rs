//! Shared HTTP/1.1 syntax: byte classes, spans, errors, the field-line
//! parser, and the framing-relevant header summary used by both head parsers.
//!
//! Everything here is allocation-free: results are offsets into the caller's
//! buffer, header spans go into a caller-provided, pre-reserved `Vec`.

use core::fmt;

/// A byte range `start..end` inside the buffer that was parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Callers only build spans inside a window clamped to u32::MAX bytes.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The bytes this span covers; empty if it does not fit `buf` (never panics).
    #[inline]
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize)
            .unwrap_or(&[])
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// One header field line: its name and its value with surrounding OWS trimmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderSpan {
    pub name: Span,
    pub value: Span,
}

impl HeaderSpan {
    /// Case-insensitive name comparison (no allocation).
    #[inline]
    pub fn is(&self, buf: &[u8], name: &str) -> bool {
        self.name.get(buf).eq_ignore_ascii_case(name.as_bytes())
    }
}

/// The value of the first header named `name` (case-insensitive), if any.
pub fn header_value<'a>(buf: &'a [u8], headers: &[HeaderSpan], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.is(buf, name))
        .map(|h| h.value.get(buf))
}

/// The non-empty elements of a comma-separated list value, OWS-trimmed
/// (e.g. the option names of a `Connection` field, for hop-by-hop removal).
pub fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|el| el.trim_ascii())
        .filter(|el| !el.is_empty())
}

/// Why a head could not be parsed (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// Need more bytes. Never returned once `buf.len() >= max_header_bytes`
    /// (then it is [`HeadError::HeaderTooLarge`]).
    Incomplete,
    /// Malformed or ambiguous message (→ 400; from a backend → 502).
    /// The string is a short reason for logs.
    BadRequest(&'static str),
    /// Head larger than `max_header_bytes` (→ 431).
    HeaderTooLarge,
    /// More than `max_headers` field lines (→ 431).
    TooManyHeaders,
    /// request-target longer than `max_uri_bytes` (→ 414).
    UriTooLong,
    /// Well-formed version other than HTTP/1.0 or HTTP/1.1 (→ 505).
    VersionNotSupported,
}

impl HeadError {
    /// The status code a server answers this error with (`Incomplete` → 0).
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Incomplete => 0,
            HeadError::BadRequest(_) => 400,
            HeadError::HeaderTooLarge | HeadError::TooManyHeaders => 431,
            HeadError::UriTooLong => 414,
            HeadError::VersionNotSupported => 505,
        }
    }
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Incomplete => f.write_str("incomplete head"),
            HeadError::BadRequest(why) => write!(f, "bad message: {why}"),
            HeadError::HeaderTooLarge => f.write_str("head too large"),
            HeadError::TooManyHeaders => f.write_str("too many header fields"),
            HeadError::UriTooLong => f.write_str("request-target too long"),
            HeadError::VersionNotSupported => f.write_str("HTTP version not supported"),
        }
    }
}

impl std::error::Error for HeadError {}

pub(crate) type HeadResult<T> = Result<T, HeadError>;

#[inline]
pub(crate) const fn bad<T>(why: &'static str) -> HeadResult<T> {
    Err(HeadError::BadRequest(why))
}

// ---------------------------------------------------------------- byte classes

macro_rules! table {
    ($f:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $f(i as u8);
            i += 1;
        }
        t
    }};
}

const fn tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// field-vchar / obs-text / SP / HTAB.
const fn value_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff)
}

/// Allowed in a request-target: visible ASCII except '#'.
const fn target_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && b != b'#'
}

/// uri-host [ ":" port ]: unreserved, pct-encoded, sub-delims, ':' and IP-literal brackets.
const fn host_byte(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'%' |
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' |
        b':' | b'[' | b']')
}

static TCHAR: [bool; 256] = table!(tchar);
static VALUE: [bool; 256] = table!(value_byte);
static TARGET: [bool; 256] = table!(target_byte);
static HOST: [bool; 256] = table!(host_byte);

#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}
#[inline]
pub(crate) fn is_value_byte(b: u8) -> bool {
    VALUE[b as usize]
}
#[inline]
pub(crate) fn is_target_byte(b: u8) -> bool {
    TARGET[b as usize]
}
#[inline]
pub(crate) fn is_host_byte(b: u8) -> bool {
    HOST[b as usize]
}

pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

// ---------------------------------------------------------------- head pieces

/// The part of `buf` a head may occupy: at most `max` bytes (and < 4 GiB so
/// offsets fit a `u32`).
#[inline]
pub(crate) fn window(buf: &[u8], max: usize) -> &[u8] {
    let n = buf.len().min(max).min(u32::MAX as usize);
    &buf[..n]
}

/// `Incomplete` although `max_header_bytes` are already buffered → too large.
#[inline]
pub(crate) fn finish<T>(
    r: HeadResult<T>,
    buf_len: usize,
    max_header_bytes: usize,
) -> HeadResult<T> {
    match r {
        Err(HeadError::Incomplete) if buf_len >= max_header_bytes => Err(HeadError::HeaderTooLarge),
        other => other,
    }
}

/// Parses `HTTP/DIGIT.DIGIT` at `pos`, validating whatever prefix is present.
/// Returns (major, minor); the caller decides which versions it supports.
pub(crate) fn parse_version(w: &[u8], pos: usize) -> HeadResult<(u8, u8)> {
    // b'0' stands for "any digit".
    const PATTERN: &[u8; 8] = b"HTTP/0.0";
    for (i, &want) in PATTERN.iter().enumerate() {
        let Some(&b) = w.get(pos + i) else {
            return Err(HeadError::Incomplete);
        };
        let ok = if want == b'0' {
            b.is_ascii_digit()
        } else {
            b == want
        };
        if !ok {
            return bad("malformed HTTP version");
        }
    }
    Ok((w[pos + 5] - b'0', w[pos + 7] - b'0'))
}

/// Expects CRLF at `pos`; returns the offset after it.
#[inline]
pub(crate) fn expect_crlf(w: &[u8], pos: usize, what: &'static str) -> HeadResult<usize> {
    match w.get(pos) {
        None => Err(HeadError::Incomplete),
        Some(b'\r') => match w.get(pos + 1) {
            None => Err(HeadError::Incomplete),
            Some(b'\n') => Ok(pos + 2),
            Some(_) => bad("bare CR"),
        },
        Some(b'\n') => bad("bare LF"),
        Some(_) => bad(what),
    }
}

/// Parses field lines from `pos` up to and including the empty line that ends
/// the head. Returns the head length (offset after the final CRLF).
///
/// `headers` must be empty on entry; at most `max_headers` are pushed.
pub(crate) fn parse_fields(
    w: &[u8],
    mut pos: usize,
    max_headers: usize,
    headers: &mut Vec<HeaderSpan>,
) -> HeadResult<usize> {
    let len = w.len();
    loop {
        // Start of a line: end of head, obs-fold, or a field name.
        match w.get(pos) {
            None => return Err(HeadError::Incomplete),
            Some(b'\r') => return expect_crlf(w, pos, "bare CR"),
            Some(b'\n') => return bad("bare LF"),
            Some(b' ' | b'\t') => return bad("obs-fold or whitespace before field name"),
            Some(_) => {}
        }
        let name_start = pos;
        while pos < len && is_tchar(w[pos]) {
            pos += 1;
        }
        match w.get(pos) {
            None => return Err(HeadError::Incomplete),
            Some(b':') if pos == name_start => return bad("empty header name"),
            Some(b':') => {}
            Some(b' ' | b'\t') => return bad("whitespace between header name and colon"),
            Some(b'\r' | b'\n') => return bad("header line without colon"),
            Some(_) => return bad("invalid byte in header name"),
        }
        let name_end = pos;
        pos += 1;
        while pos < len && matches!(w[pos], b' ' | b'\t') {
            pos += 1;
        }
        let value_start = pos;
        let mut value_end = pos;
        while pos < len {
            let b = w[pos];
            if !is_value_byte(b) {
                break;
            }
            pos += 1;
            if b != b' ' && b != b'\t' {
                value_end = pos;
            }
        }
        pos = expect_crlf(w, pos, "invalid byte in header value")?;
        if headers.len() >= max_headers {
            return Err(HeadError::TooManyHeaders);
        }
        headers.push(HeaderSpan {
            name: Span::new(name_start, name_end),
            value: Span::new(value_start, value_end),
        });
    }
}

// ---------------------------------------------------------------- semantics

/// Framing- and connection-relevant facts gathered from all field lines.
#[derive(Default)]
pub(crate) struct FieldSummary {
    pub content_length: Option<u64>,
    /// At least one Transfer-Encoding field (the list is then known to end in chunked).
    pub chunked: bool,
    pub conn_close: bool,
    pub conn_keep_alive: bool,
    pub conn_upgrade: bool,
    pub host_count: u32,
    pub host: Option<Span>,
    pub expect_continue: bool,
    pub upgrade_present: bool,
    pub upgrade_websocket: bool,
}

/// Iterates the comma-separated elements of a list value, OWS-trimmed.
/// Empty elements are passed through (as empty slices).
fn for_each_element<'a>(
    value: &'a [u8],
    mut f: impl FnMut(&'a [u8]) -> HeadResult<()>,
) -> HeadResult<()> {
    for el in value.split(|&b| b == b',') {
        f(el.trim_ascii())?;
    }
    Ok(())
}

fn parse_content_length(v: &[u8]) -> HeadResult<u64> {
    if v.is_empty() {
        return bad("empty Content-Length");
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return bad("invalid Content-Length");
        }
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
        {
            Some(n) => n,
            None => return bad("Content-Length overflow"),
        };
    }
    Ok(n)
}

/// Validates the framing headers (Content-Length, Transfer-Encoding) and
/// collects connection-management tokens. Rejects every ambiguous framing.
pub(crate) fn summarize(buf: &[u8], headers: &[HeaderSpan]) -> HeadResult<FieldSummary> {
    let mut s = FieldSummary::default();
    let mut te_seen = false;
    for h in headers {
        let name = h.name.get(buf);
        let value = h.value.get(buf);
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                s.host_count += 1;
                if s.host.is_none() {
                    s.host = Some(h.value);
                }
            }
            6 if name.eq_ignore_ascii_case(b"expect") => {
                for_each_element(value, |el| {
                    if el.eq_ignore_ascii_case(b"100-continue") {
                        s.expect_continue = true;
                    }
                    Ok(())
                })?;
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => {
                s.upgrade_present = true;
                for_each_element(value, |el| {
                    // protocol = protocol-name ["/" protocol-version]
                    let proto = el.split(|&b| b == b'/').next().unwrap_or(el);
                    if proto.eq_ignore_ascii_case(b"websocket") {
                        s.upgrade_websocket = true;
                    }
                    Ok(())
                })?;
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for_each_element(value, |el| {
                    if el.is_empty() {
                        return Ok(());
                    }
                    if !is_token(el) {
                        return bad("invalid Connection token");
                    }
                    if el.eq_ignore_ascii_case(b"close") {
                        s.conn_close = true;
                    } else if el.eq_ignore_ascii_case(b"keep-alive") {
                        s.conn_keep_alive = true;
                    } else if el.eq_ignore_ascii_case(b"upgrade") {
                        s.conn_upgrade = true;
                    }
                    Ok(())
                })?;
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                if s.content_length.is_some() {
                    return bad("duplicate Content-Length");
                }
                s.content_length = Some(parse_content_length(value)?);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                te_seen = true;
                for_each_element(value, |el| {
                    if el.is_empty() {
                        return bad("empty Transfer-Encoding element");
                    }
                    if s.chunked {
                        return bad("Transfer-Encoding: chunked is not final");
                    }
                    if !is_token(el) {
                        return bad("invalid Transfer-Encoding coding");
                    }
                    if el.eq_ignore_ascii_case(b"chunked") {
                        s.chunked = true;
                    } else if el.eq_ignore_ascii_case(b"identity") {
                        return bad("Transfer-Encoding: identity");
                    }
                    Ok(())
                })?;
            }
            _ => {}
        }
    }
    if te_seen {
        if !s.chunked {
            return bad("Transfer-Encoding does not end in chunked");
        }
        if s.content_length.is_some() {
            return bad("Content-Length with Transfer-Encoding");
        }
    }
    Ok(s)
}
