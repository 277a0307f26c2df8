//! Writing the request head sent to the backend.
//!
//! Start line: the method, the service URL's base path + the API-relative path + the
//! query, `HTTP/1.1` (HTTP/1.0 for 1.0 clients, so the backend never answers chunked to
//! a client that cannot read it). Fields: the client's, minus hop-by-hop fields
//! (`Connection` and every field it names, `Keep-Alive`, `Proxy-Connection`, `TE`,
//! `Upgrade` unless this is a WebSocket handshake, `Expect` which the gateway answers
//! itself, `Proxy-Authorization`), with `Host` rewritten to the backend's authority
//! unless `preserve-host`, and `X-Forwarded-For/-Proto/-Host` as configured.

use std::io::Write as _;
use std::net::IpAddr;

use tollgate_core::config::Forwarded;
use tollgate_core::routing::ServiceUrl;

use crate::http::v1::request::RequestHead;
use crate::http::v1::HeaderSpan;

/// Hop-by-hop fields never forwarded (RFC 9110 §7.6.1, plus the usual extras).
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "upgrade",
    "proxy-authorization",
    "expect",
];

/// True when `name` is hop-by-hop by itself or is listed in a `Connection` field.
pub fn is_hop_by_hop(buf: &[u8], headers: &[HeaderSpan], h: &HeaderSpan) -> bool {
    let name = h.name.get(buf);
    if HOP_BY_HOP
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
    {
        return true;
    }
    headers.iter().filter(|c| c.is(buf, "connection")).any(|c| {
        c.value
            .get(buf)
            .split(|&b| b == b',')
            .any(|tok| tok.trim_ascii().eq_ignore_ascii_case(name))
    })
}

/// Everything the head writer needs besides the parsed request.
pub struct Target<'a> {
    pub service: &'a ServiceUrl,
    /// Path relative to the API (`/orders/5`), may be empty.
    pub rest: &'a [u8],
    pub query: Option<&'a [u8]>,
    /// A range of `query` to leave out (the subscription key parameter).
    pub query_cut: Option<std::ops::Range<usize>>,
    pub client_ip: IpAddr,
    pub forwarded: &'a Forwarded,
    /// The client came over TLS (`X-Forwarded-Proto: https`).
    pub client_tls: bool,
}

/// Appends the upstream request head for `head` (parsed from `buf`) to `out`.
pub fn write(
    out: &mut Vec<u8>,
    buf: &[u8],
    head: &RequestHead,
    headers: &[HeaderSpan],
    t: &Target<'_>,
) {
    out.extend_from_slice(head.method.get(buf));
    out.push(b' ');
    out.extend_from_slice(t.service.base_path.as_bytes());
    if t.rest.is_empty() || t.rest[0] != b'/' {
        out.push(b'/');
    }
    out.extend_from_slice(t.rest);
    match (t.query, &t.query_cut) {
        (Some(q), Some(cut)) => {
            let (before, after) = super::identify::cut_query(q, cut);
            if !before.is_empty() || !after.is_empty() {
                out.push(b'?');
                out.extend_from_slice(before);
                out.extend_from_slice(after);
            }
        }
        (Some(q), None) => {
            out.push(b'?');
            out.extend_from_slice(q);
        }
        (None, _) => {}
    }
    out.extend_from_slice(if head.minor_version == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });

    let mut xff: Option<&[u8]> = None;
    for h in headers {
        if is_hop_by_hop(buf, headers, h) {
            continue;
        }
        if h.is(buf, "host") && !t.forwarded.preserve_host {
            continue;
        }
        if t.forwarded.x_forwarded_for && h.is(buf, "x-forwarded-for") {
            // Several X-Forwarded-For lines are joined with the first one's position lost;
            // the common case is one line, which is extended below.
            if xff.is_none() {
                xff = Some(h.value.get(buf));
            }
            continue;
        }
        if (t.forwarded.x_forwarded_proto && h.is(buf, "x-forwarded-proto"))
            || (t.forwarded.x_forwarded_host && h.is(buf, "x-forwarded-host"))
        {
            continue;
        }
        out.extend_from_slice(h.name.get(buf));
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.get(buf));
        out.extend_from_slice(b"\r\n");
    }
    if !t.forwarded.preserve_host || head.host.is_none() {
        out.extend_from_slice(b"Host: ");
        out.extend_from_slice(t.service.authority.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if t.forwarded.x_forwarded_for {
        out.extend_from_slice(b"X-Forwarded-For: ");
        if let Some(prev) = xff {
            out.extend_from_slice(prev);
            out.extend_from_slice(b", ");
        }
        let _ = write!(out, "{}", t.client_ip);
        out.extend_from_slice(b"\r\n");
    }
    if t.forwarded.x_forwarded_proto {
        out.extend_from_slice(if t.client_tls {
            b"X-Forwarded-Proto: https\r\n"
        } else {
            b"X-Forwarded-Proto: http\r\n"
        });
    }
    if t.forwarded.x_forwarded_host {
        if let Some(host) = head.host {
            out.extend_from_slice(b"X-Forwarded-Host: ");
            out.extend_from_slice(host.get(buf));
            out.extend_from_slice(b"\r\n");
        }
    }
    if head.upgrade_websocket {
        out.extend_from_slice(b"Connection: upgrade\r\nUpgrade: websocket\r\n");
    } else if head.minor_version == 0 {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}
