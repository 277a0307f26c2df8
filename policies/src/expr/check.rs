//! Type checking and lowering of the AST into the flat [`Node`] array: scopes and local
//! slots, literals, operators with C# promotion rules, implicit/explicit conversions.
//! Member access, calls and LINQ are in `check_call.rs`; statements in `check_stmt.rs`.

use super::ast::{BinOp, Expr, ExprKind, InterpPart, TypeName, UnOp};
use super::builtins::format::format_value;
use super::builtins::time::{DateKind, DateTime, Guid, TimeSpan};
use super::error::ExprError;
use super::ir::{Const, Id, Node, Num, Op, Slot, TestMode};
use super::resolve::{num_type, promote};
use super::types::{class_by_name, elem_type, to_elem, type_by_name, Class, Type};
use super::value::{Handle, Value};
use super::{CompileEnv, MAX_DEPTH};

pub type CResult<T> = Result<T, ExprError>;
/// A typed, lowered expression.
pub type TE = (Id, Type);

/// Max local variables (including temporaries) per expression.
pub const MAX_SLOTS: usize = 1024;
/// Max IR nodes per expression.
pub const MAX_NODES: usize = 100_000;

pub struct Checker<'e> {
    pub env: &'e CompileEnv,
    pub nodes: Vec<Node>,
    pub scopes: Vec<Vec<(String, Slot, Type)>>,
    pub n_slots: usize,
    pub cond_recv: Vec<(Slot, Type)>,
    pub regexes: Vec<regex::Regex>,
    pub returns: Vec<Type>,
    pub loops: usize,
    pub depth: usize,
}

impl<'e> Checker<'e> {
    pub fn new(env: &'e CompileEnv) -> Self {
        Checker {
            env,
            nodes: Vec::new(),
            scopes: vec![Vec::new()],
            n_slots: 0,
            cond_recv: Vec::new(),
            regexes: Vec::new(),
            returns: Vec::new(),
            loops: 0,
            depth: 0,
        }
    }

    pub fn push(&mut self, n: Node, pos: usize) -> CResult<Id> {
        if self.nodes.len() >= MAX_NODES {
            return Err(ExprError::new(pos, "expression is too large"));
        }
        self.nodes.push(n);
        Ok((self.nodes.len() - 1) as Id)
    }

    /// `is` / `as` / `is null` of `v` against `ty`, giving a `result`.
    fn test(&mut self, v: TE, ty: Type, mode: TestMode, result: Type, pos: usize) -> CResult<TE> {
        let test = Node::Test {
            ty,
            mode,
            node: v.0,
        };
        Ok((self.push(test, pos)?, result))
    }

    pub fn konst(&mut self, c: Const, pos: usize) -> CResult<Id> {
        self.push(Node::Const(c), pos)
    }

    /// The string constant a node holds, if it is one.
    pub fn const_str(&self, id: Id) -> Option<&str> {
        match self.nodes.get(id as usize) {
            Some(Node::Const(Const::Str(s))) => Some(s),
            _ => None,
        }
    }

    pub fn new_slot(&mut self, pos: usize) -> CResult<Slot> {
        if self.n_slots >= MAX_SLOTS {
            return Err(ExprError::new(pos, "too many local variables"));
        }
        self.n_slots += 1;
        Ok((self.n_slots - 1) as Slot)
    }

