//! Message bodies across the HTTP/2 bridge.
//!
//! [`ToH1`] reads an HTTP/2 message (head already written as HTTP/1.1) as HTTP/1.1
//! bytes: the head, then the body as it arrives (chunked when its length is unknown,
//! trailers in the trailer section), returning flow-control credit as bytes are taken.
//! [`FromH1`] takes an HTTP/1.1 body as written (by length, chunked, or until the end)
//! and sends it as DATA frames and trailers, waiting for the peer's flow-control credit
//! so a slow HTTP/2 peer slows the sender down instead of filling memory.

use std::future::poll_fn;
use std::io;

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use http::HeaderMap;

use super::chunks::{encode_chunk, encode_end, Decoder, Piece};
use super::convert::Body;

fn h2_error(e: h2::Error) -> io::Error {
    io::Error::other(e)
}

/// An HTTP/2 message read as HTTP/1.1 bytes.
pub struct ToH1 {
    pending: Vec<u8>,
    pos: usize,
    body: Option<RecvStream>,
    kind: Body,
    ended: bool,
}

impl ToH1 {
    /// `head`: the HTTP/1.1 head already written; `body`: the HTTP/2 body to follow.
    pub fn new(head: Vec<u8>, body: RecvStream, kind: Body) -> ToH1 {
        ToH1 {
            pending: head,
            pos: 0,
            body: (kind != Body::None).then_some(body),
            kind,
            ended: false,
        }
    }

    pub fn has_buffered(&self) -> bool {
        self.pos < self.pending.len()
    }

    /// Copies up to `room` bytes to `out`; 0 at the end of the message.
    pub async fn read(&mut self, out: *mut u8, room: usize) -> io::Result<usize> {
        loop {
            if self.pos < self.pending.len() {
                let n = (self.pending.len() - self.pos).min(room);
                // SAFETY: `out` has `room` writable bytes (the caller's IoBufMut);
                // the source is our own initialised buffer; they cannot overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(self.pending.as_ptr().add(self.pos), out, n)
                };
                self.pos += n;
                return Ok(n);
            }
            if self.ended || room == 0 {
                return Ok(0);
            }
            self.pending.clear();
            self.pos = 0;
            let Some(body) = &mut self.body else {
                self.ended = true;
                continue;
            };
            match poll_fn(|cx| body.poll_data(cx)).await {
                Some(Ok(data)) => {
                    let _ = body.flow_control().release_capacity(data.len());
                    if self.kind == Body::Chunked {
                        encode_chunk(&data, &mut self.pending);
                    } else {
                        self.pending.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => return Err(h2_error(e)),
                None => {
                    if self.kind == Body::Chunked {
                        let trailers = poll_fn(|cx| body.poll_trailers(cx))
                            .await
                            .map_err(h2_error)?;
                        encode_end(trailers.as_ref(), &mut self.pending);
                    }
                    self.ended = true;
                }
            }
        }
    }
}

/// How the HTTP/1.1 body being written ends.
#[derive(Debug)]
pub enum Framing {
    None,
    Length(u64),
    Chunked(Decoder),
    UntilClose,
}

/// An HTTP/1.1 body sent as HTTP/2 DATA frames.
pub struct FromH1 {
    send: SendStream<Bytes>,
    framing: Framing,
    done: bool,
}

impl FromH1 {
    /// `framing`: `Framing::None` when the head went with END_STREAM.
    pub fn new(send: SendStream<Bytes>, framing: Framing) -> FromH1 {
        let done = matches!(framing, Framing::None | Framing::Length(0));
        FromH1 {
            send,
            framing,
            done,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Sends the body bytes in `data`; bytes past the end of the body are ignored.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.done {
            return Ok(());
        }
        match &mut self.framing {
            Framing::None => Ok(()),
            Framing::Length(left) => {
                let n = (*left).min(data.len() as u64) as usize;
                *left -= n as u64;
                let end = *left == 0;
                self.done = end;
                send_all(&mut self.send, Bytes::copy_from_slice(&data[..n]), end).await
            }
            Framing::UntilClose => {
                send_all(&mut self.send, Bytes::copy_from_slice(data), false).await
            }
            Framing::Chunked(decoder) => {
                let mut pieces = Vec::new();
                decoder
                    .decode(data, |p| pieces.push(p))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                for piece in pieces {
                    match piece {
                        Piece::Data(b) => send_all(&mut self.send, b, false).await?,
                        Piece::End(trailers) => {
                            self.done = true;
                            self.end(trailers)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Ends the stream (a body that runs until the end); `trailers` when there are any.
    fn end(&mut self, trailers: HeaderMap) -> io::Result<()> {
        if trailers.is_empty() {
            self.send.send_data(Bytes::new(), true).map_err(h2_error)
        } else {
            self.send.send_trailers(trailers).map_err(h2_error)
        }
    }

    /// The writer is done with the message. `complete`: it ended properly (shutdown),
    /// which ends a body that runs until the close; otherwise (dropped, failed) a body
    /// not yet complete resets the stream, so the peer does not take it as complete.
    pub fn finish(&mut self, complete: bool) {
        if self.done {
            return;
        }
        self.done = true;
        if complete && matches!(self.framing, Framing::UntilClose) {
            let _ = self.end(HeaderMap::new());
        } else {
            self.send.send_reset(h2::Reason::INTERNAL_ERROR);
        }
    }
}

/// How long a peer may grant no flow-control credit before the stream is given up:
/// a client that never sends WINDOW_UPDATE must not pin a task and a backend
/// connection forever.
pub const SEND_STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// Sends `data` as the peer's flow-control window allows; `end` closes the stream.
pub async fn send_all(send: &mut SendStream<Bytes>, mut data: Bytes, end: bool) -> io::Result<()> {
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let credit = monoio::time::timeout(SEND_STALL, poll_fn(|cx| send.poll_capacity(cx)));
        let granted = match credit.await {
            Ok(Some(Ok(n))) => n,
            Ok(Some(Err(e))) => return Err(h2_error(e)),
            Ok(None) => return Err(io::Error::other("HTTP/2 stream closed")),
            Err(_) => {
                send.send_reset(h2::Reason::CANCEL);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "HTTP/2 peer granted no flow-control credit",
                ));
            }
        };
        if granted == 0 {
            continue;
        }
        let chunk = data.split_to(granted.min(data.len()));
        let last = end && data.is_empty();
        send.send_data(chunk, last).map_err(h2_error)?;
        if last {
            return Ok(());
        }
    }
    if end {
        send.send_data(Bytes::new(), true).map_err(h2_error)?;
    }
    Ok(())
}
