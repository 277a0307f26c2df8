//! Configuration hot reload: on SIGHUP, or when the config file, a policy file, a
//! named-value file or a certificate file changes, the whole configuration is loaded,
//! compiled and checked again on a control thread, and only a configuration that passes
//! every step reaches the shards. Each shard switches at request boundaries (a request
//! finishes with the snapshot it started with) and keeps its state keyed by name:
//! rate-limit and quota counters (keyed by policy and document name, see
//! `tollgate_policies::compile::throttle`), `limit-concurrency` gauges, backend
//! connection pools, key sets and verified-token caches. A configuration that fails is
//! logged in full (file:line:col and hints) and the running one stays.
//!
//! Settings that shape the process itself (listeners, shards, TLS, HTTP/2, the pool,
//! OpenID fetching, rate-limit sharing, reload itself) take effect at the next restart;
//! a reload that changes one says so and keeps the running value.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::tls::watch::stamp;

use tollgate_core::config::{self, Config, Loaded, NamedValueSource};

use crate::runtime::Installer;
use crate::snapshot::Snapshot;

/// How long a changed file must stay unchanged before it is loaded (a file being
/// written is not read half-way).
const SETTLE: Duration = Duration::from_millis(200);

/// The running configuration and the means to replace it.
pub struct Reloader {
    file: PathBuf,
    installer: Installer,
    running: Mutex<Running>,
}

struct Running {
    config: Config,
    snapshot: Arc<Snapshot>,
    files: Vec<PathBuf>,
}

/// What a reload that was applied left unapplied: one line per setting that needs a
/// restart.
pub type Deferred = Vec<String>;

impl Reloader {
    /// `loaded` and `snapshot`: what the gateway was started with, from `file`.
    pub fn new(
        file: PathBuf,
        loaded: &Loaded,
        snapshot: Arc<Snapshot>,
        installer: Installer,
    ) -> Reloader {
        Reloader {
            file,
            installer,
            running: Mutex::new(Running {
                config: loaded.config.clone(),
                snapshot,
                files: files(loaded),
            }),
        }
    }

    /// The files a change of which triggers a reload.
    pub fn watched(&self) -> Vec<PathBuf> {
        self.lock().files.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        // A panic while holding it cannot leave `Running` half-written (it is replaced
        // whole), so a poisoned lock is still good.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads, compiles and checks the configuration again and hands it to every shard.
    /// Err: the full error report; the running configuration stays.
    pub fn reload(&self) -> Result<Deferred, String> {
        // One reload at a time, from reading the files to installing: a SIGHUP and a
        // file change at once must not install the older read last.
        let mut running = self.lock();
        let loaded = config::load_file(&self.file).map_err(|e| format!("{e}"))?;
        let mut snapshot = Snapshot::build(&loaded).map_err(|e| e.report(&loaded))?;
        let missing: Vec<&str> = snapshot
            .jwt_sources
            .iter()
            .filter(|u| !running.snapshot.jwt_sources.contains(u))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{}: policies name openid-config URLs the running gateway does not fetch keys \
                 from: {}\n  hint: new key sources need a restart; the running configuration stays\n",
                self.file.display(),
                missing.join(", ")
            ));
        }
        let deferred = restart_only(&running.config, &loaded.config);
        snapshot.keep_process_settings(&running.snapshot);
        let snapshot = Arc::new(snapshot);
        self.installer.install(&snapshot);
        *running = Running {
            config: loaded.config.clone(),
            snapshot,
            files: files(&loaded),
        };
        for w in &loaded.warnings {
            crate::warn!("{w}");
        }
        Ok(deferred)
    }

    /// Reloads and logs the outcome; `why`: what asked (SIGHUP, a changed file).
    pub fn reload_and_log(&self, why: &str) {
        match self.reload() {
            Ok(deferred) => {
                crate::info!("{why}: configuration reloaded from {}", self.file.display());
                for d in deferred {
                    crate::warn!("{d}");
                }
            }
            Err(report) => crate::error!(
                "{why}: the configuration in {} was not applied (the running one stays):\n{}",
                self.file.display(),
                report.trim_end()
            ),
        }
    }
}

/// The process-level settings that differ: each stays as it is until a restart.
fn restart_only(old: &Config, new: &Config) -> Deferred {
    let (o, n) = (&old.gateway, &new.gateway);
    let mut out = Vec::new();
    let mut check = |changed: bool, key: &str| {
        if changed {
            out.push(format!(
                "{key} changed: it takes effect at the next restart (the running value stays)"
            ));
        }
    };
    check(o.shards != n.shards, "gateway.shards");
    check(o.listen != n.listen, "gateway.listen");
    check(o.admin != n.admin, "gateway.admin");
    check(
        o.tls != n.tls,
        "gateway.tls (certificate files themselves reload when they change)",
    );
    check(o.http2 != n.http2, "gateway.http2");
    check(o.pool != n.pool, "gateway.pool");
    check(o.openid != n.openid, "gateway.openid");
    check(o.reload != n.reload, "gateway.reload");
    check(old.rate_limits != new.rate_limits, "rate-limits");
    check(old.logging != new.logging, "logging");
    out
}

/// The config file and every file it makes the gateway read.
fn files(loaded: &Loaded) -> Vec<PathBuf> {
    let c = &loaded.config;
    let mut out = vec![loaded.origin.clone()];
    let policy = |p: &String| (!p.trim_start().starts_with('<')).then(|| PathBuf::from(p));
    out.extend(c.policies.global.iter().filter_map(policy));
    out.extend(c.policies.fragments.values().filter_map(policy));
    out.extend(
        c.products
            .iter()
            .filter_map(|p| p.policy.as_ref().and_then(policy)),
    );
    for api in &c.apis {
        out.extend(api.policy.as_ref().and_then(policy));
        out.extend(
            api.operations
                .iter()
                .filter_map(|o| o.policy.as_ref().and_then(policy)),
        );
    }
    for nv in c.named_values.values() {
        if let NamedValueSource::File { file, .. } = nv {
            out.push(file.clone());
        }
    }
    out.extend(c.certificates.values().map(|x| x.file.clone()));
    out.sort();
    out.dedup();
    out
}

/// The files `loaded` was read from and their state now: taken right after loading, so
/// a change made while the gateway starts is not missed.
pub struct Baseline {
    paths: Vec<PathBuf>,
    stamp: crate::tls::watch::Stamp,
}

pub fn baseline(loaded: &Loaded) -> Baseline {
    let paths = files(loaded);
    let stamp = stamp(&paths);
    Baseline { paths, stamp }
}

/// Starts the thread that reloads when a watched file changes from `since` (checked
/// every `interval`; a zero interval: no thread).
pub fn watch(reloader: Arc<Reloader>, interval: Duration, since: Baseline) {
    if interval.is_zero() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("tollgate-config-watch".into())
        .spawn(move || {
            let Baseline {
                mut paths,
                stamp: mut last,
            } = since;
            loop {
                std::thread::sleep(interval);
                let now = stamp(&paths);
                if now == last {
                    continue;
                }
                // Let a file being written finish.
                std::thread::sleep(SETTLE);
                last = stamp(&paths);
                reloader.reload_and_log("a configuration file changed");
                // The new configuration may name other files.
                let named = reloader.watched();
                if named != paths {
                    paths = named;
                    last = stamp(&paths);
                }
            }
        });
    if let Err(e) = spawned {
        crate::error!("cannot start the configuration watcher: {e}; reload with SIGHUP");
    }
}
