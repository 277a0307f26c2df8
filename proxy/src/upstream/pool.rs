//! A shard-local keep-alive pool of backend connections.
//!
//! One pool per shard, never shared: no lock, no atomic. Idle connections are kept per
//! backend destination (address and TLS profile), newest first (LIFO keeps the hot ones warm and lets old ones expire),
//! bounded by `max-idle-per-backend` and discarded after `idle-timeout`. A connection the
//! backend closed while idle is only discovered on use; the caller retries such a failure
//! once on a fresh connection when the request is idempotent (see `server::forward`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;

use super::stream::BackendStream;
use super::tls::{Dest, DYNAMIC};
use crate::snapshot::PoolSettings;
use crate::tls::TlsStream;

struct Idle {
    stream: BackendStream,
    since: Instant,
}

/// A backend connection checked out of the pool (or freshly connected).
pub struct Upstream {
    pub stream: BackendStream,
    /// The pool key of its destination (address, TLS profile id).
    pub key: (SocketAddr, u32),
    /// True when the connection came from the pool (it may have gone stale).
    pub reused: bool,
}

pub struct Pool {
    idle: RefCell<HashMap<(SocketAddr, u32), Vec<Idle>>>,
    settings: PoolSettings,
}

impl Pool {
    pub fn new(settings: PoolSettings) -> Pool {
        Pool {
            idle: RefCell::new(HashMap::new()),
            settings,
        }
    }

    /// Takes the most recently returned live connection to `dest`, if any.
    pub fn take(&self, dest: &Dest) -> Option<Upstream> {
        let key = dest.key();
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&key)?;
        let now = Instant::now();
        while let Some(c) = list.pop() {
            if now.duration_since(c.since) <= self.settings.idle_timeout {
                return Some(Upstream {
                    stream: c.stream,
                    key,
                    reused: true,
                });
            }
            // Expired: dropping closes it. Everything below it is older: drop them too.
            list.clear();
        }
        None
    }

    /// Returns a connection whose last exchange completed cleanly.
    pub fn put(&self, up: Upstream) {
        if self.settings.max_idle_per_backend == 0 || up.key.1 == DYNAMIC {
            return; // pooling disabled (or a one-off TLS profile): dropping closes it
        }
        let mut idle = self.idle.borrow_mut();
        let list = idle
            .entry(up.key)
            .or_insert_with(|| Vec::with_capacity(self.settings.max_idle_per_backend));
        if list.len() >= self.settings.max_idle_per_backend {
            // Full: evict the oldest, keep the newest.
            list.remove(0);
        }
        list.push(Idle {
            stream: up.stream,
            since: Instant::now(),
        });
    }

    /// Opens a new connection (and runs the TLS handshake of an https backend), all
    /// within `timeout`.
    pub async fn connect(&self, dest: &Dest, timeout: Duration) -> Result<Upstream, ConnectError> {
        match monoio::time::timeout(timeout, open(dest)).await {
            Ok(Ok(stream)) => Ok(Upstream {
                stream,
                key: dest.key(),
                reused: false,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ConnectError::Timeout),
        }
    }

    /// Closes every idle connection (shutdown).
    pub fn clear(&self) {
        self.idle.borrow_mut().clear();
    }
}

async fn open(dest: &Dest) -> Result<BackendStream, ConnectError> {
    let tcp = TcpStream::connect_addr(dest.addr)
        .await
        .map_err(ConnectError::Io)?;
    let _ = tcp.set_nodelay(true);
    let Some(profile) = &dest.tls else {
        return Ok(BackendStream::Plain(tcp));
    };
    let conn = rustls::ClientConnection::new(profile.config.clone(), profile.server_name.clone())
        .map_err(|e| ConnectError::Tls(io::Error::other(e)))?;
    let mut tls = Box::new(TlsStream::new(tcp, conn));
    tls.handshake().await.map_err(ConnectError::Tls)?;
    Ok(BackendStream::Tls(tls))
}

#[derive(Debug)]
pub enum ConnectError {
    Io(io::Error),
    /// The TLS handshake failed (certificate not trusted, wrong name, no common
    /// version or cipher suite…).
    Tls(io::Error),
    Timeout,
}
