//! A connection's byte stream, plain TCP or TLS: one enum (not a generic parameter on
//! the request path) so the request path is compiled once; the plain arm costs a
//! predictable branch per I/O. Clients use it with a rustls `ServerConnection`
//! (`server::stream::ClientStream`), backends with a `ClientConnection`.

use std::io;
use std::ops::{Deref, DerefMut};

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::{ConnectionCommon, SideData};

use super::TlsStream;
use crate::rent::Rent;

pub enum MaybeTls<C> {
    Plain(TcpStream),
    Tls(Box<Rent<TlsStream<C>>>),
}

impl<C, SD> MaybeTls<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    pub fn tcp(&self) -> &TcpStream {
        match self {
            MaybeTls::Plain(s) => s,
            MaybeTls::Tls(t) => t.0.tcp(),
        }
    }

    /// True when a read can complete without waiting for the socket.
    pub fn has_buffered(&self) -> bool {
        match self {
            MaybeTls::Plain(_) => false,
            MaybeTls::Tls(t) => t.0.has_buffered(),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, MaybeTls::Tls(_))
    }
}

impl<C, SD> AsyncReadRent for MaybeTls<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.read(buf).await,
            MaybeTls::Tls(t) => t.read(buf).await,
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.readv(buf).await,
            MaybeTls::Tls(t) => t.readv(buf).await,
        }
    }
}

impl<C, SD> AsyncWriteRent for MaybeTls<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<SD>>,
    SD: SideData,
{
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.write(buf).await,
            MaybeTls::Tls(t) => t.write(buf).await,
        }
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.writev(buf).await,
            MaybeTls::Tls(t) => t.writev(buf).await,
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            MaybeTls::Plain(s) => s.flush().await,
            MaybeTls::Tls(t) => t.flush().await,
        }
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            MaybeTls::Plain(s) => s.shutdown().await,
            MaybeTls::Tls(t) => t.shutdown().await,
        }
    }
}
