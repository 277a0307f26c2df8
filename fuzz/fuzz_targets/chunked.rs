//! Fuzz target: chunked-body scanner. The first input byte seeds how the rest
//! is split; whole, byte-at-a-time and split feeds must agree exactly
//! (`tollgate::http::v1::fuzz::fuzz_chunked`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tollgate::http::v1::fuzz::fuzz_chunked(data);
});
