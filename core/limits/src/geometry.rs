//! How a [`Kind`]'s time is cut into slots. A rate limit's window of `period` is `K`
//! slots of `S` ms (`K` in 10..=60, see [`Geometry::of`]); a quota's window is one slot
//! of `period` ms aligned to `first_period_start`, or one endless slot for a lifetime
//! quota. Slots are numbered from the caller's clock alone, so every shard that reads
//! the same clock numbers them the same way: that shared numbering is what lets a lease
//! granted by one shard be bound to a slot on another.

use crate::kind::Kind;

/// Fewest slots in a rate window: the window's edge moves in steps of at most a tenth of
/// the period.
pub(crate) const MIN_SLOTS: u64 = 10;
/// Most slots in a rate window: bounds an owner's per-key memory (60 counters).
pub(crate) const MAX_SLOTS: u64 = 60;
/// Slot length the choice of `K` aims at: APIM's `Retry-After` is in whole seconds, so
/// finer slots buy a client nothing once the period has ten of them.
const TARGET_SLOT_MS: u64 = 1000;

/// Slot `i` covers `[origin + (i-1)·slot_ms, origin + i·slot_ms)`; slot 0 is everything
/// before `origin`. A lifetime quota has `slot_ms == 0` and lives in slot 1 forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    origin: u64,
    slot_ms: u64,
    /// Slots per window, 1..=MAX_SLOTS.
    slots: u32,
}

impl Geometry {
    /// Rate: `K = clamp(ceil(period / 1 s), 10, 60)` (but at most `period`, so a slot is
    /// at least 1 ms) and `S = ceil(period / K)`. Periods of whole seconds from 10 to 60 s
    /// get 1 s slots, shorter ones ten slots, longer ones sixty. When `K` does not divide
    /// the period the window is `K·S` ms, up to `K-1` ms longer than asked: conservative.
    pub(crate) fn of(kind: &Kind) -> Geometry {
        match *kind {
            Kind::Rate { period_ms, .. } => {
                let p = period_ms.max(1);
                let k = p
                    .div_ceil(TARGET_SLOT_MS)
                    .clamp(MIN_SLOTS, MAX_SLOTS)
                    .min(p);
                Geometry {
                    origin: 0,
                    slot_ms: p.div_ceil(k),
                    slots: k as u32,
                }
            }
            Kind::Quota { period_ms: 0, .. } => Geometry {
                origin: 0,
                slot_ms: 0,
                slots: 1,
            },
            Kind::Quota {
                period_ms,
                first_period_start_ms,
                ..
            } => Geometry {
                origin: first_period_start_ms % period_ms,
                slot_ms: period_ms,
                slots: 1,
            },
        }
    }

    /// Slots per window.
    pub(crate) fn slots(&self) -> usize {
        self.slots as usize
    }

    /// Slot length in ms (0 for a lifetime quota).
    pub(crate) fn slot_ms(&self) -> u64 {
        self.slot_ms
    }

    /// Where slot 1 starts.
    pub(crate) fn origin(&self) -> u64 {
        self.origin
    }

    /// The slot holding `now_ms`.
    pub(crate) fn slot(&self, now_ms: u64) -> u64 {
        if self.slot_ms == 0 {
            1
        } else if now_ms < self.origin {
            0
        } else {
            ((now_ms - self.origin) / self.slot_ms).saturating_add(1)
        }
    }

    /// When `slot` ends (the first ms of the next); `u64::MAX` for a lifetime quota.
    pub(crate) fn end(&self, slot: u64) -> u64 {
        if self.slot_ms == 0 {
            u64::MAX
        } else {
            self.origin
                .saturating_add(slot.saturating_mul(self.slot_ms))
        }
    }

    /// When `slot` starts.
    pub(crate) fn start(&self, slot: u64) -> u64 {
        if self.slot_ms == 0 {
            0
        } else {
            match slot.checked_sub(1) {
                Some(prev) => self.end(prev),
                None => self.origin.saturating_sub(self.slot_ms),
            }
        }
    }

    /// When a charge made in `slot` stops counting: the start of slot `slot + K`.
    pub(crate) fn frees_at(&self, slot: u64) -> u64 {
        self.end(slot.saturating_add(self.slots as u64 - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(period_ms: u64) -> Geometry {
        Geometry::of(&Kind::Rate {
            calls: 1,
            period_ms,
        })
    }

    #[test]
    fn rate_slot_counts() {
        assert_eq!((rate(1000).slots, rate(1000).slot_ms), (10, 100));
        assert_eq!((rate(10_000).slots, rate(10_000).slot_ms), (10, 1000));
        assert_eq!((rate(30_000).slots, rate(30_000).slot_ms), (30, 1000));
        assert_eq!((rate(60_000).slots, rate(60_000).slot_ms), (60, 1000));
        assert_eq!((rate(300_000).slots, rate(300_000).slot_ms), (60, 5000));
        // Not divisible: slots rounded up, window a little longer than asked.
        assert_eq!((rate(100_000).slots, rate(100_000).slot_ms), (60, 1667));
        assert_eq!((rate(7).slots, rate(7).slot_ms), (7, 1));
        assert_eq!((rate(0).slots, rate(0).slot_ms), (1, 1));
        assert_eq!(rate(u64::MAX).slots, 60);
    }

    #[test]
    fn rate_slots_are_numbered_from_the_clock() {
        let g = rate(1000);
        assert_eq!(g.slot(0), 1);
        assert_eq!(g.slot(99), 1);
        assert_eq!(g.slot(100), 2);
        assert_eq!(g.end(1), 100);
        assert_eq!(g.start(2), 100);
        assert_eq!(g.frees_at(1), 1000);
        assert_eq!(g.slot(u64::MAX), u64::MAX / 100 + 1);
        assert_eq!(g.end(u64::MAX), u64::MAX);
    }

    #[test]
    fn quota_periods_align_to_first_start() {
        let g = Geometry::of(&Kind::Quota {
            calls: Some(1),
            bytes: None,
            period_ms: 1000,
            first_period_start_ms: 10_250,
        });
        assert_eq!(g.slot(250), 1);
        assert_eq!(g.slot(249), 0);
        assert_eq!(g.end(0), 250);
        assert_eq!(g.slot(10_249), 10);
        assert_eq!(g.slot(10_250), 11);
        assert_eq!(g.end(11), 11_250);
        assert_eq!(g.frees_at(11), 11_250);
        assert_eq!(g.start(0), 0);
    }

    #[test]
    fn lifetime_quota_never_renews() {
        let g = Geometry::of(&Kind::Quota {
            calls: Some(1),
            bytes: None,
            period_ms: 0,
            first_period_start_ms: 5,
        });
        assert_eq!(g.slot(0), g.slot(u64::MAX));
        assert_eq!(g.end(g.slot(7)), u64::MAX);
        assert_eq!(g.frees_at(1), u64::MAX);
    }
}
