//! `limit-concurrency` through the real gateway with 2 shards: many concurrent connections
//! (spread over both shards) against a backend that holds each request ~300 ms; the
//! backend never sees more than `max-count` at once, refusals carry APIM's 429 body, and
//! every slot comes back (also from clients that hang up before the answer). With
//! Tollgate's queue (`queue-timeout`, `queue-length`) requests wait for a slot instead:
//! all pass, in the order they came on a shard, or get the 429 once their time is up.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::{get, Gateway};

const MAX: usize = 3;

/// A backend answering every request after 300 ms, recording the most it held at once.
struct Counting {
    addr: SocketAddr,
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

fn counting_backend() -> Counting {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = Counting {
        addr: listener.local_addr().unwrap(),
        now: Arc::new(AtomicUsize::new(0)),
        peak: Arc::new(AtomicUsize::new(0)),
    };
    let (now, peak) = (b.now.clone(), b.peak.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let (now, peak) = (now.clone(), peak.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut head = Vec::new();
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(300));
                        now.fetch_sub(1, Ordering::SeqCst);
                        let _ = s.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        );
                        return;
                    }
                }
            });
        }
    });
    b
}

fn gateway(be: &Counting) -> Gateway {
    gateway_with(be, MAX, "")
}

/// `extra`: more attributes of limit-concurrency (the queue).
fn gateway_with(be: &Counting, max: usize, extra: &str) -> Gateway {
    let policy = format!(
        r#"<policies><inbound><base/></inbound>
<backend><limit-concurrency key="@(context.Api.Id)" max-count="{max}" {extra}><forward-request/></limit-concurrency></backend></policies>"#
    );
    let indented: String = policy.lines().map(|l| format!("      {l}\n")).collect();
    Gateway::start_with(
        &format!(
            "apis:\n  - id: orders\n    path: orders\n    service-url: http://{}/v1\n    subscription-required: false\n    policy: |\n{}    operations:\n      - {{ id: get-order, method: GET, url-template: \"/orders/{{id}}\" }}\n",
            be.addr, indented
        ),
        &[],
        2,
    )
}

#[test]
fn limit_concurrency_holds_across_shards_and_gives_every_slot_back() {
    let be = counting_backend();
    let gw = gateway(&be);
    let addr = gw.addr;
    let mut ok = 0;
    let mut refused = 0;
    for wave in 0..3 {
        let clients: Vec<_> = (0..24)
            .map(|i| {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis((i % 6) * 40));
                    get(addr, &format!("/orders/orders/{wave}-{i}"))
                })
            })
            .collect();
        for c in clients {
            let r = c.join().unwrap();
            match r.status {
                200 => ok += 1,
                429 => {
                    assert_eq!(
                        r.text(),
                        r#"{"statusCode":429,"message":"Too many concurrent requests."}"#
                    );
                    refused += 1;
                }
                s => panic!("unexpected {s}: {}", r.text()),
            }
        }
    }
    let peak = be.peak.load(Ordering::SeqCst);
    assert!(
        peak <= MAX,
        "the backend saw {peak} at once (max-count {MAX})"
    );
    assert!(ok >= MAX, "only {ok} admitted");
    assert!(refused > 0, "nothing refused");

    // Clients that hang up while holding a slot give it back.
    for i in 0..MAX {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /orders/orders/gone-{i} HTTP/1.1\r\nHost: gw.test\r\n\r\n"
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        drop(s);
    }
    std::thread::sleep(Duration::from_millis(800));

    // Every slot is back: MAX concurrent requests all pass (leases may take a tick to
    // return, so allow a few rounds).
    let mut all = false;
    for _ in 0..5 {
        let clients: Vec<_> = (0..MAX)
            .map(|i| {
                std::thread::spawn(move || get(addr, &format!("/orders/orders/after-{i}")).status)
            })
            .collect();
        let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        if statuses.iter().all(|s| *s == 200) {
            all = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(all, "a slot was lost");
    assert!(be.peak.load(Ordering::SeqCst) <= MAX);
}

/// `n` clients at once (spread over both shards); each returns (status, seconds taken).
fn burst(addr: SocketAddr, n: usize, tag: &str) -> Vec<(u16, f64)> {
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let path = format!("/orders/orders/{tag}-{i}");
            std::thread::spawn(move || {
                let start = std::time::Instant::now();
                let r = get(addr, &path);
                (r.status, start.elapsed().as_secs_f64())
            })
        })
        .collect();
    clients.into_iter().map(|c| c.join().unwrap()).collect()
}

