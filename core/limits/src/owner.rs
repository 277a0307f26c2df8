//! The owner shard's side of a key: admitting its own requests straight off the
//! [`Ledger`](crate::ledger::Ledger)s, granting leases to other shards from what the window has left, taking
//! back unspent tokens and late counts, and waking shards it refused once budget comes
//! back. Every token a request anywhere spends is charged here, in the slot it may be
//! spent in, before it is spent: that is the whole exactness argument (docs/throttling.md).
//! With a store shared by several processes, what this process spends must also come from
//! the store (`cluster`): both the local window and the pool must admit.

// Per-unit arrays (`[calls, bytes]`) are walked in step by unit index.
#![allow(clippy::needless_range_loop)]

use crate::cluster::{self, Link};
use crate::entry::Entry;
use crate::kind::{Decision, Exhausted, CALLS};
use crate::message::{Body, Message};
use crate::upstream::OnFailure;

/// What a request asks of a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Admit and count `count` calls.
    Check,
    /// Would one call be admitted? Counts nothing.
    Peek,
    /// A peek by a request that was told `Pending` and looks again: not new demand (it
    /// sizes no lease and asks for no more than is already asked).
    Recheck,
}

/// What a request needs per unit: its calls, and at least one byte of bandwidth left.
#[inline]
pub(crate) fn needs(count: u64, mode: Mode) -> [u64; 2] {
    match mode {
        Mode::Check => [count, 1],
        Mode::Peek | Mode::Recheck => [1, 1],
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
pub(crate) fn admit(
    e: &mut Entry,
    link: Option<&Link>,
    now_ms: u64,
    count: u64,
    mode: Mode,
    out: &mut Vec<Message>,
) -> Decision {
    advance(e, now_ms);
    let need = needs(count, mode);
    if let Some(link) = link.filter(|l| !l.up && l.cfg.on_failure == OnFailure::Closed) {
        return Decision::Denied {
            retry_after_ms: link.cfg.closed_retry_ms(),
            exhausted: Exhausted::Calls,
        };
    }
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
    if let Some(link) = link {
        if let Err(refused) = cluster::admit(e, link, now_ms, need, mode, out) {
            return refused;
        }
    }
    if mode == Mode::Check {
        e.ledgers[CALLS].charge(count);
    }
    let unit = e.headline_unit();
    let total = e.limits[unit].unwrap_or(u64::MAX);
    let mut remaining = e.ledgers[unit].available(total);
    if link.is_some_and(|l| l.up) {
        remaining = remaining.min(e.pool.tokens[unit].saturating_add(e.pool.hint[unit]));
    }
    Decision::Allowed { remaining, total }
}

/// Counts after the fact on the owner shard (admitted or not: the work was done).
pub(crate) fn add(
    e: &mut Entry,
    link: Option<&Link>,
    now_ms: u64,
    units: [u64; 2],
    out: &mut Vec<Message>,
) {
    let slot = advance(e, now_ms);
    for (ledger, n) in e.ledgers.iter_mut().zip(units) {
        ledger.charge(n);
    }
    if let Some(link) = link {
        cluster::late(e, link, now_ms, slot, units, out);
    }
}

/// Another shard asks for budget: grant `want` (at least `need`) from what the window has
/// left, all units or none, charged to the current slot. A shard left short is noted
/// as a waiter, to be woken when tokens come back. With a shared store the grant must
/// also come from the pool (or credit).
#[allow(clippy::too_many_arguments)]
pub(crate) fn grant(
    e: &mut Entry,
    link: Option<&Link>,
    from: u16,
    need: [u64; 2],
    want: [u64; 2],
    now_ms: u64,
    out: &mut Vec<Message>,
) -> Body {
    let slot = advance(e, now_ms);
    let mut available = [u64::MAX; 2];
    for unit in 0..2 {
        if let Some(limit) = e.limits[unit] {
            available[unit] = e.ledgers[unit].available(limit);
        }
    }
    let mut fits = (0..2).all(|u| available[u] >= need[u]);
    let mut credit = [0; 2];
    let mut refused_until = 0;
    if let (Some(link), true) = (link, fits) {
        match cluster::lend(e, link, now_ms, need, want, out) {
            Ok((cap, c)) => {
                credit = c;
                for u in 0..2 {
                    available[u] = available[u].min(cap[u]);
                }
            }
            Err(at) => {
                fits = false;
                refused_until = at;
            }
        }
    }
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
        if g > 0 {
            e.holders |= 1u64 << (from % 64);
        }
        remaining[unit] = available[unit] - g;
        let n = need[unit].max(1);
        if remaining[unit] < n || refused_until > 0 {
            free_at[unit] = ledger.free_at(n, limit, &e.geometry).max(refused_until);
            e.waiters |= 1u64 << (from % 64);
        }
        if refused_until > 0 {
            remaining[unit] = 0;
        }
    }
    if let Some(link) = link {
        if tokens != [0; 2] {
            cluster::spend_lent(e, link, now_ms, tokens, credit, out);
        }
        let (left, at) = cluster::outlook(e, link, now_ms);
        for unit in 0..2 {
            if e.limits[unit].is_some() && left[unit] < need[unit].max(1) {
                remaining[unit] = remaining[unit].min(left[unit]);
                free_at[unit] = free_at[unit].max(at[unit]);
                e.waiters |= 1u64 << (from % 64);
            }
        }
    }
    Body::Grant {
        slot: charged_slot,
        tokens,
        remaining,
        free_at,
        epoch: link.map_or(0, |l| l.epoch),
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
pub(crate) fn charge_late(
    e: &mut Entry,
    link: Option<&Link>,
    slot: u64,
    tokens: [u64; 2],
    now_ms: u64,
    out: &mut Vec<Message>,
) {
    advance(e, now_ms);
    for unit in 0..2 {
        if e.limits[unit].is_some() {
            e.ledgers[unit].charge_at(slot, tokens[unit]);
        }
    }
    if let Some(link) = link {
        cluster::late(e, link, now_ms, slot, tokens, out);
    }
}

/// Whether the owner's record holds nothing worth keeping: no charge left in the window,
/// no pool.
pub(crate) fn is_spent(e: &mut Entry, now_ms: u64) -> bool {
    advance(e, now_ms);
    !e.pool.holds()
        && e.limits
            .iter()
            .zip(&e.ledgers)
            .all(|(l, g)| l.is_none() || g.used() == 0)
}
