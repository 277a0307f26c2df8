//! The per-request cost of a limit check: a hot key on its owner shard (admitted and
//! refused), a hot key on a shard that leases its budget from another, a new key into a
//! full table (evicting one), and a naive baseline — a `HashMap<Vec<u8>, VecDeque<u64>>`
//! sliding log, one timestamp per admitted call. Heap allocations per check are counted
//! and printed for each.
//!
//!   cargo bench -p tollgate-limits --bench check

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tollgate_limits::{Decision, Kind, LimitId, Message, ShardLimiter};

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

const ID: LimitId = LimitId(1);
const KEY: &[u8] = b"subscription-0123456789abcdef";
const TABLE: usize = 10_000;

/// The naive limiter: a log of admission times per key, trimmed on every check.
#[derive(Default)]
struct SlidingLog {
    logs: HashMap<Vec<u8>, VecDeque<u64>>,
}

impl SlidingLog {
    fn check(&mut self, key: &[u8], calls: u64, period_ms: u64, now: u64) -> bool {
        let log = match self.logs.get_mut(key) {
            Some(log) => log,
            None => self.logs.entry(key.to_vec()).or_default(),
        };
        while log.front().is_some_and(|&t| t + period_ms <= now) {
            log.pop_front();
        }
        if (log.len() as u64) < calls {
            log.push_back(now);
            true
        } else {
            false
        }
    }
}

/// A non-owner shard and its owner, messages delivered at once.
struct Pair {
    shards: [ShardLimiter; 2],
    holder: usize,
    key: Vec<u8>,
    out: Vec<Message>,
    inbox: Vec<Message>,
}

impl Pair {
    fn new() -> Pair {
        let shards = [
            ShardLimiter::new(0, 2, TABLE),
            ShardLimiter::new(1, 2, TABLE),
        ];
        let key = (0u32..)
            .map(|i| format!("sub-{i}").into_bytes())
            .find(|k| shards[0].owner_of(ID, k) == 1)
            .unwrap_or_default();
        Pair {
            shards,
            holder: 0,
            key,
            out: Vec::with_capacity(16),
            inbox: Vec::with_capacity(16),
        }
    }

    fn check(&mut self, kind: &Kind, now: u64) -> Decision {
        let d = self.shards[self.holder].check(ID, kind, &self.key, 1, now, &mut self.out);
        while !self.out.is_empty() {
            std::mem::swap(&mut self.out, &mut self.inbox);
            for m in self.inbox.drain(..) {
                let to = m.to() as usize;
                self.shards[to].receive(m, now, &mut self.out);
            }
        }
        d
    }
}

fn allocations_per_call(n: u64, mut f: impl FnMut(u64)) -> f64 {
    let mut i = 0;
    tollgate_alloc_count::per_call(n, || {
        f(i);
        i += 1;
    })
}

fn bench(c: &mut Criterion) {
    let open = Kind::Rate {
        calls: u64::MAX / 2,
        period_ms: 60_000,
    };
    let tight = Kind::Rate {
        calls: 100,
        period_ms: 60_000,
    };
    let mut out: Vec<Message> = Vec::with_capacity(16);

    // Hot key on its owner shard.
    let mut owner = ShardLimiter::new(0, 1, TABLE);
    owner.check(ID, &open, KEY, 1, 0, &mut out);
    owner.check(ID, &tight, b"refused", 1, 0, &mut out);
    for _ in 0..200 {
        owner.check(ID, &tight, b"refused", 1, 0, &mut out);
    }
    let hot = allocations_per_call(100_000, |i| {
        black_box(owner.check(ID, &open, KEY, 1, i / 1000, &mut out));
    });
    let refused = allocations_per_call(100_000, |i| {
        black_box(owner.check(ID, &tight, b"refused", 1, i / 1000, &mut out));
    });

    // Hot key leased from another shard (refills and their messages included).
    let mut pair = Pair::new();
    for i in 0..10_000 {
        pair.check(&open, i / 1000);
    }
    let leased = allocations_per_call(100_000, |i| {
        black_box(pair.check(&open, 10 + i / 1000));
    });

    // New keys into a full table.
    let mut full = ShardLimiter::new(0, 1, TABLE);
    let mut key = Vec::with_capacity(32);
    let mut next = 0u64;
    let mut fresh = |l: &mut ShardLimiter, out: &mut Vec<Message>, now: u64| {
        key.clear();
        key.extend_from_slice(b"flood-key-");
        key.extend_from_slice(&next.to_le_bytes());
        next += 1;
        black_box(l.check(ID, &tight, &key, 1, now, out));
    };
    for i in 0..(2 * TABLE as u64) {
        fresh(&mut full, &mut out, i / 1000);
    }
    let insert = allocations_per_call(100_000, |i| fresh(&mut full, &mut out, 20 + i / 1000));

    // The naive sliding log: a hot key at 1,000 calls per 1 s window, clock at 1 call per
    // µs so the log is trimmed as it goes.
    let mut naive = SlidingLog::default();
    for i in 0..10_000 {
        naive.check(KEY, 1000, 1000, i / 1000);
    }
    let naive_allocs = allocations_per_call(100_000, |i| {
        black_box(naive.check(KEY, 1000, 1000, 10 + i / 1000));
    });
    let mut naive_keys = SlidingLog::default();
    let naive_new = allocations_per_call(10_000, |i| {
        black_box(naive_keys.check(&i.to_le_bytes(), 1000, 1000, 0));
    });
    eprintln!(
        "heap allocations per check: hot key {hot:.4}, hot key refused {refused:.4}, \
         hot key leased from another shard {leased:.4} (refill messages), new key into a full \
         table {insert:.4}; naive sliding log: hot key {naive_allocs:.4}, new key {naive_new:.2} \
         (and it never forgets a key)"
    );

    let mut g = c.benchmark_group("limit-check");
    g.measurement_time(Duration::from_secs(3));
    let mut now = 100u64;
    let mut tick = 0u64;
    let mut clock = || {
        tick += 1;
        if tick % 1024 == 0 {
            now += 1;
        }
        now
    };
    g.bench_function("hot-key-owner", |b| {
        b.iter(|| black_box(owner.check(ID, &open, black_box(KEY), 1, clock(), &mut out)))
    });
    g.bench_function("hot-key-owner-refused", |b| {
        b.iter(|| black_box(owner.check(ID, &tight, black_box(b"refused"), 1, clock(), &mut out)))
    });
    g.bench_function("hot-key-leased", |b| {
        b.iter(|| black_box(pair.check(&open, clock())))
    });
    g.bench_function("new-key-full-table", |b| {
        b.iter(|| {
            let t = clock();
            fresh(&mut full, &mut out, t)
        })
    });
    g.bench_function("naive-sliding-log-hot-key", |b| {
        b.iter(|| black_box(naive.check(black_box(KEY), 1000, 1000, clock())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
