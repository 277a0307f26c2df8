//! [`MemoryStore`]: the reference semantics of the store shared by several processes — the
//! count per (key, slot) and what each [`Op`] does to it. The proxy's Redis script
//! implements exactly this (`proxy/src/limits/redis/script.lua`); the tests use this one as
//! a simulated Redis. Not for: production (one process's memory is not shared).

use std::collections::{BTreeMap, HashMap};

use crate::upstream::{Answer, Op, Request};

/// Per-unit counts of one slot.
type Counts = [u64; 2];

/// Every key's counts per slot, in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: HashMap<Vec<u8>, BTreeMap<u64, Counts>>,
    name: Vec<u8>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Applies one operation atomically; an [`Op::Ask`] gets an answer.
    pub fn apply(&mut self, r: &Request<'_>) -> Option<Answer> {
        r.store_key(b"", &mut self.name);
        let slots = self.keys.entry(self.name.clone()).or_default();
        let k = u64::from(r.slots.max(1));
        // Slots that left every window an operation can still name.
        let oldest = r.op.slot().saturating_sub(k - 1);
        slots.retain(|&s, _| s >= oldest);
        let answer = match r.op {
            Op::Ask { slot, want } => {
                let mut a = Answer::default();
                for u in 0..2 {
                    let Some(limit) = r.limits[u] else {
                        a.remaining[u] = u64::MAX;
                        continue;
                    };
                    let used = used(slots, u, slot, k);
                    let avail = limit.saturating_sub(used);
                    let g = want[u].min(avail);
                    if g > 0 {
                        let c = &mut slots.entry(slot).or_default()[u];
                        *c = c.saturating_add(g);
                    }
                    a.granted[u] = g;
                    a.remaining[u] = avail - g;
                    if a.remaining[u] == 0 {
                        a.free_slot[u] = slots
                            .range(slot.saturating_sub(k - 1)..=slot)
                            .find(|(_, c)| c[u] > 0)
                            .map_or(0, |(&s, _)| s);
                    }
                }
                Some(a)
            }
            Op::Charge { slot, tokens } => {
                for u in limited(r) {
                    let c = &mut slots.entry(slot).or_default()[u];
                    *c = c.saturating_add(tokens[u]);
                }
                None
            }
            Op::Return { slot, tokens } => {
                for u in limited(r) {
                    take_back(slots, slot, u, tokens[u]);
                }
                None
            }
            Op::Move { from, to, tokens } => {
                for u in limited(r) {
                    take_back(slots, from, u, tokens[u]);
                    let c = &mut slots.entry(to).or_default()[u];
                    *c = c.saturating_add(tokens[u]);
                }
                None
            }
        };
        slots.retain(|_, c| *c != [0; 2]);
        answer
    }

    /// What the window ending at `slot` holds for `r`'s key, per unit.
    pub fn window(&self, r: &Request<'_>, slot: u64) -> [u64; 2] {
        let mut name = Vec::new();
        r.store_key(b"", &mut name);
        let k = u64::from(r.slots.max(1));
        self.keys.get(&name).map_or([0; 2], |slots| {
            let mut sum = [0u64; 2];
            for (_, c) in slots.range(slot.saturating_sub(k - 1)..=slot) {
                sum[0] = sum[0].saturating_add(c[0]);
                sum[1] = sum[1].saturating_add(c[1]);
            }
            sum
        })
    }

    /// What slot `slot` of `r`'s key holds, per unit.
    pub fn charged(&self, r: &Request<'_>, slot: u64) -> [u64; 2] {
        let mut name = Vec::new();
        r.store_key(b"", &mut name);
        self.keys
            .get(&name)
            .and_then(|slots| slots.get(&slot))
            .copied()
            .unwrap_or_default()
    }

    /// Forgets everything (a store restarted without persistence).
    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

fn limited(r: &Request<'_>) -> impl Iterator<Item = usize> {
    let limits = r.limits;
    (0..2).filter(move |&u| limits[u].is_some())
}

/// The most any window containing `slot` holds: windows ending at `slot`, and at later
/// slots already charged (a process whose clock runs a little ahead).
fn used(slots: &BTreeMap<u64, Counts>, u: usize, slot: u64, k: u64) -> u64 {
    let newest = slots
        .keys()
        .next_back()
        .copied()
        .unwrap_or(slot)
        .clamp(slot, slot.saturating_add(k - 1));
    (slot..=newest)
        .map(|end| {
            slots
                .range(end.saturating_sub(k - 1)..=end)
                .fold(0u64, |a, (_, c)| a.saturating_add(c[u]))
        })
        .max()
        .unwrap_or(0)
}

fn take_back(slots: &mut BTreeMap<u64, Counts>, slot: u64, u: usize, n: u64) {
    if let Some(c) = slots.get_mut(&slot) {
        c[u] -= n.min(c[u]);
    }
}
