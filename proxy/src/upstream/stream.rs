//! What the request path sends a request on: a backend connection (plain TCP or TLS,
//! see `upstream::tls`), or one call on an HTTP/2 backend session (`h2::client`).

use monoio::net::TcpStream;

use crate::h2::client::ClientCall;

/// A backend connection: plain TCP or TLS.
pub type BackendConn = crate::tls::MaybeTls<rustls::ClientConnection>;

pub enum BackendStream {
    Conn(BackendConn),
    H2(Box<ClientCall>),
}

impl BackendStream {
    /// The socket of a connection (an HTTP/2 call shares its session's).
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            BackendStream::Conn(c) => Some(c.tcp()),
            BackendStream::H2(_) => None,
        }
    }

    /// True when a read can complete without waiting for the socket.
    pub fn has_buffered(&self) -> bool {
        match self {
            BackendStream::Conn(c) => c.has_buffered(),
            BackendStream::H2(c) => c.0.has_buffered(),
        }
    }
}

crate::rent::rent_enum!(BackendStream {
    hot: Conn,
    boxed: H2
});
