//! The owner shard's side of a key shared with other processes through the store: what
//! the owner may spend comes from its [`Pool`](crate::pool::Pool) — tokens the store
//! charged to the current slot before granting them — or, while an ask is on its way, from
//! a small **credit** (at most `allowance` per window, counted in the store right after).
//! The pool moves forward with the slot (the store is told to move its tokens), asks ahead
//! of need, goes back when idle, and is forgotten when the store's epoch changes. While the
//! store is down the owner counts alone (`on-failure: open`) or refuses (`closed`). Why
//! this never admits more than `L` plus the credits: docs/throttling.md.

// Per-unit arrays (`[calls, bytes]`) are walked in step by unit index.
#![allow(clippy::needless_range_loop)]

use crate::entry::Entry;
use crate::kind::{Decision, Exhausted};
use crate::message::{Body, Message};
use crate::owner::{wait, Mode};
use crate::upstream::{Answer, Cluster, OnFailure, Op, UPSTREAM};

/// Credit per process and window: `limit / (CREDIT_DIVISOR · processes)`, at least 1. All
/// processes' credits together stay within `1/CREDIT_DIVISOR` of the limit (plus one call
/// per process when that rounds to 0).
pub(crate) const CREDIT_DIVISOR: u64 = 32;
/// A pool is never sized below `limit / (FLOOR_DIVISOR · processes)`, at least 1: a key
/// with little traffic keeps a token at hand rather than asking for each call.
pub(crate) const FLOOR_DIVISOR: u64 = 64;

/// The longest an idle pool keeps its floor.
const MAX_FLOOR_IDLE_MS: u64 = 60_000;

/// The least pool worth keeping: `limit / (FLOOR_DIVISOR · processes)`, at least 1.
fn floor(limit: u64, link: &Link) -> u64 {
    (limit / (FLOOR_DIVISOR * u64::from(link.processes.max(1)))).max(1)
}

/// The store as this shard knows it.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) cfg: Cluster,
    pub(crate) up: bool,
    pub(crate) epoch: u32,
    pub(crate) processes: u32,
}

impl Link {
    pub(crate) fn new(cfg: Cluster) -> Link {
        Link {
            cfg,
            up: true,
            epoch: 0,
            processes: 1,
        }
    }

    /// An ask unanswered this long is given up (the store link answers every ask or
    /// reports the store down, so this only guards against a lost answer).
    fn ask_timeout(&self) -> u64 {
        self.cfg.sync_ms.saturating_mul(20).max(1000)
    }

    /// Demand is measured over this much: one sync interval (shorter would follow a key
    /// whose traffic starts here sooner, but size pools on bursts).
    fn demand_ms(&self) -> u64 {
        self.cfg.sync_ms.max(1)
    }

    /// How often an owner the store refused asks again while requests keep coming.
    fn poll_ms(&self) -> u64 {
        self.cfg.sync_ms
    }

    /// Credit per window of a limit.
    fn allowance(&self, limit: u64) -> u64 {
        (limit / (CREDIT_DIVISOR * u64::from(self.processes.max(1)))).max(1)
    }
}

/// A request on the owner shard, after the local window admitted it: whether this process
/// may spend `need` now. On `Check` it spends it (pool first, then credit). Returns the
/// refusal if not.
pub(crate) fn admit(
    e: &mut Entry,
    link: &Link,
    now_ms: u64,
    need: [u64; 2],
    mode: Mode,
    out: &mut Vec<Message>,
) -> Result<(), Decision> {
    if !link.up {
        return match link.cfg.on_failure {
            OnFailure::Open => Ok(()),
            OnFailure::Closed => Err(Decision::Denied {
                retry_after_ms: link.cfg.closed_retry_ms(),
                exhausted: Exhausted::Calls,
            }),
        };
    }
    let slot = settle(e, link, now_ms, out);
    e.pool.last_ms = now_ms;
    e.pool.demand.note(now_ms, [need[0], 0], link.demand_ms());
    let plan = plan(e, link, now_ms, need);
    if let (Ok(credit), Mode::Check) = (plan, mode) {
        spend(e, link, slot, need, credit, out);
    }
    refill(e, link, now_ms, slot, out);
    plan.map(|_| ()).map_err(|(at, unit)| Decision::Denied {
        retry_after_ms: wait(at, now_ms),
        exhausted: Exhausted::of_unit(unit),
    })
}

