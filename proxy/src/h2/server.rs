//! HTTP/2 from clients: over TLS when ALPN picks `h2`, or cleartext (h2c) with prior
//! knowledge on the plain listener when `gateway.http2.h2c` is on.
//!
//! One task per connection drives hyperium's `h2` (framing, HPACK, flow control,
//! SETTINGS limits and its defences against rapid reset and CONTINUATION floods); each
//! stream becomes a task that runs the gateway's ordinary request path over a
//! [`ServerStream`]: the request read as HTTP/1.1, the response written as HTTP/1.1 and
//! sent back as HEADERS, DATA and trailers. Routing, identity, policies, forwarding and
//! errors are therefore exactly those of HTTP/1.1.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;

use super::bridge::{Framing, FromH1, ToH1};
use super::chunks::Decoder;
use super::convert::{body_of, h1_response_to_h2, request_to_h1};
use super::grpc;
use super::prefixed::Prefixed;
use crate::http::v1::response::{parse_response, HeadError, ResponseFraming};
use crate::rent::{ByteIo, Rent};
use crate::server::stream::ClientConn;
use crate::server::Shard;
use crate::tls::SessionInfo;

/// The client connection preface (RFC 9113 §3.4): how an h2c client starts.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How often an open connection checks for shutdown and idleness.
const TICK: Duration = Duration::from_millis(250);
/// How long an idle connection told to go away (GOAWAY) may take to finish.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves one HTTP/2 connection until the client or the gateway ends it. `prefix`:
/// bytes already read from the connection (the preface of an h2c client).
pub async fn serve(
    shard: Rc<Shard>,
    io: ClientConn,
    prefix: Vec<u8>,
    peer: SocketAddr,
    session: Rc<SessionInfo>,
) {
    let snap = shard.snapshot();
    let s = &snap.http2;
    let tls = io.is_tls();
    let io = monoio_compat::StreamWrapper::new(Prefixed::new(prefix, io));
    // Validated at load: 1 ..= 2^31 - 1.
    let window = s.initial_window_size.0 as u32;
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(s.max_concurrent_streams)
        .initial_window_size(window)
        .initial_connection_window_size(window.saturating_mul(4).min(u32::MAX >> 1))
        .max_header_list_size(snap.limits.max_header_bytes as u32)
        .max_send_buffer_size(s.max_send_buffer.0 as usize)
        .max_pending_accept_reset_streams(s.max_pending_resets as usize)
        .max_local_error_reset_streams(Some(s.max_local_resets as usize));
    let handshake = monoio::time::timeout(snap.timeouts.client_header, builder.handshake(io));
    let mut conn = match handshake.await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            crate::debug!("HTTP/2 handshake with {peer} failed: {e}");
            return;
        }
        Err(_) => return,
    };
    let open = Rc::new(std::cell::Cell::new(0usize));
    let mut idle_since = monoio::time::Instant::now();
    // Set once GOAWAY went out: past it the connection is closed however the client
    // behaves (h2 sends the final GOAWAY only when the client answers a PING).
    let mut close_by: Option<monoio::time::Instant> = None;
    let max_open = s.max_concurrent_streams as usize;
    loop {
        // Rapid reset (CVE-2023-44487): a stream the client resets still holds its
        // task until the request path notices, so at most `max-concurrent-streams`
        // tasks run per connection. Beyond that, new streams wait unaccepted while the
        // connection keeps being driven, and resets of waiting streams count against
        // `max-pending-resets`, past which h2 ends the connection (ENHANCE_YOUR_CALM).
        let next = if open.get() >= max_open {
            monoio::select! {
                r = poll_fn(|cx| conn.poll_closed(cx)) => {
                    if let Err(e) = r {
                        crate::debug!("HTTP/2 connection from {peer} ended: {e}");
                    }
                    break;
                }
                _ = monoio::time::sleep(Duration::from_millis(2)) => None,
            }
        } else {
            monoio::select! {
                r = conn.accept() => Some(r),
                _ = monoio::time::sleep(TICK) => None,
            }
        };
        match next {
            Some(Some(Ok((req, respond)))) => {
                idle_since = monoio::time::Instant::now();
                open.set(open.get() + 1);
                let (shard, session, open) = (shard.clone(), session.clone(), open.clone());
                monoio::spawn(async move {
                    stream(shard, req, respond, peer, session, tls).await;
                    open.set(open.get() - 1);
                });
            }
            Some(Some(Err(e))) => {
                crate::debug!("HTTP/2 connection from {peer} ended: {e}");
                break;
            }
            Some(None) => break,
            None => {
                let now = monoio::time::Instant::now();
                if open.get() > 0 {
                    idle_since = now;
                }
                let draining = shard.drain.draining();
                let idle = now.duration_since(idle_since) >= snap.timeouts.keepalive_idle;
                match close_by {
                    None if draining || idle => {
                        // GOAWAY: streams in progress finish, no new ones start.
                        conn.graceful_shutdown();
                        let grace = if draining {
                            snap.timeouts.shutdown_grace
                        } else {
                            CLOSE_GRACE
                        };
                        close_by = Some(now + grace);
                    }
                    Some(t) if now >= t => {
                        conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    // Let streams still running finish their responses, within the same bounds.
    let end = close_by.unwrap_or_else(|| monoio::time::Instant::now() + CLOSE_GRACE);
    while open.get() > 0 && monoio::time::Instant::now() < end {
        monoio::select! {
            _ = poll_fn(|cx| conn.poll_closed(cx)) => break,
            _ = monoio::time::sleep(TICK) => {}
        }
    }
}

/// One stream: the request path runs over a [`ServerStream`].
async fn stream(
    shard: Rc<Shard>,
    req: http::Request<h2::RecvStream>,
    respond: SendResponse<Bytes>,
    peer: SocketAddr,
    session: Rc<SessionInfo>,
    tls: bool,
) {
    let (parts, body) = req.into_parts();
    let kind = body_of(&parts.headers, body.is_end_stream());
    let mut head = Vec::with_capacity(512);
    request_to_h1(&parts, kind, &mut head);
    let grpc = grpc::is_grpc(&parts.headers);
    let snap = shard.snapshot();
    let stream = H2Stream {
        reader: ToH1::new(head, body, kind),
        writer: Writer::Head {
            respond,
            buf: Vec::new(),
            is_head: parts.method == http::Method::HEAD,
            grpc,
        },
        tls,
        max_header_bytes: snap.limits.max_header_bytes,
        max_headers: snap.limits.max_headers,
    };
    crate::server::serve_stream(shard, Box::new(Rent(stream)), peer, (*session).clone()).await;
}

enum Writer {
    /// Collecting the response head.
    Head {
        respond: SendResponse<Bytes>,
        buf: Vec<u8>,
        is_head: bool,
        grpc: bool,
    },
    /// A gateway error answering a gRPC call: its JSON body is collected, then sent as
    /// a trailers-only gRPC response.
    GrpcError {
        respond: SendResponse<Bytes>,
        status: u16,
        body: Vec<u8>,
        left: u64,
    },
    Body(FromH1),
    Done,
}

/// One HTTP/2 stream as the request path sees a connection: it reads the request as
/// HTTP/1.1 and writes the response as HTTP/1.1.
pub type ServerStream = Rent<H2Stream>;

pub struct H2Stream {
    reader: ToH1,
    writer: Writer,
    tls: bool,
    max_header_bytes: usize,
    max_headers: usize,
}

impl H2Stream {
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    pub fn has_buffered(&self) -> bool {
        self.reader.has_buffered()
    }

    async fn write_bytes(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.writer {
            Writer::Head { buf, .. } => {
                buf.extend_from_slice(data);
                self.try_head().await
            }
            Writer::GrpcError { body, left, .. } => {
                let n = (*left).min(data.len() as u64) as usize;
                body.extend_from_slice(&data[..n]);
                *left -= n as u64;
                if *left == 0 {
                    self.send_grpc_error()?;
                }
                Ok(())
            }
            Writer::Body(b) => b.write(data).await,
            Writer::Done => Ok(()),
        }
    }

    /// Sends the response head once it is complete (informational responses are
    /// dropped: HTTP/2 clients get the final one).
    async fn try_head(&mut self) -> io::Result<()> {
        let Writer::Head { buf, is_head, .. } = &mut self.writer else {
            return Ok(());
        };
        let mut spans = Vec::new();
        let head = loop {
            match parse_response(
                buf,
                *is_head,
                self.max_header_bytes,
                self.max_headers,
                &mut spans,
            ) {
                Ok(h) if (100..200).contains(&h.status) => {
                    buf.drain(..h.head_len);
                }
                Ok(h) => break h,
                Err(HeadError::Incomplete) => return Ok(()),
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("response head: {e:?}"),
                    ))
                }
            }
        };
        let resp = h1_response_to_h2(buf, &head, &spans)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let rest = buf.split_off(head.head_len);
        let Writer::Head { respond, grpc, .. } = std::mem::replace(&mut self.writer, Writer::Done)
        else {
            unreachable!("matched above");
        };
        let framing = match head.framing {
            ResponseFraming::None | ResponseFraming::Length(0) => Framing::None,
            ResponseFraming::Length(n) => Framing::Length(n),
            ResponseFraming::Chunked => Framing::Chunked(Decoder::default()),
            ResponseFraming::UntilClose => Framing::UntilClose,
        };
        if grpc && !grpc::is_grpc(resp.headers()) {
            let left = match framing {
                Framing::Length(n) => n.min(grpc::MAX_ERROR_BODY),
                _ => 0,
            };
            let n = left.min(rest.len() as u64) as usize;
            self.writer = Writer::GrpcError {
                respond,
                status: head.status,
                body: rest[..n].to_vec(),
                left: left - n as u64,
            };
            if let Writer::GrpcError { left: 0, .. } = self.writer {
                self.send_grpc_error()?;
            }
            return Ok(());
        }
        let mut respond = respond;
        let end = matches!(framing, Framing::None);
        let send = respond.send_response(resp, end).map_err(io::Error::other)?;
        let mut body = FromH1::new(send, framing);
        body.write(&rest).await?;
        self.writer = Writer::Body(body);
        Ok(())
    }

    fn send_grpc_error(&mut self) -> io::Result<()> {
        if let Writer::GrpcError {
            mut respond,
            status,
            body,
            ..
        } = std::mem::replace(&mut self.writer, Writer::Done)
        {
            let resp = grpc::error_response(status, &body);
            respond
                .send_response(resp, true)
                .map_err(io::Error::other)?;
        }
        Ok(())
    }

    /// The request path is done with the stream; `complete`: it shut the stream down
    /// (a body running until the close ended), rather than dropping it.
    fn finish(&mut self, complete: bool) {
        match std::mem::replace(&mut self.writer, Writer::Done) {
            Writer::Body(mut b) => b.finish(complete),
            Writer::GrpcError { .. } => {
                let _ = self.send_grpc_error();
            }
            Writer::Head { mut respond, .. } => respond.send_reset(h2::Reason::INTERNAL_ERROR),
            Writer::Done => {}
        }
    }
}

impl Drop for H2Stream {
    fn drop(&mut self) {
        self.finish(false);
    }
}

impl ByteIo for H2Stream {
    async fn read_into(&mut self, out: *mut u8, room: usize) -> io::Result<usize> {
        self.reader.read(out, room).await
    }

    async fn write_from(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_bytes(data).await.map(|()| data.len())
    }

    async fn close(&mut self) -> io::Result<()> {
        self.finish(true);
        Ok(())
    }
}
