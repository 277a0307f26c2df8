//! Checking member access, method calls (instance, static, `TryParse(out var)`), indexers,
//! LINQ with lambdas, `new`, and precompiling regexes with literal patterns.

use super::ast::{Arg, Expr, ExprKind, OutTarget, TypeName};
use super::check::{check_format, unify, CResult, Checker, TE};
use super::error::ExprError;
use super::ir::{Const, Id, LinqOp, Node, B, R, S, V, W};
use super::resolve::{self, no_member, promote, Prop};
use super::resolve_static::{constructor, parse_target, static_method, static_property};
use super::types::{class_by_name, elem_type, to_elem, Class, EnumKind, Type};

/// Max pattern length for a regex.
pub const MAX_REGEX_LEN: usize = 4096;

/// LINQ operators whose lambda is a predicate (it must return `bool`).
fn takes_predicate(op: LinqOp) -> bool {
    use LinqOp as L;
    matches!(
        op,
        L::Where
            | L::All
            | L::Any
            | L::First
            | L::FirstOrDefault
            | L::Last
            | L::LastOrDefault
            | L::Single
            | L::SingleOrDefault
            | L::Count
    )
}

fn dotted(e: &Expr, out: &mut String) -> bool {
    match &e.kind {
        ExprKind::Ident(n) => {
            out.push_str(n);
            true
        }
        ExprKind::Member(r, n, g) if g.is_empty() => {
            if !dotted(r, out) {
                return false;
            }
            out.push('.');
            out.push_str(n);
            true
        }
        _ => false,
    }
}

fn linq_op(name: &str) -> Option<LinqOp> {
    Some(match name {
        "Select" => LinqOp::Select,
        "Where" => LinqOp::Where,
        "Any" => LinqOp::Any,
        "All" => LinqOp::All,
        "First" => LinqOp::First,
        "FirstOrDefault" => LinqOp::FirstOrDefault,
        "Last" => LinqOp::Last,
        "LastOrDefault" => LinqOp::LastOrDefault,
        "Single" => LinqOp::Single,
        "SingleOrDefault" => LinqOp::SingleOrDefault,
        "Count" => LinqOp::Count,
        "Contains" => LinqOp::Contains,
        "ToArray" | "ToList" | "AsEnumerable" => LinqOp::ToArray,
        "Skip" => LinqOp::Skip,
        "Take" => LinqOp::Take,
        "OrderBy" => LinqOp::OrderBy,
        "OrderByDescending" => LinqOp::OrderByDescending,
        "Distinct" => LinqOp::Distinct,
        "Sum" => LinqOp::Sum,
        "Min" => LinqOp::Min,
        "Max" => LinqOp::Max,
        "Average" => LinqOp::Average,
        "Reverse" => LinqOp::Reverse,
        "ElementAt" => LinqOp::ElementAt,
        "ElementAtOrDefault" => LinqOp::ElementAtOrDefault,
        "Concat" => LinqOp::Concat,
        _ => return None,
    })
}

/// The element type when LINQ applies to a receiver type.
fn linq_elem(t: Type, name: &str) -> Option<Type> {
    match t {
        Type::Seq(e) => Some(elem_type(e)),
        Type::JArray | Type::JToken => Some(Type::JToken),
        Type::JObject => Some(Type::JProperty),
        Type::Str if !matches!(name, "Contains" | "Concat") => Some(Type::Char),
        _ => None,
    }
}

