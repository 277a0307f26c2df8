//! `rate-limits:`, `cache:`, `logging:` and `telemetry:` — shared services the policies
//! and the data plane use.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::size::ByteSize;

pub const DEFAULT_RATE_LIMIT_MAX_KEYS: u64 = 1_000_000;
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "tollgate:";
pub const DEFAULT_REDIS_SYNC_INTERVAL: Duration = Duration::from_millis(50);
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(50);
pub const DEFAULT_ACCESS_LOG_PATH: &str = "stdout";
pub const DEFAULT_OTLP_SAMPLING: f64 = 1.0;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RateLimits {
    /// Per gateway; idle keys are evicted beyond it.
    #[serde(default = "default_max_keys")]
    pub max_keys: u64,
    pub redis: Option<RateLimitRedis>,
}

fn default_max_keys() -> u64 {
    DEFAULT_RATE_LIMIT_MAX_KEYS
}

fn default_key_prefix() -> String {
    DEFAULT_REDIS_KEY_PREFIX.to_owned()
}

fn default_sync_interval() -> Duration {
    DEFAULT_REDIS_SYNC_INTERVAL
}

fn default_redis_timeout() -> Duration {
    DEFAULT_REDIS_TIMEOUT
}

/// Cluster-wide counters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RateLimitRedis {
    pub url: String,
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    #[serde(default = "default_sync_interval", with = "crate::config::duration")]
    pub sync_interval: Duration,
    #[serde(default)]
    pub on_failure: OnFailure,
}

/// What a rate limit does when Redis is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Count locally and let requests through.
    #[default]
    Open,
    /// Refuse requests.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Cache {
    /// Internal cache size, split across shards.
    pub memory: Option<ByteSize>,
    /// `caching-type="external"`.
    pub redis: Option<CacheRedis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CacheRedis {
    pub url: String,
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    #[serde(default = "default_redis_timeout", with = "crate::config::duration")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Logging {
    pub level: LogLevel,
    pub access: Option<AccessLog>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct AccessLog {
    /// `stdout` or a file path.
    pub path: String,
    pub format: AccessLogFormat,
}

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog {
            path: DEFAULT_ACCESS_LOG_PATH.to_owned(),
            format: AccessLogFormat::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessLogFormat {
    /// One JSON object per line.
    #[default]
    Json,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Telemetry {
    pub otlp: Option<Otlp>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Otlp {
    pub endpoint: String,
    /// Fraction of requests traced, 0.0 to 1.0.
    #[serde(default = "default_sampling")]
    pub sampling: f64,
}

fn default_sampling() -> f64 {
    DEFAULT_OTLP_SAMPLING
}
