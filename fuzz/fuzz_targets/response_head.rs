//! Fuzz target: backend response-head parser. The first input byte selects
//! "response to HEAD"; see `tollgate::http::v1::fuzz::fuzz_response`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tollgate::http::v1::fuzz::fuzz_response(data);
});
