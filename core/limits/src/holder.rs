//! A non-owner shard's side of a key: admitting requests from its lease, asking the owner
//! before the lease runs dry (sized to the demand seen here), refusing locally while the
//! owner has said there is nothing left, giving back unspent tokens when the slot ends or
//! the key goes idle, and reporting counts made after the fact beyond the lease.

use crate::entry::Entry;
use crate::kind::{Decision, Exhausted, BYTES, CALLS};
use crate::message::{Body, Message};
use crate::owner::{needs, wait, Mode};
use crate::shard::Ctx;
use crate::upstream::OnFailure;

/// A lease is never sized below `limit / (MIN_LEASE_DIVISOR · shards)`: a shard with little
/// traffic then asks less often, at a cost of at most `1/MIN_LEASE_DIVISOR` of the limit
/// left unspent in leases at once.
const MIN_LEASE_DIVISOR: u64 = 256;

/// A request on a shard that does not own the key.
#[inline]
pub(crate) fn admit(
    e: &mut Entry,
    ctx: &Ctx,
    now_ms: u64,
    count: u64,
    mode: Mode,
    out: &mut Vec<Message>,
) -> Decision {
    if let Some(link) = ctx
        .upstream
        .as_ref()
        .filter(|l| !l.up && l.cfg.on_failure == OnFailure::Closed)
    {
        return Decision::Denied {
            retry_after_ms: link.cfg.closed_retry_ms(),
            exhausted: Exhausted::Calls,
        };
    }
    let slot = e.slot(now_ms);
    same_epoch(e, ctx);
    if e.lease.slot < slot {
        give_back(e, ctx, out);
        e.lease.slot = slot;
    }
    let need = needs(count, mode);
    if mode != Mode::Recheck {
        e.lease
            .demand
            .note(now_ms, [need[CALLS], 0], ctx.tuning.lease_horizon_ms);
    }
    // From here `e.lease.slot >= slot`: a lease for a later slot (the owner's clock a
    // little ahead of this one) is spent as if this clock had reached it.
    let short = (0..2).find(|&u| e.limits[u].is_some() && e.lease.tokens[u] < need[u]);
    let Some(unit) = short else {
        if mode == Mode::Check && e.limits[CALLS].is_some() {
            e.lease.tokens[CALLS] -= count;
        }
        refill(e, ctx, now_ms, out);
        let unit = e.headline_unit();
        let total = e.limits[unit].unwrap_or(u64::MAX);
        let remaining = e.lease.tokens[unit].saturating_add(e.lease.hint[unit]);
        return Decision::Allowed {
            remaining: remaining.min(total),
            total,
        };
    };
    let limit = e.limits[unit].unwrap_or(u64::MAX);
    let exhausted = Exhausted::of_unit(unit);
    if need[unit] > limit {
        return Decision::Denied {
            retry_after_ms: u64::MAX,
            exhausted,
        };
    }
    let lacking = need[unit] - e.lease.tokens[unit];
    if e.lease.hint[unit] < lacking && now_ms < e.lease.free_at[unit] {
        return Decision::Denied {
            retry_after_ms: wait(e.lease.free_at[unit], now_ms),
            exhausted,
        };
    }
    let mut lacking = [0; 2];
    for u in 0..2 {
        if e.limits[u].is_some() {
            lacking[u] = need[u].saturating_sub(e.lease.tokens[u]);
        }
    }
    if !e.lease.asking(now_ms, ctx.tuning.ask_timeout_ms) {
        e.lease.asked_calls = 0;
        e.lease.pending_calls = lacking[CALLS];
        ask(e, ctx, now_ms, lacking, [0; 2], out);
    } else if mode != Mode::Recheck {
        // A burst while the ask is in flight: ask again for twice what is waiting.
        e.lease.pending_calls = e.lease.pending_calls.saturating_add(need[CALLS]);
        if e.limits[CALLS].is_some() && e.lease.pending_calls > e.lease.asked_calls {
            let more = e.lease.pending_calls.saturating_mul(2) - e.lease.asked_calls;
            ask(e, ctx, now_ms, [0; 2], [more, 0], out);
        }
    }
    Decision::Pending
}

/// Tokens granted before the store came or went are neither spent nor pooled now: the
/// lease drops them (the owner's books keep them charged: this can only under-admit).
fn same_epoch(e: &mut Entry, ctx: &Ctx) {
    if e.lease.epoch != ctx.epoch() {
        e.lease.tokens = [0; 2];
        e.lease.epoch = ctx.epoch();
    }
}

/// Counts after the fact: spent from the lease, the rest reported to the owner.
pub(crate) fn add(e: &mut Entry, ctx: &Ctx, now_ms: u64, units: [u64; 2], out: &mut Vec<Message>) {
    let slot = e.slot(now_ms);
    same_epoch(e, ctx);
    if e.lease.slot < slot {
        give_back(e, ctx, out);
        e.lease.slot = slot;
    }
    e.lease
        .demand
        .note(now_ms, [0, units[BYTES]], ctx.tuning.lease_horizon_ms);
    let mut over = [0; 2];
    for u in 0..2 {
        if e.limits[u].is_none() {
            continue;
        }
        let take = units[u].min(e.lease.tokens[u]);
        e.lease.tokens[u] -= take;
        over[u] = units[u] - take;
    }
    if over != [0; 2] {
        out.push(message(e, ctx, Body::Charge { slot, tokens: over }));
    }
}

