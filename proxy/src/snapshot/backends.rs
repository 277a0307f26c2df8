//! Where requests can go, resolved once at load: each API's service URL and each named
//! backend as a `Dest` (address, plus the TLS profile of an https URL), and the hosts
//! side requests may name. DNS resolution happens here, never on a shard.
//!
//! An https URL uses the `tls:` settings of the named backend with the same host and
//! port when there is one (so an API's service URL can use a private CA), else the
//! defaults (Mozilla roots, verify, SNI = host).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use tollgate_core::config::{BackendTls, Loaded};
use tollgate_core::routing::service_url::Scheme;
use tollgate_core::routing::{RouteError, RouteTable, ServiceUrl};

use crate::upstream::tls::{profile, TlsProfile};
use crate::upstream::Dest;

/// Resolved destinations.
#[derive(Debug, Default)]
pub struct Backends {
    /// Indexed like `routes.apis`.
    pub apis: Vec<Option<Dest>>,
    /// Named backends with their URL.
    pub named: Vec<(String, ServiceUrl, Dest)>,
    /// Every (host, port) a service URL or backend names, for side requests.
    pub hosts: Vec<(String, u16, Dest)>,
}

pub fn resolve(loaded: &Loaded, routes: &RouteTable) -> Result<Backends, Vec<RouteError>> {
    let config = &loaded.config;
    let mut errors = Vec::new();
    // Named backends' URLs first: their TLS settings also serve service URLs.
    let mut urls = Vec::new();
    for (name, b) in &config.backends {
        let Some(url) = b.url.as_deref() else {
            continue;
        };
        let url = tollgate_core::config::named_values::substitute(url, &loaded.named_values)
            .unwrap_or_default();
        match ServiceUrl::parse(&url) {
            Ok(su) => urls.push((name.clone(), su, b.tls.as_ref())),
            Err(message) => errors.push(RouteError {
                key_path: format!("backends.{name}.url"),
                message,
                hint: "write it as http(s)://host:port/base-path".into(),
            }),
        }
    }
    let mut profiles: Vec<(String, u16, Arc<TlsProfile>)> = Vec::new();
    let mut tls_of = |url: &ServiceUrl,
                      settings: Option<&BackendTls>,
                      key_path: &str,
                      errors: &mut Vec<RouteError>|
     -> Option<Arc<TlsProfile>> {
        if url.scheme != Scheme::Https {
            return None;
        }
        let settings = settings.or_else(|| {
            urls.iter()
                .find(|(_, u, _)| {
                    u.scheme == Scheme::Https && u.host == url.host && u.port == url.port
                })
                .and_then(|(_, _, t)| *t)
        });
        if let Some((_, _, p)) = profiles
            .iter()
            .find(|(h, port, _)| *h == url.host && *port == url.port)
            .filter(|_| settings.is_none())
        {
            return Some(p.clone());
        }
        let id = profiles.len() as u32 + 1;
        match profile(id, &url.host, settings) {
            Ok(p) => {
                let p = Arc::new(p);
                profiles.push((url.host.clone(), url.port, p.clone()));
                Some(p)
            }
            Err((key, message)) => {
                errors.push(RouteError {
                    key_path: key_path.replace("{}", key),
                    message,
                    hint: "backend TLS: verify, ca (PEM), sni, client-cert and client-key (PEM)"
                        .into(),
                });
                None
            }
        }
    };
    let mut out = Backends::default();
    for (i, api) in routes.apis.iter().enumerate() {
        let dest = api.service_url.as_ref().and_then(|url| {
            let key_path = format!("apis[{i}].service-url");
            let addr = lookup(url, &key_path, &mut errors)?;
            let tls = tls_of(url, None, &key_path, &mut errors);
            Some(Dest { addr, tls })
        });
        out.apis.push(dest);
    }
    for (name, su, settings) in &urls {
        let key_path = format!("backends.{name}.url");
        let Some(addr) = lookup(su, &key_path, &mut errors) else {
            continue;
        };
        let tls_path = format!("backends.{name}.tls.{{}}");
        let tls = tls_of(su, *settings, &tls_path, &mut errors);
        out.named
            .push((name.clone(), su.clone(), Dest { addr, tls }));
    }
    let apis = routes
        .apis
        .iter()
        .zip(&out.apis)
        .filter_map(|(a, d)| Some((a.service_url.as_ref()?, d.as_ref()?)));
    let mut hosts: Vec<(String, u16, Dest)> = Vec::new();
    for (url, dest) in apis.chain(out.named.iter().map(|(_, u, d)| (u, d))) {
        if !hosts
            .iter()
            .any(|(h, p, _)| *h == url.host && *p == url.port)
        {
            hosts.push((url.host.clone(), url.port, dest.clone()));
        }
    }
    out.hosts = hosts;
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn lookup(url: &ServiceUrl, key_path: &str, errors: &mut Vec<RouteError>) -> Option<SocketAddr> {
    match (url.host.as_str(), url.port).to_socket_addrs() {
        Ok(mut addrs) => addrs.next(),
        Err(e) => {
            errors.push(RouteError {
                key_path: key_path.to_string(),
                message: format!("cannot resolve host `{}`: {e}", url.host),
                hint: "use an IP address or a name this host can resolve".into(),
            });
            None
        }
    }
}
