//! Where requests can go, resolved once at load: each API's service URL and each named
//! backend as a `Dest` (address, plus the TLS profile of an https URL), and the hosts
//! side requests may name. DNS resolution happens here, never on a shard.
//!
//! An https URL uses the `tls:` settings of the named backend with the same host and
//! port when there is one (so an API's service URL can use a private CA), else the
//! defaults (Mozilla roots, verify, SNI = host).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use tollgate_core::config::{BackendProtocol, BackendTls, Loaded};
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
    // Named backends' URLs first: their settings (TLS, protocol) also serve service
    // URLs with the same scheme, host and port.
    let mut urls = Vec::new();
    for (name, b) in &config.backends {
        let Some(url) = b.url.as_deref() else {
            continue;
        };
        let url = tollgate_core::config::named_values::substitute(url, &loaded.named_values)
            .unwrap_or_default();
        match ServiceUrl::parse(&url) {
            Ok(su) => urls.push((name.clone(), su, b.tls.as_ref(), b.protocol)),
            Err(message) => errors.push(RouteError {
                key_path: format!("backends.{name}.url"),
                message,
                hint: "write it as http(s)://host:port/base-path".into(),
            }),
        }
    }
    let same = |a: &ServiceUrl, b: &ServiceUrl| {
        a.scheme == b.scheme && a.host == b.host && a.port == b.port
    };
    let mut profiles = Profiles::default();
    let mut out = Backends::default();
    for (i, api) in routes.apis.iter().enumerate() {
        let dest = api.service_url.as_ref().and_then(|url| {
            let key_path = format!("apis[{i}].service-url");
            let addr = lookup(url, &key_path, &mut errors)?;
            let twin = urls.iter().find(|(_, u, _, _)| same(u, url));
            let (settings, protocol) = twin.map_or((None, BackendProtocol::Http1), |t| (t.2, t.3));
            let h2 = protocol != BackendProtocol::Http1;
            let tls = profiles.get(url, settings, h2, &key_path, &mut errors);
            Some(Dest { addr, tls, h2 })
        });
        out.apis.push(dest);
    }
    for (name, su, settings, protocol) in &urls {
        let key_path = format!("backends.{name}.url");
        let Some(addr) = lookup(su, &key_path, &mut errors) else {
            continue;
        };
        let h2 = *protocol != BackendProtocol::Http1;
        if (*protocol == BackendProtocol::H2) != (su.scheme == Scheme::Https) && h2 {
            errors.push(RouteError {
                key_path: format!("backends.{name}.protocol"),
                message: "`h2` needs an https:// URL and `h2c` an http:// one".into(),
                hint: "h2 is HTTP/2 over TLS; h2c is cleartext HTTP/2 with prior knowledge".into(),
            });
            continue;
        }
        let tls_path = format!("backends.{name}.tls.{{}}");
        let tls = profiles.get(su, *settings, h2, &tls_path, &mut errors);
        out.named
            .push((name.clone(), su.clone(), Dest { addr, tls, h2 }));
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

/// TLS profiles made so far: one per (host, port, protocol) with default settings, one
/// per backend with its own.
#[derive(Default)]
struct Profiles(Vec<(String, u16, bool, Arc<TlsProfile>)>);

impl Profiles {
    fn get(
        &mut self,
        url: &ServiceUrl,
        settings: Option<&BackendTls>,
        h2: bool,
        key_path: &str,
        errors: &mut Vec<RouteError>,
    ) -> Option<Arc<TlsProfile>> {
        if url.scheme != Scheme::Https {
            return None;
        }
        let shared = self
            .0
            .iter()
            .find(|(h, p, two, _)| *h == url.host && *p == url.port && *two == h2);
        if let (Some((_, _, _, p)), None) = (shared, settings) {
            return Some(p.clone());
        }
        match profile(crate::upstream::tls::next_id(), &url.host, settings, h2) {
            Ok(p) => {
                let p = Arc::new(p);
                self.0.push((url.host.clone(), url.port, h2, p.clone()));
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
