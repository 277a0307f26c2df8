//! The per-connection HTTP/1.1 loop: read a head, route it, forward it, repeat.
//!
//! Requests on one connection are handled strictly one after another, so pipelined
//! requests get their responses in order; bytes of the next request that arrive early
//! simply wait in the read buffer. Any framing doubt closes the connection.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;

use monoio::net::TcpStream;
use tollgate_core::error::GatewayError;
use tollgate_core::routing::{ApiIdx, OpIdx, RouteMatch};

use crate::http::v1::request::{parse_request, BodyFraming, HeadError, RequestHead};

use super::forward::{forward, Exchange};
use super::identify::{identify, Identity};
use super::io::{consume, read_more, write_all, Read};
use super::respond::send_error;
use super::scratch::Scratch;
use super::stream::{ClientConn, ClientStream};
use super::tunnel::{self, Tunnel};
use super::{linger, Shard, STATUS_PATH};
use crate::h2::PREFACE;
use crate::snapshot::Snapshot;

/// Read buffer of a client connection while it reads or serves a request; grows up to
/// `max-header-bytes` for big heads. Idle connections hold none (see `BufPool`).
pub const CLIENT_BUF: usize = 8 * 1024;

/// What happens to the connection after a request.
pub enum Next {
    KeepAlive,
    Close,
    /// A WebSocket handshake succeeded: copy bytes both ways from now on.
    Tunnel(Box<Tunnel>),
    /// The client sent the HTTP/2 preface (h2c with prior knowledge, when allowed).
    H2c,
}

pub struct Client {
    pub stream: ClientStream,
    pub peer: SocketAddr,
    /// The TLS session (empty for plain HTTP).
    pub session: crate::tls::SessionInfo,
    pub buf: Vec<u8>,
    /// The client may still be sending a body we did not read: close gracefully
    /// (shut our side, drain theirs briefly) so it sees our error response, not a reset.
    pub linger: bool,
}

/// Serves a plain-HTTP connection.
pub async fn serve(shard: Rc<Shard>, stream: TcpStream, peer: SocketAddr) {
    shard.drain.conn_opened();
    let _ = stream.set_nodelay(true);
    let client = Client {
        stream: ClientStream::Conn(ClientConn::Plain(stream)),
        peer,
        session: crate::tls::SessionInfo::default(),
        buf: Vec::new(),
        linger: false,
    };
    serve_requests(shard.clone(), client).await;
    shard.drain.conn_closed();
}

/// Serves one HTTP/2 stream (see `h2::server`): the request path over the stream,
/// which carries exactly one request.
pub async fn serve_stream(
    shard: Rc<Shard>,
    stream: Box<crate::h2::ServerStream>,
    peer: SocketAddr,
    session: crate::tls::SessionInfo,
) {
    let client = Client {
        stream: ClientStream::H2(stream),
        peer,
        session,
        buf: Vec::new(),
        linger: false,
    };
    serve_requests(shard, client).await;
}

/// Runs the TLS handshake (within `client-header`), then serves the connection.
pub async fn serve_tls(
    shard: Rc<Shard>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Arc<crate::tls::ServerTls>,
) {
    shard.drain.conn_opened();
    let _ = stream.set_nodelay(true);
    let conn = match rustls::ServerConnection::new(tls.config.clone()) {
        Ok(c) => c,
        Err(e) => {
            crate::error!("cannot start a TLS session: {e}");
            shard.drain.conn_closed();
            return;
        }
    };
    let mut t = Box::new(crate::rent::Rent(crate::tls::TlsStream::new(stream, conn)));
    let limit = shard.snapshot().timeouts.client_header;
    match monoio::time::timeout(limit, t.0.handshake()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            crate::debug!("TLS handshake with {peer} failed: {e}");
            shard.drain.conn_closed();
            return;
        }
        Err(_) => {
            crate::debug!("TLS handshake with {peer} timed out");
            shard.drain.conn_closed();
            return;
        }
    }
    let session = session_info(&t.0, &tls);
    let h2 = t.0.conn().alpn_protocol() == Some(b"h2");
    let stream = ClientConn::Tls(t);
    if h2 {
        // Boxed: the HTTP/2 connection's state must not size every connection's task.
        let h2 =
            crate::h2::server::serve(shard.clone(), stream, Vec::new(), peer, Rc::new(session));
        Box::pin(h2).await;
    } else {
        let client = Client {
            stream: ClientStream::Conn(stream),
            peer,
            session,
            buf: Vec::new(),
            linger: false,
        };
        serve_requests(shard.clone(), client).await;
    }
    shard.drain.conn_closed();
}

