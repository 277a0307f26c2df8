//! Sanity of the catalog table itself, and positions and limits not expressible as data.

use std::collections::BTreeSet;

use super::super::catalog::{self, Child, Content, Once, ScopeSet, SectionKind, Status};
use super::super::merge::Scope;
use super::super::{parse_document, parse_fragment, Origin, MAX_FRAGMENT_BYTES};
use super::origin;

/// Every policy named in the reference §2 table.
const REFERENCE_POLICIES: &[&str] = &[
    "rate-limit",
    "rate-limit-by-key",
    "quota",
    "quota-by-key",
    "limit-concurrency",
    "llm-token-limit",
    "azure-openai-token-limit",
    "check-header",
    "ip-filter",
    "validate-jwt",
    "validate-azure-ad-token",
    "validate-client-certificate",
    "authentication-basic",
    "authentication-certificate",
    "authentication-managed-identity",
    "get-authorization-context",
    "validate-content",
    "validate-parameters",
    "validate-headers",
    "validate-status-code",
    "validate-odata-request",
    "validate-graphql-request",
    "forward-request",
    "set-backend-service",
    "proxy",
    "cache-lookup",
    "cache-store",
    "cache-lookup-value",
    "cache-store-value",
    "cache-remove-value",
    "llm-semantic-cache-lookup",
    "azure-openai-semantic-cache-lookup",
    "llm-semantic-cache-store",
    "azure-openai-semantic-cache-store",
    "set-header",
    "set-query-parameter",
    "rewrite-uri",
    "set-body",
    "set-status",
    "set-method",
    "set-variable",
    "json-to-xml",
    "xml-to-json",
    "find-and-replace",
    "redirect-content-urls",
    "xsl-transform",
    "return-response",
    "mock-response",
    "cors",
    "jsonp",
    "cross-domain",
    "choose",
    "retry",
    "wait",
    "include-fragment",
    "send-request",
    "send-one-way-request",
    "log-to-eventhub",
    "emit-metric",
    "llm-emit-token-metric",
    "azure-openai-emit-token-metric",
    "trace",
    "llm-content-safety",
    "send-service-bus-message",
    "publish-to-dapr",
    "invoke-dapr-binding",
    "http-data-source",
    "sql-data-source",
    "cosmosdb-data-source",
    "publish-event",
];

#[test]
fn every_reference_policy_is_catalogued_once() {
    let names: Vec<&str> = catalog::policies().iter().map(|p| p.name).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "duplicate names in the table");
    for name in REFERENCE_POLICIES {
        assert!(
            catalog::policy(name).is_some(),
            "`{name}` missing from the catalog"
        );
    }
    assert_eq!(
        names.len(),
        REFERENCE_POLICIES.len(),
        "policies not in the reference list"
    );
}

#[test]
fn table_is_consistent() {
    for p in catalog::policies() {
        assert_ne!(p.sections.describe(), "no section", "{}", p.name);
        assert_eq!(p.status, Status::Unknown, "{}", p.name);
        let attrs: BTreeSet<&str> = p.attrs.iter().map(|a| a.name).collect();
        assert_eq!(
            attrs.len(),
            p.attrs.len(),
            "{}: duplicate attribute",
            p.name
        );
        assert!(!attrs.contains("id"), "{}: `id` is implicit", p.name);
        for g in p.groups {
            for n in g.names {
                assert!(attrs.contains(n), "{}: group names unknown `{n}`", p.name);
            }
        }
        if let Content::Children(children) = p.content {
            for c in children {
                if let Child::Policy(name) = c {
                    assert!(
                        catalog::policy(name).is_some(),
                        "{}: child policy `{name}`",
                        p.name
                    );
                }
            }
        }
    }
}

#[test]
fn usage_limits_follow_the_reference() {
    let once = |n: &str| catalog::policy(n).map(|p| p.once);
    assert_eq!(once("rate-limit"), Some(Once::PerDocument));
    assert_eq!(once("quota"), Some(Once::PerDocument));
    for n in ["cors", "cache-lookup", "cache-store", "forward-request"] {
        assert_eq!(once(n), Some(Once::PerSection), "{n}");
    }
    let quota = catalog::policy("quota").map(|p| p.scopes);
    assert_eq!(quota, Some(ScopeSet::PRODUCT));
    let rate_limit = catalog::policy("rate-limit").map(|p| p.scopes);
    assert!(rate_limit.is_some_and(|s| !s.allows(&Scope::Global) && s.allows(&Scope::Operation)));
    let fwd = catalog::policy("forward-request").map(|p| p.sections);
    assert!(
        fwd.is_some_and(|s| s.contains(SectionKind::Backend) && !s.contains(SectionKind::Inbound))
    );
}

