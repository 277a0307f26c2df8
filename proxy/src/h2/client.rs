//! HTTP/2 to backends (`backends.<name>.protocol: h2` over TLS with ALPN `h2`, or
//! `h2c` cleartext with prior knowledge): one multiplexed session per backend per
//! shard, driven by its own task; each forwarded request is a [`ClientCall`] that
//! the request path writes as HTTP/1.1 and reads the response from as HTTP/1.1
//! (trailers in a chunked trailer section, so gRPC's `grpc-status` gets through).

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::rc::Rc;

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};

use super::bridge::{Framing, FromH1, ToH1};
use super::chunks::Decoder;
use super::convert::{body_of, h1_request_to_h2, response_to_h1};
use crate::http::v1::request::{parse_request, BodyFraming, HeadError, HeadLimits};
use crate::rent::{ByteIo, Rent};

/// A backend session: the handle requests are sent on, and whether it still lives
/// (cleared when its driver task ends or a call sees it broken).
#[derive(Clone)]
pub struct Session {
    pub send: SendRequest<Bytes>,
    pub alive: Rc<Cell<bool>>,
}

/// Starts an HTTP/2 session over `io` (already connected, TLS done) and spawns the
/// task that drives it; the session ends when the backend closes it (GOAWAY, idle
/// timeout, restart) or when every `SendRequest` clone is gone.
pub async fn handshake<S>(io: S) -> io::Result<Session>
where
    S: monoio::io::AsyncReadRent + monoio::io::AsyncWriteRent + Unpin + 'static,
{
    let io = monoio_compat::StreamWrapper::new(io);
    let (send, conn) = h2::client::Builder::new()
        .initial_window_size(256 * 1024)
        .initial_connection_window_size(1024 * 1024)
        .handshake(io)
        .await
        .map_err(io::Error::other)?;
    let alive = Rc::new(Cell::new(true));
    let flag = alive.clone();
    monoio::spawn(async move {
        if let Err(e) = conn.await {
            crate::debug!("HTTP/2 backend session ended: {e}");
        }
        flag.set(false);
    });
    Ok(Session { send, alive })
}

/// An error of a call. Streams the backend refused or never processed (GOAWAY,
/// REFUSED_STREAM) and a broken session read as a reset connection, which the request
/// path retries once on a fresh one (idempotent requests); a broken session is marked
/// dead so the next request opens a new one.
fn call_error(e: h2::Error, alive: &Cell<bool>) -> io::Error {
    let broken = e.is_go_away() || e.is_io();
    if broken {
        alive.set(false);
    }
    let kind = if broken || e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        io::ErrorKind::ConnectionReset
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, e)
}

enum Writing {
    /// Collecting the request head the request path writes.
    Head(Vec<u8>),
    Body(FromH1),
}

/// One request on an HTTP/2 backend session, seen as an HTTP/1.1 connection.
pub type ClientCall = Rent<H2Call>;

pub struct H2Call {
    send: SendRequest<Bytes>,
    alive: Rc<Cell<bool>>,
    scheme: &'static str,
    writing: Writing,
    response: Option<ResponseFuture>,
    reading: Option<ToH1>,
    /// The request was HEAD: its response's length says nothing about a body.
    is_head: bool,
    limits: HeadLimits,
}

impl H2Call {
    pub fn new(session: Session, tls: bool, limits: HeadLimits) -> H2Call {
        H2Call {
            send: session.send,
            alive: session.alive,
            scheme: if tls { "https" } else { "http" },
            writing: Writing::Head(Vec::new()),
            response: None,
            reading: None,
            is_head: false,
            limits,
        }
    }

    pub fn has_buffered(&self) -> bool {
        self.reading.as_ref().is_some_and(ToH1::has_buffered)
    }

    async fn write_bytes(&mut self, data: &[u8]) -> io::Result<()> {
        let buf = match &mut self.writing {
            Writing::Body(b) => return b.write(data).await,
            Writing::Head(buf) => {
                buf.extend_from_slice(data);
                buf
            }
        };
        let mut spans = Vec::new();
        let head = match parse_request(buf, &self.limits, &mut spans) {
            Ok(h) => h,
            Err(HeadError::Incomplete) => return Ok(()),
            Err(e) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("request head: {e:?}"),
                ))
            }
        };
        let req = h1_request_to_h2(buf, &head, &spans, self.scheme)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let framing = match head.framing {
            BodyFraming::None | BodyFraming::Length(0) => Framing::None,
            BodyFraming::Length(n) => Framing::Length(n),
            BodyFraming::Chunked => Framing::Chunked(Decoder::default()),
        };
        let rest = buf.split_off(head.head_len);
        poll_fn(|cx| self.send.poll_ready(cx))
            .await
            .map_err(|e| call_error(e, &self.alive))?;
        let end = matches!(framing, Framing::None);
        self.is_head = req.method() == http::Method::HEAD;
        let (response, stream) = self
            .send
            .send_request(req, end)
            .map_err(|e| call_error(e, &self.alive))?;
        self.response = Some(response);
        let mut body = FromH1::new(stream, framing);
        body.write(&rest).await?;
        self.writing = Writing::Body(body);
        Ok(())
    }

    async fn read_into(&mut self, out: *mut u8, room: usize) -> io::Result<usize> {
        if self.reading.is_none() {
            let Some(response) = self.response.take() else {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "no request was sent",
                ));
            };
            let resp = response.await.map_err(|e| call_error(e, &self.alive))?;
            let (parts, body) = resp.into_parts();
            let kind = body_of(&parts.headers, body.is_end_stream());
            let mut head = Vec::with_capacity(256);
            response_to_h1(&parts, kind, !self.is_head, &mut head);
            self.reading = Some(ToH1::new(head, body, kind));
        }
        match &mut self.reading {
            Some(r) => r.read(out, room).await,
            None => Ok(0),
        }
    }
}

impl Drop for H2Call {
    fn drop(&mut self) {
        if let Writing::Body(b) = &mut self.writing {
            b.finish(false);
        }
    }
}

impl ByteIo for H2Call {
    async fn read_into(&mut self, out: *mut u8, room: usize) -> io::Result<usize> {
        self.read_into(out, room).await
    }

    async fn write_from(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_bytes(data).await.map(|()| data.len())
    }

    async fn close(&mut self) -> io::Result<()> {
        if let Writing::Body(b) = &mut self.writing {
            b.finish(true);
        }
        Ok(())
    }
}
