//! `limit-concurrency` across shards: a **gauge** per key (requests in flight), exact for
//! the whole process. The key's owner shard holds the authoritative count: its own
//! requests in flight plus the slots it lent to each other shard. Another shard takes a
//! slot from its **lease** (slots the owner lent it), or asks the owner for more and
//! answers [`Slot::Pending`]; a slot released goes back into the local lease (a busy shard
//! keeps its slots), and slots idle for [`Tuning::idle_ms`](crate::Tuning) go back to the
//! owner at the next tick — at once when the owner recalls them because another shard was
//! refused. Since a shard only runs requests on slots the owner counted as lent, the
//! requests in flight across all shards never exceed `max`. See docs/throttling.md,
//! "Concurrency".

use std::collections::HashMap;

use crate::kind::{Kind, LimitId};
use crate::message::{Body, Message};
use crate::shard::Ctx;

/// The answer to [`ShardLimiter::acquire`](crate::ShardLimiter::acquire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A slot is taken; give it back with [`release`](crate::ShardLimiter::release).
    Taken,
    /// All `max` slots are taken (APIM: 429 at once).
    Full,
    /// This shard holds no free slot and asked the key's owner; wait for messages (a few
    /// ms at most) and acquire again, or refuse. Never returned with one shard.
    Pending,
}

/// The id gauge messages carry: gauges are keyed by key bytes alone (APIM counts
/// `limit-concurrency` per key value).
pub(crate) const GAUGE_ID: LimitId = LimitId(u64::MAX);

/// What gauge messages carry as their [`Kind`]: nothing reads it (a gauge has no window).
const GAUGE_KIND: Kind = Kind::Rate {
    calls: 0,
    period_ms: 0,
};

/// Gauge messages between a key's owner and the other shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GaugeBody {
    /// Holder → owner: lend me `want` slots (of `max`).
    Ask { want: u64, max: u64 },
    /// Owner → holder: `slots` more are yours (0: none free; you are told when one frees).
    /// `want` echoes the ask; `contended`: other shards are waiting, give slots back as
    /// they free.
    Grant {
        slots: u64,
        want: u64,
        contended: bool,
    },
    /// Holder → owner: these lent slots are free again.
    Return { slots: u64 },
    /// Owner → holder: a slot freed since you were refused; ask again.
    Wake,
    /// Owner → holder: another shard was refused; give back what you do not use.
    Recall,
}

/// One key's gauge on one shard.
#[derive(Debug)]
struct Gauge {
    key: Box<[u8]>,
    owner: u16,
    /// The limit as last seen (the owner's is authoritative).
    max: u64,
    /// Requests in flight on this shard.
    busy: u64,
    /// Holder: slots lent by the owner (`busy ≤ lease`).
    lease: u64,
    /// Holder: slots asked for and not yet answered, and since when.
    asked: u64,
    asked_ms: u64,
    /// Holder: requests told `Pending` since the asks started.
    demand: u64,
    /// Holder: the owner said nothing is free (until `Wake`, or `ask_timeout_ms`).
    refused_ms: Option<u64>,
    /// Holder: give slots back as they free (the owner has shards waiting).
    recalled: bool,
    /// Owner: slots lent to each shard (empty until the first grant).
    lent: Vec<u64>,
    /// Owner: shards refused since, to wake when a slot frees.
    waiting: Vec<bool>,
    /// Owner: holders were told to give back idle slots and not answered yet.
    recalling: bool,
    last_ms: u64,
}

impl Gauge {
    fn lent_total(&self) -> u64 {
        self.lent.iter().sum()
    }

    /// Owner: slots neither in flight here nor lent.
    fn free(&self) -> u64 {
        self.max
            .saturating_sub(self.busy)
            .saturating_sub(self.lent_total())
    }

    /// Nothing in flight, lent, leased, asked or awaited: the record can go.
    fn is_empty(&self) -> bool {
        self.busy == 0
            && self.lease == 0
            && self.asked == 0
            && self.lent.iter().all(|n| *n == 0)
            && self.waiting.iter().all(|w| !w)
    }
}

/// One shard's gauges, at most `max_keys`. Records stay in place while their key is used
/// (a request for a key already held allocates nothing) and are dropped by the tick once
/// empty and idle.
#[derive(Debug)]
pub(crate) struct Gauges {
    slab: Vec<Option<Gauge>>,
    free: Vec<u32>,
    index: HashMap<Box<[u8]>, u32, ahash::RandomState>,
    max_keys: usize,
    /// The tick's position in `slab`.
    sweep: usize,
}