/// What the request path may ask of the TLS session: SNI, the judged client certificate.
fn session_info(
    t: &crate::tls::TlsStream<rustls::ServerConnection>,
    tls: &crate::tls::ServerTls,
) -> crate::tls::SessionInfo {
    let conn = t.conn();
    let peer_cert = conn.peer_certificates().and_then(|chain| {
        tls.client_auth
            .judge(chain, rustls::pki_types::UnixTime::now())
            .map(Rc::new)
    });
    crate::tls::SessionInfo {
        server_name: conn.server_name().map(Into::into),
        peer_cert,
    }
}

async fn serve_requests(shard: Rc<Shard>, mut client: Client) {
    loop {
        if !wait_for_request(&shard, &mut client).await {
            break;
        }
        let mut scratch = shard.scratch.take();
        let next = handle(&shard, &mut client, &mut scratch).await;
        shard.scratch.put(scratch);
        match next {
            Next::KeepAlive if !shard.drain.draining() => {}
            Next::KeepAlive | Next::Close => break,
            Next::Tunnel(t) => {
                let Client { stream, buf, .. } = client;
                // Boxed, like the HTTP/2 path below: rare, and large.
                Box::pin(tunnel::run(stream, t.backend, buf, t.backend_pending)).await;
                return;
            }
            Next::H2c => {
                let Client {
                    stream,
                    buf,
                    peer,
                    session,
                    ..
                } = client;
                if let ClientStream::Conn(conn) = stream {
                    let h2 = crate::h2::server::serve(shard, conn, buf, peer, Rc::new(session));
                    Box::pin(h2).await;
                }
                return;
            }
        }
    }
    if client.linger {
        if client.buf.capacity() == client.buf.len() {
            client.buf.reserve(CLIENT_BUF);
        }
        linger::close(&mut client.stream, &mut client.buf).await;
    }
    shard.bufs.put(std::mem::take(&mut client.buf));
}

/// Waits (up to `keepalive-idle`) for the first bytes of the next request. While waiting
/// the connection is parked so shutdown can wake it, and holds no read buffer: it waits
/// for readability, then borrows a buffer from the shard's pool. False: close.
async fn wait_for_request(shard: &Shard, c: &mut Client) -> bool {
    if !c.buf.is_empty() {
        return true;
    }
    if c.buf.capacity() > 0 {
        shard.bufs.put(std::mem::take(&mut c.buf));
    }
    let timeouts = shard.snapshot().timeouts;
    if !c.stream.has_buffered() {
        // An HTTP/2 stream carries one request: nothing more to wait for.
        let Some(tcp) = c.stream.tcp() else {
            return false;
        };
        let Some(key) = shard.drain.park_idle(tcp.as_raw_fd()) else {
            return false;
        };
        let ready = monoio::time::timeout(timeouts.keepalive_idle, tcp.readable(false)).await;
        shard.drain.unpark(key);
        if !matches!(ready, Ok(Ok(()))) || shard.drain.draining() {
            return false;
        }
    } else if shard.drain.draining() && c.stream.tcp().is_some() {
        // Draining: no new request on a connection. (An HTTP/2 stream was accepted
        // before its connection sent GOAWAY: its request is served.)
        return false;
    }
    c.buf = shard.bufs.take();
    let r = read_more(&mut c.stream, &mut c.buf, timeouts.client_header).await;
    matches!(r, Read::Data(_))
}

