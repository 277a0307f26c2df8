//! `docs/configuration.md` against the model: every key the model parses has a row, every
//! row is a key the model parses, and each row's allowed values, default and status are
//! the code's.
//!
//! The keys come from the model itself, not from a list: [`Tracer`] is a serde
//! `Deserializer` that answers every `deserialize_struct` with all of the struct's fields
//! (serde hands it their names), every list with one item, every map with one `<name>`
//! entry and every `Option` with `None` or (one at a time) `Some`. A key added to any model
//! struct is therefore found without touching this file, and fails the test until the page
//! has a row for it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::de::value::{Error as DeError, StrDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, Expected, IntoDeserializer, Visitor};
use serde::Deserialize;

use super::{load, ok};
use crate::config::node::{Node, NodeKind};
use crate::config::recover::deserialize_all;
use crate::config::{yaml, Config};

const PAGE: &str = include_str!("../../../../docs/configuration.md");

/// How the page names the entries of a map whose keys the user chooses.
const NAME: &str = "<name>";

// ---------------------------------------------------------------------------------------
// The model's keys, by tracing its `Deserialize` impls.

/// What tracing found.
#[derive(Default, Debug)]
struct Model {
    /// Every key path: struct fields (`gateway.limits.max-headers`, `apis[].id`) and
    /// user-named map entries (`backends.<name>`).
    keys: BTreeSet<String>,
    /// Paths of `Option` values.
    options: BTreeSet<String>,
    /// Enum-valued paths and their allowed values.
    enums: BTreeMap<String, BTreeSet<&'static str>>,
}

/// One pass over the model.
struct Run<'a> {
    /// Options answered with `Some`; all others are `None`.
    some: &'a BTreeSet<String>,
    /// Options answered with `None`, list items and map entries left out: values the
    /// tracer could not build.
    hidden: &'a BTreeSet<String>,
    found: &'a RefCell<Model>,
    /// Options whose `Some` value, and list items and map entries whose value, was built:
    /// everything below them was traced.
    built: &'a RefCell<BTreeSet<String>>,
    /// The innermost option, list item or map entry that failed.
    failed: RefCell<Option<String>>,
}

impl Run<'_> {
    fn fail(&self, path: &str) {
        self.failed
            .borrow_mut()
            .get_or_insert_with(|| path.to_owned());
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Whether `path` lies strictly below `ancestor`.
fn is_below(path: &str, ancestor: &str) -> bool {
    path.strip_prefix(ancestor)
        .is_some_and(|rest| rest.starts_with(['.', '[']))
}

/// Traces `Config`: one pass with every option `None`, then one pass per option with it
/// (and the options above it) `Some`, until no new option turns up. An option, list item
/// or map entry the tracer cannot build (e.g. a secret with none of `value`, `env`,
/// `file`) is hidden and the pass repeated; in the end every option and every hidden entry must
/// have been built in some pass, so nothing below them went untraced.
fn model() -> Model {
    trace::<Config>()
}

/// [`model`] for any type.
fn trace<T: de::DeserializeOwned>() -> Model {
    let found = RefCell::new(Model::default());
    let built = RefCell::new(BTreeSet::new());
    let mut ever_hidden = BTreeSet::new();
    let mut queued = BTreeSet::new();
    let mut passes = VecDeque::from([BTreeSet::new()]);
    while let Some(some) = passes.pop_front() {
        let mut hidden = BTreeSet::new();
        loop {
            let run = Run {
                some: &some,
                hidden: &hidden,
                found: &found,
                built: &built,
                failed: RefCell::default(),
            };
            let Err(e) = T::deserialize(Tracer {
                path: String::new(),
                run: &run,
            }) else {
                break;
            };
            let failed = run.failed.borrow_mut().take();
            let failed = failed.unwrap_or_else(|| panic!("tracing failed at the root: {e}"));
            assert!(
                hidden.insert(failed.clone()),
                "`{failed}` fails even when hidden: {e}"
            );
            ever_hidden.insert(failed);
        }
        let options: Vec<String> = found.borrow().options.iter().cloned().collect();
        for option in options {
            let depth = option.matches(['.', '[']).count();
            assert!(depth < 32, "`{option}`: is the model recursive?");
            if queued.insert(option.clone()) {
                let mut with: BTreeSet<String> = queued
                    .iter()
                    .filter(|o| is_below(&option, o))
                    .cloned()
                    .collect();
                with.insert(option);
                passes.push_back(with);
            }
        }
    }
    let model = found.into_inner();
    let built = built.into_inner();
    for path in model.options.iter().chain(&ever_hidden) {
        assert!(
            built.contains(path),
            "the tracer never built a value for `{path}`"
        );
    }
    model
}

struct Tracer<'a> {
    path: String,
    run: &'a Run<'a>,
}

