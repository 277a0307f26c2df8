//! Newtonsoft `JObject`/`JArray`/`JToken`/`JProperty`/`JsonConvert` members, and the
//! conversions between JTokens and scalars (`(string)token`, `(int)token`, implicit
//! `JToken t = "x"`).

use super::ign;
use std::fmt::Write;

use bumpalo::collections::String as BString;
use bumpalo::Bump;

use super::super::error::{EResult, EvalError};
use super::super::ir::J;
use super::super::types::{EnumKind, Type};
use super::super::value::Value;
use super::convert::{base64_encode, parse_to};
use super::format::display_into;
use super::json::{parse, write_json_float, write_json_string, JNode, MAX_JSON_DEPTH};
use super::time::format_datetime;
use super::{arg, req_str, Rt};

fn jnode<'a>(a: &[Value<'a>], i: usize) -> EResult<&'a JNode<'a>> {
    match arg(a, i) {
        Value::Json(n) => Ok(n),
        _ => Err(EvalError::null_ref()),
    }
}

fn iso<'a>(v: Value<'a>, arena: &'a Bump) -> &'a str {
    let mut s = BString::new_in(arena);
    if let Value::DateTime(d) = v {
        let _ = format_datetime(d, "yyyy-MM-ddTHH:mm:ss.FFFFFFFK", &mut s);
    }
    s.into_bump_str()
}

/// Converts a value to a JToken (scalars become JValues, lists JArrays).
pub(crate) fn from_value<'a>(
    v: Value<'a>,
    arena: &'a Bump,
    depth: usize,
) -> EResult<&'a JNode<'a>> {
    if depth > MAX_JSON_DEPTH {
        return Err(EvalError::new("JSON nesting is too deep."));
    }
    Ok(match v {
        Value::Json(n) => n,
        Value::Null => arena.alloc(JNode::Null),
        Value::Bool(b) => arena.alloc(JNode::Bool(b)),
        Value::Int(i) => arena.alloc(JNode::Int(i64::from(i))),
        Value::Long(i) => arena.alloc(JNode::Int(i)),
        Value::Double(d) => arena.alloc(JNode::Float(d)),
        Value::Str(s) => arena.alloc(JNode::Str(s)),
        Value::Char(_) | Value::Guid(_) | Value::TimeSpan(_) | Value::Enum(..) => {
            arena.alloc(JNode::Str(v.to_display(arena)))
        }
        Value::DateTime(_) => arena.alloc(JNode::Str(iso(v, arena))),
        Value::Bytes(b) => {
            let mut s = BString::new_in(arena);
            base64_encode(b, false, &mut s);
            arena.alloc(JNode::Str(s.into_bump_str()))
        }
        Value::List(items) => {
            let arr = JNode::new_array(arena);
            for it in items {
                arr.push(from_value(*it, arena, depth + 1)?)?;
            }
            arr
        }
        other => {
            return Err(EvalError::new(format!(
                "Could not determine JSON object type for type {}.",
                other.type_name()
            )))
        }
    })
}

fn conv_err(n: &JNode<'_>, to: &str) -> EvalError {
    let from = match n {
        JNode::Object(_) => "Object",
        JNode::Array(_) => "Array",
        JNode::Prop(..) => "Property",
        JNode::Null => "Null",
        JNode::Bool(_) => "Boolean",
        JNode::Int(_) => "Integer",
        JNode::Float(_) => "Float",
        JNode::Str(_) => "String",
    };
    EvalError::new(format!("Can not convert {from} to {to}."))
}

