//! A backend connection's byte stream: plain TCP or TLS (see `upstream::tls`).

pub type BackendStream = crate::tls::MaybeTls<rustls::ClientConnection>;