impl Tracer<'_> {
    fn at(&self, path: String) -> Self {
        Tracer {
            path,
            run: self.run,
        }
    }

    /// What the visitor expects, in serde's words ("a duration such as 250ms, …").
    fn expecting<'de, V: Visitor<'de>>(visitor: &V) -> String {
        let e: &dyn Expected = visitor;
        e.to_string()
    }
}

macro_rules! leaf {
    ($($method:ident => $visit:ident($($value:expr)?);)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            visitor.$visit($($value)?)
        }
    )*};
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = DeError;

    /// Self-describing types (durations, sizes, `shards`): a value that suits what the
    /// visitor says it expects.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if Self::expecting(&visitor).contains("duration") {
            visitor.visit_str("1s")
        } else {
            visitor.visit_u64(1)
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if Self::expecting(&visitor).contains("socket address") {
            visitor.visit_str("127.0.0.1:1")
        } else {
            visitor.visit_str("x")
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    leaf! {
        deserialize_bool => visit_bool(true);
        deserialize_i8 => visit_i64(1);
        deserialize_i16 => visit_i64(1);
        deserialize_i32 => visit_i64(1);
        deserialize_i64 => visit_i64(1);
        deserialize_u8 => visit_u64(1);
        deserialize_u16 => visit_u64(1);
        deserialize_u32 => visit_u64(1);
        deserialize_u64 => visit_u64(1);
        deserialize_f32 => visit_f64(0.5);
        deserialize_f64 => visit_f64(0.5);
        deserialize_char => visit_char('x');
        deserialize_identifier => visit_str("x");
        deserialize_unit => visit_unit();
        deserialize_ignored_any => visit_unit();
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_bytes(b"x")
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_bytes(b"x")
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let run = self.run;
        let path = self.path.clone();
        run.found.borrow_mut().options.insert(path.clone());
        if !run.some.contains(&path) || run.hidden.contains(&path) {
            return visitor.visit_none();
        }
        match visitor.visit_some(self) {
            Ok(value) => {
                run.built.borrow_mut().insert(path);
                Ok(value)
            }
            Err(e) => {
                run.fail(&path);
                Err(e)
            }
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let item = format!("{}[]", self.path);
        let done = self.run.hidden.contains(&item);
        visitor.visit_seq(OneItem {
            item: self.at(item),
            done,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, DeError> {
        Err(de::Error::custom(format!(
            "{}: the tracer does not know tuples",
            self.path
        )))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entry = join(&self.path, NAME);
        let done = self.run.hidden.contains(&entry);
        if !done {
            self.run.found.borrow_mut().keys.insert(entry.clone());
        }
        visitor.visit_map(OneEntry {
            entry: self.at(entry),
            state: if done { 2 } else { 0 },
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        {
            let mut found = self.run.found.borrow_mut();
            for field in fields {
                found.keys.insert(join(&self.path, field));
            }
        }
        visitor.visit_map(Fields {
            parent: self,
            fields,
            next: 0,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.run
            .found
            .borrow_mut()
            .enums
            .entry(self.path.clone())
            .or_default()
            .extend(variants);
        visitor.visit_enum(UnitVariant(variants[0]))
    }
}

/// A list of one item (none when hidden).
struct OneItem<'a> {
    item: Tracer<'a>,
    done: bool,
}

impl<'de> de::SeqAccess<'de> for OneItem<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        let path = self.item.path.clone();
        let run = self.item.run;
        match seed.deserialize(self.item.at(path.clone())) {
            Ok(value) => {
                run.built.borrow_mut().insert(path);
                Ok(Some(value))
            }
            Err(e) => {
                run.fail(&path);
                Err(e)
            }
        }
    }
}

/// A map of one `<name>` entry (none when hidden). `state`: 0 key next, 1 value next, 2 done.
struct OneEntry<'a> {
    entry: Tracer<'a>,
    state: u8,
}

impl<'de> de::MapAccess<'de> for OneEntry<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if self.state != 0 {
            return Ok(None);
        }
        self.state = 1;
        let key: StrDeserializer<'_, DeError> = NAME.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        self.state = 2;
        let path = self.entry.path.clone();
        let run = self.entry.run;
        match seed.deserialize(self.entry.at(path.clone())) {
            Ok(value) => {
                run.built.borrow_mut().insert(path);
                Ok(value)
            }
            Err(e) => {
                run.fail(&path);
                Err(e)
            }
        }
    }
}

/// A struct with every one of its fields set.
struct Fields<'a> {
    parent: Tracer<'a>,
    fields: &'static [&'static str],
    next: usize,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(field) = self.fields.get(self.next) else {
            return Ok(None);
        };
        let key: StrDeserializer<'_, DeError> = field.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let field = self.fields[self.next];
        self.next += 1;
        seed.deserialize(self.parent.at(join(&self.parent.path, field)))
    }
}

