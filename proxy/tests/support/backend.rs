//! A real HTTP/1.1 backend on std sockets (one thread per connection) that records
//! every request head and body size it receives, with a few misbehaviours on demand.
//!
//! Paths (after the service URL's `/v1`): `/download/N` answers N bytes; `/slow`
//! answers after 1.5 s; `/until-close/N` answers N bytes without a length, ended by the
//! close (`/until-close/N/cut`: by a reset instead); `/ws` accepts a WebSocket upgrade
//! and echoes bytes; `/chunked` answers a chunked body; `/early-hints` a 103 then a 200; `/no-content` a 204;
//! anything else answers 200 with the received head as body.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Normal keep-alive behaviour.
    Normal,
    /// Close the connection after every response without announcing it.
    CloseSilently,
    /// Read the request head, then reset the connection.
    Reset,
    /// Read the request head, then never answer.
    Hang,
}

#[derive(Clone)]
pub struct Backend {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
    pub heads: Arc<Mutex<Vec<String>>>,
    pub body_bytes: Arc<Mutex<Vec<u64>>>,
}

impl Backend {
    pub fn start(reply: Reply) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = Backend {
            addr: listener.local_addr().unwrap(),
            connections: Arc::new(AtomicUsize::new(0)),
            requests: Arc::new(AtomicUsize::new(0)),
            heads: Arc::new(Mutex::new(Vec::new())),
            body_bytes: Arc::new(Mutex::new(Vec::new())),
        };
        let b2 = b.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                b2.connections.fetch_add(1, Ordering::SeqCst);
                let b3 = b2.clone();
                std::thread::spawn(move || b3.serve(stream, reply));
            }
        });
        b
    }

    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }

    fn serve(&self, mut s: TcpStream, reply: Reply) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let Some(head) = read_head(&mut s, &mut pending) else {
                return;
            };
            self.requests.fetch_add(1, Ordering::SeqCst);
            self.heads.lock().unwrap().push(head.clone());
            match reply {
                Reply::Reset => {
                    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                    return;
                }
                Reply::Hang => {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                _ => {}
            }
            let Some(n) = read_body(&mut s, &mut pending, &head) else {
                return;
            };
            self.body_bytes.lock().unwrap().push(n);
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let is_head = head.starts_with("HEAD ");
            let ok = if let Some(size) = target.strip_prefix("/v1/download/") {
                let size: usize = size.parse().unwrap_or(0);
                write!(s, "HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n").is_ok()
                    && write_zeros(&mut s, size)
            } else if let Some(rest) = target.strip_prefix("/v1/until-close/") {
                // A body with no length, ended by closing; `cut` stops short with a reset.
                let cut = rest.ends_with("/cut");
                let size: usize = rest.trim_end_matches("/cut").parse().unwrap_or(0);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
                let _ = write_zeros(&mut s, size);
                if cut {
                    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                }
                return;
            } else if target == "/v1/slow" {
                std::thread::sleep(Duration::from_millis(1500));
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nslow")
                    .is_ok()
            } else if target.starts_with("/v1/flaky") {
                // 503 for the first two requests this backend sees, then 200.
                if self.requests.load(Ordering::SeqCst) <= 2 {
                    s.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy",
                    )
                    .is_ok()
                } else {
                    s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .is_ok()
                }
            } else if let Some(code) = target.strip_prefix("/v1/redirect/") {
                write!(s, "HTTP/1.1 {code} Moved\r\nLocation: /v1/orders/after-redirect?from={code}\r\ncontent-length: 5\r\n\r\nmoved").is_ok()
            } else if target == "/v1/early-hints" {
                s.write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .is_ok()
            } else if target == "/v1/no-content" {
                s.write_all(b"HTTP/1.1 204 No Content\r\nx-empty: 1\r\n\r\n")
                    .is_ok()
            } else if target == "/v1/chunked" {
                s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                    .is_ok()
            } else if target == "/v1/ws" {
                let _ = s.write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
                );
                let mut buf = [0u8; 4096];
                if !pending.is_empty() {
                    let _ = s.write_all(&pending);
                }
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                return;
            } else {
                let body = format!("{head}body-bytes: {n}\n");
                let extra = if is_head { String::new() } else { body.clone() };
                write!(s, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-backend: yes\r\ncontent-length: {}\r\n\r\n{extra}", body.len())
                    .is_ok()
            };
            if !ok
                || reply == Reply::CloseSilently
                || head.to_ascii_lowercase().contains("connection: close")
            {
                return;
            }
        }
    }
}

fn write_zeros(s: &mut TcpStream, mut n: usize) -> bool {
    let chunk = [b'z'; 64 * 1024];
    while n > 0 {
        let k = n.min(chunk.len());
        if s.write_all(&chunk[..k]).is_err() {
            return false;
        }
        n -= k;
    }
    true
}

fn fill(s: &mut TcpStream, pending: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 64 * 1024];
    match s.read(&mut buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            pending.extend_from_slice(&buf[..n]);
            true
        }
    }
}

fn read_head(s: &mut TcpStream, pending: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..i + 4]).into_owned();
            pending.drain(..i + 4);
            return Some(head);
        }
        if !fill(s, pending) {
            return None;
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads (and counts) the request body; `None` if the connection broke.
fn read_body(s: &mut TcpStream, pending: &mut Vec<u8>, head: &str) -> Option<u64> {
    if let Some(len) = header(head, "content-length") {
        let mut left: u64 = len.parse().ok()?;
        let total = left;
        loop {
            let k = (left as usize).min(pending.len());
            pending.drain(..k);
            left -= k as u64;
            if left == 0 {
                return Some(total);
            }
            if !fill(s, pending) {
                return None;
            }
        }
    }
    if header(head, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        let mut total = 0u64;
        loop {
            let line_end = loop {
                if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                if !fill(s, pending) {
                    return None;
                }
            };
            let line = String::from_utf8_lossy(&pending[..line_end]).into_owned();
            pending.drain(..line_end + 2);
            let size = u64::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailers until the empty line.
                loop {
                    let i = loop {
                        if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                            break i;
                        }
                        if !fill(s, pending) {
                            return None;
                        }
                    };
                    pending.drain(..i + 2);
                    if i == 0 {
                        return Some(total);
                    }
                }
            }
            let mut left = size + 2;
            while left > 0 {
                if pending.is_empty() && !fill(s, pending) {
                    return None;
                }
                let k = (left as usize).min(pending.len());
                pending.drain(..k);
                left -= k as u64;
            }
            total += size;
        }
    }
    Some(0)
}
