//! What a running program asks of the proxy: the request and response it may change.
//!
//! Reading goes through [`ExprContext`] (the same view expressions have); every change
//! goes through these methods. Strings passed in live in the request arena (`'a`).

use crate::expr::{ExprContext, Value};
use crate::program::{ExistsAction, Target};

pub trait PolicyHost<'a>: ExprContext<'a> {
    /// `set-header` on the request or the response being built/relayed.
    fn set_header(
        &mut self,
        target: Target,
        name: &'a str,
        values: &[&'a str],
        action: ExistsAction,
    );
    /// `set-query-parameter` on the backend request.
    fn set_query_parameter(&mut self, name: &'a str, values: &[&'a str], action: ExistsAction);
    /// `set-variable`.
    fn set_variable(&mut self, name: &'a str, value: Value<'a>);
    /// `rewrite-uri`: the new backend path (and query) after template parameters were
    /// substituted; with `copy_unmatched`, query parameters of the original request that
    /// the operation template did not match are appended.
    fn rewrite_uri(&mut self, path_and_query: &'a str, copy_unmatched: bool);
    /// `set-method`.
    fn set_method(&mut self, method: &'a str);
    /// `set-status` on the response.
    fn set_status(&mut self, code: u16, reason: &'a str);
    /// `set-body` on the request or response.
    fn set_body(&mut self, target: Target, body: &'a [u8]);
    /// `set-backend-service`; an error message when the URL or backend id is invalid.
    fn set_backend_service(
        &mut self,
        base_url: Option<&'a str>,
        backend_id: Option<&'a str>,
    ) -> Result<(), String>;
    /// Start a gateway-made response: status 200, no headers, no body.
    fn begin_response(&mut self);
    /// Headers added to whatever response is finally sent (CORS on actual requests).
    fn add_final_response_header(&mut self, name: &'a str, value: &'a str);
    /// Attempts made so far by retry `id` (0 before its first retry).
    fn retry_attempt(&self, id: u16) -> u32;
    fn set_retry_attempt(&mut self, id: u16, attempts: u32);
    /// A side request evaluated by the program, for the proxy to perform.
    fn begin_send(&mut self, send: crate::exchange::PendingSend<'a>);
    /// `limit-concurrency`: takes one of `max` slots for `key`; `Full` when all are
    /// taken, `Pending` while another shard is asked.
    fn concurrency_acquire(&mut self, key: &'a str, max: u32) -> crate::exchange::Acquire;
    /// `limit-concurrency` found its slots with another shard: true when the proxy should
    /// wait for its answer and run the policy again (until the proxy's deadline).
    fn await_slot(&mut self) -> bool;
    /// `limit-concurrency` with a queue found every slot taken: true when the proxy should
    /// put the request in `key`'s line (behind at most `len` others, `ms` in all) and run
    /// the policy again at its turn; false once its time is up or the line is full (the
    /// policy then refuses).
    fn queue_for_slot(&mut self, _key: &'a str, _ms: u32, _len: u32) -> bool {
        false
    }
    /// Gives back the slot most recently taken.
    fn concurrency_release(&mut self);
    /// `emit-metric`: a metric with its dimensions.
    fn emit_metric(
        &mut self,
        namespace: &str,
        name: &str,
        value: f64,
        dimensions: &[(&'a str, &'a str)],
    );
    /// Makes the side response `variable` holds the response; false when it holds none.
    fn respond_with_stored(&mut self, variable: &str) -> bool;
    /// `trace`.
    fn trace(&mut self, source: &str, severity: &str, message: &str);
    /// validate-jwt's key sets and verified-token cache; `None`: only keys written in
    /// policies, every token verified.
    fn jwt_service(&self) -> Option<&'a dyn crate::exchange::JwtService> {
        None
    }
    /// validate-jwt lacks the keys of `url`: true means "wait for them, then run the
    /// policy again" (once per request); false means decide now.
    fn await_keys(&mut self, _url: &'a str) -> bool {
        false
    }
    /// Rate limits and quotas; `None`: nothing is throttled.
    fn throttler(&self) -> Option<&'a dyn crate::exchange::Throttler> {
        None
    }
    /// A budget is with another shard: true means "wait briefly, then run the policy
    /// again" (until the proxy's deadline passes).
    fn await_budget(&mut self) -> bool {
        false
    }
    /// Whether this request already waited for budget (its throttling policy runs
    /// again: a look, not new demand).
    fn budget_retry(&self) -> bool {
        false
    }
    /// The client's TLS certificate; `None` over plain HTTP or when none was sent.
    fn client_certificate(&self) -> Option<&'a crate::exchange::ClientCertInfo<'a>> {
        None
    }
    /// Remembers a count to make after the response (see `vm::throttle`).
    fn defer_count(&mut self, _at: u32, _key: &'a str, _what: u8) {}
}
