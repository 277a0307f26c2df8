//! `rate-limits.redis`: the thread that shares this gateway's rate limits and quotas with
//! other gateways through Redis. The shards' limiters send their store operations here
//! (never waiting for them); every `sync-interval` this thread runs them as one atomic
//! script call and sends the answers back (`link`). The connection (`conn`) speaks RESP2
//! (`resp`) over a `TcpStream` with bounded timeouts; the script is `script.lua`, whose
//! semantics are `tollgate_limits::MemoryStore`'s.
//!
//! Why not the `redis` crate: the link needs five commands on one blocking connection,
//! and the crate's sync API still brings `url` (with the ICU crates behind `idna`),
//! `combine` and more into the build; a RESP2 codec is 150 lines.

mod conn;
mod link;
mod resp;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tollgate_core::config::{OnFailure, RateLimitRedis};
use tollgate_limits::Cluster;

use super::mesh::StoreEnd;

/// Failed attempts to reach Redis since the gateway started (connects and calls);
/// written by the Redis thread only.
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// `tollgate_rate_limit_redis_failures_total`: failed attempts to reach Redis so far.
pub fn failures_total() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

/// How the shards' limiters share their limits under `redis`.
pub fn cluster(redis: &RateLimitRedis) -> Cluster {
    let sync_ms = (redis.sync_interval.as_millis() as u64).max(1);
    let on_failure = match redis.on_failure {
        OnFailure::Open => tollgate_limits::OnFailure::Open,
        OnFailure::Closed => tollgate_limits::OnFailure::Closed,
    };
    Cluster::new(sync_ms, on_failure)
}

/// Starts the Redis thread for `redis`, serving the shards behind `end`. A URL that does
/// not parse (validation refuses it first) leaves the limits counting in this gateway
/// alone, as if Redis were down.
pub fn start(redis: &RateLimitRedis, end: StoreEnd) {
    let url = match tollgate_core::config::parse_redis_url(&redis.url) {
        Ok(u) => u,
        Err(e) => {
            crate::error!("rate-limits.redis: {e}");
            return;
        }
    };
    let sync = redis.sync_interval.max(Duration::from_millis(1));
    let settings = link::Settings {
        url,
        prefix: redis.key_prefix.as_bytes().to_vec(),
        sync,
        timeout: (sync * 4).clamp(Duration::from_millis(250), Duration::from_secs(2)),
        id: format!(
            "{}-{}-{:x}",
            hostname(),
            std::process::id(),
            crate::limits::now_ms()
        ),
    };
    let spawned = std::thread::Builder::new()
        .name("tollgate-redis".into())
        .spawn(move || link::run(settings, end));
    if let Err(e) = spawned {
        crate::error!("cannot start the Redis thread: {e}; limits count in this gateway alone");
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "gateway".into())
}
