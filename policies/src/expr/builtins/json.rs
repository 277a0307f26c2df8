//! Newtonsoft-compatible JSON tokens in the request arena: parsing (`JObject.Parse`,
//! `Body.As<JObject>()`), serialization (`ToString()` indented, `Formatting.None` compact)
//! and mutation (`obj["k"] = v`, `Add`, `Remove`) through `RefCell`s in the arena.

use super::ign;
use std::cell::RefCell;
use std::fmt::Write;

use bumpalo::collections::Vec as BVec;
use bumpalo::Bump;

use super::super::error::{EResult, EvalError};
use super::super::value::Value;
use super::format::write_double;

/// Max nesting, as Newtonsoft's default `MaxDepth`.
pub const MAX_JSON_DEPTH: usize = 64;

/// A `JToken`.
#[derive(Debug)]
pub enum JNode<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Array(RefCell<BVec<'a, &'a JNode<'a>>>),
    Object(RefCell<BVec<'a, (&'a str, &'a JNode<'a>)>>),
    Prop(&'a str, &'a JNode<'a>),
}

fn borrow_err() -> EvalError {
    EvalError::new("Collection was modified; enumeration operation may not execute.")
}

impl<'a> JNode<'a> {
    pub fn new_object(arena: &'a Bump) -> &'a JNode<'a> {
        arena.alloc(JNode::Object(RefCell::new(BVec::new_in(arena))))
    }

