//! The backend step: send the request to the backend, relay the response back.
//!
//! Order of events: build the upstream head (with the part of the body that is already
//! buffered), take a pooled connection or connect, send, answer `Expect: 100-continue`
//! ourselves and stream the rest of the body, read the response head (relaying 1xx),
//! write the response head, relay the body, and return the connection to the pool when
//! both messages ended cleanly.
//!
//! A pooled connection may have been closed by the backend while idle. If sending on it
//! fails, or it closes before a single response byte, the request is retried once on a
//! fresh connection — only for idempotent methods and only while the whole request is
//! still in our buffer (never for POST, never after streaming body bytes).

use tollgate_core::error::GatewayError;
use tollgate_core::routing::{RouteMatch, ServiceUrl};

use crate::http::v1::chunked::{ChunkError, ChunkedScanner};
use crate::http::v1::request::{BodyFraming, RequestHead};
use crate::http::v1::response::{parse_response, HeadError, ResponseFraming, ResponseHead};
use crate::snapshot::Snapshot;
use crate::upstream::{ConnectError, Dest, Upstream};

use super::connection::{Client, Next};
use super::io::{consume, read_more, write_all, Read};
use super::relay::{relay, Framing, RelayError};
use super::request_head::{self, Target};
use super::respond::send_error;
use super::response_head::{self, ClientConn};
use super::scratch::{Scratch, UPSTREAM_BUF};
use super::tunnel::Tunnel;
use super::Shard;

/// A routed request ready to forward.
pub struct Exchange<'a> {
    pub head: &'a RequestHead,
    pub route: RouteMatch,
    pub service: &'a ServiceUrl,
    pub dest: &'a Dest,
    /// The subscription key's query parameter, left out of the forwarded query.
    pub query_cut: Option<std::ops::Range<usize>>,
}

/// What we remember of the request once its head bytes are consumed.
#[derive(Clone, Copy)]
pub(super) struct ReqInfo {
    pub is_head: bool,
    pub idempotent: bool,
    pub keep_alive: bool,
    pub http10: bool,
    pub expect_continue: bool,
    pub websocket: bool,
}

impl ReqInfo {
    pub(super) fn of(head: &RequestHead, buf: &[u8]) -> ReqInfo {
        let method = head.method.get(buf);
        ReqInfo {
            is_head: method == b"HEAD",
            idempotent: matches!(
                method,
                b"GET" | b"HEAD" | b"PUT" | b"DELETE" | b"OPTIONS" | b"TRACE"
            ),
            keep_alive: head.keep_alive,
            http10: head.minor_version == 0,
            expect_continue: head.expect_continue,
            websocket: head.upgrade_websocket,
        }
    }
}

pub async fn forward(
    shard: &Shard,
    snap: &Snapshot,
    c: &mut Client,
    s: &mut Scratch,
    x: Exchange<'_>,
) -> Next {
    let head = x.head;
    let info = ReqInfo::of(head, &c.buf);
    let target = Target {
        service: x.service,
        rest: &head.path.get(&c.buf)[x.route.rest_start..],
        query: head.query.map(|q| q.get(&c.buf)),
        query_cut: x.query_cut.clone(),
        client_ip: c.peer.ip(),
        forwarded: &snap.forwarded,
        client_tls: c.stream.is_tls(),
    };
    s.out.clear();
    request_head::write(&mut s.out, &c.buf, head, &s.req_headers, &target);
    consume(&mut c.buf, head.head_len);

    // The buffered start of the body rides along with the head.
    let mut body = match head.framing {
        BodyFraming::None => Framing::Length(0),
        BodyFraming::Length(n) => Framing::Length(n),
        BodyFraming::Chunked => Framing::Chunked(ChunkedScanner::new(snap.limits.max_body_bytes)),
    };
    if let Err(e) = take_buffered_body(&mut body, &mut c.buf, &mut s.out) {
        return reject_body(c, s, e).await;
    }
    let (up, resp) = match exchange(
        shard,
        snap,
        c,
        s,
        x.dest,
        &mut body,
        info,
        snap.timeouts.backend_response,
    )
    .await
    {
        Ok(r) => r,
        Err(Failed::Answered(next)) => return next,
        Err(Failed::Backend {
            err,
            request_consumed,
        }) => {
            return fail(c, s, err, request_consumed, info).await;
        }
    };

    // Final response head.
    let upgrade = info.websocket && resp.status == 101;
    let until_close = resp.framing == ResponseFraming::UntilClose;
    let conn = if upgrade {
        ClientConn::Upgrade
    } else {
        ClientConn::keep_alive_unless(
            !info.keep_alive || until_close || shard.drain.draining(),
            info.http10,
        )
    };
    s.out.clear();
    response_head::write(&mut s.out, &s.ubuf, &resp, &s.resp_headers, conn);
    consume(&mut s.ubuf, resp.head_len);
    if upgrade {
        if write_all(&mut c.stream, &mut s.out).await.is_err() {
            return Next::Close;
        }
        let pending = std::mem::replace(&mut s.ubuf, Vec::with_capacity(UPSTREAM_BUF));
        return Next::Tunnel(Box::new(Tunnel {
            backend: up.stream,
            backend_pending: pending,
        }));
    }
    send_response_body(shard, snap, c, s, up, &resp, conn, info).await
}