#[test]
fn a_queue_lets_requests_wait_for_a_slot_instead_of_failing() {
    let be = counting_backend();
    // 2 slots, 300 ms per request: 10 requests need 5 rounds, 1.5 s; they may wait 5 s.
    let gw = gateway_with(&be, 2, r#"queue-timeout="5" queue-length="20""#);
    let got = burst(gw.addr, 10, "q");
    assert!(got.iter().all(|(s, _)| *s == 200), "{got:?}");
    assert!(be.peak.load(Ordering::SeqCst) <= 2, "the limit held");
    let slowest = got.iter().map(|(_, t)| *t).fold(0.0, f64::max);
    assert!(slowest >= 1.2, "they waited their turn: {got:?}");

    // Nothing is left in line: one request passes at once.
    let (status, took) = burst(gw.addr, 1, "after")[0];
    assert_eq!(status, 200);
    assert!(took < 1.0, "{took}");
}

#[test]
fn a_request_whose_time_in_line_is_up_gets_the_429_and_a_full_line_refuses_at_once() {
    let be = counting_backend();
    let gw = gateway_with(&be, 1, r#"queue-timeout="0.25" queue-length="50""#);
    // One slot, 300 ms each: within 250 ms of waiting at most the first in line passes.
    let got = burst(gw.addr, 6, "t");
    let refused: Vec<f64> = got
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, t)| *t)
        .collect();
    assert!(refused.len() >= 3, "{got:?}");
    assert!(
        refused.iter().all(|t| *t >= 0.2),
        "refused only after waiting: {got:?}"
    );
    assert_eq!(
        got.iter().filter(|(s, _)| *s == 200).count() + refused.len(),
        6
    );

    // A line of 1 per shard: with 8 at once, some are refused without waiting.
    let gw = gateway_with(&be, 1, r#"queue-timeout="5" queue-length="1""#);
    let got = burst(gw.addr, 8, "full");
    let fast_refusals = got.iter().filter(|(s, t)| *s == 429 && *t < 0.2).count();
    assert!(fast_refusals >= 1, "{got:?}");
    assert!(be.peak.load(Ordering::SeqCst) <= 1);
}

#[test]
fn a_client_that_leaves_the_line_frees_its_place() {
    let be = counting_backend();
    let gw = gateway_with(&be, 1, r#"queue-timeout="10" queue-length="100""#);
    // Seven clients: one gets the slot (300 ms at the backend), six wait and hang up.
    let mut gone = Vec::new();
    for i in 0..7 {
        let mut s = std::net::TcpStream::connect(gw.addr).unwrap();
        write!(
            s,
            "GET /orders/orders/left-{i} HTTP/1.1\r\nHost: gw.test\r\n\r\n"
        )
        .unwrap();
        gone.push(s);
    }
    std::thread::sleep(Duration::from_millis(100));
    drop(gone);
    // Once the forwarded one is done, a new request waits behind nobody: the ones that
    // left are out of line (otherwise it would wait 300 ms for each of them).
    std::thread::sleep(Duration::from_millis(350));
    let (status, took) = burst(gw.addr, 1, "next")[0];
    assert_eq!(status, 200);
    assert!(took < 0.6, "it waited behind clients that left: {took}");
    assert!(be.peak.load(Ordering::SeqCst) <= 1);
}
