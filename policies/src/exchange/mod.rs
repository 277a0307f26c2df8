//! The per-request state a program runs against: the request (as the backend will see
//! it), the response (once there is one), variables, and what the gateway knows about
//! the call (API, operation, subscription, last error).
//!
//! Everything lives in the request arena (`'a`): the proxy copies the parsed head in when
//! a request takes the policy path, runs the program against it, and writes the backend
//! request and the client response from it. The conformance tests use the same type, so
//! the semantics tested there are the ones the gateway runs.

mod context;
mod headers;
mod host;
mod jwt;
mod throttle;

use std::cell::Cell;

use bumpalo::Bump;

use crate::expr::{DateKind, DateTime, Value};

pub use headers::HeaderList;
pub use host::query_pairs;
pub use jwt::{JwtService, Keys, Verified};
pub use throttle::{CounterSpec, Throttler, Verdict};

/// Retry policies a program may hold (the compiler refuses more).
pub const MAX_RETRIES: usize = 16;

/// A request as it will be forwarded.
pub struct RequestState<'a> {
    pub method: &'a str,
    pub scheme: &'a str,
    /// Host the client addressed (`Host` header), for `context.Request.Url.Host`.
    pub host: &'a str,
    pub port: i32,
    /// Backend-relative path (after rewrite-uri) and raw query without `?`.
    pub path: &'a str,
    pub query: &'a str,
    pub headers: HeaderList<'a>,
    /// A replaced body (set-body); `None` keeps the client's body streaming through.
    pub body: Option<&'a [u8]>,
    pub ip: &'a str,
    /// The URL as the client sent it (`OriginalUrl`): path and query.
    pub original_path: &'a str,
    pub original_query: &'a str,
    /// URL-template parameters of the matched operation.
    pub matched: &'a [(&'a str, &'a str)],
    /// Query parameter names the operation template matched (not copied by rewrite-uri).
    pub matched_query_names: &'a [&'a str],
}

/// A response: the backend's once forwarded, or one built by return-response.
pub struct ResponseState<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub headers: HeaderList<'a>,
    /// A replaced body; `None` relays the backend's body.
    pub body: Option<&'a [u8]>,
}

/// The answer to [`ConcurrencyLimiter::try_acquire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// A slot is taken; [`ConcurrencyLimiter::release`] gives it back.
    Taken,
    /// All `max` slots are taken.
    Full,
    /// The count is with another shard, which was asked; wait (briefly) and try again.
    Pending,
}

/// Where `limit-concurrency` counts (in the gateway: across all shards, by message).
pub trait ConcurrencyLimiter {
    /// Takes a slot for `key` if fewer than `max` are taken.
    fn try_acquire(&self, key: &str, max: u32) -> Acquire;
    fn release(&self, key: &str);
    /// Whether requests wait in `key`'s line ahead of the holder of `ticket` (`None`: a
    /// request not in line), which must then not take a slot before them.
    fn queued_ahead(&self, _key: &str, _ticket: Option<u64>) -> bool {
        false
    }
}

/// One `emit-metric`: namespace, name, value and dimensions.
pub type Metric<'a> = (&'a str, &'a str, f64, &'a [(&'a str, &'a str)]);

/// A side request (`send-request`) waiting for the proxy to perform it.
pub struct PendingSend<'a> {
    pub method: &'a str,
    /// Absolute URL; empty with `copy` means the request's own backend URL.
    pub url: &'a str,
    pub headers: HeaderList<'a>,
    pub body: Option<&'a [u8]>,
    pub timeout: std::time::Duration,
    pub one_way: bool,
    pub copy: bool,
    pub variable: Option<&'a str>,
    pub ignore_error: bool,
    pub fail_on_error_status_code: bool,
}

/// `context.LastError`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LastError<'a> {
    pub source: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    pub scope: &'a str,
    pub section: &'a str,
    pub path: &'a str,
    pub policy_id: &'a str,
}

/// What the gateway knows about the call.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallInfo<'a> {
    pub api_id: &'a str,
    pub api_name: &'a str,
    pub api_path: &'a str,
    /// Service URL parts: scheme, host, port, base path.
    pub service_url: Option<(&'a str, &'a str, i32, &'a str)>,
    pub operation_id: &'a str,
    pub operation_name: &'a str,
    pub operation_method: &'a str,
    pub url_template: &'a str,
    pub gateway_id: &'a str,
    pub region: &'a str,
    pub service_name: &'a str,
    pub request_id: [u8; 16],
    /// `context.Subscription`: `None` for a call without one.
    pub subscription: Option<SubscriptionInfo<'a>>,
    /// `context.Product`: `None` outside a product context.
    pub product: Option<ProductInfo<'a>>,
    /// The client's TLS certificate (`context.Request.Certificate`).
    pub client_cert: Option<&'a ClientCertInfo<'a>>,
}

