//! Owned-buffer I/O helpers over monoio's rent-style API.
//!
//! io_uring needs the kernel to own the buffer while an operation is in flight, so
//! monoio takes buffers by value and hands them back. These helpers keep that dance in
//! one place: read appends into a `Vec`'s spare capacity, write sends a range.

use std::io;
use std::time::Duration;

use monoio::buf::{IoBuf, IoBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};

/// Outcome of a bounded read.
pub enum Read {
    Data(usize),
    Eof,
    TimedOut,
    Failed(io::Error),
}

/// Reads into the spare capacity of `buf` (after `buf.len()`), within `limit`.
/// `buf` must have spare capacity.
pub async fn read_more<S: AsyncReadRent>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    limit: Duration,
) -> Read {
    debug_assert!(buf.capacity() > buf.len(), "read_more needs spare capacity");
    let len = buf.len();
    let cap = buf.capacity();
    let owned = std::mem::take(buf);
    match monoio::time::timeout(limit, stream.read(owned.slice_mut(len..cap))).await {
        Ok((res, slice)) => {
            *buf = slice.into_inner();
            match res {
                Ok(0) => Read::Eof,
                Ok(n) => Read::Data(n),
                Err(e) => Read::Failed(e),
            }
        }
        // The read future was dropped with the buffer inside: monoio cancels the
        // operation. The caller closes the connection, so nothing is lost that matters.
        Err(_) => Read::TimedOut,
    }
}

/// Writes `buf[range]` completely.
pub async fn write_range<S: AsyncWriteRentExt>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    start: usize,
    end: usize,
) -> io::Result<()> {
    if start == end {
        return Ok(());
    }
    let owned = std::mem::take(buf);
    let (res, slice) = stream.write_all(owned.slice(start..end)).await;
    *buf = slice.into_inner();
    res.map(|_| ())
}

/// Writes all of `buf`.
pub async fn write_all<S: AsyncWriteRentExt>(stream: &mut S, buf: &mut Vec<u8>) -> io::Result<()> {
    let end = buf.len();
    write_range(stream, buf, 0, end).await
}

/// Drops the first `n` bytes of `buf`, keeping the rest (pipelined data) at the front.
pub fn consume(buf: &mut Vec<u8>, n: usize) {
    debug_assert!(n <= buf.len(), "consume past end: {n} > {}", buf.len());
    let n = n.min(buf.len());
    if n == buf.len() {
        buf.clear();
    } else {
        buf.copy_within(n.., 0);
        buf.truncate(buf.len() - n);
    }
}

/// Resolves when the client closed its side of `tcp` (FIN with nothing unread): a
/// request waiting for something (a `limit-concurrency` line) can then be dropped. Never
/// resolves when the client sent more bytes (they stay unread for later) or without a
/// socket (an HTTP/2 stream; its connection cancels it).
pub async fn peer_closed(tcp: Option<&monoio::net::TcpStream>) {
    use std::os::fd::AsRawFd;
    let Some(tcp) = tcp else {
        return std::future::pending().await;
    };
    loop {
        if tcp.readable(false).await.is_err() {
            return;
        }
        let mut byte = 0u8;
        // SAFETY: recv(2) on a socket this task owns, into a valid one-byte buffer; PEEK
        // leaves the data in the socket, DONTWAIT never blocks the shard.
        let n = unsafe {
            libc::recv(
                tcp.as_raw_fd(),
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        match n {
            0 => return,
            1.. => return std::future::pending().await,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::Interrupted {
                    return;
                }
            }
        }
    }
}
