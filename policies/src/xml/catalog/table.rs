//! The policy table: every policy of the APIM policy index (reference §2) with its
//! sections, scopes, attributes, children and usage limits.
//!
//! Sources: the reference §1.1 (on-error's policy list, once-per rules) and §2, completed
//! from the APIM policy pages for what §2 leaves out. Where the pages and §1.1 disagree
//! on on-error, a policy is allowed there if either allows it.

use super::children::*;
use super::{
    entry, one_of, opt, req, AttrSpec, Child, Content, Group, Once, PolicySpec, ScopeSet, Sections,
};

const I: Sections = Sections::INBOUND;
const B: Sections = Sections::BACKEND;
const O: Sections = Sections::OUTBOUND;
const E: Sections = Sections::ON_ERROR;
const ALL: Sections = Sections::ALL;
const IO: Sections = I.with(O);
const IB: Sections = I.with(B);
const IOB: Sections = I.with(O).with(B);
const IOE: Sections = I.with(O).with(E);
const IE: Sections = I.with(E);
const OE: Sections = O.with(E);

const fn el(spec: &'static super::ElementSpec) -> Child {
    Child::Element(spec)
}

const RATE_LIMIT_HEADERS: [AttrSpec; 5] = [
    opt("retry-after-header-name"),
    opt("retry-after-variable-name"),
    opt("remaining-calls-header-name"),
    opt("remaining-calls-variable-name"),
    opt("total-calls-header-name"),
];

const TOKEN_LIMIT_ATTRS: &[AttrSpec] = &[
    req("counter-key"),
    opt("tokens-per-minute"),
    opt("token-quota"),
    opt("token-quota-period"),
    req("estimate-prompt-tokens"),
    opt("retry-after-header-name"),
    opt("retry-after-variable-name"),
    opt("remaining-quota-tokens-header-name"),
    opt("remaining-quota-tokens-variable-name"),
    opt("remaining-tokens-header-name"),
    opt("remaining-tokens-variable-name"),
    opt("tokens-consumed-header-name"),
    opt("tokens-consumed-variable-name"),
];

const SEMANTIC_LOOKUP_ATTRS: &[AttrSpec] = &[
    req("score-threshold"),
    req("embeddings-backend-id"),
    opt("embeddings-backend-auth"),
    opt("ignore-system-messages"),
    opt("max-message-count"),
];

const SEND_REQUEST_CHILDREN: &[Child] = &[
    el(&SET_URL),
    Child::Policy("set-method"),
    Child::Policy("set-header"),
    Child::Policy("set-body"),
    Child::Policy("authentication-basic"),
    Child::Policy("authentication-certificate"),
    Child::Policy("authentication-managed-identity"),
    Child::Policy("proxy"),
];

const DAPR_ATTRS_TAIL: [AttrSpec; 5] = [
    opt("ignore-error"),
    opt("response-variable-name"),
    opt("timeout"),
    opt("template"),
    opt("content-type"),
];

const VALUES: &[Child] = &[el(&VALUE)];
const AT_LEAST_CALLS_OR_BANDWIDTH: &[Group] = &[Group {
    names: &["calls", "bandwidth"],
    min: 1,
    max: 2,
}];

