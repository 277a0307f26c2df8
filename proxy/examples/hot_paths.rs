//! The request path's hot pieces, each run N times, for instruction counting under
//! callgrind (bench/instructions.sh): counts are stable on a noisy machine where times
//! are not. Setup happens before the loop; the script runs two N and takes the
//! difference, so only the loop is counted.
//!
//!   hot_paths head_parse|route_lookup|key_lookup|policy_pipeline|rate_limit|jwt_hs256 N

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;

use bumpalo::Bump;
use tollgate::http::v1::request::{parse_request, HeadLimits};
use tollgate::http::v1::HeaderSpan;
use tollgate_core::access::{KeyIndex, Which};
use tollgate_core::routing::RouteTable;
use tollgate_policies::build::{build_program, load_document};
use tollgate_policies::exchange::{CallInfo, Exchange, HeaderList, RequestState};
use tollgate_policies::expr::ExprScratch;
use tollgate_policies::pipeline;
use tollgate_policies::xml::{Origin, Scopes};

const HEAD: &[u8] = b"GET /orders/orders/42?expand=lines HTTP/1.1\r\nHost: api.contoso.com\r\nUser-Agent: curl/8.5.0\r\nAccept: application/json\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig\r\nOcp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef\r\nConnection: keep-alive\r\n\r\n";

const POLICY: &str = r#"<policies><inbound>
  <set-header name="X-A"><value>1</value></set-header>
  <set-header name="X-B" exists-action="skip"><value>2</value></set-header>
  <set-variable name="agent" value="@(context.Request.Headers.GetValueOrDefault(&quot;User-Agent&quot;, &quot;&quot;))"/>
  <choose><when condition="@((string)context.Variables[&quot;agent&quot;] == &quot;bench&quot;)"><set-header name="X-Agent"><value>known</value></set-header></when></choose>
  <rewrite-uri template="/items/{id}"/>
  <set-query-parameter name="v" exists-action="override"><value>2</value></set-query-parameter>
  <check-header name="Accept" failed-check-httpcode="406" failed-check-error-message="Accept required" ignore-case="true"/>
</inbound><backend><forward-request/></backend></policies>"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(which), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: hot_paths head_parse|route_lookup|key_lookup|policy_pipeline|rate_limit|jwt_hs256 N");
        std::process::exit(2);
    };
    match which.as_str() {
        "head_parse" => {
            let limits = HeadLimits::default();
            let mut headers: Vec<HeaderSpan> = Vec::with_capacity(limits.max_headers + 1);
            for _ in 0..n {
                black_box(parse_request(black_box(HEAD), &limits, &mut headers).is_ok());
            }
        }
        "route_lookup" => {
            let mut yaml = String::from("apis:\n");
            for a in 0..20 {
                yaml.push_str(&format!("  - id: api{a}\n    path: api{a}\n    service-url: http://127.0.0.1:1\n    operations:\n      - {{ id: a, method: GET, url-template: /orders }}\n      - {{ id: b, method: GET, url-template: \"/orders/{{id}}\" }}\n      - {{ id: c, method: POST, url-template: /orders }}\n      - {{ id: d, method: GET, url-template: \"/orders/{{id}}/lines/{{line}}\" }}\n"));
            }
            let loaded =
                tollgate_core::config::load_str(&yaml, Path::new("hot.yaml")).expect("config");
            let table = RouteTable::build(&loaded.config, &loaded.named_values).expect("routes");
            let mut params = Vec::with_capacity(8);
            for _ in 0..n {
                black_box(table.lookup(
                    b"GET",
                    black_box(b"/api17/orders/42/lines/7"),
                    None,
                    &mut params,
                ));
            }
        }
        "key_lookup" => {
            let mut index = KeyIndex::default();
            for i in 0..1000u32 {
                index.insert(
                    format!("{i:08x}0123456789abcdef01234567").as_bytes(),
                    i,
                    Which::Primary,
                );
            }
            for _ in 0..n {
                black_box(index.find(black_box(b"000003e70123456789abcdef01234567")));
            }
        }
        "policy_pipeline" => {
            let doc =
                load_document(POLICY, &Origin::file("hot.xml"), &BTreeMap::new()).expect("policy");
            let frags = BTreeMap::new();
            let scopes = Scopes {
                global: None,
                product: None,
                api: Some(&doc),
                operation: None,
                fragments: &frags,
            };
            let program = build_program(&scopes).expect("compiles").0;
            let mut arena = Bump::with_capacity(64 * 1024);
            let mut scratch = ExprScratch::default();
            for _ in 0..n {
                arena.reset();
                let mut headers = HeaderList::new(&arena);
                headers.push("User-Agent", "bench");
                headers.push("Accept", "*/*");
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
                let mut ex = Exchange::new(&arena, request, CallInfo::default(), 0, 1);
                black_box(pipeline::start(&program, &mut ex, &mut scratch));
            }
        }
        "rate_limit" => {
            use tollgate_limits::{Kind, LimitId, ShardLimiter};
            let mut limiter = ShardLimiter::new(0, 1, 10_000);
            let kind = Kind::Rate {
                calls: u64::MAX / 2,
                period_ms: 60_000,
            };
            let mut out = Vec::new();
            for i in 0..n {
                black_box(limiter.check(
                    LimitId(1),
                    &kind,
                    b"subscription-1",
                    1,
                    1_000_000 + i / 100,
                    &mut out,
                ));
            }
        }
        "jwt_hs256" => {
            use tollgate_jwt::{verify, Alg, Header, Key, Token, MAX_HEADER_LEN};
            // {"alg":"HS256","typ":"JWT"}.{"sub":"alice","exp":4102444800} with key "tollgate-instruction-count-key!!"
            let key = Key::symmetric(b"tollgate-instruction-count-key!!").expect("key");
            let token = hs256(b"tollgate-instruction-count-key!!");
            for _ in 0..n {
                let t = Token::split(black_box(&token), 16 * 1024).expect("token");
                let mut buf = [0u8; MAX_HEADER_LEN];
                let h = Header::parse(&t, &mut buf).expect("header");
                black_box(verify(h.alg, &key, &t).is_ok() && h.alg == Alg::HS256);
            }
        }
        other => {
            eprintln!("unknown path {other}");
            std::process::exit(2);
        }
    }
}

/// An HS256 token signed here (ring's HMAC), so the example needs no signing feature.
fn hs256(secret: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(br#"{"sub":"alice","exp":4102444800}"#)
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}
