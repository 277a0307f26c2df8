//! Liquid template text → [`Template`] AST, at load time. Anything outside the supported
//! subset is an error with the byte offset where it starts.

use super::{
    Cmp, Cond, Filter, FilterKind, FilteredExpr, ForLoop, LiquidError, Lit, Node, Path, Seg,
    Template, Term,
};

/// Deepest block nesting accepted (bounds parser and renderer recursion).
const MAX_NESTING: usize = 48;

/// Tags of standard Liquid this gateway refuses.
const REFUSED_TAGS: &[&str] = &[
    "capture",
    "include",
    "render",
    "cycle",
    "tablerow",
    "increment",
    "decrement",
    "ifchanged",
    "layout",
    "block",
    "extends",
    "liquid",
    "echo",
    "literal",
];

pub(super) fn parse(src: &str) -> Result<Template, LiquidError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        reads_body: false,
    };
    let (nodes, stop) = p.block(0, &[])?;
    if let Some(stop) = stop {
        return Err(err(stop.at, format!("unexpected `{{% {} %}}`", stop.name)));
    }
    Ok(Template {
        nodes,
        reads_body: p.reads_body,
    })
}

fn err(at: usize, msg: impl Into<String>) -> LiquidError {
    LiquidError {
        offset: at,
        message: format!("liquid: {}", msg.into()),
    }
}

#[derive(Debug)]
enum Tok {
    Text(String),
    /// `{{ … }}`: inner text and the offset of its `{{`.
    Out(String, usize),
    /// `{% … %}`: inner text (dashes removed) and offset.
    Tag(String, usize),
    /// `{% raw %}` content, emitted verbatim.
    Raw(String),
}

/// The inner text of a markup between `open` and `close` starting at `at`, its dashes
/// stripped, and where the markup ends.
fn markup(src: &str, at: usize, close: &str) -> Result<(String, bool, bool, usize), LiquidError> {
    let start = at + 2;
    let Some(rel) = src[start..].find(close) else {
        let open = &src[at..at + 2];
        return Err(err(at, format!("`{open}` is not closed by `{close}`")));
    };
    let mut inner = &src[start..start + rel];
    let trim_left = inner.starts_with('-');
    if trim_left {
        inner = &inner[1..];
    }
    let trim_right = inner.ends_with('-');
    if trim_right {
        inner = &inner[..inner.len() - 1];
    }
    Ok((
        inner.trim().to_string(),
        trim_left,
        trim_right,
        start + rel + 2,
    ))
}

fn tokenize(src: &str) -> Result<Vec<Tok>, LiquidError> {
    let mut toks = Vec::new();
    let mut i = 0;
    let mut trim_next = false;
    let push_text = |toks: &mut Vec<Tok>, mut t: &str, trim_start: bool, trim_end: bool| {
        if trim_start {
            t = t.trim_start();
        }
        if trim_end {
            t = t.trim_end();
        }
        if !t.is_empty() {
            toks.push(Tok::Text(t.to_string()));
        }
    };
    while i < src.len() {
        let next = src[i..].find('{').map(|r| i + r);
        let Some(at) = next else {
            push_text(&mut toks, &src[i..], trim_next, false);
            break;
        };
        let kind = src.as_bytes().get(at + 1).copied();
        if kind != Some(b'{') && kind != Some(b'%') {
            // A lone brace is text (JSON templates are full of them).
            let end = at + 1;
            push_text(&mut toks, &src[i..end], trim_next, false);
            trim_next = false;
            // Merge adjacent text pieces so whitespace control sees whole runs.
            merge_text(&mut toks);
            i = end;
            continue;
        }
        let close = if kind == Some(b'{') { "}}" } else { "%}" };
        let (inner, tl, tr, end) = markup(src, at, close)?;
        push_text(&mut toks, &src[i..at], trim_next, tl);
        merge_text(&mut toks);
        if tl {
            if let Some(Tok::Text(t)) = toks.last_mut() {
                let n = t.trim_end().len();
                t.truncate(n);
            }
        }
        trim_next = tr;
        i = end;
        if close == "}}" {
            toks.push(Tok::Out(inner, at));
            continue;
        }
        let name = inner.split_whitespace().next().unwrap_or("");
        if name == "raw" || name == "comment" {
            let end_name = if name == "raw" {
                "endraw"
            } else {
                "endcomment"
            };
            let (body_end, after, tr2) = find_end(src, i, end_name).ok_or_else(|| {
                err(
                    at,
                    format!("`{{% {name} %}}` is not closed by `{{% {end_name} %}}`"),
                )
            })?;
            if name == "raw" {
                toks.push(Tok::Raw(src[i..body_end].to_string()));
            }
            trim_next = tr2;
            i = after;
            continue;
        }
        toks.push(Tok::Tag(inner, at));
    }
    merge_text(&mut toks);
    Ok(toks)
}

