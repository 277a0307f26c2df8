//! Table-driven tests of `parse_response`: framing (HEAD, 1xx, 204, 304,
//! until-close), keep-alive, upgrade, rejections and limits.

use super::fuzz::fuzz_response;
use super::response::{parse_response, HeadError, ResponseFraming, ResponseHead};

use HeadError::{HeaderTooLarge, Incomplete, TooManyHeaders, VersionNotSupported};
use ResponseFraming::{Chunked, Length, UntilClose};

/// (status, framing, keep_alive, upgrade, interim, head_len or 0 = whole input)
type Want = (u16, ResponseFraming, bool, bool, bool, usize);

enum Expect {
    Ok(Want),
    Err(HeadError),
}

struct Case {
    name: &'static str,
    input: &'static [u8],
    head: bool,
    expect: Expect,
}

fn ok(name: &'static str, input: &'static [u8], head: bool, w: Want) -> Case {
    Case {
        name,
        input,
        head,
        expect: Expect::Ok(w),
    }
}
fn err(name: &'static str, input: &'static [u8], e: HeadError) -> Case {
    Case {
        name,
        input,
        head: false,
        expect: Expect::Err(e),
    }
}
fn bad(name: &'static str, input: &'static [u8], why: &'static str) -> Case {
    err(name, input, HeadError::BadRequest(why))
}

const NONE: ResponseFraming = ResponseFraming::None;

