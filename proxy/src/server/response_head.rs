//! Writing the response head sent to the client from the backend's response head.
//!
//! The status line keeps the backend's code and reason. Hop-by-hop fields are dropped
//! (as for requests); `Transfer-Encoding: chunked` stays because the body is relayed in
//! its chunked form. The gateway adds its own `Connection` field when it will close the
//! connection, and `Connection: upgrade` + `Upgrade` on a 101.

use crate::http::v1::response::ResponseHead;
use crate::http::v1::HeaderSpan;

use super::request_head::is_hop_by_hop;

/// How the client connection continues after this response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientConn {
    KeepAlive,
    /// HTTP/1.0 client that asked for keep-alive: say so explicitly.
    KeepAlive10,
    Close,
    Upgrade,
}

impl ClientConn {
    /// `Close` when the connection must close, otherwise keep-alive (said explicitly to
    /// an HTTP/1.0 client).
    pub fn keep_alive_unless(close: bool, http10: bool) -> Self {
        if close {
            ClientConn::Close
        } else if http10 {
            ClientConn::KeepAlive10
        } else {
            ClientConn::KeepAlive
        }
    }
}

pub fn write(
    out: &mut Vec<u8>,
    buf: &[u8],
    head: &ResponseHead,
    headers: &[HeaderSpan],
    conn: ClientConn,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    let status = head.status;
    out.extend_from_slice(&[
        b'0' + (status / 100 % 10) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(head.reason.get(buf));
    out.extend_from_slice(b"\r\n");
    for h in headers {
        let keep_upgrade = conn == ClientConn::Upgrade && h.is(buf, "upgrade");
        if !keep_upgrade && is_hop_by_hop(buf, headers, h) {
            continue;
        }
        out.extend_from_slice(h.name.get(buf));
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.get(buf));
        out.extend_from_slice(b"\r\n");
    }
    match conn {
        ClientConn::KeepAlive => {}
        ClientConn::KeepAlive10 => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ClientConn::Close => out.extend_from_slice(b"Connection: close\r\n"),
        ClientConn::Upgrade => out.extend_from_slice(b"Connection: upgrade\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends an interim (1xx) response unchanged except for hop-by-hop fields.
pub fn write_interim(out: &mut Vec<u8>, buf: &[u8], head: &ResponseHead, headers: &[HeaderSpan]) {
    write(out, buf, head, headers, ClientConn::KeepAlive);
}
