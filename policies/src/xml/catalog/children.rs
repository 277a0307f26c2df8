//! The child elements of policies (`when`, `value`, `allowed-origins`, `claim`, …), as
//! the reference and the APIM policy pages describe them.

use super::{element, opt, req, Child, Content, ElementSpec, Group};

/// Elements whose whitespace is content: bodies, messages, values and literal markup.
pub(super) const LITERAL_CONTENT: &[&str] = &[
    "set-body",
    "value",
    "message",
    "set-method",
    "set-url",
    "log-to-eventhub",
    "publish-to-dapr",
    "payload",
    "data",
    "message-property",
    "item",
    "xsl-transform",
    "cross-domain",
    "http-data-source",
    "sql-data-source",
    "cosmosdb-data-source",
    "publish-event",
];

const fn text(name: &'static str) -> ElementSpec {
    element(name, &[], Content::Text)
}

// choose
pub(super) const WHEN: ElementSpec =
    element("when", &[req("condition")], Content::Policies).required();
pub(super) const OTHERWISE: ElementSpec = element("otherwise", &[], Content::Policies).unique();

// set-header, set-query-parameter, check-header
pub(super) const VALUE: ElementSpec = text("value");

// send-request, send-one-way-request
pub(super) const SET_URL: ElementSpec = text("set-url").unique();

// ip-filter
pub(super) const ADDRESS: ElementSpec = text("address");
pub(super) const ADDRESS_RANGE: ElementSpec =
    element("address-range", &[req("from"), req("to")], Content::Empty);

// cors
const ORIGIN: ElementSpec = text("origin");
const METHOD: ElementSpec = text("method");
const HEADER: ElementSpec = text("header");
pub(super) const ALLOWED_ORIGINS: ElementSpec = element(
    "allowed-origins",
    &[],
    Content::Children(&[Child::Element(&ORIGIN)]),
)
.required()
.unique();
pub(super) const ALLOWED_METHODS: ElementSpec = element(
    "allowed-methods",
    &[opt("preflight-result-max-age")],
    Content::Children(&[Child::Element(&METHOD)]),
)
.unique();
pub(super) const ALLOWED_HEADERS: ElementSpec = element(
    "allowed-headers",
    &[],
    Content::Children(&[Child::Element(&HEADER)]),
)
.required()
.unique();
pub(super) const EXPOSE_HEADERS: ElementSpec = element(
    "expose-headers",
    &[],
    Content::Children(&[Child::Element(&HEADER)]),
)
.unique();

// rate-limit, quota: per-API and per-operation counters
const RATE_LIMIT_OPERATION: ElementSpec = element(
    "operation",
    &[opt("name"), opt("id"), req("calls"), req("renewal-period")],
    Content::Empty,
);
pub(super) const RATE_LIMIT_API: ElementSpec = element(
    "api",
    &[opt("name"), opt("id"), req("calls"), req("renewal-period")],
    Content::Children(&[Child::Element(&RATE_LIMIT_OPERATION)]),
);
const QUOTA_OPERATION: ElementSpec = element(
    "operation",
    &[
        opt("name"),
        opt("id"),
        opt("calls"),
        opt("bandwidth"),
        req("renewal-period"),
    ],
    Content::Empty,
);
pub(super) const QUOTA_API: ElementSpec = element(
    "api",
    &[
        opt("name"),
        opt("id"),
        opt("calls"),
        opt("bandwidth"),
        req("renewal-period"),
    ],
    Content::Children(&[Child::Element(&QUOTA_OPERATION)]),
);

// validate-jwt, validate-azure-ad-token
pub(super) const OPENID_CONFIG: ElementSpec =
    element("openid-config", &[req("url")], Content::Empty);
const KEY: ElementSpec = element(
    "key",
    &[opt("id"), opt("certificate-id"), opt("n"), opt("e")],
    Content::Text,
);
pub(super) const ISSUER_SIGNING_KEYS: ElementSpec = element(
    "issuer-signing-keys",
    &[],
    Content::Children(&[Child::Element(&KEY)]),
)
.unique();
pub(super) const DECRYPTION_KEYS: ElementSpec = element(
    "decryption-keys",
    &[],
    Content::Children(&[Child::Element(&KEY)]),
)
.unique();
const AUDIENCE: ElementSpec = text("audience");
pub(super) const AUDIENCES: ElementSpec = element(
    "audiences",
    &[],
    Content::Children(&[Child::Element(&AUDIENCE)]),
)
.unique();
const ISSUER: ElementSpec = text("issuer");
pub(super) const ISSUERS: ElementSpec = element(
    "issuers",
    &[],
    Content::Children(&[Child::Element(&ISSUER)]),
)
.unique();
const CLAIM: ElementSpec = element(
    "claim",
    &[req("name"), opt("match"), opt("separator")],
    Content::Children(&[Child::Element(&VALUE)]),
);
pub(super) const REQUIRED_CLAIMS: ElementSpec = element(
    "required-claims",
    &[],
    Content::Children(&[Child::Element(&CLAIM)]),
)
.unique();
const APPLICATION_ID: ElementSpec = text("application-id");
pub(super) const CLIENT_APPLICATION_IDS: ElementSpec = element(
    "client-application-ids",
    &[],
    Content::Children(&[Child::Element(&APPLICATION_ID)]),
)
.required()
.unique();
pub(super) const BACKEND_APPLICATION_IDS: ElementSpec = element(
    "backend-application-ids",
    &[],
    Content::Children(&[Child::Element(&APPLICATION_ID)]),
)
.unique();

