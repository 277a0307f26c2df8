//! What shards tell each other about a key: asks for budget, grants, unused budget given
//! back, late counts and wake-ups, and the slots of concurrency gauges. The caller carries a [`Message`] to shard
//! [`Message::to`] (a crossbeam channel per shard, in order per sender) and hands it to
//! that shard's [`ShardLimiter::receive`](crate::ShardLimiter::receive); everything else
//! in it is the engine's business. A message carries its key and limit so the receiver
//! needs no prior state: the owner may never have seen the key, the holder may have
//! evicted it. Messages to and from the store shared by several processes use the same
//! envelope, addressed to or from [`UPSTREAM`](crate::UPSTREAM) (see `upstream`).

use crate::gauge::GaugeBody;
use crate::kind::{Kind, LimitId};
use crate::upstream::{Answer, Op, Status};

/// One message between two shards' limiters.
#[derive(Debug)]
pub struct Message {
    pub(crate) to: u16,
    pub(crate) from: u16,
    pub(crate) id: LimitId,
    pub(crate) kind: Kind,
    pub(crate) key: Box<[u8]>,
    pub(crate) body: Body,
}

impl Message {
    /// The shard this message must be delivered to.
    pub fn to(&self) -> u16 {
        self.to
    }

    /// The shard that sent it.
    pub fn from(&self) -> u16 {
        self.from
    }
}

/// Per-unit arrays are `[calls, bytes]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// Holder → owner: grant me budget. `need`: what the request waiting on this shard
    /// lacks (0 for a refill ahead of need); `want`: the lease the holder would like.
    Ask { need: [u64; 2], want: [u64; 2] },
    /// Owner → holder: `tokens` charged to `slot` and now the holder's to spend in that
    /// slot only. `remaining`: what the owner had left after this grant; `free_at`: when
    /// more frees up, for each unit where `remaining` fell short of the need. `epoch`: the
    /// owner's store epoch (0 without a store): tokens granted in one epoch are not spent
    /// or pooled in another.
    Grant {
        slot: u64,
        tokens: [u64; 2],
        remaining: [u64; 2],
        free_at: [u64; 2],
        epoch: u32,
    },
    /// Holder → owner: these tokens of the lease for `slot` (granted in `epoch`) were never
    /// spent and never will be.
    Return {
        slot: u64,
        tokens: [u64; 2],
        epoch: u32,
    },
    /// Holder → owner: counted after the fact (`add`) beyond the lease, in `slot`.
    Charge { slot: u64, tokens: [u64; 2] },
    /// Owner → holder: budget came back since you were refused; ask again.
    Wake { remaining: [u64; 2] },
    /// Owner → holder: the window is short while your lease may hold unspent tokens:
    /// give them back now. Always answered with a `Return` (of nothing, if nothing is
    /// held), so the owner knows when every answer is in.
    Recall,
    /// Owner → store: an operation on the key's shared count, sent in `epoch`.
    Up { op: Op, epoch: u32 },
    /// Store → owner: the answer to its `Op::Ask` for `slot`, sent in `epoch`.
    Answer {
        slot: u64,
        answer: Answer,
        epoch: u32,
    },
    /// Store link → every shard: the store's state.
    Status(Status),
    /// Between a `limit-concurrency` key's owner and the other shards (see `gauge`).
    Gauge(GaugeBody),
}
