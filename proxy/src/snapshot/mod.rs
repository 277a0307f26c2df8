//! The immutable state a shard serves from: compiled routes, resolved backend
//! addresses, limits and timeouts. Built once from a loaded `gateway.yaml` on the
//! control thread (DNS resolution happens here, never on a shard) and shared by every
//! shard behind an `Arc`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tollgate_core::access::Access;
use tollgate_core::config::{Config, Forwarded, Limits, Loaded};
use tollgate_core::routing::{RouteError, RouteTable};

use crate::http::v1::request::HeadLimits;

pub mod policies;

pub use policies::Programs;
use tollgate_core::routing::ServiceUrl;
use tollgate_policies::xml::PolicyError;

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
    /// Compiled policies, `programs[api][operation]`; `None` is the fast path.
    pub programs: Programs,
    /// Named backends for `set-backend-service backend-id`, with resolved addresses.
    pub backends: Vec<(String, ServiceUrl, SocketAddr)>,
    /// Host names the configuration resolved at load (service URLs, backends), for
    /// side requests: (host, port, address).
    pub known_hosts: Vec<(String, u16, SocketAddr)>,
    /// `gateway.name` (`context.Deployment.GatewayId`).
    pub gateway_name: String,
    /// Subscriptions, products and the key index.
    pub access: Access,
    /// `openid-config` URLs the policies name (as written) and where each is fetched.
    pub jwt_sources: Vec<String>,
    pub jwt_fetch_urls: Vec<String>,
    /// TLS settings for https key fetches (roots + `gateway.openid.ca`), built once;
    /// `None` when no policy names an `openid-config`.
    pub openid_tls: Option<crate::jwks::fetch::Tls>,
    pub openid: tollgate_core::config::OpenId,
    /// `rate-limits.max-keys`: counters kept by the whole gateway (split across shards).
    pub max_rate_limit_keys: u64,
    /// `rate-limits.redis`: limits shared with other gateways through Redis.
    pub rate_limit_redis: Option<tollgate_core::config::RateLimitRedis>,
    /// The HTTPS listener's TLS settings (`gateway.tls` with certificates).
    pub tls: Option<std::sync::Arc<crate::tls::ServerTls>>,
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

/// Why a snapshot could not be built: located route errors or unresolvable hosts, and
/// policy errors (located in their own files).
#[derive(Debug, Default)]
pub struct SnapshotError {
    pub routes: Vec<RouteError>,
    pub policies: Vec<PolicyError>,
}

impl Snapshot {
    pub fn build(loaded: &Loaded) -> Result<Snapshot, SnapshotError> {
        let config: &Config = &loaded.config;
        let routes =
            RouteTable::build(config, &loaded.named_values).map_err(|routes| SnapshotError {
                routes,
                policies: Vec::new(),
            })?;
        let programs = policies::compile(loaded).map_err(|policies| SnapshotError {
            routes: Vec::new(),
            policies,
        })?;
        let access = Access::build(config).map_err(|message| SnapshotError {
            routes: vec![RouteError {
                key_path: "subscriptions".into(),
                message,
                hint: "check the subscription's scope and keys".into(),
            }],
            policies: Vec::new(),
        })?;
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
        let mut backends = Vec::new();
        for (name, b) in &config.backends {
            let Some(url) = b.url.as_deref() else {
                continue;
            };
            let url = tollgate_core::config::named_values::substitute(url, &loaded.named_values)
                .unwrap_or_default();
            let key_path = format!("backends.{name}.url");
            match ServiceUrl::parse(&url) {
                Ok(su) => match (su.host.as_str(), su.port)
                    .to_socket_addrs()
                    .map(|mut a| a.next())
                {
                    Ok(Some(addr)) => backends.push((name.clone(), su, addr)),
                    _ => errors.push(RouteError {
                        key_path,
                        message: format!("cannot resolve host `{}`", su.host),
                        hint: "use an IP address or a name this host can resolve".into(),
                    }),
                },
                Err(message) => errors.push(RouteError {
                    key_path,
                    message,
                    hint: "write it as http://host:port/base-path".into(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(SnapshotError {
                routes: errors,
                policies: Vec::new(),
            });
        }
        let g = &config.gateway;
        let jwt_sources = crate::jwks::sources(programs.all());
        let jwt_fetch_urls: Vec<String> = jwt_sources
            .iter()
            .map(|u| crate::jwks::fetch_url(u, &g.openid))
            .collect();
        for (written, fetched) in jwt_sources.iter().zip(&jwt_fetch_urls) {
            if let Err(message) = crate::jwks::fetch::split_url(fetched) {
                errors.push(RouteError {
                    key_path: "policies".into(),
                    message: format!("openid-config `{written}`: {message}"),
                    hint: "write it as http(s)://host[:port]/path".into(),
                });
            }
        }
        let mut openid_tls = None;
        if !jwt_sources.is_empty() {
            match crate::jwks::fetch::Tls::new(g.openid.ca.as_deref()) {
                Ok(tls) => openid_tls = Some(tls),
                Err(message) => errors.push(RouteError {
                    key_path: "gateway.openid.ca".into(),
                    message,
                    hint: "a PEM file of CA certificates".into(),
                }),
            }
        }
        let mut tls = None;
        if let Some(t) = g.tls.as_ref().filter(|t| !t.certificates.is_empty()) {
            match crate::tls::server::build(t, unix_now()) {
                Ok(built) => tls = Some(std::sync::Arc::new(built)),
                Err(errs) => {
                    errors.extend(
                        errs.into_iter().map(|e| RouteError {
                            key_path: e.key_path,
                            message: e.message,
                            hint: "PEM files: a certificate chain (leaf first) and its private key"
                                .into(),
                        }),
                    )
                }
            }
        }
        if !errors.is_empty() {
            return Err(SnapshotError {
                routes: errors,
                policies: Vec::new(),
            });
        }
        let known_hosts = known_hosts(&routes, &api_backends, &backends);
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
            programs,
            known_hosts,
            backends,
            gateway_name: g.name.clone(),
            access,
            jwt_sources,
            jwt_fetch_urls,
            openid_tls,
            openid: g.openid.clone(),
            max_rate_limit_keys: config
                .rate_limits
                .as_ref()
                .map_or(tollgate_core::config::DEFAULT_RATE_LIMIT_MAX_KEYS, |r| {
                    r.max_keys
                }),
            rate_limit_redis: config.rate_limits.as_ref().and_then(|r| r.redis.clone()),
            tls,
        })
    }
}

/// Wall-clock Unix seconds (certificate validity at load).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn known_hosts(
    routes: &RouteTable,
    api_backends: &[Option<SocketAddr>],
    backends: &[(String, ServiceUrl, SocketAddr)],
) -> Vec<(String, u16, SocketAddr)> {
    let mut out: Vec<(String, u16, SocketAddr)> = Vec::new();
    let apis = routes
        .apis
        .iter()
        .zip(api_backends)
        .filter_map(|(a, addr)| Some((a.service_url.as_ref()?, (*addr)?)));
    for (url, addr) in apis.chain(backends.iter().map(|(_, u, a)| (u, *a))) {
        if !out.iter().any(|(h, p, _)| *h == url.host && *p == url.port) {
            out.push((url.host.clone(), url.port, addr));
        }
    }
    out
}
