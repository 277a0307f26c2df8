//! Tests of the prescan: what is marked, what is left alone, and documents written the
//! way APIM accepts them going through the parser and the compiler with the file's
//! positions.

use std::collections::BTreeMap;

use super::super::parse::parse_tree;
use super::super::tree::{Element, Node, Origin};
use super::super::{catalog, merge, Scopes};
use super::*;

/// The original characters `prescan` marks in `text`, in order.
fn marked(text: &str) -> String {
    find_marks(text.as_bytes())
        .into_iter()
        .map(|i| char::from(text.as_bytes()[i]))
        .collect()
}

/// `text` after `prescan` has the same characters, lines and columns.
fn same_shape(text: &str) {
    let out = prescan(text).unwrap();
    assert_eq!(out.chars().count(), text.chars().count(), "{text}");
    for (a, b) in text.chars().zip(out.chars()) {
        assert!(a == b || is_mark(b), "{a:?} became {b:?} in {text}");
        assert_eq!(a == '\n', b == '\n');
    }
    assert_eq!(unmark(out.into_owned()), text);
}

fn tree(text: &str) -> Element {
    same_shape(text);
    parse_tree(text, &Origin::file("t.xml"), catalog::keeps_whitespace)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn find<'e>(e: &'e Element, name: &str) -> Option<&'e Element> {
    if e.name == name {
        return Some(e);
    }
    e.elements().find_map(|c| find(c, name))
}

fn attr(text: &str, element: &str, name: &str) -> String {
    let root = tree(text);
    let e = find(&root, element).unwrap_or_else(|| panic!("no <{element}>"));
    e.attr_value(name).unwrap().to_owned()
}

fn text_of(text: &str, element: &str) -> String {
    let root = tree(text);
    find(&root, element).unwrap().text()
}

/// The expression in `condition="…"` (or `value="…"`) reads back as written.
fn attr_roundtrip(expr: &str) {
    for (q, name) in [('"', "condition"), ('\'', "condition")] {
        if q == '\'' && expr.contains('"') {
            continue;
        }
        let doc = format!("<when {name}={q}{expr}{q}><x/></when>");
        assert_eq!(attr(&doc, "when", name), expr, "{doc}");
    }
}

fn text_roundtrip(expr: &str) {
    let doc = format!("<set-body>{expr}</set-body>");
    assert_eq!(text_of(&doc, "set-body"), expr, "{doc}");
}

