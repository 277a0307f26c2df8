//! The per-shard server: accept loop, the per-connection HTTP/1.1 loop, forwarding to
//! backends and relaying bodies.
//!
//! Request path vocabulary (the APIM sections): route → (identify, inbound: later
//! issues) → backend (forward) → (outbound) → relay → log. Errors become APIM JSON
//! bodies in one place (`respond`).

mod buffer;
mod connection;
mod forward;
mod identify;
pub(crate) mod io;
mod linger;
mod listener;
mod policy;
mod policy_exchange;
mod policy_wait;
mod relay;
pub(crate) mod request_head;
mod respond;
mod response_head;
mod scratch;
mod side_request;
pub(crate) mod stream;
mod tunnel;

use std::sync::Arc;

pub use connection::serve_stream;
pub use listener::serve_shard;
pub use scratch::Scratch;

use crate::runtime::drain::Drain;
use crate::snapshot::Snapshot;
use crate::upstream::Pool;

/// How often a shard looks for a reloaded configuration.
pub const CONFIG_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// APIM self-hosted gateway's health probe path, answered on every listener.
pub const STATUS_PATH: &[u8] = b"/status-0123456789abcdef";

/// Everything one shard owns. Lives in an `Rc` on the shard's thread.
pub struct Shard {
    pub id: usize,
    /// The configuration this shard serves new requests with. A reload swaps it (see
    /// [`Shard::install`]); a request keeps the one it started with until it ends, so
    /// routes, programs and subscriptions agree within a request. `Rc` around the
    /// shared `Arc`: taking it per request touches no cache line another core writes.
    #[allow(clippy::redundant_allocation)] // the Rc is the point: a non-atomic count
    current: std::cell::RefCell<std::rc::Rc<Arc<Snapshot>>>,
    /// Shared (`Rc`) with detached side-request tasks of this shard.
    pub pool: std::rc::Rc<Pool>,
    pub drain: Drain,
    pub scratch: scratch::ScratchPool,
    pub arenas: scratch::ArenaPool,
    /// Client read buffers, held only while a connection reads or serves a request.
    pub bufs: scratch::BufPool,
    /// validate-jwt key sets and verified tokens of this shard.
    pub jwt: crate::jwks::ShardJwt,
    /// Rate-limit and quota counters of this shard, and its `limit-concurrency` gauges
    /// (exact across shards: see `tollgate_limits::ShardLimiter::acquire`).
    pub throttle: crate::limits::ShardThrottle,
    /// New configuration snapshots from a reload (see `listener::take_config`).
    pub config_inbox: Option<crossbeam_channel::Receiver<Arc<Snapshot>>>,
    /// Seed state for request ids and `Guid.NewGuid()` (xorshift; not for secrets).
    random: std::cell::Cell<u64>,
}

impl Shard {
    pub fn new(id: usize, snapshot: Arc<Snapshot>, peers: crate::runtime::ShardPeers) -> Shard {
        Shard {
            jwt: crate::jwks::ShardJwt::new(
                snapshot.jwt_sources.clone(),
                snapshot.openid.min_refresh,
                peers.keys,
            ),
            throttle: crate::limits::ShardThrottle::new(
                id as u16,
                peers.shards as u16,
                crate::limits::throttle::keys_per_shard(snapshot.max_rate_limit_keys, peers.shards),
                peers.limits,
            ),
            config_inbox: peers.config,
            id,
            pool: std::rc::Rc::new(Pool::new(snapshot.pool, snapshot.head_limits)),
            scratch: scratch::ScratchPool::new(snapshot.limits.max_headers),
            current: std::cell::RefCell::new(std::rc::Rc::new(snapshot)),
            drain: Drain::default(),
            arenas: scratch::ArenaPool::default(),
            bufs: scratch::BufPool::new(connection::CLIENT_BUF),
            random: std::cell::Cell::new(seed(id)),
        }
    }

    /// The configuration for a request starting now.
    pub fn snapshot(&self) -> std::rc::Rc<Arc<Snapshot>> {
        self.current.borrow().clone()
    }

    /// Serves new requests with `snapshot` from now on. Requests in flight finish with
    /// the one they started with; per-shard state keyed by name (counters, pools, key
    /// sets, token caches) carries over.
    pub fn install(&self, snapshot: Arc<Snapshot>) {
        *self.current.borrow_mut() = std::rc::Rc::new(snapshot);
    }

    /// The next pseudo-random 64 bits of this shard.
    pub fn random_seed(&self) -> u64 {
        let mut x = self.random.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random.set(x);
        x
    }

    /// A fresh request id (`context.RequestId`), version-4 GUID layout.
    pub fn request_id(&self) -> [u8; 16] {
        let a = self.random_seed().to_le_bytes();
        let b = self.random_seed().to_le_bytes();
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&a);
        id[8..].copy_from_slice(&b);
        id[6] = (id[6] & 0x0f) | 0x40;
        id[8] = (id[8] & 0x3f) | 0x80;
        id
    }
}

fn seed(shard: usize) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (t ^ (shard as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
}
