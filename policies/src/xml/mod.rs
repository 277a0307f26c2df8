//! The policy-document front end: APIM policy XML → validated documents → the effective
//! policy of an operation, with every element's file position and scope kept.
//!
//! ```text
//! parse_document / parse_fragment   text → tree (parse) → Document / Fragment (document),
//!                                   checked against the catalog (validate)
//! substitute_named_values           {{name}} in attributes and text (named_values)
//! merge                             <base/>, missing sections, fragments, scope rules (merge)
//! print_effective                   back to XML for `tollgate policy explain` (print)
//! ```
//!
//! Not for expressions (`@(...)` stays text here; `expr` parses it) nor for what a policy
//! does at run time (the compiler and VM).

pub mod catalog;
mod document;
mod error;
mod merge;
mod named_values;
mod parse;
mod prescan;
mod print;
mod tree;
mod validate;

#[cfg(test)]
mod tests;

pub use self::catalog::{SectionKind, Status};
pub use self::document::{
    parse_document, parse_fragment, Document, Fragment, Section, MAX_FRAGMENT_BYTES,
};
pub use self::error::PolicyError;
pub use self::merge::{
    merge, Effective, MergedElement, MergedNode, Scope, Scopes, DEFAULT_GLOBAL_FILE,
    DEFAULT_GLOBAL_POLICY,
};
pub use self::named_values::{substitute_fragment_named_values, substitute_named_values};
pub use self::parse::{MAX_DEPTH, MAX_DOCUMENT_BYTES};
pub use self::print::{print_document, print_effective};
pub use self::tree::{Attr, Element, Loc, Node, Origin, Text};
