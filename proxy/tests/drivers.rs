//! Both runtime drivers serve the same traffic: io_uring and the epoll fallback,
//! forced with TOLLGATE_DRIVER, and a bad value is refused.

mod support;

use std::io::Write;
use std::time::Duration;

use support::client::read_response;
use support::gateway::{binary, config};
use support::{Backend, Gateway, Reply};

fn exercise(driver: &str) {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(be.addr, ""), &[("TOLLGATE_DRIVER", driver)], 2);
    let mut s = support::client::connect(gw.addr);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for i in 0..50 {
        write!(
            s,
            "POST /orders/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        )
        .unwrap();
        let r = read_response(&mut s, false).unwrap();
        assert_eq!(r.status, 200, "{driver} request {i}");
        assert!(r.text().contains("body-bytes: 5"));
    }
    let want = if driver == "epoll" {
        "with the epoll driver"
    } else {
        "with the io_uring driver"
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(gw.log_text().contains(want), "log:\n{}", gw.log_text());
}

#[test]
fn io_uring_driver_serves() {
    exercise("uring");
}

#[test]
fn epoll_driver_serves() {
    exercise("epoll");
}

#[test]
fn unknown_driver_is_an_error() {
    let out = std::process::Command::new(binary())
        .args(["run", "--listen", "127.0.0.1:0"])
        .env("TOLLGATE_DRIVER", "kqueue")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TOLLGATE_DRIVER=kqueue"));
}
