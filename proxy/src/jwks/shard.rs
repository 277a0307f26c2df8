//! A shard's side of validate-jwt: its copy of every key set, the channel they arrive
//! on, the refresh requests it sends, and its verified-token cache. Implements the
//! policy engine's [`JwtService`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use tollgate_policies::exchange::{JwtService, Keys, Verified};

use super::cache::{TokenCache, CAPACITY};
use super::control::{KeyUpdate, Want};

/// How often a shard looks for new key sets.
pub const POLL: Duration = Duration::from_millis(50);

/// What connects a shard to the control thread.
pub struct Link {
    pub updates: Receiver<KeyUpdate>,
    pub refresh: Sender<Want>,
    /// Per source: when the control thread last accepted a fetch for an unknown kid
    /// (read only on that rare path, so a shard fails fast inside `min-refresh` even
    /// when another shard asked).
    pub forced: super::control::Forced,
}

pub struct ShardJwt {
    /// `openid-config` URLs as the policies write them, indexed like the control
    /// thread's sources.
    urls: Vec<String>,
    keys: RefCell<Vec<Keys>>,
    /// Bumped on every new key set (waiters watch it).
    version: Cell<u64>,
    /// Per source: when this shard last asked for a fetch because of an unknown kid.
    forced: RefCell<Vec<Option<Instant>>>,
    /// Per source: a wait for its first keys came back empty (later requests do not
    /// wait again until keys arrive).
    gave_up: RefCell<Vec<bool>>,
    /// New keys were taken in while deciding whether to wait: the next `wait` returns
    /// at once (the caller runs the policy again with them).
    arrived: Cell<bool>,
    min_refresh: Duration,
    link: Option<Link>,
    pub cache: TokenCache,
}

impl ShardJwt {
    pub fn new(urls: Vec<String>, min_refresh: Duration, link: Option<Link>) -> ShardJwt {
        let n = urls.len();
        ShardJwt {
            urls,
            keys: RefCell::new(vec![Keys::Pending; n]),
            version: Cell::new(0),
            forced: RefCell::new(vec![None; n]),
            gave_up: RefCell::new(vec![false; n]),
            arrived: Cell::new(false),
            min_refresh,
            link,
            cache: TokenCache::new(CAPACITY),
        }
    }

    pub fn has_sources(&self) -> bool {
        self.link.is_some() && !self.urls.is_empty()
    }

    /// Takes in the key sets that arrived.
    pub fn poll(&self) {
        let Some(link) = &self.link else {
            return;
        };
        while let Ok(u) = link.updates.try_recv() {
            if let Some(slot) = self.keys.borrow_mut().get_mut(u.source) {
                *slot = Keys::Ready(Rc::new(u.keys), u.generation);
            }
            if let Some(g) = self.gave_up.borrow_mut().get_mut(u.source) {
                *g = false;
            }
            self.version.set(self.version.get() + 1);
        }
    }

    /// Waits until a new key set arrives or `limit` passes; a source that had no keys
    /// and still has none afterwards is not waited for again. True: new keys came (or
    /// had come already), and the policy runs with them, which may still need another
    /// fetch (the first keys lack the token's kid); false: the time passed.
    pub async fn wait(&self, url: &str, limit: Duration) -> bool {
        if self.arrived.replace(false) {
            return true;
        }
        let start = self.version.get();
        let deadline = monoio::time::Instant::now() + limit;
        while monoio::time::Instant::now() < deadline {
            let step = Duration::from_millis(10).min(deadline - monoio::time::Instant::now());
            monoio::time::sleep(step).await;
            self.poll();
            if self.version.get() != start {
                return true;
            }
        }
        if let Some(i) = self.index(url) {
            if matches!(self.keys.borrow()[i], Keys::Pending) {
                self.gave_up.borrow_mut()[i] = true;
            }
        }
        false
    }

    fn index(&self, url: &str) -> Option<usize> {
        self.urls.iter().position(|u| u == url)
    }
}

impl JwtService for ShardJwt {
    fn keys(&self, url: &str) -> Keys {
        match self.index(url) {
            Some(i) => self.keys.borrow()[i].clone(),
            None => Keys::Pending,
        }
    }

    fn want_keys(&self, url: &str, unknown_kid: bool) -> bool {
        let (Some(i), Some(link)) = (self.index(url), &self.link) else {
            return false;
        };
        if !unknown_kid {
            // No keys yet: the control thread is fetching (with backoff); nudge it.
            let _ = link.refresh.try_send(Want {
                source: i,
                unknown_kid: false,
            });
            return !self.gave_up.borrow()[i];
        }
        // Keys another shard's request fetched may be waiting in the channel: take them
        // in and let the policy run again before deciding anything.
        let before = self.version.get();
        self.poll();
        if self.version.get() != before {
            self.arrived.set(true);
            return true;
        }
        let now = Instant::now();
        let recent =
            |t: Option<Instant>| t.is_some_and(|t| now.duration_since(t) < self.min_refresh);
        if recent(super::control::forced_at(&link.forced, i)) {
            return false;
        }
        let mut forced = self.forced.borrow_mut();
        if recent(forced[i]) {
            return false;
        }
        forced[i] = Some(now);
        link.refresh
            .try_send(Want {
                source: i,
                unknown_kid: true,
            })
            .is_ok()
    }

    fn recall(&self, policy: u64, generation: u64, token: &str) -> Option<Verified> {
        self.cache.recall(policy, generation, token)
    }

    fn remember(&self, policy: u64, generation: u64, token: &str, verified: Verified) {
        self.cache.remember(policy, generation, token, verified);
    }
}
