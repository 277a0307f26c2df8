//! `rent_enum!`: monoio's owned-buffer I/O traits for an enum whose every variant holds
//! a stream, by delegation (the request path's `ClientStream` and `BackendStream`).

/// Implements `AsyncReadRent` and `AsyncWriteRent` for `$ty`, each call going to the
/// stream of the current variant.
macro_rules! rent_enum {
    ($ty:ident { $($variant:ident),+ $(,)? }) => {
        impl monoio::io::AsyncReadRent for $ty {
            async fn read<T: monoio::buf::IoBufMut>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self { $($ty::$variant(s) => s.read(buf).await,)+ }
            }

            async fn readv<T: monoio::buf::IoVecBufMut>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self { $($ty::$variant(s) => s.readv(buf).await,)+ }
            }
        }

        impl monoio::io::AsyncWriteRent for $ty {
            async fn write<T: monoio::buf::IoBuf>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self { $($ty::$variant(s) => s.write(buf).await,)+ }
            }

            async fn writev<T: monoio::buf::IoVecBuf>(&mut self, buf: T) -> monoio::BufResult<usize, T> {
                match self { $($ty::$variant(s) => s.writev(buf).await,)+ }
            }

            async fn flush(&mut self) -> std::io::Result<()> {
                match self { $($ty::$variant(s) => s.flush().await,)+ }
            }

            async fn shutdown(&mut self) -> std::io::Result<()> {
                match self { $($ty::$variant(s) => s.shutdown().await,)+ }
            }
        }
    };
}

pub(crate) use rent_enum;
