//! A shard-local keep-alive pool of backend connections, and the shard's HTTP/2
//! sessions to `h2`/`h2c` backends (one per backend, shared by all its requests).
//!
//! One pool per shard, never shared: no lock, no atomic. Idle connections are kept per
//! backend destination (address and TLS profile), newest first (LIFO keeps the hot ones warm and lets old ones expire),
//! bounded by `max-idle-per-backend` and discarded after `idle-timeout`. A connection the
//! backend closed while idle is only discovered on use; the caller retries such a failure
//! once on a fresh connection when the request is idempotent (see `server::forward`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;

use super::stream::{BackendConn, BackendStream};
use super::tls::{Dest, PoolKey, DYNAMIC};
use crate::snapshot::PoolSettings;
use crate::tls::TlsStream;

struct Idle {
    stream: BackendConn,
    since: Instant,
}

/// A backend connection checked out of the pool (or freshly connected).
pub struct Upstream {
    pub stream: BackendStream,
    /// The pool key of its destination.
    pub key: PoolKey,
    /// True when the connection came from the pool (it may have gone stale).
    pub reused: bool,
}

pub struct Pool {
    idle: RefCell<HashMap<PoolKey, Vec<Idle>>>,
    /// HTTP/2 sessions by destination.
    sessions: RefCell<HashMap<PoolKey, crate::h2::client::Session>>,
    settings: PoolSettings,
    /// Bounds for parsing request heads written to HTTP/2 calls.
    limits: crate::http::v1::request::HeadLimits,
}

impl Pool {
    pub fn new(settings: PoolSettings, limits: crate::http::v1::request::HeadLimits) -> Pool {
        Pool {
            idle: RefCell::new(HashMap::new()),
            sessions: RefCell::new(HashMap::new()),
            settings,
            limits,
        }
    }

    /// Takes the most recently returned live connection to `dest`, if any (for an
    /// HTTP/2 backend: a new call on its session, if there is one).
    pub fn take(&self, dest: &Dest) -> Option<Upstream> {
        let key = dest.key();
        if dest.h2 {
            let mut sessions = self.sessions.borrow_mut();
            let session = sessions.get(&key)?.clone();
            if !session.alive.get() {
                // Ended (GOAWAY, idle timeout, backend restart): the caller connects.
                sessions.remove(&key);
                return None;
            }
            return Some(self.call(dest, session, true));
        }
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&key)?;
        let now = Instant::now();
        while let Some(c) = list.pop() {
            if now.duration_since(c.since) <= self.settings.idle_timeout {
                return Some(Upstream {
                    stream: BackendStream::Conn(c.stream),
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
        let BackendStream::Conn(stream) = up.stream else {
            return; // an HTTP/2 call: its session stays in `sessions`
        };
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
            stream,
            since: Instant::now(),
        });
    }

    /// Opens a new connection (and runs the TLS handshake of an https backend), all
    /// within `timeout`.
    /// For an HTTP/2 backend: a new session (replacing a broken one), and a call on it.
    pub async fn connect(&self, dest: &Dest, timeout: Duration) -> Result<Upstream, ConnectError> {
        let conn = match monoio::time::timeout(timeout, open(dest)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(ConnectError::Timeout),
        };
        if !dest.h2 {
            return Ok(Upstream {
                stream: BackendStream::Conn(conn),
                key: dest.key(),
                reused: false,
            });
        }
        let session = match monoio::time::timeout(timeout, crate::h2::client::handshake(conn)).await
        {
            Ok(Ok(session)) => session,
            Ok(Err(e)) => return Err(ConnectError::Io(e)),
            Err(_) => return Err(ConnectError::Timeout),
        };
        self.sessions
            .borrow_mut()
            .insert(dest.key(), session.clone());
        Ok(self.call(dest, session, false))
    }

    fn call(&self, dest: &Dest, session: crate::h2::client::Session, reused: bool) -> Upstream {
        let call = crate::h2::client::H2Call::new(session, dest.tls.is_some(), self.limits);
        Upstream {
            stream: BackendStream::H2(Box::new(crate::rent::Rent(call))),
            key: dest.key(),
            reused,
        }
    }

    /// Closes every idle connection (shutdown).
    pub fn clear(&self) {
        self.idle.borrow_mut().clear();
        self.sessions.borrow_mut().clear();
    }
}

async fn open(dest: &Dest) -> Result<BackendConn, ConnectError> {
    let tcp = TcpStream::connect_addr(dest.addr)
        .await
        .map_err(ConnectError::Io)?;
    let _ = tcp.set_nodelay(true);
    let Some(profile) = &dest.tls else {
        return Ok(BackendConn::Plain(tcp));
    };
    let conn = rustls::ClientConnection::new(profile.config.clone(), profile.server_name.clone())
        .map_err(|e| ConnectError::Tls(io::Error::other(e)))?;
    let mut tls = Box::new(crate::rent::Rent(TlsStream::new(tcp, conn)));
    tls.0.handshake().await.map_err(ConnectError::Tls)?;
    Ok(BackendConn::Tls(tls))
}

#[derive(Debug)]
pub enum ConnectError {
    Io(io::Error),
    /// The TLS handshake failed (certificate not trusted, wrong name, no common
    /// version or cipher suite…).
    Tls(io::Error),
    Timeout,
}