#[test]
fn crlf_line_ends_count_as_one() {
    let text = "<policies>\r\n  <inbound>\r\n  </outbound>\r\n</policies>";
    let errors = parse_document(text, &origin("crlf.xml"))
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].col), (3, 3));
}

#[test]
fn crlf_is_normalised_in_text() {
    let text = "<policies><inbound><set-body>a\r\nb</set-body></inbound></policies>";
    let doc = parse_document(text, &origin("t.xml")).expect("valid");
    let body = &doc.inbound.as_ref().expect("inbound").policies[0];
    assert_eq!(body.text(), "a\nb");
}

#[test]
fn fragment_size_limit() {
    let filler = "<set-variable name=\"a\" value=\"b\" />".repeat(MAX_FRAGMENT_BYTES / 30);
    let text = format!("<fragment>{filler}</fragment>");
    let errors = parse_fragment("big", &text, &origin("big.xml"))
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("limited to 512 KB"),
        "{}",
        errors[0]
    );
}

#[test]
fn positions_of_elements_attributes_and_text() {
    let text = "<policies>\n  <inbound>\n    <set-header name=\"a\">\n      <value>x</value>\n    </set-header>\n  </inbound>\n</policies>";
    let doc = parse_document(text, &Origin::inline("g.yaml", 5, 11, 4)).expect("valid");
    let inbound = doc.inbound.as_ref().expect("inbound");
    assert_eq!((inbound.loc.line, inbound.loc.col), (6, 7));
    let header = &inbound.policies[0];
    assert_eq!((header.loc.line, header.loc.col), (7, 9));
    assert_eq!((header.attrs[0].loc.line, header.attrs[0].loc.col), (7, 21));
    let value = header.elements().next().expect("value");
    assert_eq!((value.loc.line, value.loc.col), (8, 11));
    let super::super::Node::Text(t) = &value.children[0] else {
        panic!("text expected")
    };
    assert_eq!((t.loc.line, t.loc.col, t.text.as_str()), (8, 18, "x"));
}

#[test]
fn whitespace_kept_only_where_content_matters() {
    let text = "<policies><inbound>\n  <set-body>  </set-body>\n  <set-header name=\"a\">\n    <value> </value>\n  </set-header>\n</inbound></policies>";
    let doc = parse_document(text, &origin("t.xml")).expect("valid");
    let p = &doc.inbound.as_ref().expect("inbound").policies;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].text(), "  ");
    assert_eq!(
        p[1].children.len(),
        1,
        "blank text between elements dropped"
    );
    assert_eq!(
        p[1].elements().next().map(|v| v.text()),
        Some(" ".to_owned())
    );
}

#[test]
fn display_format() {
    let errors = parse_document(
        "<policies><inbound><set-heder/></inbound></policies>",
        &origin("a.xml"),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(
        errors[0].to_string(),
        "a.xml:1:20: set-heder: unknown policy `<set-heder>`\n  hint: did you mean `set-header`?"
    );
}

#[test]
fn byte_order_mark_is_skipped() {
    let text = "\u{feff}<policies>\n  <inbound>\n  </outbound>\n</policies>";
    let errors = parse_document(text, &origin("bom.xml"))
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].col), (3, 3));
    assert!(parse_document("\u{feff}<policies/>", &origin("bom.xml")).is_ok());
}

#[test]
fn long_single_line_documents_parse_in_linear_time() {
    let policies = "<set-variable name=\"a\" value=\"b\" />".repeat(20_000);
    let text = format!("<policies><inbound>{policies}</inbound></policies>");
    let started = std::time::Instant::now();
    let doc = parse_document(&text, &origin("long.xml")).expect("valid");
    let last = doc
        .inbound
        .as_ref()
        .and_then(|s| s.policies.last())
        .expect("policies");
    assert_eq!((last.loc.line, last.loc.col), (1, 20 + 35 * 19_999));
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}
