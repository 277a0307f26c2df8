//! Rate limits and quotas through the real gateway: exact counts with one shard and with
//! several (traffic on one connection, or spread over many connections and so over the
//! shards), APIM's 429/403 answers byte for byte, counters per subscription.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::client::{body_of, status_of};
use support::{raw, Backend, Gateway, Reply};

fn gateway(be: &Backend, shards: usize, policy: &str) -> Gateway {
    Gateway::start_with(
        &format!(
            r#"gateway:
  shards: {shards}
apis:
  - id: orders
    path: orders
    service-url: http://{}/v1
    policy: |
      <policies><inbound><base/>
        {policy}
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
products:
  - id: gold
    apis: [orders]
    policy: |
      <policies><inbound><base/><quota calls="4" renewal-period="3600"/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
  - id: open
    apis: []
subscriptions:
  - {{ id: alice, scope: product/gold, primary-key: {{ value: alice-key }} }}
  - {{ id: bob, scope: api/orders, primary-key: {{ value: bob-key }} }}
"#,
            be.addr
        ),
        &[],
        shards,
    )
}

/// Sends `n` requests on one keep-alive connection; returns the statuses.
fn on_one_connection(gw: &Gateway, n: usize, headers: &str) -> Vec<(u16, String)> {
    let mut s = TcpStream::connect(gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        s.write_all(format!("GET /orders/x HTTP/1.1\r\nHost: gw\r\n{headers}\r\n").as_bytes())
            .unwrap();
        let r = support::client::read_response(&mut s, false).expect("a response");
        let head = r.head.trim_end();
        out.push((r.status, format!("{head}\r\n\r\n{}", r.text())));
    }
    out
}

/// Sends `n` requests, each on a new connection (spread over the shards by the kernel).
fn on_new_connections(gw: &Gateway, n: usize, headers: &str) -> Vec<u16> {
    (0..n)
        .map(|_| {
            status_of(&raw(
                gw.addr,
                format!("GET /orders/x HTTP/1.1\r\nHost: gw\r\n{headers}Connection: close\r\n\r\n")
                    .as_bytes(),
            ))
        })
        .collect()
}

const KEYED: &str = r#"<rate-limit-by-key calls="40" renewal-period="30" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;anonymous&quot;))" remaining-calls-header-name="X-Remaining" total-calls-header-name="X-Limit"/>"#;

#[test]
fn one_shard_admits_exactly_the_limit_and_answers_as_apim() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, 1, KEYED);
    let got = on_one_connection(
        &gw,
        100,
        "X-Client: c1\r\nOcp-Apim-Subscription-Key: bob-key\r\n",
    );
    let ok = got.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 40, "exactly the limit");
    assert!(
        got[..40].iter().all(|(s, _)| *s == 200),
        "the first 40 pass"
    );
    let first = &got[0].1;
    assert!(
        first.contains("X-Remaining: 39\r\n") && first.contains("X-Limit: 40\r\n"),
        "{first}"
    );
    assert!(got[39].1.contains("X-Remaining: 0\r\n"), "{}", got[39].1);
    let refused = &got[40].1;
    assert_eq!(status_of(refused), 429);
    let secs: u64 = refused
        .lines()
        .find_map(|l| l.strip_prefix("Retry-After: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {refused}"));
    assert!((1..=30).contains(&secs), "{secs}");
    assert_eq!(
        body_of(refused),
        format!(
            r#"{{"statusCode":429,"message":"Rate limit is exceeded. Try again in {secs} seconds."}}"#
        )
    );
    // Another key has its own budget.
    let other = on_one_connection(
        &gw,
        5,
        "X-Client: c2\r\nOcp-Apim-Subscription-Key: bob-key\r\n",
    );
    assert!(other.iter().all(|(s, _)| *s == 200));
    assert_eq!(be.request_count(), 45);
}

#[test]
fn two_shards_hold_one_limit_whether_traffic_is_pinned_or_spread() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, 2, KEYED);
    // Pinned: one connection, so one shard (owner of the key or not).
    for client in ["p1", "p2", "p3"] {
        let got = on_one_connection(
            &gw,
            80,
            &format!("X-Client: {client}\r\nOcp-Apim-Subscription-Key: bob-key\r\n"),
        );
        let ok = got.iter().filter(|(s, _)| *s == 200).count();
        assert!(
            (39..=41).contains(&ok),
            "{client} pinned: {ok} admitted of 40"
        );
    }
    // Spread: a new connection per request lands on either shard.
    for client in ["s1", "s2", "s3"] {
        let started = Instant::now();
        let got = on_new_connections(
            &gw,
            80,
            &format!("X-Client: {client}\r\nOcp-Apim-Subscription-Key: bob-key\r\n"),
        );
        let ok = got.iter().filter(|s| **s == 200).count();
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "within one window"
        );
        assert!(
            (39..=41).contains(&ok),
            "{client} spread: {ok} admitted of 40"
        );
        assert!(got.iter().all(|s| *s == 200 || *s == 429), "{got:?}");
    }
}

#[test]
fn quota_per_subscription_in_its_product_context() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, 2, "");
    let got = on_one_connection(&gw, 6, "Ocp-Apim-Subscription-Key: alice-key\r\n");
    let statuses: Vec<u16> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 403, 403]);
    let refused = &got[4].1;
    let body = body_of(refused);
    assert!(
        body.starts_with(r#"{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in "#)
            && body.ends_with(r#"."}"#),
        "{body}"
    );
    assert!(refused.contains("Retry-After: "), "{refused}");
    // bob's API-scoped key has no product context: the product's quota does not apply.
    let got = on_one_connection(&gw, 6, "Ocp-Apim-Subscription-Key: bob-key\r\n");
    assert!(got.iter().all(|(s, _)| *s == 200));
}

#[test]
fn rate_limit_counts_per_subscription() {
    let be = Backend::start(Reply::Normal);
    let gw = gateway(&be, 1, r#"<rate-limit calls="3" renewal-period="60"/>"#);
    let alice = on_one_connection(&gw, 5, "Ocp-Apim-Subscription-Key: alice-key\r\n");
    // The product's quota (4) runs first (<base/>) and counted the call the rate limit
    // refused: the fifth call is out of quota.
    assert_eq!(
        alice.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [200, 200, 200, 429, 403]
    );
    let bob = on_one_connection(&gw, 4, "Ocp-Apim-Subscription-Key: bob-key\r\n");
    assert_eq!(
        bob.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [200, 200, 200, 429]
    );
}
