//! Shards: one OS thread per core, each pinned and running its own monoio runtime.
//!
//! `start` binds one SO_REUSEPORT listener per shard (all on the same port, so the
//! kernel spreads connections), spawns the shard threads and returns a [`Gateway`]
//! handle. Shutdown works without cross-thread wakers: the handle sets a flag and shuts
//! the listening sockets down, which makes every pending `accept` fail; each shard then
//! drains its own connections (see `drain`).

pub mod drain;
mod driver;
mod listeners;
mod shard;

pub use driver::{Driver, DriverChoice};
pub use shard::{start, start_listening, Gateway, Installer, Listen, ShardPeers, StartError};
