//! Renders a [`Template`] against the request, into the request arena. Bounded: at most
//! [`MAX_ITERATIONS`] loop iterations and [`MAX_OUTPUT`] bytes of output (or of any
//! string a filter builds); exceeding either, or dividing by zero, fails the policy.

use std::cmp::Ordering;
use std::fmt::Write as _;

use bumpalo::collections::{String as BString, Vec as BVec};
use bumpalo::Bump;

use super::{Cmp, Cond, FilterKind, FilteredExpr, ForLoop, Lit, Node, Path, Seg, Template, Term};
use crate::expr::builtins::format::write_double;
use crate::expr::builtins::json::{self, JNode};
use crate::expr::builtins::time::{
    self, DateKind, DateTime, TICKS_PER_HOUR, TICKS_PER_MIN, TICKS_PER_MS, TICKS_PER_SEC,
};
use crate::expr::{ExprContext, Msg, UrlKind};

mod filters;

use filters::url_decode;

/// Loop iterations per render, all loops together.
pub const MAX_ITERATIONS: u32 = 10_000;
/// Bytes of rendered output (and of any one string value).
pub const MAX_OUTPUT: usize = 4 << 20;

#[derive(Clone, Copy, Debug)]
enum V<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    /// A JSON object or array (scalars are converted to the variants above).
    Json(&'a JNode<'a>),
    List(&'a [V<'a>]),
    Obj(Obj),
    Empty,
    Blank,
}

#[derive(Clone, Copy, Debug)]
enum Obj {
    Context,
    Request,
    Response,
    Headers(Msg),
    Matched,
    Url(UrlKind),
    Query(UrlKind),
    Forloop { index: usize, len: usize },
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct R<'h, 'a, H> {
    host: &'h H,
    arena: &'a Bump,
    /// The message `body` is: the request (inbound, backend) or the response.
    msg: Msg,
    vars: Vec<(&'a str, V<'a>)>,
    locals: Vec<(&'a str, V<'a>)>,
    loops: Vec<(usize, usize)>,
    body: Option<V<'a>>,
    iterations: u32,
}

type Res<T> = Result<T, String>;

/// Renders `t`; `msg` is the message whose body `body` names. The error is the
/// failure message (`liquid: …`).
pub fn render<'a, H: ExprContext<'a>>(
    t: &'a Template,
    host: &H,
    msg: Msg,
) -> Result<&'a str, String> {
    let arena = host.arena();
    let mut r = R {
        host,
        arena,
        msg,
        vars: Vec::new(),
        locals: Vec::new(),
        loops: Vec::new(),
        body: None,
        iterations: 0,
    };
    let mut out = BString::new_in(arena);
    r.nodes(&t.nodes, &mut out)?;
    Ok(out.into_bump_str())
}

fn too_long() -> String {
    format!("liquid: the rendered text exceeds {MAX_OUTPUT} bytes")
}

fn from_json<'a>(n: &'a JNode<'a>) -> V<'a> {
    match n {
        JNode::Null => V::Nil,
        JNode::Bool(b) => V::Bool(*b),
        JNode::Int(i) => V::Int(*i),
        JNode::Float(f) => V::Float(*f),
        JNode::Str(s) => V::Str(s),
        JNode::Prop(_, v) => from_json(v),
        JNode::Array(_) | JNode::Object(_) => V::Json(n),
    }
}

fn truthy(v: V<'_>) -> bool {
    !matches!(v, V::Nil | V::Bool(false))
}

fn num<'x>(v: V<'_>) -> Option<V<'x>> {
    match v {
        V::Int(i) => Some(V::Int(i)),
        V::Float(f) => Some(V::Float(f)),
        V::Nil => Some(V::Int(0)),
        V::Str(s) => {
            let s = s.trim();
            s.parse::<i64>().map(V::Int).ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(V::Float)
            })
        }
        _ => None,
    }
}

fn as_f64(v: V<'_>) -> Option<f64> {
    match v {
        V::Int(i) => Some(i as f64),
        V::Float(f) => Some(f),
        _ => None,
    }
}

