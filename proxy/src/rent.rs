//! monoio's owned-buffer I/O traits, written once: [`Rent`] gives them to any
//! [`ByteIo`] stream (the TLS stream, the HTTP/2 bridge's streams), and `rent_enum!` to
//! an enum of streams by delegation (`ClientStream`, `BackendStream`).

use std::io;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut, RawBuf};
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::BufResult;

/// A byte stream that copies in and out of the caller's memory. (Shards are
/// single-threaded: the futures need not be `Send`.)
#[allow(async_fn_in_trait)]
pub trait ByteIo {
    /// Copies up to `room` bytes to `out` (uninitialised memory, written only); 0 at
    /// the end.
    async fn read_into(&mut self, out: *mut u8, room: usize) -> io::Result<usize>;
    /// Takes some of `data` (at least one byte unless it fails); how many.
    async fn write_from(&mut self, data: &[u8]) -> io::Result<usize>;
    async fn flush_out(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// The writer is done (shutdown).
    async fn close(&mut self) -> io::Result<()>;
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
        let res = self.0.write_from(data).await;
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
        self.0.flush_out().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.0.close().await
    }
}

/// Implements `AsyncReadRent` and `AsyncWriteRent` for `$ty`, each call going to the
/// stream of the current variant. The `hot` variant's futures are awaited in place; the
/// `boxed` ones' (large, rarely used: the HTTP/2 bridge) are boxed, so they do not size
/// every connection's task.
macro_rules! rent_enum {
    ($ty:ident { hot: $hot:ident, boxed: $($cold:ident),+ $(,)? }) => {
        impl monoio::io::AsyncReadRent for $ty {
            async fn read<T: monoio::buf::IoBufMut>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self {
                    $ty::$hot(s) => s.read(buf).await,
                    $($ty::$cold(s) => Box::pin(s.read(buf)).await,)+
                }
            }

            async fn readv<T: monoio::buf::IoVecBufMut>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self {
                    $ty::$hot(s) => s.readv(buf).await,
                    $($ty::$cold(s) => Box::pin(s.readv(buf)).await,)+
                }
            }
        }

        impl monoio::io::AsyncWriteRent for $ty {
            async fn write<T: monoio::buf::IoBuf>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self {
                    $ty::$hot(s) => s.write(buf).await,
                    $($ty::$cold(s) => Box::pin(s.write(buf)).await,)+
                }
            }

            async fn writev<T: monoio::buf::IoVecBuf>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self {
                    $ty::$hot(s) => s.writev(buf).await,
                    $($ty::$cold(s) => Box::pin(s.writev(buf)).await,)+
                }
            }

            async fn flush(&mut self) -> std::io::Result<()> {
                match self {
                    $ty::$hot(s) => s.flush().await,
                    $($ty::$cold(s) => Box::pin(s.flush()).await,)+
                }
            }

            async fn shutdown(&mut self) -> std::io::Result<()> {
                match self {
                    $ty::$hot(s) => s.shutdown().await,
                    $($ty::$cold(s) => Box::pin(s.shutdown()).await,)+
                }
            }
        }
    };
}

pub(crate) use rent_enum;
