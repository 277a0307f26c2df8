//! Strict HTTP/1.1 response-head parser for backend responses, zero allocation.
//!
//! Same field-line strictness as requests: a malformed or ambiguous backend
//! response is an error (the caller answers 502 and drops the connection)
//! rather than something to guess at. Body framing follows RFC 9112 §6.3.
//!
//! Deliberate leniency: a status-line without the SP before an empty reason
//! (`HTTP/1.1 200\r\n`) is accepted, and Content-Length is ignored (but still
//! syntax-checked) where the response cannot have a body.

use super::field::{
    bad, expect_crlf, finish, is_value_byte, parse_fields, parse_version, summarize, window,
    HeadResult,
};
pub use super::field::{HeadError, HeaderSpan, Span};

/// How the response body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFraming {
    /// No body: 1xx, 204, 304, or a response to HEAD.
    None,
    /// `Content-Length: n` (may be 0).
    Length(u64),
    /// `Transfer-Encoding: …, chunked`.
    Chunked,
    /// Neither: the body runs until the backend closes (never keep-alive).
    UntilClose,
}

/// A parsed response head; `reason` points into the parsed buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// reason-phrase, possibly empty.
    pub reason: Span,
    /// 0 or 1.
    pub minor_version: u8,
    /// Bytes of the head through the final CRLFCRLF.
    pub head_len: usize,
    pub framing: ResponseFraming,
    /// The connection may carry another exchange after this response's body:
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
    /// `Connection: keep-alive`; never for `UntilClose` or 101.
    pub keep_alive: bool,
    /// 101 Switching Protocols: the connection becomes a tunnel after the head.
    pub upgrade: bool,
}

impl ResponseHead {
    /// 1xx other than 101: an interim response; the final one follows on the
    /// same connection.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// Parses a backend response head at the start of `buf`.
///
/// `request_was_head`: the request was HEAD, so the response has no body
/// whatever its headers say. `headers` is cleared then filled (at most
/// `max_headers`); reserve that capacity once and reuse it.
pub fn parse_response(
    buf: &[u8],
    request_was_head: bool,
    max_header_bytes: usize,
    max_headers: usize,
    headers: &mut Vec<HeaderSpan>,
) -> Result<ResponseHead, HeadError> {
    headers.clear();
    let w = window(buf, max_header_bytes);
    finish(
        parse_head(w, request_was_head, max_headers, headers),
        buf.len(),
        max_header_bytes,
    )
}

fn parse_head(
    w: &[u8],
    request_was_head: bool,
    max_headers: usize,
    headers: &mut Vec<HeaderSpan>,
) -> HeadResult<ResponseHead> {
    // HTTP-version SP status-code [SP reason-phrase] CRLF
    let (major, minor) = parse_version(w, 0)?;
    match w.get(8) {
        None => return Err(HeadError::Incomplete),
        Some(b' ') => {}
        Some(_) => return bad("malformed status-line"),
    }
    let mut status: u16 = 0;
    for i in 9..12 {
        match w.get(i) {
            None => return Err(HeadError::Incomplete),
            Some(&d) if d.is_ascii_digit() => status = status * 10 + u16::from(d - b'0'),
            Some(_) => return bad("malformed status code"),
        }
    }
    let (reason_start, mut pos) = match w.get(12) {
        None => return Err(HeadError::Incomplete),
        Some(b' ') => (13, 13),
        Some(b'\r' | b'\n') => (12, 12),
        Some(_) => return bad("malformed status code"),
    };
    while pos < w.len() && is_value_byte(w[pos]) {
        pos += 1;
    }
    let reason = Span::new(reason_start, pos);
    pos = expect_crlf(w, pos, "invalid byte in reason-phrase")?;
    if major != 1 || minor > 1 {
        return Err(HeadError::VersionNotSupported);
    }
    if !(100..=599).contains(&status) {
        return bad("status code out of range");
    }

    let head_len = parse_fields(w, pos, max_headers, headers)?;
    let s = summarize(w, headers)?;

    let informational = (100..200).contains(&status);
    if s.chunked && minor == 0 {
        return bad("Transfer-Encoding in HTTP/1.0 response");
    }
    if s.chunked && (informational || status == 204) {
        return bad("Transfer-Encoding in 1xx/204 response");
    }
    let upgrade = status == 101;
    if upgrade && !s.upgrade_present {
        return bad("101 without Upgrade");
    }

    let framing = if request_was_head || informational || status == 204 || status == 304 {
        ResponseFraming::None
    } else if s.chunked {
        ResponseFraming::Chunked
    } else if let Some(n) = s.content_length {
        ResponseFraming::Length(n)
    } else {
        ResponseFraming::UntilClose
    };
    let keep_alive = framing != ResponseFraming::UntilClose
        && !upgrade
        && !s.conn_close
        && (minor == 1 || s.conn_keep_alive);
    Ok(ResponseHead {
        status,
        reason,
        minor_version: minor,
        head_len,
        framing,
        keep_alive,
        upgrade,
    })
}
