//! The policy conformance corpus: every file in `tests/cases/*.yaml` is a list of cases,
//! each a policy plus a request, and what must come of it — the request the backend
//! receives, the response the caller gets, or the load error. One runner, many cases
//! (the regex crate's model); adding a case is adding a few lines of YAML. Other files
//! there are not loaded: `known-gaps.yaml.disabled` holds APIM behaviour Tollgate lacks yet.
//!
//! Case keys:
//!   name                      unique name
//!   policy                    the API-scope policy XML
//!   global / product / operation   optional documents of those scopes (product: as in a
//!                             product context)
//!   fragments                 optional map id → fragment XML
//!   named-values              optional map name → value (prefix `secret:` for a secret)
//!   request                   { method, url ("/path?query"), headers {name: value|[values]}, body, ip,
//!                               matched {p: v} (URL-template parameters),
//!                               matched-query [names] (query parameters the operation template matched) }
//!   backend                   the backend's response { status, headers, body } (default 200, body "backend")
//!   expect:
//!     load-error              substring of the load error, or a list of substrings (and nothing runs)
//!     backend                 { method, url, headers {name: value | [values] | null (absent)}, body,
//!                               base-url / backend-id (set-backend-service's choice; `default: true`
//!                               for the API's service URL) }
//!     no-backend: true        the backend must not be called
//!     response                { status, reason, headers {…}, body }
//!     variables               {name: value as text (C# ToString) | null (not set)}
//!     traces                  [[source, severity, message], …] (every trace, in order)

use std::collections::BTreeMap;
use std::path::Path;

use bumpalo::Bump;
use tollgate_core::config::NamedValue;
use tollgate_policies::build::{build_program, load_document, load_fragment};
use tollgate_policies::exchange::{
    BackendChoice, CallInfo, Exchange, HeaderList, ProductInfo, RequestState, ResponseState,
    SubscriptionInfo,
};
use tollgate_policies::expr::ExprScratch;
use tollgate_policies::pipeline::{self, Next, SendResult};
use tollgate_policies::xml::{Origin, Scopes};
use yaml_rust2::{Yaml, YamlLoader};

/// What the backend received: method, url, headers, body.
type BackendRequest = (String, String, Vec<(String, String)>, String);

struct Outcome {
    backend: Option<BackendRequest>,
    /// set-backend-service's choice: "default", "base-url <url>" or "backend-id <id>".
    service: String,
    response: (u16, String, Vec<(String, String)>, String),
    variables: Vec<(String, String)>,
    traces: Vec<[String; 3]>,
}

fn s(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Real(r) => r.clone(),
        _ => String::new(),
    }
}

fn map<'y>(y: &'y Yaml, key: &str) -> &'y Yaml {
    &y[key]
}