/// Reads until a whole head is parsed (within `client-header`), then serves it.
async fn handle(shard: &Shard, c: &mut Client, s: &mut Scratch) -> Next {
    let snap = shard.snapshot();
    let deadline = monoio::time::Instant::now() + snap.timeouts.client_header;
    let head = loop {
        // h2c with prior knowledge: the preface, possibly still arriving.
        let n = c.buf.len().min(PREFACE.len());
        let preface = snap.http2.h2c && c.stream.tcp().is_some() && c.buf[..n] == PREFACE[..n];
        if preface && n == PREFACE.len() {
            return Next::H2c;
        }
        match parse_request(&c.buf, &snap.head_limits, &mut s.req_headers) {
            _ if preface => {}
            Ok(head) => break head,
            Err(HeadError::Incomplete) => {}
            Err(e) => {
                send_error(&mut c.stream, &mut s.out, head_error(e), true).await;
                c.linger = true;
                return Next::Close;
            }
        }
        if c.buf.len() == c.buf.capacity() {
            let grow = c.buf.capacity().min(
                snap.head_limits
                    .max_header_bytes
                    .saturating_sub(c.buf.len()),
            );
            if grow == 0 {
                send_error(
                    &mut c.stream,
                    &mut s.out,
                    GatewayError::HeaderTooLarge,
                    true,
                )
                .await;
                return Next::Close;
            }
            c.buf.reserve_exact(grow);
        }
        let left = deadline.saturating_duration_since(monoio::time::Instant::now());
        match read_more(&mut c.stream, &mut c.buf, left).await {
            Read::Data(_) => {}
            // A client that stops mid-head is dropped without a response.
            Read::Eof | Read::TimedOut | Read::Failed(_) => return Next::Close,
        }
    };
    serve_request(shard, &snap, c, s, head).await
}

/// `snap`: this request's configuration (taken once, in `handle`), whatever a reload
/// installs meanwhile.
async fn serve_request(
    shard: &Shard,
    snap: &Arc<Snapshot>,
    c: &mut Client,
    s: &mut Scratch,
    head: RequestHead,
) -> Next {
    let has_body = head.framing != BodyFraming::None;
    let method = head.method.get(&c.buf);
    let path = head.path.get(&c.buf);

    if path == STATUS_PATH && (method == b"GET" || method == b"HEAD") && !has_body {
        consume(&mut c.buf, head.head_len);
        s.out.clear();
        s.out
            .extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n");
        if !head.keep_alive {
            s.out.extend_from_slice(b"connection: close\r\n");
        }
        s.out.extend_from_slice(b"\r\n");
        let ok = write_all(&mut c.stream, &mut s.out).await.is_ok();
        return if ok && head.keep_alive {
            Next::KeepAlive
        } else {
            Next::Close
        };
    }

    let query = head.query.map(|q| q.get(&c.buf));
    let Some(route) = snap.routes.lookup(method, path, query, &mut s.params) else {
        // A CORS preflight no operation matches runs the API's policy (APIM's built-in
        // preflight handling), which answers it with its cors policy.
        if method == b"OPTIONS" {
            if let Some((api, rest_start)) = snap.routes.match_api(path) {
                if let Some(program) = &snap.programs.apis[api as usize] {
                    let route = RouteMatch {
                        api: ApiIdx(api),
                        op: OpIdx(u32::MAX),
                        rest_start,
                    };
                    let anonymous = Identity::anonymous();
                    return super::policy::serve(
                        shard, snap, c, s, &head, route, program, &anonymous, None,
                    )
                    .await;
                }
            }
        }
        return reject(c, s, &head, GatewayError::OperationNotFound).await;
    };
    if let BodyFraming::Length(n) = head.framing {
        if n > snap.limits.max_body_bytes {
            return reject(c, s, &head, GatewayError::BodyTooLarge).await;
        }
    }
    let api = snap.routes.api(route.api);
    let (Some(service), Some(dest)) = (
        api.service_url.as_ref(),
        snap.api_backends[route.api.0 as usize].as_ref(),
    ) else {
        return reject(c, s, &head, GatewayError::NoBackendUrl).await;
    };
    let (identity, verdict) = identify(
        &snap.access,
        route.api.0,
        &c.buf,
        &head,
        &s.req_headers,
        unix_now(),
    );
    if let Err(refused) = verdict {
        // APIM runs on-error for a refused key, in the API's (not a product's) context.
        return match snap.programs.select(None, route.api.0, route.op.0) {
            Some(program) => {
                super::policy::serve(
                    shard,
                    snap,
                    c,
                    s,
                    &head,
                    route,
                    program,
                    &identity,
                    Some(refused),
                )
                .await
            }
            None => reject(c, s, &head, refused).await,
        };
    }
    let product = identity.caller.product;
    if let Some(program) = snap.programs.select(product, route.api.0, route.op.0) {
        return super::policy::serve(shard, snap, c, s, &head, route, program, &identity, None)
            .await;
    }
    let exchange = Exchange {
        head: &head,
        route,
        service,
        dest,
        query_cut: identity.query_cut,
    };
    forward(shard, snap, c, s, exchange).await
}

