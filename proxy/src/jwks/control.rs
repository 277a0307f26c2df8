//! The control thread that fetches key sets: one schedule per `openid-config` URL,
//! refreshed when the server's `max-age` (or `gateway.openid.refresh`) runs out, sooner
//! when a shard saw an unknown `kid` (at most every `min-refresh`), with a doubling
//! backoff (1 s … 5 min) after failures. The last good keys stay in force until new
//! ones arrive. Every shard gets its own copy of each new set over a channel, so no key
//! material is shared between cores.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tollgate_jwt::{KeySet, OpenIdConfig};

use super::fetch;

/// A new key set for source `source` (an index into the sources list).
pub struct KeyUpdate {
    pub source: usize,
    pub keys: KeySet,
    pub generation: u64,
}

/// Per source: when a fetch for an unknown kid was last accepted (shared with shards).
pub type Forced = std::sync::Arc<Vec<std::sync::Mutex<Option<Instant>>>>;

pub fn forced_at(forced: &Forced, source: usize) -> Option<Instant> {
    forced
        .get(source)
        .and_then(|m| *m.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Timing of the fetches (from `gateway.openid`).
#[derive(Clone)]
pub struct Schedule {
    pub tls: fetch::Tls,
    pub refresh: Duration,
    pub min_refresh: Duration,
    pub timeout: Duration,
}

const MIN_MAX_AGE: Duration = Duration::from_secs(1);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

struct State {
    /// Where to fetch (the configured URL, authority rewritten).
    url: String,
    due: Instant,
    failures: u32,
    generation: u64,
    have_keys: bool,
    last_attempt: Option<Instant>,
    last_forced: Option<Instant>,
}

/// Runs until every shard has dropped its refresh sender.
/// A shard's request for keys of source `source`: none yet, or `unknown_kid`.
#[derive(Clone, Copy, Debug)]
pub struct Want {
    pub source: usize,
    pub unknown_kid: bool,
}

pub fn run(
    urls: Vec<String>,
    schedule: Schedule,
    shards: Vec<Sender<KeyUpdate>>,
    refresh: Receiver<Want>,
    forced: Forced,
) {
    let now = Instant::now();
    let mut states: Vec<State> = urls
        .into_iter()
        .map(|url| State {
            url,
            due: now,
            failures: 0,
            generation: 0,
            have_keys: false,
            last_attempt: None,
            last_forced: None,
        })
        .collect();
    loop {
        let now = Instant::now();
        for (i, st) in states.iter_mut().enumerate() {
            if st.due <= now {
                fetch_one(i, st, &schedule, &shards);
            }
        }
        let next = states
            .iter()
            .map(|s| s.due)
            .min()
            .unwrap_or(now + schedule.refresh);
        let wait = next.saturating_duration_since(Instant::now());
        match refresh.recv_timeout(wait) {
            Ok(want) => {
                if let Some(st) = states.get_mut(want.source) {
                    if force(st, want.unknown_kid, &schedule) {
                        if let Some(m) = forced.get(want.source) {
                            *m.lock().unwrap_or_else(|p| p.into_inner()) = st.last_forced;
                        }
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// A shard asked for fresh keys (unknown kid, or none yet). True: a fetch for an
/// unknown kid was accepted (`last_forced` moved).
fn force(st: &mut State, unknown_kid: bool, schedule: &Schedule) -> bool {
    let now = Instant::now();
    if !unknown_kid && st.have_keys {
        // Asked while the first keys were on their way: they have arrived since.
        return false;
    }
    if !st.have_keys {
        // Still failing: try again soon, but not in a tight loop.
        let soonest = st.last_attempt.map_or(now, |t| t + FIRST_BACKOFF);
        st.due = st.due.min(soonest);
        return false;
    }
    if st
        .last_forced
        .is_some_and(|t| now.duration_since(t) < schedule.min_refresh)
    {
        return false;
    }
    st.last_forced = Some(now);
    st.due = now;
    true
}

fn fetch_one(source: usize, st: &mut State, schedule: &Schedule, shards: &[Sender<KeyUpdate>]) {
    st.last_attempt = Some(Instant::now());
    match fetch_keys(&st.url, schedule.timeout, &schedule.tls) {
        Ok((keys, max_age)) => {
            st.generation += 1;
            st.failures = 0;
            st.have_keys = true;
            let keep = max_age.map_or(schedule.refresh, |a| a.clamp(MIN_MAX_AGE, MAX_MAX_AGE));
            st.due = Instant::now() + keep;
            crate::info!(
                "openid-config {}: {} signing key(s), next fetch in {keep:?}",
                st.url,
                keys.keys.len()
            );
            for tx in shards {
                let _ = tx.send(KeyUpdate {
                    source,
                    keys: keys.clone(),
                    generation: st.generation,
                });
            }
        }
        Err(e) => {
            st.failures += 1;
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << st.failures.min(16).saturating_sub(1))
                .min(MAX_BACKOFF);
            st.due = Instant::now() + backoff;
            let kept = if st.have_keys {
                "; the last good keys stay in use"
            } else {
                ""
            };
            crate::warn!(
                "openid-config {}: fetch failed ({e}); retrying in {backoff:?}{kept}",
                st.url
            );
        }
    }
}

/// Fetches an OpenID configuration and its JWKS (or a JWKS directly).
pub fn fetch_keys(
    url: &str,
    timeout: Duration,
    tls: &fetch::Tls,
) -> Result<(KeySet, Option<Duration>), String> {
    let doc = fetch::get(url, timeout, tls)?;
    let value: serde_json::Value =
        serde_json::from_slice(&doc.body).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("keys").is_some() {
        let keys = KeySet::from_jwks(&doc.body).map_err(|e| format!("bad JWKS: {e}"))?;
        return Ok((keys, doc.max_age));
    }
    let config =
        OpenIdConfig::parse(&doc.body).map_err(|e| format!("bad OpenID configuration: {e}"))?;
    let jwks = fetch::get(&config.jwks_uri, timeout, tls)
        .map_err(|e| format!("jwks_uri {}: {e}", config.jwks_uri))?;
    let keys = KeySet::from_jwks(&jwks.body)
        .map_err(|e| format!("bad JWKS at {}: {e}", config.jwks_uri))?;
    let max_age = match (doc.max_age, jwks.max_age) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok((keys, max_age))
}
