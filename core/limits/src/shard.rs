//! [`ShardLimiter`]: one shard's limiter, the only type the proxy drives. It routes each
//! request to the key's record, to the owner role (this shard owns the key: count here)
//! or the holder role (another shard owns it: spend a lease, ask, or wait), and each
//! message from another shard (or from the store shared with other processes) to the role
//! it concerns. It owns the table, the lists of leases and pools to look after, and the
//! expiry sweep, and the `limit-concurrency` gauges (`gauge`).

use crate::cluster::{self, Link};
use crate::entry::Entry;
use crate::gauge::{Gauges, Slot, GAUGE_ID};
use crate::holder;
use crate::kind::{Decision, Kind, LimitId, BYTES, CALLS};
use crate::message::{Body, Message};
use crate::owner::{self, Mode};
use crate::table::Table;
use crate::upstream::{Cluster, UPSTREAM};

/// Time constants of the budget exchange. The defaults suit shards on one machine whose
/// messages take well under a millisecond; set `lease_horizon_ms` to a few round trips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// A lease is sized to this many ms of the demand seen on its shard, and refilled when
    /// half is spent. Bounds the budget parked in leases (see docs/throttling.md).
    pub lease_horizon_ms: u64,
    /// A lease untouched this long goes back to the owner at the next [`ShardLimiter::tick`].
    pub idle_ms: u64,
    /// An ask unanswered this long is sent again.
    pub ask_timeout_ms: u64,
    /// Records the expiry sweep visits per tick.
    pub expire_per_tick: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            lease_horizon_ms: 2,
            idle_ms: 4,
            ask_timeout_ms: 50,
            expire_per_tick: 64,
        }
    }
}

/// What both roles need to know about this shard.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) shard: u16,
    pub(crate) shards: u16,
    pub(crate) tuning: Tuning,
    /// The store shared with other processes, if any.
    pub(crate) upstream: Option<Link>,
}

impl Ctx {
    /// The store epoch (0 without a store).
    #[inline]
    pub(crate) fn epoch(&self) -> u32 {
        self.upstream.as_ref().map_or(0, |l| l.epoch)
    }
}

/// Which shard owns a key: the same on every shard (fixed seeds), independent of the
/// table's keyed hash.
/// How long an owner waits for the answers to a call-back before deciding without them.
const RECALL_WAIT_MS: u64 = 8;

const OWNER_SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

/// One shard's rate-limit and quota counters. Single-threaded; one per shard.
pub struct ShardLimiter {
    ctx: Ctx,
    table: Table,
    owners: ahash::RandomState,
    /// Records holding lease tokens, with their generation (stale pairs are dropped).
    leased: Vec<(u32, u32)>,
    /// Owned records holding a pool from the store, likewise.
    pooled: Vec<(u32, u32)>,
    /// The expiry sweep's position in the table.
    sweep: usize,
    /// `limit-concurrency` gauges (keyed apart from the table: they have no window).
    gauges: Gauges,
}

impl std::fmt::Debug for ShardLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLimiter")
            .field("shard", &self.ctx.shard)
            .field("shards", &self.ctx.shards)
            .field("keys", &self.table.len())
            .finish()
    }
}

impl ShardLimiter {
    /// Shard `shard` of `shards` (0 is read as 1; `shard` is taken modulo `shards`),
    /// holding at most `max_keys` keys (at least 1).
    pub fn new(shard: u16, shards: u16, max_keys: usize) -> ShardLimiter {
        let shards = shards.max(1);
        ShardLimiter {
            ctx: Ctx {
                shard: shard % shards,
                shards,
                tuning: Tuning::default(),
                upstream: None,
            },
            table: Table::new(max_keys),
            owners: ahash::RandomState::with_seeds(
                OWNER_SEEDS[0],
                OWNER_SEEDS[1],
                OWNER_SEEDS[2],
                OWNER_SEEDS[3],
            ),
            leased: Vec::new(),
            pooled: Vec::new(),
            sweep: 0,
            gauges: Gauges::new(max_keys),
        }
    }

