//! The byte tunnel after a successful `Upgrade: websocket` (101 Switching Protocols).
//!
//! Both directions are copied until each side has closed its half; when one direction
//! ends, the write half of the other side is shut down so the peer sees EOF. A plain
//! client gets two concurrent copies over split sockets; a TLS client (one rustls
//! session cannot be split) gets one loop that waits for either side to be readable.

use monoio::io::{AsyncWriteRent, AsyncWriteRentExt, Splitable};
use monoio::net::TcpStream;

use super::io::{read_more, write_all, Read};
use super::stream::{ClientConn, ClientStream};
use crate::upstream::stream::BackendConn;
use crate::upstream::BackendStream;

/// The backend side of an upgraded connection, handed from `forward` to the
/// connection loop (which owns the client stream).
pub struct Tunnel {
    pub backend: BackendStream,
    pub backend_pending: Vec<u8>,
}

/// Copies client ⇄ backend until both directions finish. `client_pending` and
/// `backend_pending` are bytes already read from each side and not yet forwarded.
pub async fn run(
    client: ClientStream,
    backend: BackendStream,
    client_pending: Vec<u8>,
    backend_pending: Vec<u8>,
) {
    match (client, backend) {
        (
            ClientStream::Conn(ClientConn::Plain(client)),
            BackendStream::Conn(BackendConn::Plain(backend)),
        ) => run_split(client, backend, client_pending, backend_pending).await,
        // An HTTP/2 stream never upgrades (HTTP/2 has no Upgrade).
        (ClientStream::H2(_), _) => {}
        (client, backend) => run_polled(client, backend, client_pending, backend_pending).await,
    }
}

async fn run_split(
    client: TcpStream,
    backend: TcpStream,
    client_pending: Vec<u8>,
    backend_pending: Vec<u8>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut br, mut bw) = backend.into_split();
    let up = async {
        if !client_pending.is_empty() {
            let (res, _) = bw.write_all(client_pending).await;
            if res.is_err() {
                return;
            }
        }
        let _ = monoio::io::copy(&mut cr, &mut bw).await;
        let _ = bw.shutdown().await;
    };
    let down = async {
        if !backend_pending.is_empty() {
            let (res, _) = cw.write_all(backend_pending).await;
            if res.is_err() {
                return;
            }
        }
        let _ = monoio::io::copy(&mut br, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    monoio::join!(up, down);
}

/// One task: wait until either side is readable (a readiness wait consumes nothing, so
/// dropping the losing wait loses no data), then copy what that side has.
async fn run_polled(
    mut client: ClientStream,
    mut backend: BackendStream,
    mut up: Vec<u8>,
    mut down: Vec<u8>,
) {
    const CHUNK: usize = 16 * 1024;
    if write_all(&mut backend, &mut up).await.is_err()
        || write_all(&mut client, &mut down).await.is_err()
    {
        return;
    }
    let (mut client_open, mut backend_open) = (true, true);
    let forever = std::time::Duration::from_secs(u32::MAX as u64);
    while client_open || backend_open {
        let from_client = if (client_open && client.has_buffered()) || !backend_open {
            true
        } else if !client_open || backend.has_buffered() {
            false
        } else {
            let (Some(tcp), Some(btcp)) = (client.tcp(), backend.tcp()) else {
                return;
            };
            monoio::select! {
                r = tcp.readable(false) => { if r.is_err() { return; } true }
                r = btcp.readable(false) => { if r.is_err() { return; } false }
            }
        };
        let (src_open, buf) = if from_client {
            (&mut client_open, &mut up)
        } else {
            (&mut backend_open, &mut down)
        };
        buf.clear();
        buf.reserve(CHUNK);
        let read = if from_client {
            read_more(&mut client, buf, forever).await
        } else {
            read_more(&mut backend, buf, forever).await
        };
        match read {
            Read::Data(_) => {
                let sent = if from_client {
                    write_all(&mut backend, buf).await
                } else {
                    write_all(&mut client, buf).await
                };
                if sent.is_err() {
                    return;
                }
            }
            _ => {
                *src_open = false;
                let _ = if from_client {
                    backend.shutdown().await
                } else {
                    client.shutdown().await
                };
            }
        }
    }
}
