//! Who may call what: subscriptions, products and APIM's subscription key rules.
//!
//! Built once per configuration; a request asks [`Access::authorize`] with the key it
//! carried (if any) and gets back the subscription and product context it runs in, or
//! APIM's 401. The rules, in APIM's order:
//!
//! 1. With a key: a valid key of an active subscription scoped to this API, to a product
//!    holding this API, or to all APIs passes (product scope gives a product context).
//! 2. A key that does not pass, when an *open* product (no subscription required) holds
//!    the API: the key is ignored and the request runs as one without a key.
//! 3. Without a key: the API's open product gives the context; else an API that does not
//!    require a subscription runs without one; else 401 "missing key".
//!
//! Any other key is 401 "invalid key" — including a valid key scoped elsewhere.

mod dates;
mod keys;

use std::path::Path;

pub use dates::{civil_from_days, days_from_civil, format_utc, parse_utc};
pub use keys::{constant_time_eq, digest, KeyIndex, Which};

use crate::config::{Config, ProductState, SubscriptionState};
use crate::error::GatewayError;

/// A subscription's scope, resolved to indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Product(u32),
    Api(u32),
    AllApis,
}

/// A subscription as expressions see it (`context.Subscription`).
#[derive(Clone, Debug)]
pub struct SubscriptionEntry {
    pub id: String,
    /// Display name, or the id.
    pub name: String,
    pub scope: Scope,
    pub state: SubscriptionState,
    pub primary_key: Option<String>,
    pub secondary_key: Option<String>,
    /// Unix seconds, UTC.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub allow_tracing: bool,
}

/// A product as expressions see it (`context.Product`).
#[derive(Clone, Debug)]
pub struct ProductEntry {
    pub id: String,
    pub name: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub published: bool,
    /// API indices.
    pub apis: Vec<u32>,
}

/// Per API: where its key travels and who opens it.
#[derive(Clone, Debug)]
pub struct ApiAccess {
    pub key_header: String,
    pub key_query: String,
    pub subscription_required: bool,
    /// The one product holding this API that needs no subscription.
    pub open_product: Option<u32>,
}

/// The context a request runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub subscription: Option<(u32, Which)>,
    pub product: Option<u32>,
}

/// Subscriptions, products and the key index of one configuration.
#[derive(Debug, Default)]
pub struct Access {
    pub subscriptions: Vec<SubscriptionEntry>,
    pub products: Vec<ProductEntry>,
    pub apis: Vec<ApiAccess>,
    keys: KeyIndex,
}

