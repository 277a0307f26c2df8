//! Side requests of `send-request` / `send-one-way-request`: an HTTP/1.1 call from the
//! shard, through the same backend pool, with the response buffered into the request
//! arena (bounded) so expressions can read it.
//!
//! Shards do not resolve names: the host must be an IP address or a host that an API's
//! service URL or a backend names (resolved when the configuration loaded).

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bumpalo::Bump;
use tollgate_core::routing::{service_url::Scheme, ServiceUrl};
use tollgate_policies::exchange::{HeaderList, PendingSend, ResponseState};
use tollgate_policies::pipeline::SendResult;

use crate::http::v1::response::{parse_response, ResponseFraming};

use super::buffer::{collect, BodyKind, CollectError};
use super::io::{consume, read_more, write_all, Read};
use super::scratch::Scratch;
use crate::snapshot::Snapshot;
use crate::upstream::{BackendStream, Dest, Pool};

/// Largest side-response body kept for expressions.
const MAX_SIDE_BODY: usize = 1 << 20;

/// Performs `send` and returns what `pipeline::after_send` needs.
pub async fn perform<'a>(
    pool: &Pool,
    snapshot: &Snapshot,
    s: &mut Scratch,
    send: &PendingSend<'a>,
    default_url: &str,
    arena: &'a Bump,
) -> SendResult<'a> {
    let url = if send.url.is_empty() {
        default_url
    } else {
        send.url
    };
    let fail = |reason: &'static str, message: String| SendResult::Failed { reason, message };
    let Some((base, path)) = split_url(url) else {
        return fail(
            "BackendConnectionFailure",
            format!("send-request: `{url}` is not an absolute http URL"),
        );
    };
    let target = match ServiceUrl::parse_ref(base) {
        Ok(t) => t,
        Err(e) => return fail("BackendConnectionFailure", format!("send-request: {e}")),
    };
    let Some(dest) = resolve(snapshot, target.host, target.port, target.scheme) else {
        return fail(
            "BackendConnectionFailure",
            format!(
                "send-request: cannot resolve `{}` on the request path; use an IP address or a host an API service-url or backend names",
                target.host
            ),
        );
    };
    let addr = dest.addr;
    let mut up = match pool.take(&dest) {
        Some(up) => up,
        None => match pool.connect(&dest, snapshot.timeouts.backend_connect).await {
            Ok(up) => up,
            Err(_) => {
                return fail(
                    "BackendConnectionFailure",
                    format!("send-request: cannot connect to {addr}"),
                )
            }
        },
    };
    s.out.clear();
    let _ = write!(
        s.out,
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        send.method, path, target.authority
    );
    for (name, value) in send.headers.lines() {
        if [
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "keep-alive",
        ]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let _ = write!(s.out, "{name}: {value}\r\n");
    }
    let body = send.body.unwrap_or(b"");
    if !body.is_empty() || !matches!(send.method, "GET" | "HEAD" | "DELETE" | "OPTIONS") {
        let _ = write!(s.out, "Content-Length: {}\r\n", body.len());
    }
    s.out.extend_from_slice(b"\r\n");
    s.out.extend_from_slice(body);
    if write_all(&mut up.stream, &mut s.out).await.is_err() {
        return fail(
            "BackendConnectionFailure",
            format!("send-request: {addr} closed the connection"),
        );
    }
    match read_response(
        snapshot,
        s,
        &mut up.stream,
        send.method == "HEAD",
        send.timeout,
        arena,
    )
    .await
    {
        Ok((resp, reusable)) => {
            if reusable {
                pool.put(up);
            }
            SendResult::Response(resp)
        }
        Err(failure) => failure,
    }
}

/// `http://host:port/path?q` → (`http://host:port`, `/path?q`).
fn split_url(url: &str) -> Option<(&str, &str)> {
    let after = url.find("://")? + 3;
    match url[after..].find(['/', '?']) {
        Some(i) if url.as_bytes()[after + i] == b'/' => {
            Some((&url[..after + i], &url[after + i..]))
        }
        Some(_) => None,
        None => Some((url, "/")),
    }
}