    /// Replaces the time constants (all shards should use the same).
    pub fn with_tuning(mut self, tuning: Tuning) -> ShardLimiter {
        self.ctx.tuning = tuning;
        self
    }

    /// Shares every limit with other processes through a store (the proxy's Redis): the
    /// owner shard of each key takes its budget from the store in pools and sends the
    /// store's operations as messages to [`UPSTREAM`]. The store's link reports its state
    /// with [`Message::status`].
    pub fn with_upstream(mut self, cluster: Cluster) -> ShardLimiter {
        self.ctx.upstream = Some(Link::new(cluster));
        self
    }

    /// Whether this limiter takes its budget from a store it believes reachable (`None`:
    /// no store).
    pub fn upstream_up(&self) -> Option<bool> {
        self.ctx.upstream.as_ref().map(|l| l.up)
    }

    /// Tokens this shard holds for `(id, key)` from the store (its pool, if it owns the
    /// key) and from the owner (its lease, if it does not). For tests and diagnostics.
    pub fn held(&mut self, id: LimitId, key: &[u8]) -> [u64; 2] {
        let h = self.table.hash(id, key);
        match self.table.find(h, id, key) {
            Some(i) => {
                let e = &self.table.entries[i as usize];
                if e.owner == self.ctx.shard {
                    e.pool.tokens
                } else {
                    e.lease.tokens
                }
            }
            None => [0; 2],
        }
    }

    /// The shard that owns `(id, key)`'s budget.
    pub fn owner_of(&self, id: LimitId, key: &[u8]) -> u16 {
        (self.owners.hash_one((id.0, key)) % u64::from(self.ctx.shards)) as u16
    }

    /// Admits a request costing `count` calls (APIM's `increment-count`) and counts it,
    /// or refuses it, or (on a shard that does not own the key and holds no budget for
    /// it) asks the owner through `out` and answers [`Decision::Pending`]. A quota limited
    /// in bandwidth also needs at least one byte left.
    #[inline]
    pub fn check(
        &mut self,
        id: LimitId,
        kind: &Kind,
        key: &[u8],
        count: u64,
        now_ms: u64,
        out: &mut Vec<Message>,
    ) -> Decision {
        self.decide(id, kind, key, count, Mode::Check, now_ms, out)
    }

    /// [`peek`](Self::peek) again by a request that was told `Pending` (after a message
    /// arrived): the same answer, but not counted as new demand, so a request looking
    /// many times neither grows the lease it asks for nor sends more asks.
    #[inline]
    pub fn peek_again(
        &mut self,
        id: LimitId,
        kind: &Kind,
        key: &[u8],
        now_ms: u64,
        out: &mut Vec<Message>,
    ) -> Decision {
        self.decide(id, kind, key, 1, Mode::Recheck, now_ms, out)
    }

    /// Whether one call would be admitted now, counting nothing (APIM's
    /// `increment-condition`: peek before, [`add`](Self::add) after the response). On a
    /// non-owner shard this may take a lease that the later `add` spends.
    #[inline]
    pub fn peek(
        &mut self,
        id: LimitId,
        kind: &Kind,
        key: &[u8],
        now_ms: u64,
        out: &mut Vec<Message>,
    ) -> Decision {
        self.decide(id, kind, key, 1, Mode::Peek, now_ms, out)
    }

