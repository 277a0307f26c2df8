//! The host side: what an expression may read from the request being processed.
//!
//! The VM implements [`ExprContext`] once per request. Every method is a cheap lookup;
//! strings and slices it returns must live as long as the request arena (`'a`), so the
//! host either points into its request buffers or copies into [`ExprContext::arena`].

use bumpalo::Bump;

use super::builtins::time::{DateTime, Guid, TimeSpan};
use super::error::EvalError;
use super::value::Value;

/// Which HTTP message a member refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// `context.Request`.
    Request,
    /// `context.Response` (only compiled where a response exists).
    Response,
    /// An `IResponse` stored in a variable by send-request; the handle is the host's.
    Stored(u32),
}

/// Which URL: `context.Request.Url`, `context.Request.OriginalUrl`, `context.Api.ServiceUrl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UrlKind {
    Request,
    Original,
    ApiService,
}

/// The parts of an `IUrl`. `query` is the raw query string without the leading `?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: i32,
    pub path: &'a str,
    pub query: &'a str,
}

impl std::fmt::Display for UrlParts<'_> {
    /// `scheme://host[:port]/path[?query]`, the port only when it is not the scheme's
    /// default (`IUrl.ToString()`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let default_port = match self.scheme {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => -1,
        };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default_port && self.port > 0 {
            write!(f, ":{}", self.port)?;
        }
        f.write_str(self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query)?;
        }
        Ok(())
    }
}

/// Context entities that may be absent (then `context.X` is `null`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    Subscription,
    Product,
    Api,
    Operation,
    Deployment,
    LastError,
    /// Always `null` on this gateway (no developer-portal users).
    User,
}

impl Entity {
    pub fn type_name(self) -> &'static str {
        match self {
            Entity::Subscription => "ISubscription",
            Entity::Product => "IProduct",
            Entity::Api => "IApi",
            Entity::Operation => "IOperation",
            Entity::Deployment => "IDeployment",
            Entity::LastError => "ILastError",
            Entity::User => "IUser",
        }
    }
}

/// Entity fields read through [`ExprContext::field`]. The comment gives the `Value` the
/// host must return (`Value::Null` is always allowed for nullable fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Str
    SubscriptionId,
    /// Str
    SubscriptionName,
    /// Str: the key used by this request.
    SubscriptionKey,
    /// Str
    SubscriptionPrimaryKey,
    /// Str
    SubscriptionSecondaryKey,
    /// DateTime
    SubscriptionCreatedDate,
    /// DateTime or Null
    SubscriptionStartDate,
    /// DateTime or Null
    SubscriptionEndDate,
    /// Str
    ProductId,
    /// Str
    ProductName,
    /// Str ("Published" / "NotPublished")
    ProductState,
    /// Bool
    ProductSubscriptionRequired,
    /// Bool
    ProductApprovalRequired,
    /// Int or Null
    ProductSubscriptionLimit,
    /// Str
    ApiId,
    /// Str
    ApiName,
    /// Str
    ApiPath,
    /// Str
    ApiRevision,
    /// Str or Null
    ApiVersion,
    /// Bool
    ApiIsCurrentRevision,
    /// Str
    OperationId,
    /// Str
    OperationName,
    /// Str
    OperationMethod,
    /// Str
    OperationUrlTemplate,
    /// Str
    DeploymentGatewayId,
    /// Str
    DeploymentRegion,
    /// Str
    DeploymentServiceName,
    /// Str
    LastErrorSource,
    /// Str
    LastErrorReason,
    /// Str
    LastErrorMessage,
    /// Str
    LastErrorScope,
    /// Str
    LastErrorSection,
    /// Str
    LastErrorPath,
    /// Str
    LastErrorPolicyId,
}

/// The client certificate (`context.Request.Certificate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Certificate<'a> {
    pub subject: &'a str,
    pub issuer: &'a str,
    pub thumbprint: &'a str,
    pub serial_number: &'a str,
    pub not_before: DateTime,
    pub not_after: DateTime,
    /// `Verify()`: trusted, not revoked, within its dates.
    pub verified: bool,
}

/// What an expression can see of the request in flight. Implemented by the VM.
pub trait ExprContext<'a> {
    /// The per-request arena: every string or composite value made at runtime lives here.
    fn arena(&self) -> &'a Bump;
    /// `context.Request.Method`.
    fn method(&self) -> &'a str;
    /// `context.Request.Url` / `OriginalUrl` / `context.Api.ServiceUrl`; `None` → null.
    fn url(&self, which: UrlKind) -> Option<UrlParts<'a>>;
    /// All values of a header (name matched case-insensitively), `None` when absent.
    /// `GetValueOrDefault` joins them with `,`.
    fn header_values(&self, msg: Msg, name: &str) -> Option<&'a [&'a str]>;
    /// Header names, for `Headers.Count` / `Headers.Keys`.
    fn header_names(&self, msg: Msg) -> &'a [&'a str];
    /// Whether `Body` is non-null (a body is present).
    fn has_body(&self, msg: Msg) -> bool;
    /// The body bytes for `Body.As<T>(preserveContent)`. Reading without
    /// `preserve_content` consumes the body; the host returns an error on a later read.
    fn body(&self, msg: Msg, preserve_content: bool) -> Result<&'a [u8], EvalError>;
    /// `context.Request.IpAddress`.
    fn ip_address(&self) -> &'a str;
    /// `context.Request.MatchedParameters[name]`.
    fn matched_parameter(&self, name: &str) -> Option<&'a str>;
    /// Status code and reason of a response (`Msg::Response` or `Msg::Stored`).
    fn status(&self, msg: Msg) -> (i32, &'a str);
    /// `context.Variables[name]`; `None` when not set.
    fn variable(&self, name: &str) -> Option<Value<'a>>;
    /// Whether `context.Subscription` etc. is non-null.
    fn has_entity(&self, entity: Entity) -> bool;
    /// An entity field; see [`Field`] for the expected value types.
    fn field(&self, field: Field) -> Value<'a>;
    /// `context.Request.Certificate`.
    fn certificate(&self) -> Option<Certificate<'a>>;
    /// `context.RequestId`.
    fn request_id(&self) -> Guid;
    /// `context.Timestamp` (UTC).
    fn timestamp(&self) -> DateTime;
    /// `DateTime.UtcNow` (and `Now`, as the gateway runs in UTC).
    fn utc_now(&self) -> DateTime;
    /// `context.Elapsed`.
    fn elapsed(&self) -> TimeSpan;
    /// `context.Tracing`.
    fn tracing(&self) -> bool;
    /// Randomness for `Guid.NewGuid()` and `new Random()`; deterministic in tests.
    fn random_u64(&self) -> u64;
}