/// The owner's answer to an ask.
pub(crate) fn on_grant(e: &mut Entry, ctx: &Ctx, body: Body, now_ms: u64, out: &mut Vec<Message>) {
    let Body::Grant {
        slot,
        tokens,
        remaining,
        free_at,
        epoch,
    } = body
    else {
        return;
    };
    if epoch != ctx.epoch() {
        if tokens != [0; 2] {
            out.push(message(
                e,
                ctx,
                Body::Return {
                    slot,
                    tokens,
                    epoch,
                },
            ));
        }
        return;
    }
    if e.lease.epoch != epoch {
        e.lease.tokens = [0; 2];
        e.lease.epoch = epoch;
    }
    e.lease.answered(now_ms);
    e.lease.hint = remaining;
    e.lease.free_at = free_at;
    let current = e.slot(now_ms);
    if e.lease.slot < slot && slot >= current {
        give_back(e, ctx, out);
        e.lease.slot = slot;
    }
    if slot == e.lease.slot && slot >= current {
        for (t, g) in e.lease.tokens.iter_mut().zip(tokens) {
            *t = t.saturating_add(g);
        }
    } else if tokens != [0; 2] {
        // Arrived after its slot ended: it can only go back.
        out.push(message(
            e,
            ctx,
            Body::Return {
                slot,
                tokens,
                epoch,
            },
        ));
    }
}

/// The owner has budget again after refusing this shard.
pub(crate) fn on_wake(e: &mut Entry, remaining: [u64; 2]) {
    e.lease.hint = remaining;
    e.lease.free_at = [0; 2];
}

/// Gives every unspent token back to the owner (slot over, key idle, record evicted).
pub(crate) fn give_back(e: &mut Entry, ctx: &Ctx, out: &mut Vec<Message>) {
    if e.lease.holds() {
        let tokens = std::mem::take(&mut e.lease.tokens);
        let slot = e.lease.slot;
        // The owner will have these again: worth asking for them if needed.
        for (h, t) in e.lease.hint.iter_mut().zip(tokens) {
            *h = h.saturating_add(t);
        }
        let epoch = e.lease.epoch;
        out.push(message(
            e,
            ctx,
            Body::Return {
                slot,
                tokens,
                epoch,
            },
        ));
    }
}

/// Whether the record holds nothing worth keeping: no tokens, no ask in flight, no refusal
/// in force.
pub(crate) fn is_spent(e: &Entry, ctx: &Ctx, now_ms: u64) -> bool {
    !e.lease.holds()
        && !e.lease.asking(now_ms, ctx.tuning.ask_timeout_ms)
        && e.lease.free_at.iter().all(|&f| f <= now_ms)
}

/// Asks ahead of need when the lease has fallen below half its target and the owner may
/// have more.
fn refill(e: &mut Entry, ctx: &Ctx, now_ms: u64, out: &mut Vec<Message>) {
    if e.lease.asking(now_ms, ctx.tuning.ask_timeout_ms) {
        return;
    }
    let target = target(e, ctx, now_ms);
    let low = (0..2).any(|u| {
        e.limits[u].is_some()
            && e.lease.tokens[u].saturating_mul(2) < target[u]
            && (e.lease.hint[u] > 0 || now_ms >= e.lease.free_at[u])
    });
    if low {
        ask(e, ctx, now_ms, [0; 2], [0; 2], out);
    }
}

/// The lease this shard should hold per unit: the demand of one horizon — the tuned
/// horizon, or two round trips if asks take longer (the refill is asked at half the
/// lease, so half must outlast a round trip) — less when the slot ends sooner (a lease
/// dies with its slot), never below the floor.
fn target(e: &mut Entry, ctx: &Ctx, now_ms: u64) -> [u64; 2] {
    let measured = ctx.tuning.lease_horizon_ms.max(1);
    let per_measured = e.lease.demand.per_horizon(now_ms, measured);
    let h = measured.max(e.lease.rtt_ms.saturating_mul(2));
    let cover = h.min(e.slot_end().saturating_sub(now_ms));
    let mut t = [0; 2];
    for u in 0..2 {
        let Some(limit) = e.limits[u] else {
            continue;
        };
        let want = (u128::from(per_measured[u]) * u128::from(cover))
            .div_ceil(u128::from(measured))
            .min(u128::from(u64::MAX)) as u64;
        let floor = limit / (MIN_LEASE_DIVISOR * u64::from(ctx.shards));
        t[u] = want.max(floor).max(1).min(limit);
    }
    t
}

/// Asks the owner for what is `lacking` now, topped up to the target lease, or for
/// `more` (a burst) if that is larger.
fn ask(
    e: &mut Entry,
    ctx: &Ctx,
    now_ms: u64,
    lacking: [u64; 2],
    more: [u64; 2],
    out: &mut Vec<Message>,
) {
    let target = target(e, ctx, now_ms);
    let mut want = [0; 2];
    for u in 0..2 {
        want[u] = lacking[u]
            .max(target[u].saturating_sub(e.lease.tokens[u]))
            .max(more[u]);
    }
    if !e.lease.asking(now_ms, ctx.tuning.ask_timeout_ms) {
        e.lease.asked_at = now_ms;
    }
    e.lease.asked_calls = e.lease.asked_calls.saturating_add(want[CALLS]);
    out.push(message(
        e,
        ctx,
        Body::Ask {
            need: lacking,
            want,
        },
    ));
}

fn message(e: &Entry, ctx: &Ctx, body: Body) -> Message {
    Message {
        to: e.owner,
        from: ctx.shard,
        id: e.id,
        kind: e.kind,
        key: e.key.as_slice().into(),
        body,
    }
}