    /// Counts `count` calls and `bytes` bytes after the fact, admitted or not (counts past
    /// the limit are kept: they shorten the next window). `bytes` only matters to a quota
    /// limited in bandwidth.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        id: LimitId,
        kind: &Kind,
        key: &[u8],
        count: u64,
        bytes: u64,
        now_ms: u64,
        out: &mut Vec<Message>,
    ) {
        let i = self.lookup(id, kind, key, now_ms, out);
        let e = &mut self.table.entries[i];
        e.last_ms = now_ms;
        if e.owner == self.ctx.shard {
            owner::add(e, self.ctx.upstream.as_ref(), now_ms, [count, bytes], out);
            self.list_pool(i);
        } else {
            holder::add(e, &self.ctx, now_ms, [count, bytes], out);
        }
    }

    /// Takes one of `max` concurrency slots for `key` (APIM's `limit-concurrency`), counted
    /// across all shards: [`Slot::Taken`] (give it back with [`release`](Self::release)),
    /// [`Slot::Full`], or, on a shard that does not own the key and holds no free slot,
    /// [`Slot::Pending`] after asking the owner through `out`. At most `max_keys` keys;
    /// a new key beyond that is refused (a concurrency limit fails closed).
    #[inline]
    pub fn acquire(&mut self, key: &[u8], max: u64, now_ms: u64, out: &mut Vec<Message>) -> Slot {
        let owner = self.owner_of(GAUGE_ID, key);
        self.gauges.acquire(&self.ctx, owner, key, max, now_ms, out)
    }

    /// Gives back a slot [`acquire`](Self::acquire) took for `key` on this shard.
    #[inline]
    pub fn release(&mut self, key: &[u8], now_ms: u64, out: &mut Vec<Message>) {
        self.gauges.release(&self.ctx, key, now_ms, out);
    }

    /// `(in flight here, slots)` for a concurrency key: slots leased from the owner, or on
    /// the owner the slots it lent out. For tests and diagnostics.
    pub fn slots(&self, key: &[u8]) -> (u64, u64) {
        self.gauges.held(key, self.ctx.shard)
    }

    /// Concurrency keys held on this shard.
    pub fn gauges(&self) -> usize {
        self.gauges.len()
    }

    /// Takes a message another shard's limiter (or the store's link) addressed to this one.
    pub fn receive(&mut self, msg: Message, now_ms: u64, out: &mut Vec<Message>) {
        if msg.to != self.ctx.shard || (msg.from >= self.ctx.shards && msg.from != UPSTREAM) {
            return;
        }
        match msg.body {
            Body::Gauge(body) => {
                let owner = self.owner_of(GAUGE_ID, &msg.key);
                self.gauges
                    .receive(&self.ctx, owner, msg.from, &msg.key, body, now_ms, out);
            }
            Body::Ask { need, want } => {
                if self.owner_of(msg.id, &msg.key) != self.ctx.shard {
                    return;
                }
                let i = self.lookup(msg.id, &msg.kind, &msg.key, now_ms, out);
                let link = self.ctx.upstream.as_ref();
                let e = &mut self.table.entries[i];
                let body = owner::grant(e, link, msg.from, need, want, now_ms, out);
                self.list_pool(i);
                if let Body::Grant { tokens: [0, 0], .. } = body {
                    // Refused: call back what other shards sit on; the refused shard is
                    // woken when it comes back (`take_back`).
                    if self.ctx.upstream.is_none() {
                        self.recall(i, msg.from, now_ms, out);
                    }
                }
                out.push(Message {
                    to: msg.from,
                    from: self.ctx.shard,
                    body,
                    ..msg
                });
            }
            Body::Return {
                slot,
                tokens,
                epoch,
            } => {
                let Some(i) = self.find_owned(&msg) else {
                    return;
                };
                let e = &mut self.table.entries[i];
                e.recalling &= !(1u64 << (msg.from % 64));
                let mut woken = owner::take_back(e, slot, tokens, now_ms);
                if let Some(link) = self.ctx.upstream.as_ref().filter(|l| l.epoch == epoch) {
                    cluster::returned(e, link, now_ms, slot, tokens, out);
                    if woken.is_some() {
                        woken = Some(e.pool.tokens);
                    }
                    self.list_pool(i);
                }
                if let Some(remaining) = woken {
                    self.wake(i, remaining, out);
                }
            }
            Body::Charge { slot, tokens } => {
                if self.owner_of(msg.id, &msg.key) != self.ctx.shard {
                    return;
                }
                let i = self.lookup(msg.id, &msg.kind, &msg.key, now_ms, out);
                let link = self.ctx.upstream.as_ref();
                owner::charge_late(&mut self.table.entries[i], link, slot, tokens, now_ms, out);
            }
            Body::Grant {
                slot,
                tokens,
                epoch,
                ..
            } => {
                let h = self.table.hash(msg.id, &msg.key);
                let found = self
                    .table
                    .find(h, msg.id, &msg.key)
                    .map(|i| i as usize)
                    .filter(|&i| self.table.entries[i].owner == msg.from);
                let Some(i) = found else {
                    if tokens != [0; 2] {
                        out.push(Message {
                            to: msg.from,
                            from: self.ctx.shard,
                            body: Body::Return {
                                slot,
                                tokens,
                                epoch,
                            },
                            ..msg
                        });
                    }
                    return;
                };
                holder::on_grant(&mut self.table.entries[i], &self.ctx, msg.body, now_ms, out);
                self.list(i);
            }
            Body::Recall => {
                let h = self.table.hash(msg.id, &msg.key);
                let found = self.table.find(h, msg.id, &msg.key).map(|i| i as usize);
                let e = found
                    .map(|i| &mut self.table.entries[i])
                    .filter(|e| e.owner == msg.from);
                match e {
                    Some(e) if e.lease.holds() => holder::give_back(e, &self.ctx, out),
                    _ => out.push(Message {
                        to: msg.from,
                        from: self.ctx.shard,
                        body: Body::Return {
                            slot: 0,
                            tokens: [0; 2],
                            epoch: self.ctx.epoch(),
                        },
                        ..msg
                    }),
                }
            }
            Body::Wake { remaining } => {
                let h = self.table.hash(msg.id, &msg.key);
                if let Some(i) = self.table.find(h, msg.id, &msg.key) {
                    let e = &mut self.table.entries[i as usize];
                    if e.owner == msg.from {
                        holder::on_wake(e, remaining);
                    }
                }
            }
            Body::Answer {
                slot,
                answer,
                epoch,
            } => {
                let Some(link) = self.ctx.upstream.as_ref() else {
                    return;
                };
                let h = self.table.hash(msg.id, &msg.key);
                let found = self
                    .table
                    .find(h, msg.id, &msg.key)
                    .map(|i| i as usize)
                    .filter(|&i| self.table.entries[i].owner == self.ctx.shard);
                let Some(i) = found else {
                    // The record went: what the store granted goes back.
                    if answer.granted != [0; 2] && link.up {
                        out.push(Message {
                            to: UPSTREAM,
                            from: self.ctx.shard,
                            body: Body::Up {
                                op: crate::upstream::Op::Return {
                                    slot,
                                    tokens: answer.granted,
                                },
                                epoch,
                            },
                            ..msg
                        });
                    }
                    return;
                };
                let e = &mut self.table.entries[i];
                if cluster::on_answer(e, link, now_ms, slot, answer, epoch, out) {
                    let remaining = e.pool.tokens;
                    if e.waiters != 0 {
                        self.wake(i, remaining, out);
                    }
                    self.list_pool(i);
                }
            }
            Body::Status(status) => {
                if let Some(link) = self.ctx.upstream.as_mut() {
                    link.up = status.up;
                    link.epoch = status.epoch;
                    link.processes = status.processes.max(1);
                }
            }
            Body::Up { .. } => {}
        }
    }

    /// Periodic upkeep, every millisecond or so: gives back leases whose slot ended or
    /// whose key went idle (so their budget serves other shards), and drops up to
    /// [`Tuning::expire_per_tick`] records that hold nothing any more.
    pub fn tick(&mut self, now_ms: u64, out: &mut Vec<Message>) {
        self.gauges.tick(&self.ctx, now_ms, out);
        let idle_ms = self.ctx.tuning.idle_ms;
        let mut k = 0;
        while k < self.leased.len() {
            let (i, generation) = self.leased[k];
            let e = &mut self.table.entries[i as usize];
            let keep = e.live && e.generation == generation && e.lease.listed && {
                let slot = e.slot(now_ms);
                if e.lease.slot < slot || now_ms.saturating_sub(e.last_ms) >= idle_ms {
                    holder::give_back(e, &self.ctx, out);
                }
                e.lease.holds()
            };
            if keep {
                k += 1;
            } else {
                if e.generation == generation {
                    e.lease.listed = false;
                }
                self.leased.swap_remove(k);
            }
        }
        if let Some(link) = self.ctx.upstream.as_ref() {
            let mut k = 0;
            while k < self.pooled.len() {
                let (i, generation) = self.pooled[k];
                let e = &mut self.table.entries[i as usize];
                let keep = e.live
                    && e.generation == generation
                    && e.pool.listed
                    && cluster::upkeep(e, link, now_ms, out);
                if keep {
                    k += 1;
                } else {
                    if e.generation == generation {
                        e.pool.listed = false;
                    }
                    self.pooled.swap_remove(k);
                }
            }
        }
        let n = self.table.entries.len();
        for _ in 0..self.ctx.tuning.expire_per_tick.min(n) {
            self.sweep = (self.sweep + 1) % n;
            let i = self.sweep;
            let e = &mut self.table.entries[i];
            if !e.live || now_ms.saturating_sub(e.last_ms) < idle_ms {
                continue;
            }
            let spent = if e.owner == self.ctx.shard {
                owner::is_spent(e, now_ms)
            } else {
                holder::is_spent(e, &self.ctx, now_ms)
            };
            if spent {
                self.table.remove(i as u32);
            }
        }
    }

    /// Whether this shard holds leases from other shards (which [`ShardLimiter::tick`]
    /// gives back when their key goes idle: tick often while this is true).
    pub fn holds_leases(&self) -> bool {
        !self.leased.is_empty()
    }

    /// Keys held on this shard (owned or leased), at most `max_keys`.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn decide(
        &mut self,
        id: LimitId,
        kind: &Kind,
        key: &[u8],
        count: u64,
        mode: Mode,
        now_ms: u64,
        out: &mut Vec<Message>,
    ) -> Decision {
        let i = self.lookup(id, kind, key, now_ms, out);
        let e = &mut self.table.entries[i];
        e.last_ms = now_ms;
        if e.owner == self.ctx.shard {
            let d = owner::admit(e, self.ctx.upstream.as_ref(), now_ms, count, mode, out);
            if self.ctx.upstream.is_some() {
                self.list_pool(i);
            }
            match d {
                // Short while other shards may sit on unspent leases: call them back
                // and have a look (peek) decided again when they answered (one round
                // trip). A count (check) is refused as it stands: a caller that counts
                // after looking must not be told to wait (it would let the call
                // through). Not with a shared store: there a lease may be lent on
                // credit, which must not come back as pooled budget.
                Decision::Denied { retry_after_ms, .. }
                    if retry_after_ms != u64::MAX
                        && self.ctx.upstream.is_none()
                        && self.recall(i, self.ctx.shard, now_ms, out)
                        && mode != Mode::Check =>
                {
                    Decision::Pending
                }
                d => d,
            }
        } else {
            holder::admit(e, &self.ctx, now_ms, count, mode, out)
        }
    }

    /// The record of `(id, key)`, created (evicting if full) when missing, its limit
    /// brought up to date.
    #[inline]
    fn lookup(
        &mut self,
        id: LimitId,
        kind: &Kind,
        key: &[u8],
        now_ms: u64,
        out: &mut Vec<Message>,
    ) -> usize {
        let hash = self.table.hash(id, key);
        if let Some(i) = self.table.find_unmarked(hash, id, key) {
            let e = &mut self.table.entries[i as usize];
            // A second look within the same millisecond (a policy peeks, then counts, in
            // one request) is not a second use: a flood of one-off keys must not earn
            // the reference bit that keeps keys in steady use from eviction.
            if e.last_ms != now_ms {
                e.referenced = true;
            }
            if e.kind != *kind {
                let cluster = self.ctx.upstream.is_some() && e.owner == self.ctx.shard;
                e.set_kind(kind, now_ms, cluster);
            }
            return i as usize;
        }
        let i = self.table.vacancy();
        if self.table.entries[i as usize].live {
            self.retire(i as usize, out);
            self.table.unlink(i);
        }
        let owner = self.owner_of(id, key);
        let cluster = self.ctx.upstream.is_some() && owner == self.ctx.shard;
        self.table.entries[i as usize].init(id, key, kind, owner, now_ms, cluster);
        self.table.link(i, hash);
        i as usize
    }

    /// An owned record for a message about `(id, key)`, if this shard still has it.
    fn find_owned(&mut self, msg: &Message) -> Option<usize> {
        let h = self.table.hash(msg.id, &msg.key);
        let i = self.table.find(h, msg.id, &msg.key)? as usize;
        (self.table.entries[i].owner == self.ctx.shard).then_some(i)
    }

    /// Before a record is reused for another key: its lease goes back to the owner. (An
    /// owned record's counts are lost: see "Bounded memory" in docs/throttling.md.)
    fn retire(&mut self, i: usize, out: &mut Vec<Message>) {
        let e = &mut self.table.entries[i];
        if e.owner != self.ctx.shard {
            holder::give_back(e, &self.ctx, out);
        } else if let Some(link) = self.ctx.upstream.as_ref() {
            cluster::give_back(e, link, out);
        }
    }

    /// Puts a record holding lease tokens on the list [`tick`](Self::tick) walks.
    fn list(&mut self, i: usize) {
        let e = &mut self.table.entries[i];
        if e.lease.holds() && !e.lease.listed {
            e.lease.listed = true;
            self.leased.push((i as u32, e.generation));
        }
    }

    /// Puts an owned record holding a pool on the list [`tick`](Self::tick) walks.
    fn list_pool(&mut self, i: usize) {
        let e = &mut self.table.entries[i];
        if e.pool.holds() && !e.pool.listed {
            e.pool.listed = true;
            self.pooled.push((i as u32, e.generation));
        }
    }

    /// The owner of record `i` is short: calls back the leases of the shards it granted
    /// tokens to (all but `except`, the one asking). True while answers are awaited
    /// (sent now, or earlier and younger than [`RECALL_WAIT_MS`]): a look (peek) waits
    /// and is decided again when they are in.
    fn recall(&mut self, i: usize, except: u16, now_ms: u64, out: &mut Vec<Message>) -> bool {
        // Answers come within a round trip; past this the owner decides without them
        // (well inside the proxy's 20 ms wait, so a late answer never lets calls through).
        let timeout = self.ctx.tuning.ask_timeout_ms.min(RECALL_WAIT_MS);
        let me = self.ctx.shard;
        let e: &mut Entry = &mut self.table.entries[i];
        if e.recalling != 0 && now_ms < e.recalled_at.saturating_add(timeout) {
            return true;
        }
        e.recalling = 0;
        // At most one call-back per idle period: under overload every lease is being
        // spent anyway, and calling them back only puts budget in flight.
        if now_ms < e.recalled_at.saturating_add(self.ctx.tuning.idle_ms) {
            return false;
        }
        let bit = |s: u16| 1u64 << (s % 64);
        let targets = e.holders & !bit(except) & !bit(me);
        e.recalling = targets;
        if targets == 0 {
            return false;
        }
        e.holders &= !targets;
        e.recalled_at = now_ms;
        for shard in (0..self.ctx.shards).filter(|&s| s != me && s != except) {
            if targets & bit(shard) != 0 {
                out.push(Message {
                    to: shard,
                    from: me,
                    id: e.id,
                    kind: e.kind,
                    key: e.key.as_slice().into(),
                    body: Body::Recall,
                });
            }
        }
        true
    }

    /// Tells every shard refused since budget last came back that it may ask again.
    fn wake(&mut self, i: usize, remaining: [u64; 2], out: &mut Vec<Message>) {
        let e: &mut Entry = &mut self.table.entries[i];
        let waiters = std::mem::take(&mut e.waiters);
        for shard in 0..self.ctx.shards {
            if shard != self.ctx.shard && waiters & (1u64 << (shard % 64)) != 0 {
                out.push(Message {
                    to: shard,
                    from: self.ctx.shard,
                    id: e.id,
                    kind: e.kind,
                    key: e.key.as_slice().into(),
                    body: Body::Wake { remaining },
                });
            }
        }
    }
}

// The unit indices are part of the message layout.
const _: () = assert!(CALLS == 0 && BYTES == 1);