/// What the owner may lend another shard asking for `want` (at least `need`): the cap per
/// unit and the part of it that comes from credit, or when to come back.
pub(crate) fn lend(
    e: &mut Entry,
    link: &Link,
    now_ms: u64,
    need: [u64; 2],
    want: [u64; 2],
    out: &mut Vec<Message>,
) -> Result<([u64; 2], [u64; 2]), u64> {
    if !link.up {
        return match link.cfg.on_failure {
            OnFailure::Open => Ok(([u64::MAX; 2], [0; 2])),
            OnFailure::Closed => Err(now_ms.saturating_add(link.cfg.closed_retry_ms())),
        };
    }
    let slot = settle(e, link, now_ms, out);
    e.pool.last_ms = now_ms;
    let wanted = [want[0].max(need[0]), want[1].max(need[1])];
    e.pool.demand.note(now_ms, wanted, link.demand_ms());
    let result = match plan(e, link, now_ms, need) {
        Ok(credit) if credit == [0; 2] => {
            let mut cap = [0; 2];
            for u in 0..2 {
                cap[u] = wanted[u].min(e.pool.tokens[u]);
                if e.limits[u].is_none() {
                    cap[u] = wanted[u];
                }
            }
            Ok((cap, [0; 2]))
        }
        Ok(credit) => Ok((need, credit)),
        Err((at, _)) => Err(at),
    };
    refill(e, link, now_ms, slot, out);
    result
}

/// Spends `n` per unit lent to another shard, of which `credit` on credit.
pub(crate) fn spend_lent(
    e: &mut Entry,
    link: &Link,
    now_ms: u64,
    n: [u64; 2],
    credit: [u64; 2],
    out: &mut Vec<Message>,
) {
    if link.up {
        let slot = e.slot(now_ms);
        spend(e, link, slot, n, credit, out);
    }
}

/// What the owner can tell a shard it lent to (or refused): per unit, what its pool has
/// left and, when that is nothing, when more should come (the store's word, or the answer
/// to the ask in flight). The shard refuses locally until then rather than asking again
/// at every request, and is woken when an answer fills the pool.
pub(crate) fn outlook(e: &Entry, link: &Link, now_ms: u64) -> ([u64; 2], [u64; 2]) {
    let mut left = [u64::MAX; 2];
    let mut at = [0; 2];
    if !link.up {
        return (left, at);
    }
    for u in 0..2 {
        if e.limits[u].is_none() {
            continue;
        }
        left[u] = e.pool.tokens[u];
        if left[u] == 0 {
            at[u] = if e.pool.hint[u] == 0 && now_ms < e.pool.free_at[u] {
                e.pool.free_at[u]
            } else if e.pool.asking(now_ms, link.ask_timeout()) {
                e.pool
                    .asked_at
                    .saturating_add(link.cfg.sync_ms)
                    .saturating_add(e.pool.rtt_ms)
                    .max(now_ms + 1)
            } else {
                now_ms.saturating_add(link.cfg.sync_ms)
            };
        }
    }
    (left, at)
}

/// Tokens of `slot` a shard gave back (they were spent from the pool, so the store has
/// them charged): back into the pool, moved forward, or back to the store.
pub(crate) fn returned(
    e: &mut Entry,
    link: &Link,
    now_ms: u64,
    slot: u64,
    tokens: [u64; 2],
    out: &mut Vec<Message>,
) {
    if !link.up {
        return;
    }
    settle(e, link, now_ms, out);
    pool_in(e, link, slot, tokens, out);
}