impl Access {
    /// Builds the index from a validated configuration (keys are read here: env and
    /// file sources resolve relative to the process, as the loader left them).
    pub fn build(config: &Config) -> Result<Access, String> {
        let api_index = |id: &str| config.apis.iter().position(|a| a.id == id);
        let products: Vec<ProductEntry> = config
            .products
            .iter()
            .map(|p| ProductEntry {
                id: p.id.clone(),
                name: p.display_name.clone().unwrap_or_else(|| p.id.clone()),
                subscription_required: p.subscription_required,
                approval_required: p.approval_required,
                published: p.state == Some(ProductState::Published),
                apis: p
                    .apis
                    .iter()
                    .filter_map(|a| api_index(a).map(|i| i as u32))
                    .collect(),
            })
            .collect();
        let apis = config
            .apis
            .iter()
            .enumerate()
            .map(|(i, a)| ApiAccess {
                key_header: a.subscription_key.header.clone(),
                key_query: a.subscription_key.query.clone(),
                subscription_required: a.subscription_required,
                open_product: products
                    .iter()
                    .position(|p| !p.subscription_required && p.apis.contains(&(i as u32)))
                    .map(|p| p as u32),
            })
            .collect();
        let mut keys = KeyIndex::default();
        let mut subscriptions = Vec::with_capacity(config.subscriptions.len());
        for (i, s) in config.subscriptions.iter().enumerate() {
            let scope =
                match s.scope.split_once('/') {
                    _ if s.scope == "all-apis" => Scope::AllApis,
                    Some(("product", id)) => {
                        Scope::Product(config.products.iter().position(|p| p.id == id).ok_or_else(
                            || format!("subscription `{}`: unknown product `{id}`", s.id),
                        )? as u32)
                    }
                    Some(("api", id)) => Scope::Api(
                        api_index(id)
                            .ok_or_else(|| format!("subscription `{}`: unknown API `{id}`", s.id))?
                            as u32,
                    ),
                    _ => return Err(format!("subscription `{}`: invalid scope", s.id)),
                };
            let read =
                |src: &Option<crate::config::SecretSource>| -> Result<Option<String>, String> {
                    src.as_ref()
                        .map(|k| k.resolve(Path::new("")))
                        .transpose()
                        .map_err(|e| format!("subscription `{}`: {e}", s.id))
                };
            let primary_key = read(&s.primary_key)?;
            let secondary_key = read(&s.secondary_key)?;
            for (key, which) in [
                (&primary_key, Which::Primary),
                (&secondary_key, Which::Secondary),
            ] {
                if let Some(k) = key {
                    if !keys.insert(k.as_bytes(), i as u32, which) {
                        return Err(format!(
                            "subscription `{}`: its key is also another subscription's key",
                            s.id
                        ));
                    }
                }
            }
            subscriptions.push(SubscriptionEntry {
                id: s.id.clone(),
                name: s.display_name.clone().unwrap_or_else(|| s.id.clone()),
                scope,
                state: s.state,
                primary_key,
                secondary_key,
                start: s.start_date.as_deref().and_then(parse_utc),
                end: s.end_date.as_deref().and_then(parse_utc),
                allow_tracing: s.allow_tracing,
            });
        }
        Ok(Access {
            subscriptions,
            products,
            apis,
            keys,
        })
    }

    /// Decides the context of a request to API `api` carrying `key` (header or query,
    /// already decoded), at `now` (unix seconds). Allocates nothing.
    pub fn authorize(
        &self,
        api: u32,
        key: Option<&[u8]>,
        now: i64,
    ) -> Result<Caller, GatewayError> {
        let Some(rules) = self.apis.get(api as usize) else {
            return Err(GatewayError::SubscriptionKeyInvalid);
        };
        if let Some(key) = key {
            if let Some(caller) = self.by_key(api, key, now) {
                return Ok(caller);
            }
            return match rules.open_product {
                Some(p) => Ok(Caller {
                    subscription: None,
                    product: Some(p),
                }),
                None => Err(GatewayError::SubscriptionKeyInvalid),
            };
        }
        match rules.open_product {
            Some(p) => Ok(Caller {
                subscription: None,
                product: Some(p),
            }),
            None if !rules.subscription_required => Ok(Caller::default()),
            None => Err(GatewayError::SubscriptionKeyNotFound),
        }
    }

    fn by_key(&self, api: u32, key: &[u8], now: i64) -> Option<Caller> {
        let (sub, which) = self.keys.find(key)?;
        let s = self.subscriptions.get(sub as usize)?;
        let live = s.state == SubscriptionState::Active
            && s.start.is_none_or(|t| now >= t)
            && s.end.is_none_or(|t| now < t);
        if !live {
            return None;
        }
        let product = match s.scope {
            Scope::AllApis => None,
            Scope::Api(a) if a == api => None,
            Scope::Api(_) => return None,
            Scope::Product(p) if self.products.get(p as usize)?.apis.contains(&api) => Some(p),
            Scope::Product(_) => return None,
        };
        Some(Caller {
            subscription: Some((sub, which)),
            product,
        })
    }

    /// Whether any API checks keys or any product opens an API (else identification
    /// is skipped entirely).
    pub fn is_open(&self) -> bool {
        self.keys.is_empty()
            && self
                .apis
                .iter()
                .all(|a| !a.subscription_required && a.open_product.is_none())
    }
}

#[cfg(test)]
mod tests;
