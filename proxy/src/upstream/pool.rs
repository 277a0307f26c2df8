//! A shard-local keep-alive pool of backend connections.
//!
//! One pool per shard, never shared: no lock, no atomic. Idle connections are kept per
//! backend address, newest first (LIFO keeps the hot ones warm and lets old ones expire),
//! bounded by `max-idle-per-backend` and discarded after `idle-timeout`. A connection the
//! backend closed while idle is only discovered on use; the caller retries such a failure
//! once on a fresh connection when the request is idempotent (see `server::forward`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;

use crate::snapshot::PoolSettings;

struct Idle {
    stream: TcpStream,
    since: Instant,
}

/// A backend connection checked out of the pool (or freshly connected).
pub struct Upstream {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    /// True when the connection came from the pool (it may have gone stale).
    pub reused: bool,
}

pub struct Pool {
    idle: RefCell<HashMap<SocketAddr, Vec<Idle>>>,
    settings: PoolSettings,
}

impl Pool {
    pub fn new(settings: PoolSettings) -> Pool {
        Pool {
            idle: RefCell::new(HashMap::new()),
            settings,
        }
    }

    /// Takes the most recently returned live connection to `addr`, if any.
    pub fn take(&self, addr: SocketAddr) -> Option<Upstream> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&addr)?;
        let now = Instant::now();
        while let Some(c) = list.pop() {
            if now.duration_since(c.since) <= self.settings.idle_timeout {
                return Some(Upstream {
                    stream: c.stream,
                    addr,
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
        if self.settings.max_idle_per_backend == 0 {
            return; // pooling disabled: dropping closes the connection
        }
        let mut idle = self.idle.borrow_mut();
        let list = idle
            .entry(up.addr)
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

    /// Opens a new connection within `timeout`.
    pub async fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<Upstream, ConnectError> {
        match monoio::time::timeout(timeout, TcpStream::connect_addr(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                Ok(Upstream {
                    stream,
                    addr,
                    reused: false,
                })
            }
            Ok(Err(e)) => Err(ConnectError::Io(e)),
            Err(_) => Err(ConnectError::Timeout),
        }
    }

    /// Closes every idle connection (shutdown).
    pub fn clear(&self) {
        self.idle.borrow_mut().clear();
    }
}

#[derive(Debug)]
pub enum ConnectError {
    Io(io::Error),
    Timeout,
}
