//! Printing the effective policy: round trip, annotations, secret masking; and what the
//! merged elements carry (positions, files, scopes).

use std::collections::BTreeMap;

use tollgate_core::config::NamedValue;

use super::super::merge::{MergedElement, MergedNode};
use super::super::{
    merge, parse_document, parse_fragment, print_document, print_effective,
    substitute_named_values, Document, Effective, Fragment, Scope, Scopes,
};
use super::origin;

const GLOBAL: &str = r#"<policies>
  <inbound>
    <cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>*</header></allowed-headers></cors>
  </inbound>
  <on-error><set-header name="x-err" exists-action="override"><value>@(context.LastError.Message)</value></set-header></on-error>
</policies>"#;

const API: &str = r#"<policies>
  <inbound>
    <base />
    <set-header name="authorization" exists-action="override"><value>Bearer {{token}}</value></set-header>
    <include-fragment fragment-id="corr" />
    <choose>
      <when condition="@(context.Request.Method == &quot;POST&quot; &amp;&amp; true)">
        <set-body template="liquid">
  <root a="1">
    <x>{{body.x}}</x>
  </root>
</set-body>
      </when>
      <otherwise><set-body><![CDATA[<raw> & ]]]]><![CDATA[> stuff]]></set-body></otherwise>
    </choose>
    <set-variable name="multi" value="line1&#10;line2&#9;tab &quot;q&quot; &lt;&amp;&gt;" />
  </inbound>
  <backend><base /></backend>
  <outbound><set-body>  spaced  &lt;text&gt;  </set-body></outbound>
</policies>"#;

const FRAGMENT: &str = r#"<fragment>
  <set-header name="x-correlation-id" exists-action="skip"><value>@(context.RequestId)</value></set-header>
</fragment>"#;

fn setup() -> (Document, Document, BTreeMap<String, Fragment>) {
    let global = parse_document(GLOBAL, &origin("global.xml")).expect("global");
    let mut api = parse_document(API, &origin("orders.xml")).expect("api");
    let mut values = BTreeMap::new();
    values.insert(
        "token".to_owned(),
        NamedValue {
            value: "hunter2".to_owned(),
            secret: true,
        },
    );
    substitute_named_values(&mut api, &values).expect("known");
    let mut fragments = BTreeMap::new();
    fragments.insert(
        "corr".to_owned(),
        parse_fragment("corr", FRAGMENT, &origin("frag/corr.xml")).expect("fragment"),
    );
    (global, api, fragments)
}

fn effective(
    global: &Document,
    api: &Document,
    fragments: &BTreeMap<String, Fragment>,
) -> Effective {
    let scopes = Scopes {
        global: Some(global),
        product: None,
        api: Some(api),
        operation: None,
        fragments,
    };
    merge(&scopes).expect("merges")
}

/// An element with positions, files and scopes blanked, for comparing modulo origin.
fn strip(e: &MergedElement) -> MergedElement {
    let mut e = e.clone();
    blank(&mut e);
    e
}

fn blank(e: &mut MergedElement) {
    e.loc = Default::default();
    e.file = "".into();
    e.owner = "".into();
    e.scope = Scope::Global;
    e.host = Scope::Global;
    for a in &mut e.attrs {
        a.loc = Default::default();
        a.secret = false;
    }
    for c in &mut e.children {
        match c {
            MergedNode::Element(c) => blank(c),
            MergedNode::Text(t) => {
                t.loc = Default::default();
                t.secret = false;
            }
        }
    }
}

fn stripped(e: &Effective) -> Vec<Vec<MergedElement>> {
    [&e.inbound, &e.backend, &e.outbound, &e.on_error]
        .map(|s| s.iter().map(strip).collect())
        .to_vec()
}

#[test]
fn print_parse_round_trip() {
    let (global, mut api, fragments) = setup();
    // Unmask for the round trip: the secret flag only affects printing.
    for s in [&mut api.inbound] {
        for p in s.iter_mut().flat_map(|s| s.policies.iter_mut()) {
            clear_secrets(p);
        }
    }
    let eff = effective(&global, &api, &fragments);
    for annotate in [false, true] {
        let printed = print_effective(&eff, annotate);
        let reparsed = parse_document(&printed, &origin("printed.xml"))
            .unwrap_or_else(|e| panic!("printed policy does not parse: {e:?}\n{printed}"));
        let empty = BTreeMap::new();
        let scopes = Scopes {
            global: Some(&reparsed),
            product: None,
            api: None,
            operation: None,
            fragments: &empty,
        };
        let again = merge(&scopes).expect("merges");
        assert_eq!(
            stripped(&again),
            stripped(&eff),
            "round trip changed the policy:\n{printed}"
        );
        assert_eq!(print_effective(&again, false), print_effective(&eff, false));
    }
}

