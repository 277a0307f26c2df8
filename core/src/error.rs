//! Gateway error kinds and the one place they turn into APIM error bodies.
//!
//! Every response the gateway makes up itself (as opposed to relaying the backend's)
//! comes from a [`GatewayError`]: it knows its status code, its APIM message, which side
//! caused it (so callers and metrics can tell gateway errors from backend errors), the
//! APIM `LastError` source and reason, and whether a retry on another connection is safe.

use std::fmt::Write as _;

/// Who caused an error: the caller, the gateway itself, or the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Gateway,
    Backend,
}

/// An error the gateway answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GatewayError {
    /// The request head or body framing broke RFC 9112; the reason is for logs and the body.
    BadRequest(&'static str),
    /// `max-header-bytes` or `max-headers` exceeded.
    HeaderTooLarge,
    /// `max-uri-bytes` exceeded.
    UriTooLong,
    /// `max-body-bytes` exceeded.
    BodyTooLarge,
    /// Not HTTP/1.0 or HTTP/1.1.
    VersionNotSupported,
    /// No API, or no operation of the API, matches the request.
    OperationNotFound,
    /// The API has no service URL and nothing set a backend.
    NoBackendUrl,
    /// Connecting to the backend failed (refused, unreachable).
    BackendConnectionFailure,
    /// Connecting to the backend took longer than `backend-connect`.
    BackendConnectTimeout,
    /// The backend did not answer within `backend-response`.
    BackendTimeout,
    /// The backend reset the connection or sent a malformed response.
    BackendProtocol(&'static str),
    /// The gateway is draining for shutdown.
    ShuttingDown,
    /// The API needs a subscription key and the request carried none.
    SubscriptionKeyNotFound,
    /// The key is unknown, inactive or scoped to something else.
    SubscriptionKeyInvalid,
}

impl GatewayError {
    /// HTTP status sent to the caller.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::BadRequest(_) => 400,
            GatewayError::HeaderTooLarge => 431,
            GatewayError::UriTooLong => 414,
            GatewayError::BodyTooLarge => 413,
            GatewayError::VersionNotSupported => 505,
            GatewayError::OperationNotFound => 404,
            GatewayError::NoBackendUrl => 500,
            GatewayError::BackendConnectionFailure | GatewayError::BackendProtocol(_) => 502,
            GatewayError::BackendConnectTimeout | GatewayError::BackendTimeout => 504,
            GatewayError::ShuttingDown => 503,
            GatewayError::SubscriptionKeyNotFound | GatewayError::SubscriptionKeyInvalid => 401,
        }
    }

    /// The APIM-style message of the JSON body.
    pub fn message(&self) -> &'static str {
        match self {
            GatewayError::BadRequest(_) => "Bad request",
            GatewayError::HeaderTooLarge => "Request header fields too large",
            GatewayError::UriTooLong => "Request URI too long",
            GatewayError::BodyTooLarge => "Request entity too large",
            GatewayError::VersionNotSupported => "HTTP version not supported",
            GatewayError::OperationNotFound => "Resource not found",
            GatewayError::NoBackendUrl => "Backend service URL is not defined.",
            GatewayError::BackendConnectionFailure => "Backend service is unreachable",
            GatewayError::BackendConnectTimeout => "Backend connection timed out",
            GatewayError::BackendTimeout => "Backend service did not respond in time",
            GatewayError::BackendProtocol(_) => "Backend service failed to respond",
            GatewayError::ShuttingDown => "Gateway is shutting down",
            GatewayError::SubscriptionKeyNotFound => "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
            GatewayError::SubscriptionKeyInvalid => "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        }
    }

    /// Extra detail appended to the message (`"Bad request: <detail>"`), if any.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            GatewayError::BadRequest(d) | GatewayError::BackendProtocol(d) => Some(d),
            _ => None,
        }
    }

    pub fn side(&self) -> Side {
        match self {
            GatewayError::BadRequest(_)
            | GatewayError::HeaderTooLarge
            | GatewayError::UriTooLong
            | GatewayError::BodyTooLarge
            | GatewayError::VersionNotSupported
            | GatewayError::OperationNotFound
            | GatewayError::SubscriptionKeyNotFound
            | GatewayError::SubscriptionKeyInvalid => Side::Client,
            GatewayError::NoBackendUrl | GatewayError::ShuttingDown => Side::Gateway,
            GatewayError::BackendConnectionFailure
            | GatewayError::BackendConnectTimeout
            | GatewayError::BackendTimeout
            | GatewayError::BackendProtocol(_) => Side::Backend,
        }
    }

    /// APIM `context.LastError.Source`.
    pub fn source(&self) -> &'static str {
        match self {
            GatewayError::OperationNotFound | GatewayError::NoBackendUrl => "configuration",
            GatewayError::SubscriptionKeyNotFound | GatewayError::SubscriptionKeyInvalid => {
                "authorization"
            }
            GatewayError::BackendConnectionFailure
            | GatewayError::BackendConnectTimeout
            | GatewayError::BackendTimeout
            | GatewayError::BackendProtocol(_) => "forward-request",
            _ => "request",
        }
    }

    /// APIM `context.LastError.Reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            GatewayError::OperationNotFound => "OperationNotFound",
            GatewayError::NoBackendUrl => "BackendServiceUrlNotDefined",
            GatewayError::BackendConnectionFailure | GatewayError::BackendProtocol(_) => {
                "BackendConnectionFailure"
            }
            GatewayError::BackendConnectTimeout | GatewayError::BackendTimeout => "Timeout",
            GatewayError::ShuttingDown => "GatewayShuttingDown",
            GatewayError::SubscriptionKeyNotFound => "SubscriptionKeyNotFound",
            GatewayError::SubscriptionKeyInvalid => "SubscriptionKeyInvalid",
            _ => "ClientConnectionFailure",
        }
    }

    /// Whether the connection to the client must be closed after this response
    /// (framing is no longer trustworthy).
    pub fn closes_connection(&self) -> bool {
        matches!(
            self,
            GatewayError::BadRequest(_)
                | GatewayError::HeaderTooLarge
                | GatewayError::UriTooLong
                | GatewayError::BodyTooLarge
                | GatewayError::VersionNotSupported
                | GatewayError::ShuttingDown
        )
    }

    /// Writes the whole HTTP/1.1 response (head and APIM JSON body) into `out`.
    /// Appends to `out`; allocates only if `out` lacks capacity.
    pub fn write_response(&self, out: &mut Vec<u8>, close: bool) {
        let mut body = [0u8; 256];
        let body_len = self.write_body(&mut body);
        let body = &body[..body_len];
        let status = self.status();
        let mut head = String::new();
        // Formatting into a small String is fine: error responses are off the hot path.
        let _ = write!(
            head,
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{}\r\n",
            reason_phrase(status),
            body.len(),
            if close { "connection: close\r\n" } else { "" },
        );
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body);
    }

    /// Writes `{"statusCode":N,"message":"…"}` into `buf`; returns its length.
    pub fn write_body(&self, buf: &mut [u8; 256]) -> usize {
        let mut s = String::with_capacity(128);
        s.push_str("{\"statusCode\":");
        let _ = write!(s, "{}", self.status());
        s.push_str(",\"message\":\"");
        json_escape_into(&mut s, self.message());
        if let Some(d) = self.detail() {
            s.push_str(": ");
            json_escape_into(&mut s, d);
        }
        s.push_str("\"}");
        let n = s.len().min(buf.len());
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        n
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())?;
        if let Some(d) = self.detail() {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GatewayError {}

/// Escapes `s` as the inside of a JSON string.
pub fn json_escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// The standard reason phrase for the status codes the gateway produces.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(e: GatewayError) -> String {
        let mut b = [0u8; 256];
        let n = e.write_body(&mut b);
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    #[test]
    fn apim_404_body_is_exact() {
        assert_eq!(
            body(GatewayError::OperationNotFound),
            r#"{"statusCode":404,"message":"Resource not found"}"#
        );
    }

    #[test]
    fn bad_request_carries_detail() {
        assert_eq!(
            body(GatewayError::BadRequest(
                "both Content-Length and Transfer-Encoding"
            )),
            r#"{"statusCode":400,"message":"Bad request: both Content-Length and Transfer-Encoding"}"#
        );
    }

    #[test]
    fn response_has_length_and_type() {
        let mut out = Vec::new();
        GatewayError::BackendTimeout.write_response(&mut out, true);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 504 Gateway Timeout\r\n"),
            "{text}"
        );
        assert!(text.contains("content-type: application/json\r\n"));
        assert!(text.contains("connection: close\r\n"));
        let body_len = text.split("\r\n\r\n").nth(1).unwrap().len();
        assert!(text.contains(&format!("content-length: {body_len}\r\n")));
    }

    #[test]
    fn sides_tell_gateway_from_backend() {
        assert_eq!(GatewayError::BackendConnectionFailure.side(), Side::Backend);
        assert_eq!(GatewayError::OperationNotFound.side(), Side::Client);
        assert_eq!(GatewayError::NoBackendUrl.side(), Side::Gateway);
    }
}