/// Sends the response head already in `s.out` together with the part of the body that
/// arrived with it, relays the rest of the body, and pools the backend connection when
/// the exchange ended cleanly.
#[allow(clippy::too_many_arguments)]
pub(super) async fn send_response_body(
    shard: &Shard,
    snap: &Snapshot,
    c: &mut Client,
    s: &mut Scratch,
    mut up: Upstream,
    resp: &ResponseHead,
    conn: ClientConn,
    info: ReqInfo,
) -> Next {
    let until_close = resp.framing == ResponseFraming::UntilClose;
    let mut framing = match resp.framing {
        ResponseFraming::None => Framing::Length(0),
        ResponseFraming::Length(n) => Framing::Length(n),
        ResponseFraming::Chunked => Framing::Chunked(ChunkedScanner::new(u64::MAX)),
        ResponseFraming::UntilClose => Framing::UntilClose,
    };
    // The part of the body that came with the head goes out in the same write.
    if take_buffered_body(&mut framing, &mut s.ubuf, &mut s.out).is_err() {
        return fail(
            c,
            s,
            GatewayError::BackendProtocol("invalid chunked body"),
            true,
            info,
        )
        .await;
    }
    if write_all(&mut c.stream, &mut s.out).await.is_err() {
        return Next::Close;
    }
    if framing.is_done() {
        if resp.keep_alive && s.ubuf.is_empty() {
            shard.pool.put(up);
        }
        return if conn == ClientConn::Close {
            Next::Close
        } else {
            Next::KeepAlive
        };
    }
    match relay(
        &mut up.stream,
        &mut c.stream,
        &mut s.ubuf,
        &mut framing,
        snap.timeouts.backend_response,
    )
    .await
    {
        Ok(()) => {
            // Anything the backend sent past its response means it cannot be trusted.
            if resp.keep_alive && !until_close && s.ubuf.is_empty() {
                shard.pool.put(up);
            }
            // A body that runs until the close ended: say so (TLS close_notify, HTTP/2
            // END_STREAM); a connection dropped without it reads as cut short.
            if until_close {
                let _ = monoio::io::AsyncWriteRent::shutdown(&mut c.stream).await;
            }
        }
        // Mid-body failure: the response is cut; the client learns by the close.
        Err(_) => return Next::Close,
    }
    if conn == ClientConn::Close {
        Next::Close
    } else {
        Next::KeepAlive
    }
}

/// How sending a request to the backend failed.
pub(super) enum Failed {
    /// Already handled (the client went away, or got its error): continue with this.
    Answered(Next),
    /// The backend failed; `request_consumed` tells whether the client's request was
    /// read completely (so its connection may stay open).
    Backend {
        err: GatewayError,
        request_consumed: bool,
    },
}

