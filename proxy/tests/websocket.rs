//! `Upgrade: websocket` passthrough: the 101 is relayed and bytes flow both ways.

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use support::client::read_response;
use support::gateway::config;
use support::{Backend, Gateway, Reply};

#[test]
fn websocket_echo_through_the_gateway() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start(&config(be.addr, ""));
    let mut s = support::client::connect(gw.addr);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"GET /orders/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s, false).unwrap();
    assert_eq!(r.status, 101, "{}", r.head);
    assert_eq!(r.header("upgrade").as_deref(), Some("websocket"));
    assert!(r
        .header("connection")
        .unwrap()
        .eq_ignore_ascii_case("upgrade"));
    let head = be.last_head().to_ascii_lowercase();
    assert!(
        head.contains("upgrade: websocket") && head.contains("connection: upgrade"),
        "{head}"
    );
    for msg in [&b"ping-1"[..], b"second message", &[0u8, 1, 2, 255]] {
        s.write_all(msg).unwrap();
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).unwrap();
        assert_eq!(got, msg);
    }
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}
