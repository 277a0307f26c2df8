//! monoio's owned-buffer I/O traits over the bridge's byte-oriented streams, written
//! once for both sides (`server::ServerStream`, `client::ClientCall`).

use std::io;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut, RawBuf};
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::BufResult;

/// A stream of HTTP/1.1 bytes in both directions. (Shards are single-threaded: the
/// futures need not be `Send`.)
#[allow(async_fn_in_trait)]
pub trait ByteIo {
    /// Copies up to `room` bytes to `out` (uninitialised memory, written only); 0 at
    /// the end.
    async fn read_into(&mut self, out: *mut u8, room: usize) -> io::Result<usize>;
    /// Takes all of `data`.
    async fn write_bytes(&mut self, data: &[u8]) -> io::Result<()>;
    /// The writer is done (shutdown).
    fn finish(&mut self);
}

/// [`ByteIo`] as monoio's `AsyncReadRent` + `AsyncWriteRent`.
pub struct Rent<T>(pub T);

impl<T: ByteIo> AsyncReadRent for Rent<T> {
    async fn read<B: IoBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
        let room = buf.bytes_total();
        match self.0.read_into(buf.write_ptr(), room).await {
            Ok(n) => {
                // SAFETY: `read_into` initialised `n` bytes from `write_ptr()`.
                unsafe { buf.set_init(n) };
                (Ok(n), buf)
            }
            Err(e) => (Err(e), buf),
        }
    }

    async fn readv<B: IoVecBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
        // SAFETY: the raw buffer borrows `buf`'s first iovec, alive for the call.
        let n = match unsafe { RawBuf::new_from_iovec_mut(&mut buf) } {
            Some(raw) => self.read(raw).await.0,
            None => Ok(0),
        };
        if let Ok(n) = n {
            // SAFETY: `n` bytes were written into the first iovec.
            unsafe { buf.set_init(n) };
        }
        (n, buf)
    }
}

impl<T: ByteIo> AsyncWriteRent for Rent<T> {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        // SAFETY: `read_ptr()` points at `bytes_init()` initialised bytes we own.
        let data = unsafe { std::slice::from_raw_parts(buf.read_ptr(), buf.bytes_init()) };
        let n = data.len();
        let res = self.0.write_bytes(data).await.map(|()| n);
        (res, buf)
    }

    async fn writev<B: IoVecBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        // SAFETY: the raw buffer borrows `buf`'s first iovec, alive for the call.
        let n = match unsafe { RawBuf::new_from_iovec(&buf) } {
            Some(raw) => self.write(raw).await.0,
            None => Ok(0),
        };
        (n, buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.0.finish();
        Ok(())
    }
}
