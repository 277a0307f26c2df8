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
//! It also keeps APIM's `limit-concurrency` exact across shards: a **gauge** per key
//! ([`ShardLimiter::acquire`] / [`ShardLimiter::release`]) whose owner shard holds the
//! authoritative in-flight count and lends slots to the other shards, so at most `max`
//! requests are in flight for a key in the whole process (module `gauge`).
//!
//! Memory is bounded: at most `max_keys` keys per shard, idle ones evicted first (CLOCK).
//! A request for a key already held allocates nothing.
//!
//! Across processes (several gateways sharing one limit through Redis, per DESIGN.md): the
//! owner shard of a key in each process takes its budget from a shared **store** in pools
//! — tokens the store charged to a slot before granting them — and spends a small bounded
//! credit while an ask is on its way, so no request ever waits for the store. The store is
//! one more message peer ([`UPSTREAM`]); its operations' reference semantics are
//! [`MemoryStore`]. See [`ShardLimiter::with_upstream`].
//!
//! Not here: parsing policies, building keys (the caller joins subscription, scope and
//! `counter-key` bytes and picks the [`LimitId`]), response headers and bodies, talking to
//! Redis (the proxy's store link).
#![forbid(unsafe_code)]

mod cluster;
mod entry;
mod gauge;
mod geometry;
mod holder;
mod kind;
mod lease;
mod ledger;
mod message;
mod owner;
mod pool;
mod shard;
mod store;
mod table;
mod upstream;

pub use gauge::Slot;
pub use kind::{Decision, Exhausted, Kind, LimitId};
pub use message::Message;
pub use shard::{ShardLimiter, Tuning};
pub use store::MemoryStore;
pub use upstream::{Answer, Cluster, OnFailure, Op, Request, Status, UPSTREAM};
