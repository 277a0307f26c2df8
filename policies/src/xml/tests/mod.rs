//! Tests of the policy front end. Most cases are data in `policies/tests/xml/*.txt`, run
//! by `cases`; the rest (named values, printing, catalog sanity, mutation fuzzing) are
//! code beside it.

mod cases;
mod catalog;
mod fuzz;
mod named_values;
mod print;

use super::{Origin, PolicyError};

/// `file:line:col | policy | message | hint` for comparing against expectations.
fn describe(e: &PolicyError) -> String {
    format!(
        "{}:{}:{} | {} | {} | {}",
        e.file,
        e.line,
        e.col,
        e.policy.as_deref().unwrap_or("-"),
        e.message,
        e.hint.as_deref().unwrap_or("-")
    )
}

fn origin(file: &str) -> Origin {
    Origin::file(file)
}
