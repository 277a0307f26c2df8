//! tollgate: the data plane and the CLI of the Tollgate API gateway.
//!
//! Layout follows the request path: `runtime` starts one shard per core (monoio,
//! io_uring or epoll), `server` accepts connections and runs the per-connection HTTP/1.1
//! loop (route → forward → relay), `upstream` keeps per-shard keep-alive pools to
//! backends, `http` holds the zero-copy strict HTTP/1.1 head parsers. `snapshot` turns a
//! loaded `gateway.yaml` into the immutable state every shard reads; `jwks` fetches
//! validate-jwt's signing keys on a control thread and hands each shard its copy;
//! `limits` runs each shard's rate-limit counters and their budget exchange. `echo` is the
//! built-in demo backend used by the embedded default configuration. `tls` holds the
//! HTTPS listener's settings (SNI certificates, resumption, client certificates, reload)
//! and the TLS stream. `reload` loads a changed configuration and hands it to the shards.

pub mod cli;
pub mod echo;
pub mod h2;
pub mod http;
pub mod jwks;
pub mod limits;
pub mod log;
pub mod reload;
pub mod rent;
pub mod runtime;
pub mod server;
pub mod snapshot;
pub mod tls;
pub mod upstream;
