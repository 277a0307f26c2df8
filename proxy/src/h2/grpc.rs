//! gRPC over the HTTP/2 bridge: calls pass through untouched (trailers included); when
//! the gateway itself answers a gRPC call (401, 429, 502…), the answer is a gRPC
//! "trailers-only" response whose `grpc-status` says what happened, since gRPC clients
//! read that, not the HTTP status or a JSON body.

use http::{HeaderMap, HeaderValue, Response};

/// The most of a gateway error body kept to find its message.
pub const MAX_ERROR_BODY: u64 = 4096;

pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// The gRPC status code for a gateway error's HTTP status.
pub fn code_for(status: u16) -> u8 {
    match status {
        400 => 3,        // INVALID_ARGUMENT
        401 => 16,       // UNAUTHENTICATED
        403 => 7,        // PERMISSION_DENIED
        404 | 405 => 12, // UNIMPLEMENTED
        408 | 504 => 4,  // DEADLINE_EXCEEDED
        413 | 429 => 8,  // RESOURCE_EXHAUSTED
        500 => 13,       // INTERNAL
        502 | 503 => 14, // UNAVAILABLE
        _ => 2,          // UNKNOWN
    }
}

/// A trailers-only response for a gateway error: HTTP 200, `grpc-status`, and the
/// APIM error message (`{"statusCode":…,"message":"…"}`) as `grpc-message`.
pub fn error_response(status: u16, body: &[u8]) -> Response<()> {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("gateway error")
                .to_owned()
        });
    let mut resp = Response::new(());
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    h.insert(
        "grpc-status",
        HeaderValue::from(u16::from(code_for(status))),
    );
    if let Ok(v) = HeaderValue::from_str(&percent_encode(&message)) {
        h.insert("grpc-message", v);
    }
    resp
}

/// gRPC's `grpc-message` encoding: bytes outside printable ASCII, and `%`, as `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_errors_become_grpc_statuses() {
        let r = error_response(
            429,
            br#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 5 seconds."}"#,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["grpc-status"], "8");
        assert_eq!(
            r.headers()["grpc-message"],
            "Rate limit is exceeded. Try again in 5 seconds."
        );
        let r = error_response(502, b"not json");
        assert_eq!(r.headers()["grpc-status"], "14");
        assert_eq!(r.headers()["grpc-message"], "Bad Gateway");
        assert_eq!(percent_encode("100% é"), "100%25 %C3%A9");
    }
}