/// The destination of a side request: a host the configuration names (with its TLS
/// settings when it is https there), or an IP address.
fn resolve(snapshot: &Snapshot, host: &str, port: u16, scheme: Scheme) -> Option<Dest> {
    let known = snapshot
        .known_hosts
        .iter()
        .find(|(h, p, _)| h.eq_ignore_ascii_case(host) && *p == port)
        .map(|(_, _, d)| d);
    let addr = match known {
        Some(d) if (scheme == Scheme::Https) == d.tls.is_some() => return Some(d.clone()),
        Some(d) => d.addr,
        None => SocketAddr::new(host.parse::<IpAddr>().ok()?, port),
    };
    let tls = match scheme {
        Scheme::Https => Some(crate::upstream::tls::dynamic(host)?),
        Scheme::Http => None,
    };
    Some(Dest {
        addr,
        tls,
        h2: false,
    })
}

async fn read_response<'a>(
    snapshot: &Snapshot,
    s: &mut Scratch,
    stream: &mut BackendStream,
    is_head: bool,
    timeout: Duration,
    arena: &'a Bump,
) -> Result<(ResponseState<'a>, bool), SendResult<'a>> {
    let limits = &snapshot.limits;
    let deadline = monoio::time::Instant::now() + timeout;
    let timed_out = || SendResult::Failed {
        reason: "Timeout",
        message: "send-request: the response did not arrive in time".into(),
    };
    let broken = |why: &str| SendResult::Failed {
        reason: "BackendConnectionFailure",
        message: format!("send-request: {why}"),
    };
    s.ubuf.clear();
    let head = loop {
        if !s.ubuf.is_empty() {
            match parse_response(
                &s.ubuf,
                is_head,
                limits.max_header_bytes,
                limits.max_headers,
                &mut s.resp_headers,
            ) {
                Ok(h) if h.is_interim() => {
                    consume(&mut s.ubuf, h.head_len);
                    continue;
                }
                Ok(h) => break h,
                Err(crate::http::v1::HeadError::Incomplete) => {}
                Err(_) => return Err(broken("malformed response")),
            }
        }
        if s.ubuf.len() == s.ubuf.capacity() {
            s.ubuf.reserve(s.ubuf.capacity());
        }
        let left = deadline.saturating_duration_since(monoio::time::Instant::now());
        match read_more(stream, &mut s.ubuf, left).await {
            Read::Data(_) => {}
            Read::TimedOut => return Err(timed_out()),
            _ => return Err(broken("the connection closed before a response")),
        }
    };
    let mut headers = HeaderList::new(arena);
    for h in s.resp_headers.iter() {
        let name = String::from_utf8_lossy(h.name.get(&s.ubuf));
        let value = String::from_utf8_lossy(h.value.get(&s.ubuf));
        headers.push(arena.alloc_str(&name), arena.alloc_str(&value));
    }
    let reason: &'a str = arena.alloc_str(&String::from_utf8_lossy(head.reason.get(&s.ubuf)));
    consume(&mut s.ubuf, head.head_len);
    let kind = match head.framing {
        ResponseFraming::None => BodyKind::None,
        ResponseFraming::Length(n) => BodyKind::Length(n),
        ResponseFraming::Chunked => BodyKind::Chunked,
        ResponseFraming::UntilClose => BodyKind::UntilClose,
    };
    let left = deadline.saturating_duration_since(monoio::time::Instant::now());
    let body = match collect(stream, &mut s.ubuf, kind, MAX_SIDE_BODY, left, arena).await {
        Ok(b) => b,
        Err(CollectError::TimedOut) => return Err(timed_out()),
        Err(CollectError::TooLarge) => return Err(broken("response body larger than 1 MiB")),
        Err(_) => return Err(broken("the response body was cut or malformed")),
    };
    let reusable =
        head.keep_alive && head.framing != ResponseFraming::UntilClose && s.ubuf.is_empty();
    Ok((
        ResponseState {
            status: head.status,
            reason,
            headers,
            body: Some(body),
        },
        reusable,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://10.0.0.1:8080/a/b?x=1"),
            Some(("http://10.0.0.1:8080", "/a/b?x=1"))
        );
        assert_eq!(split_url("http://h"), Some(("http://h", "/")));
        assert_eq!(split_url("http://h?x"), None);
        assert_eq!(split_url("h/x"), None);
    }
}
