//! `gateway:` — the process itself: name, shards, listeners, limits, timeouts, forwarding
//! headers and upstream connection pooling.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::yes;
use crate::config::de_error::HINT_SEPARATOR;
use crate::config::named_values::SecretSource;
use crate::config::size::ByteSize;

pub const DEFAULT_GATEWAY_NAME: &str = "tollgate";
/// APIM's self-hosted gateway listens on 8080 for HTTP.
pub const DEFAULT_HTTP_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080));
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
pub const DEFAULT_MAX_HEADERS: usize = 100;
pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
pub const DEFAULT_MAX_BODY_BYTES: u64 = 100 * 1024 * 1024;
pub const DEFAULT_CLIENT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_KEEPALIVE_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
pub const DEFAULT_BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_BACKEND_RESPONSE_TIMEOUT: Duration = Duration::from_secs(300);
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_IDLE_PER_BACKEND: usize = 64;
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Where `validate-azure-ad-token` finds a tenant's OpenID configuration.
pub const DEFAULT_AZURE_AD_AUTHORITY: &str = "https://login.microsoftonline.com";
/// APIM keeps fetched signing keys an hour.
pub const DEFAULT_OPENID_REFRESH: Duration = Duration::from_secs(3600);
/// APIM refetches keys for an unknown `kid` at most every 5 minutes.
pub const DEFAULT_OPENID_MIN_REFRESH: Duration = Duration::from_secs(300);
pub const DEFAULT_OPENID_WAIT: Duration = Duration::from_secs(3);
pub const DEFAULT_OPENID_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Gateway {
    /// `context.Deployment.GatewayId`.
    pub name: String,
    pub shards: Shards,
    pub listen: Listen,
    pub admin: Option<Admin>,
    pub tls: Option<Tls>,
    pub http2: Http2,
    pub limits: Limits,
    pub timeouts: Timeouts,
    pub forwarded: Forwarded,
    pub pool: Pool,
    pub openid: OpenId,
    pub reload: Reload,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            name: DEFAULT_GATEWAY_NAME.to_owned(),
            shards: Shards::Auto,
            listen: Listen::default(),
            admin: None,
            tls: None,
            http2: Http2::default(),
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            forwarded: Forwarded::default(),
            pool: Pool::default(),
            openid: OpenId::default(),
            reload: Reload::default(),
        }
    }
}

/// How many shards (threads, one per core) to run: `auto` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shards {
    /// One per available core.
    #[default]
    Auto,
    Count(NonZeroUsize),
}

impl<'de> Deserialize<'de> for Shards {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShardsVisitor)
    }
}

struct ShardsVisitor;

