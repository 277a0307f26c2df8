//! Rate limits and quotas in the gateway: each shard owns a `tollgate_limits::ShardLimiter`
//! and exchanges budget with the others by message (`mesh`), never through shared
//! memory. `throttle` is the policy engine's `Throttler` over a shard's limiter. With
//! `rate-limits.redis`, `redis` is the thread that shares the limits with other gateways.
//! `queue` is `limit-concurrency`'s line (Tollgate's `queue-timeout`).

pub mod mesh;
pub mod queue;
pub mod redis;
pub mod throttle;

pub use mesh::{Mesh, ShardLink};
pub use throttle::ShardThrottle;

/// Milliseconds since the Unix epoch: the clock every shard shares (quota windows align
/// to it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