fn merge_text(toks: &mut Vec<Tok>) {
    if toks.len() >= 2 {
        if let [.., Tok::Text(a), Tok::Text(b)] = &mut toks[..] {
            let b = std::mem::take(b);
            a.push_str(&b);
            toks.pop();
        }
    }
}

/// Finds `{% end_name %}` from `from`: (start of the tag, end of the tag, its `-%}`).
fn find_end(src: &str, from: usize, end_name: &str) -> Option<(usize, usize, bool)> {
    let mut i = from;
    while let Some(r) = src[i..].find("{%") {
        let at = i + r;
        let (inner, _, tr, end) = markup(src, at, "%}").ok()?;
        if inner == end_name {
            return Some((at, end, tr));
        }
        i = at + 2;
    }
    None
}

/// A block-ending tag met by [`Parser::block`].
struct Stop {
    name: String,
    rest: String,
    at: usize,
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    reads_body: bool,
}

impl Parser {
    /// Nodes up to one of the `stops` tags (returned) or the end.
    fn block(
        &mut self,
        depth: usize,
        stops: &[&str],
    ) -> Result<(Vec<Node>, Option<Stop>), LiquidError> {
        let mut nodes = Vec::new();
        while self.i < self.toks.len() {
            let tok = std::mem::replace(&mut self.toks[self.i], Tok::Text(String::new()));
            self.i += 1;
            match tok {
                Tok::Text(t) | Tok::Raw(t) => nodes.push(Node::Text(t.into())),
                Tok::Out(inner, at) => {
                    let e = self.expr(&inner, at, true)?;
                    nodes.push(Node::Output(e));
                }
                Tok::Tag(inner, at) => {
                    let (name, rest) = match inner.find(char::is_whitespace) {
                        Some(n) => (&inner[..n], inner[n..].trim()),
                        None => (&inner[..], ""),
                    };
                    if stops.contains(&name) {
                        return Ok((
                            nodes,
                            Some(Stop {
                                name: name.to_string(),
                                rest: rest.to_string(),
                                at,
                            }),
                        ));
                    }
                    if depth >= MAX_NESTING {
                        return Err(err(at, format!("blocks nest deeper than {MAX_NESTING}")));
                    }
                    nodes.push(self.tag(name, rest, at, depth)?);
                }
            }
        }
        Ok((nodes, None))
    }

