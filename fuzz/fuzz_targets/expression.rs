//! Fuzz target: arbitrary text as a policy expression (`@(...)` / `@{...}`), compiled
//! for an inbound and an outbound section. The parser and type checker must return Ok
//! or a located error, never panic, and error offsets must lie inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_policies::expr::{compile, CompileEnv};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    for env in [CompileEnv::inbound(), CompileEnv::outbound()] {
        if let Err(e) = compile(source, &env) {
            assert!(e.offset <= source.len() + 1, "offset {} past {}", e.offset, source.len());
        }
    }
});
