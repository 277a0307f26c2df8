//! A stream with bytes already read from it put back in front (an h2c client's
//! preface, read while looking for an HTTP/1.1 request line).

use std::io;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::BufResult;

pub struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncReadRent> AsyncReadRent for Prefixed<S> {
    async fn read<T: IoBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.bytes_total());
            // SAFETY: `write_ptr()` has `bytes_total()` writable bytes; the source is
            // our own buffer; they do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.prefix.as_ptr().add(self.pos),
                    buf.write_ptr(),
                    n,
                );
                buf.set_init(n);
            }
            self.pos += n;
            return (Ok(n), buf);
        }
        self.inner.read(buf).await
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.readv(buf).await
    }
}

impl<S: AsyncWriteRent> AsyncWriteRent for Prefixed<S> {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.write(buf).await
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.writev(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.inner.shutdown().await
    }
}