/// An enum value: its first variant, which must be a unit variant.
struct UnitVariant(&'static str);

impl<'de> de::EnumAccess<'de> for UnitVariant {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let name: StrDeserializer<'_, DeError> = self.0.into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, DeError> {
        Err(de::Error::custom("the tracer knows only unit variants"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, DeError> {
        Err(de::Error::custom("the tracer knows only unit variants"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, DeError> {
        Err(de::Error::custom("the tracer knows only unit variants"))
    }
}

// ---------------------------------------------------------------------------------------
// The page's rows.

/// A reference-table row: `| `key` | type | default | status | description |`.
#[derive(Debug)]
struct Row {
    key: String,
    ty: String,
    default: String,
    status: String,
}

fn rows() -> Vec<Row> {
    PAGE.lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert!(cells.len() >= 7, "a row needs five cells: {line}");
            Row {
                key: cells[1].trim_matches('`').to_owned(),
                ty: cells[2].to_owned(),
                default: cells[3].to_owned(),
                status: cells[4].to_owned(),
            }
        })
        .collect()
}

fn rows_by_key() -> BTreeMap<String, Row> {
    let mut by_key = BTreeMap::new();
    for row in rows() {
        let key = row.key.clone();
        assert!(
            by_key.insert(key.clone(), row).is_none(),
            "`{key}` has two rows"
        );
    }
    by_key
}

// ---------------------------------------------------------------------------------------
// Walking YAML with the model's key paths.

/// Walks a document, naming each node by its key path in the file (`apis[0].id`) and in
/// the model (`apis[].id`, `backends.<name>.url`).
fn walk<'n>(
    model: &Model,
    node: &'n Node,
    raw: &str,
    path: &str,
    visit: &mut dyn FnMut(&str, &str, &'n Node),
) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let text = k.scalar_text().expect("scalar keys");
                let exact = join(path, text);
                let named = join(path, NAME);
                let key = if model.keys.contains(&exact) {
                    exact
                } else if model.keys.contains(&named) {
                    named
                } else {
                    panic!("`{}` is not a key of the model", join(raw, text));
                };
                let raw = join(raw, text);
                visit(&raw, &key, v);
                walk(model, v, &raw, &key, visit);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(
                    model,
                    item,
                    &format!("{raw}[{i}]"),
                    &format!("{path}[]"),
                    visit,
                );
            }
        }
        _ => {}
    }
}

