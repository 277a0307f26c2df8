//! The model's keys, by tracing its `Deserialize` impls: [`Tracer`] is a serde
//! `Deserializer` that answers every `deserialize_struct` with all of the struct's fields
//! (serde hands it their names), every list with one item, every map with one `<name>`
//! entry and every `Option` with `None` or (one at a time) `Some`, recording each key path
//! it is asked for.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::de::value::{Error as DeError, StrDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, Expected, IntoDeserializer, Visitor};

use super::NAME;
use crate::config::Config;

/// What tracing found.
#[derive(Default, Debug)]
pub(super) struct Model {
    /// Every key path: struct fields (`gateway.limits.max-headers`, `apis[].id`) and
    /// user-named map entries (`backends.<name>`).
    pub keys: BTreeSet<String>,
    /// Paths of `Option` values.
    options: BTreeSet<String>,
    /// Enum-valued paths and their allowed values.
    pub enums: BTreeMap<String, BTreeSet<&'static str>>,
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

    /// What building the option, list item or map entry at `path` gave: on success `path`
    /// counts as built (everything below it was traced), on failure as the one that failed.
    fn record<T>(&self, path: String, built: Result<T, DeError>) -> Result<T, DeError> {
        match built {
            Ok(value) => {
                self.built.borrow_mut().insert(path);
                Ok(value)
            }
            Err(e) => {
                self.fail(&path);
                Err(e)
            }
        }
    }
}

pub(super) fn join(parent: &str, key: &str) -> String {
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
pub(super) fn model() -> Model {
    trace::<Config>()
}

/// [`model`] for any type.
pub(super) fn trace<T: de::DeserializeOwned>() -> Model {
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

    /// The list item or map entry here, built by `seed` and recorded.
    fn build<'de, T: DeserializeSeed<'de>>(&self, seed: T) -> Result<T::Value, DeError> {
        let value = seed.deserialize(self.at(self.path.clone()));
        self.run.record(self.path.clone(), value)
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
        let value = visitor.visit_some(self);
        run.record(path, value)
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
        self.item.build(seed).map(Some)
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
        self.entry.build(seed)
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
