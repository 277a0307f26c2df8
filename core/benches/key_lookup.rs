//! Subscription key lookup: the digest index (SHA-256, O(1) by digest prefix, constant-
//! time confirm) beside a naive baseline that compares the presented key with every
//! configured key in turn (O(n), and its early-exit compare leaks timing).
//!
//!   cargo bench -p tollgate-core --bench key_lookup

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tollgate_core::access::{KeyIndex, Which};

fn keys(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{i:08x}0123456789abcdef01234567"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("subscription_key");
    for n in [10usize, 10_000] {
        let keys = keys(n);
        let mut index = KeyIndex::default();
        for (i, k) in keys.iter().enumerate() {
            index.insert(k.as_bytes(), i as u32, Which::Primary);
        }
        // The last key: the naive scan's worst case.
        let wanted = keys[n - 1].clone();
        g.bench_with_input(BenchmarkId::new("digest_index", n), &wanted, |b, k| {
            b.iter(|| black_box(index.find(black_box(k.as_bytes()))))
        });
        g.bench_with_input(BenchmarkId::new("naive_scan", n), &wanted, |b, k| {
            b.iter(|| {
                black_box(
                    keys.iter()
                        .position(|x| x.as_bytes() == black_box(k.as_bytes())),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
