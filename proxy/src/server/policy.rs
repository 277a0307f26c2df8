//! The policy path: requests whose operation has a compiled program.
//!
//! The parsed head is copied into the request arena as an [`Exchange`], the program's
//! inbound (and backend section up to `forward-request`) runs against it, the backend is
//! called with the request as the policies left it, and the backend's status and headers
//! go through the rest of the backend section and outbound before the response is
//! written. `return-response` and errors (with on-error) answer without the backend.
//! Bodies still stream: a policy that replaces one (`set-body`) sends its own instead.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bumpalo::Bump;
use tollgate_core::error::GatewayError;
use tollgate_core::routing::{RouteMatch, ServiceUrl, UrlRef};
use tollgate_policies::exchange::{BackendChoice, Exchange, HeaderList, ResponseState};
use tollgate_policies::pipeline::{self, Next as Flow, SendResult};
use tollgate_policies::program::Program;
use tollgate_policies::vm::Failure;

use crate::http::v1::chunked::ChunkedScanner;
use crate::http::v1::request::{BodyFraming, RequestHead};
use crate::upstream::Dest;

use super::buffer::{collect, BodyKind, CollectError};
use super::connection::{Client, Next};
use super::forward::{exchange, send_response_body, take_buffered_body, Failed, ReqInfo};
use super::identify::Identity;
use super::io::{consume, write_all};
use super::policy_exchange::{new_exchange, text};
use super::relay::Framing;
use super::request_head::is_hop_by_hop;
use super::response_head::ClientConn;
use super::scratch::Scratch;
use super::side_request;
use super::Shard;
use crate::snapshot::Snapshot;

/// Largest body a policy may buffer (request bodies also obey `max-body-bytes`).
const POLICY_BODY_LIMIT: u64 = 16 << 20;

/// Runs `program` for the request. `refused`: the subscription key did not pass, so only
/// on-error runs (APIM lets it change the 401).
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    shard: &Shard,
    snap: &Arc<Snapshot>,
    c: &mut Client,
    s: &mut Scratch,
    head: &RequestHead,
    route: RouteMatch,
    program: &Arc<Program>,
    identity: &Identity,
    refused: Option<GatewayError>,
) -> Next {
    let arena = shard.arenas.take();
    let next = run(
        shard, snap, c, s, head, route, program, identity, refused, &arena,
    )
    .await;
    shard.arenas.put(arena);
    next
}

