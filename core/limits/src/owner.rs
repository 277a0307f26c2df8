//! The owner shard's side of a key: admitting its own requests straight off the
//! [`Ledger`](crate::ledger::Ledger)s, granting leases to other shards from what the window has left, taking
//! back unspent tokens and late counts, and waking shards it refused once budget comes
//! back. Every token a request anywhere spends is charged here, in the slot it may be
//! spent in, before it is spent: that is the whole exactness argument (docs/throttling.md).

// Per-unit arrays (`[calls, bytes]`) are walked in step by unit index.
#![allow(clippy::needless_range_loop)]

use crate::entry::Entry;
use crate::kind::{Decision, Exhausted, CALLS};
use crate::message::Body;

/// What a request asks of a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Admit and count `count` calls.
    Check,
    /// Would one call be admitted? Counts nothing.
    Peek,
}

/// What a request needs per unit: its calls, and at least one byte of bandwidth left.
#[inline]
pub(crate) fn needs(count: u64, mode: Mode) -> [u64; 2] {
    match mode {
        Mode::Check => [count, 1],
        Mode::Peek => [1, 1],
    }
}

/// Milliseconds from `now_ms` to `at` (at least 1), or `u64::MAX` for never.
pub(crate) fn wait(at: u64, now_ms: u64) -> u64 {
    if at == u64::MAX {
        u64::MAX
    } else {
        at.saturating_sub(now_ms).max(1)
    }
}

/// Moves every limited ledger to the slot of `now_ms`; returns that slot.
#[inline]
fn advance(e: &mut Entry, now_ms: u64) -> u64 {
    let slot = e.slot(now_ms);
    for (limit, ledger) in e.limits.iter().zip(e.ledgers.iter_mut()) {
        if limit.is_some() {
            ledger.advance(slot);
        }
    }
    slot
}

/// A request on the owner shard.
#[inline]
pub(crate) fn admit(e: &mut Entry, now_ms: u64, count: u64, mode: Mode) -> Decision {
    advance(e, now_ms);
    let need = needs(count, mode);
    for unit in 0..2 {
        let Some(limit) = e.limits[unit] else {
            continue;
        };
        let ledger = &e.ledgers[unit];
        if ledger.available(limit) < need[unit] {
            let at = ledger.free_at(need[unit], limit, &e.geometry);
            return Decision::Denied {
                retry_after_ms: wait(at, now_ms),
                exhausted: Exhausted::of_unit(unit),
            };
        }
    }
    if mode == Mode::Check {
        e.ledgers[CALLS].charge(count);
    }
    let unit = e.headline_unit();
    let total = e.limits[unit].unwrap_or(u64::MAX);
    Decision::Allowed {
        remaining: e.ledgers[unit].available(total),
        total,
    }
}

/// Counts after the fact on the owner shard (admitted or not: the work was done).
pub(crate) fn add(e: &mut Entry, now_ms: u64, units: [u64; 2]) {
    advance(e, now_ms);
    for (ledger, n) in e.ledgers.iter_mut().zip(units) {
        ledger.charge(n);
    }
}

/// Another shard asks for budget: grant `want` (at least `need`) from what the window has
/// left, all units or none, charged to the current slot. A shard left short is noted
/// as a waiter, to be woken when tokens come back.
pub(crate) fn grant(e: &mut Entry, from: u16, need: [u64; 2], want: [u64; 2], now_ms: u64) -> Body {
    let slot = advance(e, now_ms);
    let mut available = [u64::MAX; 2];
    for unit in 0..2 {
        if let Some(limit) = e.limits[unit] {
            available[unit] = e.ledgers[unit].available(limit);
        }
    }
    let fits = (0..2).all(|u| available[u] >= need[u]);
    let mut tokens = [0; 2];
    let mut remaining = [u64::MAX; 2];
    let mut free_at = [0; 2];
    let mut charged_slot = slot;
    for unit in 0..2 {
        let Some(limit) = e.limits[unit] else {
            continue;
        };
        let ledger = &mut e.ledgers[unit];
        charged_slot = ledger.head();
        let g = if fits {
            want[unit].max(need[unit]).min(available[unit])
        } else {
            0
        };
        ledger.charge(g);
        tokens[unit] = g;
        remaining[unit] = available[unit] - g;
        let n = need[unit].max(1);
        if remaining[unit] < n {
            free_at[unit] = ledger.free_at(n, limit, &e.geometry);
            e.waiters |= 1u64 << (from % 64);
        }
    }
    Body::Grant {
        slot: charged_slot,
        tokens,
        remaining,
        free_at,
    }
}

/// Unspent tokens of a lease for `slot` come back. Returns what the window now has left
/// if the tokens made a difference and shards are waiting (the caller wakes them).
pub(crate) fn take_back(
    e: &mut Entry,
    slot: u64,
    tokens: [u64; 2],
    now_ms: u64,
) -> Option<[u64; 2]> {
    advance(e, now_ms);
    let mut refunded = 0;
    let mut available = [u64::MAX; 2];
    for unit in 0..2 {
        if let Some(limit) = e.limits[unit] {
            refunded += e.ledgers[unit].refund(slot, tokens[unit]);
            available[unit] = e.ledgers[unit].available(limit);
        }
    }
    (refunded > 0 && e.waiters != 0 && available.iter().all(|&a| a > 0)).then_some(available)
}

/// Counts another shard made beyond its lease, in `slot`.
pub(crate) fn charge_late(e: &mut Entry, slot: u64, tokens: [u64; 2], now_ms: u64) {
    advance(e, now_ms);
    for unit in 0..2 {
        if e.limits[unit].is_some() {
            e.ledgers[unit].charge_at(slot, tokens[unit]);
        }
    }
}

/// Whether the owner's record holds nothing worth keeping: no charge left in the window.
pub(crate) fn is_spent(e: &mut Entry, now_ms: u64) -> bool {
    advance(e, now_ms);
    e.limits
        .iter()
        .zip(&e.ledgers)
        .all(|(l, g)| l.is_none() || g.used() == 0)
}