/// Sends the request head (and buffered body start) in `s.out` to `addr`, streams the
/// rest of the body, and reads the backend's final response head into `s.ubuf`.
/// Retries once on a fresh connection when a pooled one turns out stale (see module docs).
#[allow(clippy::too_many_arguments)]
pub(super) async fn exchange(
    shard: &Shard,
    snap: &Snapshot,
    c: &mut Client,
    s: &mut Scratch,
    dest: &Dest,
    body: &mut Framing,
    info: ReqInfo,
    response_timeout: std::time::Duration,
) -> Result<(Upstream, ResponseHead), Failed> {
    let whole_request_buffered = body.is_done();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut up = match shard.pool.take(dest) {
            Some(up) => up,
            None => match shard
                .pool
                .connect(dest, snap.timeouts.backend_connect)
                .await
            {
                Ok(up) => up,
                Err(e) => {
                    let err = match &e {
                        ConnectError::Timeout => GatewayError::BackendConnectTimeout,
                        ConnectError::Io(_) => GatewayError::BackendConnectionFailure,
                        ConnectError::Tls(why) => {
                            // Operators need this one: a certificate problem, not an outage.
                            crate::warn!("backend {} TLS handshake failed: {why}", dest.addr);
                            GatewayError::BackendConnectionFailure
                        }
                    };
                    crate::debug!("backend {} connect failed: {e:?}", dest.addr);
                    return Err(Failed::Backend {
                        err,
                        request_consumed: whole_request_buffered,
                    });
                }
            },
        };
        let retry_ok = up.reused && info.idempotent && whole_request_buffered && attempt == 1;
        if write_all(&mut up.stream, &mut s.out).await.is_err() {
            if retry_ok {
                continue;
            }
            return Err(Failed::Backend {
                err: GatewayError::BackendConnectionFailure,
                request_consumed: whole_request_buffered,
            });
        }
        if !whole_request_buffered {
            if info.expect_continue {
                s.ubuf.clear();
                s.ubuf.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                if write_all(&mut c.stream, &mut s.ubuf).await.is_err() {
                    return Err(Failed::Answered(Next::Close));
                }
            }
            match relay(
                &mut c.stream,
                &mut up.stream,
                &mut c.buf,
                body,
                snap.timeouts.client_header,
            )
            .await
            {
                Ok(()) => {}
                Err(RelayError::Destination(_)) => {
                    return Err(Failed::Backend {
                        err: GatewayError::BackendConnectionFailure,
                        request_consumed: false,
                    });
                }
                Err(RelayError::Chunked(e)) => {
                    return Err(Failed::Answered(reject_body(c, s, e).await))
                }
                // The client went away or stalled mid-body: nothing to answer.
                Err(_) => return Err(Failed::Answered(Next::Close)),
            }
        }
        s.ubuf.clear();
        match read_response_head(snap, &mut up, &mut c.stream, s, info, response_timeout).await {
            Ok(resp) => return Ok((up, resp)),
            Err(HeadFailure::ClosedEarly) if retry_ok => continue,
            Err(HeadFailure::ClosedEarly) | Err(HeadFailure::Io) => {
                return Err(Failed::Backend {
                    err: GatewayError::BackendProtocol("connection closed or reset"),
                    request_consumed: true,
                });
            }
            Err(HeadFailure::Timeout) => {
                return Err(Failed::Backend {
                    err: GatewayError::BackendTimeout,
                    request_consumed: true,
                });
            }
            Err(HeadFailure::Malformed(why)) => {
                return Err(Failed::Backend {
                    err: GatewayError::BackendProtocol(why),
                    request_consumed: true,
                });
            }
            Err(HeadFailure::ClientGone) => return Err(Failed::Answered(Next::Close)),
        }
    }
}