fn parse(text: &str) -> Node {
    yaml::parse(text).unwrap_or_else(|e| panic!("{e:?}")).root
}

/// A value as the page writes defaults: `10s`, `[http, https]`, `{}`. `None` for maps and
/// lists that hold maps (their keys have rows of their own).
fn rendered(node: &Node) -> Option<String> {
    match &node.kind {
        NodeKind::Map(entries) if entries.is_empty() => Some("{}".into()),
        NodeKind::Map(_) => None,
        NodeKind::Seq(items) => {
            let texts: Option<Vec<&str>> = items.iter().map(Node::scalar_text).collect();
            texts.map(|t| format!("[{}]", t.join(", ")))
        }
        _ => node.scalar_text().map(str::to_owned),
    }
}

/// Every optional section present with only its required keys, so everything else in it
/// takes its default.
const MINIMAL: &str = r#"
gateway:
  admin: { listen: "127.0.0.1:8090" }
  tls: { client-certificates: {} }
named-values:
  n: { value: x }
backends:
  b:
    url: http://b
    credentials: {}
    circuit-breaker: { rules: [ { name: r, failure-condition: { interval: 10s }, trip-duration: 5s } ] }
    health-check: { path: /h }
    tls: {}
    pool: [ { backend: c } ]
apis: [ { id: a, path: a } ]
products: [ { id: p } ]
subscriptions: [ { id: s, scope: all-apis } ]
api-version-sets: [ { id: v, versioning-scheme: Segment } ]
rate-limits: { redis: { url: "redis://r" } }
cache: { redis: { url: "redis://r" } }
logging: { access: {} }
telemetry: { otlp: { endpoint: "http://o" } }
"#;

/// Every key of the model set, to see which ones the loader refuses: the first document
/// sets all but the admin token's other sources.
const ALL_KEYS: [&str; 3] = [
    FULL,
    "gateway: { admin: { listen: \"127.0.0.1:8090\", token: { env: TOLLGATE_TEST_DOCS_UNSET } } }\n",
    "gateway: { admin: { listen: \"127.0.0.1:8090\", token: { file: t.txt } } }\n",
];

const FULL: &str = r#"
gateway:
  name: g
  shards: 2
  listen: { http: "127.0.0.1:8080", https: "127.0.0.1:8443" }
  admin: { listen: "127.0.0.1:8090", token: { value: t } }
  tls:
    certificates: [ { hostnames: [a.example], cert: c.pem, key: c.key } ]
    client-certificates: { mode: optional, ca: ca.pem }
  limits: { max-header-bytes: 64KiB, max-headers: 100, max-uri-bytes: 8KiB, max-body-bytes: 100MiB }
  timeouts: { client-header: 10s, keepalive-idle: 75s, backend-connect: 5s, backend-response: 5m, shutdown-grace: 30s }
  forwarded: { x-forwarded-for: true, x-forwarded-proto: true, x-forwarded-host: true, preserve-host: false }
  pool: { max-idle-per-backend: 64, idle-timeout: 1m }
named-values:
  a: { value: x, secret: true }
  b: { env: TOLLGATE_TEST_DOCS_UNSET }
  c: { file: c.txt }
backends:
  b:
    url: "http://127.0.0.1:9001"
    protocol: http1
    credentials: { header: { x-key: ["{{a}}"] }, query: { key: ["{{a}}"] } }
    circuit-breaker:
      rules:
        - name: r
          failure-condition: { count: 3, percentage: 50, interval: 10s, status-code-ranges: [ { min: 500, max: 599 } ], error-reasons: [ x ] }
          trip-duration: 5s
          accept-retry-after: true
    health-check: { path: /h, interval: 5s, timeout: 1s, expected-status: 200, healthy-threshold: 2, unhealthy-threshold: 3 }
    tls: { verify: true, ca: ca.pem, sni: b.example, client-cert: c.pem, client-key: c.key }
    pool: [ { backend: b, priority: 1, weight: 1 } ]
