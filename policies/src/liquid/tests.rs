use bumpalo::Bump;

use super::Template;
use crate::exchange::{CallInfo, Exchange, HeaderList, RequestState};
use crate::expr::Msg;

fn exchange<'a>(arena: &'a Bump, body: &'a str, ct: &'a str) -> Exchange<'a> {
    let mut headers = HeaderList::new(arena);
    if !ct.is_empty() {
        headers.push("Content-Type", ct);
    }
    headers.push("X-Id", "42");
    headers.push("Accept", "a");
    headers.push("Accept", "b");
    let request = RequestState {
        method: "POST",
        scheme: "https",
        host: "api.example.com",
        port: 443,
        path: "/orders/7",
        query: "a=1&b=x%20y",
        headers,
        body: Some(body.as_bytes()),
        ip: "10.1.2.3",
        original_path: "/orders/7",
        original_query: "a=1&b=x%20y",
        matched: arena.alloc_slice_copy(&[("id", "7")]),
        matched_query_names: &[],
    };
    // 2024-03-05T06:07:08Z
    Exchange::new(
        arena,
        request,
        CallInfo::default(),
        1_709_618_828_000_000,
        1,
    )
}

fn render_with(src: &str, body: &str, ct: &str) -> Result<String, String> {
    let t = Template::parse(src).map_err(|e| format!("{}@{}", e.message, e.offset))?;
    let arena = Bump::new();
    let body = arena.alloc_str(body);
    let ct = arena.alloc_str(ct);
    let x = exchange(&arena, body, ct);
    super::render(&t, &x, Msg::Request).map(str::to_string)
}

const BODY: &str = r#"{"name":"ann","age":41,"ratio":1.5,"ok":true,"nothing":null,
  "tags":["a","b","c"],"items":[{"name":"pen","qty":2},{"name":"ink","qty":0}],
  "o":{"k":"v"},"s":"  pad  "}"#;

