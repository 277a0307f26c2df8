//! Table-driven tests of `parse_request`: every rejection with its reason,
//! valid variants, limits at and over the boundary, incremental arrival.

use super::fuzz::fuzz_request;
use super::request::{parse_request, BodyFraming, HeadError, HeadLimits, RequestHead};
use super::HeaderSpan;

use BodyFraming::{Chunked, Length};
use HeadError::{HeaderTooLarge, Incomplete, TooManyHeaders, UriTooLong, VersionNotSupported};

/// Expected fields of an accepted head.
#[derive(Clone, Copy, Debug)]
struct Want {
    /// `None`: the whole input.
    head_len: Option<usize>,
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    host: Option<&'static str>,
    minor: u8,
    framing: BodyFraming,
    keep_alive: bool,
    expect_continue: bool,
    websocket: bool,
    headers: Option<usize>,
}

fn ok() -> Want {
    Want {
        head_len: None,
        method: "GET",
        path: "/",
        query: None,
        host: Some("h"),
        minor: 1,
        framing: BodyFraming::None,
        keep_alive: true,
        expect_continue: false,
        websocket: false,
        headers: None,
    }
}

impl Want {
    fn len(mut self, n: usize) -> Self {
        self.head_len = Some(n);
        self
    }
    fn method(mut self, m: &'static str) -> Self {
        self.method = m;
        self
    }
    fn path(mut self, p: &'static str) -> Self {
        self.path = p;
        self
    }
    fn query(mut self, q: &'static str) -> Self {
        self.query = Some(q);
        self
    }
    fn host(mut self, h: Option<&'static str>) -> Self {
        self.host = h;
        self
    }
    fn http10(mut self) -> Self {
        self.minor = 0;
        self.keep_alive = false;
        self
    }
    fn framing(mut self, f: BodyFraming) -> Self {
        self.framing = f;
        self
    }
    fn ka(mut self, k: bool) -> Self {
        self.keep_alive = k;
        self
    }
    fn expect(mut self) -> Self {
        self.expect_continue = true;
        self
    }
    fn ws(mut self) -> Self {
        self.websocket = true;
        self
    }
    fn headers(mut self, n: usize) -> Self {
        self.headers = Some(n);
        self
    }
}

#[derive(Debug)]
enum Expect {
    Ok(Want),
    Err(HeadError),
}

fn bad(why: &'static str) -> Expect {
    Expect::Err(HeadError::BadRequest(why))
}
fn err(e: HeadError) -> Expect {
    Expect::Err(e)
}

struct Case {
    name: &'static str,
    input: &'static [u8],
    expect: Expect,
    limits: HeadLimits,
}

fn c(name: &'static str, input: &'static [u8], expect: impl Into<ExpectArg>) -> Case {
    Case {
        name,
        input,
        expect: expect.into().0,
        limits: HeadLimits::default(),
    }
}

fn cl(
    name: &'static str,
    input: &'static [u8],
    limits: (usize, usize, usize),
    expect: impl Into<ExpectArg>,
) -> Case {
    let limits = HeadLimits {
        max_header_bytes: limits.0,
        max_headers: limits.1,
        max_uri_bytes: limits.2,
    };
    Case {
        name,
        input,
        expect: expect.into().0,
        limits,
    }
}

struct ExpectArg(Expect);
impl From<Want> for ExpectArg {
    fn from(w: Want) -> Self {
        ExpectArg(Expect::Ok(w))
    }
}
impl From<Expect> for ExpectArg {
    fn from(e: Expect) -> Self {
        ExpectArg(e)
    }
}

fn s(span: super::Span, buf: &[u8]) -> &str {
    std::str::from_utf8(span.get(buf)).unwrap_or("<non-utf8>")
}

fn check(case: &Case) {
    let mut headers: Vec<HeaderSpan> = Vec::with_capacity(case.limits.max_headers);
    let cap = headers.capacity();
    let got = parse_request(case.input, &case.limits, &mut headers);
    assert_eq!(
        headers.capacity(),
        cap,
        "{}: headers reallocated",
        case.name
    );
    match (&case.expect, got) {
        (Expect::Err(e), Err(g)) => assert_eq!(*e, g, "{}", case.name),
        (Expect::Ok(w), Ok(h)) => check_ok(case, w, &h, headers.len()),
        (e, g) => panic!("{}: expected {:?}, got {:?}", case.name, e, g),
    }
    fuzz_request(case.input);
}

