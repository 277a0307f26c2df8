//! `tollgate config show`: the resolved config (defaults filled in) as YAML, with every
//! secret printed as `***`.
//!
//! A small serde `Serializer` builds a yaml-rust2 value from the model's `Serialize` impls
//! (so the output keys are the model's keys) and yaml-rust2's emitter prints it. Masking
//! lives in the `Serialize` impls of `NamedValueSource` and `SecretSource`.

use std::fmt;

use serde::ser::{self, Serialize};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

use super::load::Loaded;

impl Loaded {
    /// The resolved config as YAML; secrets (secret named values, subscription keys, the
    /// admin token) appear as `***`.
    pub fn to_masked_yaml(&self) -> String {
        let yaml = match self.config.serialize(ToYaml) {
            Ok(yaml) => yaml,
            Err(e) => return format!("# cannot show this config: {e}\n"),
        };
        let mut out = String::new();
        let mut emitter = YamlEmitter::new(&mut out);
        emitter.multiline_strings(true);
        if let Err(e) = emitter.dump(&yaml) {
            return format!("# cannot show this config: {e:?}\n");
        }
        let mut text = out.strip_prefix("---\n").unwrap_or(&out).to_owned();
        text.push('\n');
        text
    }
}

#[derive(Debug)]
pub struct ShowError(String);

impl fmt::Display for ShowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShowError {}

impl ser::Error for ShowError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ShowError(msg.to_string())
    }
}

/// Serializes into a yaml-rust2 value.
struct ToYaml;

fn real(v: f64) -> Yaml {
    let text = match v {
        _ if v.is_nan() => ".nan".to_owned(),
        _ if v.is_infinite() => if v > 0.0 { ".inf" } else { "-.inf" }.to_owned(),
        _ => format!("{v:?}"),
    };
    Yaml::Real(text)
}

fn single(key: &str, value: Yaml) -> Yaml {
    let mut hash = Hash::new();
    hash.insert(Yaml::String(key.to_owned()), value);
    Yaml::Hash(hash)
}

impl ser::Serializer for ToYaml {
    type Ok = Yaml;
    type Error = ShowError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = MapBuilder;

    fn serialize_bool(self, v: bool) -> Result<Yaml, ShowError> {
        Ok(Yaml::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Yaml, ShowError> {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Yaml, ShowError> {
        // Beyond i64, the digits are still a valid YAML integer.
        Ok(i64::try_from(v).map_or_else(|_| Yaml::Real(v.to_string()), Yaml::Integer))
    }
    fn serialize_f32(self, v: f32) -> Result<Yaml, ShowError> {
        Ok(real(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Yaml, ShowError> {
        Ok(real(v))
    }
    fn serialize_char(self, v: char) -> Result<Yaml, ShowError> {
        Ok(Yaml::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Yaml, ShowError> {
        Ok(Yaml::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Yaml, ShowError> {
        Ok(Yaml::Array(
            v.iter().map(|b| Yaml::Integer((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Yaml, ShowError> {
        Ok(Yaml::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Yaml, ShowError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Yaml, ShowError> {
        Ok(Yaml::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Yaml, ShowError> {
        Ok(Yaml::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Yaml, ShowError> {
        Ok(Yaml::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Yaml, ShowError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Yaml, ShowError> {
        Ok(single(variant, value.serialize(self)?))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqBuilder, ShowError> {
        Ok(SeqBuilder {
            items: Vec::new(),
            variant: None,
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<SeqBuilder, ShowError> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<SeqBuilder, ShowError> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<SeqBuilder, ShowError> {
        Ok(SeqBuilder {
            items: Vec::new(),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, ShowError> {
        Ok(MapBuilder {
            hash: Hash::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapBuilder, ShowError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<MapBuilder, ShowError> {
        Ok(MapBuilder {
            hash: Hash::new(),
            key: None,
            variant: Some(variant),
        })
    }
}

struct SeqBuilder {
    items: Vec<Yaml>,
    variant: Option<&'static str>,
}

impl SeqBuilder {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ShowError> {
        self.items.push(value.serialize(ToYaml)?);
        Ok(())
    }

    fn done(self) -> Yaml {
        let seq = Yaml::Array(self.items);
        match self.variant {
            Some(variant) => single(variant, seq),
            None => seq,
        }
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ShowError> {
        self.push(value)
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ShowError> {
        self.push(value)
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ShowError> {
        self.push(value)
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ShowError> {
        self.push(value)
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}

struct MapBuilder {
    hash: Hash,
    key: Option<Yaml>,
    variant: Option<&'static str>,
}

impl MapBuilder {
    /// Struct fields that are `None` are left out rather than printed as `~`.
    fn field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ShowError> {
        let value = value.serialize(ToYaml)?;
        if value != Yaml::Null {
            self.hash.insert(Yaml::String(key.to_owned()), value);
        }
        Ok(())
    }

    fn done(self) -> Yaml {
        let map = Yaml::Hash(self.hash);
        match self.variant {
            Some(variant) => single(variant, map),
            None => map,
        }
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), ShowError> {
        self.key = Some(key.serialize(ToYaml)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ShowError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ShowError("map value without a key".into()))?;
        self.hash.insert(key, value.serialize(ToYaml)?);
        Ok(())
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ShowError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}

impl ser::SerializeStructVariant for MapBuilder {
    type Ok = Yaml;
    type Error = ShowError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ShowError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Yaml, ShowError> {
        Ok(self.done())
    }
}