/// Counted after the fact in `slot` beyond any lease: from the pool if it is that slot's,
/// the rest charged in the store.
pub(crate) fn late(
    e: &mut Entry,
    link: &Link,
    now_ms: u64,
    slot: u64,
    tokens: [u64; 2],
    out: &mut Vec<Message>,
) {
    if !link.up {
        return;
    }
    settle(e, link, now_ms, out);
    e.pool.last_ms = now_ms;
    e.pool.demand.note(now_ms, [0, tokens[1]], link.demand_ms());
    let mut over = [0; 2];
    for u in 0..2 {
        if e.limits[u].is_none() {
            continue;
        }
        let take = if slot == e.pool.slot {
            tokens[u].min(e.pool.tokens[u])
        } else {
            0
        };
        e.pool.tokens[u] -= take;
        over[u] = tokens[u] - take;
    }
    if over != [0; 2] {
        up(e, link, Op::Charge { slot, tokens: over }, out);
    }
    let current = e.pool.slot;
    refill(e, link, now_ms, current, out);
}

/// The store's answer to this owner's ask. Returns whether tokens came into the pool.
pub(crate) fn on_answer(
    e: &mut Entry,
    link: &Link,
    now_ms: u64,
    slot: u64,
    answer: Answer,
    epoch: u32,
    out: &mut Vec<Message>,
) -> bool {
    if !link.up {
        return false;
    }
    if epoch != link.epoch {
        // Granted before the store went away and came back: give it back.
        if answer.granted != [0; 2] {
            up_epoch(
                e,
                Op::Return {
                    slot,
                    tokens: answer.granted,
                },
                epoch,
                out,
            );
        }
        return false;
    }
    settle(e, link, now_ms, out);
    e.pool.answered(now_ms);
    for u in 0..2 {
        e.pool.hint[u] = answer.remaining[u];
        e.pool.free_at[u] = if answer.remaining[u] > 0 {
            0
        } else if answer.free_slot[u] > 0 {
            e.geometry.frees_at(answer.free_slot[u])
        } else {
            now_ms.saturating_add(link.poll_ms())
        };
    }
    if answer.granted == [0; 2] {
        return false;
    }
    pool_in(e, link, slot, answer.granted, out);
    e.pool.holds()
}

/// Periodic care of a pool: follows the slot; untouched for `idle_ms` it goes back to the
/// store but for its floor (so a key with sparse traffic still finds a token at hand),
/// untouched for a whole window (at most a minute) entirely. Returns whether it still
/// holds tokens. (A pool larger than the demand is not trimmed otherwise: it is spent in
/// the next slots, while tokens given back would sit in the store until a refused process
/// asks again.)
pub(crate) fn upkeep(e: &mut Entry, link: &Link, now_ms: u64, out: &mut Vec<Message>) -> bool {
    if !link.up {
        return false;
    }
    settle(e, link, now_ms, out);
    let idle = now_ms.saturating_sub(e.pool.last_ms);
    let window = e
        .geometry
        .slot_ms()
        .saturating_mul(e.geometry.slots() as u64)
        .clamp(link.cfg.idle_ms, MAX_FLOOR_IDLE_MS);
    if idle >= window {
        give_back(e, link, out);
        return false;
    }
    if idle >= link.cfg.idle_ms {
        let mut excess = [0; 2];
        for u in 0..2 {
            if let Some(limit) = e.limits[u] {
                let floor = floor(limit, link);
                excess[u] = e.pool.tokens[u].saturating_sub(floor);
                e.pool.tokens[u] -= excess[u];
            }
        }
        if excess != [0; 2] {
            let slot = e.pool.slot;
            up(
                e,
                link,
                Op::Return {
                    slot,
                    tokens: excess,
                },
                out,
            );
        }
    }
    e.pool.holds()
}