fn r(src: &str) -> String {
    render_with(src, BODY, "application/json").unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn load_err(src: &str) -> String {
    match Template::parse(src) {
        Ok(_) => panic!("{src} parsed"),
        Err(e) => e.message,
    }
}

#[test]
fn outputs_paths_and_literals() {
    assert_eq!(r("Hi {{body.name}}!"), "Hi ann!");
    assert_eq!(
        r("{{ body.items[0].name }}/{{body.items[1]['qty']}}"),
        "pen/0"
    );
    assert_eq!(
        r("{{body.age}} {{body.ratio}} {{body.ok}} [{{body.nothing}}] [{{body.missing.deep}}]"),
        "41 1.5 true [] []"
    );
    assert_eq!(
        r("{{ 'lit' }} {{ \"x\" }} {{ 3 }} {{ -2.5 }}"),
        "lit x 3 -2.5"
    );
    assert_eq!(r("{{body.tags}}|{{body.o}}"), "abc|{\"k\":\"v\"}");
    assert_eq!(
        r("{{body.tags.size}} {{body.tags.first}} {{body.tags.last}} {{body.tags[-1]}}"),
        "3 a c c"
    );
    assert_eq!(
        r(r#"{"a": {{ body.age }}, "b": "{{body.name}}"}"#),
        r#"{"a": 41, "b": "ann"}"#
    );
}

#[test]
fn context_bindings() {
    assert_eq!(
        r("{{context.Request.Method}} {{context.Request.IpAddress}}"),
        "POST 10.1.2.3"
    );
    assert_eq!(
        r("{{context.Request.Url}}"),
        "https://api.example.com/orders/7?a=1&b=x%20y"
    );
    assert_eq!(r("{{context.Request.Url.Path}} {{context.Request.Url.Query.b}} {{context.Request.OriginalUrl.Host}}"), "/orders/7 x y api.example.com");
    assert_eq!(r("{{context.Request.Headers[\"X-Id\"]}} {{context.Request.Headers.X-Id}} {{context.Request.Headers.Accept}}"), "42 42 a,b");
    assert_eq!(
        r("{{context.Request.MatchedParameters[\"id\"]}} {{context.Request.HasBody}}"),
        "7 true"
    );
    assert_eq!(
        r("[{{context.Response.StatusCode}}] [{{context.Request.Headers.Nope}}]"),
        "[] []"
    );
}

#[test]
fn filters() {
    assert_eq!(r("{{ body.name | Upcase }} {{ body.name | upcase | Downcase }} {{ body.name | Capitalize }}"), "ANN ann Ann");
    assert_eq!(
        r("{{ body.missing | Default: 'none' }} {{ body.name | Default: 'x' }}"),
        "none ann"
    );
    assert_eq!(r("{{ body.name | Append: '!' | Prepend: '>' }}"), ">ann!");
    assert_eq!(r("{{ 'a-b-c' | Replace: '-', '+' }} {{ 'a-b-c' | ReplaceFirst: '-', '+' }} {{ 'a-b-c' | Remove: '-' }}"), "a+b+c a+b-c abc");
    assert_eq!(r("{{ body.tags | Join: ',' }} {{ 'x,y' | Split: ',' | Last }} {{ 'x,y' | split: ',' | size }}"), "a,b,c y 2");
    assert_eq!(
        r("[{{ body.s | Strip }}][{{ body.s | Lstrip }}][{{ body.s | Rstrip }}]"),
        "[pad][pad  ][  pad]"
    );
    assert_eq!(r("{{ 'abcdefghij' | Truncate: 6 }} {{ 'abc' | Truncate: 6 }} {{ 'a b c d' | TruncateWords: 2 }}"), "abc... abc a b...");
    assert_eq!(r("{{ body.age | Plus: 1 }} {{ body.age | Minus: 1.5 }} {{ 3 | Times: 4 }} {{ 7 | DividedBy: 2 }} {{ 7.0 | divided_by: 2 }} {{ 7 | Modulo: 3 }}"), "42 39.5 12 3 3.5 1");
    assert_eq!(
        r("{{ 'a b&c' | UrlEncode }} {{ 'a+b%26c' | UrlDecode }} {{ '<a href=\"x\">' | Escape }}"),
        "a+b%26c a b&c &lt;a href=&quot;x&quot;&gt;"
    );
    assert_eq!(r("{{ body.items | Map: 'name' | Join: '/' }} {{ body.tags | Reverse | Join }} {{ 'c,a,b' | Split: ',' | Sort | Join: '' }}"), "pen/ink c b a abc");
    assert_eq!(r("{{ -3 | Abs }} {{ 5 | AtMost: 3 }} {{ 1.5 | Round }} {{ 2.5 | Round }} {{ 1.2 | Ceil }}"), "3 3 2 2 2");
    assert_eq!(
        r("{{ 'hello' | Slice: 1, 3 }} {{ 'x' | Size }} {{ body.o | size }}"),
        "ell 1 1"
    );
}

#[test]
fn date_filter() {
    assert_eq!(r("{{ 'now' | Date: 'yyyy-MM-dd' }}"), "2024-03-05");
    assert_eq!(
        r("{{ '2021-01-02T03:04:05Z' | Date: 'dd/MM/yyyy HH:mm' }}"),
        "02/01/2021 03:04"
    );
    assert_eq!(
        r("{{ '2021-01-02T03:04:05Z' | Date: '%Y-%m-%d %H:%M:%S %b' }}"),
        "2021-01-02 03:04:05 Jan"
    );
    assert_eq!(
        r("{{ 0 | Date: 'yyyy' }} {{ 'garbage' | Date: 'yyyy' }}"),
        "1970 garbage"
    );
}

#[test]
fn conditions() {
    assert_eq!(
        r("{% if body.age > 40 %}old{% else %}young{% endif %}"),
        "old"
    );
    assert_eq!(
        r("{% if body.age < 18 %}kid{% elsif body.age >= 41 %}41+{% else %}adult{% endif %}"),
        "41+"
    );
    assert_eq!(
        r("{% if body.name == 'ann' and body.ok %}y{% endif %}{% if body.nothing %}n{% endif %}"),
        "y"
    );
    assert_eq!(r("{% if body.tags contains 'b' %}b{% endif %}{% if body.name contains 'nn' %}nn{% endif %}"), "bnn");
    assert_eq!(
        r("{% if false or true and false %}x{% else %}y{% endif %}"),
        "y"
    );
    assert_eq!(
        r("{% unless body.ok %}no{% else %}yes{% endunless %}"),
        "yes"
    );
    assert_eq!(r("{% if body.missing == nil %}nil{% endif %}{% if body.tags != empty %}full{% endif %}{% if body.s != blank %}s{% endif %}"), "nilfulls");
    assert_eq!(
        r("{% if context.Request.Method == 'POST' %}post{% endif %}"),
        "post"
    );
    assert_eq!(
        r("{% case body.name %}{% when 'bob' %}b{% when 'ann', 'al' %}a{% else %}?{% endcase %}"),
        "a"
    );
}

#[test]
fn loops_and_assign() {
    assert_eq!(r("{% for t in body.tags %}{{forloop.index}}{{t}}{% unless forloop.last %},{% endunless %}{% endfor %}"), "1a,2b,3c");
    assert_eq!(r("{% for t in body.tags limit:2 %}{{t}}{% endfor %}|{% for t in body.tags offset:1 %}{{t}}{% endfor %}|{% for t in body.tags reversed %}{{t}}{% endfor %}"), "ab|bc|cba");
    assert_eq!(r("{% for i in (1..5) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{i}}{% endfor %}"), "13");
    assert_eq!(
        r("{% for x in body.missing %}x{% else %}none{% endfor %}"),
        "none"
    );
    assert_eq!(r("{% assign total = 0 %}{% for i in body.items %}{% assign total = total | Plus: i.qty %}{% endfor %}{{ total }}"), "2");
    assert_eq!(r("{% for i in body.items %}{% if forloop.first %}[{% endif %}{{i.name}}{% if forloop.last %}]{% endif %}{% endfor %}"), "[penink]");
    assert_eq!(
        r("{% for kv in body.o %}{{kv[0]}}={{kv[1]}}{% endfor %}"),
        "k=v"
    );
}

#[test]
fn whitespace_raw_comment() {
    assert_eq!(r("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
    assert_eq!(r("a {{- body.name -}} b"), "aannb");
    assert_eq!(r("{% raw %}{{ not }}{% endraw %}"), "{{ not }}");
    assert_eq!(
        r("x{% comment %} {{ body.name }} {% if %} {% endcomment %}y"),
        "xy"
    );
    assert_eq!(r("{ \"a\": 1 }"), "{ \"a\": 1 }");
}

#[test]
fn body_kinds() {
    assert_eq!(render_with("{{body.a}}", r#"{"a":"j"}"#, "").unwrap(), "j");
    assert_eq!(
        render_with("[{{body.a}}]", "not json", "text/plain").unwrap(),
        "[]"
    );
    let xml = render_with(
        "{{body.root.a}}",
        "<root><a>x</a></root>",
        "application/xml",
    )
    .unwrap();
    assert_eq!(xml, "x");
}

#[test]
fn bounded() {
    let e = render_with(
        "{% for i in (1..5000) %}{% for j in (1..5000) %}{% endfor %}{% endfor %}",
        "",
        "",
    )
    .unwrap_err();
    assert!(e.contains("loop iterations"), "{e}");
    let e = render_with("{% for i in (1..100000) %}{% endfor %}", "", "").unwrap_err();
    assert!(e.contains("range"), "{e}");
    let e = render_with(
        "{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | Append: s %}{% endfor %}",
        "",
        "",
    )
    .unwrap_err();
    assert!(e.contains("exceeds"), "{e}");
    let e = render_with("{{ 1 | DividedBy: 0 }}", "", "").unwrap_err();
    assert!(e.contains("divided by 0"), "{e}");
}

#[test]
fn load_errors() {
    assert_eq!(
        load_err("{% capture x %}y{% endcapture %}"),
        "liquid: `{% capture %}` is not supported yet"
    );
    assert_eq!(
        load_err("{% include 'x' %}"),
        "liquid: `{% include %}` is not supported yet"
    );
    assert_eq!(
        load_err("{{ x | Currency }}"),
        "liquid: filter `Currency` is not supported yet"
    );
    assert_eq!(
        load_err("{% if x %}"),
        "liquid: `{% if %}` is not closed by `{% endif %}`"
    );
    assert_eq!(load_err("{% endif %}"), "liquid: unexpected `{% endif %}`");
    assert_eq!(load_err("{{ x "), "liquid: `{{` is not closed by `}}`");
    assert_eq!(load_err("{% frob %}"), "liquid: unknown tag `{% frob %}`");
    assert_eq!(
        load_err("{{ x | Append }}"),
        "liquid: filter `Append` takes 1 argument(s), not 0"
    );
    assert_eq!(
        load_err("{% for x in y offset: continue %}{% endfor %}"),
        "liquid: `offset: continue` is not supported yet"
    );
    let e = Template::parse("ok\n{% cycle 'a' %}").unwrap_err();
    assert_eq!(e.offset, 3);
    let deep = "{% if true %}".repeat(60);
    assert!(load_err(&deep).contains("nest deeper"));
}

#[test]
fn reads_body_flag() {
    assert!(Template::parse("{{ body.x }}").unwrap().reads_body());
    assert!(!Template::parse("{{ context.Request.Method }}")
        .unwrap()
        .reads_body());
}

#[test]
fn never_panics_on_odd_input() {
    for src in [
        "{{",
        "{%",
        "}}",
        "{{}}",
        "{%%}",
        "{{ | }}",
        "{{ a[ }}",
        "{{ a. }}",
        "{% for %}",
        "{% assign = %}",
        "{% if a == %}{% endif %}",
        "{{ 'é' | Slice: -9, 99 }}",
        "{{ 'é' | Truncate: 0 }}",
        "{% case %}{% endcase %}",
        "{{ (1..) }}",
        "{{ \"unterminated }}",
        "{{ 99999999999999999999 }}",
        "{% raw %}",
        "{% for x in (1..3) %}{{ x | DividedBy: 0.5 }}{% endfor %}",
        "{{ '%' | UrlDecode }}{{ '%4' | UrlDecode }}{{ '%zz' | UrlDecode }}",
    ] {
        if let Ok(t) = Template::parse(src) {
            let arena = Bump::new();
            let x = exchange(&arena, "{}", "application/json");
            let _ = super::render(&t, &x, Msg::Request);
        }
    }
}
