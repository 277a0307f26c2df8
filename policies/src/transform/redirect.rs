//! `redirect-content-urls`: masks backend URLs in bodies.
//!
//! Outbound, links to the backend in the response body are rewritten to point at the
//! gateway; inbound, links to the gateway in the request body are rewritten to point at
//! the backend (APIM's docs: "use in the inbound section for an opposite effect").
//!
//! The backend base is the API's service URL (`context.Api.ServiceUrl`: scheme, host,
//! port, base path); the gateway base is the URL the client called up to the API's path
//! suffix (`{scheme}://{host}[:port]/{api path}`). So with service URL
//! `http://backend.test/v1` and API path `orders`, `http://backend.test/v1/items/1`
//! becomes `http://gw.test/orders/items/1`. Headers (`Location`) are not touched, as in
//! APIM. Guesses (UNVERIFIED): a set-backend-service URL is not used (the API's service
//! URL is), the scheme and host compare ASCII case-insensitively, and a match must end
//! at a URL boundary (`http://backend.test/v1` does not match `…/v10`).

use std::fmt::Write as _;

use bumpalo::collections::{String as BString, Vec as BVec};
use bumpalo::Bump;

use crate::expr::{Field, UrlKind, Value};
use crate::host::PolicyHost;
use crate::program::Target;

/// The rewritten body, or `None` when nothing matched (or a base URL is unknown).
pub(super) fn rewrite<'a, H: PolicyHost<'a>>(
    host: &H,
    target: Target,
    body: &'a [u8],
) -> Option<&'a [u8]> {
    let arena = host.arena();
    let service = host.url(UrlKind::ApiService)?;
    let client = host.url(UrlKind::Original)?;
    let api_path = match host.field(Field::ApiPath) {
        Value::Str(s) => s.trim_matches('/'),
        _ => "",
    };
    let backend = bases(
        arena,
        service.scheme,
        service.host,
        service.port,
        "",
        service.path,
    );
    let gateway = bases(
        arena,
        client.scheme,
        client.host,
        client.port,
        "/",
        api_path,
    );
    // Both spellings of a default port are found; the canonical one is written.
    let (from, to) = match target {
        Target::Response => (backend, gateway[0]),
        Target::Request => (gateway, backend[0]),
    };
    let mut current: Option<&'a [u8]> = None;
    for f in from.iter().filter(|f| !f.is_empty()) {
        let src = current.unwrap_or(body);
        if let Some(out) = replace_urls(arena, src, f.as_bytes(), to.as_bytes()) {
            current = Some(out);
        }
    }
    current
}

/// `scheme://host[:port]{slash}{path}` without a trailing `/`: first without a default
/// port, then (when the port is the scheme's default) with it spelled out (or twice the
/// same when there is one spelling).
fn bases<'a>(
    arena: &'a Bump,
    scheme: &str,
    host: &str,
    port: i32,
    slash: &str,
    path: &str,
) -> [&'a str; 2] {
    let path = path.trim_end_matches('/');
    let slash = if path.is_empty() { "" } else { slash };
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    // A Host header may carry its port already (`gw.test:8080`; not `[::1]`).
    let has_port = host.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
    }) && !host.ends_with(']');
    let url = |port: Option<i32>| {
        let mut s = BString::new_in(arena);
        let _ = write!(s, "{scheme}://{host}");
        if let Some(p) = port {
            let _ = write!(s, ":{p}");
        }
        let _ = write!(s, "{slash}{path}");
        s.into_bump_str()
    };
    if has_port || port <= 0 {
        let u = url(None);
        [u, u]
    } else if port == default {
        [url(None), url(Some(port))]
    } else {
        let u = url(Some(port));
        [u, u]
    }
}

/// Replaces each occurrence of the base URL `from` (ASCII case-insensitive) that ends at
/// a URL boundary; `None` when there was none.
fn replace_urls<'a>(arena: &'a Bump, body: &[u8], from: &[u8], to: &[u8]) -> Option<&'a [u8]> {
    let mut out: Option<BVec<'a, u8>> = None;
    let mut at = 0;
    let mut i = 0;
    while i + from.len() <= body.len() {
        let end = i + from.len();
        if body[i..end].eq_ignore_ascii_case(from) && !continues_url(body.get(end).copied()) {
            let o = out.get_or_insert_with(|| BVec::with_capacity_in(body.len() + 64, arena));
            o.extend_from_slice(&body[at..i]);
            o.extend_from_slice(to);
            at = end;
            i = end;
        } else {
            i += 1;
        }
    }
    let mut o = out?;
    o.extend_from_slice(&body[at..]);
    Some(o.into_bump_slice())
}

/// Whether the byte after a match would continue its last host label, port or path
/// segment (then the match is a different URL).
fn continues_url(b: Option<u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || b"-._~%:@+".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str, from: &str, to: &str) -> Option<String> {
        let arena = Bump::new();
        replace_urls(&arena, body.as_bytes(), from.as_bytes(), to.as_bytes())
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            run(
                "see http://b.test/v1/x and HTTP://B.TEST/v1",
                "http://b.test/v1",
                "https://g/api"
            )
            .as_deref(),
            Some("see https://g/api/x and https://g/api")
        );
        assert_eq!(run("http://b.test/v10/x", "http://b.test/v1", "G"), None);
        assert_eq!(run("http://b.test.evil/x", "http://b.test", "G"), None);
        assert_eq!(
            run("\"http://b.test\"", "http://b.test", "G").as_deref(),
            Some("\"G\"")
        );
    }

    #[test]
    fn default_ports() {
        let arena = Bump::new();
        assert_eq!(
            bases(&arena, "http", "b.test", 80, "", "/v1/"),
            ["http://b.test/v1", "http://b.test:80/v1"]
        );
        assert_eq!(
            bases(&arena, "https", "b.test", 8443, "", ""),
            ["https://b.test:8443"; 2]
        );
        assert_eq!(
            bases(&arena, "http", "g.test:8080", 8080, "/", "api"),
            ["http://g.test:8080/api"; 2]
        );
        assert_eq!(
            bases(&arena, "http", "g.test", 80, "/", "")[0],
            "http://g.test"
        );
    }
}