apis:
  - id: a
    display-name: A
    path: a
    service-url: "http://127.0.0.1:9001"
    protocols: [http]
    subscription-required: true
    subscription-key: { header: K, query: k }
    policy: "<policies/>"
    operations: [ { id: o, display-name: O, method: GET, url-template: /o, policy: "<policies/>" } ]
    openapi: spec.yaml
    api-version: v1
    api-version-set-id: v
    api-revision: "2"
    is-current: true
products:
  - { id: p, display-name: P, description: d, apis: [a], subscription-required: true, approval-required: false, state: published, policy: "<policies/>" }
subscriptions:
  - { id: s, display-name: S, scope: all-apis, primary-key: { value: k }, secondary-key: { env: TOLLGATE_TEST_DOCS_UNSET }, state: active, allow-tracing: false }
  - { id: t, scope: all-apis, primary-key: { env: TOLLGATE_TEST_DOCS_UNSET }, secondary-key: { file: k.txt } }
  - { id: u, scope: all-apis, primary-key: { file: k.txt }, secondary-key: { value: k } }
policies: { global: "<policies/>", fragments: { f: "<fragment/>" } }
api-version-sets:
  - { id: v, display-name: V, description: d, versioning-scheme: Query, version-query-name: api-version, version-header-name: Api-Version }
rate-limits: { max-keys: 10, redis: { url: "redis://r", key-prefix: "t:", sync-interval: 50ms, on-failure: closed } }
cache: { memory: 256MiB, redis: { url: "redis://r", key-prefix: "t:", timeout: 50ms } }
logging: { level: warn, access: { path: stdout, format: json } }
telemetry: { otlp: { endpoint: "http://127.0.0.1:4318", sampling: 0.1 } }
"#;

/// `apis[].operations[].policy` → `apis[].operations[]` → `apis[].operations` → `apis[]`…
fn parent(path: &str) -> Option<&str> {
    path.rfind(['.', '[']).map(|i| &path[..i])
}

/// `issue 6` or `a later issue`, as a "not supported yet" message says.
fn issue(message: &str) -> String {
    if message.contains("a later issue") {
        return "a later issue".to_owned();
    }
    let at = message
        .find("issue ")
        .unwrap_or_else(|| panic!("no issue in `{message}`"));
    let digits: String = message[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!digits.is_empty(), "no issue number in `{message}`");
    format!("issue {digits}")
}

// ---------------------------------------------------------------------------------------
// The checks.