impl<'h, 'a, H: ExprContext<'a>> R<'h, 'a, H> {
    fn nodes(&mut self, nodes: &'a [Node], out: &mut BString<'a>) -> Res<Flow> {
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Output(e) => {
                    let v = self.expr(e)?;
                    self.write(v, out);
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut body = &otherwise[..];
                    for (c, b) in branches {
                        if self.cond(c)? {
                            body = b;
                            break;
                        }
                    }
                    match self.nodes(body, out)? {
                        Flow::Normal => {}
                        f => return Ok(f),
                    }
                }
                Node::Case {
                    subject,
                    whens,
                    otherwise,
                } => {
                    let s = self.term(subject)?;
                    let mut body = &otherwise[..];
                    'w: for (values, b) in whens {
                        for v in values {
                            let v = self.term(v)?;
                            if self.eq(s, v) {
                                body = b;
                                break 'w;
                            }
                        }
                    }
                    match self.nodes(body, out)? {
                        Flow::Normal => {}
                        f => return Ok(f),
                    }
                }
                Node::For(f) => self.for_loop(f, out)?,
                Node::Assign(name, e) => {
                    let v = self.expr(e)?;
                    match self.vars.iter_mut().find(|(n, _)| *n == &**name) {
                        Some(slot) => slot.1 = v,
                        None => self.vars.push((name, v)),
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
            if out.len() > MAX_OUTPUT {
                return Err(too_long());
            }
        }
        Ok(Flow::Normal)
    }

    fn for_loop(&mut self, f: &'a ForLoop, out: &mut BString<'a>) -> Res<()> {
        let src = self.term(&f.source)?;
        let items = self.list_of(src)?;
        let int_of = |r: &mut Self, t: &Option<Term>| -> Res<Option<usize>> {
            let Some(t) = t else { return Ok(None) };
            let v = r.term(t)?;
            Ok(match num(v) {
                Some(V::Int(i)) => Some(i.max(0) as usize),
                Some(V::Float(f)) => Some(f.max(0.0) as usize),
                _ => Some(0),
            })
        };
        let offset = int_of(self, &f.offset)?.unwrap_or(0).min(items.len());
        let mut slice = &items[offset..];
        if let Some(limit) = int_of(self, &f.limit)? {
            slice = &slice[..limit.min(slice.len())];
        }
        if slice.is_empty() {
            self.nodes(&f.otherwise, out)?;
            return Ok(());
        }
        let len = slice.len();
        for k in 0..len {
            self.iterations += 1;
            if self.iterations > MAX_ITERATIONS {
                return Err(format!(
                    "liquid: more than {MAX_ITERATIONS} loop iterations"
                ));
            }
            let item = if f.reversed {
                slice[len - 1 - k]
            } else {
                slice[k]
            };
            self.locals.push((&f.var, item));
            self.loops.push((k, len));
            let flow = self.nodes(&f.body, out);
            self.loops.pop();
            self.locals.pop();
            if let Flow::Break = flow? {
                break;
            }
        }
        Ok(())
    }

    /// A value as a list to iterate (`nil` and scalars: none).
    fn list_of(&mut self, v: V<'a>) -> Res<&'a [V<'a>]> {
        Ok(match v {
            V::List(l) => l,
            V::Json(JNode::Array(items)) => {
                let items = items
                    .try_borrow()
                    .map_err(|_| "liquid: the body changed".to_string())?;
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                out.extend(items.iter().map(|n| from_json(n)));
                out.into_bump_slice()
            }
            V::Json(JNode::Object(props)) => {
                // Liquid iterates an object as [key, value] pairs.
                let props = props
                    .try_borrow()
                    .map_err(|_| "liquid: the body changed".to_string())?;
                let mut out = BVec::with_capacity_in(props.len(), self.arena);
                for (k, n) in props.iter() {
                    let pair: &'a [V<'a>] = self.arena.alloc_slice_copy(&[V::Str(k), from_json(n)]);
                    out.push(V::List(pair));
                }
                out.into_bump_slice()
            }
            _ => &[],
        })
    }

    fn range(&mut self, from: &Term, to: &Term) -> Res<V<'a>> {
        let a = self.term(from)?;
        let b = self.term(to)?;
        let (Some(V::Int(a)), Some(V::Int(b))) = (num(a), num(b)) else {
            return Ok(V::List(&[]));
        };
        if b < a {
            return Ok(V::List(&[]));
        }
        if b - a >= i64::from(MAX_ITERATIONS) {
            return Err(format!(
                "liquid: a range of more than {MAX_ITERATIONS} numbers"
            ));
        }
        let mut out = BVec::new_in(self.arena);
        out.extend((a..=b).map(V::Int));
        Ok(V::List(out.into_bump_slice()))
    }

    fn cond(&mut self, c: &Cond) -> Res<bool> {
        Ok(match c {
            Cond::Truthy(t) => truthy(self.term(t)?),
            Cond::Not(c) => !self.cond(c)?,
            Cond::And(a, b) => self.cond(a)? && self.cond(b)?,
            Cond::Or(a, b) => self.cond(a)? || self.cond(b)?,
            Cond::Cmp(a, op, b) => {
                let a = self.term(a)?;
                let b = self.term(b)?;
                match op {
                    Cmp::Eq => self.eq(a, b),
                    Cmp::Ne => !self.eq(a, b),
                    Cmp::Contains => self.contains(a, b),
                    _ => match self.order(a, b) {
                        Some(o) => match op {
                            Cmp::Lt => o == Ordering::Less,
                            Cmp::Gt => o == Ordering::Greater,
                            Cmp::Le => o != Ordering::Greater,
                            _ => o != Ordering::Less,
                        },
                        None => false,
                    },
                }
            }
        })
    }

    /// `Url` objects compare as their text.
    fn scalar(&mut self, v: V<'a>) -> V<'a> {
        match v {
            V::Obj(Obj::Url(_)) => V::Str(self.text(v)),
            v => v,
        }
    }

    fn is_empty(&self, v: V<'a>) -> bool {
        match v {
            V::Str(s) => s.is_empty(),
            V::List(l) => l.is_empty(),
            V::Json(n) => n.count().is_ok_and(|c| c == 0),
            V::Empty => true,
            _ => false,
        }
    }

    fn eq(&mut self, a: V<'a>, b: V<'a>) -> bool {
        let a = self.scalar(a);
        let b = self.scalar(b);
        match (a, b) {
            (V::Empty, x) | (x, V::Empty) => self.is_empty(x),
            (V::Blank, x) | (x, V::Blank) => match x {
                V::Nil | V::Bool(false) | V::Blank => true,
                V::Str(s) => s.trim().is_empty(),
                x => self.is_empty(x),
            },
            (V::Nil, V::Nil) => true,
            (V::Bool(x), V::Bool(y)) => x == y,
            (V::Str(x), V::Str(y)) => x == y,
            (V::Json(x), V::Json(y)) => std::ptr::eq(x, y),
            (V::List(x), V::List(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| self.eq(*p, *q))
            }
            (x, y) => match (as_f64(x), as_f64(y)) {
                (Some(p), Some(q)) => p == q,
                _ => false,
            },
        }
    }

    fn order(&mut self, a: V<'a>, b: V<'a>) -> Option<Ordering> {
        match (self.scalar(a), self.scalar(b)) {
            (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
            (x, y) => as_f64(x)?.partial_cmp(&as_f64(y)?),
        }
    }

    fn contains(&mut self, a: V<'a>, b: V<'a>) -> bool {
        match self.scalar(a) {
            V::Str(s) => {
                let needle = self.text(b);
                s.contains(needle)
            }
            V::Json(JNode::Object(_)) => {
                let key = self.text(b);
                matches!(a, V::Json(n) if n.get_key(key).ok().flatten().is_some())
            }
            v @ (V::List(_) | V::Json(_)) => match self.list_of(v) {
                Ok(items) => items.iter().any(|x| self.eq(*x, b)),
                Err(_) => false,
            },
            _ => false,
        }
    }

    fn term(&mut self, t: &Term) -> Res<V<'a>> {
        Ok(match t {
            Term::Lit(l) => match l {
                Lit::Nil => V::Nil,
                Lit::Bool(b) => V::Bool(*b),
                Lit::Int(i) => V::Int(*i),
                Lit::Float(f) => V::Float(*f),
                Lit::Str(s) => V::Str(self.arena.alloc_str(s)),
                Lit::Empty => V::Empty,
                Lit::Blank => V::Blank,
            },
            Term::Range(r) => self.range(&r.0, &r.1)?,
            Term::Path(p) => self.path(p)?,
        })
    }

    fn path(&mut self, p: &Path) -> Res<V<'a>> {
        let mut v = self.root(&p.root)?;
        for seg in &p.segs {
            v = match seg {
                Seg::Key(k) => self.member(v, k),
                Seg::Index(i) => self.index(v, *i),
                Seg::Dyn(t) => {
                    let k = self.term(t)?;
                    match k {
                        V::Int(i) => self.index(v, i),
                        k => {
                            let k = self.text(k);
                            self.member(v, k)
                        }
                    }
                }
            };
            if matches!(v, V::Nil) {
                break;
            }
        }
        Ok(v)
    }

    fn root(&mut self, name: &str) -> Res<V<'a>> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return Ok(*v);
        }
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| *n == name) {
            return Ok(*v);
        }
        Ok(match name {
            "forloop" => match self.loops.last() {
                Some(&(index, len)) => V::Obj(Obj::Forloop { index, len }),
                None => V::Nil,
            },
            "context" => V::Obj(Obj::Context),
            "body" => self.body(),
            _ => V::Nil,
        })
    }

    /// The message body, parsed once: JSON, or XML through xml-to-json; anything else
    /// (or a body that does not parse) is `nil`.
    fn body(&mut self) -> V<'a> {
        if let Some(b) = self.body {
            return b;
        }
        let v = self.parse_body().unwrap_or(V::Nil);
        self.body = Some(v);
        v
    }

    fn parse_body(&mut self) -> Option<V<'a>> {
        let bytes = self.host.body(self.msg, true).ok()?;
        let ct = self
            .host
            .header_values(self.msg, "Content-Type")
            .and_then(|v| v.first().copied())
            .unwrap_or("")
            .to_ascii_lowercase();
        let text = if ct.contains("xml") {
            crate::transform::xml_to_json::convert(
                self.arena,
                bytes,
                &crate::transform::xml_to_json::Options {
                    direct: false,
                    always_array: false,
                },
            )
            .ok()?
        } else {
            let t = std::str::from_utf8(bytes).ok()?;
            t.strip_prefix('\u{feff}').unwrap_or(t)
        };
        if text.trim().is_empty() {
            return None;
        }
        json::parse(self.arena, text).ok().map(from_json)
    }

    fn member(&mut self, v: V<'a>, key: &str) -> V<'a> {
        let is = |k: &str| key.eq_ignore_ascii_case(k);
        match v {
            V::Json(n @ JNode::Object(props)) => {
                if let Ok(Some(x)) = n.get_key(key) {
                    return from_json(x);
                }
                if let Ok(props) = props.try_borrow() {
                    if let Some((_, x)) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                        return from_json(x);
                    }
                }
                if is("size") {
                    return V::Int(n.count().unwrap_or(0).into());
                }
                V::Nil
            }
            V::Json(_) | V::List(_) => {
                if is("size") || is("count") {
                    return V::Int(self.list_of(v).map_or(0, |l| l.len() as i64));
                }
                if is("first") {
                    return self.index(v, 0);
                }
                if is("last") {
                    return self.index(v, -1);
                }
                V::Nil
            }
            V::Str(s) if is("size") || is("length") => V::Int(s.chars().count() as i64),
            V::Obj(o) => self.obj_member(o, key),
            _ => V::Nil,
        }
    }

    fn obj_member(&mut self, o: Obj, key: &str) -> V<'a> {
        let h = self.host;
        let is = |k: &str| key.eq_ignore_ascii_case(k);
        match o {
            Obj::Context if is("Request") => V::Obj(Obj::Request),
            Obj::Context if is("Response") => V::Obj(Obj::Response),
            Obj::Request if is("Url") => V::Obj(Obj::Url(UrlKind::Request)),
            Obj::Request if is("OriginalUrl") => V::Obj(Obj::Url(UrlKind::Original)),
            Obj::Request | Obj::Response if is("Method") || is("OriginalMethod") => {
                V::Str(h.method())
            }
            Obj::Request if is("IpAddress") => V::Str(h.ip_address()),
            Obj::Request if is("MatchedParameters") => V::Obj(Obj::Matched),
            Obj::Request if is("HasBody") => V::Bool(h.has_body(Msg::Request)),
            Obj::Request if is("Headers") => V::Obj(Obj::Headers(Msg::Request)),
            Obj::Response if is("Headers") => V::Obj(Obj::Headers(Msg::Response)),
            Obj::Response if is("StatusCode") => match h.status(Msg::Response) {
                (0, _) => V::Nil,
                (c, _) => V::Int(c.into()),
            },
            Obj::Response if is("StatusReason") => V::Str(h.status(Msg::Response).1),
            Obj::Headers(m) => match h.header_values(m, key) {
                Some([one]) => V::Str(one),
                Some(vals) if !vals.is_empty() => {
                    let mut s = BString::new_in(self.arena);
                    for (i, v) in vals.iter().enumerate() {
                        if i > 0 {
                            s.push(',');
                        }
                        s.push_str(v);
                    }
                    V::Str(s.into_bump_str())
                }
                _ => V::Nil,
            },
            Obj::Matched => h.matched_parameter(key).map_or(V::Nil, V::Str),
            Obj::Url(k) => {
                let Some(u) = h.url(k) else { return V::Nil };
                if is("Scheme") {
                    V::Str(u.scheme)
                } else if is("Host") {
                    V::Str(u.host)
                } else if is("Port") {
                    V::Int(u.port.into())
                } else if is("Path") {
                    V::Str(u.path)
                } else if is("QueryString") {
                    if u.query.is_empty() {
                        V::Str("")
                    } else {
                        let mut s = BString::new_in(self.arena);
                        s.push('?');
                        s.push_str(u.query);
                        V::Str(s.into_bump_str())
                    }
                } else if is("Query") {
                    V::Obj(Obj::Query(k))
                } else {
                    V::Nil
                }
            }
            Obj::Query(k) => {
                let Some(u) = h.url(k) else { return V::Nil };
                u.query
                    .split('&')
                    .map(|p| p.split_once('=').unwrap_or((p, "")))
                    .find(|(n, _)| !n.is_empty() && url_decode(n) == key)
                    .map_or(V::Nil, |(_, v)| {
                        V::Str(self.arena.alloc_str(&url_decode(v)))
                    })
            }
            Obj::Forloop { index, len } => {
                let k = key.to_ascii_lowercase();
                match k.as_str() {
                    "index" => V::Int(index as i64 + 1),
                    "index0" => V::Int(index as i64),
                    "rindex" => V::Int((len - index) as i64),
                    "rindex0" => V::Int((len - index - 1) as i64),
                    "first" => V::Bool(index == 0),
                    "last" => V::Bool(index + 1 == len),
                    "length" => V::Int(len as i64),
                    _ => V::Nil,
                }
            }
            _ => V::Nil,
        }
    }

    fn index(&mut self, v: V<'a>, i: i64) -> V<'a> {
        let items = match v {
            V::Json(JNode::Array(_)) | V::List(_) => match self.list_of(v) {
                Ok(l) => l,
                Err(_) => return V::Nil,
            },
            V::Json(JNode::Object(_)) => return self.member(v, &i.to_string()),
            _ => return V::Nil,
        };
        let n = items.len() as i64;
        let i = if i < 0 { n + i } else { i };
        if (0..n).contains(&i) {
            items[i as usize]
        } else {
            V::Nil
        }
    }

    /// A value's output text, in the arena.
    fn text(&mut self, v: V<'a>) -> &'a str {
        match v {
            V::Str(s) => s,
            V::Nil | V::Empty | V::Blank => "",
            v => {
                let mut out = BString::new_in(self.arena);
                self.write(v, &mut out);
                out.into_bump_str()
            }
        }
    }

    fn write(&mut self, v: V<'a>, out: &mut BString<'a>) {
        match v {
            V::Nil | V::Empty | V::Blank => {}
            V::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            V::Int(i) => {
                let _ = write!(out, "{i}");
            }
            V::Float(f) => write_double(f, out),
            V::Str(s) => out.push_str(s),
            V::Json(n @ JNode::Object(_)) => n.write_json(out, false, false),
            V::Json(_) | V::List(_) => {
                // Liquid prints an array as its items run together.
                if let Ok(items) = self.list_of(v) {
                    for item in items {
                        self.write(*item, out);
                        if out.len() > MAX_OUTPUT {
                            return;
                        }
                    }
                }
            }
            V::Obj(Obj::Url(k)) => {
                if let Some(u) = self.host.url(k) {
                    let _ = write!(out, "{u}");
                }
            }
            V::Obj(_) => {}
        }
    }
}
