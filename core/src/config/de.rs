//! A serde `Deserializer` over the spanned node tree.
//!
//! Errors are located at the innermost node that saw them; entries listed as hidden are
//! skipped, which is how `recover.rs` gets past one error to find the next. Not for
//! validation across entries: see `validate.rs`.

use std::collections::BTreeSet;

use serde::de::{self, DeserializeSeed, Visitor};

use super::de_error::Error;
use super::node::{join_index, join_key, Node, NodeKind};

/// One node being deserialized, with its key path and the entries hidden after errors.
pub struct NodeDe<'de> {
    node: &'de Node,
    path: String,
    hidden: &'de BTreeSet<String>,
    /// Map keys read as their text whatever they look like (`8080:` is the key "8080").
    is_key: bool,
}

/// What the target type asked for.
#[derive(Clone, Copy)]
enum Want {
    Any,
    Bool,
    Int,
    Float,
    Str,
    Option,
    Unit,
    Seq,
    Map,
    Enum,
    Newtype,
    Ignored,
}

impl<'de> NodeDe<'de> {
    pub fn new(node: &'de Node, path: String, hidden: &'de BTreeSet<String>) -> Self {
        NodeDe {
            node,
            path,
            hidden,
            is_key: false,
        }
    }

    fn mismatch(&self, expected: &str) -> Error {
        let node = self.node;
        let unquoted = match &node.kind {
            NodeKind::Str(s)
                if expected.contains("integer") && s.trim().parse::<i128>().is_ok() =>
            {
                true
            }
            NodeKind::Str(s) if expected.contains("number") && s.trim().parse::<f64>().is_ok() => {
                true
            }
            NodeKind::Str(s) if expected.contains("boolean") => {
                matches!(s.as_str(), "true" | "false")
            }
            _ => false,
        };
        let hint = unquoted.then(|| "remove the quotes".to_owned());
        Error::invalid(
            format!("expected {expected}, found {}", node.describe()),
            hint,
        )
    }

    fn dispatch<V: Visitor<'de>>(self, want: Want, visitor: V) -> Result<V::Value, Error> {
        let (node, path) = (self.node, self.path.clone());
        self.visit(want, visitor)
            .map_err(|e| e.locate(node.loc, &path))
    }

    fn visit<V: Visitor<'de>>(self, want: Want, visitor: V) -> Result<V::Value, Error> {
        let node = self.node;
        if self.is_key && matches!(want, Want::Str | Want::Any) {
            return match node.scalar_text() {
                Some(text) => visitor.visit_borrowed_str(text),
                None => Err(self.mismatch("a string key")),
            };
        }
        match (want, &node.kind) {
            (Want::Ignored, _) => visitor.visit_unit(),
            (Want::Option, NodeKind::Null) => visitor.visit_none(),
            (Want::Option, _) => visitor.visit_some(self),
            (Want::Newtype, _) => visitor.visit_newtype_struct(self),
            (Want::Unit | Want::Any, NodeKind::Null) => visitor.visit_unit(),
            (Want::Bool | Want::Any, NodeKind::Bool(b)) => visitor.visit_bool(*b),
            (Want::Float, NodeKind::Int(i)) => visitor.visit_f64(*i as f64),
            (Want::Int | Want::Any, NodeKind::Int(i)) => {
                match (i64::try_from(*i), u64::try_from(*i)) {
                    (Ok(v), _) => visitor.visit_i64(v),
                    (_, Ok(v)) => visitor.visit_u64(v),
                    _ => visitor.visit_i128(*i),
                }
            }
            (Want::Float | Want::Any, NodeKind::Float(f)) => visitor.visit_f64(*f),
            (Want::Str | Want::Any, NodeKind::Str(s)) => visitor.visit_borrowed_str(s),
            (Want::Str, NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_)) => {
                match node.plain_text() {
                    Some(text) => visitor.visit_borrowed_str(text),
                    None => Err(self.mismatch("a string")),
                }
            }
            (Want::Seq | Want::Any, NodeKind::Seq(items)) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                path: self.path,
                hidden: self.hidden,
            }),
            (Want::Seq, NodeKind::Null) => visitor.visit_seq(SeqDe {
                items: [].iter().enumerate(),
                path: self.path,
                hidden: self.hidden,
            }),
            (Want::Map | Want::Any, NodeKind::Map(entries)) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                path: self.path,
                hidden: self.hidden,
                value: None,
            }),
            (Want::Map, NodeKind::Null) => visitor.visit_map(MapDe {
                entries: [].iter(),
                path: self.path,
                hidden: self.hidden,
                value: None,
            }),
            (
                Want::Enum,
                NodeKind::Str(_) | NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_),
            ) => visitor.visit_enum(EnumDe {
                de: self,
                value: None,
            }),
            (Want::Enum, NodeKind::Map(entries)) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                let path = join_key(&self.path, k.scalar_text().unwrap_or("?"));
                let key = NodeDe {
                    node: k,
                    path: path.clone(),
                    hidden: self.hidden,
                    is_key: true,
                };
                let value = NodeDe::new(v, path, self.hidden);
                visitor.visit_enum(EnumDe {
                    de: key,
                    value: Some(value),
                })
            }
            (want, _) => Err(self.mismatch(match want {
                Want::Bool => "a boolean (true or false)",
                Want::Int => "an integer",
                Want::Float => "a number",
                Want::Str => "a string",
                Want::Unit => "nothing (null)",
                Want::Seq => "a list",
                Want::Map => "a map of keys",
                Want::Enum => "one of the allowed words",
                _ => "a value",
            })),
        }
    }
}

