//! HTTP/2 to backends (`backends.<name>.protocol: h2` over TLS with ALPN `h2`, or
//! `h2c` cleartext with prior knowledge): one multiplexed session per backend per
//! shard, driven by its own task; each forwarded request is a [`ClientCall`] that
//! the request path writes as HTTP/1.1 and reads the response from as HTTP/1.1
//! (trailers in a chunked trailer section, so gRPC's `grpc-status` gets through).

use std::future::poll_fn;
use std::io;

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};

use super::bridge::{Framing, FromH1, ToH1};
use super::chunks::Decoder;
use super::convert::{body_of, h1_request_to_h2, response_to_h1};
use crate::http::v1::request::{parse_request, BodyFraming, HeadError, HeadLimits};
use crate::rent::{ByteIo, Rent};

/// Starts an HTTP/2 session over `io` (already connected, TLS done) and spawns the
/// task that drives it; the session ends when the backend closes it or when every
/// `SendRequest` clone is gone.
pub async fn handshake<S>(io: S) -> io::Result<SendRequest<Bytes>>
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
    monoio::spawn(async move {
        if let Err(e) = conn.await {
            crate::debug!("HTTP/2 backend session ended: {e}");
        }
    });
    Ok(send)
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
    scheme: &'static str,
    writing: Writing,
    response: Option<ResponseFuture>,
    reading: Option<ToH1>,
    limits: HeadLimits,
}

impl H2Call {
    pub fn new(send: SendRequest<Bytes>, tls: bool, limits: HeadLimits) -> H2Call {
        H2Call {
            send,
            scheme: if tls { "https" } else { "http" },
            writing: Writing::Head(Vec::new()),
            response: None,
            reading: None,
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
            .map_err(io::Error::other)?;
        let end = matches!(framing, Framing::None);
        let (response, stream) = self.send.send_request(req, end).map_err(io::Error::other)?;
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
            let resp = response.await.map_err(io::Error::other)?;
            let (parts, body) = resp.into_parts();
            let kind = body_of(&parts.headers, body.is_end_stream());
            let mut head = Vec::with_capacity(256);
            response_to_h1(&parts, kind, &mut head);
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
            b.finish();
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
            b.finish();
        }
        Ok(())
    }
}
