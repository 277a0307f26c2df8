//! Connections to backends: the per-shard keep-alive pool and connecting with a deadline.

mod pool;

pub use pool::{ConnectError, Pool, Upstream};
