//! Reloads the server certificates when their files change or on SIGHUP, without a
//! restart and without touching open connections: a control thread compares the files'
//! size and modification time every `gateway.tls.watch-interval` and, on a change or a
//! reload request, loads the whole set again. A set that fails to load (a half-copied
//! key, a mismatch) is logged and the previous certificates stay in service; the next
//! change is tried again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::certs::{files, SniTable};
use super::server::ServerTls;

/// Size and modification time of each file (`None`: unreadable), to notice changes.
pub(crate) type Stamp = Vec<Option<(u64, SystemTime)>>;

pub(crate) fn stamp(paths: &[PathBuf]) -> Stamp {
    paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        })
        .collect()
}

/// Asks the watcher to load the certificates again now (SIGHUP).
pub type Reload = crossbeam_channel::Sender<()>;

/// Starts the watcher thread. With a zero interval it only reloads on request.
pub fn start(tls: &ServerTls) -> Option<Reload> {
    let entries = tls.certificates.clone();
    let resolver = Arc::clone(&tls.resolver);
    let interval = tls.watch_interval;
    let paths = files(&entries);
    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    let spawned = std::thread::Builder::new()
        .name("tollgate-tls-watch".into())
        .spawn(move || {
            let mut last = stamp(&paths);
            loop {
                let asked = if interval.is_zero() {
                    match rx.recv() {
                        Ok(()) => true,
                        Err(_) => return,
                    }
                } else {
                    match rx.recv_timeout(interval) {
                        Ok(()) => true,
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => false,
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
                    }
                };
                let now = stamp(&paths);
                if now == last && !asked {
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
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            crate::error!("cannot watch the TLS certificate files: {e}");
            None
        }
    }
}

/// Loads the whole set again; the error lists every failing entry.
pub fn reload(entries: &[tollgate_core::config::TlsCertificate]) -> Result<SniTable, String> {
    SniTable::load(entries, (crate::limits::now_ms() / 1000) as i64).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.key_path, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    })
}