fn clear_secrets(e: &mut super::super::Element) {
    for a in &mut e.attrs {
        a.secret = false;
    }
    for c in &mut e.children {
        match c {
            super::super::Node::Element(c) => clear_secrets(c),
            super::super::Node::Text(t) => t.secret = false,
        }
    }
}

#[test]
fn literal_text_survives_exactly() {
    let (global, api, fragments) = setup();
    let printed = print_effective(&effective(&global, &api, &fragments), false);
    assert!(
        printed.contains("<set-body>  spaced  &lt;text&gt;  </set-body>"),
        "{printed}"
    );
    assert!(printed.contains("<set-body template=\"liquid\">\n  <root a=\"1\">\n    <x>{{body.x}}</x>\n  </root>\n</set-body>"), "{printed}");
    assert!(
        printed.contains("<![CDATA[<raw> & ]]]]><![CDATA[> stuff]]>"),
        "{printed}"
    );
    assert!(
        printed.contains("value=\"line1&#10;line2&#9;tab &quot;q&quot; &lt;&amp;&gt;\""),
        "{printed}"
    );
}

#[test]
fn secrets_are_masked() {
    let (global, api, fragments) = setup();
    let eff = effective(&global, &api, &fragments);
    for annotate in [false, true] {
        let printed = print_effective(&eff, annotate);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("<value>***</value>"), "{printed}");
    }
    let doc_printed = print_document(&api);
    assert!(
        !doc_printed.contains("hunter2") && doc_printed.contains("***"),
        "{doc_printed}"
    );
    assert!(doc_printed.contains("<base />"), "{doc_printed}");
}

#[test]
fn annotations_name_scope_file_and_line() {
    let (global, api, fragments) = setup();
    let printed = print_effective(&effective(&global, &api, &fragments), true);
    for want in [
        "<!-- global: global.xml:3 -->\n    <cors>",
        "<!-- api: orders.xml:4 -->\n    <set-header name=\"authorization\"",
        "<!-- fragment corr: frag/corr.xml:2 -->\n    <set-header name=\"x-correlation-id\"",
        "<!-- api: orders.xml:6 -->\n    <choose>",
        "<!-- global: (built-in global policy):1 -->\n    <forward-request />",
        "<!-- global: global.xml:5 -->\n    <set-header name=\"x-err\"",
    ] {
        assert!(printed.contains(want), "missing {want:?} in\n{printed}");
    }
    let plain = print_effective(&effective(&global, &api, &fragments), false);
    assert!(!plain.contains("<!--"));
}

#[test]
fn merged_elements_keep_origin() {
    let (global, api, fragments) = setup();
    let eff = effective(&global, &api, &fragments);
    let cors = &eff.inbound[0];
    assert_eq!(
        (cors.name.as_str(), &*cors.file, cors.loc.line, cors.loc.col),
        ("cors", "global.xml", 3, 5)
    );
    assert_eq!((&cors.scope, &cors.host), (&Scope::Global, &Scope::Global));
    let from_fragment = &eff.inbound[2];
    assert_eq!(from_fragment.attr_value("name"), Some("x-correlation-id"));
    assert_eq!(&*from_fragment.file, "frag/corr.xml");
    assert_eq!((from_fragment.loc.line, from_fragment.loc.col), (2, 3));
    assert_eq!(from_fragment.scope, Scope::Fragment("corr".to_owned()));
    assert_eq!(from_fragment.host, Scope::Api);
    let value = from_fragment.elements().next().expect("value");
    assert_eq!(value.scope, Scope::Fragment("corr".to_owned()));
    let choose = &eff.inbound[3];
    let when = choose.elements().next().expect("when");
    assert_eq!(
        (when.loc.line, when.loc.col, &when.scope),
        (7, 7, &Scope::Api)
    );
}

#[test]
fn print_document_keeps_missing_sections_out() {
    let d = parse_document(
        "<policies><outbound><base /></outbound></policies>",
        &origin("d.xml"),
    )
    .expect("valid");
    assert_eq!(
        print_document(&d),
        "<policies>\n  <outbound>\n    <base />\n  </outbound>\n</policies>\n"
    );
}

#[test]
fn default_effective_policy_prints() {
    let empty = BTreeMap::new();
    let scopes = Scopes {
        global: None,
        product: None,
        api: None,
        operation: None,
        fragments: &empty,
    };
    let eff = merge(&scopes).expect("default");
    assert_eq!(
        print_effective(&eff, false),
        "<policies>\n  <inbound />\n  <backend>\n    <forward-request />\n  </backend>\n  <outbound />\n  <on-error />\n</policies>\n"
    );
}
