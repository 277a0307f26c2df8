//! The immutable state a shard serves from: compiled routes, resolved backend
//! addresses, limits and timeouts. Built once from a loaded `gateway.yaml` on the
//! control thread (DNS resolution happens here, never on a shard) and shared by every
//! shard behind an `Arc`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tollgate_core::config::{Config, Forwarded, Limits, Loaded};
use tollgate_core::routing::{RouteError, RouteTable};

use crate::http::v1::request::HeadLimits;

/// Everything a shard needs per request, read-only.
#[derive(Debug)]
pub struct Snapshot {
    pub routes: RouteTable,
    /// Resolved address of each API's service URL, indexed like `routes.apis`.
    pub api_backends: Vec<Option<SocketAddr>>,
    pub limits: Limits,
    pub head_limits: HeadLimits,
    pub timeouts: Timeouts,
    pub forwarded: Forwarded,
    pub pool: PoolSettings,
}

#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub client_header: Duration,
    pub keepalive_idle: Duration,
    pub backend_connect: Duration,
    pub backend_response: Duration,
    pub shutdown_grace: Duration,
}

#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_idle_per_backend: usize,
    pub idle_timeout: Duration,
}

/// Why a snapshot could not be built: located route errors or unresolvable hosts.
#[derive(Debug)]
pub struct SnapshotError {
    pub routes: Vec<RouteError>,
}

impl Snapshot {
    pub fn build(loaded: &Loaded) -> Result<Snapshot, SnapshotError> {
        let config: &Config = &loaded.config;
        let routes = RouteTable::build(config, &loaded.named_values)
            .map_err(|routes| SnapshotError { routes })?;
        let mut errors = Vec::new();
        let mut api_backends = Vec::with_capacity(routes.apis.len());
        for (i, api) in routes.apis.iter().enumerate() {
            let addr = match &api.service_url {
                Some(url) => match (url.host.as_str(), url.port).to_socket_addrs() {
                    Ok(mut addrs) => addrs.next(),
                    Err(e) => {
                        errors.push(RouteError {
                            key_path: format!("apis[{i}].service-url"),
                            message: format!("cannot resolve host `{}`: {e}", url.host),
                            hint: "use an IP address or a name this host can resolve".into(),
                        });
                        None
                    }
                },
                None => None,
            };
            api_backends.push(addr);
        }
        if !errors.is_empty() {
            return Err(SnapshotError { routes: errors });
        }
        let g = &config.gateway;
        Ok(Snapshot {
            routes,
            api_backends,
            limits: g.limits,
            head_limits: HeadLimits {
                max_header_bytes: g.limits.max_header_bytes,
                max_headers: g.limits.max_headers,
                max_uri_bytes: g.limits.max_uri_bytes,
            },
            timeouts: Timeouts {
                client_header: g.timeouts.client_header,
                keepalive_idle: g.timeouts.keepalive_idle,
                backend_connect: g.timeouts.backend_connect,
                backend_response: g.timeouts.backend_response,
                shutdown_grace: g.timeouts.shutdown_grace,
            },
            forwarded: g.forwarded,
            pool: PoolSettings {
                max_idle_per_backend: g.pool.max_idle_per_backend,
                idle_timeout: g.pool.idle_timeout,
            },
        })
    }
}