/// Newtonsoft explicit conversion of a token to `t`.
pub(crate) fn json_to<'a>(n: &'a JNode<'a>, t: Type, arena: &'a Bump) -> EResult<Value<'a>> {
    let n = match n {
        JNode::Prop(_, v) if !matches!(t, Type::JProperty | Type::JToken) => *v,
        n => n,
    };
    Ok(match t {
        Type::JToken | Type::Object => Value::Json(n),
        Type::JObject | Type::JArray | Type::JProperty => {
            let ok = matches!(
                (t, n),
                (Type::JObject, JNode::Object(_))
                    | (Type::JArray, JNode::Array(_))
                    | (Type::JProperty, JNode::Prop(..))
            );
            if !ok {
                return Err(EvalError::new(format!(
                    "Unable to cast object of type '{}' to type '{}'.",
                    n.type_name(),
                    t.name()
                )));
            }
            Value::Json(n)
        }
        Type::Str => match n {
            JNode::Null => Value::Null,
            JNode::Str(s) => Value::Str(s),
            JNode::Object(_) | JNode::Array(_) | JNode::Prop(..) => {
                return Err(conv_err(n, "String"))
            }
            _ => {
                let mut s = BString::new_in(arena);
                n.write_json(&mut s, false, true);
                Value::Str(s.into_bump_str())
            }
        },
        Type::Int | Type::Long | Type::Double | Type::Bool => {
            let name = match t {
                Type::Int => "Int32",
                Type::Long => "Int64",
                Type::Double => "Double",
                _ => "Boolean",
            };
            let v = match n {
                JNode::Int(i) => Value::Long(*i),
                JNode::Float(f) => Value::Double(*f),
                JNode::Bool(b) => Value::Bool(*b),
                JNode::Str(s) => parse_to(if t == Type::Int { Type::Long } else { t }, s)?,
                _ => return Err(conv_err(n, name)),
            };
            let ovf = || {
                EvalError::new(format!(
                    "Value was either too large or too small for an {name}."
                ))
            };
            match (t, v) {
                (Type::Int, Value::Long(i)) => Value::Int(i32::try_from(i).map_err(|_| ovf())?),
                (Type::Int, Value::Double(d)) => {
                    let r = d.round();
                    if !(-2_147_483_648.0..=2_147_483_647.0).contains(&r) {
                        return Err(ovf());
                    }
                    Value::Int(r as i32)
                }
                (Type::Int | Type::Long, Value::Bool(b)) => {
                    if t == Type::Int {
                        Value::Int(i32::from(b))
                    } else {
                        Value::Long(i64::from(b))
                    }
                }
                (Type::Long, Value::Double(d)) => Value::Long(d.round() as i64),
                (Type::Double, Value::Long(i)) => Value::Double(i as f64),
                (Type::Double, Value::Bool(b)) => Value::Double(if b { 1.0 } else { 0.0 }),
                (Type::Bool, Value::Long(i)) => Value::Bool(i != 0),
                (Type::Bool, Value::Double(d)) => Value::Bool(d != 0.0),
                (_, v) => v,
            }
        }
        Type::DateTime | Type::Guid | Type::TimeSpan => match n {
            JNode::Str(s) => parse_to(t, s)?,
            _ => return Err(conv_err(n, &t.name())),
        },
        Type::Seq(_) => match n {
            JNode::Array(_) => {
                let items = n.children(arena)?;
                let mut out = bumpalo::collections::Vec::with_capacity_in(items.len(), arena);
                for it in items {
                    out.push(match it {
                        Value::Json(x) => json_to(x, Type::Str, arena)?,
                        v => *v,
                    });
                }
                Value::List(out.into_bump_slice())
            }
            _ => return Err(conv_err(n, "Array")),
        },
        _ => {
            return Err(EvalError::new(format!(
                "Can not convert a JToken to {}.",
                t.name()
            )))
        }
    })
}

/// `JsonConvert.SerializeObject`.
pub(crate) fn serialize<W: Write>(
    v: Value<'_>,
    indented: bool,
    out: &mut W,
    depth: usize,
) -> EResult<()> {
    if depth > MAX_JSON_DEPTH {
        return Err(EvalError::new("JSON nesting is too deep."));
    }
    match v {
        Value::Null => ign(out.write_str("null")),
        Value::Bool(b) => ign(out.write_str(if b { "true" } else { "false" })),
        Value::Int(i) => ign(write!(out, "{i}")),
        Value::Long(i) => ign(write!(out, "{i}")),
        Value::Double(d) => write_json_float(d, out),
        Value::Str(s) => write_json_string(s, out),
        Value::Json(n) => n.write_json(out, indented, false),
        Value::List(items) => {
            let _ = out.write_char('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    let _ = out.write_char(',');
                }
                serialize(*it, indented, out, depth + 1)?;
            }
            let _ = out.write_char(']');
        }
        Value::DateTime(d) => {
            let _ = out.write_char('"');
            let _ = format_datetime(d, "yyyy-MM-ddTHH:mm:ss.FFFFFFFK", out);
            let _ = out.write_char('"');
        }
        Value::Char(_) | Value::Guid(_) | Value::TimeSpan(_) | Value::Enum(..) => {
            let mut s = String::new();
            display_into(v, &mut s);
            if matches!(v, Value::Enum(..)) {
                // Enums serialize as numbers by default.
                if let Value::Enum(_, n) = v {
                    let _ = write!(out, "{n}");
                }
            } else {
                write_json_string(&s, out);
            }
        }
        Value::Bytes(b) => {
            let mut s = String::new();
            base64_encode(b, false, &mut s);
            write_json_string(&s, out);
        }
        other => {
            return Err(EvalError::new(format!(
                "cannot serialize a value of type {}",
                other.type_name()
            )))
        }
    }
    Ok(())
}