    pub fn lookup(&self, name: &str) -> Option<(Slot, Type)> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _, _)| n == name)
            .map(|(_, s, t)| (*s, *t))
    }

    pub fn declare(&mut self, name: &str, t: Type, pos: usize) -> CResult<Slot> {
        if self.lookup(name).is_some() || name == "context" {
            return Err(ExprError::new(
                pos,
                format!("a local variable named '{name}' is already defined in this scope"),
            ));
        }
        if t == Type::Void {
            return Err(ExprError::new(pos, "cannot assign void to a variable"));
        }
        let slot = self.new_slot(pos)?;
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), slot, t));
        }
        Ok(slot)
    }

    pub fn resolve_type(&self, t: &TypeName) -> CResult<Type> {
        let unknown = || {
            ExprError::new(
                t.pos,
                format!(
                    "the type '{}' is not supported in policy expressions",
                    t.name
                ),
            )
        };
        let short = t.name.rsplit('.').next().unwrap_or(&t.name);
        let base = if !t.args.is_empty() {
            match (short, t.args.as_slice()) {
                (
                    "List"
                    | "IEnumerable"
                    | "IList"
                    | "ICollection"
                    | "IReadOnlyList"
                    | "IReadOnlyCollection",
                    [a],
                ) => {
                    let inner = self.resolve_type(a)?;
                    Type::Seq(to_elem(inner).ok_or_else(unknown)?)
                }
                ("Nullable", [a]) => self.resolve_type(a)?,
                _ => return Err(unknown()),
            }
        } else if short == "byte" || short == "Byte" {
            if t.array {
                return Ok(Type::Bytes);
            }
            Type::Int
        } else {
            type_by_name(&t.name).ok_or_else(unknown)?
        };
        if t.array {
            return Ok(Type::Seq(to_elem(base).ok_or_else(unknown)?));
        }
        Ok(base)
    }

    pub fn default_const(t: Type) -> Const {
        match t {
            Type::Bool => Const::Bool(false),
            Type::Int => Const::Int(0),
            Type::Long => Const::Long(0),
            Type::Double => Const::Double(0.0),
            Type::Char => Const::Char('\0'),
            Type::DateTime => Const::DateTime(DateTime {
                ticks: 0,
                kind: DateKind::Unspecified,
            }),
            Type::TimeSpan => Const::TimeSpan(TimeSpan { ticks: 0 }),
            Type::Guid => Const::Guid(Guid([0; 16])),
            _ => Const::Null,
        }
    }

    // ---- expressions ----------------------------------------------------------------

    pub fn expr(&mut self, e: &Expr) -> CResult<TE> {
        self.depth += 1;
        if self.depth > 2 * MAX_DEPTH {
            return Err(ExprError::new(
                e.pos,
                format!("expression is nested too deeply (limit {MAX_DEPTH})"),
            ));
        }
        let r = self.expr_inner(e);
        self.depth -= 1;
        r
    }

    /// An expression whose value is used (not `void`, not a type name).
    pub fn value(&mut self, e: &Expr) -> CResult<TE> {
        let te = self.expr(e)?;
        match te.1 {
            Type::Void => Err(ExprError::new(
                e.pos,
                "the expression does not produce a value",
            )),
            Type::Class(c) if c != Class::CultureInfo => Err(ExprError::new(
                e.pos,
                format!("'{c:?}' is a type, which is not valid in this context"),
            )),
            _ => Ok(te),
        }
    }

    fn expr_inner(&mut self, e: &Expr) -> CResult<TE> {
        let pos = e.pos;
        match &e.kind {
            ExprKind::Null => Ok((self.konst(Const::Null, pos)?, Type::Null)),
            ExprKind::Bool(b) => Ok((self.konst(Const::Bool(*b), pos)?, Type::Bool)),
            ExprKind::Int(v, long) => {
                let (c, t) = match (*v, *long) {
                    (u64::MAX, false) => (Const::Int(i32::MIN), Type::Int),
                    (x, true) if x == u64::MAX - 1 => (Const::Long(i64::MIN), Type::Long),
                    (x, false) if x <= i32::MAX as u64 => (Const::Int(x as i32), Type::Int),
                    (x, _) if x <= i64::MAX as u64 => (Const::Long(x as i64), Type::Long),
                    _ => return Err(ExprError::new(pos, "integral constant is too large")),
                };
                Ok((self.konst(c, pos)?, t))
            }
            ExprKind::Double(d) => Ok((self.konst(Const::Double(*d), pos)?, Type::Double)),
            ExprKind::Char(c) => Ok((self.konst(Const::Char(*c), pos)?, Type::Char)),
            ExprKind::Str(s) => Ok((self.konst(Const::Str(s.as_str().into()), pos)?, Type::Str)),
            ExprKind::Interp(parts) => self.interp(parts, pos),
            ExprKind::Ident(name) => {
                if let Some((slot, t)) = self.lookup(name) {
                    return Ok((self.push(Node::Local(slot), pos)?, t));
                }
                if name == "context" {
                    return Ok((
                        self.konst(Const::Handle(Handle::Context), pos)?,
                        Type::Context,
                    ));
                }
                if let Some(c) = class_by_name(name) {
                    return Ok((self.push(Node::Nop, pos)?, Type::Class(c)));
                }
                Err(ExprError::new(
                    pos,
                    format!("the name '{name}' does not exist in the current context"),
                ))
            }
            ExprKind::Member(recv, name, generics) => {
                if !generics.is_empty() {
                    return Err(ExprError::new(
                        pos,
                        format!("generic method '{name}' must be called"),
                    ));
                }
                self.member(recv, name, pos)
            }
            ExprKind::Call(callee, args) => self.call(callee, args, pos),
            ExprKind::Index(recv, idx) => self.index(recv, idx, pos),
            ExprKind::CondAccess(target, chain) => {
                let t = self.value(target)?;
                let slot = self.new_slot(pos)?;
                self.cond_recv.push((slot, t.1));
                let body = self.expr(chain);
                self.cond_recv.pop();
                let body = body?;
                Ok((
                    self.push(
                        Node::CondAccess {
                            target: t.0,
                            slot,
                            body: body.0,
                        },
                        pos,
                    )?,
                    body.1,
                ))
            }
            ExprKind::CondReceiver => {
                let (slot, t) = *self
                    .cond_recv
                    .last()
                    .ok_or_else(|| ExprError::new(pos, "misplaced '?.'"))?;
                Ok((self.push(Node::Local(slot), pos)?, t))
            }
            ExprKind::Unary(op, x) => self.unary(*op, x, pos),
            ExprKind::IncDec(target, delta, post) => self.inc_dec(target, *delta, *post, pos),
            ExprKind::Binary(op, l, r) => {
                let l = self.value(l)?;
                let r = self.value(r)?;
                self.binary(*op, l, r, pos)
            }
            ExprKind::Cond(c, a, b) => {
                let c = self.value(c)?;
                let c = self.coerce(c, Type::Bool, pos)?;
                let a = self.value(a)?;
                let b = self.value(b)?;
                let t = unify(a.1, b.1).ok_or_else(|| {
                    ExprError::new(
                        pos,
                        format!(
                            "no implicit conversion between '{}' and '{}'",
                            a.1.name(),
                            b.1.name()
                        ),
                    )
                })?;
                let a = self.coerce(a, t, pos)?;
                let b = self.coerce(b, t, pos)?;
                Ok((self.push(Node::Cond(c, a, b), pos)?, t))
            }
            ExprKind::Assign(target, op, value) => self.assign(target, *op, value, pos),
            ExprKind::Cast(t, x) => {
                let to = self.resolve_type(t)?;
                let v = self.value(x)?;
                Ok((self.cast(v, to, pos)?, to))
            }
            ExprKind::Is(x, t, bind) => {
                let ty = self.resolve_type(t)?;
                let v = self.value(x)?;
                let mode = match bind {
                    Some(name) => TestMode::IsBind(self.declare(name, ty, pos)?),
                    None => TestMode::Is,
                };
                self.test(v, ty, mode, Type::Bool, pos)
            }
            ExprKind::IsNull(x, negated) => {
                let v = self.value(x)?;
                let mode = if *negated {
                    TestMode::IsNotNull
                } else {
                    TestMode::IsNull
                };
                self.test(v, Type::Null, mode, Type::Bool, pos)
            }
            ExprKind::As(x, t) => {
                let ty = self.resolve_type(t)?;
                if super::resolve::is_value_type(ty) {
                    return Err(ExprError::new(
                        pos,
                        format!(
                            "the 'as' operator cannot be used with value type '{}'",
                            ty.name()
                        ),
                    ));
                }
                let v = self.value(x)?;
                self.test(v, ty, TestMode::As, ty, pos)
            }
            ExprKind::Lambda(..) => Err(ExprError::new(
                pos,
                "lambda expressions are only supported as arguments of LINQ methods",
            )),
            ExprKind::New(t, args) => self.new_object(t, args, pos),
            ExprKind::NewArray(t, items) => self.new_array(t.as_ref(), items, pos),
            ExprKind::NewAnon(members) => {
                let mut out = Vec::with_capacity(members.len());
                for (name, v) in members {
                    let te = self.value(v)?;
                    out.push((name.as_str().into(), te.0));
                }
                Ok((
                    self.push(Node::Anon(out.into_boxed_slice()), pos)?,
                    Type::JObject,
                ))
            }
            ExprKind::Default(t) => {
                let ty = self.resolve_type(t)?;
                Ok((self.konst(Self::default_const(ty), pos)?, ty))
            }
            ExprKind::Typeof(_) => Err(ExprError::new(
                pos,
                "reflection (typeof/nameof) is not supported",
            )),
        }
    }

    fn interp(&mut self, parts: &[InterpPart], pos: usize) -> CResult<TE> {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                InterpPart::Text(t) => {
                    let id = self.konst(Const::Str(t.as_str().into()), pos)?;
                    out.push((id, None, 0));
                }
                InterpPart::Hole {
                    expr,
                    align,
                    format,
                } => {
                    let te = self.value(expr)?;
                    if let Some(f) = format {
                        check_format(te.1, f).map_err(|m| ExprError::new(expr.pos, m))?;
                    }
                    out.push((te.0, format.as_deref().map(Into::into), align.unwrap_or(0)));
                }
            }
        }
        Ok((
            self.push(Node::Interp(out.into_boxed_slice()), pos)?,
            Type::Str,
        ))
    }

    fn unary(&mut self, op: UnOp, x: &Expr, pos: usize) -> CResult<TE> {
        let v = self.value(x)?;
        let bad = |t: Type| {
            ExprError::new(
                pos,
                format!(
                    "operator cannot be applied to operand of type '{}'",
                    t.name()
                ),
            )
        };
        match op {
            UnOp::Not => {
                if !matches!(v.1, Type::Bool | Type::Null) {
                    return Err(bad(v.1));
                }
                Ok((self.push(Node::Not(v.0), pos)?, Type::Bool))
            }
            UnOp::Neg | UnOp::Plus | UnOp::BitNot => {
                let n = promote(v.1, Type::Int).ok_or_else(|| bad(v.1))?;
                if op == UnOp::BitNot && n == Num::Double {
                    return Err(bad(v.1));
                }
                let id = self.coerce(v, num_type(n), pos)?;
                let node = match op {
                    UnOp::Neg => Node::Neg(n, id),
                    UnOp::BitNot => Node::BitNot(n, id),
                    _ => return Ok((id, num_type(n))),
                };
                Ok((self.push(node, pos)?, num_type(n)))
            }
        }
    }

    fn inc_dec(&mut self, target: &Expr, delta: i32, post: bool, pos: usize) -> CResult<TE> {
        let ExprKind::Ident(name) = &target.kind else {
            return Err(ExprError::new(
                pos,
                "increment/decrement is only supported on local variables",
            ));
        };
        let (slot, t) = self.lookup(name).ok_or_else(|| {
            ExprError::new(
                pos,
                format!("the name '{name}' does not exist in the current context"),
            )
        })?;
        let n = match t {
            Type::Int => Num::Int,
            Type::Long => Num::Long,
            Type::Double => Num::Double,
            _ => {
                return Err(ExprError::new(
                    pos,
                    format!("cannot increment a value of type '{}'", t.name()),
                ))
            }
        };
        let one = match n {
            Num::Int => Const::Int(1),
            Num::Long => Const::Long(1),
            Num::Double => Const::Double(1.0),
        };
        let local = self.push(Node::Local(slot), pos)?;
        let k = self.konst(one.clone(), pos)?;
        let op = if delta > 0 { Op::Add(n) } else { Op::Sub(n) };
        let sum = self.push(Node::Bin(op, local, k), pos)?;
        let assign = self.push(Node::Assign(slot, sum), pos)?;
        if !post {
            return Ok((assign, t));
        }
        let k2 = self.konst(one, pos)?;
        let back = if delta > 0 { Op::Sub(n) } else { Op::Add(n) };
        Ok((self.push(Node::Bin(back, assign, k2), pos)?, t))
    }

    fn assign(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        pos: usize,
    ) -> CResult<TE> {
        match &target.kind {
            ExprKind::Ident(name) => {
                let (slot, t) = self.lookup(name).ok_or_else(|| {
                    ExprError::new(
                        target.pos,
                        format!("the name '{name}' does not exist in the current context"),
                    )
                })?;
                let v = self.value(value)?;
                let v = match op {
                    None => v,
                    Some(op) => {
                        let cur = self.push(Node::Local(slot), pos)?;
                        self.binary(op, (cur, t), v, pos)?
                    }
                };
                let id = self.coerce(v, t, value.pos)?;
                Ok((self.push(Node::Assign(slot, id), pos)?, t))
            }
            ExprKind::Index(recv, idx) if op.is_none() && idx.len() == 1 => {
                let r = self.value(recv)?;
                if !r.1.is_json() {
                    return Err(ExprError::new(
                        pos,
                        format!(
                            "indexer assignment is only supported on JSON tokens, not '{}'",
                            r.1.name()
                        ),
                    ));
                }
                let k = self.value(&idx[0])?;
                if !matches!(k.1, Type::Str | Type::Int | Type::Null) {
                    return Err(ExprError::new(
                        idx[0].pos,
                        "a JSON key must be a string or an int",
                    ));
                }
                let v = self.value(value)?;
                let v = self.coerce(v, Type::JToken, value.pos)?;
                let id = self.push(
                    Node::IndexSet {
                        target: r.0,
                        key: k.0,
                        value: v,
                    },
                    pos,
                )?;
                Ok((id, Type::JToken))
            }
            _ => Err(ExprError::new(
                pos,
                "this assignment target is not supported (context members are read-only)",
            )),
        }
    }
}