#[test]
fn every_key_has_a_row_and_every_row_is_a_key() {
    let model = model();
    let rows = rows_by_key();
    let missing: Vec<&String> = model
        .keys
        .iter()
        .filter(|k| !rows.contains_key(*k))
        .collect();
    let stale: Vec<&String> = rows.keys().filter(|k| !model.keys.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys of the model without a row in docs/configuration.md: {missing:#?}"
    );
    assert!(
        stale.is_empty(),
        "rows in docs/configuration.md that are not keys of the model: {stale:#?}"
    );
}

#[test]
fn every_allowed_value_is_listed() {
    let model = model();
    let rows = rows_by_key();
    for (path, values) in &model.enums {
        let key = path.trim_end_matches("[]");
        let row = rows
            .get(key)
            .unwrap_or_else(|| panic!("no row for `{key}`"));
        for value in values {
            assert!(
                row.ty.contains(&format!("`{value}`")),
                "`{key}`: the type column does not list `{value}`: {}",
                row.ty
            );
        }
    }
}

#[test]
fn defaults_are_the_codes() {
    let model = model();
    let rows = rows_by_key();
    let mut checked = BTreeSet::new();
    for input in ["", MINIMAL] {
        let written = parse(input);
        let config = deserialize_all::<Config>(&written)
            .unwrap_or_else(|e| panic!("{input}\n{}", e[0].message));
        let mut shown = ok("");
        shown.config = config;
        let shown = parse(&shown.to_masked_yaml());
        walk(&model, &shown, "", "", &mut |raw, key, node| {
            let Some(value) = rendered(node) else { return };
            if written.find(raw).is_some() {
                return;
            }
            let row = rows
                .get(key)
                .unwrap_or_else(|| panic!("no row for `{key}`"));
            assert!(
                row.default.contains(&format!("`{value}`")),
                "`{key}` defaults to `{value}`; the page says {}",
                row.default
            );
            checked.insert(key.to_owned());
        });
    }
    for (key, row) in &rows {
        if row.default.starts_with('`') {
            assert!(
                checked.contains(key),
                "`{key}`: the page gives default {} but the code has none",
                row.default
            );
        }
    }
}

#[test]
fn statuses_are_the_loaders() {
    let model = model();
    let rows = rows_by_key();
    let mut set = BTreeSet::new();
    // Refused key → "issue N" or "a later issue", from the loader's own message.
    let mut refused = BTreeMap::new();
    for document in ALL_KEYS {
        let written = parse(document);
        let mut model_path = BTreeMap::new();
        walk(&model, &written, "", "", &mut |raw, key, _| {
            set.insert(key.to_owned());
            model_path.insert(raw.to_owned(), key.to_owned());
        });
        let errors = match load(document) {
            Ok(_) => panic!("loaded:\n{document}"),
            Err(e) => e.0,
        };
        for d in errors
            .iter()
            .filter(|d| d.message.contains("is not supported yet"))
        {
            let key = model_path
                .get(&d.key_path)
                .unwrap_or_else(|| panic!("refused key not written: {d}"));
            refused.insert(key.clone(), issue(&d.message));
        }
    }
    let unset: Vec<&String> = model.keys.difference(&set).collect();
    assert!(unset.is_empty(), "ALL_KEYS must set every key: {unset:#?}");
    assert!(!refused.is_empty(), "nothing refused?");
    for (key, row) in &rows {
        let mut at = Some(key.as_str());
        let mut label = None;
        while let Some(p) = at {
            if let Some(l) = refused.get(p) {
                label = Some(l);
                break;
            }
            at = parent(p);
        }
        let expected = match label {
            Some(l) => format!("parsed, refused at load: not supported yet ({l})"),
            None => "supported".to_owned(),
        };
        assert_eq!(row.status, expected, "status of `{key}`");
    }
}

#[test]
fn the_error_example_is_the_loaders_output() {
    let section = &PAGE[PAGE.find("## Errors and warnings").expect("errors section")..];
    let block = |fence: &str| {
        let start = section.find(fence).expect("example block") + fence.len();
        let len = section[start..].find("```").expect("closing fence");
        &section[start..start + len]
    };
    let errors = match load(block("```yaml\n")) {
        Ok(_) => panic!("the example loaded"),
        Err(e) => e,
    };
    assert_eq!(errors.to_string(), block("```text\n").trim_end());
}

#[test]
fn the_tracer_finds_keys_it_was_not_told_about() {
    use std::time::Duration;

    use crate::config::model::{LogLevel, SecretSource};

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        plain: String,
        #[serde(default)]
        listed: Vec<Inner>,
        named: BTreeMap<String, Inner>,
        maybe: Option<Inner>,
        secret: Option<SecretSource>,
        #[serde(with = "crate::config::duration")]
        wait: Duration,
        level: LogLevel,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Inner {
        deep: Option<Deep>,
        leaf: u16,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Deep {
        deeper: Option<SecretSource>,
    }

    let m = trace::<Outer>();
    let has = |k: &str| m.keys.contains(k);
    for key in [
        "plain",
        "listed[].leaf",
        "named.<name>.leaf",
        "maybe.leaf",
        "maybe.deep.deeper.env",
        "named.<name>.deep.deeper.file",
        "secret.value",
        "secret.env",
        "secret.file",
        "wait",
        "level",
    ] {
        assert!(has(key), "`{key}` not found in {:#?}", m.keys);
    }
    assert!(m.enums["level"].contains("debug"));
}
