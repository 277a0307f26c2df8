//! Fuzz target: arbitrary bytes into the strict request-head parser; the
//! invariants (spans inside the head, limits, prefix = Incomplete, no
//! reallocation) are asserted by `tollgate::http::v1::fuzz::fuzz_request`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tollgate::http::v1::fuzz::fuzz_request(data);
});