fn cases() -> Vec<Case> {
    vec![
        ok("200 with CL", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, (200, Length(5), true, false, false, 38)),
        ok("200 chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, (200, Chunked, true, false, false, 0)),
        ok("200 gzip, chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, (200, Chunked, true, false, false, 0)),
        ok("200 until close", b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", false, (200, UntilClose, false, false, false, 0)),
        ok("HEAD response with CL", b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", true, (200, NONE, true, false, false, 0)),
        ok("HEAD response with chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, (200, NONE, true, false, false, 0)),
        ok("HEAD response without length", b"HTTP/1.1 200 OK\r\n\r\n", true, (200, NONE, true, false, false, 0)),
        ok("204", b"HTTP/1.1 204 No Content\r\n\r\n", false, (204, NONE, true, false, false, 0)),
        ok("204 with CL: 0 tolerated", b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false, (204, NONE, true, false, false, 0)),
        ok("304 with CL", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", false, (304, NONE, true, false, false, 0)),
        ok("304 with chunked", b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false, (304, NONE, true, false, false, 0)),
        ok("100 Continue is interim", b"HTTP/1.1 100 Continue\r\n\r\n", false, (100, NONE, true, false, true, 0)),
        ok("103 Early Hints is interim", b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", false, (103, NONE, true, false, true, 0)),
        ok(
            "101 Switching Protocols",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            false,
            (101, NONE, false, true, false, 0),
        ),
        ok("HTTP/1.0 with CL closes", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", false, (200, Length(2), false, false, false, 0)),
        ok("HTTP/1.0 keep-alive", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\n", false, (200, Length(2), true, false, false, 0)),
        ok("HTTP/1.0 until close", b"HTTP/1.0 200 OK\r\n\r\n", false, (200, UntilClose, false, false, false, 0)),
        ok("Connection: close", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false, (200, Length(0), false, false, false, 0)),
        ok("empty reason with SP", b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", false, (200, Length(0), true, false, false, 0)),
        ok("no SP, no reason", b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false, (200, Length(0), true, false, false, 0)),
        ok("reason with spaces and obs-text", b"HTTP/1.1 404 Not \xc3\xa9 Found\r\nContent-Length: 0\r\n\r\n", false, (404, Length(0), true, false, false, 0)),
        ok("599 accepted", b"HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n", false, (599, Length(0), true, false, false, 0)),
        ok(
            "pipelined responses: head_len stops at the first",
            b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            false,
            (204, NONE, true, false, false, 27),
        ),
        // rejections
        bad("CL + TE", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "Content-Length with Transfer-Encoding"),
        bad("TE + CL", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "Content-Length with Transfer-Encoding"),
        bad("duplicate CL", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "duplicate Content-Length"),
        bad("CL list", b"HTTP/1.1 200 OK\r\nContent-Length: 5,5\r\n\r\n", "invalid Content-Length"),
        bad("TE gzip only", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding does not end in chunked"),
        bad("TE chunked, gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "Transfer-Encoding: chunked is not final"),
        bad("TE in HTTP/1.0", b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in HTTP/1.0 response"),
        bad("TE in 204", b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in 1xx/204 response"),
        bad("TE in 100", b"HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in 1xx/204 response"),
        bad("101 without Upgrade", b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101 without Upgrade"),
        bad("two-digit status", b"HTTP/1.1 20 OK\r\n\r\n", "malformed status code"),
        bad("four-digit status", b"HTTP/1.1 2000 OK\r\n\r\n", "malformed status code"),
        bad("status below 100", b"HTTP/1.1 099 X\r\n\r\n", "status code out of range"),
        bad("status 600", b"HTTP/1.1 600 X\r\n\r\n", "status code out of range"),
        bad("double space", b"HTTP/1.1  200 OK\r\n\r\n", "malformed status code"),
        bad("HTTP/2 short form", b"HTTP/2 200\r\n\r\n", "malformed HTTP version"),
        err("HTTP/2.0", b"HTTP/2.0 200 OK\r\n\r\n", VersionNotSupported),
        bad("missing space after version", b"HTTP/1.1200 OK\r\n\r\n", "malformed status-line"),
        bad("leading empty line", b"\r\nHTTP/1.1 200 OK\r\n\r\n", "malformed HTTP version"),
        bad("bare LF after status-line", b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare LF"),
        bad("bare LF after field", b"HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", "bare LF"),
        bad("bare CR in reason", b"HTTP/1.1 200 O\rK\r\n\r\n", "bare CR"),
        bad("NUL in reason", b"HTTP/1.1 200 O\x00K\r\n\r\n", "invalid byte in reason-phrase"),
        bad("obs-fold", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "obs-fold or whitespace before field name"),
        bad("space before colon", b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", "whitespace between header name and colon"),
        bad("CTL in value", b"HTTP/1.1 200 OK\r\nX: \x1b[0m\r\n\r\n", "invalid byte in header value"),
        err("partial status-line", b"HTTP/1.1 20", Incomplete),
        err("partial head", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", Incomplete),
        err("empty", b"", Incomplete),
    ]
}

fn check(case: &Case, max_bytes: usize, max_headers: usize) -> Result<ResponseHead, HeadError> {
    let mut headers = Vec::with_capacity(max_headers);
    let cap = headers.capacity();
    let r = parse_response(case.input, case.head, max_bytes, max_headers, &mut headers);
    assert_eq!(
        headers.capacity(),
        cap,
        "{}: headers reallocated",
        case.name
    );
    let mut fuzz_in = vec![u8::from(case.head)];
    fuzz_in.extend_from_slice(case.input);
    fuzz_response(&fuzz_in);
    r
}

#[test]
fn response_table() {
    let all = cases();
    assert!(all.len() >= 50);
    for case in &all {
        let got = check(case, 8192, 32);
        match (&case.expect, got) {
            (Expect::Err(e), Err(g)) => assert_eq!(*e, g, "{}", case.name),
            (Expect::Ok((status, framing, ka, upgrade, interim, len)), Ok(h)) => {
                let n = case.name;
                assert_eq!(h.status, *status, "{n}");
                assert_eq!(h.framing, *framing, "{n}");
                assert_eq!(h.keep_alive, *ka, "{n}: keep_alive");
                assert_eq!(h.upgrade, *upgrade, "{n}: upgrade");
                assert_eq!(h.is_interim(), *interim, "{n}: interim");
                let want_len = if *len == 0 { case.input.len() } else { *len };
                assert_eq!(h.head_len, want_len, "{n}: head_len");
            }
            (_, g) => panic!("{}: unexpected {:?}", case.name, g),
        }
    }
}

#[test]
fn reason_and_version_spans() {
    let buf = b"HTTP/1.0 404 Not Found\r\n\r\n";
    let mut headers = Vec::with_capacity(4);
    let h = parse_response(buf, false, 1024, 4, &mut headers).unwrap();
    assert_eq!(h.reason.get(buf), b"Not Found");
    assert_eq!(h.minor_version, 0);
    let buf = b"HTTP/1.1 200\r\n\r\n";
    let h = parse_response(buf, false, 1024, 4, &mut headers).unwrap();
    assert!(h.reason.is_empty());
}

#[test]
fn response_limits() {
    let head: &[u8] = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"; // 31 bytes, 2 fields
    let mut headers = Vec::with_capacity(4);
    assert!(parse_response(head, false, 31, 2, &mut headers).is_ok());
    assert_eq!(
        parse_response(head, false, 30, 2, &mut headers),
        Err(HeaderTooLarge)
    );
    assert_eq!(
        parse_response(head, false, 31, 1, &mut headers),
        Err(TooManyHeaders)
    );
    assert_eq!(
        parse_response(&head[..20], false, 20, 2, &mut headers),
        Err(HeaderTooLarge)
    );
    assert_eq!(
        parse_response(&head[..20], false, 21, 2, &mut headers),
        Err(Incomplete)
    );
}

#[test]
fn response_incremental_arrival() {
    let mut headers = Vec::with_capacity(32);
    for case in cases() {
        let Expect::Ok(w) = case.expect else { continue };
        let end = if w.5 == 0 { case.input.len() } else { w.5 };
        for cut in 0..end {
            let r = parse_response(&case.input[..cut], case.head, 8192, 32, &mut headers);
            assert_eq!(r, Err(Incomplete), "{}: prefix {cut}", case.name);
        }
    }
}
