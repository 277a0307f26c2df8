//! The compiled form of one effective policy: a flat instruction array per pipeline.
//!
//! One `Program` exists per (operation, product context). It is immutable after
//! compilation and shared by every shard (`Arc<Program>`); per-request state lives in
//! the host and the expression scratch, never here. Control flow (`choose`) is compiled
//! to jumps, so the VM is a loop over instruction indices with no recursion.

use std::ops::Range;
use std::time::Duration;

use crate::expr::Expr;

/// Index of an instruction in [`Program::insns`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsnIdx(pub u32);

/// Index of an expression in [`Program::exprs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExprIdx(pub u32);

/// An attribute or element value: literal text, or an expression evaluated per request
/// and converted to text the way APIM does (`ToString()`).
#[derive(Clone, Debug)]
pub enum Operand {
    Text(Box<str>),
    Expr(ExprIdx),
}

/// Which message a header or body policy changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Request,
    Response,
}

/// `exists-action` of set-header / set-query-parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistsAction {
    Override,
    Skip,
    Append,
    Delete,
}

/// The four pipeline sections, in execution order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Inbound = 0,
    Backend = 1,
    Outbound = 2,
    OnError = 3,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Inbound,
        Section::Backend,
        Section::Outbound,
        Section::OnError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }
}

/// `forward-request` settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardSettings {
    pub timeout: Duration,
    pub follow_redirects: bool,
    pub buffer_request_body: bool,
    pub buffer_response: bool,
    pub fail_on_error_status_code: bool,
}

impl Default for ForwardSettings {
    fn default() -> Self {
        ForwardSettings {
            timeout: Duration::from_secs(300),
            follow_redirects: false,
            buffer_request_body: false,
            buffer_response: true,
            fail_on_error_status_code: false,
        }
    }
}

/// An inclusive address range of `ip-filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRange {
    pub from: std::net::IpAddr,
    pub to: std::net::IpAddr,
}

/// `cors` settings. Lists hold `*` for "any".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    pub allow_credentials: bool,
    pub terminate_unmatched: bool,
    pub origins: Box<[Box<str>]>,
    pub methods: Box<[Box<str>]>,
    pub headers: Box<[Box<str>]>,
    /// `Access-Control-Expose-Headers` value (joined), empty for none.
    pub expose: Box<str>,
    /// `Access-Control-Max-Age` in seconds; 0 leaves it out.
    pub max_age: u32,
}

/// `retry` settings, checked after its body ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySpec {
    /// Index of this retry's attempt counter in the exchange.
    pub id: u16,
    pub condition: ExprIdx,
    /// Retries after the first run (1–50).
    pub count: u32,
    pub interval: Duration,
    pub max_interval: Option<Duration>,
    pub delta: Option<Duration>,
    pub first_fast_retry: bool,
    /// First instruction of the body.
    pub body: InsnIdx,
}

/// A header of a side request.
#[derive(Clone, Debug)]
pub struct SendHeader {
    pub name: Box<str>,
    pub action: ExistsAction,
    pub values: Box<[Operand]>,
}

/// `send-request` / `send-one-way-request`.
#[derive(Clone, Debug)]
pub struct SendSpec {
    /// `mode="copy"`: start from the current request's method, headers and body.
    pub copy: bool,
    pub one_way: bool,
    pub response_variable: Option<Box<str>>,
    pub timeout: Duration,
    pub ignore_error: bool,
    /// A 400–599 answer fails the request (on-error) instead of being stored.
    pub fail_on_error_status_code: bool,
    pub url: Option<Operand>,
    pub method: Option<Operand>,
    pub headers: Box<[SendHeader]>,
    pub body: Option<Operand>,
}

/// `validate-content` actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidateAction {
    Ignore,
    Prevent,
    Detect,
}

/// One `<content>` rule: a content type and how its body must parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentRule {
    /// Lower-case media type (`application/json`).
    pub content_type: Box<str>,
    /// true: JSON; false: XML.
    pub json: bool,
    pub action: ValidateAction,
}

/// `validate-content`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidateContent {
    /// Validates the request (inbound/backend) or the response (outbound/on-error).
    pub request: bool,
    pub unspecified: ValidateAction,
    pub max_size: u64,
    pub size_action: ValidateAction,
    pub errors_variable: Option<Box<str>>,
    pub rules: Box<[ContentRule]>,
}

/// `emit-metric`.
#[derive(Clone, Debug)]
pub struct MetricSpec {
    pub name: Box<str>,
    pub namespace: Box<str>,
    pub value: Operand,
    /// Dimension name and value (`None`: one of the default dimensions APIM fills).
    pub dimensions: Box<[(Box<str>, Option<Operand>)]>,
}