/// The certificate a client presented in its TLS handshake, as the gateway judged it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientCertInfo<'a> {
    /// `CN=…, O=…` as .NET shows it.
    pub subject: &'a str,
    pub issuer: &'a str,
    pub common_name: &'a str,
    /// Upper-case hex.
    pub thumbprint: &'a str,
    pub serial_number: &'a str,
    pub dns_names: &'a [&'a str],
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// Chains to the configured client CA (validity dates included).
    pub trusted: bool,
    /// Listed in the configured CRL.
    pub revoked: bool,
    /// Thumbprint of the CA certificate that issued it, when the chain was verified and
    /// the issuer is in the client CA bundle; empty otherwise.
    pub issuer_thumbprint: &'a str,
}

/// The subscription a call came with.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubscriptionInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The key this request used.
    pub key: &'a str,
    pub primary_key: &'a str,
    pub secondary_key: &'a str,
    /// Unix seconds, UTC.
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// The product context a call runs in.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProductInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub published: bool,
    pub subscription_required: bool,
    pub approval_required: bool,
}

/// Where the request goes after set-backend-service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice<'a> {
    /// The API's service URL.
    Default,
    BaseUrl(&'a str),
    BackendId(&'a str),
}

/// One request in flight through the policy pipeline.
pub struct Exchange<'a> {
    pub arena: &'a Bump,
    pub request: RequestState<'a>,
    pub response: Option<ResponseState<'a>>,
    pub variables: bumpalo::collections::Vec<'a, (&'a str, Value<'a>)>,
    pub info: CallInfo<'a>,
    pub last_error: Option<LastError<'a>>,
    pub backend: BackendChoice<'a>,
    /// The forward-request instruction that called the backend: a different one later
    /// (`<base/>` plus an API-level forward-request) is not run again; the same one
    /// again (inside `retry`) is.
    pub forwarded_at: Option<u32>,
    /// Attempt counters of the program's retry policies.
    pub retry_attempts: [u32; MAX_RETRIES],
    /// The side request the program is waiting on.
    pub pending_send: Option<PendingSend<'a>>,
    /// Responses of side requests (`(IResponse)context.Variables["x"]`), by handle.
    pub stored: bumpalo::collections::Vec<'a, ResponseState<'a>>,
    /// The counters `limit-concurrency` uses; without one every slot is granted.
    pub limiter: Option<&'a dyn ConcurrencyLimiter>,
    /// Key sets and the verified-token cache for `validate-jwt`; without it only keys
    /// written in the policy work and every token is verified.
    pub jwt: Option<&'a dyn JwtService>,
    /// `validate-jwt` is waiting for the keys of this `openid-config` URL (the proxy
    /// waits a bounded time, then resumes the policy, which then does not wait again).
    pub awaiting_keys: Option<&'a str>,
    /// The wait for keys happened already in this request.
    pub waited_for_keys: bool,
    /// Rate limits and quotas; without one nothing is throttled.
    pub throttler: Option<&'a dyn Throttler>,
    /// The host waited as long as it will for budget from another shard: a budget
    /// still elsewhere now lets the call through (set by the host when its deadline
    /// passes; until then each answer that arrives runs the policy again).
    pub waited_for_budget: bool,
    /// The policy runs again after waiting for budget (its looks are not new demand).
    pub budget_retry: bool,
    /// The same for `limit-concurrency`'s slots (which then refuse).
    pub waited_for_slot: bool,
    /// `limit-concurrency` asks to wait in line for a slot: (key, ms, line length). The
    /// host takes it, waits for the request's turn and runs the policy again.
    pub queue_request: Option<(&'a str, u32, u32)>,
    /// The request's place in that line, while it has one.
    pub queue_ticket: Option<u64>,
    /// Its time in line is up (or the line was full): the policy refuses.
    pub queue_expired: bool,
    /// The request in line got its slot, or was refused: the host takes it out of line
    /// (a later `limit-concurrency` may put it in another).
    pub queue_done: bool,
    /// Counts to make once the response is known: (instruction, counter key, what).
    pub deferred_counts: bumpalo::collections::Vec<'a, (u32, &'a str, u8)>,
    /// Keys whose slots this request holds; given back when the exchange ends.
    pub held: bumpalo::collections::Vec<'a, &'a str>,
    /// Metrics emitted by `emit-metric`: (namespace, name, value, dimensions).
    pub metrics: bumpalo::collections::Vec<'a, Metric<'a>>,
    /// Headers every final response gets (CORS on actual requests).
    pub final_headers: bumpalo::collections::Vec<'a, (&'a str, &'a str)>,
    /// Trace messages of the `trace` policy: (source, severity, message).
    pub traces: bumpalo::collections::Vec<'a, (&'a str, &'a str, &'a str)>,
    /// `DateTime.UtcNow` and `context.Timestamp` (injected clock).
    pub now: DateTime,
    pub elapsed_ticks: i64,
    random: Cell<u64>,
    /// Bodies read by `Body.As<T>()` without `preserveContent: true` (bits
    /// [`CONSUMED_REQUEST`], [`CONSUMED_RESPONSE`]): APIM consumes the stream, so later
    /// reads see nothing and the message goes on without a body unless set-body gives it
    /// a new one.
    consumed: Cell<u8>,
}

