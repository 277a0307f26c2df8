//! A client connection's byte stream: plain TCP or TLS (the HTTPS listener).

pub type ClientStream = crate::tls::MaybeTls<rustls::ServerConnection>;
