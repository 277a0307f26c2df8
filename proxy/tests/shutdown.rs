//! SIGTERM: stop accepting, finish in-flight requests within shutdown-grace, close idle
//! keep-alive connections, exit 0.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::client::read_response;
use support::gateway::config;
use support::{get, Backend, Gateway, Reply};

#[test]
fn sigterm_drains_in_flight_requests_then_exits_zero() {
    let be = Backend::start(Reply::Normal);
    let mut gw = Gateway::start(&config(be.addr, ""));
    // An idle keep-alive connection…
    let mut idle = support::client::connect(gw.addr);
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut idle, false).unwrap().status, 200);
    // …and a request in flight (the backend takes 1.5 s).
    let addr = gw.addr;
    let slow = std::thread::spawn(move || get(addr, "/orders/slow"));
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    gw.terminate();
    let r = slow.join().unwrap();
    assert_eq!(r.status, 200, "in-flight request completed: {}", r.text());
    assert_eq!(r.text(), "slow");
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    // The idle connection was closed by the gateway.
    let mut buf = [0u8; 1];
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0);
    assert_eq!(
        gw.wait_exit(Duration::from_secs(10)),
        Some(0),
        "log:\n{}",
        gw.log_text()
    );
    assert!(t.elapsed() < Duration::from_secs(8));
    // New connections are refused.
    assert!(TcpStream::connect(gw.addr).is_err());
}

#[test]
fn shutdown_grace_bounds_the_drain() {
    let be = Backend::start(Reply::Hang);
    let mut gw = Gateway::start(&config(be.addr, "  timeouts: { shutdown-grace: 500ms }"));
    let addr = gw.addr;
    std::thread::spawn(move || {
        let mut s = support::client::connect(addr);
        let _ = s.write_all(b"GET /orders/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut b = Vec::new();
        let _ = s.read_to_end(&mut b);
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    gw.terminate();
    assert_eq!(gw.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
}
