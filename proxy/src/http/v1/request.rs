//! Strict HTTP/1.1 request-head parser (RFC 9112), zero allocation.
//!
//! `parse_request` is re-run on the whole buffer as bytes arrive. It returns
//! `Incomplete` until the head (request-line, field lines, empty line) is
//! complete, and rejects anything ambiguous that could be used for request
//! smuggling or that downstream servers could read differently: CL+TE,
//! duplicate CL, TE not ending in chunked, obs-fold, bare CR/LF, whitespace
//! before the colon, non-token names, CTLs in values, loose request-lines.

use super::field::{
    bad, expect_crlf, finish, is_host_byte, is_target_byte, is_tchar, parse_fields, parse_version,
    summarize, window, HeadResult,
};
pub use super::field::{HeadError, HeaderSpan, Span};

/// Size limits applied while parsing a request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Whole head, including leading empty lines and the final CRLFCRLF (→ 431).
    pub max_header_bytes: usize,
    /// Number of field lines (→ 431).
    pub max_headers: usize,
    /// Length of the request-target (→ 414).
    pub max_uri_bytes: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
        }
    }
}

/// How the request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No Content-Length and no Transfer-Encoding: no body.
    None,
    /// `Content-Length: n` (may be 0).
    Length(u64),
    /// `Transfer-Encoding: …, chunked`.
    Chunked,
}

/// A parsed request head; all spans point into the parsed buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Span,
    /// The whole request-target as received.
    pub target: Span,
    /// origin-form: target up to '?'. absolute-form: the part after the
    /// authority up to '?' — empty for `http://host` or `http://host?q`,
    /// which means "/". asterisk-form: `*`.
    pub path: Span,
    /// After the first '?', without it.
    pub query: Option<Span>,
    /// 0 or 1.
    pub minor_version: u8,
    /// Bytes of the head, from buffer start (leading empty lines included)
    /// through the final CRLFCRLF. The body or the next request starts here.
    pub head_len: usize,
    pub framing: BodyFraming,
    /// HTTP/1.1: true unless `Connection: close`. HTTP/1.0: only with
    /// `Connection: keep-alive` (and no `close`).
    pub keep_alive: bool,
    /// HTTP/1.1 with `Expect: 100-continue` (ignored for HTTP/1.0).
    pub expect_continue: bool,
    /// HTTP/1.1 with `Upgrade: websocket` and an `upgrade` Connection token.
    pub upgrade_websocket: bool,
    /// The Host field value; for absolute-form, the target's authority
    /// instead (RFC 9112 §3.2.2). `None` only for HTTP/1.0 without Host.
    pub host: Option<Span>,
}

/// Parses a request head at the start of `buf`.
///
/// `headers` is cleared, then receives every field line in order (at most
/// `limits.max_headers`); reserve that capacity once and reuse the `Vec` so
/// no allocation happens. On `Err` its contents are unspecified.
pub fn parse_request(
    buf: &[u8],
    limits: &HeadLimits,
    headers: &mut Vec<HeaderSpan>,
) -> Result<RequestHead, HeadError> {
    headers.clear();
    let w = window(buf, limits.max_header_bytes);
    finish(
        parse_head(w, limits, headers),
        buf.len(),
        limits.max_header_bytes,
    )
}

