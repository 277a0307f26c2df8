//! Message heads across the HTTP/2 bridge: an HTTP/2 request or response written as an
//! HTTP/1.1 head (what the gateway's request path reads and writes), and an HTTP/1.1
//! head turned back into HTTP/2 (pseudo-headers, no connection-specific fields).

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};

use crate::http::v1::request::RequestHead;
use crate::http::v1::response::ResponseHead;
use crate::http::v1::HeaderSpan;

/// How a message body goes over HTTP/1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body at all (END_STREAM on the HEADERS frame).
    None,
    /// `Content-Length` as the HTTP/2 message declared it: bytes as they come.
    Length,
    /// Unknown length: chunked, trailers in the trailer section.
    Chunked,
}

/// Fields HTTP/2 forbids (RFC 9113 §8.2.2) and HTTP/1.1 framing fields the bridge
/// rewrites itself.
fn connection_specific(name: &[u8]) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

/// How a received HTTP/2 message's body travels as HTTP/1.1.
pub fn body_of(headers: &HeaderMap, end_stream: bool) -> Body {
    if end_stream {
        Body::None
    } else if headers.contains_key(http::header::CONTENT_LENGTH) {
        Body::Length
    } else {
        Body::Chunked
    }
}

fn write_fields(headers: &HeaderMap, body: Body, out: &mut Vec<u8>) {
    let mut cookies = Vec::new();
    for (name, value) in headers {
        if connection_specific(name.as_str().as_bytes()) || name == http::header::TE {
            continue;
        }
        // HTTP/2 splits Cookie into crumbs; HTTP/1.1 wants one field (RFC 9113 §8.2.3).
        if name == http::header::COOKIE {
            if !cookies.is_empty() {
                cookies.extend_from_slice(b"; ");
            }
            cookies.extend_from_slice(value.as_bytes());
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !cookies.is_empty() {
        out.extend_from_slice(b"cookie: ");
        out.extend_from_slice(&cookies);
        out.extend_from_slice(b"\r\n");
    }
    if body == Body::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// An HTTP/2 request as an HTTP/1.1 head (`:authority` becomes `Host`).
pub fn request_to_h1(parts: &http::request::Parts, body: Body, out: &mut Vec<u8>) {
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.push(b' ');
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    out.extend_from_slice(if target.is_empty() {
        b"/"
    } else {
        target.as_bytes()
    });
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(a) = parts.uri.authority() {
            out.extend_from_slice(b"host: ");
            out.extend_from_slice(a.as_str().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    write_fields(&parts.headers, body, out);
}

/// An HTTP/2 response as an HTTP/1.1 head. `add_length`: a response that ends with its
/// headers and names no length gets `content-length: 0` (not for a HEAD request's
/// response, whose length describes a body it does not carry).
pub fn response_to_h1(
    parts: &http::response::Parts,
    body: Body,
    add_length: bool,
    out: &mut Vec<u8>,
) {
    let status = parts.status;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    // No body and no length: say so, or an HTTP/1.1 reader waits for the close.
    let bodiless = matches!(status.as_u16(), 100..=199 | 204 | 304);
    if add_length
        && body == Body::None
        && !bodiless
        && !parts.headers.contains_key(http::header::CONTENT_LENGTH)
    {
        out.extend_from_slice(b"content-length: 0\r\n");
    }
    write_fields(&parts.headers, body, out);
}

/// Copies the fields of an HTTP/1.1 head that HTTP/2 may carry.
fn fields_to_h2(
    buf: &[u8],
    spans: &[HeaderSpan],
    skip: &[&str],
    headers: &mut HeaderMap,
) -> Result<(), String> {
    for h in spans {
        let name = h.name.get(buf);
        if connection_specific(name)
            || skip.iter().any(|s| name.eq_ignore_ascii_case(s.as_bytes()))
            || crate::server::request_head::is_hop_by_hop(buf, spans, h)
        {
            continue;
        }
        let name = HeaderName::from_bytes(name)
            .map_err(|_| format!("field name `{}`", String::from_utf8_lossy(name)))?;
        let value =
            HeaderValue::from_bytes(h.value.get(buf)).map_err(|_| format!("value of `{name}`"))?;
        headers.append(name, value);
    }
    Ok(())
}

/// The response head the gateway wrote, for an HTTP/2 client.
pub fn h1_response_to_h2(
    buf: &[u8],
    head: &ResponseHead,
    spans: &[HeaderSpan],
) -> Result<Response<()>, String> {
    let mut resp = Response::new(());
    *resp.status_mut() = StatusCode::from_u16(head.status).map_err(|e| e.to_string())?;
    fields_to_h2(buf, spans, &[], resp.headers_mut())?;
    Ok(resp)
}

/// The request head the gateway wrote, for an HTTP/2 backend: `Host` becomes
/// `:authority`; `te: trailers` is always sent (the bridge carries trailers back).
pub fn h1_request_to_h2(
    buf: &[u8],
    head: &RequestHead,
    spans: &[HeaderSpan],
    scheme: &str,
) -> Result<Request<()>, String> {
    let host = head
        .host
        .map(|h| h.get(buf))
        .filter(|h| !h.is_empty())
        .ok_or("no Host for :authority")?;
    let target = head.target.get(buf);
    let uri = Uri::builder()
        .scheme(scheme)
        .authority(host)
        .path_and_query(target)
        .build()
        .map_err(|e| format!("request target: {e}"))?;
    let mut req = Request::new(());
    *req.method_mut() = Method::from_bytes(head.method.get(buf)).map_err(|e| e.to_string())?;
    *req.uri_mut() = uri;
    fields_to_h2(buf, spans, &["host", "te"], req.headers_mut())?;
    req.headers_mut()
        .insert(http::header::TE, HeaderValue::from_static("trailers"));
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h2_request_becomes_an_h1_head() {
        let req = Request::builder()
            .method("POST")
            .uri("https://api.test/orders?x=1")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .header("te", "trailers")
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let mut out = Vec::new();
        request_to_h1(&parts, Body::Chunked, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "POST /orders?x=1 HTTP/1.1\r\nhost: api.test\r\ncontent-type: application/grpc\r\ncookie: a=1; b=2\r\ntransfer-encoding: chunked\r\n\r\n"
        );
    }

    #[test]
    fn bodiless_response_gets_a_length() {
        let (parts, ()) = Response::builder()
            .status(200)
            .header("grpc-status", "12")
            .body(())
            .unwrap()
            .into_parts();
        let mut out = Vec::new();
        response_to_h1(&parts, Body::None, true, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\ngrpc-status: 12\r\n\r\n"
        );
    }
}
