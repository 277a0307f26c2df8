//! An open-loop load generator (wrk2-style): requests are sent on a fixed schedule, R per
//! second spread over C keep-alive connections, and each latency is measured from when
//! the request was *due*, not from when it could be sent. A stall therefore shows up in
//! the latencies of every request it delayed (closed-loop tools such as wrk hide it:
//! coordinated omission).
//!
//! One thread (pin it with taskset) runs a monoio runtime with one task per connection:
//! an earlier version used a thread per connection, and its own scheduling then cost
//! about as much CPU as the proxy it measured near saturation.
//!
//!   openloop URL RATE SECONDS [CONNECTIONS]
//!   → one line: sent, errors, achieved rate, p50 / p90 / p99 / p99.9 / max in ms

use std::rc::Rc;
use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use monoio::time::Instant;

struct Plan {
    authority: String,
    request: Vec<u8>,
    start: Instant,
    interval: Duration,
    total: usize,
    conns: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: openloop http://HOST:PORT/PATH RATE SECONDS [CONNECTIONS]";
    let (Some(url), Some(rate), Some(secs)) = (
        args.get(1),
        args.get(2).and_then(|v| v.parse::<f64>().ok()),
        args.get(3).and_then(|v| v.parse::<f64>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let conns: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(32);
    let rest = url.strip_prefix("http://").unwrap_or_else(|| {
        eprintln!("{usage}");
        std::process::exit(2)
    });
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let per_conn = rate / conns as f64;
    let mut rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .enable_timer()
        .build()
        .expect("a monoio runtime");
    let (all, errors, elapsed) = rt.block_on(async move {
        let plan = Rc::new(Plan {
            authority: authority.to_string(),
            request: format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n").into_bytes(),
            start: Instant::now() + Duration::from_millis(100),
            interval: Duration::from_secs_f64(1.0 / per_conn),
            total: (per_conn * secs) as usize,
            conns,
        });
        let tasks: Vec<_> = (0..conns)
            .map(|i| monoio::spawn(connection(plan.clone(), i)))
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (lat, e) = t.await;
            all.extend(lat);
            errors += e;
        }
        (all, errors, plan.start.elapsed().as_secs_f64().max(1e-9))
    });
    report(all, errors, elapsed);
}

/// One connection's share of the schedule: latencies in µs, and errors.
async fn connection(plan: Rc<Plan>, i: usize) -> (Vec<u64>, usize) {
    let mut lat = Vec::with_capacity(plan.total);
    let mut errors = 0usize;
    let Ok(mut s) = TcpStream::connect(plan.authority.as_str()).await else {
        return (lat, plan.total);
    };
    let _ = s.set_nodelay(true);
    let mut buf = Vec::with_capacity(64 * 1024);
    // Stagger the connections across one interval.
    let offset = plan.interval.mul_f64(i as f64 / plan.conns as f64);
    for n in 0..plan.total {
        let due = plan.start + offset + plan.interval.mul_f64(n as f64);
        if due > Instant::now() {
            monoio::time::sleep_until(due).await;
        }
        let (sent, _) = s.write_all(plan.request.clone()).await;
        let ok = sent.is_ok()
            && matches!(
                monoio::time::timeout(Duration::from_secs(10), read_response(&mut s, &mut buf))
                    .await,
                Ok(true)
            );
        if !ok {
            errors += 1;
            match TcpStream::connect(plan.authority.as_str()).await {
                Ok(new) => s = new,
                Err(_) => return (lat, errors + plan.total - n - 1),
            }
            continue;
        }
        lat.push(due.elapsed().as_micros() as u64);
    }
    (lat, errors)
}

/// Reads one response with a Content-Length body (what the benchmark backends send).
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    let mut body_end = None;
    loop {
        if buf.len() == buf.capacity() {
            return false;
        }
        let owned = std::mem::take(buf);
        let len = owned.len();
        let cap = owned.capacity();
        let (res, slice) = s
            .read(monoio::buf::IoBufMut::slice_mut(owned, len..cap))
            .await;
        *buf = slice.into_inner();
        match res {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        if body_end.is_none() {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                body_end = Some(end + 4 + length);
            }
        }
        if body_end.is_some_and(|e| buf.len() >= e) {
            return true;
        }
    }
}

fn report(mut all: Vec<u64>, errors: usize, elapsed: f64) {
    all.sort_unstable();
    let q = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        all[((all.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
    };
    println!(
        "sent={} errors={} rate={:.0}/s p50={:.3}ms p90={:.3}ms p99={:.3}ms p99.9={:.3}ms max={:.3}ms",
        all.len(),
        errors,
        all.len() as f64 / elapsed,
        q(0.5),
        q(0.9),
        q(0.99),
        q(0.999),
        q(1.0)
    );
}