/// One instruction.
#[derive(Clone, Debug)]
pub enum Insn {
    SetHeader {
        target: Target,
        name: Box<str>,
        action: ExistsAction,
        values: Box<[Operand]>,
    },
    SetQueryParameter {
        /// APIM allows an expression here (unlike set-header's name).
        name: Operand,
        action: ExistsAction,
        values: Box<[Operand]>,
    },
    /// `set-variable`: a literal value is a string; an expression keeps its type.
    SetVariable {
        name: Box<str>,
        value: Operand,
    },
    /// Continue at `to` unless the condition is `true` (`choose`/`when`).
    JumpUnless {
        cond: ExprIdx,
        to: InsnIdx,
    },
    Jump {
        to: InsnIdx,
    },
    RewriteUri {
        template: Operand,
        copy_unmatched_params: bool,
    },
    SetMethod {
        method: Operand,
    },
    SetStatus {
        code: Operand,
        reason: Option<Operand>,
    },
    SetBody {
        target: Target,
        body: Operand,
    },
    /// `set-body template="liquid"`: renders the template; `body` in it is the
    /// target message's body.
    SetBodyLiquid {
        target: Target,
        template: Box<crate::liquid::Template>,
    },
    SetBackendService {
        base_url: Option<Operand>,
        backend_id: Option<Operand>,
    },
    /// Start building a gateway response from scratch (`return-response`, `mock-response`).
    BeginResponse,
    /// End the pipeline and send the response built so far.
    Respond,
    CheckHeader {
        name: Box<str>,
        failed_code: u16,
        failed_message: Box<str>,
        ignore_case: bool,
        values: Box<[Box<str>]>,
    },
    IpFilter {
        /// `allow` or `forbid`: literal (checked at load) or an expression.
        action: Operand,
        ranges: Box<[AddressRange]>,
    },
    /// Send the request to the backend (the proxy does the I/O and resumes after it).
    Forward(ForwardSettings),
    /// `validate-jwt` and `validate-azure-ad-token`.
    ValidateJwt(Box<JwtPolicy>),
    /// validate-client-certificate.
    ValidateClientCertificate(Box<ClientCertPolicy>),
    /// `authentication-basic`: `Authorization: Basic base64(user:password)` to the backend.
    AuthenticationBasic {
        username: Operand,
        password: Operand,
    },
    /// `rate-limit`, `rate-limit-by-key`, `quota`, `quota-by-key`.
    Throttle(Box<Throttle>),
    Trace {
        source: Box<str>,
        severity: Box<str>,
        message: Operand,
    },
    Cors(Box<Cors>),
    /// Resets the attempt counter of retry `id` before its body first runs.
    RetryStart {
        id: u16,
    },
    /// Evaluates the retry condition; runs the body again (after a wait) or goes on.
    RetryCheck(Box<RetrySpec>),
    /// Evaluate a side request into the exchange and yield it to the proxy.
    SendRequest(Box<SendSpec>),
    /// `limit-concurrency`: take a slot for `key` or fail with 429; with a queue, wait
    /// in line (per key, per shard, first come first served) up to `queue_ms` while at
    /// most `queue_len` others wait.
    ConcurrencyEnter {
        key: Operand,
        max: u32,
        queue_ms: u32,
        queue_len: u32,
    },
    /// Give back the slot the matching enter took.
    ConcurrencyExit,
    ValidateContent(Box<ValidateContent>),
    EmitMetric(Box<MetricSpec>),
    /// `return-response response-variable-name`: the stored response becomes the response.
    ReturnStored {
        variable: Box<str>,
    },
    /// find-and-replace, json-to-xml, xml-to-json, redirect-content-urls.
    Transform(Box<crate::transform::TransformSpec>),
}

/// Where an instruction came from, for errors and `context.LastError`.
#[derive(Clone, Debug)]
pub struct Origin {
    /// Policy element name (`set-header`).
    pub policy: &'static str,
    /// `global`, `product`, `api`, `operation` (APIM's LastError.Scope).
    pub scope: &'static str,
    /// The `id` attribute, if any (LastError.PolicyId).
    pub policy_id: Option<Box<str>>,
    /// Position in the section, e.g. `choose[1]/when[2]/set-header[1]` (LastError.Path).
    pub path: Box<str>,
    pub file: Box<str>,
    pub line: u32,
    pub col: u32,
    /// An operand holds a secret named value: listings print `***` for its literals.
    pub secret: bool,
}

/// A compiled pipeline.
#[derive(Debug, Default)]
pub struct Program {
    pub insns: Vec<Insn>,
    /// Parallel to `insns`.
    pub origins: Vec<Origin>,
    pub exprs: Vec<Expr>,
    /// Instruction ranges of each section, indexed by `Section as usize`.
    pub sections: [Range<u32>; 4],
    /// Number of `retry` policies (attempt counters an exchange keeps).
    pub retries: u16,
    /// Some policy reads the request body (an expression touching `Body`, or
    /// forward-request `buffer-request-body`): the proxy buffers it before inbound.
    pub reads_request_body: bool,
    /// Some outbound or on-error expression reads the response body: the proxy buffers
    /// the backend's body before outbound.
    pub reads_response_body: bool,
}