pub(super) const POLICIES: &[PolicySpec] = &[
    // Rate limiting and quotas.
    entry(
        "rate-limit",
        I,
        &[
            req("calls"),
            req("renewal-period"),
            RATE_LIMIT_HEADERS[0],
            RATE_LIMIT_HEADERS[1],
            RATE_LIMIT_HEADERS[2],
            RATE_LIMIT_HEADERS[3],
            RATE_LIMIT_HEADERS[4],
        ],
        Content::Children(&[el(&RATE_LIMIT_API)]),
    )
    .scopes(
        ScopeSet::PRODUCT
            .with(ScopeSet::API)
            .with(ScopeSet::OPERATION),
    )
    .once(Once::PerDocument),
    entry(
        "rate-limit-by-key",
        I,
        &[
            req("calls"),
            req("renewal-period"),
            req("counter-key"),
            opt("increment-condition"),
            opt("increment-count"),
            RATE_LIMIT_HEADERS[0],
            RATE_LIMIT_HEADERS[1],
            RATE_LIMIT_HEADERS[2],
            RATE_LIMIT_HEADERS[3],
            RATE_LIMIT_HEADERS[4],
        ],
        Content::Empty,
    ),
    entry(
        "quota",
        I,
        &[opt("calls"), opt("bandwidth"), req("renewal-period")],
        Content::Children(&[el(&QUOTA_API)]),
    )
    .groups(AT_LEAST_CALLS_OR_BANDWIDTH)
    .scopes(ScopeSet::PRODUCT)
    .once(Once::PerDocument),
    entry(
        "quota-by-key",
        I,
        &[
            opt("calls"),
            opt("bandwidth"),
            req("counter-key"),
            opt("increment-condition"),
            req("renewal-period"),
            opt("first-period-start"),
        ],
        Content::Empty,
    )
    .groups(AT_LEAST_CALLS_OR_BANDWIDTH),
    entry(
        "limit-concurrency",
        ALL,
        // `queue-timeout` and `queue-length` are Tollgate's (APIM refuses at once).
        &[
            req("key"),
            req("max-count"),
            opt("queue-timeout"),
            opt("queue-length"),
        ],
        Content::Policies,
    ),
    entry("llm-token-limit", I, TOKEN_LIMIT_ATTRS, Content::Empty),
    entry(
        "azure-openai-token-limit",
        I,
        TOKEN_LIMIT_ATTRS,
        Content::Empty,
    ),
    // Authentication and access.
    entry(
        "check-header",
        I,
        &[
            req("name"),
            req("failed-check-httpcode"),
            req("failed-check-error-message"),
            req("ignore-case"),
        ],
        Content::Children(VALUES),
    ),
    entry(
        "ip-filter",
        I,
        &[req("action")],
        Content::Children(&[el(&ADDRESS), el(&ADDRESS_RANGE)]),
    ),
    entry(
        "validate-jwt",
        I,
        &[
            opt("header-name"),
            opt("query-parameter-name"),
            opt("token-value"),
            opt("failed-validation-httpcode"),
            opt("failed-validation-error-message"),
            opt("require-expiration-time"),
            opt("require-scheme"),
            opt("require-signed-tokens"),
            opt("clock-skew"),
            opt("output-token-variable-name"),
        ],
        Content::Children(&[
            el(&OPENID_CONFIG),
            el(&ISSUER_SIGNING_KEYS),
            el(&DECRYPTION_KEYS),
            el(&AUDIENCES),
            el(&ISSUERS),
            el(&REQUIRED_CLAIMS),
        ]),
    )
    .groups(JWT_SOURCE),
    entry(
        "validate-azure-ad-token",
        I,
        &[
            req("tenant-id"),
            opt("header-name"),
            opt("query-parameter-name"),
            opt("token-value"),
            opt("failed-validation-httpcode"),
            opt("failed-validation-error-message"),
            opt("output-token-variable-name"),
        ],
        Content::Children(&[
            el(&CLIENT_APPLICATION_IDS),
            el(&BACKEND_APPLICATION_IDS),
            el(&AUDIENCES),
            el(&REQUIRED_CLAIMS),
            el(&DECRYPTION_KEYS),
        ]),
    )
    .groups(&[Group {
        names: &["header-name", "query-parameter-name", "token-value"],
        min: 0,
        max: 1,
    }]),
    entry(
        "validate-client-certificate",
        I,
        &[
            opt("validate-revocation"),
            opt("validate-trust"),
            opt("validate-not-before"),
            opt("validate-not-after"),
            opt("ignore-error"),
        ],
        Content::Children(&[el(&IDENTITIES)]),
    ),
    entry(
        "authentication-basic",
        I,
        &[req("username"), req("password")],
        Content::Empty,
    ),
    entry(
        "authentication-certificate",
        I,
        &[
            opt("thumbprint"),
            opt("certificate-id"),
            opt("body"),
            opt("password"),
        ],
        Content::Empty,
    )
    .groups(&[one_of(&["thumbprint", "certificate-id", "body"])]),
    entry(
        "authentication-managed-identity",
        I,
        &[
            req("resource"),
            opt("client-id"),
            opt("output-token-variable-name"),
            opt("ignore-error"),
        ],
        Content::Empty,
    ),
    entry(
        "get-authorization-context",
        I,
        &[
            req("provider-id"),
            req("authorization-id"),
            req("context-variable-name"),
            opt("identity-type"),
            opt("identity"),
            opt("ignore-error"),
        ],
        Content::Empty,
    ),
    // Validation.
    entry(
        "validate-content",
        IOE,
        &[
            req("unspecified-content-type-action"),
            req("max-size"),
            req("size-exceeded-action"),
            opt("errors-variable-name"),
        ],
        Content::Children(&[el(&CONTENT_TYPE_MAP), el(&CONTENT)]),
    ),
    entry(
        "validate-parameters",
        I,
        &[
            req("specified-parameter-action"),
            req("unspecified-parameter-action"),
            opt("errors-variable-name"),
        ],
        Content::Children(&[
            el(&PARAMETER_HEADERS),
            el(&PARAMETER_QUERY),
            el(&PARAMETER_PATH),
        ]),
    ),
    entry(
        "validate-headers",
        OE,
        &[
            req("specified-header-action"),
            req("unspecified-header-action"),
            opt("errors-variable-name"),
        ],
        Content::Children(&[el(&VALIDATE_HEADER)]),
    ),
    entry(
        "validate-status-code",
        OE,
        &[
            req("unspecified-status-code-action"),
            opt("errors-variable-name"),
        ],
        Content::Children(&[el(&STATUS_CODE)]),
    ),
    entry(
        "validate-odata-request",
        I,
        &[
            opt("error-variable-name"),
            opt("default-odata-version"),
            opt("min-odata-version"),
            opt("max-odata-version"),
            opt("max-size"),
        ],
        Content::Empty,
    ),
    entry(
        "validate-graphql-request",
        I,
        &[
            opt("error-variable-name"),
            opt("max-size"),
            opt("max-depth"),
            opt("max-total-depth"),
            opt("max-complexity"),
        ],
        Content::Children(&[el(&AUTHORIZE)]),
    ),
    // Routing and the backend.
    entry(
        "forward-request",
        B,
        &[
            opt("timeout"),
            opt("timeout-ms"),
            opt("continue-timeout"),
            opt("http-version"),
            opt("follow-redirects"),
            opt("buffer-request-body"),
            opt("buffer-response"),
            opt("fail-on-error-status-code"),
        ],
        Content::Empty,
    )
    .once(Once::PerSection),
    entry(
        "set-backend-service",
        IB,
        &[
            opt("base-url"),
            opt("backend-id"),
            opt("sf-partition-key"),
            opt("sf-replica-type"),
            opt("sf-resolve-condition"),
            opt("sf-service-instance-name"),
            opt("sf-listener-name"),
            opt("dapr-app-id"),
            opt("dapr-method"),
            opt("dapr-namespace"),
        ],
        Content::Empty,
    )
    .groups(&[one_of(&["base-url", "backend-id"])]),
    entry(
        "proxy",
        I,
        &[req("url"), opt("username"), opt("password")],
        Content::Empty,
    ),
    // Caching.
    entry(
        "cache-lookup",
        I,
        &[
            req("vary-by-developer"),
            req("vary-by-developer-groups"),
            opt("caching-type"),
            opt("downstream-caching-type"),
            opt("must-revalidate"),
            opt("allow-private-response-caching"),
        ],
        Content::Children(&[el(&VARY_BY_HEADER), el(&VARY_BY_QUERY_PARAMETER)]),
    )
    .once(Once::PerSection),
    entry(
        "cache-store",
        O,
        &[req("duration"), opt("cache-response")],
        Content::Empty,
    )
    .once(Once::PerSection),
    entry(
        "cache-lookup-value",
        ALL,
        &[
            req("key"),
            req("variable-name"),
            opt("default-value"),
            opt("caching-type"),
        ],
        Content::Empty,
    ),
    entry(
        "cache-store-value",
        ALL,
        &[
            req("key"),
            req("value"),
            req("duration"),
            opt("caching-type"),
        ],
        Content::Empty,
    ),
    entry(
        "cache-remove-value",
        ALL,
        &[req("key"), opt("caching-type")],
        Content::Empty,
    ),
    entry(
        "llm-semantic-cache-lookup",
        I,
        SEMANTIC_LOOKUP_ATTRS,
        Content::Children(&[el(&VARY_BY)]),
    ),
    entry(
        "azure-openai-semantic-cache-lookup",
        I,
        SEMANTIC_LOOKUP_ATTRS,
        Content::Children(&[el(&VARY_BY)]),
    ),
    entry(
        "llm-semantic-cache-store",
        O,
        &[req("duration")],
        Content::Empty,
    ),
    entry(
        "azure-openai-semantic-cache-store",
        O,
        &[req("duration")],
        Content::Empty,
    ),
    // Transformation.
    entry(
        "set-header",
        ALL,
        &[req("name"), opt("exists-action")],
        Content::Children(VALUES),
    ),
    entry(
        "set-query-parameter",
        IB,
        &[req("name"), opt("exists-action")],
        Content::Children(VALUES),
    ),
    entry(
        "rewrite-uri",
        I,
        &[req("template"), opt("copy-unmatched-params")],
        Content::Empty,
    ),
    entry(
        "set-body",
        IOB,
        &[opt("template"), opt("xsi-nil")],
        Content::Raw,
    ),
    entry(
        "set-status",
        ALL,
        &[req("code"), opt("reason")],
        Content::Empty,
    ),
    entry("set-method", IE, &[], Content::Text),
    entry(
        "set-variable",
        ALL,
        &[req("name"), req("value")],
        Content::Empty,
    ),
    entry(
        "json-to-xml",
        IOE,
        &[
            req("apply"),
            opt("consider-accept-header"),
            opt("parse-date"),
            opt("namespace-separator"),
            opt("namespace-prefix"),
            opt("attribute-block-name"),
        ],
        Content::Empty,
    ),
    entry(
        "xml-to-json",
        IOE,
        &[
            req("kind"),
            req("apply"),
            opt("consider-accept-header"),
            opt("always-array-child-elements"),
        ],
        Content::Empty,
    ),
    entry(
        "find-and-replace",
        ALL,
        &[req("from"), req("to")],
        Content::Empty,
    ),
    // "This policy can only be used once in a policy section." (its APIM page)
    entry("redirect-content-urls", IO, &[], Content::Empty).once(Once::PerSection),
    entry("xsl-transform", IO, &[], Content::Raw),
    entry(
        "return-response",
        ALL,
        &[opt("response-variable-name")],
        Content::Children(&[
            Child::Policy("set-status"),
            Child::Policy("set-header"),
            Child::Policy("set-body"),
        ]),
    ),
    entry(
        "mock-response",
        IOE,
        &[opt("status-code"), opt("content-type"), opt("index")],
        Content::Empty,
    ),
    // Cross-domain.
    entry(
        "cors",
        I,
        &[opt("allow-credentials"), opt("terminate-unmatched-request")],
        Content::Children(&[
            el(&ALLOWED_ORIGINS),
            el(&ALLOWED_METHODS),
            el(&ALLOWED_HEADERS),
            el(&EXPOSE_HEADERS),
        ]),
    )
    .once(Once::PerSection),
    entry(
        "jsonp",
        O,
        &[req("callback-parameter-name")],
        Content::Empty,
    ),
    entry("cross-domain", I, &[], Content::Raw).scopes(ScopeSet::GLOBAL),
    // Control flow.
    entry(
        "choose",
        ALL,
        &[],
        Content::Children(&[el(&WHEN), el(&OTHERWISE)]),
    ),
    entry(
        "retry",
        ALL,
        &[
            req("condition"),
            req("count"),
            req("interval"),
            opt("max-interval"),
            opt("delta"),
            opt("first-fast-retry"),
        ],
        Content::Policies,
    ),
    entry("wait", ALL, &[opt("for")], Content::Policies),
    entry(
        "include-fragment",
        ALL,
        &[req("fragment-id")],
        Content::Empty,
    ),
    // Side calls and logging.
    entry(
        "send-request",
        ALL,
        &[
            opt("mode"),
            req("response-variable-name"),
            opt("timeout"),
            opt("ignore-error"),
            opt("buffer-response"),
            opt("fail-on-error-status-code"),
        ],
        Content::Children(SEND_REQUEST_CHILDREN),
    ),
    entry(
        "send-one-way-request",
        ALL,
        &[opt("mode"), opt("timeout")],
        Content::Children(SEND_REQUEST_CHILDREN),
    ),
    entry(
        "log-to-eventhub",
        ALL,
        &[req("logger-id"), opt("partition-id"), opt("partition-key")],
        Content::Text,
    ),
    entry(
        "emit-metric",
        ALL,
        &[req("name"), opt("namespace"), opt("value")],
        Content::Children(&[el(&DIMENSION)]),
    ),
    entry(
        "llm-emit-token-metric",
        I,
        &[opt("namespace")],
        Content::Children(&[el(&DIMENSION)]),
    ),
    entry(
        "azure-openai-emit-token-metric",
        I,
        &[opt("namespace")],
        Content::Children(&[el(&DIMENSION)]),
    ),
    entry(
        "trace",
        ALL,
        &[req("source"), opt("severity")],
        Content::Children(&[el(&TRACE_MESSAGE), el(&TRACE_METADATA)]),
    ),
    entry(
        "llm-content-safety",
        IO,
        &[
            req("backend-id"),
            opt("shield-prompt"),
            opt("enforce-on-completions"),
            opt("window-size"),
            opt("window-overlap-size"),
        ],
        Content::Children(&[el(&CATEGORIES), el(&BLOCKLISTS)]),
    ),
    entry(
        "send-service-bus-message",
        ALL,
        &[
            opt("queue-name"),
            opt("topic-name"),
            opt("namespace"),
            opt("client-id"),
        ],
        Content::Children(&[el(&MESSAGE_PROPERTIES), el(&PAYLOAD)]),
    )
    .groups(&[one_of(&["queue-name", "topic-name"])]),
    entry(
        "publish-to-dapr",
        IOE,
        &[
            req("pubsub-name"),
            req("topic"),
            DAPR_ATTRS_TAIL[0],
            DAPR_ATTRS_TAIL[1],
            DAPR_ATTRS_TAIL[2],
            DAPR_ATTRS_TAIL[3],
            DAPR_ATTRS_TAIL[4],
        ],
        Content::Raw,
    ),
    entry(
        "invoke-dapr-binding",
        IOE,
        &[
            req("name"),
            req("operation"),
            DAPR_ATTRS_TAIL[0],
            DAPR_ATTRS_TAIL[1],
            DAPR_ATTRS_TAIL[2],
            DAPR_ATTRS_TAIL[3],
            DAPR_ATTRS_TAIL[4],
        ],
        Content::Children(&[el(&DAPR_METADATA), el(&DAPR_DATA)]),
    ),
    // GraphQL resolvers: they live in resolver documents, not API policies; listed so
    // they are recognised and reported as not supported rather than unknown.
    entry("http-data-source", B, &[], Content::Raw),
    entry("sql-data-source", B, &[], Content::Raw),
    entry("cosmosdb-data-source", B, &[], Content::Raw),
    entry("publish-event", B, &[], Content::Raw),
];
