//! What policies change: [`PolicyHost`] over an [`Exchange`].

use std::fmt::Write as _;

use crate::expr::Value;
use crate::host::PolicyHost;
use crate::program::{ExistsAction, Target};
use crate::vm::{exists_outcome, ExistsOutcome};

use super::{Acquire, BackendChoice, Exchange, HeaderList};

/// Headers APIM sends as separate lines when set-header has several values; every other
/// header gets its values joined with `,`.
const SEPARATE_LINES: [&str; 12] = [
    "user-agent",
    "www-authenticate",
    "proxy-authenticate",
    "cookie",
    "set-cookie",
    "warning",
    "date",
    "expires",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "retry-after",
];

impl<'a> Exchange<'a> {
    fn headers_of(&mut self, target: Target) -> &mut HeaderList<'a> {
        match target {
            Target::Request => &mut self.request.headers,
            Target::Response => &mut self.response_mut().headers,
        }
    }
}

impl<'a> PolicyHost<'a> for Exchange<'a> {
    fn set_header(
        &mut self,
        target: Target,
        name: &'a str,
        values: &[&'a str],
        action: ExistsAction,
    ) {
        let arena = self.arena;
        let values: &'a [&'a str] =
            if values.len() > 1 && !SEPARATE_LINES.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                let mut s = bumpalo::collections::String::new_in(arena);
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(v);
                }
                arena.alloc_slice_copy(&[s.into_bump_str()])
            } else {
                arena.alloc_slice_copy(values)
            };
        let list = self.headers_of(target);
        match exists_outcome(list.contains(name), action) {
            ExistsOutcome::Keep => {}
            ExistsOutcome::Remove => list.remove(name),
            ExistsOutcome::Replace => list.set(name, values),
            ExistsOutcome::AppendValues => list.append(name, values),
        }
    }

    fn set_query_parameter(&mut self, name: &'a str, values: &[&'a str], action: ExistsAction) {
        let arena = self.arena;
        let query = self.request.query;
        let exists = query_pairs(query).any(|(k, _)| k == name);
        let mut out = bumpalo::collections::String::with_capacity_in(query.len() + 32, arena);
        let push = |k: &str, v: &str, out: &mut bumpalo::collections::String<'a>| {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        };
        let outcome = exists_outcome(exists, action);
        for (k, v) in query_pairs(query) {
            let drop =
                k == name && matches!(outcome, ExistsOutcome::Remove | ExistsOutcome::Replace);
            if !drop {
                if v.is_none() {
                    if !out.is_empty() {
                        out.push('&');
                    }
                    out.push_str(k);
                } else {
                    push(k, v.unwrap_or(""), &mut out);
                }
            }
        }
        if matches!(
            outcome,
            ExistsOutcome::Replace | ExistsOutcome::AppendValues
        ) {
            for v in values {
                push(name, encode_query_value(arena, v), &mut out);
            }
        }
        self.request.query = out.into_bump_str();
    }

    fn set_variable(&mut self, name: &'a str, value: Value<'a>) {
        match self.variables.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.variables.push((name, value)),
        }
    }

    fn rewrite_uri(&mut self, path_and_query: &'a str, copy_unmatched: bool) {
        let (path, new_query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_and_query, ""),
        };
        let arena = self.arena;
        let mut q = bumpalo::collections::String::from_str_in(new_query, arena);
        if copy_unmatched {
            for (k, v) in query_pairs(self.request.original_query) {
                let matched = self.request.matched_query_names.contains(&k);
                let already = query_pairs(new_query).any(|(n, _)| n == k);
                if !matched && !already {
                    if !q.is_empty() {
                        q.push('&');
                    }
                    q.push_str(k);
                    if let Some(v) = v {
                        q.push('=');
                        q.push_str(v);
                    }
                }
            }
        }
        self.request.path = path;
        self.request.query = q.into_bump_str();
    }

    fn set_method(&mut self, method: &'a str) {
        self.request.method = method;
    }

    fn set_status(&mut self, code: u16, reason: &'a str) {
        let r = self.response_mut();
        r.status = code;
        r.reason = reason;
    }

    fn set_body(&mut self, target: Target, body: &'a [u8]) {
        match target {
            Target::Request => {
                self.mark_consumed(super::CONSUMED_REQUEST, false);
                self.request.body = Some(body);
            }
            Target::Response => {
                self.mark_consumed(super::CONSUMED_RESPONSE, false);
                self.response_mut().body = Some(body);
            }
        }
    }

    fn set_backend_service(
        &mut self,
        base_url: Option<&'a str>,
        backend_id: Option<&'a str>,
    ) -> Result<(), String> {
        self.backend = match (base_url, backend_id) {
            (Some(u), _) => {
                let t = u.trim();
                let has = |p: &str| t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
                if !(has("http://") || has("https://")) {
                    return Err(format!(
                        "set-backend-service: `{u}` is not an absolute http(s) URL"
                    ));
                }
                BackendChoice::BaseUrl(u.trim())
            }
            (None, Some(id)) => BackendChoice::BackendId(id.trim()),
            (None, None) => BackendChoice::Default,
        };
        Ok(())
    }

    fn begin_response(&mut self) {
        self.mark_consumed(super::CONSUMED_RESPONSE, false);
        self.response = None;
        self.response_mut();
    }

    fn add_final_response_header(&mut self, name: &'a str, value: &'a str) {
        self.final_headers.push((name, value));
    }

    fn retry_attempt(&self, id: u16) -> u32 {
        self.retry_attempts
            .get(usize::from(id))
            .copied()
            .unwrap_or(u32::MAX)
    }

    fn set_retry_attempt(&mut self, id: u16, attempts: u32) {
        if let Some(slot) = self.retry_attempts.get_mut(usize::from(id)) {
            *slot = attempts;
        }
    }

    fn begin_send(&mut self, send: super::PendingSend<'a>) {
        self.pending_send = Some(send);
    }

    fn client_certificate(&self) -> Option<&'a super::ClientCertInfo<'a>> {
        self.info.client_cert
    }

    fn jwt_service(&self) -> Option<&'a dyn super::JwtService> {
        self.jwt
    }

    fn await_keys(&mut self, url: &'a str) -> bool {
        if self.waited_for_keys || self.jwt.is_none() {
            return false;
        }
        self.awaiting_keys = Some(url);
        true
    }

    fn throttler(&self) -> Option<&'a dyn super::Throttler> {
        self.throttler
    }

    fn await_budget(&mut self) -> bool {
        let wait = !self.waited_for_budget && self.throttler.is_some();
        self.budget_retry |= wait;
        wait
    }

    fn budget_retry(&self) -> bool {
        self.budget_retry
    }

    fn defer_count(&mut self, at: u32, key: &'a str, what: u8) {
        self.deferred_counts.push((at, key, what));
    }

    fn concurrency_acquire(&mut self, key: &'a str, max: u32) -> Acquire {
        if let Some(l) = self.limiter {
            // First come, first served: not before those waiting in line.
            if l.queued_ahead(key, self.queue_ticket) {
                return Acquire::Full;
            }
        }
        let got = self
            .limiter
            .map_or(Acquire::Taken, |l| l.try_acquire(key, max));
        if got == Acquire::Taken {
            self.held.push(key);
            self.queue_done |= self.queue_ticket.is_some();
        }
        got
    }

    fn queue_for_slot(&mut self, key: &'a str, ms: u32, len: u32) -> bool {
        if self.queue_expired || self.limiter.is_none() {
            self.queue_done |= self.queue_ticket.is_some();
            return false;
        }
        self.queue_request = Some((key, ms, len));
        true
    }

    fn await_slot(&mut self) -> bool {
        !self.waited_for_slot && self.limiter.is_some()
    }

    fn concurrency_release(&mut self) {
        if let Some(key) = self.held.pop() {
            if let Some(l) = self.limiter {
                l.release(key);
            }
        }
    }

    fn emit_metric(
        &mut self,
        namespace: &str,
        name: &str,
        value: f64,
        dimensions: &[(&'a str, &'a str)],
    ) {
        let a = self.arena;
        let dims = a.alloc_slice_copy(dimensions);
        self.metrics
            .push((a.alloc_str(namespace), a.alloc_str(name), value, dims));
    }

    fn respond_with_stored(&mut self, variable: &str) -> bool {
        use crate::expr::{Handle, Msg};
        let Some(Value::Handle(Handle::Msg(Msg::Stored(id)))) = self.variable(variable) else {
            return false;
        };
        let Some(stored) = self.stored.get(id as usize) else {
            return false;
        };
        let mut headers = HeaderList::new(self.arena);
        for (n, v) in stored.headers.lines() {
            headers.push(n, v);
        }
        self.response = Some(super::ResponseState {
            status: stored.status,
            reason: stored.reason,
            headers,
            body: Some(stored.body.unwrap_or(b"")),
        });
        true
    }

    fn trace(&mut self, source: &str, severity: &str, message: &str) {
        let a = self.arena;
        self.traces.push((
            a.alloc_str(source),
            a.alloc_str(severity),
            a.alloc_str(message),
        ));
    }
}

/// `k=v` pairs of a raw query (`v` is `None` for a bare `k`).
pub fn query_pairs(q: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (p, None),
        })
}

/// Percent-encodes what cannot stand in a query value.
fn encode_query_value<'a>(arena: &'a bumpalo::Bump, v: &str) -> &'a str {
    if v.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$'()*+,;:@/?".contains(&b))
    {
        return arena.alloc_str(v);
    }
    let mut out = bumpalo::collections::String::with_capacity_in(v.len() * 3, arena);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;:@/?".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.into_bump_str()
}
