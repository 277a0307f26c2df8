//! Shared by the policy engine's integration tests that drive programs directly:
//! compiling one policy document at a scope, and a plain GET request to run it on.
#![allow(dead_code)]

use std::collections::BTreeMap;

use tollgate_policies::build::{build_program, load_document};
use tollgate_policies::exchange::{HeaderList, RequestState};
use tollgate_policies::program::Program;
use tollgate_policies::xml::{Origin, Scopes};

/// Where a test places its policy document.
#[derive(Clone, Copy)]
pub enum At {
    Api,
    Product,
}

/// Compiles `xml` (file `api.xml`) at `at`; the load errors joined by newlines.
pub fn compile(xml: &str, at: At) -> Result<Program, String> {
    let doc = load_document(xml, &Origin::file("api.xml"), &BTreeMap::new()).map_err(|e| {
        e.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let fragments = BTreeMap::new();
    let (api, product) = match at {
        At::Api => (Some(&doc), None),
        At::Product => (None, Some(&doc)),
    };
    build_program(&Scopes {
        global: None,
        product,
        api,
        operation: None,
        fragments: &fragments,
    })
    .map(|(p, _)| p)
    .map_err(|e| {
        e.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `GET /` from 10.0.0.1 with `headers`.
pub fn get<'a>(headers: HeaderList<'a>) -> RequestState<'a> {
    RequestState {
        method: "GET",
        scheme: "http",
        host: "gw",
        port: 80,
        path: "/",
        query: "",
        headers,
        body: None,
        ip: "10.0.0.1",
        original_path: "/",
        original_query: "",
        matched: &[],
        matched_query_names: &[],
    }
}
