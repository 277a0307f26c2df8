//! Fuzz target: arbitrary text as an API-scope policy document through the whole
//! front end — prescan, XML, validation, named values, merge with the default global
//! policy, compilation to a Program. Every stage must return Ok or located errors,
//! never panic; a compiled program's jumps must stay inside the program.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tollgate_policies::build::{build_program, load_document};
use tollgate_policies::program::Insn;
use tollgate_policies::xml::{Origin, Scopes};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = load_document(text, &Origin::file("fuzz.xml"), &BTreeMap::new()) else { return };
    let fragments = BTreeMap::new();
    let scopes = Scopes { global: None, product: None, api: Some(&doc), operation: None, fragments: &fragments };
    if let Ok((program, _)) = build_program(&scopes) {
        let n = program.insns.len() as u32;
        for insn in &program.insns {
            match insn {
                Insn::Jump { to } | Insn::JumpUnless { to, .. } => assert!(to.0 <= n),
                Insn::RetryCheck(r) => assert!(r.body.0 <= n),
                _ => {}
            }
        }
        assert_eq!(program.insns.len(), program.origins.len());
    }
});
