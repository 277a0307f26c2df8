//! `rate-limits.redis` with a real `redis-server` (installed by scripts/test.sh): two
//! gateway processes share one rate-limit-by-key and one quota-by-key within 0.95–1.05 of
//! the limit under overload from both; with Redis killed, `open` keeps requests flowing
//! (each gateway counting alone) and `closed` answers 429 at once, neither ever waiting;
//! with Redis back, counting through it resumes.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{Backend, Gateway, Reply};

/// A `redis-server` on a free loopback port, killed when dropped.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut r = Redis { port, child: None };
        r.restart();
        r
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut buf = [0u8; 16];
                if s.write_all(b"PING\r\n").is_ok() && s.read(&mut buf).is_ok_and(|n| n > 0) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn gateway(be: &Backend, redis: &Redis, on_failure: &str, policy: &str) -> Gateway {
    Gateway::start_with(
        &format!(
            r#"gateway:
  shards: 2
rate-limits:
  redis: {{ url: "{}", key-prefix: "t{}:", sync-interval: 50ms, on-failure: {on_failure} }}
apis:
  - id: orders
    path: orders
    service-url: http://{}/v1
    subscription-required: false
    policy: |
      <policies><inbound><base/>
        {policy}
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
"#,
            redis.url(),
            redis.port,
            be.addr
        ),
        &[],
        2,
    )
}

fn rate(calls: u64, period: u64) -> String {
    format!(
        r#"<rate-limit-by-key calls="{calls}" renewal-period="{period}" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;anonymous&quot;))"/>"#
    )
}

/// What a load run saw.
#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
    /// Slowest request, µs.
    slowest_us: AtomicU64,
}

/// One keep-alive connection's requests, until `stop`.
fn hammer(
    addr: SocketAddr,
    client: String,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    pause: Duration,
) {
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let status = (|| -> Option<u16> {
            if conn.is_none() {
                let s = TcpStream::connect(addr).ok()?;
                s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                conn = Some(BufReader::new(s));
            }
            let c = conn.as_mut()?;
            c.get_mut()
                .write_all(
                    format!("GET /orders/x HTTP/1.1\r\nHost: gw\r\nX-Client: {client}\r\n\r\n")
                        .as_bytes(),
                )
                .ok()?;
            let mut line = String::new();
            c.read_line(&mut line).ok()?;
            let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                c.read_line(&mut h).ok()?;
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().ok()?;
                }
            }
            let mut body = vec![0u8; len];
            c.read_exact(&mut body).ok()?;
            Some(status)
        })();
        let us = started.elapsed().as_micros() as u64;
        counts.slowest_us.fetch_max(us, Ordering::Relaxed);
        match status {
            Some(200) => counts.ok.fetch_add(1, Ordering::Relaxed),
            Some(429) | Some(403) => counts.refused.fetch_add(1, Ordering::Relaxed),
            _ => {
                conn = None;
                counts.other.fetch_add(1, Ordering::Relaxed)
            }
        };
        std::thread::sleep(pause);
    }
}

/// Overloads `gws` (`conns` connections each) for `how_long` with requests for `client`.
fn load(gws: &[&Gateway], client: &str, conns: usize, how_long: Duration) -> Vec<Arc<Counts>> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut all = Vec::new();
    for gw in gws {
        let counts = Arc::new(Counts::default());
        for _ in 0..conns {
            let (addr, client, counts, stop) =
                (gw.addr, client.to_owned(), counts.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                hammer(addr, client, counts, stop, Duration::from_millis(2))
            }));
        }
        all.push(counts);
    }
    std::thread::sleep(how_long);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    all
}

fn ok(c: &[Arc<Counts>]) -> Vec<u64> {
    c.iter().map(|c| c.ok.load(Ordering::Relaxed)).collect()
}

fn within(total: u64, limit: u64) -> bool {
    total * 100 >= limit * 95 && total * 100 <= limit * 105
}

