//! Checking statements of `@{ ... }` blocks: declarations, `if`, `foreach` over bounded
//! collections, `for` with a literal bound, `return` (every path must return), `throw`.

use super::ast::{Expr, ExprKind, Stmt, StmtKind};
use super::check::{CResult, Checker};
use super::error::ExprError;
use super::ir::{Id, Node};
use super::types::Type;

/// Max iterations of a `for` loop with a literal bound.
pub const MAX_FOR_ITERATIONS: i64 = 10_000;

fn bounded_hint() -> &'static str {
    "use foreach over a collection, or for (int i = 0; i < N; i++) with a literal N"
}

/// Whether a statement always returns (or throws).
pub fn always_returns(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Return(_) | StmtKind::Throw(_) => true,
        StmtKind::Block(b) => b.iter().any(always_returns),
        StmtKind::If(_, t, Some(e)) => always_returns(t) && always_returns(e),
        _ => false,
    }
}

fn assigns(e: &Expr, var: &str) -> bool {
    fn walk(e: &Expr, var: &str) -> bool {
        match &e.kind {
            ExprKind::Assign(t, _, v) => {
                matches!(&t.kind, ExprKind::Ident(n) if n == var) || walk(t, var) || walk(v, var)
            }
            ExprKind::IncDec(t, _, _) => {
                matches!(&t.kind, ExprKind::Ident(n) if n == var) || walk(t, var)
            }
            ExprKind::Member(r, _, _)
            | ExprKind::Unary(_, r)
            | ExprKind::Cast(_, r)
            | ExprKind::As(r, _) => walk(r, var),
            ExprKind::Is(r, _, _) | ExprKind::IsNull(r, _) => walk(r, var),
            ExprKind::Call(c, args) => walk(c, var) || args.iter().any(|a| walk(&a.value, var)),
            ExprKind::Index(r, i) => walk(r, var) || i.iter().any(|x| walk(x, var)),
            ExprKind::CondAccess(a, b) | ExprKind::Binary(_, a, b) => walk(a, var) || walk(b, var),
            ExprKind::Cond(a, b, c) => walk(a, var) || walk(b, var) || walk(c, var),
            ExprKind::Lambda(_, b) => walk(b, var),
            _ => false,
        }
    }
    walk(e, var)
}

fn stmt_assigns(s: &Stmt, var: &str) -> bool {
    match &s.kind {
        StmtKind::Block(b) => b.iter().any(|s| stmt_assigns(s, var)),
        StmtKind::Decl(_, vars) => vars
            .iter()
            .any(|(_, e, _)| e.as_ref().is_some_and(|e| assigns(e, var))),
        StmtKind::Expr(e) | StmtKind::Return(Some(e)) | StmtKind::Throw(Some(e)) => assigns(e, var),
        StmtKind::If(c, t, e) => {
            assigns(c, var)
                || stmt_assigns(t, var)
                || e.as_ref().is_some_and(|e| stmt_assigns(e, var))
        }
        StmtKind::Foreach(_, _, src, b) => assigns(src, var) || stmt_assigns(b, var),
        StmtKind::For(i, c, st, b) => {
            i.as_ref().is_some_and(|i| stmt_assigns(i, var))
                || c.as_ref().is_some_and(|c| assigns(c, var))
                || st.iter().any(|x| assigns(x, var))
                || stmt_assigns(b, var)
        }
        StmtKind::While(c, b) => assigns(c, var) || stmt_assigns(b, var),
        _ => false,
    }
}

fn int_lit(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(v, _) if *v <= i32::MAX as u64 => Some(*v as i64),
        ExprKind::Unary(super::ast::UnOp::Neg, x) => int_lit(x).map(|v| -v),
        _ => None,
    }
}