pub(crate) fn call<'a>(f: J, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    let arena = rt.arena;
    Ok(match f {
        J::Parse(t) => {
            let s = req_str(a, 0, "json")?;
            let n = parse(arena, s)?;
            let ok = match t {
                Type::JObject => matches!(n, JNode::Object(_)),
                Type::JArray => matches!(n, JNode::Array(_)),
                _ => true,
            };
            if !ok {
                let (want, got) = if t == Type::JObject {
                    ("JObject", "an object")
                } else {
                    ("JArray", "an array")
                };
                return Err(EvalError::new(format!(
                    "Error reading {want} from JsonReader. Current JsonReader item is not {got}. Path '', line 1, position 1."
                )));
            }
            Value::Json(n)
        }
        J::Index => {
            let n = jnode(a, 0)?;
            match arg(a, 1) {
                Value::Str(k) => n.get_key(k)?.map_or(Value::Null, Value::Json),
                Value::Int(i) => Value::Json(n.get_index(i64::from(i))?),
                Value::Char(c) => Value::Json(n.get_index(c as i64)?),
                _ => return Err(EvalError::new("Value cannot be null. (Parameter 'key')")),
            }
        }
        J::ValueOf(t) => {
            let n = jnode(a, 0)?;
            let tok = match arg(a, 1) {
                Value::Str(k) if a.len() > 1 => n.get_key(k)?,
                Value::Int(i) if a.len() > 1 => Some(n.get_index(i64::from(i))?),
                _ if a.len() > 1 => {
                    return Err(EvalError::new("Value cannot be null. (Parameter 'key')"))
                }
                _ => Some(n),
            };
            match tok {
                None | Some(JNode::Null) => super::super::eval_ops::default_value(t),
                Some(x) => json_to(x, t, arena)?,
            }
        }
        J::ToStr => {
            let n = jnode(a, 0)?;
            let indented = !matches!(arg(a, 1), Value::Enum(EnumKind::Formatting, 0));
            let raw = a.len() == 1;
            let mut s = BString::new_in(arena);
            n.write_json(&mut s, indented, raw);
            Value::Str(s.into_bump_str())
        }
        J::SelectToken | J::SelectTokens => {
            let n = jnode(a, 0)?;
            let path = req_str(a, 1, "path")?;
            let found = super::jsonpath::select(n, path, arena)?;
            if f == J::SelectTokens {
                return Ok(Value::List(
                    arena.alloc_slice_fill_iter(found.iter().map(|n| Value::Json(n))),
                ));
            }
            match found.as_slice() {
                [] if arg(a, 2).truthy() => {
                    return Err(EvalError::new(format!("Path '{path}' does not exist.")))
                }
                [] => Value::Null,
                [one] => Value::Json(one),
                _ => return Err(EvalError::new("Path returned multiple tokens.")),
            }
        }
        J::Property => {
            let n = jnode(a, 0)?;
            let k = req_str(a, 1, "name")?;
            match n {
                JNode::Object(_) => match n.get_key(k)? {
                    Some(v) => Value::Json(arena.alloc(JNode::Prop(k, v))),
                    None => Value::Null,
                },
                _ => {
                    return Err(EvalError::new(
                        "Property(name) is only supported on JObject.",
                    ))
                }
            }
        }
        J::Remove => Value::Bool(jnode(a, 0)?.remove_key(req_str(a, 1, "propertyName")?)?),
        J::ContainsKey => {
            let n = jnode(a, 0)?;
            match n {
                JNode::Object(_) => {
                    Value::Bool(n.get_key(req_str(a, 1, "propertyName")?)?.is_some())
                }
                _ => return Err(EvalError::new("ContainsKey is only supported on JObject.")),
            }
        }
        J::Add => {
            let n = jnode(a, 0)?;
            if a.len() == 3 {
                let k = req_str(a, 1, "propertyName")?;
                let v = clone_if_container(from_value(arg(a, 2), arena, 0)?, arena)?;
                n.add_prop(k, v)?;
            } else {
                let v = clone_if_container(from_value(arg(a, 1), arena, 0)?, arena)?;
                n.push(v)?;
            }
            Value::Null
        }
        J::HasValues => Value::Bool(match jnode(a, 0)? {
            JNode::Object(_) | JNode::Array(_) => jnode(a, 0)?.count()? > 0,
            JNode::Prop(..) => true,
            _ => false,
        }),
        J::Count => Value::Int(jnode(a, 0)?.count()?),
        J::TokenType => Value::Enum(EnumKind::JTokenType, jnode(a, 0)?.token_type()),
        J::Properties => {
            let n = jnode(a, 0)?;
            if !matches!(n, JNode::Object(_)) {
                return Err(EvalError::new("Properties() is only supported on JObject."));
            }
            Value::List(n.children(arena)?)
        }
        J::Children => Value::List(jnode(a, 0)?.children(arena)?),
        J::PropName => match jnode(a, 0)? {
            JNode::Prop(k, _) => Value::Str(k),
            _ => return Err(EvalError::null_ref()),
        },
        J::PropValue => match jnode(a, 0)? {
            JNode::Prop(_, v) => Value::Json(v),
            _ => return Err(EvalError::null_ref()),
        },
        J::NewObject => {
            let obj = JNode::new_object(arena);
            for v in a {
                add_content(obj, *v, arena)?;
            }
            Value::Json(obj)
        }
        J::NewArray => {
            let arr = JNode::new_array(arena);
            for v in a {
                match v {
                    Value::List(items) => {
                        for it in items.iter() {
                            arr.push(clone_if_container(from_value(*it, arena, 0)?, arena)?)?;
                        }
                    }
                    v => arr.push(clone_if_container(from_value(*v, arena, 0)?, arena)?)?,
                }
            }
            Value::Json(arr)
        }
        J::NewProperty => {
            let k = req_str(a, 0, "name")?;
            let v = clone_if_container(from_value(arg(a, 1), arena, 0)?, arena)?;
            Value::Json(arena.alloc(JNode::Prop(k, v)))
        }
        J::NewValue => Value::Json(from_value(arg(a, 0), arena, 0)?),
        J::FromObject => {
            let v = arg(a, 0);
            if v.is_null() {
                return Err(EvalError::new("Value cannot be null. (Parameter 'o')"));
            }
            Value::Json(from_value(v, arena, 0)?.deep_clone(arena, 0)?)
        }
        J::Serialize => {
            let indented = matches!(arg(a, 1), Value::Enum(EnumKind::Formatting, 1));
            let mut s = BString::new_in(arena);
            serialize(arg(a, 0), indented, &mut s, 0)?;
            Value::Str(s.into_bump_str())
        }
        J::Deserialize => {
            let s = req_str(a, 0, "value")?;
            Value::Json(parse(arena, s)?)
        }
        J::DeepClone => Value::Json(jnode(a, 0)?.deep_clone(arena, 0)?),
        J::ToObject(t) => json_to(jnode(a, 0)?, t, arena)?,
    })
}