/// Gives the whole pool back to the store (idle, or the record is going).
pub(crate) fn give_back(e: &mut Entry, link: &Link, out: &mut Vec<Message>) {
    if e.pool.epoch != link.epoch {
        e.pool.restart(link.epoch);
    }
    if e.pool.holds() && link.up {
        let tokens = std::mem::take(&mut e.pool.tokens);
        let slot = e.pool.slot;
        up(e, link, Op::Return { slot, tokens }, out);
    }
    e.pool.tokens = [0; 2];
}

/// Brings the pool to the store's epoch and to the current slot (moving its tokens forward
/// in the store, or giving them back when they cannot follow). Returns the slot.
fn settle(e: &mut Entry, link: &Link, now_ms: u64, out: &mut Vec<Message>) -> u64 {
    if e.pool.epoch != link.epoch {
        // Tokens of another epoch are forgotten: still charged in the store until their
        // window ends, so this can only under-admit.
        e.pool.restart(link.epoch);
    }
    let slot = e.slot(now_ms);
    if e.pool.slot < slot {
        if e.pool.holds() {
            let tokens = std::mem::take(&mut e.pool.tokens);
            let from = e.pool.slot;
            if slot == from + 1 && carries(e, link) {
                e.pool.tokens = tokens;
                up(
                    e,
                    link,
                    Op::Move {
                        from,
                        to: slot,
                        tokens,
                    },
                    out,
                );
            } else {
                up(e, link, Op::Return { slot: from, tokens }, out);
            }
        }
        e.pool.slot = slot;
        for u in 0..2 {
            if e.limits[u].is_some() {
                e.pool.credit[u].advance(slot);
            }
        }
    }
    slot
}

/// Whether tokens charged in one slot may be spent in the next once the store is told to
/// move them: only for sliding windows of 3 slots or more whose window outlasts a few
/// sync intervals, so the move lands long before the charge leaves the store's window.
fn carries(e: &Entry, link: &Link) -> bool {
    let k = e.geometry.slots() as u64;
    k >= 3 && e.geometry.slot_ms().saturating_mul(k - 1) >= link.cfg.sync_ms.saturating_mul(4)
}

/// Tokens charged in the store to `slot` come into the pool (now at `e.pool.slot`).
fn pool_in(e: &mut Entry, link: &Link, slot: u64, tokens: [u64; 2], out: &mut Vec<Message>) {
    let current = e.pool.slot;
    if slot == current {
        add(&mut e.pool.tokens, tokens);
    } else if slot + 1 == current && carries(e, link) {
        add(&mut e.pool.tokens, tokens);
        up(
            e,
            link,
            Op::Move {
                from: slot,
                to: current,
                tokens,
            },
            out,
        );
    } else {
        up(e, link, Op::Return { slot, tokens }, out);
    }
}

fn add(to: &mut [u64; 2], tokens: [u64; 2]) {
    for (t, n) in to.iter_mut().zip(tokens) {
        *t = t.saturating_add(n);
    }
}

/// Whether `need` can be spent now: `Ok(credit)` with the part that would come from credit,
/// or `Err((retry at, unit))`.
fn plan(e: &Entry, link: &Link, now_ms: u64, need: [u64; 2]) -> Result<[u64; 2], (u64, usize)> {
    let mut credit = [0; 2];
    for u in 0..2 {
        let Some(limit) = e.limits[u] else {
            continue;
        };
        let have = e.pool.tokens[u];
        if have >= need[u] {
            continue;
        }
        let lacking = need[u] - have;
        if e.pool.hint[u] < lacking && now_ms < e.pool.free_at[u] {
            return Err((e.pool.free_at[u], u));
        }
        if e.pool.credit[u].available(link.allowance(limit)) < lacking {
            let at = if e.pool.asking(now_ms, link.ask_timeout()) {
                e.pool
                    .asked_at
                    .saturating_add(link.cfg.sync_ms)
                    .saturating_add(e.pool.rtt_ms)
            } else {
                now_ms.saturating_add(link.cfg.sync_ms)
            };
            return Err((at.max(now_ms + 1), u));
        }
        credit[u] = lacking;
    }
    Ok(credit)
}

