//! An owner shard's view of its key in the store shared by several processes: the
//! **pool** (tokens the store charged to one slot and granted to this process, spent by
//! the owner's own requests and its leases to other shards), what the store said last,
//! the ask in flight, the credit spent while no pool was at hand, and the process-wide
//! demand that sizes the next ask. Not for: deciding (`cluster`) or the local books
//! (`ledger`).

use crate::lease::{Demand, NOT_ASKED};
use crate::ledger::Ledger;

#[derive(Debug)]
pub(crate) struct Pool {
    /// The store epoch these tokens belong to (they are forgotten when it changes).
    pub(crate) epoch: u32,
    /// The slot the store charged the tokens to: they may be spent in that slot only
    /// (moved forward in the store before they are spent later).
    pub(crate) slot: u64,
    /// Unspent tokens per unit (`[calls, bytes]`).
    pub(crate) tokens: [u64; 2],
    /// The store's `remaining` after its last answer (`u64::MAX`: not asked yet); when it
    /// is 0, requests the pool cannot cover are refused until `free_at`.
    pub(crate) hint: [u64; 2],
    pub(crate) free_at: [u64; 2],
    /// When the ask in flight was sent, or [`NOT_ASKED`]; when the last ask was sent.
    pub(crate) asked_at: u64,
    pub(crate) last_ask: u64,
    /// Round trip of the last asks (ms), sync wait included: rises at once, falls slowly.
    pub(crate) rtt_ms: u64,
    /// Calls/bytes admitted on credit (before the store granted them) per slot of the
    /// window: at most the allowance in any window.
    pub(crate) credit: [Ledger; 2],
    /// Units wanted per sync interval on this process (own requests and leases to other
    /// shards).
    pub(crate) demand: Demand,
    /// Last time a request wanted budget.
    pub(crate) last_ms: u64,
    /// Whether the record is on the shard's list of pools to look after.
    pub(crate) listed: bool,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            epoch: 0,
            slot: 0,
            tokens: [0; 2],
            hint: [u64::MAX; 2],
            free_at: [0; 2],
            asked_at: NOT_ASKED,
            last_ask: 0,
            rtt_ms: 0,
            credit: [Ledger::default(), Ledger::default()],
            demand: Demand::default(),
            last_ms: 0,
            listed: false,
        }
    }
}

impl Pool {
    /// Whether any unspent token is held.
    pub(crate) fn holds(&self) -> bool {
        self.tokens != [0; 2]
    }

    /// A new store epoch: what the old one granted or said no longer counts.
    pub(crate) fn restart(&mut self, epoch: u32) {
        self.epoch = epoch;
        self.tokens = [0; 2];
        self.hint = [u64::MAX; 2];
        self.free_at = [0; 2];
        self.asked_at = NOT_ASKED;
        self.last_ask = 0;
    }

    /// Whether an ask is in flight and younger than `timeout_ms`.
    pub(crate) fn asking(&self, now_ms: u64, timeout_ms: u64) -> bool {
        self.asked_at != NOT_ASKED && now_ms < self.asked_at.saturating_add(timeout_ms)
    }

    /// Notes the answer to the ask in flight arriving at `now_ms`.
    pub(crate) fn answered(&mut self, now_ms: u64) {
        if self.asked_at != NOT_ASKED {
            let sample = now_ms.saturating_sub(self.asked_at);
            self.rtt_ms = if sample >= self.rtt_ms {
                sample
            } else {
                (self.rtt_ms.saturating_mul(3).saturating_add(sample)) / 4
            };
        }
        self.asked_at = NOT_ASKED;
    }
}