#[test]
fn the_brief_snippets() {
    attr_roundtrip(r#"@(context.Request.Headers.GetValueOrDefault("X-Mode","") == "mock")"#);
    assert_eq!(
        attr(
            r#"<set-variable name="x" value="@(context.Variables.GetValueOrDefault<string>("a", "b"))" />"#,
            "set-variable",
            "value"
        ),
        r#"@(context.Variables.GetValueOrDefault<string>("a", "b"))"#
    );
    text_roundtrip(
        "@{ var body = context.Request.Body.As<JObject>(preserveContent: true); return body.ToString(); }",
    );
    assert_eq!(
        text_of(
            r#"<value>@(context.Response.StatusCode < 400 ? "ok" : "bad")</value>"#,
            "value"
        ),
        r#"@(context.Response.StatusCode < 400 ? "ok" : "bad")"#
    );
    assert_eq!(
        text_of(
            r#"<set-header name="X"><value>@(string.Join(",", new[] {"a", "b"}))</value></set-header>"#,
            "value"
        ),
        r#"@(string.Join(",", new[] {"a", "b"}))"#
    );
}

#[test]
fn only_what_xml_refuses_is_marked() {
    assert_eq!(marked(r#"<w c="@(a("x") > 'y')"/>"#), "\"\"");
    assert_eq!(marked(r#"<w c='@(a("x") == 'y')'/>"#), "''");
    assert_eq!(marked("<v>@(a < b && c > \"d\")</v>"), "<&&");
    // The attribute's closing quote is not part of the expression.
    assert_eq!(marked(r#"<w c="@(f("a"))" d="x"/>"#), "\"\"");
}

#[test]
fn brackets_inside_strings_do_not_count() {
    attr_roundtrip(r#"@(string.Format("({0}]", "}") + ")" + "{")"#);
    text_roundtrip(r#"@{ return "}))" + "{{"; }"#);
    attr_roundtrip(r#"@("a\"b(" + "\\")"#);
}

#[test]
fn interpolated_strings() {
    attr_roundtrip(
        r#"@($"{context.Request.Headers.GetValueOrDefault("X-A", "(")}-{(1 > 0 ? "}" : "{")}")"#,
    );
    attr_roundtrip(r#"@($"{{literal}} {context.Request.Method} \" {1:D3}")"#);
    attr_roundtrip(r#"@($@"a""b{context.Request.Method}""")"#);
    attr_roundtrip(r#"@(@$"{$"{"n"}"}")"#);
    text_roundtrip(
        "@{\n    var s = $@\"line\n{context.Request.Method}\n\"\"x\"\"\";\n    return s;\n}",
    );
}

#[test]
fn verbatim_strings_and_char_literals() {
    attr_roundtrip(r#"@(@"C:\dir\" + @"say ""hi"")" + "x")"#);
    attr_roundtrip(r#"@(context.Request.Url.Path.Trim('"').Split('/', '(')[0])"#);
    attr_roundtrip(r#"@("a".IndexOf('\'') < 0 && "b" != "\"")"#);
    text_roundtrip(r#"@(new string('<', 2) + '\u0041' + '\\')"#);
}

#[test]
fn escaped_documents_are_untouched() {
    for doc in [
        r#"<when condition="@(context.Request.Headers.GetValueOrDefault(&quot;X-Mode&quot;,&quot;&quot;) == &quot;mock&quot;)"/>"#,
        r#"<set-variable name="x" value="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;a&quot;))" />"#,
        "<v>@(a &lt; b &amp;&amp; c &gt; d &#65; &#x42;)</v>",
        r#"<v>@(a > b ? "x" : 'y')</v>"#,
        r#"<w c="@(x.Where(i => i > 'a'))"/>"#,
        "<v>@(&quot;)&quot; + &quot;(&quot;)</v>",
        "<v><![CDATA[@(a < b && c)]]></v>",
        "<!-- @(\"x\" < y) --><v/>",
    ] {
        assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))), "{doc}");
    }
}

#[test]
fn raw_and_escaped_ampersands() {
    text_roundtrip("@(true && false || 1 & 2 == 0)");
    assert_eq!(
        text_of("<v>@(true &amp;&amp; x && y)</v>", "v"),
        "@(true && x && y)"
    );
    attr_roundtrip(r#"@(a && "&nbsp;" != "&" && b)"#);
    // A well-formed reference is XML's: decoded, not marked.
    assert_eq!(
        attr(r#"<w c="@(&quot;a&quot; + "&lt;" && x)"/>"#, "w", "c"),
        r#"@("a" + "<" && x)"#
    );
    assert_eq!(
        marked(r#"<w c="@(&quot;a&quot; + "&lt;" && x)"/>"#),
        "\"\"&&"
    );
}

#[test]
fn generics_and_comparisons() {
    text_roundtrip(
        "@(context.Request.Body.As<JObject>(preserveContent: true)[\"a\"].Value<string>())",
    );
    attr_roundtrip(
        "@(context.Variables.GetValueOrDefault<Dictionary<string, List<int>>>(\"m\") != null)",
    );
    text_roundtrip("@(context.Response.StatusCode >= 200 && context.Response.StatusCode <= 299)");
    text_roundtrip("@(x<y)");
    text_roundtrip("@(a[b[0]]>1 && c[d[1]]> 2)");
    attr_roundtrip("@(x.Select(i => i < 3).Count() > 1)");
}

#[test]
fn multi_line_blocks_with_comments() {
    let block = "@{\n    // don't \"quote\" me <here> {\n    var b = context.Request.Body.As<JObject>(true); /* a ) b ' */\n    if (b[\"n\"] == null && true) {\n        return \"none\";\n    }\n    return b.ToString();\n}";
    text_roundtrip(block);
    let doc = format!(
        "<policies>\n  <inbound>\n    <set-body>{block}</set-body>\n  </inbound>\n</policies>"
    );
    let root = tree(&doc);
    let body = find(&root, "set-body").unwrap();
    assert_eq!(body.text(), block);
    match &body.children[0] {
        Node::Text(t) => assert_eq!((t.loc.line, t.loc.col), (3, 15)),
        Node::Element(_) => panic!("text expected"),
    }
    // An element after a marked block is where the file has it.
    let doc = format!("<p><set-body>{block}</set-body>\n<after a=\"1\"/></p>");
    let root = tree(&doc);
    let after = find(&root, "after").unwrap();
    assert_eq!((after.loc.line, after.loc.col), (9, 1));
}

#[test]
fn leading_and_trailing_whitespace() {
    text_roundtrip("\n   @(a < b)\n  ");
    assert_eq!(
        attr(r#"<w c="  @(f("x"))  "/>"#, "w", "c"),
        r#"  @(f("x"))  "#
    );
}

#[test]
fn not_an_expression_is_left_alone() {
    for doc in [
        // Unterminated: quick-xml reports what it reports today.
        r#"<w c="@(f("x")"/>"#,
        "<v>@(a < b</v>",
        "<v>@{ return \"x; }</v>",
        r#"<w c="@(f("a
b"))"/>"#,
        // Mismatched brackets.
        r#"<w c="@(f("x"])"/>"#,
        // Something after the expression: not the whole value.
        r#"<w c="@(f("x")) + 1"/>"#,
        "<v>@(a < b) tail</v>",
        // Not at the start of the value / text.
        r#"<w c="x @(f("x"))"/>"#,
        "<v>x @(a < b)</v>",
        // Not an attribute value.
        r#"<w "@(f("x"))"/>"#,
        "<v>@ (a < b)</v>",
    ] {
        assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))), "{doc}");
    }
}

#[test]
fn unterminated_keeps_todays_error() {
    let origin = Origin::file("t.xml");
    for (doc, at, message) in [
        (
            r#"<policies><w c="@(f("x")"/></policies>"#,
            26,
            "attribute name must be followed by `=`",
        ),
        (
            "<policies><v>@(a.As<JObject>(</v></policies>",
            30,
            "does not match `<JObject>`",
        ),
    ] {
        // The text goes to quick-xml as it is, so the error is today's.
        assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))));
        let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
        assert_eq!((e.line, e.col), (1, at), "{e}");
        assert!(e.message.contains(message), "{e}");
    }
}

#[test]
fn bare_ampersand_outside_an_expression_is_still_an_error() {
    let origin = Origin::file("t.xml");
    let doc = "<policies>\n  <inbound>\n    <set-body>true && false</set-body>\n  </inbound>\n</policies>";
    assert!(matches!(prescan(doc), Ok(Cow::Borrowed(_))));
    let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
    assert_eq!((e.line, e.col), (3, 20), "{e}");
    assert!(e.message.contains("never closed with `;`"), "{e}");
    // In an expression it is C#.
    let doc = "<policies>\n  <inbound>\n    <set-body>@(true && false)</set-body>\n  </inbound>\n</policies>";
    assert_eq!(text_of(doc, "set-body"), "@(true && false)");
}

#[test]
fn private_use_characters_are_refused_when_marking() {
    let origin = Origin::file("t.xml");
    // Marking needed and U+E000 present (raw or as a reference): refused, located.
    for (doc, col) in [
        ("<p><v>\u{E000}</v><w c=\"@(f(\"x\"))\"/></p>", 7),
        ("<p><w c=\"@(f(\"x\"))\"/><v>a&#xE001;</v></p>", 26),
        ("<p><w c=\"@(f(\"x\"))\"/><v>&#57347;</v></p>", 25),
    ] {
        let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
        assert_eq!((e.line, e.col), (1, col), "{e}");
        assert!(e.message.contains("private use"), "{e}");
        assert!(e.hint.as_deref().unwrap_or("").contains("&quot;"), "{e}");
    }
    // Without unescaped expressions the document is XML and read as before.
    let doc = "<p><v>\u{E000}&#xE001;</v><w c=\"@(f(&quot;x&quot;))\"/></p>";
    let root = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap();
    assert_eq!(find(&root, "v").unwrap().text(), "\u{E000}\u{E001}");
    // Other private-use characters are not ours.
    let doc = "<p><v>\u{E004}\u{F8FF}</v><w c=\"@(f(\"x\"))\"/></p>";
    let root = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap();
    assert_eq!(find(&root, "v").unwrap().text(), "\u{E004}\u{F8FF}");
}

#[test]
fn error_positions_after_marked_text_are_the_files() {
    let origin = Origin::file("t.xml");
    let doc =
        "<policies>\n  <w c=\"@(f(\"é€\") && g<int>())\"/><v>@(a < b)</v>\n  </nope>\n</policies>";
    same_shape(doc);
    let e = parse_tree(doc, &origin, catalog::keeps_whitespace).unwrap_err();
    assert_eq!((e.line, e.col), (3, 3), "{e}");
    // The same document escaped reports the same place.
    let escaped = "<policies>\n  <w c=\"@(f(&quot;é€&quot;) &amp;&amp; g&lt;int>())\"/><v>@(a &lt; b)</v>\n  </nope>\n</policies>";
    let e2 = parse_tree(escaped, &origin, catalog::keeps_whitespace).unwrap_err();
    assert_eq!((e2.line, e2.message.as_str()), (3, e.message.as_str()));
    // Attribute positions on a line after marks are the file's.
    let doc = "<p><w c=\"@(f(\"x\"))\"/><q\n a=\"@(\"é\" + 'x')\" b=\"1\"/></p>";
    let root = tree(doc);
    let q = find(&root, "q").unwrap();
    assert_eq!((q.loc.line, q.loc.col), (1, 22));
    let b = q.attr("b").unwrap();
    assert_eq!((b.loc.line, b.loc.col), (2, 19));
}

#[test]
fn no_panics_on_fragments() {
    // Every prefix and a few splices of marked snippets: no panic, same shape.
    let pieces = [
        r#"<w c="@($"{f("x")}{{}}" + @"""" + '\'' + "\\" /* x */)"/>"#,
        "<v>@{\n// c\nreturn a<b && c[\"}\"];\n}</v>",
        "<v>@(&quot;&#x28;&amp;&#0;&unknown;&)</v>",
        "<w c='@($@\"{'}'}\" + '\"')'/>",
    ];
    for p in pieces {
        for end in (0..=p.len()).filter(|&e| p.is_char_boundary(e)) {
            let s = &p[..end];
            if let Ok(out) = prescan(s) {
                assert_eq!(out.chars().count(), s.chars().count());
                let _ = parse_tree(s, &Origin::file("t"), catalog::keeps_whitespace);
            }
            for q in pieces {
                let spliced = format!("{s}{q}{s}");
                let _ = prescan(&spliced);
            }
        }
    }
}

#[test]
fn scanning_stays_linear() {
    // Thousands of unclosed expressions: each scan fails, the total is bounded.
    let doc = "<a b=\"@((((\" c='@{{{'>".repeat(20_000);
    let t = std::time::Instant::now();
    let _ = prescan(&doc);
    assert!(t.elapsed().as_secs() < 20);
}

/// `policy` loaded as the API's document (no other scope, no fragments), then `f` of the
/// scopes.
fn with_api_scope<T>(policy: &str, f: impl FnOnce(&Scopes<'_>) -> T) -> T {
    let doc = crate::build::load_document(policy, &Origin::file("api.xml"), &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{}\n{policy}", e[0]));
    let fragments = BTreeMap::new();
    f(&Scopes {
        global: None,
        product: None,
        api: Some(&doc),
        operation: None,
        fragments: &fragments,
    })
}

/// Through the whole front end and the compiler: load, merge, compile.
fn compiles(policy: &str) {
    with_api_scope(policy, |scopes| {
        merge(scopes).unwrap_or_else(|e| panic!("{}", e[0]));
        crate::build::build_program(scopes).unwrap_or_else(|e| panic!("{}\n{policy}", e[0]));
    });
}

#[test]
fn documents_from_apim_load_and_compile() {
    compiles(
        r#"<policies>
  <inbound>
    <base />
    <set-variable name="a" value="@(context.Request.Headers.GetValueOrDefault("X-A", "x"))" />
    <set-variable name="x" value="@(context.Variables.GetValueOrDefault<string>("a", "b"))" />
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault("X-Mode","") == "mock" && context.Request.Method != "POST")">
        <return-response>
          <set-status code="200" reason="OK" />
          <set-header name="X"><value>@(string.Join(",", new[] {"a", "b"}))</value></set-header>
          <set-body>@{
              // mock: echo the variable back
              var v = context.Variables.GetValueOrDefault<string>("x", "none");
              return new JObject(new JProperty("x", v)).ToString();
          }</set-body>
        </return-response>
      </when>
    </choose>
    <set-body>@{ var body = context.Request.Body.As<JObject>(preserveContent: true); return body.ToString(); }</set-body>
  </inbound>
  <backend><base /></backend>
  <outbound>
    <base />
    <set-header name="X-Status" exists-action="override">
      <value>@(context.Response.StatusCode < 400 ? "ok" : "bad")</value>
    </set-header>
  </outbound>
</policies>"#,
    );
}

#[test]
fn expression_errors_point_into_the_file() {
    // The `)` the expression parser trips on is at 2:47. Unescaped, every character
    // of the value is one in the file, so the compiler's column is exact.
    let policy = "<policies><inbound>\n<set-variable name=\"x\" value='@(\"a\" + 1 < 2 + )'/></inbound></policies>";
    let e = with_api_scope(policy, |scopes| {
        crate::build::build_program(scopes).unwrap_err()
    });
    assert!(e[0].message.starts_with("expression:"), "{}", e[0]);
    assert_eq!((e[0].line, e[0].col), (2, 47), "{}", e[0]);
}
