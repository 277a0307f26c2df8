//! One key's record on one shard: its identity and limit, the slot cache, and both roles'
//! state — the [`Ledger`]s (and, with a shared store, the [`Pool`]) if this shard owns the
//! key, the [`Lease`] if it does not. A
//! record is recycled in place when its key is evicted, keeping its buffers, so a new key
//! in a full table allocates nothing once the key bytes and ring fit.

use crate::geometry::Geometry;
use crate::kind::{Kind, LimitId, CALLS};
use crate::lease::Lease;
use crate::ledger::Ledger;
use crate::pool::Pool;

/// End of a hash chain.
pub(crate) const NIL: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct Entry {
    /// Table bookkeeping: the key's hash, the next record with the same hash, whether the
    /// record holds a key, CLOCK's reference bit, and a generation bumped at every reuse
    /// (so a stale index in a list is recognised).
    pub(crate) hash: u64,
    pub(crate) next: u32,
    pub(crate) live: bool,
    pub(crate) referenced: bool,
    pub(crate) generation: u32,

    pub(crate) id: LimitId,
    pub(crate) key: Vec<u8>,
    pub(crate) kind: Kind,
    pub(crate) limits: [Option<u64>; 2],
    pub(crate) geometry: Geometry,
    /// The shard holding this key's authoritative ledgers.
    pub(crate) owner: u16,
    /// Last time a request (check, peek, add) touched the key here.
    pub(crate) last_ms: u64,

    /// Slot cache: `slot` holds every `now` in `slot_start..slot_end`.
    slot: u64,
    slot_start: u64,
    slot_end: u64,

    /// Owner role: per-unit ledgers (only limited units have a ring) and the shards
    /// refused since budget last came back, one bit per `shard % 64`.
    pub(crate) ledgers: [Ledger; 2],
    pub(crate) waiters: u64,
    /// Owner role: shards granted tokens since they were last called back (one bit per
    /// `shard % 64`), the shards called back whose answer has not come, and when.
    pub(crate) holders: u64,
    pub(crate) recalling: u64,
    pub(crate) recalled_at: u64,

    /// Holder role.
    pub(crate) lease: Lease,

    /// Owner role with a store shared by several processes.
    pub(crate) pool: Pool,
}

impl Default for Entry {
    fn default() -> Self {
        let kind = Kind::Rate {
            calls: 0,
            period_ms: 1,
        };
        Entry {
            hash: 0,
            next: NIL,
            live: false,
            referenced: false,
            generation: 0,
            id: LimitId(0),
            key: Vec::new(),
            kind,
            limits: kind.limits(),
            geometry: Geometry::of(&kind),
            owner: 0,
            last_ms: 0,
            slot: 0,
            slot_start: u64::MAX,
            slot_end: 0,
            ledgers: [Ledger::default(), Ledger::default()],
            waiters: 0,
            holders: 0,
            recalling: 0,
            recalled_at: 0,
            lease: Lease::default(),
            pool: Pool::default(),
        }
    }
}

impl Entry {
    /// Makes this record describe a fresh key (its previous key already retired).
    /// `cluster`: its owner shares it with other processes through a store.
    pub(crate) fn init(
        &mut self,
        id: LimitId,
        key: &[u8],
        kind: &Kind,
        owner: u16,
        now_ms: u64,
        cluster: bool,
    ) {
        self.generation = self.generation.wrapping_add(1);
        self.id = id;
        self.key.clear();
        self.key.extend_from_slice(key);
        self.owner = owner;
        self.last_ms = now_ms;
        // A new key earns its reference bit on its second use: a flood of one-off keys
        // then evicts itself, not the keys in steady use.
        self.referenced = false;
        self.waiters = 0;
        self.holders = 0;
        self.recalling = 0;
        self.lease = Lease::default();
        self.pool.restart(self.pool.epoch);
        self.pool.rtt_ms = 0;
        self.pool.last_ms = now_ms;
        self.set_kind(kind, now_ms, cluster);
    }

    /// Adopts a (possibly changed) limit. The same windows keep their counts, so a
    /// reload that only changes `calls` loses nothing; other windows start afresh, and a
    /// lease granted under the old windows is dropped unspent (never over-admits), and so
    /// is a pool (its tokens are charged under the old windows' name in the store).
    pub(crate) fn set_kind(&mut self, kind: &Kind, now_ms: u64, cluster: bool) {
        let geometry = Geometry::of(kind);
        let limits = kind.limits();
        let same_windows = geometry == self.geometry
            && limits.map(|l| l.is_some()) == self.limits.map(|l| l.is_some());
        self.kind = *kind;
        self.limits = limits;
        // What the owner said under the old limit (nothing left until then) no longer
        // holds: ask it again.
        self.lease.hint = [u64::MAX; 2];
        self.lease.free_at = [0; 2];
        if same_windows && self.live {
            return;
        }
        self.geometry = geometry;
        self.slot_start = u64::MAX;
        self.slot_end = 0;
        let slot = self.slot(now_ms);
        for (unit, ledger) in self.ledgers.iter_mut().enumerate() {
            if limits[unit].is_some() {
                ledger.reset(geometry.slots(), slot);
            } else {
                ledger.disable(slot);
            }
        }
        for (unit, credit) in self.pool.credit.iter_mut().enumerate() {
            if cluster && limits[unit].is_some() {
                credit.reset(geometry.slots(), slot);
            } else {
                credit.disable(slot);
            }
        }
        self.lease.slot = slot;
        self.lease.tokens = [0; 2];
        self.pool.slot = slot;
        self.pool.tokens = [0; 2];
    }

    /// The slot holding `now_ms` (cached: no division while the slot lasts).
    #[inline]
    pub(crate) fn slot(&mut self, now_ms: u64) -> u64 {
        if now_ms >= self.slot_start && now_ms < self.slot_end {
            return self.slot;
        }
        self.slot = self.geometry.slot(now_ms);
        self.slot_start = self.geometry.start(self.slot);
        self.slot_end = self.geometry.end(self.slot);
        self.slot
    }

    /// When the current slot (as last computed) ends.
    pub(crate) fn slot_end(&self) -> u64 {
        self.slot_end
    }

    /// What a request is told it has left: calls if limited, else bytes.
    pub(crate) fn headline_unit(&self) -> usize {
        if self.limits[CALLS].is_some() {
            CALLS
        } else {
            crate::kind::BYTES
        }
    }
}