/// Spends `n` per unit in `slot`: the pool first, `credit` on credit (counted in the store
/// at the next sync).
fn spend(
    e: &mut Entry,
    link: &Link,
    slot: u64,
    n: [u64; 2],
    credit: [u64; 2],
    out: &mut Vec<Message>,
) {
    for u in 0..2 {
        if e.limits[u].is_none() {
            continue;
        }
        let from_pool = n[u].saturating_sub(credit[u]).min(e.pool.tokens[u]);
        e.pool.tokens[u] -= from_pool;
        if credit[u] > 0 {
            e.pool.credit[u].charge(credit[u]);
        }
    }
    if credit != [0; 2] {
        up(
            e,
            link,
            Op::Charge {
                slot,
                tokens: credit,
            },
            out,
        );
    }
}

/// The pool this process should hold per unit: two round trips (sync wait included) of
/// its demand — but when the store has little left (its last word was below that), only
/// what the demand spends before the slot ends: a pool still full when the slot ends is
/// budget the windows ending there never admit. Never below the floor nor above the
/// limit.
fn target(e: &mut Entry, link: &Link, now_ms: u64) -> [u64; 2] {
    let sync = link.cfg.sync_ms.max(1);
    let h = link.demand_ms();
    let per_h = e.pool.demand.per_horizon(now_ms, h);
    let cover = sync.saturating_add(e.pool.rtt_ms).saturating_mul(2);
    let left = e.slot_end().saturating_sub(now_ms).max(1);
    let mut t = [0; 2];
    for u in 0..2 {
        let Some(limit) = e.limits[u] else {
            continue;
        };
        let per = |ms: u64| {
            (u128::from(per_h[u]) * u128::from(ms))
                .div_ceil(u128::from(h))
                .min(u128::from(u64::MAX)) as u64
        };
        let mut want = per(cover);
        if e.pool.hint[u] < want {
            // The answer lands about half a round trip before the next ask could: only
            // what is spent between then and the slot's end.
            want = per(cover.min(left.saturating_sub(e.pool.rtt_ms / 2).max(1)));
        }
        t[u] = want.max(floor(limit, link)).min(limit);
    }
    t
}

/// Asks the store for more when the pool has fallen below half its target — unless the
/// store said it has nothing left, in which case only every `poll_ms` (budget another
/// process gives back is found that way).
fn refill(e: &mut Entry, link: &Link, now_ms: u64, slot: u64, out: &mut Vec<Message>) {
    if e.pool.asking(now_ms, link.ask_timeout()) {
        return;
    }
    let target = target(e, link, now_ms);
    let low =
        (0..2).any(|u| e.limits[u].is_some() && e.pool.tokens[u].saturating_mul(2) < target[u]);
    if !low {
        return;
    }
    let refused =
        (0..2).any(|u| e.limits[u].is_some() && e.pool.hint[u] == 0 && now_ms < e.pool.free_at[u]);
    if refused && now_ms < e.pool.last_ask.saturating_add(link.poll_ms()) {
        return;
    }
    let mut want = [0; 2];
    for u in 0..2 {
        want[u] = target[u].saturating_sub(e.pool.tokens[u]);
    }
    e.pool.asked_at = now_ms;
    e.pool.last_ask = now_ms;
    up(e, link, Op::Ask { slot, want }, out);
}

fn up(e: &Entry, link: &Link, op: Op, out: &mut Vec<Message>) {
    if link.up {
        up_epoch(e, op, link.epoch, out);
    }
}

fn up_epoch(e: &Entry, op: Op, epoch: u32, out: &mut Vec<Message>) {
    out.push(Message {
        to: UPSTREAM,
        from: e.owner,
        id: e.id,
        kind: e.kind,
        key: e.key.as_slice().into(),
        body: Body::Up { op, epoch },
    });
}