    fn tag(
        &mut self,
        name: &str,
        rest: &str,
        at: usize,
        depth: usize,
    ) -> Result<Node, LiquidError> {
        match name {
            "if" | "unless" => {
                let end = if name == "if" { "endif" } else { "endunless" };
                let mut branches = Vec::new();
                let mut cond = self.cond(rest, at)?;
                if name == "unless" {
                    cond = Cond::Not(Box::new(cond));
                }
                loop {
                    let (body, stop) = self.block(depth + 1, &["elsif", "else", end])?;
                    let stop = stop.ok_or_else(|| {
                        err(
                            at,
                            format!("`{{% {name} %}}` is not closed by `{{% {end} %}}`"),
                        )
                    })?;
                    branches.push((cond, body));
                    match stop.name.as_str() {
                        "elsif" => cond = self.cond(&stop.rest, stop.at)?,
                        "else" => {
                            let (body, stop2) = self.block(depth + 1, &[end])?;
                            if stop2.is_none() {
                                return Err(err(
                                    at,
                                    format!("`{{% {name} %}}` is not closed by `{{% {end} %}}`"),
                                ));
                            }
                            return Ok(Node::If {
                                branches,
                                otherwise: body,
                            });
                        }
                        _ => {
                            return Ok(Node::If {
                                branches,
                                otherwise: Vec::new(),
                            })
                        }
                    }
                }
            }
            "case" => {
                let subject = self.term_only(rest, at)?;
                let (_, mut stop) = self.block(depth + 1, &["when", "else", "endcase"])?;
                let mut whens = Vec::new();
                let mut otherwise = Vec::new();
                loop {
                    let s = stop
                        .ok_or_else(|| err(at, "`{% case %}` is not closed by `{% endcase %}`"))?;
                    match s.name.as_str() {
                        "when" => {
                            let values = self.when_values(&s.rest, s.at)?;
                            let (body, next) =
                                self.block(depth + 1, &["when", "else", "endcase"])?;
                            whens.push((values, body));
                            stop = next;
                        }
                        "else" => {
                            let (body, next) = self.block(depth + 1, &["endcase"])?;
                            otherwise = body;
                            stop = next;
                        }
                        _ => {
                            return Ok(Node::Case {
                                subject,
                                whens,
                                otherwise,
                            })
                        }
                    }
                }
            }
            "for" => {
                let f = self.for_header(rest, at)?;
                let (body, stop) = self.block(depth + 1, &["else", "endfor"])?;
                let stop =
                    stop.ok_or_else(|| err(at, "`{% for %}` is not closed by `{% endfor %}`"))?;
                let otherwise = if stop.name == "else" {
                    let (b, s2) = self.block(depth + 1, &["endfor"])?;
                    if s2.is_none() {
                        return Err(err(at, "`{% for %}` is not closed by `{% endfor %}`"));
                    }
                    b
                } else {
                    Vec::new()
                };
                Ok(Node::For(Box::new(ForLoop {
                    body,
                    otherwise,
                    ..f
                })))
            }
            "assign" => {
                let Some(eq) = rest.find('=') else {
                    return Err(err(at, "`{% assign %}` needs `name = value`"));
                };
                let var = rest[..eq].trim();
                if !is_ident(var) {
                    return Err(err(at, format!("`{var}` is not a variable name")));
                }
                let value = self.expr(&rest[eq + 1..], at, true)?;
                Ok(Node::Assign(var.into(), value))
            }
            "break" if rest.is_empty() => Ok(Node::Break),
            "continue" if rest.is_empty() => Ok(Node::Continue),
            n if REFUSED_TAGS.contains(&n) => {
                Err(err(at, format!("`{{% {n} %}}` is not supported yet")))
            }
            "elsif" | "else" | "endif" | "endunless" | "endfor" | "endcase" | "when" | "endraw"
            | "endcomment" => Err(err(at, format!("unexpected `{{% {name} %}}`"))),
            n => Err(err(at, format!("unknown tag `{{% {n} %}}`"))),
        }
    }