#[allow(clippy::too_many_arguments)]
async fn run(
    shard: &Shard,
    snap: &Arc<Snapshot>,
    c: &mut Client,
    s: &mut Scratch,
    head: &RequestHead,
    route: RouteMatch,
    program: &Arc<Program>,
    identity: &Identity,
    refused: Option<GatewayError>,
    arena: &Bump,
) -> Next {
    let info = ReqInfo::of(head, &c.buf);
    let mut ex = new_exchange(shard, snap, c, s, head, route, identity, arena);
    let has_body = head.framing != BodyFraming::None;
    consume(&mut c.buf, head.head_len);
    let mut scratch = tollgate_policies::expr::ExprScratch::default();

    let mut backend_answer = None;
    // Whether the client's body went to the backend (else it is unread: close after).
    let mut body_sent = !has_body;
    if program.reads_request_body && has_body && refused.is_none() {
        // A policy reads the body (or buffer-request-body): read it all, bounded.
        if info.expect_continue {
            s.out.clear();
            s.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            if write_all(&mut c.stream, &mut s.out).await.is_err() {
                return Next::Close;
            }
        }
        let kind = match head.framing {
            BodyFraming::None => BodyKind::None,
            BodyFraming::Length(n) => BodyKind::Length(n),
            BodyFraming::Chunked => BodyKind::Chunked,
        };
        let limit = snap.limits.max_body_bytes.min(POLICY_BODY_LIMIT) as usize;
        match collect(
            &mut c.stream,
            &mut c.buf,
            kind,
            limit,
            snap.timeouts.client_header,
            arena,
        )
        .await
        {
            Ok(b) => {
                ex.request.body = Some(b);
                body_sent = true;
            }
            Err(CollectError::TooLarge) => return reject(c, s, GatewayError::BodyTooLarge).await,
            Err(CollectError::Malformed) => {
                return reject(c, s, GatewayError::BadRequest("invalid chunked body")).await
            }
            Err(_) => return Next::Close,
        }
    }
    let mut flow = match refused {
        Some(err) => {
            let failure = Failure {
                status: err.status(),
                message: err.message().replace("to an API", "to this API"),
                source: err.source(),
                reason: err.reason(),
                at: tollgate_policies::program::InsnIdx(0),
            };
            pipeline::refuse(program, failure, &mut ex, &mut scratch)
        }
        None => pipeline::start(program, &mut ex, &mut scratch),
    };
    let mut redirects = 0u32;
    // After a redirect the request path is the Location's, not relative to a base path.
    let mut absolute_path = false;
    let mut waits = super::policy_wait::Waits::default();
    loop {
        let (resume, settings) = match flow {
            Flow::Respond => break,
            Flow::Wait { delay, resume } => {
                monoio::time::sleep(delay).await;
                flow = pipeline::resume(program, resume, &mut ex, &mut scratch);
                continue;
            }
            Flow::Budget { resume } => {
                if ex.queue_request.is_some() {
                    // Watched only with nothing more read from the client (a pipelined
                    // request, body bytes): it is then surely gone.
                    let client = c.stream.tcp().filter(|_| c.buf.is_empty());
                    if !waits.in_line(shard, &mut ex, client).await {
                        // The client hung up while in line: nothing to answer.
                        return Next::Close;
                    }
                } else {
                    waits.for_budget(shard, &mut ex).await;
                }
                flow = pipeline::resume(program, resume, &mut ex, &mut scratch);
                waits.after_resume(&mut ex);
                continue;
            }
            Flow::Keys { resume } => {
                waits.for_keys(shard, &mut ex, snap.openid.wait).await;
                flow = pipeline::resume(program, resume, &mut ex, &mut scratch);
                continue;
            }
            Flow::Send { resume } => {
                let result = match ex.pending_send.as_ref() {
                    Some(send) if send.one_way => {
                        spawn_one_way(shard, snap, send, &default_send_url(snap, route, &ex));
                        SendResult::Failed {
                            reason: "",
                            message: String::new(),
                        }
                    }
                    Some(send) => {
                        let url = default_send_url(snap, route, &ex);
                        side_request::perform(&shard.pool, snap, s, send, &url, arena).await
                    }
                    None => SendResult::Failed {
                        reason: "",
                        message: String::new(),
                    },
                };
                flow = pipeline::after_send(program, resume, result, &mut ex, &mut scratch);
                continue;
            }
            Flow::Forward { resume, settings } => (resume, settings),
        };
        // A retried forward: the previous answer (and its connection) is dropped.
        backend_answer = None;
        let streams_client_body = ex.request.body.is_none() && has_body;
        if streams_client_body && body_sent {
            let f = Failure {
                status: 500,
                message:
                    "the request body was streamed to the backend already and cannot be sent again \
                          (buffer-request-body is not supported yet)"
                        .into(),
                source: "forward-request",
                reason: "BackendConnectionFailure",
                at: resume,
            };
            flow = pipeline::fail(program, f, &mut ex, &mut scratch);
            continue;
        }
        let target = match backend_target(snap, route, &ex) {
            Ok(t) => t,
            Err(message) => {
                let f = Failure::backend_service_invalid(message, resume);
                flow = pipeline::fail(program, f, &mut ex, &mut scratch);
                continue;
            }
        };
        // The upstream request as the policies left it.
        s.out.clear();
        let shape = HeadShape {
            absolute_path,
            websocket: info.websocket,
            http10: info.http10,
        };
        write_request_head(&mut s.out, &ex, &target.0, c.peer.ip(), snap, shape);
        let mut body = match (ex.request.body, head.framing) {
            (Some(_), _) | (None, BodyFraming::None) => Framing::Length(0),
            (None, BodyFraming::Length(n)) => Framing::Length(n),
            (None, BodyFraming::Chunked) => {
                Framing::Chunked(ChunkedScanner::new(snap.limits.max_body_bytes))
            }
        };
        if let Some(b) = ex.request.body {
            s.out.extend_from_slice(b);
        } else if take_buffered_body(&mut body, &mut c.buf, &mut s.out).is_err() {
            return reject(c, s, GatewayError::BadRequest("invalid chunked body")).await;
        }
        match exchange(
            shard,
            snap,
            c,
            s,
            &target.1,
            &mut body,
            info,
            settings.timeout,
        )
        .await
        {
            Ok((up, resp)) => {
                body_sent |= streams_client_body;
                let mut headers = HeaderList::new(arena);
                for h in s.resp_headers.iter() {
                    if !is_hop_by_hop(&s.ubuf, &s.resp_headers, h) {
                        headers.push(
                            text(arena, h.name.get(&s.ubuf)),
                            text(arena, h.value.get(&s.ubuf)),
                        );
                    }
                }
                ex.response = Some(ResponseState {
                    status: resp.status,
                    reason: text(arena, resp.reason.get(&s.ubuf)),
                    headers,
                    body: None,
                });
                consume(&mut s.ubuf, resp.head_len);
                if program.reads_response_body {
                    // An outbound policy reads the body: buffer it (bounded) first.
                    let kind = match resp.framing {
                        crate::http::v1::ResponseFraming::None => BodyKind::None,
                        crate::http::v1::ResponseFraming::Length(n) => BodyKind::Length(n),
                        crate::http::v1::ResponseFraming::Chunked => BodyKind::Chunked,
                        crate::http::v1::ResponseFraming::UntilClose => BodyKind::UntilClose,
                    };
                    let mut up = up;
                    match collect(
                        &mut up.stream,
                        &mut s.ubuf,
                        kind,
                        POLICY_BODY_LIMIT as usize,
                        settings.timeout,
                        arena,
                    )
                    .await
                    {
                        Ok(b) => {
                            if let Some(r) = ex.response.as_mut() {
                                r.body = Some(b);
                                r.headers.remove("transfer-encoding");
                                r.headers.remove("content-length");
                            }
                            let clean = resp.keep_alive
                                && kind != BodyKind::UntilClose
                                && s.ubuf.is_empty();
                            if clean {
                                shard.pool.put(up);
                            }
                        }
                        Err(e) => {
                            let f = Failure {
                                status: 502,
                                message: format!(
                                    "the backend's response body could not be read ({e:?})"
                                ),
                                source: "forward-request",
                                reason: "BackendConnectionFailure",
                                at: resume,
                            };
                            flow = pipeline::fail(program, f, &mut ex, &mut scratch);
                            continue;
                        }
                    }
                    flow = pipeline::after_forward(program, resume, &mut ex, &mut scratch);
                } else if let Some(hop) = redirect_target(
                    settings,
                    &resp,
                    &ex,
                    redirects,
                    body_sent && has_body && !program.reads_request_body,
                ) {
                    // forward-request follow-redirects: forward again to the Location
                    // (the redirect's connection and body are dropped).
                    drop(up);
                    redirects += 1;
                    absolute_path = apply_redirect(&mut ex, hop, resp.status, arena);
                    flow = Flow::Forward { resume, settings };
                    continue;
                } else {
                    flow = pipeline::after_forward(program, resume, &mut ex, &mut scratch);
                    backend_answer = Some((up, resp));
                }
            }
            Err(Failed::Answered(next)) => return next,
            Err(Failed::Backend {
                err,
                request_consumed,
            }) => {
                body_sent |= streams_client_body && request_consumed;
                let f = Failure {
                    status: err.status(),
                    message: err.to_string(),
                    source: "forward-request",
                    reason: err.reason(),
                    at: resume,
                };
                flow = pipeline::fail(program, f, &mut ex, &mut scratch);
            }
        }
    }
    // Bytes the call moved, for quota bandwidth: the request body and the response body
    // where their lengths are known (a chunked body the gateway relays counts as 0).
    let request_bytes = match (ex.request.body, head.framing) {
        (Some(b), _) => b.len() as u64,
        (None, BodyFraming::Length(n)) => n,
        _ => 0,
    };
    let response_bytes = match (&backend_answer, ex.response.as_ref()) {
        (_, Some(r)) if r.body.is_some() => r.body.map_or(0, |b| b.len() as u64),
        (Some((_, h)), _) => match h.framing {
            crate::http::v1::ResponseFraming::Length(n) => n,
            _ => 0,
        },
        _ => 0,
    };
    let next = match (backend_answer, ex.response.as_ref()) {
        // A WebSocket handshake the backend accepted: from now on bytes flow both ways.
        (Some((up, resp_head)), Some(r)) if info.websocket && resp_head.status == 101 => {
            s.out.clear();
            write_response_head(&mut s.out, r, ClientConn::Upgrade, None);
            if write_all(&mut c.stream, &mut s.out).await.is_err() {
                return Next::Close;
            }
            let pending = std::mem::replace(
                &mut s.ubuf,
                Vec::with_capacity(super::scratch::UPSTREAM_BUF),
            );
            Next::Tunnel(Box::new(super::tunnel::Tunnel {
                backend: up.stream,
                backend_pending: pending,
            }))
        }
        // Relay the backend's body under the (possibly changed) status and headers.
        (Some((up, resp_head)), Some(r)) if r.body.is_none() => {
            let until_close = resp_head.framing == crate::http::v1::ResponseFraming::UntilClose;
            let conn = client_conn(shard, info, until_close, !body_sent);
            c.linger = !body_sent;
            s.out.clear();
            write_response_head(&mut s.out, r, conn, None);
            send_response_body(shard, snap, c, s, up, &resp_head, conn, info).await
        }
        // A response the gateway holds in full; a backend body is dropped with its connection.
        _ => respond(c, s, &ex, info, !body_sent).await,
    };
    pipeline::after_response(
        program,
        &mut ex,
        request_bytes + response_bytes,
        &mut scratch,
    );
    next
}