#[test]
fn two_gateways_share_a_rate_limit_and_a_quota() {
    let redis = Redis::start();
    let be = Backend::start(Reply::Normal);
    // 60 per 10 s, both gateways overloaded (about 20× the limit) for 8 s: less than one
    // window, so the combined count is the limit.
    let policy = rate(60, 10);
    let a = gateway(&be, &redis, "open", &policy);
    let b = gateway(&be, &redis, "open", &policy);
    let counts = load(&[&a, &b], "shared", 3, Duration::from_secs(8));
    let got = ok(&counts);
    let total: u64 = got.iter().sum();
    eprintln!("rate-limit-by-key 60/10 s over two gateways: admitted {got:?} = {total}");
    assert!(within(total, 60), "admitted {total} of 60: {got:?}");
    assert!(
        got.iter().all(|&n| n > 0),
        "both gateways served some: {got:?}"
    );
    // Each gateway alone would have admitted 60.
    assert!(counts.iter().all(|c| c.other.load(Ordering::Relaxed) == 0));

    // A quota of 90 per hour, keyed apart from the rate limit (a client per request
    // keeps the rate limit out of the way).
    let quota_policy =
        "<quota-by-key calls=\"90\" renewal-period=\"3600\" counter-key=\"shared-quota\"/>";
    let qa = gateway(&be, &redis, "open", quota_policy);
    let qb = gateway(&be, &redis, "open", quota_policy);
    let counts = load(&[&qa, &qb], "q", 3, Duration::from_secs(3));
    let got = ok(&counts);
    let total: u64 = got.iter().sum();
    eprintln!("quota-by-key 90/h over two gateways: admitted {got:?} = {total}");
    assert!(within(total, 90), "admitted {total} of 90: {got:?}");
    let refused: u64 = counts
        .iter()
        .map(|c| c.refused.load(Ordering::Relaxed))
        .sum();
    assert!(refused > 0);
}

#[test]
fn redis_down_open_keeps_counting_locally_closed_refuses_and_both_recover() {
    let mut redis = Redis::start();
    let be = Backend::start(Reply::Normal);
    let open = gateway(&be, &redis, "open", &rate(50, 10));
    let closed = gateway(&be, &redis, "closed", &rate(50, 10));
    // Both work through Redis.
    let warm = load(&[&open, &closed], "warm", 1, Duration::from_millis(500));
    assert!(ok(&warm).iter().all(|&n| n > 0), "{:?}", ok(&warm));

    redis.kill();
    std::thread::sleep(Duration::from_millis(300));
    let down = load(&[&open, &closed], "during", 2, Duration::from_secs(2));
    let got = ok(&down);
    eprintln!(
        "Redis down: open admitted {}, closed admitted {}",
        got[0], got[1]
    );
    // open: the gateway counts alone: its own limit of 50.
    assert!((45..=50).contains(&got[0]), "open admitted {}", got[0]);
    // closed: everything refused (a lease a shard already held may still be spent).
    assert!(got[1] <= 2, "closed admitted {}", got[1]);
    assert!(down[1].refused.load(Ordering::Relaxed) > 10);
    for (c, name) in down.iter().zip(["open", "closed"]) {
        let slowest = c.slowest_us.load(Ordering::Relaxed);
        assert!(slowest < 1_000_000, "{name}: a request took {slowest} µs");
        assert_eq!(c.other.load(Ordering::Relaxed), 0, "{name}");
    }
    let refused = support::raw(
        closed.addr,
        b"GET /orders/x HTTP/1.1\r\nHost: gw\r\nX-Client: probe\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(support::client::status_of(&refused), 429, "{refused}");
    assert!(refused.contains("Retry-After: 1\r\n"), "{refused}");
    for gw in [&open, &closed] {
        let log = gw.log_text();
        assert_eq!(log.matches("lost Redis").count(), 1, "warned once:\n{log}");
    }

    redis.restart();
    std::thread::sleep(Duration::from_millis(1500));
    for gw in [&open, &closed] {
        let log = gw.log_text();
        assert!(log.contains("is back after"), "recovery logged:\n{log}");
    }
    // Counting through Redis again: a new key shared by both gateways gets 50 in all,
    // not 50 each.
    let after = load(&[&open, &closed], "after", 2, Duration::from_secs(3));
    let got = ok(&after);
    let total: u64 = got.iter().sum();
    eprintln!("Redis back: admitted {got:?} = {total}");
    assert!(within(total, 50), "admitted {total} of 50: {got:?}");
}
