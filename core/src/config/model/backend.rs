//! `backends:` — named upstreams an API's policies can send to: a URL or a pool of other
//! backends, with credentials, circuit breaking, health checks and upstream TLS.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::yes;

pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(1);
pub const DEFAULT_HEALTH_CHECK_STATUS: u16 = 200;
pub const DEFAULT_HEALTHY_THRESHOLD: u32 = 2;
pub const DEFAULT_UNHEALTHY_THRESHOLD: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Backend {
    /// `http://host[:port][/path]`; may use `{{named-values}}`. Absent for a pool.
    pub url: Option<String>,
    #[serde(default)]
    pub protocol: BackendProtocol,
    pub credentials: Option<BackendCredentials>,
    pub circuit_breaker: Option<CircuitBreaker>,
    pub health_check: Option<HealthCheck>,
    pub tls: Option<BackendTls>,
    /// A load-balanced pool of other (non-pool) backends.
    pub pool: Option<Vec<PoolMember>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendProtocol {
    #[default]
    Http1,
    H2,
    H2c,
}

/// Headers and query parameters added to every backend request (values may use `{{nv}}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct BackendCredentials {
    pub header: BTreeMap<String, Vec<String>>,
    pub query: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CircuitBreaker {
    pub rules: Vec<CircuitBreakerRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CircuitBreakerRule {
    pub name: String,
    pub failure_condition: FailureCondition,
    #[serde(with = "crate::config::duration")]
    pub trip_duration: Duration,
    #[serde(default)]
    pub accept_retry_after: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FailureCondition {
    pub count: Option<u32>,
    pub percentage: Option<u32>,
    #[serde(with = "crate::config::duration")]
    pub interval: Duration,
    #[serde(default)]
    pub status_code_ranges: Vec<StatusCodeRange>,
    #[serde(default)]
    pub error_reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StatusCodeRange {
    pub min: u16,
    pub max: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HealthCheck {
    pub path: String,
    #[serde(default = "default_interval", with = "crate::config::duration")]
    pub interval: Duration,
    #[serde(default = "default_timeout", with = "crate::config::duration")]
    pub timeout: Duration,
    #[serde(default = "default_status")]
    pub expected_status: u16,
    #[serde(default = "default_healthy")]
    pub healthy_threshold: u32,
    #[serde(default = "default_unhealthy")]
    pub unhealthy_threshold: u32,
}

fn default_interval() -> Duration {
    DEFAULT_HEALTH_CHECK_INTERVAL
}
fn default_timeout() -> Duration {
    DEFAULT_HEALTH_CHECK_TIMEOUT
}
fn default_status() -> u16 {
    DEFAULT_HEALTH_CHECK_STATUS
}
fn default_healthy() -> u32 {
    DEFAULT_HEALTHY_THRESHOLD
}
fn default_unhealthy() -> u32 {
    DEFAULT_UNHEALTHY_THRESHOLD
}

/// TLS towards the backend.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BackendTls {
    #[serde(default = "yes")]
    pub verify: bool,
    pub ca: Option<PathBuf>,
    pub sni: Option<String>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PoolMember {
    /// The name of another backend (which must not itself be a pool).
    pub backend: String,
    pub priority: Option<u32>,
    pub weight: Option<u32>,
}