impl Gauges {
    pub(crate) fn new(max_keys: usize) -> Gauges {
        Gauges {
            slab: Vec::new(),
            free: Vec::new(),
            index: HashMap::with_hasher(ahash::RandomState::new()),
            max_keys: max_keys.max(1),
            sweep: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    fn find(&self, key: &[u8]) -> Option<usize> {
        self.index.get(key).map(|i| *i as usize)
    }

    /// The record for `key`, created if there is room.
    fn find_or_insert(&mut self, key: &[u8], owner: u16, max: u64, now_ms: u64) -> Option<usize> {
        if let Some(i) = self.find(key) {
            return Some(i);
        }
        if self.index.len() >= self.max_keys {
            return None;
        }
        let g = Gauge {
            key: key.into(),
            owner,
            max,
            busy: 0,
            lease: 0,
            asked: 0,
            asked_ms: now_ms,
            demand: 0,
            refused_ms: None,
            recalled: false,
            lent: Vec::new(),
            waiting: Vec::new(),
            recalling: false,
            last_ms: now_ms,
        };
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slab.get_mut(i as usize) {
                    *s = Some(g);
                }
                i
            }
            None => {
                self.slab.push(Some(g));
                (self.slab.len() - 1) as u32
            }
        };
        self.index.insert(key.into(), i);
        Some(i as usize)
    }

    fn get(&mut self, i: usize) -> Option<&mut Gauge> {
        self.slab.get_mut(i).and_then(Option::as_mut)
    }

    fn remove(&mut self, i: usize) {
        if let Some(g) = self.slab.get_mut(i).and_then(Option::take) {
            self.index.remove(&g.key);
            self.free.push(i as u32);
        }
    }

    /// `(busy, lease)` for `key` on this shard (lease: slots lent by the owner; on the
    /// owner, the slots it lent out).
    pub(crate) fn held(&self, key: &[u8], shard: u16) -> (u64, u64) {
        match self
            .find(key)
            .and_then(|i| self.slab.get(i))
            .and_then(Option::as_ref)
        {
            Some(g) if g.owner == shard => (g.busy, g.lent_total()),
            Some(g) => (g.busy, g.lease),
            None => (0, 0),
        }
    }

    pub(crate) fn acquire(
        &mut self,
        ctx: &Ctx,
        owner: u16,
        key: &[u8],
        max: u64,
        now_ms: u64,
        out: &mut Vec<Message>,
    ) -> Slot {
        let Some(i) = self.find_or_insert(key, owner, max, now_ms) else {
            // No room for another key: a concurrency limit fails closed.
            return Slot::Full;
        };
        let Some(g) = self.get(i) else {
            return Slot::Full;
        };
        g.last_ms = now_ms;
        g.max = max;
        if g.owner == ctx.shard {
            if g.free() > 0 {
                g.busy += 1;
                return Slot::Taken;
            }
            recall(g, ctx, None, out);
            return Slot::Full;
        }
        if g.busy < g.lease {
            g.busy += 1;
            return Slot::Taken;
        }
        if let Some(t) = g.refused_ms {
            if now_ms.saturating_sub(t) < ctx.tuning.ask_timeout_ms {
                return Slot::Full;
            }
            g.refused_ms = None;
        }
        if g.asked > 0 && now_ms.saturating_sub(g.asked_ms) >= ctx.tuning.ask_timeout_ms {
            // Unanswered: ask again (a late answer is still counted).
            g.asked = 0;
            g.demand = 0;
        }
        g.demand += 1;
        if g.demand > g.asked {
            // A burst while asks are in flight asks for twice what waits.
            let want = if g.asked == 0 {
                1
            } else {
                g.demand * 2 - g.asked
            };
            let want = want.min(max.max(1));
            g.asked += want;
            g.asked_ms = now_ms;
            send(ctx, g, g.owner, GaugeBody::Ask { want, max }, out);
        }
        Slot::Pending
    }

