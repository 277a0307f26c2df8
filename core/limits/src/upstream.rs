//! The protocol between a process's limiters and a store shared by several processes (the
//! proxy's Redis thread): what an owner shard asks of the store ([`Op`], seen through
//! [`Request`]), what the store answers ([`Answer`]), and what the store's link tells every
//! shard ([`Status`]). The store is just another message peer, addressed as
//! [`UPSTREAM`]; the engine stays pure. `store` holds the reference semantics of the
//! store's operations; docs/throttling.md ("Across processes") the algorithm and bounds.

use crate::geometry::Geometry;
use crate::kind::{Kind, LimitId};
use crate::message::{Body, Message};

/// [`Message::to`] of a message for the shared store (not a shard).
pub const UPSTREAM: u16 = u16::MAX;

/// What a limit that needs the store does while the store is unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Count in this process alone (its limit is then per process) and let requests through.
    Open,
    /// Refuse the requests of limits that need the store.
    Closed,
}

/// How a process shares its limits with the others (`ShardLimiter::with_upstream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// How often the store is reached (the proxy batches every operation of an interval
    /// into one call): sizes the pools, the refusal `Retry-After` while the store is down,
    /// and how often a refused owner asks again.
    pub sync_ms: u64,
    pub on_failure: OnFailure,
    /// A pool no request touched for this long goes back to the store, but for a floor of
    /// `limit / (64 · processes)` (at least 1) that goes back when the pool has been idle
    /// for a whole window (at most a minute).
    pub idle_ms: u64,
}

impl Cluster {
    /// `sync_ms` with the default idle time (two intervals).
    pub fn new(sync_ms: u64, on_failure: OnFailure) -> Cluster {
        let sync_ms = sync_ms.max(1);
        Cluster {
            sync_ms,
            on_failure,
            idle_ms: sync_ms.saturating_mul(2),
        }
    }

    /// `Retry-After` of a refusal while the store is down: the sync interval rounded up to
    /// whole seconds.
    pub fn closed_retry_ms(&self) -> u64 {
        self.sync_ms.div_ceil(1000).max(1) * 1000
    }
}

/// What the store's link tells every shard: whether the store answers, how many processes
/// share it, and a number that changes whenever `up` does (the shards' epoch: budget from
/// before a change is not mixed with budget after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub up: bool,
    pub processes: u32,
    pub epoch: u32,
}

/// One operation on the store's count of a key. Per-unit arrays are `[calls, bytes]`;
/// slots are numbered as the engine numbers them (from the shared clock), so every process
/// names the same slot alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Grant up to `want` from what the window ending at `slot` has left, charging it to
    /// `slot`; answer with an [`Answer`].
    Ask { slot: u64, want: [u64; 2] },
    /// Count `tokens` in `slot` whatever the limit (spent on credit, or counted after the
    /// fact).
    Charge { slot: u64, tokens: [u64; 2] },
    /// Take back up to `tokens` granted in `slot` and never spent.
    Return { slot: u64, tokens: [u64; 2] },
    /// Unspent tokens of `from` are spent in `to` instead: take back up to `tokens` from
    /// `from`, count all of `tokens` in `to`.
    Move {
        from: u64,
        to: u64,
        tokens: [u64; 2],
    },
}

impl Op {
    /// The newest slot the operation touches.
    pub fn slot(&self) -> u64 {
        match *self {
            Op::Ask { slot, .. } | Op::Charge { slot, .. } | Op::Return { slot, .. } => slot,
            Op::Move { from, to, .. } => from.max(to),
        }
    }
}

/// The store's answer to an [`Op::Ask`]. `free_slot[u]`: when `remaining[u]` is 0, the
/// oldest slot of the window holding a charge (capacity frees when it leaves the window),
/// 0 if unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub granted: [u64; 2],
    pub remaining: [u64; 2],
    pub free_slot: [u64; 2],
}

/// A message for the store, as the store sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub id: LimitId,
    pub key: &'a [u8],
    pub op: Op,
    /// The limit per unit; `None` where not limited (operations on that unit are no-ops).
    pub limits: [Option<u64>; 2],
    /// Slots per window (`K`): the window ending at slot `s` is `s − K + 1 ..= s`.
    pub slots: u32,
    /// Slot length and origin (they name the key's windows in the store).
    pub slot_ms: u64,
    pub origin: u64,
    /// How long the store should keep the key after a write: the window plus a margin;
    /// 0 for a lifetime quota (kept for ever).
    pub ttl_ms: u64,
}

/// Kept past the end of a window: covers slots still being returned or moved.
const TTL_MARGIN_MS: u64 = 60_000;

impl Request<'_> {
    /// The store's name for this key's counts: `prefix`, then the limit, its windows and the
    /// key bytes (two configurations that cut time differently never share counts).
    pub fn store_key(&self, prefix: &[u8], out: &mut Vec<u8>) {
        use std::io::Write as _;
        out.clear();
        out.extend_from_slice(prefix);
        let _ = write!(
            out,
            "l:{:016x}:{}:{}:{}:",
            self.id.0, self.slot_ms, self.slots, self.origin
        );
        out.extend_from_slice(self.key);
    }
}

impl Message {
    /// This message as an operation on the store, if it is addressed to it.
    pub fn upstream(&self) -> Option<Request<'_>> {
        let Body::Up { op, .. } = self.body else {
            return None;
        };
        if self.to != UPSTREAM {
            return None;
        }
        let g = Geometry::of(&self.kind);
        let window = g.slot_ms().saturating_mul(u64::from(g.slots() as u32));
        Some(Request {
            id: self.id,
            key: &self.key,
            op,
            limits: self.kind.limits(),
            slots: g.slots() as u32,
            slot_ms: g.slot_ms(),
            origin: g.origin(),
            ttl_ms: if g.slot_ms() == 0 {
                0
            } else {
                window
                    .saturating_add(g.slot_ms())
                    .saturating_add(TTL_MARGIN_MS)
            },
        })
    }

    /// The reply carrying `answer` to the shard that sent this [`Op::Ask`] (`None` for any
    /// other message).
    pub fn answer(&self, answer: Answer) -> Option<Message> {
        let Body::Up {
            op: Op::Ask { slot, .. },
            epoch,
        } = self.body
        else {
            return None;
        };
        Some(Message {
            to: self.from,
            from: UPSTREAM,
            id: self.id,
            kind: self.kind,
            key: self.key.clone(),
            body: Body::Answer {
                slot,
                answer,
                epoch,
            },
        })
    }

    /// Whether this message is an [`Op::Ask`] (its shard waits for the answer).
    pub fn is_ask(&self) -> bool {
        matches!(
            self.body,
            Body::Up {
                op: Op::Ask { .. },
                ..
            }
        )
    }

    /// The store link's word to shard `to`.
    pub fn status(to: u16, status: Status) -> Message {
        Message {
            to,
            from: UPSTREAM,
            id: LimitId(0),
            kind: Kind::Rate {
                calls: 0,
                period_ms: 1,
            },
            key: Box::default(),
            body: Body::Status(status),
        }
    }
}
