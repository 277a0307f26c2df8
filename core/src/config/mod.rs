//! Tollgate's configuration: `gateway.yaml` read into a typed, validated [`Config`].
//!
//! ```text
//! text → yaml.rs (spanned nodes) → de.rs (serde, every error at once) → model/
//!      → load.rs (relative paths, named values) → validate*.rs, unsupported.rs → Loaded
//! ```
//! Every problem is a [`Diagnostic`] with `file:line:col`, the key path and a hint;
//! [`load_file`] returns all of them or a [`Loaded`]. `show.rs` prints a loaded config
//! with secrets masked. Not here: policy compilation, routing tables, hot reload.

mod de;
mod de_error;
mod diagnostics;
pub mod duration;
mod load;
pub mod model;
pub mod named_values;
mod node;
mod recover;
mod redis_url;
mod scalar;
mod show;
pub mod size;
mod unsupported;
mod urls;
mod validate;
mod validate_apis;
mod validate_tls;
mod yaml;

#[cfg(test)]
mod tests;

pub use self::diagnostics::{ConfigErrors, Diagnostic, Location};
pub use self::load::{load_file, load_str, Loaded};
pub use self::model::*;
pub use self::named_values::{NamedValue, MASK};
pub use self::node::{Node, NodeKind};
pub use self::redis_url::{parse_redis_url, RedisUrl, DEFAULT_REDIS_PORT};
pub use self::urls::{parse_backend_url, BackendUrl, Scheme};