pub(crate) const CONSUMED_REQUEST: u8 = 1;
pub(crate) const CONSUMED_RESPONSE: u8 = 2;

impl<'a> Exchange<'a> {
    /// A new exchange for `request`. `unix_micros` is the request's start time and
    /// `seed` seeds `Guid.NewGuid()`; both are injected so tests are deterministic.
    pub fn new(
        arena: &'a Bump,
        request: RequestState<'a>,
        info: CallInfo<'a>,
        unix_micros: i64,
        seed: u64,
    ) -> Self {
        const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
        let ticks = UNIX_EPOCH_TICKS + unix_micros * 10;
        Exchange {
            arena,
            request,
            response: None,
            variables: bumpalo::collections::Vec::new_in(arena),
            info,
            last_error: None,
            backend: BackendChoice::Default,
            traces: bumpalo::collections::Vec::new_in(arena),
            final_headers: bumpalo::collections::Vec::new_in(arena),
            forwarded_at: None,
            pending_send: None,
            limiter: None,
            jwt: None,
            awaiting_keys: None,
            waited_for_keys: false,
            throttler: None,
            waited_for_budget: false,
            budget_retry: false,
            waited_for_slot: false,
            queue_request: None,
            queue_ticket: None,
            queue_expired: false,
            queue_done: false,
            deferred_counts: bumpalo::collections::Vec::new_in(arena),
            metrics: bumpalo::collections::Vec::new_in(arena),
            held: bumpalo::collections::Vec::new_in(arena),
            stored: bumpalo::collections::Vec::new_in(arena),
            retry_attempts: [0; MAX_RETRIES],
            now: DateTime::new(ticks, DateKind::Utc).unwrap_or(DateTime {
                ticks: UNIX_EPOCH_TICKS,
                kind: DateKind::Utc,
            }),
            elapsed_ticks: 0,
            random: Cell::new(seed | 1),
            consumed: Cell::new(0),
        }
    }

    /// Empties the bodies expressions consumed (see `consumed`); the pipeline calls this
    /// before it hands the request to the backend or the response to the client.
    pub fn drop_consumed_bodies(&mut self) {
        let consumed = self.consumed.get();
        if consumed == 0 {
            return;
        }
        if consumed & CONSUMED_REQUEST != 0 {
            self.request.body = Some(b"");
        }
        if consumed & CONSUMED_RESPONSE != 0 {
            if let Some(r) = self.response.as_mut() {
                r.body = Some(b"");
            }
        }
        self.consumed.set(0);
    }

    /// Marks a body consumed (`set == true`) or fresh again (set-body, a new response).
    pub(crate) fn mark_consumed(&self, bit: u8, set: bool) {
        let c = self.consumed.get();
        self.consumed.set(if set { c | bit } else { c & !bit });
    }

    pub(crate) fn is_consumed(&self, bit: u8) -> bool {
        self.consumed.get() & bit != 0
    }

    /// The response, created empty (200) when a policy first needs one.
    pub fn response_mut(&mut self) -> &mut ResponseState<'a> {
        let arena = self.arena;
        self.response.get_or_insert_with(|| ResponseState {
            status: 200,
            reason: "OK",
            headers: HeaderList::new(arena),
            body: None,
        })
    }

    /// The value of variable `name`.
    pub fn variable(&self, name: &str) -> Option<Value<'a>> {
        self.variables
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: cheap, deterministic per seed; not for secrets.
        let mut x = self.random.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Drop for Exchange<'_> {
    /// Slots of `limit-concurrency` are given back however the request ended.
    fn drop(&mut self) {
        if let Some(limiter) = self.limiter {
            for key in self.held.drain(..) {
                limiter.release(key);
            }
        }
    }
}
