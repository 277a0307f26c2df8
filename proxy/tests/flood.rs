//! A flood of distinct rate-limit keys through the real gateway (2 shards,
//! `rate-limits.max-keys: 2000`): the process's memory levels off instead of growing with
//! the keys, nothing fails, and a subscription's counter in steady use keeps its exact
//! count throughout (a flood of one-off keys evicts itself, not the keys in use).

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use support::client::read_response;
use support::{Backend, Gateway, Reply};

/// `n` requests on one keep-alive connection, each with its own X-Client key but every
/// 20th, which uses the hot key (a subscription in steady use). Returns the hot uses.
fn flood(gw: &Gateway, tag: &str, n: usize) -> u64 {
    let mut s = TcpStream::connect(gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hot = 0;
    for i in 0..n {
        let client = if i % 20 == 0 {
            hot += 1;
            "hot".to_string()
        } else {
            format!("{tag}-{i}")
        };
        s.write_all(
            format!("GET /orders/x HTTP/1.1\r\nHost: gw\r\nX-Client: {client}\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let r = read_response(&mut s, false).expect("a response");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    hot
}

/// One request with the hot key on a new connection: its status.
fn hot(gw: &Gateway) -> u16 {
    let mut s = TcpStream::connect(gw.addr).unwrap();
    s.write_all(
        b"GET /orders/x HTTP/1.1\r\nHost: gw\r\nX-Client: hot\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    read_response(&mut s, false).expect("a response").status
}

#[test]
fn a_flood_of_distinct_keys_levels_off_and_keeps_the_hot_key_exact() {
    let be = Backend::start(Reply::Normal);
    let yaml = format!(
        r#"rate-limits: {{ max-keys: 2000 }}
apis:
  - id: orders
    path: orders
    subscription-required: false
    service-url: http://{}/v1
    policy: |
      <policies><inbound><base/>
        <rate-limit-by-key calls="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;&quot;) == &quot;hot&quot; ? 2500 : 100000)" renewal-period="300" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;none&quot;))"/>
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
"#,
        be.addr
    );
    let gw = Gateway::start_with(&yaml, &[], 2);
    let mut used = 0;
    let mut rounds = Vec::new();
    // Rounds of 4 connections × 2,000 requests (spread over both shards): 7,600 new keys
    // and 400 uses of the hot key each.
    for round in 0..6 {
        used += std::thread::scope(|s| {
            let flooders: Vec<_> = (0..4)
                .map(|c| {
                    let gw = &gw;
                    s.spawn(move || flood(gw, &format!("r{round}c{c}"), 2_000))
                })
                .collect();
            flooders.into_iter().map(|f| f.join().unwrap()).sum::<u64>()
        });
        used += 1;
        assert_eq!(hot(&gw), 200);
        rounds.push(gw.rss_kib());
    }
    // The hot key (2,500 per 5 minutes) kept every count through the flood: exactly what
    // is left of its limit passes, then 429.
    let mut more = 0;
    while hot(&gw) == 200 {
        more += 1;
        assert!(more <= 2500, "the hot key's count was lost");
    }
    // Never more than what is left (no count lost); at most a token or two fewer (the
    // loop stops at the first 429, which a shard may answer while a token it gave back
    // is on its way to the owner).
    let left = 2500 - used;
    assert!(
        (left - 2..=left).contains(&more),
        "{more} passed after the flood, {left} were left (used {used})"
    );
    eprintln!("RSS (KiB) after each 7,600 keys: {rounds:?}");
    // The table fills in the first rounds (2,000 keys, 1,000 per shard); after that the
    // memory stays level: the last three rounds (22,800 more keys) add under 2 MiB.
    let grown = rounds[5].saturating_sub(rounds[2]);
    assert!(
        grown < 2048,
        "RSS grew {grown} KiB over 22,800 keys: {rounds:?}"
    );
}