fn clone_if_container<'a>(n: &'a JNode<'a>, arena: &'a Bump) -> EResult<&'a JNode<'a>> {
    match n {
        JNode::Object(_) | JNode::Array(_) | JNode::Prop(..) => n.deep_clone(arena, 0),
        n => Ok(n),
    }
}

/// `new JObject(content...)`: properties, other objects (copied) or lists of them.
fn add_content<'a>(obj: &'a JNode<'a>, v: Value<'a>, arena: &'a Bump) -> EResult<()> {
    match v {
        Value::Null => Ok(()),
        Value::Json(JNode::Prop(k, val)) => obj.add_prop(k, clone_if_container(val, arena)?),
        Value::Json(JNode::Object(props)) => {
            let props = props
                .try_borrow()
                .map_err(|_| EvalError::new("collection is being modified"))?;
            for (k, val) in props.iter() {
                obj.add_prop(k, clone_if_container(val, arena)?)?;
            }
            Ok(())
        }
        Value::List(items) => {
            for it in items {
                add_content(obj, *it, arena)?;
            }
            Ok(())
        }
        other => Err(EvalError::new(format!(
            "Can not add {} to Newtonsoft.Json.Linq.JObject.",
            match other {
                Value::Json(n) => n.type_name(),
                _ => "Newtonsoft.Json.Linq.JValue",
            }
        ))),
    }
}