impl Checker<'_> {
    /// A call of builtin `f` with the argument nodes `args`, giving a `t`.
    fn builtin_call(
        &mut self,
        f: B,
        args: Box<[Id]>,
        null_check: bool,
        t: Type,
        pos: usize,
    ) -> CResult<TE> {
        let call = Node::Call {
            f,
            args,
            null_check,
        };
        Ok((self.push(call, pos)?, t))
    }

    /// The class a receiver expression names (`Math`, `System.Text.Encoding`), unless the
    /// first identifier is a local or `context`.
    pub fn static_class(&self, e: &Expr) -> Option<Class> {
        let mut path = String::new();
        if !dotted(e, &mut path) {
            return None;
        }
        let first = path.split('.').next().unwrap_or("");
        if first == "context" || self.lookup(first).is_some() {
            return None;
        }
        class_by_name(&path)
    }

    pub fn member(&mut self, recv: &Expr, name: &str, pos: usize) -> CResult<TE> {
        if let Some(c) = self.static_class(recv) {
            return match static_property(c, name) {
                Some(Prop::Const(k, t)) => Ok((self.konst(k, pos)?, t)),
                Some(Prop::Call(f, t)) => self.builtin_call(f, Box::new([]), false, t, pos),
                None => Err(ExprError::new(
                    pos,
                    format!("'{c:?}' does not contain a definition for '{name}'"),
                )),
            };
        }
        let r = self.value(recv)?;
        if r.1 == Type::Context && name == "Response" && !self.env.has_response {
            return Err(ExprError::new(
                pos,
                format!(
                    "context.Response is not available in the {} section",
                    self.env.section
                ),
            )
            .with_hint("use it in outbound or on-error, or store what you need in a variable"));
        }
        match resolve::property(r.1, name) {
            Some(Prop::Const(k, t)) => Ok((self.konst(k, pos)?, t)),
            Some(Prop::Call(f, t)) => {
                // Nullable members (`HasValue`, `Value`) handle null themselves.
                let null_check = !matches!(f, B::Conv(V::HasValue | V::NullableValue));
                self.builtin_call(f, Box::new([r.0]), null_check, t, pos)
            }
            None if r.1 == Type::Object => Err(ExprError::new(pos, no_member(r.1, name))
                .with_hint("cast the value first, e.g. ((string)context.Variables[\"x\"]).Length")),
            None => Err(ExprError::new(pos, no_member(r.1, name))),
        }
    }

    pub fn index(&mut self, recv: &Expr, idx: &[Expr], pos: usize) -> CResult<TE> {
        let r = self.value(recv)?;
        let mut ids = vec![r.0];
        let mut types = Vec::new();
        for e in idx {
            let te = self.value(e)?;
            ids.push(te.0);
            types.push(te.1);
        }
        let (f, t) = resolve::indexer(r.1, &types).map_err(|m| {
            let e = ExprError::new(pos, m);
            if r.1 == Type::Object {
                e.with_hint("cast the value first, e.g. ((JObject)context.Variables[\"x\"])[\"a\"]")
            } else {
                e
            }
        })?;
        self.builtin_call(f, ids.into_boxed_slice(), true, t, pos)
    }

    fn plain_args(&mut self, args: &[Arg]) -> CResult<(Vec<u32>, Vec<Type>)> {
        let mut ids = Vec::new();
        let mut types = Vec::new();
        for a in args {
            if a.out.is_some() {
                return Err(ExprError::new(
                    a.value.pos,
                    "'out' arguments are only supported for TryParse methods",
                ));
            }
            if matches!(a.value.kind, ExprKind::Lambda(..)) {
                return Err(ExprError::new(
                    a.value.pos,
                    "lambda expressions are only supported as arguments of LINQ methods",
                ));
            }
            let te = self.value(&a.value)?;
            // IFormatProvider arguments (CultureInfo.InvariantCulture) are accepted and ignored.
            if te.1 == Type::Class(Class::CultureInfo) {
                continue;
            }
            ids.push(te.0);
            types.push(te.1);
        }
        Ok((ids, types))
    }

    fn resolve_generics(&self, g: &[TypeName]) -> CResult<Vec<Type>> {
        g.iter().map(|t| self.resolve_type(t)).collect()
    }

    pub fn call(&mut self, callee: &Expr, args: &[Arg], pos: usize) -> CResult<TE> {
        let ExprKind::Member(recv, name, generics) = &callee.kind else {
            return match &callee.kind {
                ExprKind::Ident(n) => Err(ExprError::new(
                    pos,
                    format!("the name '{n}' does not exist in the current context"),
                )),
                _ => Err(ExprError::new(pos, "method name expected")),
            };
        };
        let gens = self.resolve_generics(generics)?;
        if let Some(c) = self.static_class(recv) {
            if name == "TryParse" {
                return self.try_parse_static(c, args, pos);
            }
            let (ids, types) = self.plain_args(args)?;
            let (f, t) =
                static_method(c, name, &gens, &types).map_err(|m| ExprError::new(pos, m))?;
            let f = self.precompile(f, &ids, pos)?;
            self.validate_format_args(f, &ids, &types, pos)?;
            return self.builtin_call(f, ids.into_boxed_slice(), false, t, pos);
        }
        let r = self.value(recv)?;
        if let (Some(op), Some(elem)) = (linq_op(name), linq_elem(r.1, name)) {
            let is_string_method = r.1 == Type::Str && name == "Contains";
            if !is_string_method {
                return self.linq(r, elem, op, name, args, pos);
            }
        }
        if matches!(name.as_str(), "TryParseJwt" | "TryParseBasic") && r.1 == Type::Str {
            let (f, t) = if name == "TryParseJwt" {
                (W::AsJwt, Type::Jwt)
            } else {
                (W::AsBasic, Type::Basic)
            };
            let slot = match args {
                [a] => self.out_slot(a, t)?,
                _ => return Err(ExprError::new(pos, resolve::bad_args(name, args.len()))),
            };
            let n = Node::TryOut {
                f: B::Jwt(f),
                args: Box::new([r.0]),
                slot,
                default: Const::Null,
            };
            return Ok((self.push(n, pos)?, Type::Bool));
        }
        let (mut ids, types) = self.plain_args(args)?;
        let (f, t) = resolve::method(r.1, name, &gens, &types).map_err(|m| {
            let e = ExprError::new(pos, m);
            if r.1 == Type::Object {
                e.with_hint("cast the value first, e.g. ((string)context.Variables[\"x\"])")
            } else {
                e
            }
        })?;
        if f == B::Str(S::ToStrFmt) {
            if let Some(fmt) = ids.first().and_then(|i| self.const_str(*i)) {
                check_format(r.1, fmt).map_err(|m| ExprError::new(pos, m))?;
            }
        }
        let null_check = !matches!(
            f,
            B::Jwt(W::AsJwt | W::AsBasic) | B::Conv(V::NullableOrDefault(_))
        );
        ids.insert(0, r.0);
        self.builtin_call(f, ids.into_boxed_slice(), null_check, t, pos)
    }

    fn out_slot(&mut self, a: &Arg, t: Type) -> CResult<u16> {
        match &a.out {
            Some(OutTarget::Decl(decl, name)) => {
                if let Some(d) = decl {
                    let dt = self.resolve_type(d)?;
                    if dt != t {
                        return Err(ExprError::new(
                            a.value.pos,
                            format!("the out variable must be of type '{}'", t.name()),
                        ));
                    }
                }
                self.declare(name, t, a.value.pos)
            }
            Some(OutTarget::Existing(name)) => match self.lookup(name) {
                Some((slot, lt)) if lt == t => Ok(slot),
                Some(_) => Err(ExprError::new(
                    a.value.pos,
                    format!("the out variable must be of type '{}'", t.name()),
                )),
                None => Err(ExprError::new(
                    a.value.pos,
                    format!("the name '{name}' does not exist in the current context"),
                )),
            },
            None => Err(ExprError::new(a.value.pos, "expected an 'out' argument")),
        }
    }

    fn try_parse_static(&mut self, c: Class, args: &[Arg], pos: usize) -> CResult<TE> {
        let t = parse_target(c)
            .ok_or_else(|| ExprError::new(pos, format!("'{c:?}' does not contain 'TryParse'")))?;
        let (input, out) = match args {
            [s, o] => (s, o),
            [s, _, o] | [s, _, _, o] if o.out.is_some() => (s, o),
            _ => {
                return Err(ExprError::new(
                    pos,
                    resolve::bad_args("TryParse", args.len()),
                ))
            }
        };
        let s = self.value(&input.value)?;
        if !resolve::is_str(s.1) {
            return Err(ExprError::new(input.value.pos, "TryParse expects a string"));
        }
        let slot = self.out_slot(out, t)?;
        let n = Node::TryOut {
            f: B::Conv(V::Parse(t)),
            args: Box::new([s.0]),
            slot,
            default: Self::default_const(t),
        };
        Ok((self.push(n, pos)?, Type::Bool))
    }

    fn validate_format_args(&self, f: B, ids: &[u32], types: &[Type], pos: usize) -> CResult<()> {
        if f != B::Str(S::Format) {
            return Ok(());
        }
        let Some(fmt) = ids.first().and_then(|i| self.const_str(*i)) else {
            return Ok(());
        };
        let n_args = types.len() - 1;
        let mut err = None;
        let r = super::builtins::format::parse_composite(fmt, |p| {
            if let super::builtins::format::Piece::Hole { index, format, .. } = p {
                if index >= n_args {
                    err = Some(format!("format item {{{index}}} has no matching argument"));
                    return Err(());
                }
                if !format.is_empty() {
                    if let Err(m) = check_format(types[index + 1], format) {
                        err = Some(m);
                        return Err(());
                    }
                }
            }
            Ok(())
        });
        match (r, err) {
            (Ok(()), _) => Ok(()),
            (Err(()), Some(m)) => Err(ExprError::new(pos, m)),
            (Err(()), None) => Err(ExprError::new(pos, "invalid composite format string")),
        }
    }

    /// Compiles a literal regex pattern once, at load.
    fn precompile(&mut self, f: B, ids: &[u32], pos: usize) -> CResult<B> {
        let B::Re(r) = f else { return Ok(f) };
        let pattern_idx = match r {
            R::IsMatch(None)
            | R::Match(None)
            | R::Matches(None)
            | R::Replace(None)
            | R::Split(None) => 1,
            _ => return Ok(f),
        };
        let Some(pattern) = ids.get(pattern_idx).and_then(|i| self.const_str(*i)) else {
            return Ok(f);
        };
        let opts_pos = if matches!(r, R::Replace(_)) { 3 } else { 2 };
        let opts = match ids.get(opts_pos).map(|i| &self.nodes[*i as usize]) {
            None => 0,
            Some(Node::Const(Const::Enum(EnumKind::RegexOptions, v))) => *v,
            Some(_) => return Ok(f),
        };
        let re = super::builtins::regex::build(pattern, opts)
            .map_err(|m| ExprError::new(pos, format!("invalid regular expression: {m}")))?;
        if self.regexes.len() >= u16::MAX as usize {
            return Err(ExprError::new(pos, "too many regular expressions"));
        }
        self.regexes.push(re);
        let k = Some((self.regexes.len() - 1) as u16);
        Ok(B::Re(match r {
            R::IsMatch(_) => R::IsMatch(k),
            R::Match(_) => R::Match(k),
            R::Matches(_) => R::Matches(k),
            R::Replace(_) => R::Replace(k),
            _ => R::Split(k),
        }))
    }

    fn lambda(&mut self, a: &Arg, elem: Type) -> CResult<(u16, TE)> {
        let ExprKind::Lambda(params, body) = &a.value.kind else {
            return Err(ExprError::new(
                a.value.pos,
                "expected a lambda expression (x => ...)",
            ));
        };
        let [p] = params.as_slice() else {
            return Err(ExprError::new(
                a.value.pos,
                "only single-parameter lambdas are supported",
            ));
        };
        self.scopes.push(Vec::new());
        let r = (|| {
            let slot = self.declare(p, elem, a.value.pos)?;
            let te = self.value(body)?;
            Ok((slot, te))
        })();
        self.scopes.pop();
        r
    }

    fn linq(
        &mut self,
        src: TE,
        elem: Type,
        op: LinqOp,
        name: &str,
        args: &[Arg],
        pos: usize,
    ) -> CResult<TE> {
        use LinqOp as L;
        let seq_of = |t: Type| -> CResult<Type> {
            to_elem(t).map(Type::Seq).ok_or_else(|| {
                ExprError::new(
                    pos,
                    format!("sequences of '{}' are not supported", t.name()),
                )
            })
        };
        let bad = || ExprError::new(pos, resolve::bad_args(name, args.len()));
        let mut slot = 0;
        let mut body = None;
        let mut arg = None;
        let mut num = None;
        // A lambda always, or (one argument) optionally: a predicate or the projection of
        // an aggregate.
        let takes_lambda = matches!(
            op,
            L::Select | L::Where | L::All | L::OrderBy | L::OrderByDescending
        ) || (args.len() == 1
            && (takes_predicate(op) || matches!(op, L::Sum | L::Min | L::Max | L::Average)));
        let mut body_t = elem;
        if takes_lambda {
            let [a] = args else { return Err(bad()) };
            let (s, te) = self.lambda(a, elem)?;
            slot = s;
            body = Some(te.0);
            body_t = te.1;
            if takes_predicate(op) && !matches!(te.1, Type::Bool) {
                return Err(ExprError::new(a.value.pos, "the lambda must return bool"));
            }
        } else {
            match (op, args) {
                (L::Contains, [a]) => {
                    let te = self.value(&a.value)?;
                    let id = if elem == Type::JToken {
                        te.0
                    } else {
                        self.coerce(te, elem, a.value.pos)?
                    };
                    arg = Some(id);
                }
                (L::Skip | L::Take | L::ElementAt | L::ElementAtOrDefault, [a]) => {
                    let te = self.value(&a.value)?;
                    arg = Some(self.coerce(te, Type::Int, a.value.pos)?);
                }
                (L::Concat, [a]) => {
                    let te = self.value(&a.value)?;
                    if linq_elem(te.1, name).and_then(|e| unify(e, elem)).is_none() {
                        return Err(ExprError::new(
                            a.value.pos,
                            "Concat needs a sequence of the same element type",
                        ));
                    }
                    arg = Some(te.0);
                }
                (_, [])
                    if !matches!(
                        op,
                        L::Contains
                            | L::Skip
                            | L::Take
                            | L::ElementAt
                            | L::ElementAtOrDefault
                            | L::Concat
                    ) => {}
                _ => return Err(bad()),
            }
        }
        let t = match op {
            L::Select => seq_of(body_t)?,
            L::Where
            | L::Skip
            | L::Take
            | L::OrderBy
            | L::OrderByDescending
            | L::Distinct
            | L::Reverse
            | L::ToArray
            | L::Concat => seq_of(elem)?,
            L::Any | L::All | L::Contains => Type::Bool,
            L::Count => Type::Int,
            L::First
            | L::FirstOrDefault
            | L::Last
            | L::LastOrDefault
            | L::Single
            | L::SingleOrDefault
            | L::ElementAt
            | L::ElementAtOrDefault => elem,
            L::Sum | L::Average => {
                let n = promote(body_t, Type::Int).ok_or_else(|| {
                    ExprError::new(
                        pos,
                        format!("cannot {name} values of type '{}'", body_t.name()),
                    )
                })?;
                num = Some(n);
                if op == L::Average {
                    Type::Double
                } else {
                    resolve::num_type(n)
                }
            }
            L::Min | L::Max => {
                if !(body_t.is_numeric()
                    || matches!(body_t, Type::Str | Type::DateTime | Type::TimeSpan))
                {
                    return Err(ExprError::new(
                        pos,
                        format!("cannot compute {name} of '{}'", body_t.name()),
                    ));
                }
                num = promote(body_t, Type::Int);
                body_t
            }
        };
        let n = Node::Linq {
            op,
            src: src.0,
            slot,
            body,
            arg,
            num,
        };
        Ok((self.push(n, pos)?, t))
    }

    pub fn new_object(&mut self, t: &TypeName, args: &[Arg], pos: usize) -> CResult<TE> {
        let short = t.name.rsplit('.').next().unwrap_or(&t.name);
        if short.ends_with("Exception") {
            return Err(ExprError::new(
                pos,
                "exceptions can only be created in a throw statement",
            ));
        }
        if matches!(
            short,
            "List" | "Dictionary" | "HashSet" | "StringBuilder" | "Queue" | "Stack"
        ) {
            return Err(
                ExprError::new(pos, format!("'new {short}' is not supported"))
                    .with_hint("use new[] { ... }, LINQ, string.Join or a JObject instead"),
            );
        }
        let (ids, types) = self.plain_args(args)?;
        let (f, ty) = constructor(&t.name, &types).map_err(|m| ExprError::new(pos, m))?;
        self.builtin_call(f, ids.into_boxed_slice(), false, ty, pos)
    }

    pub fn new_array(&mut self, t: Option<&TypeName>, items: &[Expr], pos: usize) -> CResult<TE> {
        let mut tes = Vec::with_capacity(items.len());
        for e in items {
            tes.push((self.value(e)?, e.pos));
        }
        let elem = match t {
            Some(t) => self.resolve_type(t)?,
            None => {
                let mut acc: Option<Type> = None;
                for (te, p) in &tes {
                    acc = Some(match acc {
                        None => te.1,
                        Some(a) => unify(a, te.1).ok_or_else(|| {
                            ExprError::new(*p, "no best type found for implicitly-typed array")
                        })?,
                    });
                }
                acc.ok_or_else(|| {
                    ExprError::new(pos, "no best type found for implicitly-typed array")
                })?
            }
        };
        let elem = if elem == Type::Null {
            Type::Object
        } else {
            elem
        };
        if elem == Type::Int && t.is_some_and(|t| t.name == "byte") {
            return Err(ExprError::new(pos, "byte array literals are not supported"));
        }
        let e = to_elem(elem).ok_or_else(|| {
            ExprError::new(
                pos,
                format!("arrays of '{}' are not supported", elem.name()),
            )
        })?;
        let mut ids = Vec::with_capacity(tes.len());
        for (te, p) in tes {
            ids.push(self.coerce(te, elem, p)?);
        }
        Ok((
            self.push(Node::NewList(ids.into_boxed_slice()), pos)?,
            Type::Seq(e),
        ))
    }
}