impl Checker<'_> {
    pub fn block(&mut self, stmts: &[Stmt], pos: usize) -> CResult<Id> {
        self.scopes.push(Vec::new());
        let r = (|| {
            let mut ids = Vec::with_capacity(stmts.len());
            for s in stmts {
                ids.push(self.stmt(s)?);
            }
            self.push(Node::Block(ids.into_boxed_slice()), pos)
        })();
        self.scopes.pop();
        r
    }

    pub fn stmt(&mut self, s: &Stmt) -> CResult<Id> {
        self.depth += 1;
        if self.depth > 2 * super::MAX_DEPTH {
            return Err(ExprError::new(s.pos, "statements are nested too deeply"));
        }
        let r = self.stmt_inner(s);
        self.depth -= 1;
        r
    }

    fn stmt_inner(&mut self, s: &Stmt) -> CResult<Id> {
        let pos = s.pos;
        match &s.kind {
            StmtKind::Block(b) => self.block(b, pos),
            StmtKind::Empty => self.push(Node::Nop, pos),
            StmtKind::Decl(t, vars) => {
                let declared = match t {
                    Some(t) => Some(self.resolve_type(t)?),
                    None => None,
                };
                let mut ids = Vec::new();
                for (name, init, vpos) in vars {
                    let (slot, value) = match (declared, init) {
                        (None, None) => {
                            return Err(ExprError::new(
                                *vpos,
                                "implicitly-typed variables must be initialized",
                            ))
                        }
                        (None, Some(e)) => {
                            let te = self.value(e)?;
                            if te.1 == Type::Null {
                                return Err(ExprError::new(
                                    *vpos,
                                    "cannot assign <null> to an implicitly-typed variable",
                                ));
                            }
                            (self.declare(name, te.1, *vpos)?, te.0)
                        }
                        (Some(t), Some(e)) => {
                            let te = self.value(e)?;
                            let id = self.coerce(te, t, e.pos)?;
                            (self.declare(name, t, *vpos)?, id)
                        }
                        (Some(t), None) => {
                            let id = self.konst(Self::default_const(t), *vpos)?;
                            (self.declare(name, t, *vpos)?, id)
                        }
                    };
                    let a = self.push(Node::Assign(slot, value), *vpos)?;
                    ids.push(self.push(Node::Discard(a), *vpos)?);
                }
                if ids.len() == 1 {
                    return Ok(ids[0]);
                }
                self.push(Node::Block(ids.into_boxed_slice()), pos)
            }
            StmtKind::Expr(e) => {
                let ok = matches!(
                    e.kind,
                    ExprKind::Assign(..)
                        | ExprKind::Call(..)
                        | ExprKind::IncDec(..)
                        | ExprKind::New(..)
                        | ExprKind::CondAccess(..)
                );
                if !ok {
                    return Err(ExprError::new(
                        pos,
                        "only assignment, call, increment, decrement and new object expressions can be used as a statement",
                    ));
                }
                let te = self.expr(e)?;
                self.push(Node::Discard(te.0), pos)
            }
            StmtKind::If(c, t, e) => {
                let cte = self.value(c)?;
                let cid = self.coerce(cte, Type::Bool, c.pos)?;
                let tid = self.scoped_stmt(t)?;
                let eid = match e {
                    Some(e) => Some(self.scoped_stmt(e)?),
                    None => None,
                };
                self.push(Node::If(cid, tid, eid), pos)
            }
            StmtKind::Return(None) => Err(ExprError::new(
                pos,
                "an expression block must return a value",
            )),
            StmtKind::Return(Some(e)) => {
                let te = self.value(e)?;
                self.returns.push(te.1);
                self.push(Node::Return(te.0), pos)
            }
            StmtKind::Throw(e) => {
                let msg = match e.as_ref().map(|e| &e.kind) {
                    None => None,
                    Some(ExprKind::New(t, args)) if t.name.ends_with("Exception") => {
                        match args.as_slice() {
                            [] => None,
                            [a, ..] => {
                                let te = self.value(&a.value)?;
                                Some(self.stringify(te, a.value.pos)?)
                            }
                        }
                    }
                    Some(_) => {
                        return Err(ExprError::new(
                            pos,
                            "only 'throw new XxxException(message)' is supported",
                        ))
                    }
                };
                self.push(Node::Throw(msg), pos)
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.loops == 0 {
                    return Err(ExprError::new(
                        pos,
                        "no enclosing loop out of which to break or continue",
                    ));
                }
                self.push(
                    if matches!(s.kind, StmtKind::Break) {
                        Node::Break
                    } else {
                        Node::Continue
                    },
                    pos,
                )
            }
            StmtKind::While(..) => Err(ExprError::new(
                pos,
                "while loops are not supported: loops must be bounded",
            )
            .with_hint(bounded_hint())),
            StmtKind::Foreach(t, name, src, body) => {
                let s = self.value(src)?;
                let elem = match s.1 {
                    Type::JObject => Type::JProperty,
                    t => t.elem().ok_or_else(|| {
                        ExprError::new(
                            src.pos,
                            format!("foreach cannot iterate over a value of type '{}'", t.name()),
                        )
                    })?,
                };
                self.scopes.push(Vec::new());
                let r = (|| {
                    let var_t = match t {
                        Some(t) => self.resolve_type(t)?,
                        None => elem,
                    };
                    if var_t != elem
                        && !(var_t == Type::Object
                            || (elem == Type::JToken && var_t.is_json())
                            || (elem == Type::JToken
                                && matches!(
                                    var_t,
                                    Type::Str | Type::Int | Type::Long | Type::Double | Type::Bool
                                )))
                    {
                        return Err(ExprError::new(
                            pos,
                            format!("cannot convert '{}' to '{}'", elem.name(), var_t.name()),
                        ));
                    }
                    let slot = self.declare(name, var_t, pos)?;
                    self.loops += 1;
                    let b = self.stmt(body);
                    self.loops -= 1;
                    let mut body_id = b?;
                    if var_t != elem && var_t != Type::Object {
                        // Explicit conversion of each element, as C# foreach does.
                        let raw = self.push(Node::Local(slot), pos)?;
                        let conv = self.cast((raw, elem), var_t, pos)?;
                        let set = self.push(Node::Assign(slot, conv), pos)?;
                        let set = self.push(Node::Discard(set), pos)?;
                        body_id = self.push(Node::Block(Box::new([set, body_id])), pos)?;
                    }
                    self.push(
                        Node::Foreach {
                            slot,
                            src: s.0,
                            body: body_id,
                        },
                        pos,
                    )
                })();
                self.scopes.pop();
                r
            }
            StmtKind::For(init, cond, step, body) => {
                self.for_loop(init.as_deref(), cond.as_ref(), step, body, pos)
            }
        }
    }

    fn scoped_stmt(&mut self, s: &Stmt) -> CResult<Id> {
        self.scopes.push(Vec::new());
        let r = self.stmt(s);
        self.scopes.pop();
        r
    }

    fn for_loop(
        &mut self,
        init: Option<&Stmt>,
        cond: Option<&Expr>,
        step: &[Expr],
        body: &Stmt,
        pos: usize,
    ) -> CResult<Id> {
        let unbounded = || {
            ExprError::new(pos, "for loops must have a literal iteration bound")
                .with_hint(bounded_hint())
        };
        // Shape: for (int i = A; i < B | i <= B | i > B | i >= B; i++ | i-- | i += k | i -= k)
        let Some(StmtKind::Decl(_, vars)) = init.map(|s| &s.kind) else {
            return Err(unbounded());
        };
        let [(var, Some(start_e), _)] = vars.as_slice() else {
            return Err(unbounded());
        };
        let start = int_lit(start_e).ok_or_else(unbounded)?;
        let Some(Expr {
            kind: ExprKind::Binary(op, l, r),
            ..
        }) = cond
        else {
            return Err(unbounded());
        };
        if !matches!(&l.kind, ExprKind::Ident(n) if n == var) {
            return Err(unbounded());
        }
        let literal_bound = int_lit(r);
        let collection_bound =
            matches!(&r.kind, ExprKind::Member(_, m, _) if m == "Length" || m == "Count");
        if literal_bound.is_none() && !collection_bound {
            return Err(unbounded());
        }
        let [st] = step else { return Err(unbounded()) };
        let delta = match &st.kind {
            ExprKind::IncDec(t, d, _) if matches!(&t.kind, ExprKind::Ident(n) if n == var) => {
                *d as i64
            }
            ExprKind::Assign(t, Some(o), k) if matches!(&t.kind, ExprKind::Ident(n) if n == var) => {
                let k = int_lit(k).ok_or_else(unbounded)?;
                match o {
                    super::ast::BinOp::Add => k,
                    super::ast::BinOp::Sub => -k,
                    _ => return Err(unbounded()),
                }
            }
            _ => return Err(unbounded()),
        };
        use super::ast::BinOp as O;
        let upward = matches!(op, O::Lt | O::Le);
        if delta == 0 || (upward != (delta > 0)) || !matches!(op, O::Lt | O::Le | O::Gt | O::Ge) {
            return Err(unbounded());
        }
        if let Some(b) = literal_bound {
            let inclusive = i64::from(matches!(op, O::Le | O::Ge));
            let step = delta.abs();
            let distance = if upward { b - start } else { start - b };
            let iterations = if distance < 0 {
                0
            } else {
                (distance + inclusive * step + step - 1) / step
            };
            if iterations > MAX_FOR_ITERATIONS {
                return Err(ExprError::new(
                    pos,
                    format!("for loops are limited to {MAX_FOR_ITERATIONS} iterations"),
                ));
            }
        }
        if stmt_assigns(body, var) {
            return Err(ExprError::new(
                pos,
                format!("the loop variable '{var}' must not be assigned in the loop body"),
            )
            .with_hint(bounded_hint()));
        }
        self.scopes.push(Vec::new());
        let r = (|| {
            let init_id = self.stmt(init.ok_or_else(unbounded)?)?;
            let c = self.value(cond.ok_or_else(unbounded)?)?;
            let cid = self.coerce(c, Type::Bool, pos)?;
            let s = self.expr(st)?;
            self.loops += 1;
            let b = self.stmt(body);
            self.loops -= 1;
            let b = b?;
            self.push(
                Node::For {
                    init: Some(init_id),
                    cond: cid,
                    step: Some(s.0),
                    body: b,
                },
                pos,
            )
        })();
        self.scopes.pop();
        r
    }

    /// The result type of a block: the common type of all `return`s (else `object`).
    pub fn block_type(&self) -> Type {
        let mut acc: Option<Type> = None;
        for t in &self.returns {
            acc = Some(match acc {
                None => *t,
                Some(a) => super::check::unify(a, *t).unwrap_or(Type::Object),
            });
        }
        match acc {
            None | Some(Type::Null) => Type::Object,
            Some(t) => t,
        }
    }
}
