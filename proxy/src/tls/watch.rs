//! Reloads the server certificates when their files change, without a restart and
//! without touching open connections: a control thread compares the files' size and
//! modification time every `gateway.tls.watch-interval` and, on a change, loads the
//! whole set again. A set that fails to load (a half-copied key, a mismatch) is logged
//! and the previous certificates stay in service; the next change is tried again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::certs::{files, SniTable};
use super::server::ServerTls;

type Stamp = Vec<Option<(u64, SystemTime)>>;

fn stamp(paths: &[PathBuf]) -> Stamp {
    paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        })
        .collect()
}

/// Starts the watcher thread (nothing when the interval is 0).
pub fn start(tls: &ServerTls) {
    if tls.watch_interval.is_zero() {
        return;
    }
    let entries = tls.certificates.clone();
    let resolver = Arc::clone(&tls.resolver);
    let interval = tls.watch_interval;
    let paths = files(&entries);
    let spawned = std::thread::Builder::new()
        .name("tollgate-tls-watch".into())
        .spawn(move || {
            let mut last = stamp(&paths);
            loop {
                std::thread::sleep(interval);
                let now = stamp(&paths);
                if now == last {
                    continue;
                }
                last = now;
                match reload(&entries) {
                    Ok(table) => {
                        resolver.replace(table);
                        crate::info!("TLS certificates reloaded from their files");
                    }
                    Err(why) => crate::error!(
                        "TLS certificates changed but cannot be loaded, keeping the previous ones: {why}"
                    ),
                }
            }
        });
    if let Err(e) = spawned {
        crate::error!("cannot watch the TLS certificate files: {e}");
    }
}

/// Loads the whole set again; the error lists every failing entry.
pub fn reload(entries: &[tollgate_core::config::TlsCertificate]) -> Result<SniTable, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    SniTable::load(entries, now).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.key_path, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    })
}