/// Validates a format string for a static type by formatting a sample value.
pub fn check_format(t: Type, f: &str) -> Result<(), String> {
    let sample = match t {
        Type::Int => Value::Int(1),
        Type::Long => Value::Long(1),
        Type::Double => Value::Double(1.5),
        Type::DateTime => Value::DateTime(DateTime {
            ticks: 0,
            kind: DateKind::Utc,
        }),
        Type::TimeSpan => Value::TimeSpan(TimeSpan { ticks: 0 }),
        Type::Guid => Value::Guid(Guid([0; 16])),
        _ => return Ok(()),
    };
    let mut s = String::new();
    format_value(sample, f, &mut s).map_err(|_| {
        format!(
            "invalid format string '{f}' for a value of type '{}'",
            t.name()
        )
    })
}

pub fn unify(a: Type, b: Type) -> Option<Type> {
    if a == b {
        return Some(a);
    }
    match (a, b) {
        (Type::Null, t) | (t, Type::Null) => Some(t),
        (Type::Object, _) | (_, Type::Object) => Some(Type::Object),
        (x, y) if x.is_numeric() && y.is_numeric() => promote(x, y).map(num_type),
        (x, y) if x.is_json() && y.is_json() => Some(Type::JToken),
        (Type::Match, Type::Group) | (Type::Group, Type::Match) => Some(Type::Group),
        (Type::Seq(x), Type::Seq(y)) => unify(elem_type(x), elem_type(y))
            .and_then(to_elem)
            .map(Type::Seq),
        _ => None,
    }
}

pub(super) fn op_str(op: BinOp) -> &'static str {
    match op {
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Lt => "<",
        BinOp::Gt => ">",
        BinOp::Le => "<=",
        BinOp::Ge => ">=",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::BitAnd => "&",
        BinOp::BitXor => "^",
        BinOp::BitOr => "|",
        BinOp::And => "&&",
        BinOp::Or => "||",
        BinOp::Coalesce => "??",
    }
}
