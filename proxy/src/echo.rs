//! The built-in echo backend: answers every request with a JSON description of it.
//!
//! It exists so the embedded default configuration has something to route to (a
//! newcomer can curl the gateway with nothing else installed), and as a small, honest
//! backend for tests. It is not a benchmark backend: use nginx for that.

use std::net::SocketAddr;

use monoio::net::{TcpListener, TcpStream};
use tollgate_core::error::json_escape_into;

use crate::http::v1::chunked::ChunkedScanner;
use crate::http::v1::request::{parse_request, BodyFraming, HeadLimits};
use crate::http::v1::HeaderSpan;
use crate::server::io::{consume, read_more, write_all, Read};

const IDLE: std::time::Duration = std::time::Duration::from_secs(60);

/// Binds `addr` and serves echo responses on a current-thread monoio runtime, forever.
pub fn serve_blocking(listener: std::net::TcpListener) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        loop {
            let (stream, peer) = listener.accept().await?;
            monoio::spawn(echo_conn(stream, peer));
        }
    })
}

/// Binds the echo backend on `addr`.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr)
}

async fn echo_conn(mut stream: TcpStream, peer: SocketAddr) {
    let limits = HeadLimits::default();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut headers: Vec<HeaderSpan> = Vec::with_capacity(limits.max_headers + 1);
    let mut out = Vec::with_capacity(4096);
    loop {
        let head = loop {
            match parse_request(&buf, &limits, &mut headers) {
                Ok(h) => break h,
                Err(crate::http::v1::HeadError::Incomplete) => {}
                Err(_) => {
                    let _ = write_all(&mut stream, &mut b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()).await;
                    return;
                }
            }
            if buf.len() == buf.capacity() {
                buf.reserve(buf.capacity());
            }
            match read_more(&mut stream, &mut buf, IDLE).await {
                Read::Data(_) => {}
                _ => return,
            }
        };
        let mut body = String::with_capacity(512);
        body.push_str("{\"method\":\"");
        json_escape_into(&mut body, &String::from_utf8_lossy(head.method.get(&buf)));
        body.push_str("\",\"url\":\"");
        json_escape_into(&mut body, &String::from_utf8_lossy(head.target.get(&buf)));
        body.push_str("\",\"peer\":\"");
        body.push_str(&peer.to_string());
        body.push_str("\",\"headers\":{");
        for (i, h) in headers.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push('"');
            json_escape_into(
                &mut body,
                &String::from_utf8_lossy(h.name.get(&buf)).to_ascii_lowercase(),
            );
            body.push_str("\":\"");
            json_escape_into(&mut body, &String::from_utf8_lossy(h.value.get(&buf)));
            body.push('"');
        }
        let keep_alive = head.keep_alive;
        consume(&mut buf, head.head_len);
        // Count (and discard) the request body.
        let mut received: u64 = 0;
        match head.framing {
            BodyFraming::None => {}
            BodyFraming::Length(mut rem) => loop {
                let n = rem.min(buf.len() as u64);
                consume(&mut buf, n as usize);
                received += n;
                rem -= n;
                if rem == 0 {
                    break;
                }
                if !matches!(read_more(&mut stream, &mut buf, IDLE).await, Read::Data(_)) {
                    return;
                }
            },
            BodyFraming::Chunked => {
                let mut scanner = ChunkedScanner::new(u64::MAX);
                loop {
                    let Ok(scan) = scanner.scan(&buf) else { return };
                    consume(&mut buf, scan.consumed);
                    if scan.done {
                        received = scanner.body_bytes();
                        break;
                    }
                    if !matches!(read_more(&mut stream, &mut buf, IDLE).await, Read::Data(_)) {
                        return;
                    }
                }
            }
        }
        body.push_str("},\"bodyBytes\":");
        body.push_str(&received.to_string());
        body.push_str("}\n");
        out.clear();
        out.extend_from_slice(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ",
        );
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        if !keep_alive {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body.as_bytes());
        if write_all(&mut stream, &mut out).await.is_err() || !keep_alive {
            return;
        }
        if buf.capacity() == 0 {
            return;
        }
    }
}
