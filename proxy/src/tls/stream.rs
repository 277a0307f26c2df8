//! A TLS stream over a monoio `TcpStream`, for both sides (client connections with a
//! rustls `ServerConnection`, backend connections with a `ClientConnection`).
//!
//! Written here rather than taken from monoio-rustls 0.4 because the gateway needs the
//! connection itself after the handshake (SNI name, ALPN, the client's certificate for
//! `context.Request.Certificate` and mTLS), which that crate does not expose, and because
//! the idle-connection wait (`has_buffered`) must see bytes rustls already holds.
//!
//! Ciphertext moves through two owned buffers (`rx` in, `tx` out) with monoio's
//! rent-style I/O; plaintext is copied in and out of rustls with its buffered API.

use std::io::{self, Read as _, Write as _};
use std::ops::{Deref, DerefMut};

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::net::TcpStream;
use rustls::{ConnectionCommon, SideData};

use crate::rent::ByteIo;
use crate::server::io::{consume, write_all};

/// Ciphertext read from the socket at once: one maximum TLS record and its header.
const RX: usize = 16 * 1024 + 512;

pub struct TlsStream<C> {
    tcp: TcpStream,
    conn: C,
    /// Ciphertext read from the socket that rustls has not taken yet.
    rx: Vec<u8>,
    /// Ciphertext rustls produced, on its way to the socket.
    tx: Vec<u8>,
    /// Plaintext rustls holds that the reader has not taken yet.
    plaintext: usize,
    /// The peer closed (close_notify or TCP EOF).
    eof: bool,
}

impl<C, SD> TlsStream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    pub fn new(tcp: TcpStream, conn: C) -> Self {
        TlsStream {
            tcp,
            conn,
            rx: Vec::new(),
            tx: Vec::new(),
            plaintext: 0,
            eof: false,
        }
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    pub fn conn(&self) -> &C {
        &self.conn
    }

    /// True when a read can complete without the socket: decrypted bytes are waiting,
    /// or ciphertext that may hold a record.
    pub fn has_buffered(&self) -> bool {
        self.plaintext > 0 || !self.rx.is_empty()
    }

    /// Runs the handshake to completion (including the session tickets TLS 1.3 sends
    /// right after it). Bytes the client sent after its Finished stay buffered.
    pub async fn handshake(&mut self) -> io::Result<()> {
        while self.conn.is_handshaking() {
            if self.conn.wants_write() {
                self.flush_tls().await?;
            } else if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed during the TLS handshake",
                ));
            } else if let Err(e) = self.pull().await {
                // Tell the peer why (the alert rustls queued), then fail.
                let _ = self.flush_tls().await;
                return Err(e);
            }
        }
        self.flush_tls().await
    }

    /// Reads ciphertext from the socket (unless some is buffered) and feeds rustls as
    /// much as it takes.
    async fn pull(&mut self) -> io::Result<()> {
        if !self.rx.is_empty() && !self.conn.wants_read() {
            return Err(io::Error::other("TLS connection stalled"));
        }
        if self.rx.is_empty() {
            if self.rx.capacity() < RX {
                self.rx.reserve_exact(RX);
            }
            let len = self.rx.len();
            let cap = self.rx.capacity();
            let owned = std::mem::take(&mut self.rx);
            let (res, slice) = self.tcp.read(owned.slice_mut(len..cap)).await;
            self.rx = slice.into_inner();
            if res? == 0 {
                self.eof = true;
                return Ok(());
            }
        }
        let mut fed = 0;
        while fed < self.rx.len() && self.conn.wants_read() {
            let mut rest = &self.rx[fed..];
            let n = self.conn.read_tls(&mut rest)?;
            fed += n;
            let state = match self.conn.process_new_packets() {
                Ok(state) => state,
                // The alert rustls queued goes out from `handshake` (nothing else writes
                // then); afterwards reads and writes may be in flight at once (HTTP/2),
                // so the read side never writes. (Keeping writes out of `pull` also
                // keeps every read future small: it sizes each connection's task.)
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            };
            self.plaintext = state.plaintext_bytes_to_read();
            if state.peer_has_closed() {
                self.eof = true;
            }
            if n == 0 {
                break;
            }
        }
        consume(&mut self.rx, fed);
        // Records rustls queued while reading (a KeyUpdate answer, an alert) go out with
        // the next write: the read side never writes, since with HTTP/2 a read and a
        // write can be in flight at once and their records would interleave.
        Ok(())
    }

    /// Writes everything rustls has queued.
    async fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.tx.clear();
            self.conn.write_tls(&mut self.tx)?;
            write_all(&mut self.tcp, &mut self.tx).await?;
        }
        Ok(())
    }

    /// Copies up to `out.len()` decrypted bytes, reading the socket when none wait.
    /// `Ok(0)`: the peer closed.
    async fn read_plain(&mut self, out: *mut u8, room: usize) -> io::Result<usize> {
        loop {
            if self.plaintext > 0 {
                let n = self.plaintext.min(room);
                // SAFETY: `out` points at `room` writable bytes of the caller's buffer
                // (monoio's `IoBufMut` contract), which may be uninitialised: zero the
                // `n` bytes first so a `&mut [u8]` over them is valid.
                let dst = unsafe {
                    std::ptr::write_bytes(out, 0, n);
                    std::slice::from_raw_parts_mut(out, n)
                };
                let got = self.conn.reader().read(dst)?;
                self.plaintext -= got;
                if got > 0 {
                    return Ok(got);
                }
                self.plaintext = 0;
            }
            if self.eof || room == 0 {
                return Ok(0);
            }
            self.pull().await?;
        }
    }

    /// Encrypts `data` and writes it to the socket. Returns how much rustls took.
    async fn write_plain(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.conn.wants_write() {
            self.flush_tls().await?;
        }
        let n = self.conn.writer().write(data)?;
        self.flush_tls().await?;
        Ok(n)
    }
}

impl<C, SD> ByteIo for TlsStream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    async fn read_into(&mut self, out: *mut u8, room: usize) -> io::Result<usize> {
        self.read_plain(out, room).await
    }

    async fn write_from(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_plain(data).await
    }

    async fn flush_out(&mut self) -> io::Result<()> {
        self.flush_tls().await
    }

    async fn close(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush_tls().await?;
        self.tcp.shutdown().await
    }
}
