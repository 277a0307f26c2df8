//! `MockContext`: a fixed request (method, URLs, repeated headers, JSON body, IP, matched
//! parameters, variables, subscription, ...) with a fixed clock and deterministic random.

use std::cell::Cell;

use bumpalo::Bump;

use crate::expr::builtins::convert::base64_encode;
use crate::expr::builtins::json;
use crate::expr::{
    Certificate, DateKind, DateTime, Entity, EvalError, ExprContext, Field, Guid, Handle, Msg,
    TimeSpan, UrlKind, UrlParts, Value,
};

pub const REQUEST_BODY: &str = r#"{"name":"widget","qty":3,"price":9.5,"tags":["a","b"],"nested":{"id":"n1","list":[1,2,3]},"ok":true,"none":null}"#;

fn b64url(s: &str) -> String {
    let mut out = String::new();
    base64_encode(s.as_bytes(), true, &mut out);
    out
}

/// A JWT (unsigned for our purposes) with fixed claims.
pub fn test_jwt() -> String {
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let payload = r#"{"sub":"user-7","tid":"tenant-9","aud":["api://a","api://b"],"iss":"https://issuer.example","exp":1710498030,"iat":1710494430,"nbf":1710494430,"roles":["admin","reader"],"jti":"j-1","n":42}"#;
    format!("{}.{}.c2lnbmF0dXJl", b64url(header), b64url(payload))
}

pub fn dt(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> DateTime {
    let mut d = DateTime::from_parts(y, mo, d, h, mi, s, ms).expect("valid date");
    d.kind = DateKind::Utc;
    d
}

pub struct MockContext<'a> {
    pub arena: &'a Bump,
    pub auth: &'a str,
    pub vars: Vec<(&'a str, Value<'a>)>,
    pub consumed: Cell<bool>,
    pub rng: Cell<u64>,
    pub has_subscription: bool,
    pub has_body: bool,
    pub has_cert: bool,
}