/// Writes a response the gateway holds in full (return-response, errors, replaced body).
async fn respond(
    c: &mut Client,
    s: &mut Scratch,
    ex: &Exchange<'_>,
    info: ReqInfo,
    unread_body: bool,
) -> Next {
    let close = !info.keep_alive || unread_body;
    let conn = ClientConn::keep_alive_unless(close, info.http10);
    s.out.clear();
    let empty = ResponseState {
        status: 200,
        reason: "OK",
        headers: HeaderList::new(ex.arena),
        body: None,
    };
    let r = ex.response.as_ref().unwrap_or(&empty);
    let body = r.body.unwrap_or(b"");
    write_response_head(&mut s.out, r, conn, Some(body.len()));
    if !info.is_head {
        s.out.extend_from_slice(body);
    }
    c.linger = unread_body;
    if write_all(&mut c.stream, &mut s.out).await.is_err() || close {
        return Next::Close;
    }
    Next::KeepAlive
}

async fn reject(c: &mut Client, s: &mut Scratch, err: GatewayError) -> Next {
    super::respond::send_error(&mut c.stream, &mut s.out, err, true).await;
    c.linger = true;
    Next::Close
}

fn client_conn(shard: &Shard, info: ReqInfo, until_close: bool, unread_body: bool) -> ClientConn {
    ClientConn::keep_alive_unless(
        !info.keep_alive || until_close || unread_body || shard.drain.draining(),
        info.http10,
    )
}

