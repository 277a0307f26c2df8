//! The immutable state a shard serves from: compiled routes, resolved backend
//! addresses, limits and timeouts. Built once from a loaded `gateway.yaml` on the
//! control thread (DNS resolution happens here, never on a shard) and shared by every
//! shard behind an `Arc`.

use std::time::Duration;

use tollgate_core::access::Access;
use tollgate_core::config::{Config, Forwarded, Limits, Loaded};
use tollgate_core::routing::{RouteError, RouteTable};

use crate::http::v1::request::HeadLimits;

mod backends;
pub mod policies;

pub use policies::Programs;
use tollgate_core::routing::ServiceUrl;
use tollgate_policies::xml::PolicyError;

/// Everything a shard needs per request, read-only.
#[derive(Debug)]
pub struct Snapshot {
    pub routes: RouteTable,
    /// Where each API's service URL goes, indexed like `routes.apis`.
    pub api_backends: Vec<Option<crate::upstream::Dest>>,
    pub limits: Limits,
    pub head_limits: HeadLimits,
    pub timeouts: Timeouts,
    pub forwarded: Forwarded,
    pub pool: PoolSettings,
    /// Compiled policies, `programs[api][operation]`; `None` is the fast path.
    pub programs: Programs,
    /// Named backends for `set-backend-service backend-id`, with their destinations.
    pub backends: Vec<(String, ServiceUrl, crate::upstream::Dest)>,
    /// Host names the configuration resolved at load (service URLs, backends), for
    /// side requests: (host, port, destination).
    pub known_hosts: Vec<(String, u16, crate::upstream::Dest)>,
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
    /// `gateway.http2`.
    pub http2: tollgate_core::config::Http2,
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
    /// A reload keeps what the running process was started with for the settings that
    /// shape the process (see `crate::reload`): TLS, HTTP/2, the pool, key fetching
    /// and rate-limit sharing.
    pub fn keep_process_settings(&mut self, running: &Snapshot) {
        self.pool = running.pool;
        self.tls = running.tls.clone();
        self.http2 = running.http2;
        self.jwt_sources = running.jwt_sources.clone();
        self.jwt_fetch_urls = running.jwt_fetch_urls.clone();
        self.openid_tls = running.openid_tls.clone();
        self.openid = running.openid.clone();
        self.max_rate_limit_keys = running.max_rate_limit_keys;
        self.rate_limit_redis = running.rate_limit_redis.clone();
    }
}

impl SnapshotError {
    /// Every error, located (`file:line:col: key: message` and a hint), then a count.
    pub fn report(&self, loaded: &Loaded) -> String {
        let mut out = String::new();
        for r in &self.routes {
            let loc = loaded.locate(&r.key_path);
            let (line, col) = loc.map_or((0, 0), |l| (l.line, l.col));
            out.push_str(&format!(
                "{}:{line}:{col}: {}: {}\n  hint: {}\n",
                loaded.origin.display(),
                r.key_path,
                r.message,
                r.hint
            ));
        }
        for p in &self.policies {
            out.push_str(&format!("{p}\n"));
        }
        let n = self.routes.len() + self.policies.len();
        out.push_str(&format!("{n} error{}\n", if n == 1 { "" } else { "s" }));
        out
    }
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
        let resolved = backends::resolve(loaded, &routes).map_err(|routes| SnapshotError {
            routes,
            policies: Vec::new(),
        })?;
        let mut errors = Vec::new();
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
            match crate::tls::server::build(
                t,
                g.http2.enabled,
                (crate::limits::now_ms() / 1000) as i64,
            ) {
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

        Ok(Snapshot {
            routes,
            api_backends: resolved.apis,
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
            known_hosts: resolved.hosts,
            backends: resolved.named,
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
            http2: g.http2,
        })
    }
}