impl<'a> MockContext<'a> {
    pub fn new(arena: &'a Bump) -> Self {
        let auth = arena.alloc_str(&format!("Bearer {}", test_jwt()));
        let obj = json::parse(arena, r#"{"a":1,"b":"two"}"#).expect("json");
        let list = arena.alloc_slice_copy(&[Value::Str("x"), Value::Str("y")]);
        let vars = vec![
            ("userId", Value::Str("u-1")),
            ("x", Value::Str("a")),
            ("count", Value::Int(5)),
            ("big", Value::Long(10_000_000_000)),
            ("flag", Value::Bool(true)),
            ("ratio", Value::Double(0.25)),
            ("nothing", Value::Null),
            ("obj", Value::Json(obj)),
            ("resp", Value::Handle(Handle::Msg(Msg::Stored(1)))),
            ("list", Value::List(list)),
            ("when", Value::DateTime(dt(2024, 1, 2, 3, 4, 5, 0))),
        ];
        MockContext {
            arena,
            auth,
            vars,
            consumed: Cell::new(false),
            rng: Cell::new(0x1234_5678_9abc_def0),
            has_subscription: true,
            has_body: true,
            has_cert: true,
        }
    }
}

impl<'a> ExprContext<'a> for MockContext<'a> {
    fn arena(&self) -> &'a Bump {
        self.arena
    }

    fn method(&self) -> &'a str {
        "POST"
    }

    fn url(&self, which: UrlKind) -> Option<UrlParts<'a>> {
        Some(match which {
            UrlKind::Request => UrlParts {
                scheme: "https",
                host: "api.contoso.com",
                port: 443,
                path: "/orders/42",
                query: "page=2&tag=a&tag=b&q=hello%20world",
            },
            UrlKind::Original => UrlParts {
                scheme: "https",
                host: "api.contoso.com",
                port: 443,
                path: "/v1/orders/42",
                query: "page=2",
            },
            UrlKind::ApiService => UrlParts {
                scheme: "http",
                host: "backend.internal",
                port: 8080,
                path: "/api",
                query: "",
            },
        })
    }

    fn header_values(&self, msg: Msg, name: &str) -> Option<&'a [&'a str]> {
        let n = name.to_ascii_lowercase();
        let v: &'a [&'a str] = match (msg, n.as_str()) {
            (Msg::Request, "authorization") => self.arena.alloc_slice_copy(&[self.auth]),
            (Msg::Request, "x-api-key") => &["secret"],
            (Msg::Request, "accept") => &["application/json", "text/plain"],
            (Msg::Request, "content-type") => &["application/json"],
            (Msg::Request, "x-basic") => &["Basic dXNlcjpwYXNz"],
            (Msg::Response, "content-type") => &["text/plain"],
            (Msg::Response, "x-backend") => &["b1"],
            (Msg::Stored(1), "x-token") => &["tok"],
            _ => return None,
        };
        Some(v)
    }

    fn header_names(&self, msg: Msg) -> &'a [&'a str] {
        match msg {
            Msg::Request => &[
                "Authorization",
                "X-Api-Key",
                "Accept",
                "Content-Type",
                "X-Basic",
            ],
            Msg::Response => &["Content-Type", "X-Backend"],
            Msg::Stored(_) => &["X-Token"],
        }
    }

    fn has_body(&self, _msg: Msg) -> bool {
        self.has_body
    }

    fn body(&self, msg: Msg, preserve_content: bool) -> Result<&'a [u8], EvalError> {
        if msg == Msg::Request {
            if self.consumed.get() {
                return Err(EvalError::new(
                    "The request body was already read (use preserveContent: true).",
                ));
            }
            if !preserve_content {
                self.consumed.set(true);
            }
        }
        Ok(match msg {
            Msg::Request => REQUEST_BODY.as_bytes(),
            Msg::Response => b"[1,2,3]",
            Msg::Stored(_) => br#"{"access_token":"abc","expires_in":3600}"#,
        })
    }

    fn ip_address(&self) -> &'a str {
        "10.0.0.7"
    }

    fn matched_parameter(&self, name: &str) -> Option<&'a str> {
        match name {
            "id" => Some("42"),
            "name" => Some("widget"),
            _ => None,
        }
    }

    fn status(&self, msg: Msg) -> (i32, &'a str) {
        match msg {
            Msg::Stored(_) => (200, "OK"),
            _ => (502, "Bad Gateway"),
        }
    }

    fn variable(&self, name: &str) -> Option<Value<'a>> {
        self.vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    fn has_entity(&self, entity: Entity) -> bool {
        match entity {
            Entity::Subscription => self.has_subscription,
            Entity::User => false,
            _ => true,
        }
    }

    fn field(&self, field: Field) -> Value<'a> {
        use Field as F;
        match field {
            F::SubscriptionId => Value::Str("sub-1"),
            F::SubscriptionName => Value::Str("gold-sub"),
            F::SubscriptionKey => Value::Str("k-123"),
            F::SubscriptionPrimaryKey => Value::Str("pk"),
            F::SubscriptionSecondaryKey => Value::Str("sk"),
            F::SubscriptionCreatedDate => Value::DateTime(dt(2020, 1, 1, 0, 0, 0, 0)),
            F::SubscriptionStartDate => Value::Null,
            F::SubscriptionEndDate => Value::DateTime(dt(2030, 12, 31, 0, 0, 0, 0)),
            F::ProductId => Value::Str("starter"),
            F::ProductName => Value::Str("Starter"),
            F::ProductState => Value::Str("Published"),
            F::ProductSubscriptionRequired => Value::Bool(true),
            F::ProductApprovalRequired => Value::Bool(false),
            F::ProductSubscriptionLimit => Value::Int(1),
            F::ApiId => Value::Str("echo-api"),
            F::ApiName => Value::Str("Echo API"),
            F::ApiPath => Value::Str("/echo"),
            F::ApiRevision => Value::Str("1"),
            F::ApiVersion => Value::Str("v1"),
            F::ApiIsCurrentRevision => Value::Bool(true),
            F::OperationId => Value::Str("get-order"),
            F::OperationName => Value::Str("Get order"),
            F::OperationMethod => Value::Str("GET"),
            F::OperationUrlTemplate => Value::Str("/orders/{id}"),
            F::DeploymentGatewayId => Value::Str("gw-1"),
            F::DeploymentRegion => Value::Str("West Europe"),
            F::DeploymentServiceName => Value::Str("contoso"),
            F::LastErrorSource => Value::Str("forward-request"),
            F::LastErrorReason => Value::Str("BackendConnectionFailure"),
            F::LastErrorMessage => Value::Str("Connection refused"),
            F::LastErrorScope => Value::Str("operation"),
            F::LastErrorSection => Value::Str("backend"),
            F::LastErrorPath => Value::Str("/policies/backend/forward-request"),
            F::LastErrorPolicyId => Value::Str("fr1"),
        }
    }

    fn certificate(&self) -> Option<Certificate<'a>> {
        self.has_cert.then(|| Certificate {
            subject: "CN=client.contoso.com",
            issuer: "CN=Contoso CA",
            thumbprint: "ABCDEF0123456789",
            serial_number: "0A1B",
            not_before: dt(2024, 1, 1, 0, 0, 0, 0),
            not_after: dt(2025, 1, 1, 0, 0, 0, 0),
            verified: true,
        })
    }

    fn request_id(&self) -> Guid {
        Guid([
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
            0xff, 0x00,
        ])
    }

    fn timestamp(&self) -> DateTime {
        dt(2024, 3, 15, 10, 20, 30, 123)
    }

    fn utc_now(&self) -> DateTime {
        dt(2024, 3, 15, 10, 20, 31, 0)
    }

    fn elapsed(&self) -> TimeSpan {
        TimeSpan { ticks: 15_000_000 }
    }

    fn tracing(&self) -> bool {
        false
    }

    fn random_u64(&self) -> u64 {
        let x = self
            .rng
            .get()
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.rng.set(x);
        x
    }
}