// validate-client-certificate
const IDENTITY: ElementSpec = element(
    "identity",
    &[
        opt("thumbprint"),
        opt("serial-number"),
        opt("common-name"),
        opt("subject"),
        opt("dns-name"),
        opt("issuer-subject"),
        opt("issuer-thumbprint"),
        opt("issuer-certificate-id"),
    ],
    Content::Empty,
);
pub(super) const IDENTITIES: ElementSpec = element(
    "identities",
    &[],
    Content::Children(&[Child::Element(&IDENTITY)]),
)
.unique();

// validate-content
const CONTENT_TYPE: ElementSpec = element(
    "type",
    &[opt("from"), opt("when"), req("to")],
    Content::Empty,
);
pub(super) const CONTENT_TYPE_MAP: ElementSpec = element(
    "content-type-map",
    &[
        opt("any-content-type-value"),
        opt("missing-content-type-value"),
    ],
    Content::Children(&[Child::Element(&CONTENT_TYPE)]),
)
.unique();
pub(super) const CONTENT: ElementSpec = element(
    "content",
    &[
        opt("type"),
        req("validate-as"),
        opt("schema-id"),
        opt("schema-ref"),
        req("action"),
        opt("allow-additional-properties"),
        opt("case-insensitive-property-names"),
    ],
    Content::Empty,
);

// validate-parameters
const PARAMETER: ElementSpec = element("parameter", &[req("name"), req("action")], Content::Empty);
const PARAMETER_KIND_ATTRS: &[super::AttrSpec] = &[
    opt("specified-parameter-action"),
    opt("unspecified-parameter-action"),
];
pub(super) const PARAMETER_HEADERS: ElementSpec = element(
    "headers",
    PARAMETER_KIND_ATTRS,
    Content::Children(&[Child::Element(&PARAMETER)]),
)
.unique();
pub(super) const PARAMETER_QUERY: ElementSpec = element(
    "query",
    PARAMETER_KIND_ATTRS,
    Content::Children(&[Child::Element(&PARAMETER)]),
)
.unique();
pub(super) const PARAMETER_PATH: ElementSpec = element(
    "path",
    PARAMETER_KIND_ATTRS,
    Content::Children(&[Child::Element(&PARAMETER)]),
)
.unique();

// validate-headers, validate-status-code
pub(super) const VALIDATE_HEADER: ElementSpec =
    element("header", &[req("name"), req("action")], Content::Empty);
pub(super) const STATUS_CODE: ElementSpec =
    element("status-code", &[req("code"), req("action")], Content::Empty);

// validate-graphql-request
const RULE: ElementSpec = element("rule", &[req("path"), req("action")], Content::Empty);
pub(super) const AUTHORIZE: ElementSpec = element(
    "authorize",
    &[],
    Content::Children(&[Child::Element(&RULE)]),
)
.unique();

// cache-lookup, semantic cache lookup
pub(super) const VARY_BY_HEADER: ElementSpec = text("vary-by-header");
pub(super) const VARY_BY_QUERY_PARAMETER: ElementSpec = text("vary-by-query-parameter");
pub(super) const VARY_BY: ElementSpec = text("vary-by");

// emit-metric, token metrics
pub(super) const DIMENSION: ElementSpec =
    element("dimension", &[req("name"), opt("value")], Content::Empty);

// trace
pub(super) const TRACE_MESSAGE: ElementSpec = text("message").required().unique();
pub(super) const TRACE_METADATA: ElementSpec =
    element("metadata", &[req("name"), req("value")], Content::Empty);

// llm-content-safety
const CATEGORY: ElementSpec = element("category", &[req("name"), req("threshold")], Content::Empty);
pub(super) const CATEGORIES: ElementSpec = element(
    "categories",
    &[opt("output-type")],
    Content::Children(&[Child::Element(&CATEGORY)]),
)
.unique();
const BLOCKLIST_ID: ElementSpec = text("id");
pub(super) const BLOCKLISTS: ElementSpec = element(
    "blocklists",
    &[],
    Content::Children(&[Child::Element(&BLOCKLIST_ID)]),
)
.unique();

// send-service-bus-message
const MESSAGE_PROPERTY: ElementSpec = element("message-property", &[req("name")], Content::Text);
pub(super) const MESSAGE_PROPERTIES: ElementSpec = element(
    "message-properties",
    &[],
    Content::Children(&[Child::Element(&MESSAGE_PROPERTY)]),
)
.unique();
pub(super) const PAYLOAD: ElementSpec = element("payload", &[], Content::Raw).unique();

// invoke-dapr-binding
const METADATA_ITEM: ElementSpec = element("item", &[req("key")], Content::Text);
pub(super) const DAPR_METADATA: ElementSpec = element(
    "metadata",
    &[],
    Content::Children(&[Child::Element(&METADATA_ITEM)]),
)
.unique();
pub(super) const DAPR_DATA: ElementSpec = element("data", &[], Content::Raw).unique();

/// validate-jwt's token source: exactly one of these.
pub(super) const JWT_SOURCE: &[Group] = &[super::one_of(&[
    "header-name",
    "query-parameter-name",
    "token-value",
])];
