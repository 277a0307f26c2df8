//! The counting engine behind APIM's `rate-limit`, `rate-limit-by-key`, `quota` and
//! `quota-by-key`, for a thread-per-core gateway: one [`ShardLimiter`] per shard, no
//! shared memory, no locks, no atomics. Pure: no I/O, no async, no threads, no clock —
//! every call takes `now_ms`, milliseconds on a clock all shards share (quotas align
//! their windows to its epoch).
//!
//! What it counts:
//! - a **rate limit** ([`Kind::Rate`]) allows `calls` per sliding window of `period`,
//!   measured in `K` slots (10..=60) of `S = period/K` ms: at most `calls` are admitted in
//!   any `K` consecutive slots, so in any span of `period − S` ms, exactly, whatever the
//!   number of shards;
//! - a **quota** ([`Kind::Quota`]) allows `calls` and/or `bytes` per fixed window from
//!   `first_period_start_ms`, or for the lifetime.
//!
//! How shards agree: every key has an owner shard (a fixed hash of the key) holding the
//! authoritative per-slot counts. Other shards spend **leases**: tokens the owner charged
//! to the current slot before handing them out, spendable in that slot only, sized to the
//! demand seen on the asking shard, given back unspent when the slot ends or the key goes
//! idle. So nothing is ever admitted that the owner did not charge first, and the counts
//! are exact at any number of shards; what sharding costs is budget briefly parked in
//! leases (under-admission, bounded) and a [`Decision::Pending`] while a shard waits for
//! its first lease. The caller carries [`Message`]s between shards. The algorithm and its
//! bounds: `docs/throttling.md`.
//!
//! Memory is bounded: at most `max_keys` keys per shard, idle ones evicted first (CLOCK).
//! A request for a key already held allocates nothing.
//!
//! Not here: parsing policies, building keys (the caller joins subscription, scope and
//! `counter-key` bytes and picks the [`LimitId`]), response headers and bodies,
//! cluster-wide limits across machines (Redis, per DESIGN.md).
#![forbid(unsafe_code)]

mod entry;
mod geometry;
mod holder;
mod kind;
mod lease;
mod ledger;
mod message;
mod owner;
mod shard;
mod table;

pub use kind::{Decision, Exhausted, Kind, LimitId};
pub use message::Message;
pub use shard::{ShardLimiter, Tuning};
