//! HTTP/2: clients over TLS (ALPN `h2`) and cleartext h2c, and HTTP/2 backends
//! (`backends.<name>.protocol: h2 | h2c`), bridged onto the gateway's one request path.
//!
//! hyperium's `h2` does the protocol (it is maintained and carries the fixes for rapid
//! reset, CVE-2023-44487, and CONTINUATION floods, which monoio-http's older fork of it
//! lacks); `monoio-compat` adapts monoio's owned-buffer I/O to the tokio I/O traits it
//! needs, without a tokio runtime. Each stream is read and written as HTTP/1.1 by the
//! existing request path (see `bridge`): one implementation of routing, identity,
//! policies, forwarding and errors for both protocols, at the cost of a head
//! conversion per stream. docs/architecture.md ("HTTP/2") weighs this.

pub mod bridge;
pub mod chunks;
pub mod client;
pub mod convert;
pub mod grpc;
mod prefixed;
pub mod server;

pub use prefixed::Prefixed;
pub use server::{ServerStream, PREFACE};
