//! Fuzzing entry points: run a parser on arbitrary bytes and assert its
//! invariants (a failed assertion is the fuzzer's crash signal).
//!
//! Used by the targets in `fuzz/fuzz_targets/`; also exercised by unit tests.
//! These helpers allocate (test scaffolding), the parsers they drive do not.

use super::chunked::ChunkedScanner;
use super::field::{HeadError, HeaderSpan, Span};
use super::request::{parse_request, BodyFraming, HeadLimits, RequestHead};
use super::response::{parse_response, ResponseFraming};

/// Small limits so the fuzzer reaches every limit path quickly.
pub const FUZZ_LIMITS: HeadLimits = HeadLimits {
    max_header_bytes: 1024,
    max_headers: 16,
    max_uri_bytes: 256,
};

fn span_ok(s: Span, end: usize) -> bool {
    s.start <= s.end && (s.end as usize) <= end
}

fn within(inner: Span, outer: Span) -> bool {
    outer.start <= inner.start && inner.start <= inner.end && inner.end <= outer.end
}

fn check_headers(headers: &[HeaderSpan], head_len: usize, max: usize) {
    assert!(headers.len() <= max, "more headers than max_headers");
    for h in headers {
        assert!(
            span_ok(h.name, head_len) && span_ok(h.value, head_len),
            "header span outside head"
        );
        assert!(!h.name.is_empty(), "empty header name accepted");
        assert!(
            h.name.end < h.value.start || h.value.is_empty(),
            "value before name"
        );
    }
}

/// Parses `data` as a request head with [`FUZZ_LIMITS`] and checks that
/// every span lies in the head, the limits hold, prefixes of an accepted head
/// are `Incomplete`, re-parsing is deterministic, and nothing allocates.
pub fn fuzz_request(data: &[u8]) {
    let l = FUZZ_LIMITS;
    let mut headers = Vec::with_capacity(l.max_headers);
    let cap = headers.capacity();
    let r = parse_request(data, &l, &mut headers);
    assert_eq!(headers.capacity(), cap, "headers Vec reallocated");
    match r {
        Ok(h) => {
            check_request(data, &h, &headers);
            // The head alone parses the same; any strict prefix is Incomplete.
            let mut again = Vec::with_capacity(l.max_headers);
            assert_eq!(parse_request(&data[..h.head_len], &l, &mut again), Ok(h));
            assert_eq!(again, headers);
            for cut in [
                h.head_len - 1,
                h.head_len / 2,
                h.head_len.saturating_sub(3),
                1,
                0,
            ] {
                if cut < h.head_len {
                    let p = parse_request(&data[..cut], &l, &mut again);
                    assert_eq!(p, Err(HeadError::Incomplete), "prefix of {cut} bytes");
                }
            }
        }
        Err(HeadError::Incomplete) => {
            assert!(
                data.len() < l.max_header_bytes,
                "Incomplete at the header limit"
            );
        }
        Err(_) => {}
    }
}

fn check_request(data: &[u8], h: &RequestHead, headers: &[HeaderSpan]) {
    let l = FUZZ_LIMITS;
    let n = h.head_len;
    assert!(
        n <= data.len() && n <= l.max_header_bytes,
        "head_len out of range"
    );
    assert!(
        data[..n].ends_with(b"\r\n\r\n"),
        "head does not end in CRLFCRLF"
    );
    for s in [h.method, h.target, h.path] {
        assert!(span_ok(s, n), "span outside head");
    }
    assert!(!h.method.is_empty() && !h.target.is_empty());
    assert!(
        h.target.len() <= l.max_uri_bytes,
        "target over max_uri_bytes"
    );
    assert!(h.method.end < h.target.start, "method after target");
    assert!(within(h.path, h.target), "path outside target");
    if let Some(q) = h.query {
        assert!(within(q, h.target), "query outside target");
        assert_eq!(data[q.start as usize - 1], b'?');
    }
    if let Some(host) = h.host {
        assert!(span_ok(host, n), "host outside head");
    } else {
        assert_eq!(h.minor_version, 0, "HTTP/1.1 without Host");
    }
    assert!(h.minor_version <= 1);
    if h.minor_version == 0 {
        assert!(h.framing != BodyFraming::Chunked, "chunked HTTP/1.0");
        assert!(!h.expect_continue && !h.upgrade_websocket);
    }
    assert!(!h.method.get(data).eq(b"CONNECT"));
    check_headers(headers, n, l.max_headers);
}

