//! The per-shard server: accept loop, the per-connection HTTP/1.1 loop, forwarding to
//! backends and relaying bodies.
//!
//! Request path vocabulary (the APIM sections): route → (identify, inbound: later
//! issues) → backend (forward) → (outbound) → relay → log. Errors become APIM JSON
//! bodies in one place (`respond`).

mod connection;
mod forward;
pub(crate) mod io;
mod linger;
mod listener;
mod relay;
mod request_head;
mod respond;
mod response_head;
mod scratch;
mod tunnel;

use std::sync::Arc;

pub use listener::serve_shard;
pub use scratch::Scratch;

use crate::runtime::drain::Drain;
use crate::snapshot::Snapshot;
use crate::upstream::Pool;

/// APIM self-hosted gateway's health probe path, answered on every listener.
pub const STATUS_PATH: &[u8] = b"/status-0123456789abcdef";

/// Everything one shard owns. Lives in an `Rc` on the shard's thread.
pub struct Shard {
    pub id: usize,
    pub snapshot: Arc<Snapshot>,
    pub pool: Pool,
    pub drain: Drain,
    pub scratch: scratch::ScratchPool,
}

impl Shard {
    pub fn new(id: usize, snapshot: Arc<Snapshot>) -> Shard {
        Shard {
            id,
            pool: Pool::new(snapshot.pool),
            scratch: scratch::ScratchPool::new(snapshot.limits.max_headers),
            snapshot,
            drain: Drain::default(),
        }
    }
}