impl de::Visitor<'_> for ShardsVisitor {
    type Value = Shards;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`auto` or a number of shards")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Shards, E> {
        if v == "auto" {
            return Ok(Shards::Auto);
        }
        match v.parse::<u64>() {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(E::custom(format!(
                "`{v}` is not a shard count{HINT_SEPARATOR}write `auto` or a number such as 4"
            ))),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Shards, E> {
        usize::try_from(v)
            .ok()
            .and_then(NonZeroUsize::new)
            .map(Shards::Count)
            .ok_or_else(|| {
                E::custom(format!(
                    "shards must be at least 1{HINT_SEPARATOR}write `auto` for one per core"
                ))
            })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Shards, E> {
        self.visit_u64(u64::try_from(v).unwrap_or(0))
    }
}

impl Serialize for Shards {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Shards::Auto => s.serialize_str("auto"),
            Shards::Count(n) => s.serialize_u64(n.get() as u64),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Listen {
    /// `null` turns the plain-HTTP listener off.
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            http: Some(DEFAULT_HTTP_LISTEN),
            https: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Admin {
    pub listen: SocketAddr,
    /// Required when the admin listener is not on loopback.
    pub token: Option<SecretSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Tls {
    #[serde(default)]
    pub certificates: Vec<TlsCertificate>,
    pub client_certificates: Option<ClientCertificates>,
    /// The lowest protocol version accepted: `1.2` or `1.3`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// IANA names of the cipher suites offered (e.g. `TLS13_AES_128_GCM_SHA256`);
    /// empty: rustls' defaults.
    #[serde(default)]
    pub cipher_suites: Vec<String>,
    /// Stateless session tickets (TLS 1.3 and 1.2), keys rotated every 6 hours.
    #[serde(default = "yes")]
    pub session_tickets: bool,
    /// Sessions kept for resumption by id (TLS 1.2 clients without tickets); 0: none.
    #[serde(default = "default_session_cache")]
    pub session_cache: usize,
    /// How often the certificate files are checked for changes; `0s`: never.
    #[serde(default = "default_tls_watch", with = "crate::config::duration")]
    pub watch_interval: Duration,
}

/// Configuration hot reload (SIGHUP, or the files changing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Reload {
    /// How often the config file, its policy files and named-value files are checked
    /// for changes; `0s`: only on SIGHUP.
    #[serde(with = "crate::config::duration")]
    pub watch_interval: Duration,
}

pub const DEFAULT_RELOAD_WATCH_INTERVAL: Duration = Duration::from_secs(5);

impl Default for Reload {
    fn default() -> Self {
        Reload {
            watch_interval: DEFAULT_RELOAD_WATCH_INTERVAL,
        }
    }
}

pub const DEFAULT_TLS_SESSION_CACHE: usize = 4096;
pub const DEFAULT_TLS_WATCH_INTERVAL: Duration = Duration::from_secs(5);

fn default_session_cache() -> usize {
    DEFAULT_TLS_SESSION_CACHE
}

fn default_tls_watch() -> Duration {
    DEFAULT_TLS_WATCH_INTERVAL
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum TlsVersion {
    #[default]
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TlsCertificate {
    /// Exact names or `*.suffix` wildcards; empty for a default-only certificate.
    #[serde(default)]
    pub hostnames: Vec<String>,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A DER OCSP response to staple.
    pub ocsp: Option<PathBuf>,
    /// Served when no host name matches (or the client sent none). Without one
    /// marked, the first certificate is the default.
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClientCertificates {
    #[serde(default)]
    pub mode: ClientCertMode,
    pub ca: Option<PathBuf>,
    /// A certificate revocation list (PEM or DER) of `ca`.
    pub crl: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientCertMode {
    #[default]
    Off,
    Optional,
    Required,
}

/// Bounds on what a client may send; sizes accept `64KiB`-style spellings too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Limits {
    #[serde(deserialize_with = "crate::config::size::usize_bytes")]
    pub max_header_bytes: usize,
    pub max_headers: usize,
    #[serde(deserialize_with = "crate::config::size::usize_bytes")]
    pub max_uri_bytes: usize,
    #[serde(deserialize_with = "crate::config::size::u64_bytes")]
    pub max_body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Timeouts {
    #[serde(with = "crate::config::duration")]
    pub client_header: Duration,
    #[serde(with = "crate::config::duration")]
    pub keepalive_idle: Duration,
    #[serde(with = "crate::config::duration")]
    pub backend_connect: Duration,
    #[serde(with = "crate::config::duration")]
    pub backend_response: Duration,
    #[serde(with = "crate::config::duration")]
    pub shutdown_grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            client_header: DEFAULT_CLIENT_HEADER_TIMEOUT,
            keepalive_idle: DEFAULT_KEEPALIVE_IDLE_TIMEOUT,
            backend_connect: DEFAULT_BACKEND_CONNECT_TIMEOUT,
            backend_response: DEFAULT_BACKEND_RESPONSE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Which `X-Forwarded-*` headers the gateway adds, and whether `Host` is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Forwarded {
    pub x_forwarded_for: bool,
    pub x_forwarded_proto: bool,
    pub x_forwarded_host: bool,
    /// `false`: `Host` is rewritten to the backend's.
    pub preserve_host: bool,
}

impl Default for Forwarded {
    fn default() -> Self {
        Forwarded {
            x_forwarded_for: yes(),
            x_forwarded_proto: yes(),
            x_forwarded_host: yes(),
            preserve_host: false,
        }
    }
}

/// HTTP/2 from clients: over TLS by ALPN, and cleartext with prior knowledge (h2c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Http2 {
    /// Offer `h2` in the TLS handshake (ALPN).
    pub enabled: bool,
    /// Accept HTTP/2 with prior knowledge on the plain listener.
    pub h2c: bool,
    pub max_concurrent_streams: u32,
    /// Flow-control window of each stream (the connection's is 4 times it).
    pub initial_window_size: ByteSize,
    /// Response bytes buffered per stream before the sender waits for the client.
    pub max_send_buffer: ByteSize,
    /// Streams a client may open and reset before they are accepted (rapid reset).
    pub max_pending_resets: u32,
    /// Streams the gateway may reset because of client errors before it closes the
    /// connection.
    pub max_local_resets: u32,
}

impl Default for Http2 {
    fn default() -> Self {
        Http2 {
            enabled: true,
            h2c: false,
            max_concurrent_streams: 100,
            initial_window_size: ByteSize(256 * 1024),
            max_send_buffer: ByteSize(256 * 1024),
            max_pending_resets: 20,
            max_local_resets: 1024,
        }
    }
}

/// Idle upstream connections kept per shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Pool {
    pub max_idle_per_backend: usize,
    #[serde(with = "crate::config::duration")]
    pub idle_timeout: Duration,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            max_idle_per_backend: DEFAULT_MAX_IDLE_PER_BACKEND,
            idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
        }
    }
}

/// Fetching the signing keys of `openid-config` URLs (validate-jwt,
/// validate-azure-ad-token), off the request path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct OpenId {
    /// Replaces `https://login.microsoftonline.com` in validate-azure-ad-token's URLs
    /// (a sovereign cloud, or a local identity provider in tests).
    pub azure_ad_authority: String,
    /// How long keys are kept when the server does not say (`Cache-Control: max-age`).
    #[serde(with = "crate::config::duration")]
    pub refresh: Duration,
    /// A token with an unknown `kid` fetches the keys again at most this often.
    #[serde(with = "crate::config::duration")]
    pub min_refresh: Duration,
    /// How long a request waits for keys that are not there yet (first fetch, unknown
    /// `kid`) before it fails closed with 401.
    #[serde(with = "crate::config::duration")]
    pub wait: Duration,
    /// Time limit of one fetch.
    #[serde(with = "crate::config::duration")]
    pub timeout: Duration,
    /// CA certificates (PEM) trusted for https fetches besides the public roots.
    pub ca: Option<PathBuf>,
}

impl Default for OpenId {
    fn default() -> Self {
        OpenId {
            azure_ad_authority: DEFAULT_AZURE_AD_AUTHORITY.to_owned(),
            refresh: DEFAULT_OPENID_REFRESH,
            min_refresh: DEFAULT_OPENID_MIN_REFRESH,
            wait: DEFAULT_OPENID_WAIT,
            timeout: DEFAULT_OPENID_TIMEOUT,
            ca: None,
        }
    }
}
