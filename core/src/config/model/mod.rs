//! The configuration model: the typed form of `gateway.yaml`, with its defaults.
//!
//! Keys are kebab-case and every struct refuses unknown keys. Defaults are the named
//! constants below. Reading and checking live elsewhere (`load.rs`, `validate.rs`); this
//! module only says what a config is.

mod api;
mod backend;
mod gateway;
mod services;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use self::api::*;
pub use self::backend::*;
pub use self::gateway::*;
pub use self::services::*;
pub use super::named_values::{NamedValueSource, SecretSource};

/// The whole of `gateway.yaml`. Every top-level key is optional.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    pub gateway: Gateway,
    pub named_values: BTreeMap<String, NamedValueSource>,
    /// APIM's certificate store: id → certificate, for `certificate-id` in policies.
    pub certificates: BTreeMap<String, Certificate>,
    pub backends: BTreeMap<String, Backend>,
    pub apis: Vec<Api>,
    pub products: Vec<Product>,
    pub subscriptions: Vec<Subscription>,
    pub policies: Policies,
    pub api_version_sets: Vec<ApiVersionSet>,
    pub rate_limits: Option<RateLimits>,
    pub cache: Option<Cache>,
    pub logging: Option<Logging>,
    pub telemetry: Option<Telemetry>,
}

/// Policies outside any API: the "All APIs" scope and reusable fragments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Policies {
    /// A policy file path, or inline XML starting with `<`.
    pub global: Option<String>,
    /// Fragment name → policy file path (or inline XML).
    pub fragments: BTreeMap<String, String>,
}

/// A certificate policies refer to by id (validate-jwt `<key certificate-id>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Certificate {
    /// A PEM file: an X.509 certificate (or a public key).
    pub file: std::path::PathBuf,
}

pub(crate) fn yes() -> bool {
    true
}
