//! Route lookup in the compiled table (50 APIs × 8 operations) beside a naive baseline
//! that matches templates by splitting strings per request.
//!
//!   cargo bench -p tollgate-core --bench route_lookup

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tollgate_core::routing::{ApiRoute, OpRoute, RouteTable, Template};

/// API path and its (method, template) pairs, for the naive baseline.
type NaiveApis = Vec<(String, Vec<(String, String)>)>;

fn table() -> (RouteTable, NaiveApis) {
    let mut apis = Vec::new();
    let mut naive = Vec::new();
    for a in 0..50 {
        let path = format!("api{a}");
        let templates: Vec<(String, String)> = vec![
            ("GET".into(), "/orders".into()),
            ("GET".into(), "/orders/{id}".into()),
            ("POST".into(), "/orders".into()),
            ("PUT".into(), "/orders/{id}".into()),
            ("GET".into(), "/orders/{id}/lines".into()),
            ("GET".into(), "/orders/{id}/lines/{line}".into()),
            ("GET".into(), "/customers/{id}".into()),
            ("GET".into(), "/files/{*rest}".into()),
        ];
        let operations = templates
            .iter()
            .enumerate()
            .map(|(i, (m, t))| {
                let template = Template::parse(t).unwrap();
                OpRoute {
                    id: format!("op{i}"),
                    method: m.clone(),
                    param_names: template.param_names().map(str::to_string).collect(),
                    template,
                }
            })
            .collect();
        apis.push(ApiRoute {
            id: path.clone(),
            path: path.clone(),
            service_url: None,
            operations,
        });
        naive.push((path, templates));
    }
    (RouteTable::from_apis(apis), naive)
}

/// Naive: find the API by prefix, then split path and template into owned segments.
fn naive_lookup(
    apis: &[(String, Vec<(String, String)>)],
    method: &str,
    path: &str,
) -> Option<(usize, usize)> {
    for (ai, (prefix, ops)) in apis.iter().enumerate() {
        let Some(rest) = path.strip_prefix(&format!("/{prefix}")) else {
            continue;
        };
        let segs: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        for (oi, (m, t)) in ops.iter().enumerate() {
            if m != method {
                continue;
            }
            let tsegs: Vec<String> = t
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let wild = tsegs.last().is_some_and(|s| s.starts_with("{*"));
            let fits = (wild && segs.len() >= tsegs.len() - 1) || segs.len() == tsegs.len();
            if fits
                && tsegs
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.starts_with('{') || t == s)
            {
                return Some((ai, oi));
            }
        }
    }
    None
}

fn bench(c: &mut Criterion) {
    let (table, naive) = table();
    let mut params = Vec::with_capacity(16);
    let path = b"/api37/orders/4711/lines/3";
    assert!(table.lookup(b"GET", path, None, &mut params).is_some());
    assert!(naive_lookup(&naive, "GET", "/api37/orders/4711/lines/3").is_some());
    let mut g = c.benchmark_group("route-lookup-50-apis");
    g.bench_function("compiled-table", |b| {
        b.iter(|| black_box(table.lookup(b"GET", black_box(path), None, &mut params)))
    });
    g.bench_function("naive-split-strings", |b| {
        b.iter(|| {
            black_box(naive_lookup(
                &naive,
                "GET",
                black_box("/api37/orders/4711/lines/3"),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