/// Parses `data[1..]` as a response head (`data[0]` odd: response to HEAD)
/// and checks spans, limits and framing rules.
pub fn fuzz_response(data: &[u8]) {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let head_req = flags & 1 == 1;
    let (max_bytes, max_headers) = (1024, 16);
    let mut headers = Vec::with_capacity(max_headers);
    let cap = headers.capacity();
    let r = parse_response(data, head_req, max_bytes, max_headers, &mut headers);
    assert_eq!(headers.capacity(), cap, "headers Vec reallocated");
    match r {
        Ok(h) => {
            let n = h.head_len;
            assert!(n <= data.len() && n <= max_bytes);
            assert!(data[..n].ends_with(b"\r\n\r\n"));
            assert!(span_ok(h.reason, n));
            assert!((100..=599).contains(&h.status) && h.minor_version <= 1);
            check_headers(&headers, n, max_headers);
            let no_body = head_req || h.status < 200 || h.status == 204 || h.status == 304;
            assert_eq!(no_body, h.framing == ResponseFraming::None);
            if h.framing == ResponseFraming::UntilClose || h.upgrade {
                assert!(!h.keep_alive);
            }
            assert!(!(h.upgrade && h.is_interim()));
            let mut again = Vec::with_capacity(max_headers);
            let p = parse_response(&data[..n - 1], head_req, max_bytes, max_headers, &mut again);
            assert_eq!(p, Err(HeadError::Incomplete));
        }
        Err(HeadError::Incomplete) => assert!(data.len() < max_bytes),
        Err(_) => {}
    }
}

/// Scans `data[1..]` as a chunked body whole, one byte at a time, and in
/// pieces sized from `data[0]`; all three must agree exactly.
pub fn fuzz_chunked(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let max = 1 << 16;
    let whole = run_chunked(body, max, |_| body.len().max(1));
    let bytes = run_chunked(body, max, |_| 1);
    let step = usize::from(seed % 13) + 1;
    let pieces = run_chunked(body, max, |i| (i * 7 + step) % 29 + 1);
    assert_eq!(whole, bytes, "one-shot vs byte-at-a-time");
    assert_eq!(whole, pieces, "one-shot vs pieces");
    if let Ok((consumed, true, _)) = whole {
        assert!(consumed <= body.len() && body[..consumed].ends_with(b"\r\n"));
    }
}

/// Feeds `body` in pieces; returns (total consumed, done, body_bytes) or the error.
fn run_chunked(
    body: &[u8],
    max: u64,
    mut piece: impl FnMut(usize) -> usize,
) -> Result<(usize, bool, u64), super::chunked::ChunkError> {
    let mut sc = ChunkedScanner::new(max);
    let mut pos = 0;
    let mut i = 0;
    while pos < body.len() {
        let end = (pos + piece(i)).min(body.len());
        i += 1;
        let fed = end - pos;
        let s = sc.scan(&body[pos..end])?;
        assert!(s.consumed <= fed);
        pos += s.consumed;
        if s.done {
            assert!(sc.is_done());
            return Ok((pos, true, sc.body_bytes()));
        }
        assert_eq!(s.consumed, fed, "not done but input left over");
    }
    assert!(sc.body_bytes() <= max);
    Ok((pos, sc.is_done(), sc.body_bytes()))
}
