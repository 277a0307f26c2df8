//! tollgate-core: Tollgate's domain model with no I/O.
//!
//! What lives here: the configuration model and its loader (`config`), the compiled
//! route table (`routing`), subscriptions and products (`access`), and the gateway's error kinds with their APIM error bodies
//! (`error`). What does not: sockets, threads, runtimes — those belong to `tollgate`
//! (the proxy crate), which builds on these types.
#![forbid(unsafe_code)]

pub mod access;
pub mod config;
pub mod error;
pub mod routing;