    pub fn new_array(arena: &'a Bump) -> &'a JNode<'a> {
        arena.alloc(JNode::Array(RefCell::new(BVec::new_in(arena))))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            JNode::Object(_) => "Newtonsoft.Json.Linq.JObject",
            JNode::Array(_) => "Newtonsoft.Json.Linq.JArray",
            JNode::Prop(..) => "Newtonsoft.Json.Linq.JProperty",
            _ => "Newtonsoft.Json.Linq.JValue",
        }
    }

    /// `JTokenType` numeric value.
    pub fn token_type(&self) -> i32 {
        match self {
            JNode::Object(_) => 1,
            JNode::Array(_) => 2,
            JNode::Prop(..) => 4,
            JNode::Int(_) => 6,
            JNode::Float(_) => 7,
            JNode::Str(_) => 8,
            JNode::Bool(_) => 9,
            JNode::Null => 10,
        }
    }

    pub fn value_equals(&self, other: &JNode<'_>) -> bool {
        match (self, other) {
            (JNode::Null, JNode::Null) => true,
            (JNode::Bool(a), JNode::Bool(b)) => a == b,
            (JNode::Int(a), JNode::Int(b)) => a == b,
            (JNode::Float(a), JNode::Float(b)) => a == b,
            (JNode::Int(a), JNode::Float(b)) | (JNode::Float(b), JNode::Int(a)) => {
                (*a as f64) == *b
            }
            (JNode::Str(a), JNode::Str(b)) => a == b,
            _ => false,
        }
    }

    /// `obj["key"]` (null when missing); errors like Newtonsoft on non-objects.
    pub fn get_key(&self, key: &str) -> EResult<Option<&'a JNode<'a>>> {
        match self {
            JNode::Object(props) => {
                let props = props.try_borrow().map_err(|_| borrow_err())?;
                Ok(props.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
            }
            JNode::Prop(_, v) => v.get_key(key),
            JNode::Array(_) => Err(EvalError::new(format!(
                "Accessed JArray values with invalid key value: \"{key}\". Int32 array index expected."
            ))),
            _ => Err(EvalError::new("Cannot access child value on Newtonsoft.Json.Linq.JValue.")),
        }
    }

    /// `arr[i]`.
    pub fn get_index(&self, i: i64) -> EResult<&'a JNode<'a>> {
        match self {
            JNode::Array(items) => {
                let items = items.try_borrow().map_err(|_| borrow_err())?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i).copied())
                    .ok_or_else(EvalError::index_range)
            }
            JNode::Prop(_, v) => v.get_index(i),
            JNode::Object(_) => Err(EvalError::new(format!(
                "Accessed JObject values with invalid key value: {i}. Object property name expected."
            ))),
            _ => Err(EvalError::new("Cannot access child value on Newtonsoft.Json.Linq.JValue.")),
        }
    }

    /// `obj["key"] = value` (replaces or appends).
    pub fn set_key(&self, key: &'a str, value: &'a JNode<'a>) -> EResult<()> {
        match self {
            JNode::Object(props) => {
                let mut props = props.try_borrow_mut().map_err(|_| borrow_err())?;
                match props.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => props.push((key, value)),
                }
                Ok(())
            }
            _ => Err(EvalError::new(format!(
                "Cannot set child value on {}.",
                self.type_name()
            ))),
        }
    }

    pub fn set_index(&self, i: i64, value: &'a JNode<'a>) -> EResult<()> {
        match self {
            JNode::Array(items) => {
                let mut items = items.try_borrow_mut().map_err(|_| borrow_err())?;
                let slot = usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(EvalError::index_range)?;
                *slot = value;
                Ok(())
            }
            _ => Err(EvalError::new(format!(
                "Cannot set child value on {}.",
                self.type_name()
            ))),
        }
    }

    /// `JObject.Add(name, value)`: fails when the property exists.
    pub fn add_prop(&self, key: &'a str, value: &'a JNode<'a>) -> EResult<()> {
        if self.get_key(key)?.is_some() {
            return Err(EvalError::new(format!("Can not add property {key} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.")));
        }
        self.set_key(key, value)
    }

    pub fn push(&self, value: &'a JNode<'a>) -> EResult<()> {
        match self {
            JNode::Array(items) => {
                items
                    .try_borrow_mut()
                    .map_err(|_| borrow_err())?
                    .push(value);
                Ok(())
            }
            JNode::Object(_) => match value {
                JNode::Prop(k, v) => self.add_prop(k, v),
                _ => Err(EvalError::new(format!(
                    "Can not add {} to Newtonsoft.Json.Linq.JObject.",
                    value.type_name()
                ))),
            },
            _ => Err(EvalError::new(format!(
                "Can not add {} to {}.",
                value.type_name(),
                self.type_name()
            ))),
        }
    }

    /// `JObject.Remove(name)`.
    pub fn remove_key(&self, key: &str) -> EResult<bool> {
        match self {
            JNode::Object(props) => {
                let mut props = props.try_borrow_mut().map_err(|_| borrow_err())?;
                match props.iter().position(|(k, _)| *k == key) {
                    Some(i) => {
                        props.remove(i);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            _ => Err(EvalError::new("Remove(name) is only supported on JObject.")),
        }
    }

    /// Children count (`Count`): properties of an object, items of an array.
    pub fn count(&self) -> EResult<i32> {
        match self {
            JNode::Object(p) => Ok(p.try_borrow().map_err(|_| borrow_err())?.len() as i32),
            JNode::Array(a) => Ok(a.try_borrow().map_err(|_| borrow_err())?.len() as i32),
            JNode::Prop(..) => Ok(1),
            _ => Err(EvalError::new(
                "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
            )),
        }
    }

    /// The children as values: array items, object properties (as `JProperty`).
    pub fn children(&'a self, arena: &'a Bump) -> EResult<&'a [Value<'a>]> {
        match self {
            JNode::Array(items) => {
                let items = items.try_borrow().map_err(|_| borrow_err())?;
                Ok(arena.alloc_slice_fill_iter(items.iter().map(|n| Value::Json(n))))
            }
            JNode::Object(props) => {
                let props = props.try_borrow().map_err(|_| borrow_err())?;
                Ok(arena.alloc_slice_fill_iter(
                    props
                        .iter()
                        .map(|(k, v)| Value::Json(arena.alloc(JNode::Prop(k, v)))),
                ))
            }
            JNode::Prop(_, v) => Ok(arena.alloc_slice_copy(&[Value::Json(v)])),
            _ => Err(EvalError::new(
                "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
            )),
        }
    }

    /// Deep copy (Newtonsoft clones a token that is added to a second parent).
    pub fn deep_clone(&'a self, arena: &'a Bump, depth: usize) -> EResult<&'a JNode<'a>> {
        if depth > MAX_JSON_DEPTH * 2 {
            return Err(EvalError::new("JSON nesting is too deep."));
        }
        Ok(match self {
            JNode::Array(items) => {
                let items = items.try_borrow().map_err(|_| borrow_err())?;
                let mut v = BVec::with_capacity_in(items.len(), arena);
                for it in items.iter() {
                    v.push(it.deep_clone(arena, depth + 1)?);
                }
                arena.alloc(JNode::Array(RefCell::new(v)))
            }
            JNode::Object(props) => {
                let props = props.try_borrow().map_err(|_| borrow_err())?;
                let mut v = BVec::with_capacity_in(props.len(), arena);
                for (k, it) in props.iter() {
                    v.push((*k, it.deep_clone(arena, depth + 1)?));
                }
                arena.alloc(JNode::Object(RefCell::new(v)))
            }
            JNode::Prop(k, v) => arena.alloc(JNode::Prop(k, v.deep_clone(arena, depth + 1)?)),
            _ => self,
        })
    }

    /// Newtonsoft `ToString()`: containers as JSON (indented or compact), scalar values
    /// as their .NET `ToString()` when `raw_scalars`.
    pub fn write_json<W: Write>(&self, out: &mut W, indented: bool, raw_scalars: bool) {
        if raw_scalars {
            match self {
                JNode::Null => return,
                JNode::Bool(b) => return ign(out.write_str(if *b { "True" } else { "False" })),
                JNode::Str(s) => return ign(out.write_str(s)),
                JNode::Float(f) => return write_double(*f, out),
                _ => {}
            }
        }
        self.write_rec(out, indented, 0);
    }

    fn write_rec<W: Write>(&self, out: &mut W, indented: bool, level: usize) {
        let nl = |out: &mut W, lvl: usize| {
            if indented {
                let _ = out.write_char('\n');
                for _ in 0..lvl {
                    let _ = out.write_str("  ");
                }
            }
        };
        if level > MAX_JSON_DEPTH * 2 {
            let _ = out.write_str("null");
            return;
        }
        match self {
            JNode::Null => ign(out.write_str("null")),
            JNode::Bool(b) => ign(out.write_str(if *b { "true" } else { "false" })),
            JNode::Int(i) => ign(write!(out, "{i}")),
            JNode::Float(f) => write_json_float(*f, out),
            JNode::Str(s) => write_json_string(s, out),
            JNode::Prop(k, v) => {
                write_json_string(k, out);
                let _ = out.write_str(if indented { ": " } else { ":" });
                v.write_rec(out, indented, level);
            }
            JNode::Array(items) => {
                let Ok(items) = items.try_borrow() else {
                    return;
                };
                if items.is_empty() {
                    let _ = out.write_str("[]");
                    return;
                }
                let _ = out.write_char('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        let _ = out.write_char(',');
                    }
                    nl(out, level + 1);
                    it.write_rec(out, indented, level + 1);
                }
                nl(out, level);
                let _ = out.write_char(']');
            }
            JNode::Object(props) => {
                let Ok(props) = props.try_borrow() else {
                    return;
                };
                if props.is_empty() {
                    let _ = out.write_str("{}");
                    return;
                }
                let _ = out.write_char('{');
                for (i, (k, v)) in props.iter().enumerate() {
                    if i > 0 {
                        let _ = out.write_char(',');
                    }
                    nl(out, level + 1);
                    write_json_string(k, out);
                    let _ = out.write_str(if indented { ": " } else { ":" });
                    v.write_rec(out, indented, level + 1);
                }
                nl(out, level);
                let _ = out.write_char('}');
            }
        }
    }
}