fn parse_head(
    w: &[u8],
    limits: &HeadLimits,
    headers: &mut Vec<HeaderSpan>,
) -> HeadResult<RequestHead> {
    let len = w.len();
    let mut pos = 0;

    // Robustness (RFC 9112 §2.2): skip empty lines before the request-line.
    loop {
        match w.get(pos) {
            None => return Err(HeadError::Incomplete),
            Some(b'\r') => pos = expect_crlf(w, pos, "bare CR")?,
            Some(b'\n') => return bad("bare LF"),
            Some(_) => break,
        }
    }

    // method SP
    let m_start = pos;
    while pos < len && is_tchar(w[pos]) {
        pos += 1;
    }
    match w.get(pos) {
        None => return Err(HeadError::Incomplete),
        Some(b' ') if pos > m_start => {}
        Some(b' ') => return bad("request-line starts with whitespace"),
        Some(_) => return bad("invalid byte in method"),
    }
    let method = &w[m_start..pos];
    if method == b"CONNECT" {
        return bad("CONNECT not supported");
    }
    pos += 1;

    // request-target SP
    let t_start = pos;
    while pos < len && is_target_byte(w[pos]) {
        if pos - t_start >= limits.max_uri_bytes {
            return Err(HeadError::UriTooLong);
        }
        pos += 1;
    }
    match w.get(pos) {
        None => return Err(HeadError::Incomplete),
        Some(b' ') if pos > t_start => {}
        Some(b' ') => return bad("empty request-target or repeated space"),
        Some(b'#') => return bad("fragment in request-target"),
        Some(b'\r' | b'\n') => return bad("request-line without HTTP version"),
        Some(_) => return bad("invalid byte in request-target"),
    }
    let t_end = pos;
    pos += 1;

    // HTTP-version CRLF
    let (major, minor) = parse_version(w, pos)?;
    pos = expect_crlf(w, pos + 8, "junk after HTTP version")?;
    if major != 1 || minor > 1 {
        return Err(HeadError::VersionNotSupported);
    }

    let target = Target::parse(w, method, t_start, t_end)?;

    let head_len = parse_fields(w, pos, limits.max_headers, headers)?;
    let s = summarize(w, headers)?;

    if minor == 0 && s.chunked {
        return bad("Transfer-Encoding in HTTP/1.0");
    }
    if s.host_count > 1 {
        return bad("multiple Host");
    }
    if minor == 1 && s.host_count == 0 {
        return bad("missing Host");
    }
    if let Some(h) = s.host {
        if !h.get(w).iter().all(|&b| is_host_byte(b)) {
            return bad("invalid Host");
        }
    }

    let framing = match (s.chunked, s.content_length) {
        (true, _) => BodyFraming::Chunked,
        (false, Some(n)) => BodyFraming::Length(n),
        (false, None) => BodyFraming::None,
    };
    let keep_alive = !s.conn_close && (minor == 1 || s.conn_keep_alive);
    Ok(RequestHead {
        method: Span::new(m_start, m_start + method.len()),
        target: Span::new(t_start, t_end),
        path: target.path,
        query: target.query,
        minor_version: minor,
        head_len,
        framing,
        keep_alive,
        expect_continue: minor == 1 && s.expect_continue,
        upgrade_websocket: minor == 1 && s.upgrade_websocket && s.conn_upgrade,
        host: target.authority.or(s.host),
    })
}

struct Target {
    path: Span,
    query: Option<Span>,
    authority: Option<Span>,
}

impl Target {
    /// Classifies `w[start..end]` (already checked: non-empty visible ASCII, no '#').
    fn parse(w: &[u8], method: &[u8], start: usize, end: usize) -> HeadResult<Target> {
        let t = &w[start..end];
        if t[0] == b'/' {
            let (path, query) = split_query(w, start, end);
            return Ok(Target {
                path,
                query,
                authority: None,
            });
        }
        if t == b"*" {
            if method != b"OPTIONS" {
                return bad("asterisk-form only allowed with OPTIONS");
            }
            return Ok(Target {
                path: Span::new(start, end),
                query: None,
                authority: None,
            });
        }
        let scheme_len = if starts_with_ci(t, b"http://") {
            7
        } else if starts_with_ci(t, b"https://") {
            8
        } else {
            return bad("invalid request-target form");
        };
        let a_start = start + scheme_len;
        let a_end = w[a_start..end]
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .map_or(end, |i| a_start + i);
        let authority = &w[a_start..a_end];
        if authority.is_empty() {
            return bad("absolute-form without authority");
        }
        if authority.contains(&b'@') {
            return bad("userinfo in request-target");
        }
        if !authority.iter().all(|&b| is_host_byte(b)) {
            return bad("invalid authority in request-target");
        }
        let (path, query) = split_query(w, a_end, end);
        Ok(Target {
            path,
            query,
            authority: Some(Span::new(a_start, a_end)),
        })
    }
}

fn split_query(w: &[u8], start: usize, end: usize) -> (Span, Option<Span>) {
    match memchr::memchr(b'?', &w[start..end]) {
        Some(i) => (
            Span::new(start, start + i),
            Some(Span::new(start + i + 1, end)),
        ),
        None => (Span::new(start, end), None),
    }
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}
