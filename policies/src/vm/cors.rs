//! `cors`: preflight answers and CORS headers on actual requests.

use super::*;

/// `cors`: a preflight is answered here (the pipeline ends); an actual cross-origin
/// request gets its CORS response headers queued; unmatched requests end with an empty
/// 200 when `terminate-unmatched-request` says so (preflights, and GET/HEAD).
pub(super) fn cors_step<'a, H: PolicyHost<'a>>(cors: &Cors, host: &mut H) -> Step {
    use crate::expr::Msg;
    let first = |host: &H, name: &str| {
        host.header_values(Msg::Request, name)
            .and_then(|v| v.first().copied())
    };
    let Some(origin) = first(host, "Origin") else {
        return Step::Next;
    };
    let any = |list: &[Box<str>]| list.iter().any(|x| &**x == "*");
    let origin_ok = any(&cors.origins) || cors.origins.iter().any(|o| same_origin(o, origin));
    let method = host.method();
    let preflight_method = first(host, "Access-Control-Request-Method");
    let arena = host.arena();
    let allow_origin: &'a str = if any(&cors.origins) && !cors.allow_credentials {
        "*"
    } else {
        origin
    };
    if method == "OPTIONS" {
        if let Some(wanted) = preflight_method {
            let method_ok =
                any(&cors.methods) || cors.methods.iter().any(|m| m.eq_ignore_ascii_case(wanted));
            let requested = first(host, "Access-Control-Request-Headers").unwrap_or("");
            let headers_ok = any(&cors.headers)
                || requested
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .all(|h| cors.headers.iter().any(|a| a.eq_ignore_ascii_case(h)));
            if origin_ok && method_ok && headers_ok {
                host.begin_response();
                let set = |host: &mut H, n: &'a str, v: &'a str| {
                    host.set_header(Target::Response, n, &[v], ExistsAction::Override)
                };
                set(host, "Access-Control-Allow-Origin", allow_origin);
                if cors.allow_credentials {
                    set(host, "Access-Control-Allow-Credentials", "true");
                }
                let methods: &'a str = if any(&cors.methods) {
                    wanted
                } else {
                    join(arena, &cors.methods)
                };
                set(host, "Access-Control-Allow-Methods", methods);
                let headers: &'a str = if any(&cors.headers) {
                    requested
                } else {
                    join(arena, &cors.headers)
                };
                if !headers.is_empty() {
                    set(host, "Access-Control-Allow-Headers", headers);
                }
                if cors.max_age > 0 {
                    let mut age = bumpalo::collections::String::new_in(arena);
                    let _ = std::fmt::Write::write_fmt(&mut age, format_args!("{}", cors.max_age));
                    set(host, "Access-Control-Max-Age", age.into_bump_str());
                }
                if !any(&cors.origins) || cors.allow_credentials {
                    set(host, "Vary", "Origin");
                }
                return Step::Respond;
            }
            if cors.terminate_unmatched {
                host.begin_response();
                return Step::Respond;
            }
            return Step::Next;
        }
    }
    if origin_ok {
        host.add_final_response_header("Access-Control-Allow-Origin", allow_origin);
        if cors.allow_credentials {
            host.add_final_response_header("Access-Control-Allow-Credentials", "true");
        }
        if !cors.expose.is_empty() {
            host.add_final_response_header(
                "Access-Control-Expose-Headers",
                arena.alloc_str(&cors.expose),
            );
        }
        Step::Next
    } else if cors.terminate_unmatched && (method == "GET" || method == "HEAD") {
        host.begin_response();
        Step::Respond
    } else {
        Step::Next
    }
}

/// Origins compare by scheme, host and port, case-insensitively, default ports implied.
fn same_origin(allowed: &str, origin: &str) -> bool {
    fn norm(o: &str) -> (&str, &str, &str) {
        let (scheme, rest) = o.split_once("://").unwrap_or(("", o));
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
            _ => (
                rest,
                if scheme.eq_ignore_ascii_case("https") {
                    "443"
                } else {
                    "80"
                },
            ),
        };
        (scheme, host, port)
    }
    let (a, b) = (norm(allowed), norm(origin));
    a.0.eq_ignore_ascii_case(b.0) && a.1.eq_ignore_ascii_case(b.1) && a.2 == b.2
}

fn join<'a>(arena: &'a bumpalo::Bump, items: &[Box<str>]) -> &'a str {
    let mut s = bumpalo::collections::String::new_in(arena);
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(x);
    }
    s.into_bump_str()
}
