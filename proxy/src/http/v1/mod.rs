//! Strict HTTP/1.1 (RFC 9112) message-head parsing, zero allocation.
//!
//! - [`request`]: request head parser for client input ([`parse_request`]).
//! - [`response`]: backend response head parser ([`parse_response`]).
//! - [`chunked`]: validating scanner for relayed chunked bodies.
//! - [`fuzz`]: invariant-checking entry points used by `fuzz/`.
//!
//! Every parser works on a byte buffer and reports positions as [`Span`]s
//! (offsets into that buffer), so nothing is copied. A parse is re-run on the
//! whole buffer each time more bytes arrive, until it stops returning
//! [`HeadError::Incomplete`]; the size limits bound that work.

pub mod chunked;
mod field;
pub mod fuzz;
pub mod request;
pub mod response;

pub use chunked::{ChunkError, ChunkedScanner, Scan};
pub use field::{header_value, list_elements, HeadError, HeaderSpan, Span};
pub use request::{parse_request, BodyFraming, HeadLimits, RequestHead};
pub use response::{parse_response, ResponseFraming, ResponseHead};

#[cfg(test)]
mod chunked_tests;
#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod response_tests;
