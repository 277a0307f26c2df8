//! An open-loop load generator (wrk2-style): requests are sent on a fixed schedule, R per
//! second spread over C keep-alive connections, and each latency is measured from when
//! the request was *due*, not from when it could be sent. A stall therefore shows up in
//! the latencies of every request it delayed (closed-loop tools such as wrk hide it:
//! coordinated omission).
//!
//!   openloop URL RATE SECONDS [CONNECTIONS]
//!   → one line: sent, errors, achieved rate, p50 / p90 / p99 / p99.9 / max in ms

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

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
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n").into_bytes();
    let per_conn = rate / conns as f64;
    let interval = Duration::from_secs_f64(1.0 / per_conn);
    let total = (per_conn * secs) as usize;
    let start = Instant::now() + Duration::from_millis(100);
    let workers: Vec<_> = (0..conns)
        .map(|i| {
            let authority = authority.to_string();
            let request = request.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(total);
                let mut errors = 0usize;
                let Ok(mut s) = TcpStream::connect(&authority) else {
                    return (lat, total);
                };
                let _ = s.set_nodelay(true);
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = vec![0u8; 64 * 1024];
                // Stagger the connections across one interval.
                let offset = interval.mul_f64(i as f64 / conns as f64);
                for n in 0..total {
                    let due = start + offset + interval.mul_f64(n as f64);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    if s.write_all(&request).is_err() || !read_response(&mut s, &mut buf) {
                        errors += 1;
                        match TcpStream::connect(&authority) {
                            Ok(n) => s = n,
                            Err(_) => return (lat, errors + total - n - 1),
                        }
                        continue;
                    }
                    lat.push(due.elapsed().as_micros() as u64);
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        if let Ok((l, e)) = w.join() {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
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

/// Reads one response with a Content-Length body (what the benchmark backends send).
fn read_response(s: &mut TcpStream, buf: &mut [u8]) -> bool {
    let mut have = 0;
    loop {
        match s.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => have += n,
        }
        let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") else {
            if have == buf.len() {
                return false;
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while have < end + 4 + len {
            match s.read(&mut buf[have..]) {
                Ok(0) | Err(_) => return false,
                Ok(n) => have += n,
            }
        }
        return true;
    }
}