fn check_ok(case: &Case, w: &Want, h: &RequestHead, nheaders: usize) {
    let b = case.input;
    let n = case.name;
    assert_eq!(h.head_len, w.head_len.unwrap_or(b.len()), "{n}: head_len");
    assert_eq!(s(h.method, b), w.method, "{n}: method");
    assert_eq!(s(h.path, b), w.path, "{n}: path");
    assert_eq!(h.query.map(|q| s(q, b)), w.query, "{n}: query");
    assert_eq!(h.host.map(|q| s(q, b)), w.host, "{n}: host");
    assert_eq!(h.minor_version, w.minor, "{n}: minor");
    assert_eq!(h.framing, w.framing, "{n}: framing");
    assert_eq!(h.keep_alive, w.keep_alive, "{n}: keep_alive");
    assert_eq!(h.expect_continue, w.expect_continue, "{n}: expect_continue");
    assert_eq!(h.upgrade_websocket, w.websocket, "{n}: upgrade_websocket");
    if let Some(k) = w.headers {
        assert_eq!(nheaders, k, "{n}: header count");
    }
}

fn valid_cases() -> Vec<Case> {
    vec![
        c("simple GET", b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", ok().headers(1)),
        c("path and query", b"GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n", ok().path("/a/b").query("x=1&y")),
        c("empty query", b"GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", ok().path("/p").query("")),
        c("second ? stays in query", b"GET /p?a?b HTTP/1.1\r\nHost: h\r\n\r\n", ok().path("/p").query("a?b")),
        c("odd but visible target bytes", b"GET /a|{}\"<>^`\\ HTTP/1.1\r\nHost: h\r\n\r\n", ok().path("/a|{}\"<>^`\\")),
        c(
            "POST with Content-Length, body not part of head",
            b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
            ok().method("POST").path("/u").framing(Length(5)).len(48),
        ),
        c("Content-Length 0", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", ok().method("POST").framing(Length(0))),
        c("Content-Length leading zeros", b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n", ok().method("PUT").framing(Length(7))),
        c(
            "Content-Length u64::MAX",
            b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
            ok().method("PUT").framing(Length(u64::MAX)),
        ),
        c("Content-Length OWS trimmed", b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length:\t 12 \t\r\n\r\n", ok().method("PUT").framing(Length(12))),
        c("chunked", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", ok().method("POST").framing(Chunked)),
        c("chunked case-insensitive", b"POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: ChUnKeD\r\n\r\n", ok().method("POST").framing(Chunked)),
        c("gzip, chunked", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ok().method("POST").framing(Chunked)),
        c(
            "TE split over two fields ending in chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            ok().method("POST").framing(Chunked),
        ),
        c(
            "absolute-form",
            b"GET http://example.com/x?y HTTP/1.1\r\nHost: other\r\n\r\n",
            ok().path("/x").query("y").host(Some("example.com")),
        ),
        c("absolute-form https, no path", b"GET HTTPS://a:8080 HTTP/1.1\r\nHost: a\r\n\r\n", ok().path("").host(Some("a:8080"))),
        c("absolute-form query without path", b"GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n", ok().path("").query("q").host(Some("a"))),
        c("asterisk-form OPTIONS", b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", ok().method("OPTIONS").path("*")),
        c("HTTP/1.0 without Host", b"GET / HTTP/1.0\r\n\r\n", ok().http10().host(None).headers(0)),
        c("HTTP/1.0 keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ok().http10().host(None).ka(true)),
        c("HTTP/1.0 Keep-Alive in a list", b"GET / HTTP/1.0\r\nConnection: foo , Keep-Alive,\r\n\r\n", ok().http10().host(None).ka(true)),
        c("HTTP/1.0 with Host and CL", b"POST / HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\n", ok().http10().method("POST").framing(Length(3))),
        c("HTTP/1.1 Connection: close", b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", ok().ka(false)),
        c("close wins over keep-alive", b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, CLOSE\r\n\r\n", ok().ka(false)),
        c("HTTP/1.0 close wins", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", ok().http10().host(None)),
        c("Expect: 100-continue", b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", ok().method("PUT").framing(Length(1)).expect()),
        c("Expect ignored in HTTP/1.0", b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", ok().method("PUT").http10().host(None)),
        c(
            "websocket upgrade",
            b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\n",
            ok().path("/ws").ws(),
        ),
        c("Upgrade without Connection token", b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", ok()),
        c("Connection upgrade without websocket", b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", ok()),
        c("Upgrade ignored in HTTP/1.0", b"GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", ok().http10().host(None)),
        c("leading empty lines skipped", b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", ok()),
        c(
            "pipelined: head_len stops at the first",
            b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
            ok().path("/1").len(28),
        ),
        c("OWS around value trimmed", b"GET / HTTP/1.1\r\nHost: \t  h \t \r\n\r\n", ok()),
        c("empty value", b"GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Blank:   \r\n\r\n", ok().headers(3)),
        c("obs-text and inner spaces in value", b"GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \xff  x\r\n\r\n", ok()),
        c("all tchars in a name", b"GET / HTTP/1.1\r\nHost: h\r\nX-!#$%&'*+-.^_`|~09az: v\r\n\r\n", ok()),
        c("Host with port", b"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", ok().host(Some("example.com:8080"))),
        c("Host IPv6 literal", b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", ok().host(Some("[::1]:80"))),
        c("HOST case-insensitive", b"GET / HTTP/1.1\r\nhOsT: h\r\n\r\n", ok()),
        c("extension method token", b"purge-All /x HTTP/1.1\r\nHost: h\r\n\r\n", ok().method("purge-All").path("/x")),
    ]
}

fn rejection_cases() -> Vec<Case> {
    vec![
        // framing
        c("CL + TE", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", bad("Content-Length with Transfer-Encoding")),
        c("TE + CL", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", bad("Content-Length with Transfer-Encoding")),
        c("duplicate CL, equal values", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", bad("duplicate Content-Length")),
        c("duplicate CL, different values", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", bad("duplicate Content-Length")),
        c("CL list", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", bad("invalid Content-Length")),
        c("CL negative", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", bad("invalid Content-Length")),
        c("CL plus sign", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", bad("invalid Content-Length")),
        c("CL hex", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n", bad("invalid Content-Length")),
        c("CL inner space", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", bad("invalid Content-Length")),
        c("CL empty", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", bad("empty Content-Length")),
        c("CL overflow", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n", bad("Content-Length overflow")),
        c("TE chunked, gzip", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", bad("Transfer-Encoding: chunked is not final")),
        c("TE identity", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", bad("Transfer-Encoding: identity")),
        c("TE xchunked", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", bad("Transfer-Encoding does not end in chunked")),
        c("TE gzip only", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", bad("Transfer-Encoding does not end in chunked")),
        c("TE empty", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", bad("empty Transfer-Encoding element")),
        c("TE chunked twice in one field", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", bad("Transfer-Encoding: chunked is not final")),
        c(
            "TE duplicate fields chunked + chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            bad("Transfer-Encoding: chunked is not final"),
        ),
        c(
            "TE duplicate fields chunked + gzip",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
            bad("Transfer-Encoding: chunked is not final"),
        ),
        c("TE trailing comma", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n", bad("empty Transfer-Encoding element")),
        c("TE with parameter", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", bad("invalid Transfer-Encoding coding")),
        c("TE in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", bad("Transfer-Encoding in HTTP/1.0")),
        // line structure
        c("obs-fold", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", bad("obs-fold or whitespace before field name")),
        c("obs-fold with tab", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", bad("obs-fold or whitespace before field name")),
        c("whitespace before first field", b"GET / HTTP/1.1\r\n Host: h\r\n\r\n", bad("obs-fold or whitespace before field name")),
        c("bare LF ending request-line", b"GET / HTTP/1.1\nHost: h\r\n\r\n", bad("bare LF")),
        c("bare LF ending a field", b"GET / HTTP/1.1\r\nHost: h\n\r\n", bad("bare LF")),
        c("bare LF as final line", b"GET / HTTP/1.1\r\nHost: h\r\n\n", bad("bare LF")),
        c("bare LF before request-line", b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", bad("bare LF")),
        c("bare CR in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", bad("bare CR")),
        c("bare CR after version", b"GET / HTTP/1.1\rHost: h\r\n\r\n", bad("bare CR")),
        c("bare CR as final line", b"GET / HTTP/1.1\r\nHost: h\r\n\rX", bad("bare CR")),
        c("bare CR before request-line", b"\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", bad("bare CR")),
        // field names
        c("space before colon", b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", bad("whitespace between header name and colon")),
        c("tab before colon", b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 5\r\n\r\n", bad("whitespace between header name and colon")),
        c("empty name", b"GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", bad("empty header name")),
        c("non-token name", b"GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", bad("invalid byte in header name")),
        c("non-ASCII name", b"GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n", bad("invalid byte in header name")),
        c("line without colon", b"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", bad("header line without colon")),
        // field values
        c("NUL in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", bad("invalid byte in header value")),
        c("CTL in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", bad("invalid byte in header value")),
        c("DEL in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", bad("invalid byte in header value")),
        c("VT in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x0bb\r\n\r\n", bad("invalid byte in header value")),
        // request-line
        c("double space", b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", bad("empty request-target or repeated space")),
        c("leading space", b" GET / HTTP/1.1\r\nHost: h\r\n\r\n", bad("request-line starts with whitespace")),
        c("trailing space", b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", bad("junk after HTTP version")),
        c("tab as separator", b"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid byte in method")),
        c("invalid method byte", b"GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid byte in method")),
        c("TLS handshake on plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", bad("invalid byte in method")),
        c("HTTP/0.9 request-line", b"GET /\r\n\r\n", bad("request-line without HTTP version")),
        c("lowercase version", b"GET / http/1.1\r\nHost: h\r\n\r\n", bad("malformed HTTP version")),
        c("version without minor", b"GET / HTTP/1\r\nHost: h\r\n\r\n", bad("malformed HTTP version")),
        c("version 1.10", b"GET / HTTP/1.10\r\nHost: h\r\n\r\n", bad("junk after HTTP version")),
        c("space inside target", b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", bad("malformed HTTP version")),
        c("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", err(VersionNotSupported)),
        c("HTTP/0.9 versioned", b"GET / HTTP/0.9\r\n\r\n", err(VersionNotSupported)),
        c("HTTP/1.2", b"GET / HTTP/1.2\r\nHost: h\r\n\r\n", err(VersionNotSupported)),
        // request-target
        c("fragment", b"GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", bad("fragment in request-target")),
        c("DEL in target", b"GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid byte in request-target")),
        c("non-ASCII in target", b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid byte in request-target")),
        c("NUL in target", b"GET /\x00 HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid byte in request-target")),
        c("asterisk with GET", b"GET * HTTP/1.1\r\nHost: h\r\n\r\n", bad("asterisk-form only allowed with OPTIONS")),
        c("authority-form without CONNECT", b"GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid request-target form")),
        c("relative target", b"GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid request-target form")),
        c("CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", bad("CONNECT not supported")),
        c("CONNECT rejected before the head completes", b"CONNECT ", bad("CONNECT not supported")),
        c("absolute-form with userinfo", b"GET http://user:pw@evil/ HTTP/1.1\r\nHost: h\r\n\r\n", bad("userinfo in request-target")),
        c("absolute-form without authority", b"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", bad("absolute-form without authority")),
        c("absolute-form other scheme", b"GET ftp://a/x HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid request-target form")),
        c("absolute-form bad authority byte", b"GET http://a\"b/ HTTP/1.1\r\nHost: h\r\n\r\n", bad("invalid authority in request-target")),
        // Host
        c("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\nX: y\r\n\r\n", bad("missing Host")),
        c("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", bad("multiple Host")),
        c("two Host fields in HTTP/1.0", b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", bad("multiple Host")),
        c("Host with inner space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", bad("invalid Host")),
        c("Host with slash", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", bad("invalid Host")),
        c("Host with userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", bad("invalid Host")),
        // Connection
        c("Connection non-token", b"GET / HTTP/1.1\r\nHost: h\r\nConnection: clo se\r\n\r\n", bad("invalid Connection token")),
    ]
}

fn incomplete_cases() -> Vec<Case> {
    vec![
        c("empty", b"", err(Incomplete)),
        c("lone CR", b"\r", err(Incomplete)),
        c("empty lines only", b"\r\n\r\n", err(Incomplete)),
        c("method only", b"GET", err(Incomplete)),
        c("partial target", b"GET /abc", err(Incomplete)),
        c("partial version", b"GET / HTT", err(Incomplete)),
        c("request-line CR", b"GET / HTTP/1.1\r", err(Incomplete)),
        c("mid field name", b"GET / HTTP/1.1\r\nHo", err(Incomplete)),
        c(
            "mid field value",
            b"GET / HTTP/1.1\r\nHost: h",
            err(Incomplete),
        ),
        c(
            "no empty line",
            b"GET / HTTP/1.1\r\nHost: h\r\n",
            err(Incomplete),
        ),
        c(
            "final CR only",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r",
            err(Incomplete),
        ),
    ]
}

/// (max_header_bytes, max_headers, max_uri_bytes)
fn limit_cases() -> Vec<Case> {
    const BIG: usize = 1 << 20;
    vec![
        // request-target: "/123456789" is 10 bytes.
        cl(
            "target exactly max_uri_bytes",
            b"GET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n",
            (BIG, 10, 10),
            ok().path("/123456789"),
        ),
        cl(
            "target one over max_uri_bytes",
            b"GET /1234567890 HTTP/1.1\r\nHost: h\r\n\r\n",
            (BIG, 10, 10),
            err(UriTooLong),
        ),
        cl(
            "target over limit before request-line ends",
            b"GET /1234567890",
            (BIG, 10, 10),
            err(UriTooLong),
        ),
        cl(
            "target at limit, still incomplete",
            b"GET /123456789",
            (BIG, 10, 10),
            err(Incomplete),
        ),
        // header count
        cl(
            "exactly max_headers",
            b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n",
            (BIG, 2, BIG),
            ok().headers(2),
        ),
        cl(
            "one over max_headers",
            b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
            (BIG, 2, BIG),
            err(TooManyHeaders),
        ),
        cl(
            "max_headers 0 with HTTP/1.0",
            b"GET / HTTP/1.0\r\n\r\n",
            (BIG, 0, BIG),
            ok().http10().host(None),
        ),
        // head bytes: this head is 27 bytes.
        cl(
            "head exactly max_header_bytes",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            (27, 10, BIG),
            ok(),
        ),
        cl(
            "head one over max_header_bytes",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            (26, 10, BIG),
            err(HeaderTooLarge),
        ),
        cl(
            "head at limit followed by pipelined bytes",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n",
            (27, 10, BIG),
            ok().len(27),
        ),
        cl(
            "incomplete with buffer at limit",
            b"GET / HTTP/1.1\r\nHost: h\r\n",
            (25, 10, BIG),
            err(HeaderTooLarge),
        ),
        cl(
            "incomplete one byte under limit",
            b"GET / HTTP/1.1\r\nHost: h\r\n",
            (26, 10, BIG),
            err(Incomplete),
        ),
        cl(
            "leading empty lines count toward the limit",
            b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            (28, 10, BIG),
            err(HeaderTooLarge),
        ),
        cl("max_header_bytes 0", b"", (0, 10, BIG), err(HeaderTooLarge)),
    ]
}

#[test]
fn valid_requests() {
    valid_cases().iter().for_each(check);
}

#[test]
fn rejected_requests() {
    rejection_cases().iter().for_each(check);
}

#[test]
fn incomplete_requests() {
    incomplete_cases().iter().for_each(check);
}

#[test]
fn request_limits() {
    limit_cases().iter().for_each(check);
}

#[test]
fn at_least_sixty_cases() {
    let n = valid_cases().len()
        + rejection_cases().len()
        + incomplete_cases().len()
        + limit_cases().len();
    assert!(n >= 60, "{n}");
}

/// Every strict prefix of a valid head is `Incomplete`; the full one parses.
#[test]
fn incremental_arrival() {
    let mut headers = Vec::with_capacity(100);
    for case in valid_cases() {
        let Expect::Ok(w) = case.expect else { continue };
        let end = w.head_len.unwrap_or(case.input.len());
        for cut in 0..end {
            let r = parse_request(&case.input[..cut], &case.limits, &mut headers);
            assert_eq!(r, Err(Incomplete), "{}: prefix {cut}", case.name);
        }
        assert!(
            parse_request(&case.input[..end], &case.limits, &mut headers).is_ok(),
            "{}",
            case.name
        );
    }
}

/// Rejections found in a prefix stay rejections whatever follows.
#[test]
fn errors_are_stable_under_appending() {
    let mut headers = Vec::with_capacity(100);
    for case in rejection_cases() {
        let Expect::Err(e) = case.expect else {
            continue;
        };
        let mut buf = case.input.to_vec();
        buf.extend_from_slice(b"X-More: 1\r\n\r\n");
        assert_eq!(
            parse_request(&buf, &case.limits, &mut headers),
            Err(e),
            "{}",
            case.name
        );
    }
}

#[test]
fn header_spans_and_helpers() {
    let buf = b"GET / HTTP/1.1\r\nHost: h\r\nX-A:  one two \r\nx-b:\r\n\r\n";
    let mut headers = Vec::with_capacity(8);
    let h = parse_request(buf, &HeadLimits::default(), &mut headers).unwrap();
    assert_eq!(headers.len(), 3);
    assert_eq!(headers[1].name.get(buf), b"X-A");
    assert_eq!(headers[1].value.get(buf), b"one two");
    assert!(headers[2].value.is_empty());
    assert_eq!(
        super::header_value(buf, &headers, "x-a"),
        Some(&b"one two"[..])
    );
    assert_eq!(super::header_value(buf, &headers, "X-B"), Some(&b""[..]));
    assert_eq!(super::header_value(buf, &headers, "missing"), None);
    let els: Vec<&[u8]> = super::list_elements(b" a ,, b\t,c ,").collect();
    assert_eq!(els, [&b"a"[..], b"b", b"c"]);
    assert_eq!(h.target.get(buf), b"/");
    // Out-of-range spans read as empty instead of panicking.
    assert_eq!(
        super::Span {
            start: 5,
            end: 1000
        }
        .get(buf),
        b""
    );
    // The Vec is cleared on each call.
    parse_request(
        b"GET / HTTP/1.0\r\n\r\n",
        &HeadLimits::default(),
        &mut headers,
    )
    .unwrap();
    assert!(headers.is_empty());
}

#[test]
fn status_codes_for_errors() {
    assert_eq!(HeadError::BadRequest("x").status(), 400);
    assert_eq!(HeaderTooLarge.status(), 431);
    assert_eq!(TooManyHeaders.status(), 431);
    assert_eq!(UriTooLong.status(), 414);
    assert_eq!(VersionNotSupported.status(), 505);
}

/// Cheap deterministic mutation fuzzing of the table inputs through the
/// invariant checker (the real fuzzer lives in `fuzz/`).
#[test]
fn mutated_inputs_keep_invariants() {
    let mut rng = Lcg(0x9e37_79b9_7f4a_7c15);
    const ALPHABET: &[u8] =
        b"\r\n :\t,;/?*#0aAzZ\x00\x7f\x80\xffGETHTTP/1.1chunkedContent-LengthHost";
    let seeds: Vec<&[u8]> = valid_cases()
        .iter()
        .chain(rejection_cases().iter())
        .map(|c| c.input)
        .collect();
    for round in 0..4000 {
        let mut buf = seeds[round % seeds.len()].to_vec();
        for _ in 0..rng.below(4) + 1 {
            let at = rng.below(buf.len() + 1);
            match rng.below(3) {
                0 if at < buf.len() => buf[at] = ALPHABET[rng.below(ALPHABET.len())],
                1 => buf.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                _ if at < buf.len() => {
                    buf.remove(at);
                }
                _ => {}
            }
        }
        fuzz_request(&buf);
    }
}

pub(super) struct Lcg(pub u64);
impl Lcg {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if n == 0 {
            0
        } else {
            ((self.0 >> 33) as usize) % n
        }
    }
}