fn run_case(case: &Yaml) -> Result<Outcome, String> {
    let mut named = BTreeMap::new();
    if let Yaml::Hash(h) = map(case, "named-values") {
        for (k, v) in h {
            let v = s(v);
            let (value, secret) = match v.strip_prefix("secret:") {
                Some(x) => (x.to_string(), true),
                None => (v, false),
            };
            named.insert(s(k), NamedValue { value, secret });
        }
    }
    let mut errors = Vec::new();
    let mut doc = |key: &str| -> Option<tollgate_policies::xml::Document> {
        let text = map(case, key).as_str()?;
        match load_document(text, &Origin::file(format!("{key}.xml")), &named) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    };
    let global = doc("global");
    let product = doc("product");
    let api = doc("policy");
    let operation = doc("operation");
    let mut fragments = BTreeMap::new();
    if let Yaml::Hash(h) = map(case, "fragments") {
        for (k, v) in h {
            match load_fragment(
                &s(k),
                &s(v),
                &Origin::file(format!("fragment-{}.xml", s(k))),
                &named,
            ) {
                Ok(f) => {
                    fragments.insert(s(k), f);
                }
                Err(e) => errors.extend(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let scopes = Scopes {
        global: global.as_ref(),
        product: product.as_ref(),
        api: api.as_ref(),
        operation: operation.as_ref(),
        fragments: &fragments,
    };
    let (program, _) = build_program(&scopes).map_err(|e| {
        e.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;

    let arena = Bump::new();
    let req = map(case, "request");
    let url = req["url"].as_str().unwrap_or("/").to_string();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (url.clone(), String::new()),
    };
    let mut headers = HeaderList::new(&arena);
    if let Yaml::Hash(h) = &req["headers"] {
        for (k, v) in h {
            let name: &str = arena.alloc_str(&s(k));
            match v {
                Yaml::Array(vs) => vs
                    .iter()
                    .for_each(|v| headers.push(name, arena.alloc_str(&s(v)))),
                v => headers.push(name, arena.alloc_str(&s(v))),
            }
        }
    }
    let mut matched = Vec::new();
    let mut matched_query = Vec::new();
    if let Yaml::Hash(h) = &req["matched"] {
        for (k, v) in h {
            matched.push((&*arena.alloc_str(&s(k)), &*arena.alloc_str(&s(v))));
        }
    }
    if let Yaml::Array(a) = &req["matched-query"] {
        for k in a {
            matched_query.push(&*arena.alloc_str(&s(k)));
        }
    }
    let body = req["body"]
        .as_str()
        .map(|b| arena.alloc_slice_copy(b.as_bytes()) as &[u8]);
    let request = RequestState {
        method: arena.alloc_str(req["method"].as_str().unwrap_or("GET")),
        scheme: "http",
        host: "gw.test",
        port: 80,
        path: arena.alloc_str(&path),
        query: arena.alloc_str(&query),
        headers,
        body,
        ip: arena.alloc_str(req["ip"].as_str().unwrap_or("10.0.0.1")),
        original_path: arena.alloc_str(&path),
        original_query: arena.alloc_str(&query),
        matched: arena.alloc_slice_copy(&matched),
        matched_query_names: arena.alloc_slice_copy(&matched_query),
    };
    let info = CallInfo {
        api_id: "orders",
        api_name: "Orders",
        api_path: "orders",
        service_url: Some(("http", "backend.test", 80, "/v1")),
        operation_id: "get-order",
        operation_name: "get-order",
        operation_method: "GET",
        url_template: "/orders/{id}",
        gateway_id: "test-gw",
        region: "local",
        service_name: "tollgate",
        request_id: [7; 16],
        subscription: subscription_info(&req["subscription"], &arena),
        product: product_info(&req["product"], &arena),
        client_cert: None,
    };
    // 2026-01-02T03:04:05Z
    let mut ex = Exchange::new(&arena, request, info, 1_767_323_045_000_000, 42);
    let mut scratch = ExprScratch::new();
    let mut backend_seen = None;
    let mut next = pipeline::start(&program, &mut ex, &mut scratch);
    let mut calls = 0usize;
    let mut waits = Vec::new();
    let mut sides: Vec<String> = Vec::new();
    loop {
        let resume = match next {
            Next::Respond => break,
            Next::Wait { delay, resume } => {
                waits.push(delay.as_millis() as u64);
                next = pipeline::resume(&program, resume, &mut ex, &mut scratch);
                continue;
            }
            Next::Budget { resume } => {
                next = pipeline::resume(&program, resume, &mut ex, &mut scratch);
                continue;
            }
            Next::Keys { resume } => {
                // No key service here: the policy decides at once the second time.
                ex.waited_for_keys = true;
                next = pipeline::resume(&program, resume, &mut ex, &mut scratch);
                continue;
            }
            Next::Send { resume } => {
                // Side requests: answered from `side-response` (or failed with `side-error`).
                let send = ex.pending_send.as_ref().expect("a pending side request");
                sides.push(format!("{} {}", send.method, send.url));
                let result = if map(case, "side-error").as_bool() == Some(true) {
                    SendResult::Failed {
                        reason: "BackendConnectionFailure",
                        message: "side request failed".into(),
                    }
                } else {
                    let sr = map(case, "side-response");
                    let mut sh = HeaderList::new(&arena);
                    if let Yaml::Hash(h) = &sr["headers"] {
                        for (k, v) in h {
                            sh.push(arena.alloc_str(&s(k)), arena.alloc_str(&s(v)));
                        }
                    }
                    SendResult::Response(ResponseState {
                        status: sr["status"].as_i64().unwrap_or(200) as u16,
                        reason: "OK",
                        headers: sh,
                        body: Some(
                            arena
                                .alloc_slice_copy(sr["body"].as_str().unwrap_or("side").as_bytes()),
                        ),
                    })
                };
                next = pipeline::after_send(&program, resume, result, &mut ex, &mut scratch);
                continue;
            }
            Next::Forward { resume, .. } => resume,
        };
        assert!(calls < 100, "runaway forward loop");
        let r = &ex.request;
        let url = if r.query.is_empty() {
            r.path.to_string()
        } else {
            format!("{}?{}", r.path, r.query)
        };
        let hs = r
            .headers
            .lines()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let body = String::from_utf8_lossy(
            r.body
                .unwrap_or(req["body"].as_str().unwrap_or("").as_bytes()),
        )
        .into_owned();
        backend_seen = Some((r.method.to_string(), url, hs, body));
        // `backend` is one response, or a list answered in turn (the last one repeats).
        let be_spec = map(case, "backend");
        let be = match be_spec {
            Yaml::Array(list) => &list[calls.min(list.len().saturating_sub(1))],
            one => one,
        };
        calls += 1;
        let mut bh = HeaderList::new(&arena);
        if let Yaml::Hash(h) = &be["headers"] {
            for (k, v) in h {
                bh.push(arena.alloc_str(&s(k)), arena.alloc_str(&s(v)));
            }
        }
        let body = be["body"].as_str().unwrap_or("backend");
        ex.response = Some(ResponseState {
            status: be["status"].as_i64().unwrap_or(200) as u16,
            reason: "OK",
            headers: bh,
            body: Some(arena.alloc_slice_copy(body.as_bytes())),
        });
        next = pipeline::after_forward(&program, resume, &mut ex, &mut scratch);
    }
    if let Some(want) = map(case, "expect")["backend-calls"].as_i64() {
        if want as usize != calls {
            return Err(format!("RUNTIME: backend calls: want {want}, got {calls}"));
        }
    }
    if let Yaml::Array(want) = &map(case, "expect")["side-requests"] {
        let want: Vec<String> = want.iter().map(s).collect();
        if want != sides {
            return Err(format!(
                "RUNTIME: side requests: want {want:?}, got {sides:?}"
            ));
        }
    }
    if let Yaml::Array(want) = &map(case, "expect")["waits-ms"] {
        let want: Vec<u64> = want
            .iter()
            .filter_map(|w| w.as_i64())
            .map(|w| w as u64)
            .collect();
        if want != waits {
            return Err(format!("RUNTIME: waits: want {want:?}, got {waits:?}"));
        }
    }
    assert_eq!(next, Next::Respond);
    let resp = ex.response.as_ref();
    let response = match resp {
        Some(r) => (
            r.status,
            r.reason.to_string(),
            r.headers
                .lines()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            String::from_utf8_lossy(r.body.unwrap_or(b"")).into_owned(),
        ),
        None => (200, "OK".to_string(), Vec::new(), String::new()),
    };
    let service = match ex.backend {
        BackendChoice::Default => "default".to_string(),
        BackendChoice::BaseUrl(u) => format!("base-url {u}"),
        BackendChoice::BackendId(id) => format!("backend-id {id}"),
    };
    let variables = ex
        .variables
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_display(&arena).to_string()))
        .collect();
    let traces = ex
        .traces
        .iter()
        .map(|(a, b, c)| [a.to_string(), b.to_string(), c.to_string()])
        .collect();
    Ok(Outcome {
        backend: backend_seen,
        service,
        response,
        variables,
        traces,
    })
}

fn check_headers(what: &str, expect: &Yaml, got: &[(String, String)], fails: &mut Vec<String>) {
    let Yaml::Hash(h) = expect else { return };
    for (k, v) in h {
        let name = s(k);
        let values: Vec<&str> = got
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
            .collect();
        match v {
            Yaml::Null => {
                if !values.is_empty() {
                    fails.push(format!(
                        "{what} header {name} should be absent, got {values:?}"
                    ));
                }
            }
            Yaml::Array(want) => {
                let want: Vec<String> = want.iter().map(s).collect();
                if values != want {
                    fails.push(format!(
                        "{what} header {name}: want {want:?}, got {values:?}"
                    ));
                }
            }
            v => {
                if values != [s(v).as_str()] {
                    fails.push(format!(
                        "{what} header {name}: want {:?}, got {values:?}",
                        s(v)
                    ));
                }
            }
        }
    }
}

fn check(case: &Yaml) -> Vec<String> {
    let expect = map(case, "expect");
    let mut fails = Vec::new();
    let load_error: Option<Vec<String>> = match &expect["load-error"] {
        Yaml::Array(a) => Some(a.iter().map(s).collect()),
        Yaml::BadValue | Yaml::Null => None,
        y => Some(vec![s(y)]),
    };
    match (run_case(case), load_error) {
        (Err(e), Some(want)) => {
            for w in want {
                if !e.contains(&w) {
                    fails.push(format!("load error should contain {w:?}, got:\n{e}"));
                }
            }
        }
        (Err(e), None) => fails.push(format!("unexpected load error:\n{e}")),
        (Ok(_), Some(want)) => fails.push(format!(
            "expected a load error containing {want:?}, but it loaded"
        )),
        (Ok(out), None) => {
            let be = &expect["backend"];
            if expect["no-backend"].as_bool() == Some(true) && out.backend.is_some() {
                fails.push("the backend was called".into());
            }
            if !be.is_badvalue() {
                match &out.backend {
                    None => fails.push("the backend was not called".into()),
                    Some((m, u, h, b)) => {
                        if let Some(want) = be["method"].as_str() {
                            if want != m {
                                fails.push(format!("backend method: want {want}, got {m}"));
                            }
                        }
                        if let Some(want) = be["url"].as_str() {
                            if want != u {
                                fails.push(format!("backend url: want {want}, got {u}"));
                            }
                        }
                        if let Some(want) = be["body"].as_str() {
                            if want != b {
                                fails.push(format!("backend body: want {want:?}, got {b:?}"));
                            }
                        }
                        check_headers("backend", &be["headers"], h, &mut fails);
                    }
                }
                let want_service = if let Some(u) = be["base-url"].as_str() {
                    Some(format!("base-url {u}"))
                } else if let Some(id) = be["backend-id"].as_str() {
                    Some(format!("backend-id {id}"))
                } else if be["default"].as_bool() == Some(true) {
                    Some("default".to_string())
                } else {
                    None
                };
                if let Some(want) = want_service {
                    if want != out.service {
                        fails.push(format!(
                            "backend service: want {want:?}, got {:?}",
                            out.service
                        ));
                    }
                }
            }
            let r = &expect["response"];
            if !r.is_badvalue() {
                let (status, reason, headers, body) = &out.response;
                if let Some(want) = r["status"].as_i64() {
                    if want != i64::from(*status) {
                        fails.push(format!("response status: want {want}, got {status}"));
                    }
                }
                if let Some(want) = r["reason"].as_str() {
                    if want != reason {
                        fails.push(format!("response reason: want {want:?}, got {reason:?}"));
                    }
                }
                if let Some(want) = r["body"].as_str() {
                    if want != body {
                        fails.push(format!("response body: want {want:?}, got {body:?}"));
                    }
                }
                check_headers("response", &r["headers"], headers, &mut fails);
            }
            if let Yaml::Hash(h) = &expect["variables"] {
                for (k, v) in h {
                    let name = s(k);
                    let got = out
                        .variables
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str());
                    match (v, got) {
                        (Yaml::Null, None) => {}
                        (Yaml::Null, Some(g)) => {
                            fails.push(format!("variable {name} should not be set, got {g:?}"))
                        }
                        (v, g) if g != Some(s(v).as_str()) => {
                            fails.push(format!("variable {name}: want {:?}, got {g:?}", s(v)))
                        }
                        _ => {}
                    }
                }
            }
            if let Yaml::Array(want) = &expect["traces"] {
                let want: Vec<Vec<String>> = want
                    .iter()
                    .map(|t| {
                        t.as_vec()
                            .map(|v| v.iter().map(s).collect())
                            .unwrap_or_default()
                    })
                    .collect();
                let got: Vec<Vec<String>> = out.traces.iter().map(|t| t.to_vec()).collect();
                if want != got {
                    fails.push(format!("traces: want {want:?}, got {got:?}"));
                }
            }
        }
    }
    fails
}

#[test]
fn conformance_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let docs =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let cases = docs[0]
            .as_vec()
            .unwrap_or_else(|| panic!("{}: a list of cases", f.display()));
        eprintln!(
            "{:>4}  {}",
            cases.len(),
            f.file_name().unwrap().to_string_lossy()
        );
        for case in cases {
            total += 1;
            let name = case["name"].as_str().unwrap_or("(unnamed)").to_string();
            assert!(names.insert(name.clone()), "duplicate case name {name}");
            let fails = check(case);
            if !fails.is_empty() {
                failures.push(format!(
                    "{} :: {name}\n  {}",
                    f.file_name().unwrap().to_string_lossy(),
                    fails.join("\n  ")
                ));
            }
        }
    }
    eprintln!("{total} conformance cases, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 0);
}

/// `request.subscription: { id, name, key, primary-key, secondary-key, start, end }`
/// (start/end as unix seconds).
fn subscription_info<'a>(y: &Yaml, arena: &'a Bump) -> Option<SubscriptionInfo<'a>> {
    if y.is_badvalue() {
        return None;
    }
    let st = |k: &str| &*arena.alloc_str(y[k].as_str().unwrap_or(""));
    Some(SubscriptionInfo {
        id: st("id"),
        name: st("name"),
        key: st("key"),
        primary_key: st("primary-key"),
        secondary_key: st("secondary-key"),
        start: y["start"].as_i64(),
        end: y["end"].as_i64(),
    })
}

/// `request.product: { id, name, published, subscription-required, approval-required }`.
fn product_info<'a>(y: &Yaml, arena: &'a Bump) -> Option<ProductInfo<'a>> {
    if y.is_badvalue() {
        return None;
    }
    let st = |k: &str| &*arena.alloc_str(y[k].as_str().unwrap_or(""));
    Some(ProductInfo {
        id: st("id"),
        name: st("name"),
        published: y["published"].as_bool().unwrap_or(false),
        subscription_required: y["subscription-required"].as_bool().unwrap_or(true),
        approval_required: y["approval-required"].as_bool().unwrap_or(false),
    })
}
