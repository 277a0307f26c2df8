//! The policy pipeline per request, compiled once (what the gateway does) beside a naive
//! baseline that parses, merges and compiles the policy on every request (what an
//! interpreter of the XML would pay at least). Heap allocations per iteration are counted
//! and printed for both.
//!
//!   cargo bench -p tollgate-policies --bench pipeline

use std::collections::BTreeMap;
use std::hint::black_box;

use bumpalo::Bump;
use criterion::{criterion_group, criterion_main, Criterion};
use tollgate_policies::build::{build_program, load_document};
use tollgate_policies::exchange::{CallInfo, Exchange, HeaderList, RequestState};
use tollgate_policies::expr::ExprScratch;
use tollgate_policies::pipeline;
use tollgate_policies::program::Program;
use tollgate_policies::xml::{Origin, Scopes};

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

/// The 10-policy inbound pipeline of the policy-engine issue.
const POLICY: &str = r#"<policies><inbound>
  <set-header name="X-A"><value>1</value></set-header>
  <set-header name="X-B" exists-action="skip"><value>2</value></set-header>
  <set-header name="X-C" exists-action="append"><value>3</value></set-header>
  <set-variable name="agent" value="@(context.Request.Headers.GetValueOrDefault(&quot;User-Agent&quot;, &quot;&quot;))"/>
  <choose><when condition="@((string)context.Variables[&quot;agent&quot;] == &quot;bench&quot;)"><set-header name="X-Agent"><value>known</value></set-header></when></choose>
  <rewrite-uri template="/items/{id}"/>
  <set-query-parameter name="v" exists-action="override"><value>2</value></set-query-parameter>
  <check-header name="Accept" failed-check-httpcode="406" failed-check-error-message="Accept required" ignore-case="true"/>
  <set-header name="Access-Control-Allow-Origin"><value>*</value></set-header>
  <set-backend-service base-url="http://10.0.0.2:8080/api"/>
</inbound><backend><forward-request/></backend></policies>"#;

fn compile(text: &str) -> Program {
    let doc = load_document(text, &Origin::file("bench.xml"), &BTreeMap::new()).unwrap();
    let frags = BTreeMap::new();
    let scopes = Scopes {
        global: None,
        product: None,
        api: Some(&doc),
        operation: None,
        fragments: &frags,
    };
    build_program(&scopes).unwrap().0
}

fn run_once(program: &Program, arena: &Bump, scratch: &mut ExprScratch) -> bool {
    let mut headers = HeaderList::new(arena);
    for (n, v) in [
        ("Host", "gw"),
        ("User-Agent", "bench"),
        ("Accept", "*/*"),
        ("X-B", "0"),
        ("X-Request-Id", "abc"),
        ("Content-Type", "application/json"),
    ] {
        headers.push(n, v);
    }
    let matched: &[(&str, &str)] = arena.alloc_slice_copy(&[("id", "42")]);
    let request = RequestState {
        method: "GET",
        scheme: "http",
        host: "gw",
        port: 80,
        path: "/orders/42",
        query: "x=1",
        headers,
        body: None,
        ip: "10.0.0.1",
        original_path: "/orders/42",
        original_query: "x=1",
        matched,
        matched_query_names: &[],
    };
    let mut ex = Exchange::new(arena, request, CallInfo::default(), 0, 1);
    let next = pipeline::start(program, &mut ex, scratch);
    matches!(next, pipeline::Next::Forward { .. })
}

fn bench(c: &mut Criterion) {
    let program = compile(POLICY);
    let mut arena = Bump::with_capacity(64 * 1024);
    let mut scratch = ExprScratch::default();
    assert!(
        run_once(&program, &arena, &mut scratch),
        "the pipeline forwards"
    );

    // Allocations per iteration, steady state.
    for _ in 0..100 {
        arena.reset();
        run_once(&program, &arena, &mut scratch);
    }
    let compiled_allocs = tollgate_alloc_count::per_call(1000, || {
        arena.reset();
        black_box(run_once(&program, &arena, &mut scratch));
    });
    let naive_allocs = tollgate_alloc_count::per_call(100, || {
        arena.reset();
        let p = compile(POLICY);
        black_box(run_once(&p, &arena, &mut scratch));
    });
    eprintln!("heap allocations per request: compiled {compiled_allocs:.1}, naive (compile per request) {naive_allocs:.1}");

    let mut g = c.benchmark_group("policy-pipeline-10");
    g.bench_function("compiled", |b| {
        b.iter(|| {
            arena.reset();
            black_box(run_once(&program, &arena, &mut scratch))
        })
    });
    g.bench_function("naive-compile-per-request", |b| {
        b.iter(|| {
            arena.reset();
            let p = compile(black_box(POLICY));
            black_box(run_once(&p, &arena, &mut scratch))
        })
    });
    g.finish();

    // Compile time of a ~200-line policy.
    let mut big = String::from("<policies><inbound>\n");
    for i in 0..48 {
        big.push_str(&format!(
            "  <set-header name=\"X-H{i}\" exists-action=\"override\">\n    <value>@(context.Request.Headers.GetValueOrDefault(\"A{i}\", \"d\") + \"{i}\")</value>\n  </set-header>\n  <choose><when condition=\"@(context.Request.Method == &quot;POST&quot;)\"><set-variable name=\"v{i}\" value=\"{i}\"/></when></choose>\n"
        ));
    }
    big.push_str("</inbound><backend><forward-request/></backend></policies>\n");
    eprintln!("large policy: {} lines", big.lines().count());
    c.bench_function("compile-200-line-policy", |b| {
        b.iter(|| black_box(compile(black_box(&big))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