/// Moves the already-buffered part of the request body behind the head in `out`.
pub(super) fn take_buffered_body(
    body: &mut Framing,
    buf: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), ChunkError> {
    let n = match body {
        Framing::Length(rem) => {
            let n = (*rem).min(buf.len() as u64);
            *rem -= n;
            n as usize
        }
        Framing::Chunked(scanner) => scanner.scan(buf)?.consumed,
        Framing::UntilClose => buf.len(),
    };
    out.extend_from_slice(&buf[..n]);
    consume(buf, n);
    Ok(())
}

enum HeadFailure {
    /// The backend closed before sending any byte of a response.
    ClosedEarly,
    Io,
    Timeout,
    Malformed(&'static str),
    ClientGone,
}

/// Reads the backend's final response head into `s.ubuf` / `s.resp_headers`,
/// relaying interim 1xx responses (other than 100, which the gateway answers itself)
/// to the client on the way.
async fn read_response_head(
    snap: &Snapshot,
    up: &mut Upstream,
    client: &mut super::stream::ClientStream,
    s: &mut Scratch,
    info: ReqInfo,
    response_timeout: std::time::Duration,
) -> Result<ResponseHead, HeadFailure> {
    let max = snap.limits.max_header_bytes;
    let deadline = monoio::time::Instant::now() + response_timeout;
    let mut got_bytes = false;
    loop {
        if !s.ubuf.is_empty() {
            match parse_response(
                &s.ubuf,
                info.is_head,
                max,
                snap.limits.max_headers,
                &mut s.resp_headers,
            ) {
                Ok(resp) if resp.is_interim() && resp.status != 101 => {
                    if resp.status != 100 {
                        s.out.clear();
                        response_head::write_interim(&mut s.out, &s.ubuf, &resp, &s.resp_headers);
                        if write_all(client, &mut s.out).await.is_err() {
                            return Err(HeadFailure::ClientGone);
                        }
                    }
                    consume(&mut s.ubuf, resp.head_len);
                    continue;
                }
                Ok(resp) => return Ok(resp),
                Err(HeadError::Incomplete) => {}
                Err(HeadError::BadRequest(why)) => return Err(HeadFailure::Malformed(why)),
                Err(_) => return Err(HeadFailure::Malformed("response head too large")),
            }
        }
        if s.ubuf.len() == s.ubuf.capacity() {
            let grow = s.ubuf.capacity().min(max.saturating_sub(s.ubuf.len()));
            if grow == 0 {
                return Err(HeadFailure::Malformed("response head too large"));
            }
            s.ubuf.reserve_exact(grow);
        }
        let left = deadline.saturating_duration_since(monoio::time::Instant::now());
        match read_more(&mut up.stream, &mut s.ubuf, left).await {
            Read::Data(_) => got_bytes = true,
            Read::Eof if !got_bytes => return Err(HeadFailure::ClosedEarly),
            Read::Failed(e) if !got_bytes && e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(HeadFailure::ClosedEarly)
            }
            Read::Eof | Read::Failed(_) => return Err(HeadFailure::Io),
            Read::TimedOut => return Err(HeadFailure::Timeout),
        }
    }
}

/// Answers a request whose chunked body turned out invalid or too large, and closes.
async fn reject_body(c: &mut Client, s: &mut Scratch, e: ChunkError) -> Next {
    let err = match e {
        ChunkError::TooLarge => GatewayError::BodyTooLarge,
        _ => GatewayError::BadRequest("invalid chunked body"),
    };
    send_error(&mut c.stream, &mut s.out, err, true).await;
    c.linger = true;
    Next::Close
}

/// Answers a backend failure. The client connection survives only when the request was
/// fully read (its framing is intact) and the client wants keep-alive.
async fn fail(
    c: &mut Client,
    s: &mut Scratch,
    err: GatewayError,
    request_consumed: bool,
    info: ReqInfo,
) -> Next {
    crate::debug!("{}: {err}", err.reason());
    let close = !request_consumed || !info.keep_alive;
    c.linger = !request_consumed;
    let sent = send_error(&mut c.stream, &mut s.out, err, close).await;
    if sent && !close {
        Next::KeepAlive
    } else {
        Next::Close
    }
}
