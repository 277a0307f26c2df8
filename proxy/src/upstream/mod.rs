//! Connections to backends: the per-shard keep-alive pool, connecting with a deadline,
//! and TLS towards https backends.

mod pool;
pub mod stream;
pub mod tls;

pub use pool::{ConnectError, Pool, Upstream};
pub use stream::BackendStream;
pub use tls::Dest;