macro_rules! forward {
    ($($method:ident => $want:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.dispatch(Want::$want, visitor)
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    forward! {
        deserialize_any => Any, deserialize_bool => Bool,
        deserialize_i8 => Int, deserialize_i16 => Int, deserialize_i32 => Int, deserialize_i64 => Int,
        deserialize_i128 => Int, deserialize_u8 => Int, deserialize_u16 => Int, deserialize_u32 => Int,
        deserialize_u64 => Int, deserialize_u128 => Int, deserialize_f32 => Float, deserialize_f64 => Float,
        deserialize_char => Str, deserialize_str => Str, deserialize_string => Str,
        deserialize_bytes => Str, deserialize_byte_buf => Str, deserialize_identifier => Str,
        deserialize_option => Option, deserialize_unit => Unit, deserialize_seq => Seq,
        deserialize_map => Map, deserialize_ignored_any => Ignored,
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        self.dispatch(Want::Unit, v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        self.dispatch(Want::Newtype, v)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Error> {
        self.dispatch(Want::Seq, v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.dispatch(Want::Seq, v)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.dispatch(Want::Map, v)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.dispatch(Want::Enum, v)
    }
}

struct SeqDe<'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Node>>,
    path: String,
    hidden: &'de BTreeSet<String>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        for (index, item) in self.items.by_ref() {
            let path = join_index(&self.path, index);
            if self.hidden.contains(&path) {
                continue;
            }
            let result = seed.deserialize(NodeDe::new(item, path.clone(), self.hidden));
            return result.map(Some).map_err(|e| e.locate(item.loc, &path));
        }
        Ok(None)
    }
}

struct MapDe<'de> {
    entries: std::slice::Iter<'de, (Node, Node)>,
    path: String,
    hidden: &'de BTreeSet<String>,
    /// The value of the key just read, with its path.
    value: Option<(&'de Node, String)>,
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.entries.by_ref() {
            let path = join_key(&self.path, key.scalar_text().unwrap_or("?"));
            if self.hidden.contains(&path) {
                continue;
            }
            self.value = Some((value, path.clone()));
            let de = NodeDe {
                node: key,
                path: path.clone(),
                hidden: self.hidden,
                is_key: true,
            };
            return seed
                .deserialize(de)
                .map(Some)
                .map_err(|e| e.locate(key.loc, &path));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((node, path)) = self.value.take() else {
            return Err(Error::invalid(
                "internal: map value read before its key".into(),
                None,
            ));
        };
        let result = seed.deserialize(NodeDe::new(node, path.clone(), self.hidden));
        result.map_err(|e| e.locate(node.loc, &path))
    }
}

struct EnumDe<'de> {
    /// Deserializes the variant name.
    de: NodeDe<'de>,
    /// The variant's content for `{ variant: content }`.
    value: Option<NodeDe<'de>>,
}

impl<'de> de::EnumAccess<'de> for EnumDe<'de> {
    type Error = Error;
    type Variant = VariantDe<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Error> {
        let (node, path) = (self.de.node, self.de.path.clone());
        let name = NodeDe {
            is_key: true,
            ..self.de
        };
        let variant = seed
            .deserialize(name)
            .map_err(|e| e.locate(node.loc, &path))?;
        Ok((variant, VariantDe { value: self.value }))
    }
}

struct VariantDe<'de> {
    value: Option<NodeDe<'de>>,
}

impl VariantDe<'_> {
    fn needs_content() -> Error {
        Error::invalid(
            "this value needs settings: write `{ name: { ... } }`".into(),
            None,
        )
    }
}

impl<'de> de::VariantAccess<'de> for VariantDe<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            None => Ok(()),
            Some(v) => de::Deserialize::deserialize(v),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.value {
            Some(v) => seed.deserialize(v),
            None => Err(Self::needs_content()),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Some(v) => v.dispatch(Want::Seq, visitor),
            None => Err(Self::needs_content()),
        }
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Some(v) => v.dispatch(Want::Map, visitor),
            None => Err(Self::needs_content()),
        }
    }
}
