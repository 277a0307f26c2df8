//! Where a running policy waits on its shard: for rate-limit budget or concurrency slots
//! another shard holds (at most [`BUDGET_WAIT`] in all, the policy running again at each
//! answer), in a `limit-concurrency` line (Tollgate's `queue-timeout`,
//! `crate::limits::queue`), and for validate-jwt's keys (at most `gateway.openid.wait`
//! in all). One [`Waits`] per request.

use std::time::Duration;

use monoio::time::Instant;
use tollgate_policies::exchange::Exchange;

use super::Shard;
use crate::limits::queue::Place;

/// How long a request waits in all for rate-limit budget or concurrency slots that
/// another shard holds (an answer takes microseconds; this bounds a busy shard).
const BUDGET_WAIT: Duration = Duration::from_millis(20);

/// A request at the head of a `limit-concurrency` line tries again at least this often
/// (a release on another shard wakes it through the shard's messages; this is the net).
const QUEUE_POLL: Duration = Duration::from_millis(5);

/// A request's waits so far: when its budget and key waits end, and its place in a line.
#[derive(Default)]
pub(super) struct Waits<'q> {
    budget_deadline: Option<Instant>,
    keys_deadline: Option<Instant>,
    in_line: Option<(Place<'q>, Instant)>,
}

impl<'q> Waits<'q> {
    /// Another shard holds the budget (or the slots): waits for its answer, or for the
    /// rest of [`BUDGET_WAIT`]; once that is spent the policy decides without it.
    pub async fn for_budget(&mut self, shard: &Shard, ex: &mut Exchange<'_>) {
        let now = Instant::now();
        let deadline = *self.budget_deadline.get_or_insert(now + BUDGET_WAIT);
        shard
            .throttle
            .wait_for_budget(deadline.saturating_duration_since(now))
            .await;
        if Instant::now() >= deadline {
            ex.waited_for_budget = true;
            ex.waited_for_slot = true;
        }
    }

    /// validate-jwt lacks keys (first fetch, or an unknown kid): waits for the control
    /// thread. New keys (or keys taken in while deciding) end a wait early and the
    /// policy runs with them, and may wait again (the first keys may lack the token's
    /// kid, which takes a fetch), within `limit` in all; a wait that times out is final.
    pub async fn for_keys(&mut self, shard: &Shard, ex: &mut Exchange<'_>, limit: Duration) {
        let url = ex.awaiting_keys.unwrap_or("");
        let now = Instant::now();
        let deadline = *self.keys_deadline.get_or_insert(now + limit);
        let came = shard
            .jwt
            .wait(url, deadline.saturating_duration_since(now))
            .await;
        if !came || Instant::now() >= deadline {
            ex.waited_for_keys = true;
        }
    }

    /// `limit-concurrency`'s queue: waits in the key's line (joined on the first turn)
    /// until told to try again, a slot may have freed elsewhere ([`QUEUE_POLL`]), or the
    /// time is up. False: the client hung up (`client`: its socket, when nothing more
    /// was read from it), and there is nothing to answer.
    pub async fn in_line(
        &mut self,
        shard: &'q Shard,
        ex: &mut Exchange<'_>,
        client: Option<&monoio::net::TcpStream>,
    ) -> bool {
        let Some((key, ms, len)) = ex.queue_request.take() else {
            return true;
        };
        let now = Instant::now();
        if self.in_line.is_none() {
            match shard.throttle.queues.join(key, len) {
                Some(place) => {
                    ex.queue_ticket = Some(place.ticket);
                    let ms = Duration::from_millis(u64::from(ms));
                    self.in_line = Some((place, now + ms));
                }
                None => ex.queue_expired = true,
            }
        }
        if let Some((place, deadline)) = &self.in_line {
            let left = deadline.saturating_duration_since(now).min(QUEUE_POLL);
            let gone = monoio::select! {
                _ = monoio::time::timeout(left, place.turn()) => false,
                _ = super::io::peer_closed(client) => true,
            };
            if gone {
                return false;
            }
            if Instant::now() >= *deadline {
                ex.queue_expired = true;
            }
        }
        true
    }

    /// After the policy ran again: out of the line once the request got its slot or was
    /// refused (the next in line is told); not while it waits for slots another shard
    /// holds, which keeps its place.
    pub fn after_resume(&mut self, ex: &mut Exchange<'_>) {
        if std::mem::take(&mut ex.queue_done) {
            self.in_line = None;
            ex.queue_ticket = None;
            ex.queue_expired = false;
        }
    }
}
