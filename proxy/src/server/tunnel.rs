//! The byte tunnel after a successful `Upgrade: websocket` (101 Switching Protocols).
//!
//! Both directions are copied concurrently until each side has closed its half; when one
//! direction ends, the write half of the other side is shut down so the peer sees EOF.

use monoio::io::{AsyncWriteRent, AsyncWriteRentExt, Splitable};
use monoio::net::TcpStream;

/// The backend side of an upgraded connection, handed from `forward` to the
/// connection loop (which owns the client stream).
pub struct Tunnel {
    pub backend: TcpStream,
    pub backend_pending: Vec<u8>,
}

/// Copies client ⇄ backend until both directions finish. `client_pending` and
/// `backend_pending` are bytes already read from each side and not yet forwarded.
pub async fn run(
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
