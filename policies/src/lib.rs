//! tollgate-policies: APIM policy XML and expressions, compiled once, run per request.
//!
//! Pipeline (see docs/architecture.md, "Policies"): `xml` parses policy documents with
//! positions → `document` checks sections and policies → `merge` resolves `<base/>`
//! across scopes (global → product → API → operation), fragments and `{{named values}}`
//! → `expr` parses and type-checks `@(...)`/`@{...}` expressions → `compile` emits one
//! immutable `Program` per (operation, product) → `vm` runs it per request against a
//! `Host` the proxy implements, with per-shard `Scratch` and a per-request arena.
//!
//! No sockets here: every side effect goes through the host.
#![forbid(unsafe_code)]

pub mod build;
pub mod compile;
pub mod exchange;
pub mod expr;
pub mod host;
pub mod liquid;
mod listing;
pub mod pipeline;
pub mod program;
pub mod transform;
pub mod vm;
pub mod xml;
