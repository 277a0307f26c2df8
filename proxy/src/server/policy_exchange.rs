//! Copying a parsed request into the request arena as the policy engine's [`Exchange`]:
//! head, headers (hop-by-hop left out), template parameters, what the gateway knows of
//! the call (API, operation, subscription, product), and the shard's services (limits,
//! key sets, throttling counters).

use std::fmt::Write as _;

use bumpalo::Bump;
use tollgate_core::routing::RouteMatch;
use tollgate_policies::exchange::{
    CallInfo, Exchange, HeaderList, ProductInfo, RequestState, SubscriptionInfo,
};

use crate::http::v1::request::RequestHead;

use super::connection::Client;
use super::identify::Identity;
use super::request_head::is_hop_by_hop;
use super::scratch::Scratch;
use super::Shard;
use crate::snapshot::Snapshot;

pub(super) fn text<'a>(arena: &'a Bump, bytes: &[u8]) -> &'a str {
    arena.alloc_str(&String::from_utf8_lossy(bytes))
}

/// Copies the parsed request into the arena.
#[allow(clippy::too_many_arguments)]
pub(super) fn new_exchange<'a>(
    shard: &'a Shard,
    snap: &'a Snapshot,
    c: &Client,
    s: &Scratch,
    head: &RequestHead,
    route: RouteMatch,
    identity: &Identity,
    arena: &'a Bump,
) -> Exchange<'a> {
    let (req_headers, params) = (&s.req_headers[..], &s.params[..]);
    let buf = &c.buf;
    let path_full = head.path.get(buf);
    let query_raw = head.query.map_or(&b""[..], |q| q.get(buf));
    let mut headers = HeaderList::new(arena);
    for h in req_headers {
        if !is_hop_by_hop(buf, req_headers, h) {
            headers.push(text(arena, h.name.get(buf)), text(arena, h.value.get(buf)));
        }
    }
    let api = snap.routes.api(route.api);
    // No operation: a CORS preflight running the API's policy.
    let op = api.operations.get(route.op.0 as usize);
    let mut matched = bumpalo::collections::Vec::new_in(arena);
    let mut matched_query = bumpalo::collections::Vec::new_in(arena);
    for p in params.iter().filter(|_| op.is_some()) {
        let Some(name) = op.and_then(|o| o.param_names.get(p.name as usize)) else {
            continue;
        };
        let name: &'a str = arena.alloc_str(name);
        let src = if p.in_query { query_raw } else { path_full };
        let value = text(
            arena,
            src.get(p.start as usize..p.end as usize).unwrap_or(b""),
        );
        matched.push((name, value));
    }
    for q in op.iter().flat_map(|o| o.template.query.iter()) {
        matched_query.push(&*arena.alloc_str(&q.name));
    }
    let rest = text(arena, &path_full[route.rest_start..]);
    let original_query = text(arena, query_raw);
    // The subscription key's query parameter is not part of the forwarded URL.
    let query = match &identity.query_cut {
        Some(cut) => {
            let (before, after) = super::identify::cut_query(query_raw, cut);
            let mut q =
                bumpalo::collections::Vec::with_capacity_in(before.len() + after.len(), arena);
            q.extend_from_slice(before);
            q.extend_from_slice(after);
            text(arena, &q)
        }
        None => original_query,
    };
    let host = head.host.map_or("", |h| text(arena, h.get(buf)));
    let mut ip = bumpalo::collections::String::new_in(arena);
    let _ = write!(ip, "{}", c.peer.ip());
    let request = RequestState {
        method: text(arena, head.method.get(buf)),
        scheme: if c.stream.is_tls() { "https" } else { "http" },
        host,
        port: if c.stream.is_tls() { 443 } else { 80 },
        path: rest,
        query,
        headers,
        body: None,
        ip: ip.into_bump_str(),
        original_path: text(arena, path_full),
        original_query,
        matched: matched.into_bump_slice(),
        matched_query_names: matched_query.into_bump_slice(),
    };
    let service_url = api.service_url.as_ref().map(|u| {
        let scheme = match u.scheme {
            tollgate_core::routing::service_url::Scheme::Http => "http",
            tollgate_core::routing::service_url::Scheme::Https => "https",
        };
        (
            scheme,
            &*arena.alloc_str(&u.host),
            i32::from(u.port),
            &*arena.alloc_str(&u.base_path),
        )
    });
    let info = CallInfo {
        api_id: arena.alloc_str(&api.id),
        api_name: arena.alloc_str(&api.id),
        api_path: arena.alloc_str(&api.path),
        service_url,
        operation_id: op.map_or("", |o| arena.alloc_str(&o.id)),
        operation_name: op.map_or("", |o| arena.alloc_str(&o.id)),
        operation_method: op.map_or("", |o| arena.alloc_str(&o.method)),
        url_template: op.map_or("", |o| arena.alloc_str(&o.template.source)),
        gateway_id: arena.alloc_str(&snap.gateway_name),
        region: "",
        service_name: "tollgate",
        request_id: shard.request_id(),
        subscription: identity.caller.subscription.and_then(|(i, _)| {
            let sub = snap.access.subscriptions.get(i as usize)?;
            Some(SubscriptionInfo {
                id: &sub.id,
                name: &sub.name,
                key: text(arena, identity.key()),
                primary_key: sub.primary_key.as_deref().unwrap_or(""),
                secondary_key: sub.secondary_key.as_deref().unwrap_or(""),
                start: sub.start,
                end: sub.end,
            })
        }),
        product: identity.caller.product.and_then(|p| {
            let p = snap.access.products.get(p as usize)?;
            Some(ProductInfo {
                id: &p.id,
                name: &p.name,
                published: p.published,
                subscription_required: p.subscription_required,
                approval_required: p.approval_required,
            })
        }),
        client_cert: c
            .session
            .peer_cert
            .as_deref()
            .map(|p| client_cert_info(arena, p)),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let mut ex = Exchange::new(arena, request, info, now, shard.random_seed());
    ex.limiter = Some(&shard.throttle);
    ex.jwt = Some(&shard.jwt);
    ex.throttler = Some(&shard.throttle);
    ex
}

/// The client's certificate, copied into the request's arena for policies.
fn client_cert_info<'a>(
    arena: &'a Bump,
    p: &crate::tls::PeerCert,
) -> &'a tollgate_policies::exchange::ClientCertInfo<'a> {
    let i = &p.info;
    let names = arena.alloc_slice_fill_iter(i.dns_names.iter().map(|n| &*arena.alloc_str(n)));
    arena.alloc(tollgate_policies::exchange::ClientCertInfo {
        subject: arena.alloc_str(&i.subject),
        issuer: arena.alloc_str(&i.issuer),
        common_name: arena.alloc_str(i.common_name.as_deref().unwrap_or("")),
        thumbprint: arena.alloc_str(&i.thumbprint),
        serial_number: arena.alloc_str(&i.serial),
        dns_names: names,
        not_before: i.not_before,
        not_after: i.not_after,
        trusted: p.trusted,
        revoked: p.revoked,
        issuer_thumbprint: arena.alloc_str(p.issuer_thumbprint.as_deref().unwrap_or("")),
    })
}