/// Status line and headers of `r`. With `content_length`, framing headers are replaced
/// by that length (a body the gateway holds); otherwise the backend's framing stays.
fn write_response_head(
    out: &mut Vec<u8>,
    r: &ResponseState<'_>,
    conn: ClientConn,
    content_length: Option<usize>,
) {
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        r.status,
        if r.reason.is_empty() {
            tollgate_core::error::reason_phrase(r.status)
        } else {
            r.reason
        }
    );
    for (name, value) in r.headers.lines() {
        if content_length.is_some()
            && (name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding"))
        {
            continue;
        }
        let _ = write!(out, "{name}: {value}\r\n");
    }
    if let Some(n) = content_length {
        let _ = write!(out, "Content-Length: {n}\r\n");
    }
    match conn {
        ClientConn::KeepAlive => {}
        ClientConn::Upgrade => {
            out.extend_from_slice(b"Connection: upgrade\r\nUpgrade: websocket\r\n")
        }
        ClientConn::KeepAlive10 => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ClientConn::Close => out.extend_from_slice(b"Connection: close\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// How the backend request head differs from the exchange's request.
#[derive(Clone, Copy)]
struct HeadShape {
    /// After a redirect: the path is the Location's, not under the service's base path.
    absolute_path: bool,
    /// A WebSocket handshake: send the Upgrade fields.
    websocket: bool,
    /// An HTTP/1.0 client: ask the backend in HTTP/1.0 too, so it never answers chunked.
    http10: bool,
}

/// The backend request head from the exchange's request.
fn write_request_head(
    out: &mut Vec<u8>,
    ex: &Exchange<'_>,
    service: &UrlRef<'_>,
    client_ip: IpAddr,
    snap: &crate::snapshot::Snapshot,
    shape: HeadShape,
) {
    let r = &ex.request;
    let f = &snap.forwarded;
    let base = if shape.absolute_path {
        ""
    } else {
        service.base_path
    };
    let _ = write!(out, "{} {}", r.method, base);
    if !r.path.starts_with('/') {
        out.push(b'/');
    }
    out.extend_from_slice(r.path.as_bytes());
    if !r.query.is_empty() {
        out.push(b'?');
        out.extend_from_slice(r.query.as_bytes());
    }
    out.extend_from_slice(if shape.http10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    let mut xff: Option<&str> = None;
    for (name, value) in r.headers.lines() {
        let n = *name;
        if n.eq_ignore_ascii_case("host") && !f.preserve_host {
            continue;
        }
        if r.body.is_some()
            && (n.eq_ignore_ascii_case("content-length")
                || n.eq_ignore_ascii_case("transfer-encoding"))
        {
            continue;
        }
        if f.x_forwarded_for && n.eq_ignore_ascii_case("x-forwarded-for") {
            xff.get_or_insert(value);
            continue;
        }
        if (f.x_forwarded_proto && n.eq_ignore_ascii_case("x-forwarded-proto"))
            || (f.x_forwarded_host && n.eq_ignore_ascii_case("x-forwarded-host"))
        {
            continue;
        }
        let _ = write!(out, "{name}: {value}\r\n");
    }
    if !f.preserve_host || !r.headers.contains("host") {
        let _ = write!(out, "Host: {}\r\n", service.authority);
    }
    if let Some(b) = r.body {
        let _ = write!(out, "Content-Length: {}\r\n", b.len());
    }
    if f.x_forwarded_for {
        match xff {
            Some(prev) => {
                let _ = write!(out, "X-Forwarded-For: {prev}, {client_ip}\r\n");
            }
            None => {
                let _ = write!(out, "X-Forwarded-For: {client_ip}\r\n");
            }
        }
    }
    if f.x_forwarded_proto {
        let _ = write!(out, "X-Forwarded-Proto: {}\r\n", r.scheme);
    }
    if f.x_forwarded_host && !r.host.is_empty() {
        let _ = write!(out, "X-Forwarded-Host: {}\r\n", r.host);
    }
    if shape.websocket {
        // The handshake's hop-by-hop fields, not kept in the exchange, go back on.
        out.extend_from_slice(b"Connection: upgrade\r\nUpgrade: websocket\r\n");
    } else if shape.http10 {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Where the request goes: the API's service URL, a base URL set by a policy (an IP
/// address: shards do not resolve names), or a named backend.
fn backend_target<'s>(
    snap: &'s Snapshot,
    route: RouteMatch,
    ex: &Exchange<'s>,
) -> Result<(UrlRef<'s>, Dest), String> {
    match ex.backend {
        BackendChoice::Default => {
            let api = snap.routes.api(route.api);
            match (&api.service_url, &snap.api_backends[route.api.0 as usize]) {
                (Some(u), Some(d)) => Ok((u.as_ref(), d.clone())),
                _ => Err(GatewayError::NoBackendUrl.message().to_string()),
            }
        }
        BackendChoice::BaseUrl(u) => {
            let url = ServiceUrl::parse_ref(u)?;
            let ip: IpAddr = url
                .host
                .parse()
                .map_err(|_| format!("set-backend-service base-url `{u}`: use an IP address or a backend-id (names are resolved at load)"))?;
            let addr = SocketAddr::new(ip, url.port);
            let tls = match url.scheme {
                tollgate_core::routing::service_url::Scheme::Https => {
                    Some(crate::upstream::tls::dynamic(url.host).ok_or_else(|| {
                        format!("set-backend-service base-url `{u}`: no TLS settings")
                    })?)
                }
                tollgate_core::routing::service_url::Scheme::Http => None,
            };
            Ok((
                url,
                Dest {
                    addr,
                    tls,
                    h2: false,
                },
            ))
        }
        BackendChoice::BackendId(id) => snap
            .backends
            .iter()
            .find(|(n, _, _)| n == id)
            .map(|(_, u, d)| (u.as_ref(), d.clone()))
            .ok_or_else(|| format!("set-backend-service: no backend named `{id}`")),
    }
}

/// The URL a `mode="copy"` side request without `<set-url>` goes to: the request's own
/// backend URL.
fn default_send_url<'a>(snap: &'a Snapshot, route: RouteMatch, ex: &Exchange<'a>) -> String {
    match backend_target(snap, route, ex) {
        Ok((u, _)) => {
            let scheme = match u.scheme {
                tollgate_core::routing::service_url::Scheme::Http => "http",
                tollgate_core::routing::service_url::Scheme::Https => "https",
            };
            let q = if ex.request.query.is_empty() { "" } else { "?" };
            format!(
                "{scheme}://{}{}{}{q}{}",
                u.authority, u.base_path, ex.request.path, ex.request.query
            )
        }
        Err(_) => String::new(),
    }
}

/// `send-one-way-request`: copies the request out of the arena and sends it from a
/// separate task; nobody waits for it, failures are logged at debug level.
fn spawn_one_way(
    shard: &Shard,
    snap: &Arc<Snapshot>,
    send: &tollgate_policies::exchange::PendingSend<'_>,
    default_url: &str,
) {
    let method = send.method.to_string();
    let url = if send.url.is_empty() {
        default_url.to_string()
    } else {
        send.url.to_string()
    };
    let headers: Vec<(String, String)> = send
        .headers
        .lines()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let body = send.body.map(<[u8]>::to_vec);
    let timeout = send.timeout;
    let pool = shard.pool.clone();
    let snapshot = snap.clone();
    let max_headers = snap.limits.max_headers;
    monoio::spawn(one_way_task(
        pool,
        snapshot,
        max_headers,
        method,
        url,
        headers,
        body,
        timeout,
    ));
}

#[allow(clippy::too_many_arguments)]
async fn one_way_task(
    pool: std::rc::Rc<crate::upstream::Pool>,
    snapshot: std::sync::Arc<crate::snapshot::Snapshot>,
    max_headers: usize,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: std::time::Duration,
) {
    let arena = Bump::new();
    let mut scratch = super::scratch::ScratchPool::new(max_headers).take();
    let mut hl = HeaderList::new(&arena);
    for (n, v) in &headers {
        hl.push(arena.alloc_str(n), arena.alloc_str(v));
    }
    let pending = tollgate_policies::exchange::PendingSend {
        method: arena.alloc_str(&method),
        url: arena.alloc_str(&url),
        headers: hl,
        body: body.as_deref().map(|b| &*arena.alloc_slice_copy(b)),
        timeout,
        one_way: true,
        copy: false,
        variable: None,
        ignore_error: true,
        fail_on_error_status_code: false,
    };
    let result = side_request::perform(&pool, &snapshot, &mut scratch, &pending, "", &arena).await;
    if let SendResult::Failed { message, .. } = result {
        crate::debug!("send-one-way-request failed: {message}");
    }
}

/// Redirects followed for one forward-request at most.
const MAX_REDIRECTS: u32 = 10;

/// The `Location` to forward to next when `follow-redirects` is on and the backend
/// redirected; `None` to relay the response. A body that already streamed cannot be
/// sent again, so such a request gets the redirect itself.
fn redirect_target<'a>(
    settings: tollgate_policies::program::ForwardSettings,
    resp: &crate::http::v1::ResponseHead,
    ex: &Exchange<'a>,
    redirects: u32,
    body_streamed: bool,
) -> Option<&'a str> {
    if !settings.follow_redirects
        || !matches!(resp.status, 301 | 302 | 303 | 307 | 308)
        || redirects >= MAX_REDIRECTS
    {
        return None;
    }
    if body_streamed && resp.status != 303 {
        return None;
    }
    ex.response
        .as_ref()?
        .headers
        .values("location")?
        .first()
        .copied()
}

/// Points the exchange's request at `location` (absolute: a new base URL; relative:
/// a new path on the same backend). 303, and 301/302 after POST, become GET without a body.
fn apply_redirect<'a>(
    ex: &mut Exchange<'a>,
    location: &'a str,
    status: u16,
    arena: &'a Bump,
) -> bool {
    let (base, path_and_query) = match location.find("://") {
        Some(i) => match location[i + 3..].find('/') {
            Some(j) => (Some(&location[..i + 3 + j]), &location[i + 3 + j..]),
            None => (Some(location), "/"),
        },
        None => (None, location),
    };
    if let Some(base) = base {
        ex.backend = BackendChoice::BaseUrl(base);
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    // The backend path is relative to the service URL's base path; an absolute Location
    // path already includes it, so the base path is dropped for redirects.
    ex.request.path = path;
    ex.request.query = query;
    if status == 303 || (matches!(status, 301 | 302) && ex.request.method == "POST") {
        ex.request.method = "GET";
        ex.request.body = Some(arena.alloc_slice_copy(b""));
        ex.request.headers.remove("content-type");
    }
    ex.response = None;
    // An absolute Location path already includes any base path.
    true
}
