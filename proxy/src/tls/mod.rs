//! TLS: the HTTPS listener's settings (certificates by SNI, resumption, client
//! certificates), their hot reload, and the TLS stream both sides of the gateway use.

pub mod certs;
pub mod client_auth;
mod maybe;
pub mod server;
pub mod stream;
pub mod watch;
pub mod x509;

pub use client_auth::PeerCert;
pub use maybe::MaybeTls;
pub use server::ServerTls;
pub use stream::TlsStream;

/// A client's TLS session as the request path sees it.
#[derive(Clone, Debug, Default)]
pub struct SessionInfo {
    /// The SNI name the client sent.
    pub server_name: Option<Box<str>>,
    /// The client's certificate, judged (`gateway.tls.client-certificates`).
    pub peer_cert: Option<std::rc::Rc<PeerCert>>,
}
