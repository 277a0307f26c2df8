//! A non-owner shard's view of one key: its lease (tokens the owner granted, spendable in
//! one slot only), what the owner said last (how much it had left, when more frees up),
//! the ask in flight, and the local demand that sizes the next ask. Not for: deciding
//! admission (`holder`) or the owner's books (`ledger`).

/// `asked_at` when no ask is in flight.
pub(crate) const NOT_ASKED: u64 = u64::MAX;

/// Holder-side state of one key.
#[derive(Debug)]
pub(crate) struct Lease {
    /// The slot the tokens may be spent in.
    pub(crate) slot: u64,
    /// Unspent tokens per unit (`[calls, bytes]`).
    pub(crate) tokens: [u64; 2],
    /// The owner's `remaining` after its last answer: if it is below what a request
    /// lacks and `free_at` has not come, the request is refused without asking.
    pub(crate) hint: [u64; 2],
    /// When the owner said more budget frees up.
    pub(crate) free_at: [u64; 2],
    /// When the ask in flight was sent, or [`NOT_ASKED`].
    pub(crate) asked_at: u64,
    /// Whether this entry is on the shard's list of leases to return when idle.
    pub(crate) listed: bool,
    /// Calls requested by the asks in flight, and calls wanted by requests told
    /// `Pending` since the first of them was sent: a burst arriving while an ask is in
    /// flight sends a bigger one rather than waiting a round trip per lease.
    pub(crate) asked_calls: u64,
    pub(crate) pending_calls: u64,
    /// Round trip of the last asks (ms): rises at once, falls slowly.
    pub(crate) rtt_ms: u64,
    pub(crate) demand: Demand,
    /// The store epoch the tokens were granted in (0 without a store).
    pub(crate) epoch: u32,
}

impl Default for Lease {
    fn default() -> Self {
        Lease {
            slot: 0,
            tokens: [0; 2],
            hint: [u64::MAX; 2],
            free_at: [0; 2],
            asked_at: NOT_ASKED,
            listed: false,
            asked_calls: 0,
            pending_calls: 0,
            rtt_ms: 0,
            demand: Demand::default(),
            epoch: 0,
        }
    }
}

impl Lease {
    /// Whether any unspent token is held.
    pub(crate) fn holds(&self) -> bool {
        self.tokens != [0; 2]
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
        self.asked_calls = 0;
        self.pending_calls = 0;
    }

    /// Whether an ask is in flight and younger than `timeout_ms`.
    pub(crate) fn asking(&self, now_ms: u64, timeout_ms: u64) -> bool {
        self.asked_at != NOT_ASKED && now_ms < self.asked_at.saturating_add(timeout_ms)
    }
}

/// Units requested on this shard per `horizon` ms: the current horizon and the one
/// before, so a steady stream is measured over a full horizon.
#[derive(Debug, Default)]
pub(crate) struct Demand {
    start: u64,
    cur: [u64; 2],
    prev: [u64; 2],
}

impl Demand {
    /// Counts `units` requested at `now_ms`.
    pub(crate) fn note(&mut self, now_ms: u64, units: [u64; 2], horizon_ms: u64) {
        self.roll(now_ms, horizon_ms);
        for (c, u) in self.cur.iter_mut().zip(units) {
            *c = c.saturating_add(u);
        }
    }

    /// Demand per horizon: the larger of the last full horizon and the current one.
    pub(crate) fn per_horizon(&mut self, now_ms: u64, horizon_ms: u64) -> [u64; 2] {
        self.roll(now_ms, horizon_ms);
        [self.cur[0].max(self.prev[0]), self.cur[1].max(self.prev[1])]
    }

    fn roll(&mut self, now_ms: u64, horizon_ms: u64) {
        let h = horizon_ms.max(1);
        if now_ms < self.start {
            self.start = now_ms;
        } else if now_ms - self.start >= h {
            self.prev = if now_ms - self.start < h.saturating_mul(2) {
                self.cur
            } else {
                [0; 2]
            };
            self.cur = [0; 2];
            self.start = now_ms - (now_ms - self.start) % h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demand_is_measured_per_horizon_and_decays() {
        let mut d = Demand::default();
        for t in 0..4 {
            d.note(t, [3, 10], 4);
        }
        assert_eq!(d.per_horizon(3, 4), [12, 40]);
        d.note(4, [1, 0], 4);
        assert_eq!(
            d.per_horizon(4, 4),
            [12, 40],
            "the last full horizon counts"
        );
        assert_eq!(d.per_horizon(8, 4), [1, 0]);
        assert_eq!(d.per_horizon(100, 4), [0, 0]);
    }

    #[test]
    fn round_trips_rise_fast_and_fall_slowly() {
        let mut l = Lease {
            asked_at: 10,
            ..Lease::default()
        };
        l.answered(16);
        assert_eq!((l.rtt_ms, l.asked_at), (6, NOT_ASKED));
        l.answered(100);
        assert_eq!(l.rtt_ms, 6, "no ask in flight: no sample");
        l.asked_at = 100;
        l.answered(102);
        assert_eq!(l.rtt_ms, 5);
    }

    #[test]
    fn an_ask_times_out() {
        let mut l = Lease::default();
        assert!(!l.asking(5, 10));
        l.asked_at = 5;
        assert!(l.asking(14, 10));
        assert!(!l.asking(15, 10));
    }
}