impl Program {
    pub fn section(&self, s: Section) -> Range<u32> {
        self.sections[s as usize].clone()
    }

    pub fn origin(&self, at: InsnIdx) -> &Origin {
        &self.origins[at.0 as usize]
    }

    /// True when the program does nothing but forward (the proxy's fast path).
    pub fn is_passthrough(&self) -> bool {
        self.insns
            .iter()
            .all(|i| matches!(i, Insn::Forward(s) if *s == ForwardSettings::default()))
    }
}

/// Where `validate-jwt` finds the token.
#[derive(Clone, Debug)]
pub enum TokenSource {
    Header(Box<str>),
    Query(Box<str>),
    Value(Operand),
}

/// One `<claim>` of `<required-claims>`.
#[derive(Clone, Debug)]
pub struct ClaimRule {
    pub name: Box<str>,
    /// `match="any"`: one listed value suffices (default `all`: every listed value).
    pub any: bool,
    /// Splits a claim's string value into several values.
    pub separator: Option<Box<str>>,
    pub values: Box<[Box<str>]>,
}

/// A compiled `validate-jwt` (or `validate-azure-ad-token`, which compiles to one).
#[derive(Clone, Debug)]
pub struct JwtPolicy {
    /// The policy name for LastError.Source.
    pub policy: &'static str,
    pub source: TokenSource,
    pub failed_code: u16,
    pub failed_message: Option<Box<str>>,
    pub require_expiration_time: bool,
    /// `require-scheme`: the Authorization header's scheme the token must come with.
    pub require_scheme: Option<Box<str>>,
    pub clock_skew_secs: i64,
    pub output_variable: Option<Box<str>>,
    /// `<issuer-signing-keys>`.
    pub keys: tollgate_jwt::KeySet,
    /// `<openid-config url>`: key sets the proxy fetches.
    pub openid_urls: Box<[Box<str>]>,
    pub audiences: Box<[Box<str>]>,
    pub issuers: Box<[Box<str>]>,
    pub required_claims: Box<[ClaimRule]>,
    /// Identifies this policy in the verified-token cache (its source position).
    pub cache_id: u64,
    /// Longest token accepted.
    pub max_token_len: usize,
}

/// Rate (sliding window of calls) or quota (fixed window of calls and/or kilobytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleKind {
    Rate,
    Quota,
}

/// One counter of a throttling policy: its limit, and the API / operation it is kept
/// for (`<api>` / `<operation>` children; `None`: every call the policy sees).
#[derive(Clone, Debug)]
pub struct Counter {
    /// Identifies the counter in the shard's limiter.
    pub id: u64,
    /// `calls` (literal, or an expression for rate-limit-by-key).
    pub calls: Option<Operand>,
    /// `bandwidth`, in kilobytes (quota).
    pub kilobytes: Option<u64>,
    /// `renewal-period`, in seconds (`0` for a quota: never renews).
    pub period: Operand,
    /// `(name or id, is id)` of the API this counter is for.
    pub api: Option<(Box<str>, bool)>,
    /// `(name or id, is id)` of the operation.
    pub operation: Option<(Box<str>, bool)>,
}

/// A compiled throttling policy.
#[derive(Clone, Debug)]
pub struct Throttle {
    pub kind: ThrottleKind,
    /// The policy's name, for LastError.Source.
    pub policy: &'static str,
    /// `counter-key` (by-key variants); `None`: the subscription is the key.
    pub counter_key: Option<Operand>,
    /// `increment-condition`; counted after the response when it reads the response.
    pub increment_condition: Option<ExprIdx>,
    pub count_after_response: bool,
    /// `increment-count` (default 1).
    pub increment_count: Option<Operand>,
    /// `first-period-start` of quota-by-key, unix milliseconds.
    pub first_period_start_ms: i64,
    pub counters: Box<[Counter]>,
    pub retry_after_header: Box<str>,
    pub retry_after_variable: Option<Box<str>>,
    pub remaining_header: Option<Box<str>>,
    pub remaining_variable: Option<Box<str>>,
    pub total_header: Option<Box<str>>,
}

/// validate-client-certificate: the checks and the allowed identities (none: any).
#[derive(Clone, Debug, PartialEq)]
pub struct ClientCertPolicy {
    pub revocation: bool,
    pub trust: bool,
    pub not_before: bool,
    pub not_after: bool,
    pub ignore_error: bool,
    pub identities: Box<[ClientIdentity]>,
}

/// One `<identity>`: every attribute given must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientIdentity {
    pub thumbprint: Option<Box<str>>,
    pub serial_number: Option<Box<str>>,
    pub common_name: Option<Box<str>>,
    pub subject: Option<Box<str>>,
    pub dns_name: Option<Box<str>>,
    pub issuer_subject: Option<Box<str>>,
    pub issuer_thumbprint: Option<Box<str>>,
}

impl ClientIdentity {
    pub fn is_empty(&self) -> bool {
        *self == ClientIdentity::default()
    }
}
