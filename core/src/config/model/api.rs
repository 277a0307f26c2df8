//! `apis:`, `products:`, `subscriptions:` and `api-version-sets:` — APIM's entities, with
//! APIM's names and defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::yes;
use crate::config::named_values::SecretSource;

/// APIM's default subscription key header.
pub const DEFAULT_SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";
/// APIM's default subscription key query parameter.
pub const DEFAULT_SUBSCRIPTION_KEY_QUERY: &str = "subscription-key";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Api {
    pub id: String,
    pub display_name: Option<String>,
    /// URL suffix after the host, without leading or trailing `/`; may be empty.
    pub path: String,
    pub service_url: Option<String>,
    #[serde(default = "default_protocols")]
    pub protocols: Vec<Protocol>,
    #[serde(default = "yes")]
    pub subscription_required: bool,
    #[serde(default)]
    pub subscription_key: SubscriptionKeyNames,
    /// A policy file path, or inline XML starting with `<`.
    pub policy: Option<String>,
    #[serde(default)]
    pub operations: Vec<Operation>,
    pub openapi: Option<PathBuf>,
    pub api_version: Option<String>,
    pub api_version_set_id: Option<String>,
    pub api_revision: Option<String>,
    pub is_current: Option<bool>,
}

fn default_protocols() -> Vec<Protocol> {
    vec![Protocol::Http, Protocol::Https]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
    Ws,
    Wss,
}

/// Where a caller puts the subscription key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct SubscriptionKeyNames {
    pub header: String,
    pub query: String,
}

impl Default for SubscriptionKeyNames {
    fn default() -> Self {
        SubscriptionKeyNames {
            header: DEFAULT_SUBSCRIPTION_KEY_HEADER.to_owned(),
            query: DEFAULT_SUBSCRIPTION_KEY_QUERY.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Operation {
    pub id: String,
    pub display_name: Option<String>,
    /// An HTTP method token such as `GET`.
    pub method: String,
    /// Starts with `/`; `{param}` segments; `/*` matches any path.
    pub url_template: String,
    pub policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Product {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// API ids.
    #[serde(default)]
    pub apis: Vec<String>,
    #[serde(default = "yes")]
    pub subscription_required: bool,
    #[serde(default)]
    pub approval_required: bool,
    pub state: Option<ProductState>,
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProductState {
    Published,
    NotPublished,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Subscription {
    pub id: String,
    pub display_name: Option<String>,
    /// `product/ID`, `api/ID` or `all-apis`.
    pub scope: String,
    pub primary_key: Option<SecretSource>,
    pub secondary_key: Option<SecretSource>,
    #[serde(default)]
    pub state: SubscriptionState,
    #[serde(default)]
    pub allow_tracing: bool,
    /// ISO 8601 UTC (`2026-01-31` or `2026-01-31T08:00:00Z`): keys work from then on.
    pub start_date: Option<String>,
    /// ISO 8601 UTC: keys stop working then (APIM's expiration date).
    pub end_date: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionState {
    #[default]
    Active,
    Suspended,
    Submitted,
    Rejected,
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ApiVersionSet {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub versioning_scheme: VersioningScheme,
    /// For `Query`: the query parameter carrying the version.
    pub version_query_name: Option<String>,
    /// For `Header`: the header carrying the version.
    pub version_header_name: Option<String>,
}

/// Where the version goes in the request, with APIM's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum VersioningScheme {
    #[serde(alias = "segment")]
    Segment,
    #[serde(alias = "query")]
    Query,
    #[serde(alias = "header")]
    Header,
}
