//! What the request path reads requests from and writes responses to: a client
//! connection (plain TCP or TLS, HTTP/1.x), or one HTTP/2 stream bridged as HTTP/1.1
//! (`h2::ServerStream`). One enum, so the request path is compiled once; the
//! connection arm costs a predictable branch per I/O.

use monoio::net::TcpStream;

use crate::h2::ServerStream;

/// A client connection: plain TCP or TLS.
pub type ClientConn = crate::tls::MaybeTls<rustls::ServerConnection>;

pub enum ClientStream {
    Conn(ClientConn),
    H2(Box<ServerStream>),
}

impl ClientStream {
    /// The socket, for a connection (an HTTP/2 stream has none of its own).
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            ClientStream::Conn(c) => Some(c.tcp()),
            ClientStream::H2(_) => None,
        }
    }

    /// True when a read can complete without waiting for the socket.
    pub fn has_buffered(&self) -> bool {
        match self {
            ClientStream::Conn(c) => c.has_buffered(),
            ClientStream::H2(s) => s.0.has_buffered(),
        }
    }

    /// The client came over TLS.
    pub fn is_tls(&self) -> bool {
        match self {
            ClientStream::Conn(c) => c.is_tls(),
            ClientStream::H2(s) => s.0.is_tls(),
        }
    }
}

crate::rent::rent_enum!(ClientStream {
    hot: Conn,
    boxed: H2
});
