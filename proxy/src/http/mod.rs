//! HTTP protocol code of the data plane: pure parsers, no I/O.
//!
//! [`v1`] holds the strict HTTP/1.1 head parsers (request and response) and
//! the validating chunked-body scanner.

#![forbid(unsafe_code)]

pub mod v1;