pub fn write_json_float<W: Write>(f: f64, out: &mut W) {
    if !f.is_finite() {
        let _ = out.write_str(if f.is_nan() {
            "\"NaN\""
        } else if f > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
        return;
    }
    let mut s = String::new();
    write_double(f, &mut s);
    let _ = out.write_str(&s);
    if !s.contains(['.', 'E']) {
        let _ = out.write_str(".0");
    }
}

/// JSON string literal with Newtonsoft's default escaping.
pub fn write_json_string<W: Write>(s: &str, out: &mut W) {
    let _ = out.write_char('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            c if (c as u32) < 0x20 || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' => {
                Some("")
            }
            _ => None,
        };
        if let Some(e) = esc {
            let _ = out.write_str(&s[start..i]);
            if e.is_empty() {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                let _ = out.write_str(e);
            }
            start = i + c.len_utf8();
        }
    }
    let _ = out.write_str(&s[start..]);
    let _ = out.write_char('"');
}

/// Parses JSON text (Newtonsoft-lenient: single quotes and bare property names allowed).
pub fn parse<'a>(arena: &'a Bump, s: &'a str) -> EResult<&'a JNode<'a>> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        i: 0,
        arena,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("Additional text encountered after finished reading JSON content"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    arena: &'a Bump,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &str) -> EvalError {
        let c = self.s.get(self.i..).and_then(|r| r.chars().next());
        match c {
            Some(c) => EvalError::new(format!(
                "{what}: {c}. Path '', line 1, position {}.",
                self.i
            )),
            None => EvalError::new(format!(
                "{what}. Unexpected end of content. Path '', line 1, position {}.",
                self.i
            )),
        }
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> EResult<&'a JNode<'a>> {
        if depth > MAX_JSON_DEPTH {
            return Err(EvalError::new(format!(
                "The reader's MaxDepth of {MAX_JSON_DEPTH} has been exceeded."
            )));
        }
        let Some(&c) = self.b.get(self.i) else {
            return Err(self.err("Unexpected end when reading JSON"));
        };
        match c {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' | b'\'' => {
                let s = self.string()?;
                Ok(self.arena.alloc(JNode::Str(s)))
            }
            b't' if self.b[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(self.arena.alloc(JNode::Bool(true)))
            }
            b'f' if self.b[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(self.arena.alloc(JNode::Bool(false)))
            }
            b'n' if self.b[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(self.arena.alloc(JNode::Null))
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.err("Unexpected character encountered while parsing value")),
        }
    }

    fn number(&mut self) -> EResult<&'a JNode<'a>> {
        let start = self.i;
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        let mut float = false;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'0'..=b'9' => {}
                b'.' | b'e' | b'E' => float = true,
                b'+' | b'-' if matches!(self.b[self.i - 1], b'e' | b'E') => {}
                _ => break,
            }
            self.i += 1;
        }
        let text = &self.s[start..self.i];
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(self.arena.alloc(JNode::Int(i)));
            }
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(self.arena.alloc(JNode::Float(f))),
            Err(_) => {
                self.i = start;
                Err(self.err("Input string was not in a correct format"))
            }
        }
    }

    fn string(&mut self) -> EResult<&'a str> {
        let q = self.b[self.i];
        self.i += 1;
        let start = self.i;
        // Fast path: no escapes → borrow the input.
        while self.i < self.b.len() && self.b[self.i] != q && self.b[self.i] != b'\\' {
            self.i += 1;
        }
        if self.i < self.b.len() && self.b[self.i] == q {
            self.i += 1;
            return Ok(&self.s[start..self.i - 1]);
        }
        let mut out = bumpalo::collections::String::from_str_in(&self.s[start..self.i], self.arena);
        loop {
            let Some(c) = self.s[self.i..].chars().next() else {
                return Err(self.err("Unterminated string. Expected delimiter"));
            };
            self.i += c.len_utf8();
            if c as u32 == u32::from(q) {
                return Ok(out.into_bump_str());
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(&e) = self.b.get(self.i) else {
                return Err(self.err("Unterminated string. Expected delimiter"));
            };
            self.i += 1;
            match e {
                b'"' | b'\'' | b'\\' | b'/' => out.push(e as char),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let mut cp = self.hex4()?;
                    if (0xD800..0xDC00).contains(&cp) && self.b[self.i..].starts_with(b"\\u") {
                        self.i += 2;
                        let lo = self.hex4()?;
                        if (0xDC00..0xE000).contains(&lo) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                    }
                    out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                }
                _ => {
                    self.i -= 1;
                    return Err(self.err("Bad JSON escape sequence"));
                }
            }
        }
    }

    fn hex4(&mut self) -> EResult<u32> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("Bad JSON escape sequence"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("Bad JSON escape sequence"))?;
        self.i += 4;
        Ok(v)
    }

    fn key(&mut self) -> EResult<&'a str> {
        match self.b.get(self.i) {
            Some(b'"' | b'\'') => self.string(),
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'$' => {
                let start = self.i;
                while self.i < self.b.len()
                    && (self.b[self.i].is_ascii_alphanumeric()
                        || matches!(self.b[self.i], b'_' | b'$'))
                {
                    self.i += 1;
                }
                Ok(&self.s[start..self.i])
            }
            _ => Err(self.err("Invalid property identifier character")),
        }
    }

    fn object(&mut self, depth: usize) -> EResult<&'a JNode<'a>> {
        self.i += 1;
        let node = JNode::new_object(self.arena);
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(node);
        }
        loop {
            self.ws();
            let k = self.key()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err("Invalid character after parsing property name. Expected ':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            node.set_key(k, v)?;
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(node);
                }
                _ => {
                    return Err(
                        self.err("After parsing a value an unexpected character was encountered")
                    )
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> EResult<&'a JNode<'a>> {
        self.i += 1;
        let node = JNode::new_array(self.arena);
        loop {
            self.ws();
            if self.b.get(self.i) == Some(&b']') {
                self.i += 1;
                return Ok(node);
            }
            let v = self.value(depth + 1)?;
            node.push(v)?;
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(node);
                }
                _ => {
                    return Err(
                        self.err("After parsing a value an unexpected character was encountered")
                    )
                }
            }
        }
    }
}
