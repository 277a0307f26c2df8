//! `{{name}}` substitution.

use std::collections::BTreeMap;

use tollgate_core::config::NamedValue;

use super::super::{
    parse_document, parse_fragment, substitute_fragment_named_values, substitute_named_values,
    Document, Node,
};
use super::{describe, origin};

fn values() -> BTreeMap<String, NamedValue> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, value: &str, secret: bool| {
        v.insert(
            k.to_owned(),
            NamedValue {
                value: value.to_owned(),
                secret,
            },
        );
    };
    put("host", "orders.internal", false);
    put("api-key", "s3cr3t", true);
    put("loop", "{{host}}", false);
    put("expr", "@(context.RequestId)", false);
    v
}

fn doc(text: &str) -> Document {
    parse_document(text, &origin("nv.xml")).expect("valid document")
}

fn first_inbound(d: &Document) -> &super::super::Element {
    &d.inbound.as_ref().expect("inbound").policies[0]
}

#[test]
fn partial_substitution_in_attributes_and_text() {
    let mut d = doc(r#"<policies><inbound>
        <set-backend-service base-url="http://{{host}}:8080/{{ host }}" />
        <set-body>{{expr}} and {{host}}</set-body>
    </inbound></policies>"#);
    substitute_named_values(&mut d, &values()).expect("all known");
    let p = &d.inbound.as_ref().expect("inbound").policies;
    assert_eq!(
        p[0].attr_value("base-url"),
        Some("http://orders.internal:8080/orders.internal")
    );
    assert!(!p[0].attrs[0].secret);
    assert_eq!(p[1].text(), "@(context.RequestId) and orders.internal");
}

#[test]
fn secret_values_mark_their_nodes() {
    let mut d = doc(r#"<policies><inbound>
        <set-header name="x-key" exists-action="override"><value>Key {{api-key}}</value></set-header>
        <authentication-basic username="u" password="{{api-key}}" />
    </inbound></policies>"#);
    substitute_named_values(&mut d, &values()).expect("all known");
    let p = &d.inbound.as_ref().expect("inbound").policies;
    let value = p[0].elements().next().expect("value");
    assert_eq!(value.text(), "Key s3cr3t");
    assert!(value.has_secret_text());
    assert!(!p[0].attrs.iter().any(|a| a.secret), "name is not secret");
    let password = p[1].attr("password").expect("password");
    assert!(password.secret && password.value == "s3cr3t");
    assert!(!p[1].attr("username").expect("username").secret);
}

#[test]
fn no_recursion() {
    let mut d = doc(
        r#"<policies><inbound><set-variable name="a" value="{{loop}}" /></inbound></policies>"#,
    );
    substitute_named_values(&mut d, &values()).expect("known");
    assert_eq!(first_inbound(&d).attr_value("value"), Some("{{host}}"));
}

#[test]
fn unknown_names_are_errors_with_hints() {
    let mut d = doc(r#"<policies>
  <inbound>
    <set-variable name="a" value="{{hots}}" />
    <set-body>{{nothing-like-it}}</set-body>
  </inbound>
</policies>"#);
    let errors = substitute_named_values(&mut d, &values()).expect_err("unknown names");
    let got: Vec<String> = errors.iter().map(describe).collect();
    assert_eq!(
        got,
        [
            "nv.xml:3:28 | set-variable | unknown named value `{{hots}}` | did you mean `{{host}}`?",
            "nv.xml:4:15 | set-body | unknown named value `{{nothing-like-it}}` | define it under `named-values:` in the gateway configuration",
        ]
    );
}

#[test]
fn braces_that_are_not_names_are_left_alone() {
    let mut d = doc(
        r#"<policies><inbound><set-body>@{ var a = new[] {{"x", "y"}}; return "{{"; }</set-body></inbound></policies>"#,
    );
    substitute_named_values(&mut d, &values()).expect("no reference");
    assert_eq!(
        first_inbound(&d).text(),
        r#"@{ var a = new[] {{"x", "y"}}; return "{{"; }"#
    );
}

#[test]
fn liquid_templates_keep_their_own_braces() {
    let mut d = doc(
        r#"<policies><inbound><set-body template="liquid"><a>{{body.name}}</a><b>{{host}}</b></set-body></inbound></policies>"#,
    );
    substitute_named_values(&mut d, &values()).expect("liquid names are not named values");
    let body = first_inbound(&d);
    let texts: Vec<String> = body.elements().map(|e| e.text()).collect();
    assert_eq!(texts, ["{{body.name}}", "orders.internal"]);
}

#[test]
fn positions_still_point_at_the_original_text() {
    let mut d = doc("<policies><inbound>\n<set-body>{{api-key}}</set-body></inbound></policies>");
    substitute_named_values(&mut d, &values()).expect("known");
    let Node::Text(t) = &first_inbound(&d).children[0] else {
        panic!("text expected")
    };
    assert_eq!((t.loc.line, t.loc.col, t.secret), (2, 11, true));
}

#[test]
fn fragments_are_substituted_too() {
    let mut f = parse_fragment("f", r#"<fragment><set-header name="h"><value>{{api-key}}</value></set-header><set-variable name="a" value="{{nope}}" /></fragment>"#, &origin("f.xml"))
        .expect("valid fragment");
    let errors = substitute_fragment_named_values(&mut f, &values()).expect_err("one unknown");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("{{nope}}"));
    let value = f.policies[0].elements().next().expect("value");
    assert!(value.has_secret_text() && value.text() == "s3cr3t");
}