    fn for_header(&mut self, rest: &str, at: usize) -> Result<ForLoop, LiquidError> {
        let toks = lex(rest, at)?;
        let mut c = Cursor { t: &toks, i: 0, at };
        let var = match c.next() {
            Some(T::Id(v)) if is_ident(v) => v.clone(),
            _ => return Err(err(at, "`{% for %}` needs `item in collection`")),
        };
        if !matches!(c.next(), Some(T::Id(w)) if w == "in") {
            return Err(err(at, "`{% for %}` needs `item in collection`"));
        }
        let source = self.term(&mut c)?;
        let mut f = ForLoop {
            var: var.into(),
            source,
            limit: None,
            offset: None,
            reversed: false,
            body: Vec::new(),
            otherwise: Vec::new(),
        };
        while let Some(t) = c.next() {
            match t {
                T::Id(w) if w == "reversed" => f.reversed = true,
                T::Id(w) if w == "limit" || w == "offset" => {
                    let w = w.clone();
                    if !matches!(c.next(), Some(T::Colon)) {
                        return Err(err(at, format!("`{w}` needs `{w}: number`")));
                    }
                    if matches!(c.peek(), Some(T::Id(x)) if x == "continue") {
                        return Err(err(at, "`offset: continue` is not supported yet"));
                    }
                    let v = self.term(&mut c)?;
                    if w == "limit" {
                        f.limit = Some(v);
                    } else {
                        f.offset = Some(v);
                    }
                }
                T::Comma => {}
                other => {
                    return Err(err(
                        at,
                        format!("unexpected {} in `{{% for %}}`", other.describe()),
                    ))
                }
            }
        }
        Ok(f)
    }

    fn when_values(&mut self, rest: &str, at: usize) -> Result<Vec<Term>, LiquidError> {
        let toks = lex(rest, at)?;
        let mut c = Cursor { t: &toks, i: 0, at };
        let mut out = vec![self.term(&mut c)?];
        while let Some(t) = c.next() {
            match t {
                T::Comma => out.push(self.term(&mut c)?),
                T::Id(w) if w == "or" => out.push(self.term(&mut c)?),
                other => {
                    return Err(err(
                        at,
                        format!("unexpected {} in `{{% when %}}`", other.describe()),
                    ))
                }
            }
        }
        Ok(out)
    }

    fn term_only(&mut self, src: &str, at: usize) -> Result<Term, LiquidError> {
        let toks = lex(src, at)?;
        let mut c = Cursor { t: &toks, i: 0, at };
        let t = self.term(&mut c)?;
        c.end()?;
        Ok(t)
    }

    /// `a == b and c or d`: Liquid evaluates `and`/`or` right to left, no precedence.
    fn cond(&mut self, src: &str, at: usize) -> Result<Cond, LiquidError> {
        let toks = lex(src, at)?;
        let mut c = Cursor { t: &toks, i: 0, at };
        let mut atoms = vec![self.comparison(&mut c)?];
        let mut ops = Vec::new();
        while let Some(t) = c.next() {
            match t {
                T::Id(w) if w == "and" || w == "or" => {
                    ops.push(w == "and");
                    atoms.push(self.comparison(&mut c)?);
                }
                other => {
                    return Err(err(
                        at,
                        format!("unexpected {} in a condition", other.describe()),
                    ))
                }
            }
        }
        let mut cond = atoms.pop().unwrap_or(Cond::Truthy(Term::Lit(Lit::Nil)));
        while let Some(left) = atoms.pop() {
            let and = ops.pop().unwrap_or(true);
            cond = if and {
                Cond::And(Box::new(left), Box::new(cond))
            } else {
                Cond::Or(Box::new(left), Box::new(cond))
            };
        }
        Ok(cond)
    }

    fn comparison(&mut self, c: &mut Cursor<'_>) -> Result<Cond, LiquidError> {
        let left = self.term(c)?;
        let op = match c.peek() {
            Some(T::Cmp(op)) => *op,
            Some(T::Id(w)) if w == "contains" => Cmp::Contains,
            _ => return Ok(Cond::Truthy(left)),
        };
        c.i += 1;
        let right = self.term(c)?;
        Ok(Cond::Cmp(left, op, right))
    }

