//! Expression tests: a fixed mock request, data-driven cases
//! (`policies/tests/expr/cases.txt`), targeted unit tests and robustness (fuzz-like) tests.

mod cases;
mod fuzz;
pub(crate) mod mock;
mod unit;
