//! The owner's authoritative count for one key and one unit (calls or bytes): what was
//! charged in each of the last `K` slots. A charge is a token the owner admitted itself or
//! granted to another shard's lease in that slot; a refund gives back a leased token that
//! was never used. Capacity in the current slot is `limit - sum`, and a charge stops
//! counting `K` slots after the slot it was made in. Not for: deciding who gets what
//! (`owner`), or tracking a lease (`lease`).

use crate::geometry::Geometry;

/// Ring of per-slot charges for the window ending at `head`.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// `ring[s % K]` is the charge of slot `s` for `head - K < s <= head`.
    ring: Vec<u64>,
    /// Newest slot the ring describes.
    head: u64,
    /// `head % K`, kept to spare a division on every charge.
    pos: usize,
    /// Sum of `ring` (saturating). Invariant: `sum == ring.iter().sum()` unless saturated.
    sum: u64,
}

impl Ledger {
    /// Empties the ledger for a window of `slots` slots ending at `head` (reuses the
    /// ring's memory).
    pub(crate) fn reset(&mut self, slots: usize, head: u64) {
        let slots = slots.max(1);
        self.ring.clear();
        self.ring.resize(slots, 0);
        self.head = head;
        self.pos = (head % slots as u64) as usize;
        self.sum = 0;
    }

    /// Empties the ledger of a unit that is not limited: no ring, charges ignored.
    pub(crate) fn disable(&mut self, head: u64) {
        self.ring.clear();
        self.head = head;
        self.pos = 0;
        self.sum = 0;
    }

    /// Moves the window forward so that it ends at `slot`; charges that fall out of it stop
    /// counting. A `slot` before `head` (a clock that went back) changes nothing.
    pub(crate) fn advance(&mut self, slot: u64) {
        if slot <= self.head || self.ring.is_empty() {
            return;
        }
        let k = self.ring.len() as u64;
        if slot - self.head >= k {
            self.ring.iter_mut().for_each(|c| *c = 0);
            self.sum = 0;
        } else {
            for s in self.head + 1..=slot {
                let i = (s % k) as usize;
                self.sum = self.sum.saturating_sub(self.ring[i]);
                self.ring[i] = 0;
            }
        }
        self.head = slot;
        self.pos = (slot % k) as usize;
        debug_assert!(self.sum <= self.ring.iter().fold(0u64, |a, &c| a.saturating_add(c)));
    }

    /// Newest slot of the window.
    pub(crate) fn head(&self) -> u64 {
        self.head
    }

    /// Charged in the window.
    pub(crate) fn used(&self) -> u64 {
        self.sum
    }

    /// What `limit` leaves to charge now.
    pub(crate) fn available(&self, limit: u64) -> u64 {
        limit.saturating_sub(self.sum)
    }

    /// Charges `n` to the newest slot.
    pub(crate) fn charge(&mut self, n: u64) {
        if let Some(c) = self.ring.get_mut(self.pos) {
            *c = c.saturating_add(n);
            self.sum = self.sum.saturating_add(n);
        }
    }

    /// Charges `n` to `slot` if it is still in the window (a late count); a slot ahead of
    /// the window is charged to the newest slot. Returns whether anything was charged.
    pub(crate) fn charge_at(&mut self, slot: u64, n: u64) -> bool {
        match self.index_of(slot.min(self.head)) {
            Some(i) => {
                self.ring[i] = self.ring[i].saturating_add(n);
                self.sum = self.sum.saturating_add(n);
                true
            }
            None => false,
        }
    }

    /// Takes back up to `n` unused tokens charged to `slot`; a slot that already left the
    /// window is ignored (its tokens already stopped counting). Returns what was refunded.
    pub(crate) fn refund(&mut self, slot: u64, n: u64) -> u64 {
        let Some(i) = self.index_of(slot) else {
            return 0;
        };
        let r = n.min(self.ring[i]);
        self.ring[i] -= r;
        self.sum = self.sum.saturating_sub(r);
        r
    }

    /// When enough charges will have left the window for `need` more under `limit`:
    /// `now`-independent, a slot start; `u64::MAX` if `need > limit` or never.
    pub(crate) fn free_at(&self, need: u64, limit: u64, geometry: &Geometry) -> u64 {
        if need > limit {
            return u64::MAX;
        }
        let excess = self.sum.saturating_add(need).saturating_sub(limit);
        if excess == 0 {
            return geometry.start(self.head);
        }
        // Oldest slot first: `head - K + 1` sits just after `head` in the ring. Positions
        // of slots before 0 hold 0 and are passed over.
        let k = self.ring.len();
        let mut freed = 0u64;
        let mut i = self.pos;
        for age in (0..k).rev() {
            i = if i + 1 == k { 0 } else { i + 1 };
            freed = freed.saturating_add(self.ring[i]);
            if freed >= excess {
                return geometry.frees_at(self.head.saturating_sub(age as u64));
            }
        }
        u64::MAX
    }

    fn index_of(&self, slot: u64) -> Option<usize> {
        let k = self.ring.len() as u64;
        (k > 0 && slot <= self.head && slot.saturating_add(k) > self.head)
            .then(|| (slot % k) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;

    fn geometry() -> Geometry {
        Geometry::of(&Kind::Rate {
            calls: 10,
            period_ms: 1000,
        })
    }

    #[test]
    fn charges_leave_the_window_after_k_slots() {
        let mut l = Ledger::default();
        l.reset(10, 1);
        l.charge(3);
        l.advance(5);
        l.charge(4);
        assert_eq!(l.used(), 7);
        assert_eq!(l.available(10), 3);
        l.advance(10);
        assert_eq!(l.used(), 7);
        l.advance(11);
        assert_eq!(l.used(), 4);
        l.advance(15);
        assert_eq!(l.used(), 0);
        l.charge(1);
        l.advance(100);
        assert_eq!(l.used(), 0);
    }

    #[test]
    fn refunds_only_inside_the_window() {
        let mut l = Ledger::default();
        l.reset(10, 1);
        l.charge(5);
        l.advance(3);
        assert_eq!(l.refund(1, 2), 2);
        assert_eq!(l.refund(1, 9), 3);
        assert_eq!(l.used(), 0);
        l.charge(5);
        l.advance(13);
        assert_eq!(l.refund(3, 5), 0, "slot 3 left the window");
        assert_eq!(l.refund(14, 5), 0, "slot 14 is in the future");
        assert!(!l.charge_at(2, 1));
        assert!(l.charge_at(13, 1));
        assert!(l.charge_at(99, 1), "ahead of the window: the newest slot");
        assert_eq!(l.used(), 2);
    }

    #[test]
    fn free_at_finds_the_slot_whose_expiry_frees_enough() {
        let g = geometry();
        let mut l = Ledger::default();
        l.reset(10, 1);
        l.charge(4); // slot 1, frees at 1000
        l.advance(3);
        l.charge(6); // slot 3, frees at 1200
        assert_eq!(l.free_at(1, 10, &g), 1000);
        assert_eq!(l.free_at(4, 10, &g), 1000);
        assert_eq!(l.free_at(5, 10, &g), 1200);
        assert_eq!(l.free_at(11, 10, &g), u64::MAX);
        l.refund(3, 6);
        assert_eq!(l.free_at(6, 10, &g), g.start(3), "already free");
    }

    #[test]
    fn a_clock_going_back_changes_nothing() {
        let mut l = Ledger::default();
        l.reset(10, 50);
        l.charge(2);
        l.advance(40);
        assert_eq!((l.head(), l.used()), (50, 2));
    }
}