    /// `term | Filter: a, b | …`.
    fn expr(&mut self, src: &str, at: usize, filters: bool) -> Result<FilteredExpr, LiquidError> {
        let toks = lex(src, at)?;
        let mut c = Cursor { t: &toks, i: 0, at };
        let base = self.term(&mut c)?;
        let mut fs = Vec::new();
        while let Some(t) = c.next() {
            if !matches!(t, T::Pipe) || !filters {
                return Err(err(at, format!("unexpected {}", t.describe())));
            }
            let name = match c.next() {
                Some(T::Id(n)) => n.clone(),
                _ => return Err(err(at, "a filter name must follow `|`")),
            };
            let kind = FilterKind::from_name(&name)
                .ok_or_else(|| err(at, format!("filter `{name}` is not supported yet")))?;
            let mut args = Vec::new();
            if matches!(c.peek(), Some(T::Colon)) {
                c.i += 1;
                args.push(self.term(&mut c)?);
                while matches!(c.peek(), Some(T::Comma)) {
                    c.i += 1;
                    args.push(self.term(&mut c)?);
                }
            }
            let (min, max) = kind.arity();
            if args.len() < min || args.len() > max {
                let want = if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                };
                return Err(err(
                    at,
                    format!(
                        "filter `{name}` takes {want} argument(s), not {}",
                        args.len()
                    ),
                ));
            }
            fs.push(Filter { kind, args });
        }
        Ok(FilteredExpr { base, filters: fs })
    }

    fn term(&mut self, c: &mut Cursor<'_>) -> Result<Term, LiquidError> {
        let at = c.at;
        match c.next() {
            Some(T::Str(s)) => Ok(Term::Lit(Lit::Str(s.clone().into()))),
            Some(T::Int(i)) => Ok(Term::Lit(Lit::Int(*i))),
            Some(T::Float(f)) => Ok(Term::Lit(Lit::Float(*f))),
            Some(T::LPar) => {
                let from = self.term(c)?;
                if !matches!(c.next(), Some(T::DotDot)) {
                    return Err(err(at, "a range is written `(from..to)`"));
                }
                let to = self.term(c)?;
                if !matches!(c.next(), Some(T::RPar)) {
                    return Err(err(at, "a range is written `(from..to)`"));
                }
                Ok(Term::Range(Box::new((from, to))))
            }
            Some(T::Id(id)) => {
                match id.as_str() {
                    "true" => return Ok(Term::Lit(Lit::Bool(true))),
                    "false" => return Ok(Term::Lit(Lit::Bool(false))),
                    "nil" | "null" => return Ok(Term::Lit(Lit::Nil)),
                    "empty" => return Ok(Term::Lit(Lit::Empty)),
                    "blank" => return Ok(Term::Lit(Lit::Blank)),
                    _ => {}
                }
                let root = id.clone();
                if root == "body" {
                    self.reads_body = true;
                }
                let mut segs = Vec::new();
                loop {
                    match c.peek() {
                        Some(T::Dot) => {
                            c.i += 1;
                            match c.next() {
                                Some(T::Id(k)) => segs.push(Seg::Key(k.clone().into())),
                                Some(T::Int(i)) if *i >= 0 => {
                                    segs.push(Seg::Key(i.to_string().into()))
                                }
                                _ => return Err(err(at, "a name must follow `.`")),
                            }
                        }
                        Some(T::LBr) => {
                            c.i += 1;
                            let t = self.term(c)?;
                            if !matches!(c.next(), Some(T::RBr)) {
                                return Err(err(at, "`[` is not closed by `]`"));
                            }
                            segs.push(match t {
                                Term::Lit(Lit::Str(s)) => Seg::Key(s),
                                Term::Lit(Lit::Int(i)) => Seg::Index(i),
                                other => Seg::Dyn(Box::new(other)),
                            });
                        }
                        _ => break,
                    }
                }
                Ok(Term::Path(Path {
                    root: root.into(),
                    segs,
                }))
            }
            Some(other) => Err(err(at, format!("unexpected {}", other.describe()))),
            None => Err(err(at, "a value is missing")),
        }
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Id(String),
    Str(String),
    Int(i64),
    Float(f64),
    Dot,
    DotDot,
    LBr,
    RBr,
    LPar,
    RPar,
    Pipe,
    Colon,
    Comma,
    Cmp(Cmp),
}