    pub(crate) fn release(&mut self, ctx: &Ctx, key: &[u8], now_ms: u64, out: &mut Vec<Message>) {
        let Some(i) = self.find(key) else {
            return;
        };
        let Some(g) = self.get(i) else {
            return;
        };
        g.last_ms = now_ms;
        g.busy = g.busy.saturating_sub(1);
        if g.owner == ctx.shard {
            if g.free() > 0 {
                wake(g, ctx, out);
            }
        } else if g.recalled && g.lease > g.busy {
            g.lease -= 1;
            send(ctx, g, g.owner, GaugeBody::Return { slots: 1 }, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn receive(
        &mut self,
        ctx: &Ctx,
        owner: u16,
        from: u16,
        key: &[u8],
        body: GaugeBody,
        now_ms: u64,
        out: &mut Vec<Message>,
    ) {
        let from_ix = from as usize;
        if owner == ctx.shard {
            match body {
                GaugeBody::Ask { want, max } => {
                    let Some(g) = self
                        .find_or_insert(key, owner, max, now_ms)
                        .and_then(|i| self.get(i))
                    else {
                        // No room to count: lend nothing, and say so.
                        reply(ctx, key, from, 0, want, true, out);
                        return;
                    };
                    if g.lent.len() < ctx.shards as usize {
                        g.lent.resize(ctx.shards as usize, 0);
                        g.waiting.resize(ctx.shards as usize, false);
                    }
                    g.last_ms = now_ms;
                    g.max = max;
                    let slots = want.min(g.free());
                    if slots == 0 {
                        if let Some(w) = g.waiting.get_mut(from_ix) {
                            *w = true;
                        }
                        recall(g, ctx, Some(from), out);
                    } else if let Some(l) = g.lent.get_mut(from_ix) {
                        *l += slots;
                    }
                    let contended = g.waiting.iter().any(|w| *w);
                    reply(ctx, key, from, slots, want, contended, out);
                }
                GaugeBody::Return { slots } => {
                    let Some(g) = self.find(key).and_then(|i| self.get(i)) else {
                        return;
                    };
                    if let Some(l) = g.lent.get_mut(from_ix) {
                        *l = l.saturating_sub(slots);
                    }
                    g.recalling = false;
                    if g.free() > 0 {
                        wake(g, ctx, out);
                    }
                }
                GaugeBody::Grant { .. } | GaugeBody::Wake | GaugeBody::Recall => {}
            }
            return;
        }
        match body {
            GaugeBody::Grant {
                slots,
                want,
                contended,
            } => {
                let Some(g) = self.find(key).and_then(|i| self.get(i)) else {
                    if slots > 0 {
                        // The record is gone: the slots were never used.
                        give(ctx, key, from, GaugeBody::Return { slots }, out);
                    }
                    return;
                };
                g.asked = g.asked.saturating_sub(want);
                if g.asked == 0 {
                    g.demand = 0;
                }
                g.lease += slots;
                g.recalled = contended;
                g.refused_ms = (slots == 0).then_some(now_ms);
                if slots > 0 {
                    g.last_ms = now_ms;
                }
            }
            GaugeBody::Wake => {
                if let Some(g) = self.find(key).and_then(|i| self.get(i)) {
                    g.refused_ms = None;
                }
            }
            GaugeBody::Recall => {
                if let Some(g) = self.find(key).and_then(|i| self.get(i)) {
                    g.recalled = true;
                    let idle = g.lease - g.busy.min(g.lease);
                    if idle > 0 {
                        g.lease -= idle;
                        send(ctx, g, g.owner, GaugeBody::Return { slots: idle }, out);
                    }
                }
            }
            GaugeBody::Ask { .. } | GaugeBody::Return { .. } => {}
        }
    }

    /// Gives back idle leased slots and drops empty records, visiting at most `per_tick`.
    pub(crate) fn tick(&mut self, ctx: &Ctx, now_ms: u64, out: &mut Vec<Message>) {
        let n = self.slab.len();
        let idle_ms = ctx.tuning.idle_ms;
        for _ in 0..ctx.tuning.expire_per_tick.min(n) {
            self.sweep = (self.sweep + 1) % n;
            let i = self.sweep;
            let Some(g) = self.get(i) else {
                continue;
            };
            if now_ms.saturating_sub(g.last_ms) < idle_ms {
                continue;
            }
            if g.owner != ctx.shard && g.lease > g.busy {
                let idle = g.lease - g.busy;
                g.lease = g.busy;
                send(ctx, g, g.owner, GaugeBody::Return { slots: idle }, out);
            }
            if g.asked > 0 && now_ms.saturating_sub(g.asked_ms) >= ctx.tuning.ask_timeout_ms {
                g.asked = 0;
                g.demand = 0;
            }
            if g.is_empty() {
                self.remove(i);
            }
        }
    }
}

/// Owner: tells every holder of idle slots but `except` to give them back (once until a
/// slot comes back).
fn recall(g: &mut Gauge, ctx: &Ctx, except: Option<u16>, out: &mut Vec<Message>) {
    if g.recalling {
        return;
    }
    let mut any = false;
    for (s, n) in g.lent.iter().enumerate() {
        let s = s as u16;
        if *n > 0 && Some(s) != except && s != ctx.shard {
            out.push(message(ctx, &g.key, s, GaugeBody::Recall));
            any = true;
        }
    }
    g.recalling = any;
}

/// Owner: a slot is free; tells the shards refused since.
fn wake(g: &mut Gauge, ctx: &Ctx, out: &mut Vec<Message>) {
    for s in 0..g.waiting.len() {
        if g.waiting.get(s).copied().unwrap_or(false) {
            if let Some(w) = g.waiting.get_mut(s) {
                *w = false;
            }
            out.push(message(ctx, &g.key, s as u16, GaugeBody::Wake));
        }
    }
}

fn send(ctx: &Ctx, g: &Gauge, to: u16, body: GaugeBody, out: &mut Vec<Message>) {
    out.push(message(ctx, &g.key, to, body));
}

fn give(ctx: &Ctx, key: &[u8], to: u16, body: GaugeBody, out: &mut Vec<Message>) {
    out.push(message(ctx, key, to, body));
}

fn reply(
    ctx: &Ctx,
    key: &[u8],
    to: u16,
    slots: u64,
    want: u64,
    contended: bool,
    out: &mut Vec<Message>,
) {
    let body = GaugeBody::Grant {
        slots,
        want,
        contended,
    };
    out.push(message(ctx, key, to, body));
}

fn message(ctx: &Ctx, key: &[u8], to: u16, body: GaugeBody) -> Message {
    Message {
        to,
        from: ctx.shard,
        id: GAUGE_ID,
        kind: GAUGE_KIND,
        key: key.into(),
        body: Body::Gauge(body),
    }
}