/// Answers with a gateway error before anything was forwarded. A request with a body
/// that was not read closes the connection (its framing can no longer be trusted).
async fn reject(c: &mut Client, s: &mut Scratch, head: &RequestHead, err: GatewayError) -> Next {
    let close = !head.keep_alive || head.framing != BodyFraming::None;
    consume(&mut c.buf, head.head_len);
    c.linger = head.framing != BodyFraming::None;
    let sent = send_error(&mut c.stream, &mut s.out, err, close).await;
    if sent && !close && !err.closes_connection() {
        Next::KeepAlive
    } else {
        Next::Close
    }
}

/// Wall-clock seconds, for subscription start and end dates.
fn unix_now() -> i64 {
    (crate::limits::now_ms() / 1000) as i64
}

fn head_error(e: HeadError) -> GatewayError {
    match e {
        HeadError::BadRequest(why) => GatewayError::BadRequest(why),
        HeadError::HeaderTooLarge | HeadError::TooManyHeaders => GatewayError::HeaderTooLarge,
        HeadError::UriTooLong => GatewayError::UriTooLong,
        HeadError::VersionNotSupported => GatewayError::VersionNotSupported,
        HeadError::Incomplete => GatewayError::BadRequest("incomplete head"),
    }
}

#[cfg(test)]
mod sizes {
    //! What an idle connection's task weighs: the size of the futures it holds.

    use super::*;

    fn size<F: std::future::Future>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn connection_futures_stay_small() {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let loaded =
                tollgate_core::config::load_str("apis: []\n", std::path::Path::new("t.yaml"))
                    .unwrap();
            let snapshot = Arc::new(crate::snapshot::Snapshot::build(&loaded).unwrap());
            let peers = crate::runtime::ShardPeers {
                keys: None,
                limits: None,
                config: None,
                shards: 1,
            };
            let shard = Rc::new(Shard::new(0, snapshot, peers));
            let stream = TcpStream::connect(addr).await.unwrap();
            let f = serve(shard.clone(), stream, addr);
            let serve_size = size(&f);
            drop(f);
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut client = Client {
                stream: ClientStream::Conn(ClientConn::Plain(stream)),
                peer: addr,
                session: crate::tls::SessionInfo::default(),
                buf: Vec::new(),
                linger: false,
            };
            let mut scratch = shard.scratch.take();
            let h = size(&handle(&shard, &mut client, &mut scratch));
            let w = size(&wait_for_request(&shard, &mut client));
            use monoio::io::AsyncReadRent;
            let r = size(&client.stream.read(Vec::<u8>::new()));
            let ClientStream::Conn(ClientConn::Plain(tcp)) = &mut client.stream else {
                unreachable!()
            };
            let p = size(&tcp.read(Vec::<u8>::new()));
            eprintln!("connection task {serve_size} bytes; handle {h}; wait_for_request {w}; client read {r}; tcp read {p}");
            assert!(serve_size < 16 * 1024, "{serve_size}");
        });
    }
}