impl T {
    fn describe(&self) -> String {
        match self {
            T::Id(s) => format!("`{s}`"),
            T::Str(s) => format!("string \"{s}\""),
            T::Int(i) => format!("`{i}`"),
            T::Float(f) => format!("`{f}`"),
            T::Dot => "`.`".into(),
            T::DotDot => "`..`".into(),
            T::LBr => "`[`".into(),
            T::RBr => "`]`".into(),
            T::LPar => "`(`".into(),
            T::RPar => "`)`".into(),
            T::Pipe => "`|`".into(),
            T::Colon => "`:`".into(),
            T::Comma => "`,`".into(),
            T::Cmp(c) => format!("`{}`", c.symbol()),
        }
    }
}

struct Cursor<'t> {
    t: &'t [T],
    i: usize,
    at: usize,
}

impl<'t> Cursor<'t> {
    fn next(&mut self) -> Option<&'t T> {
        let t = self.t.get(self.i);
        self.i += 1;
        t
    }
    fn peek(&self) -> Option<&'t T> {
        self.t.get(self.i)
    }
    fn end(&self) -> Result<(), LiquidError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(err(self.at, format!("unexpected {}", t.describe()))),
        }
    }
}

fn lex(src: &str, at: usize) -> Result<Vec<T>, LiquidError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' | b'\'' => {
                let end = src[i + 1..]
                    .find(c as char)
                    .ok_or_else(|| err(at, "a string is not closed"))?;
                out.push(T::Str(src[i + 1..i + 1 + end].to_string()));
                i += end + 2;
            }
            b'.' if b.get(i + 1) == Some(&b'.') => {
                out.push(T::DotDot);
                i += 2;
            }
            b'.' => {
                out.push(T::Dot);
                i += 1;
            }
            b'[' => {
                out.push(T::LBr);
                i += 1;
            }
            b']' => {
                out.push(T::RBr);
                i += 1;
            }
            b'(' => {
                out.push(T::LPar);
                i += 1;
            }
            b')' => {
                out.push(T::RPar);
                i += 1;
            }
            b'|' => {
                out.push(T::Pipe);
                i += 1;
            }
            b':' => {
                out.push(T::Colon);
                i += 1;
            }
            b',' => {
                out.push(T::Comma);
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = b.get(i + 1).copied();
                let (op, n) = match (c, two) {
                    (b'=', Some(b'=')) => (Cmp::Eq, 2),
                    (b'!', Some(b'=')) | (b'<', Some(b'>')) => (Cmp::Ne, 2),
                    (b'<', Some(b'=')) => (Cmp::Le, 2),
                    (b'>', Some(b'=')) => (Cmp::Ge, 2),
                    (b'<', _) => (Cmp::Lt, 1),
                    (b'>', _) => (Cmp::Gt, 1),
                    _ => return Err(err(at, format!("unexpected `{}`", c as char))),
                };
                out.push(T::Cmp(op));
                i += n;
            }
            b'-' | b'0'..=b'9' if c != b'-' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let mut float = false;
                if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                    float = true;
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let text = &src[start..i];
                if float {
                    out.push(T::Float(
                        text.parse()
                            .map_err(|_| err(at, format!("`{text}` is not a number")))?,
                    ));
                } else {
                    out.push(T::Int(
                        text.parse()
                            .map_err(|_| err(at, format!("`{text}` is not a number")))?,
                    ));
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'-'
                        || b[i] == b'?')
                {
                    i += 1;
                }
                out.push(T::Id(src[start..i].to_string()));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(at, format!("unexpected `{ch}`")));
            }
        }
    }
    Ok(out)
}
