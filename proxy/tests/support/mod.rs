//! Shared helpers for the integration tests: the real `tollgate` binary on an ephemeral
//! port, a small real HTTP/1.1 backend on std sockets that records what reached it, and
//! raw-socket clients.
#![allow(dead_code, unused_imports)]

pub mod backend;
pub mod client;
pub mod gateway;
pub mod idp;
pub mod tls;
pub mod tls_backend;

pub use backend::{Backend, Reply};
pub use client::{get, raw, Response};
pub use gateway::Gateway;
