//! `limit-concurrency` through the real gateway with 2 shards: many concurrent connections
//! (spread over both shards) against a backend that holds each request ~300 ms; the
//! backend never sees more than `max-count` at once, refusals carry APIM's 429 body, and
//! every slot comes back (also from clients that hang up before the answer).

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
    let policy = format!(
        r#"<policies><inbound><base/></inbound>
<backend><limit-concurrency key="@(context.Api.Id)" max-count="{MAX}"><forward-request/></limit-concurrency></backend></policies>"#
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
