//! The strict zero-copy request-head parser beside httparse-style naive parsing into
//! owned `String`s (what a parser building a header map per request pays), with heap
//! allocations per iteration counted for both.
//!
//!   cargo bench -p tollgate --bench head_parse

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tollgate::http::v1::request::{parse_request, HeadLimits};
use tollgate::http::v1::HeaderSpan;

use tollgate_alloc_count::per_call as allocs_per;

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

const HEAD: &[u8] = b"GET /orders/orders/42?expand=lines&x=1 HTTP/1.1\r\nHost: api.contoso.com\r\nUser-Agent: curl/8.5.0\r\nAccept: application/json\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig\r\nOcp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef\r\nX-Request-Id: 7f8e9d\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";

/// The naive baseline: split lines and copy every name and value into owned strings.
/// Method, target and lower-cased header fields, all owned.
type OwnedHead = (String, String, Vec<(String, String)>);

fn naive(buf: &[u8]) -> Option<OwnedHead> {
    let text = std::str::from_utf8(buf).ok()?;
    let (head, _) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((method, target, headers))
}

fn bench(c: &mut Criterion) {
    let limits = HeadLimits::default();
    let mut headers: Vec<HeaderSpan> = Vec::with_capacity(limits.max_headers + 1);
    assert!(parse_request(HEAD, &limits, &mut headers).is_ok());
    let strict = allocs_per(1000, || {
        black_box(parse_request(black_box(HEAD), &limits, &mut headers).is_ok());
    });
    let naive_allocs = allocs_per(1000, || {
        black_box(naive(black_box(HEAD)));
    });
    eprintln!(
        "heap allocations per head: strict zero-copy {strict:.1}, naive owned {naive_allocs:.1}"
    );
    let mut g = c.benchmark_group("request-head-10-fields");
    g.bench_function("strict-zero-copy", |b| {
        b.iter(|| black_box(parse_request(black_box(HEAD), &limits, &mut headers).is_ok()))
    });
    g.bench_function("naive-owned-strings", |b| {
        b.iter(|| black_box(naive(black_box(HEAD))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
