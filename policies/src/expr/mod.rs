//! Policy expressions: the C# subset of APIM's `@( expr )` and `@{ statements }`.
//!
//! Pipeline: [`lexer`] → [`parser`] (AST with byte offsets) → `check*` (types, member
//! resolution, lowering to a flat node array) → [`Expr`], immutable and `Send + Sync`,
//! compiled once at load → [`Expr::eval`] per request against an [`ExprContext`]
//! implemented by the VM. Runtime strings and composite values live in the request arena
//! (`bumpalo::Bump`); [`Value`] is `Copy` and owns no heap memory.
//!
//! Anything outside the supported subset is a load-time [`ExprError`] with a byte offset;
//! runtime failures (null dereference, parse/cast failure, division by zero, index out of
//! range) are [`EvalError`]s, which the VM maps to `ExpressionValueEvaluationFailure`.
//!
//! Evaluation recurses over the node tree; the depth is bounded at compile time
//! ([`MAX_DEPTH`] nesting levels), and loops are bounded (`foreach` over finite collections,
//! `for` with a literal bound, a per-evaluation step budget in [`ExprScratch`]).

mod ast;
pub mod builtins;
mod check;
mod check_call;
mod check_ops;
mod check_stmt;
pub mod context;
mod error;
mod eval;
mod eval_linq;
mod eval_ops;
mod ir;
mod lexer;
mod parse_primary;
mod parse_stmt;
mod parser;
mod resolve;
mod resolve_static;
pub mod types;
pub mod value;

#[cfg(test)]
mod tests;

pub use builtins::time::{DateKind, DateTime, Guid, TimeSpan};
pub use context::{Certificate, Entity, ExprContext, Field, Msg, UrlKind, UrlParts};
pub use error::{EvalError, ExprError};
pub use types::Type;
pub use value::{Basic, Handle, Value};

/// Max syntactic nesting of an expression (parentheses, calls, blocks, ...).
pub const MAX_DEPTH: usize = 64;
/// Max source length of one expression, in bytes.
pub const MAX_SOURCE_LEN: usize = 64 * 1024;
/// Default per-evaluation budget of loop iterations and LINQ element visits.
pub const DEFAULT_STEP_BUDGET: u32 = 1_000_000;

/// Where an expression appears; decides what it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileEnv {
    /// True in outbound and on-error: `context.Response` is usable.
    pub has_response: bool,
    /// Section name for messages: `"inbound"`, `"backend"`, `"outbound"`, `"on-error"`.
    pub section: &'static str,
}

impl CompileEnv {
    pub fn inbound() -> Self {
        CompileEnv {
            has_response: false,
            section: "inbound",
        }
    }

    pub fn outbound() -> Self {
        CompileEnv {
            has_response: true,
            section: "outbound",
        }
    }
}

/// A compiled expression: a flat node array plus precompiled regexes.
#[derive(Debug)]
pub struct Expr {
    nodes: Vec<ir::Node>,
    root: ir::Id,
    n_slots: usize,
    regexes: Vec<regex::Regex>,
    ty: Type,
}

/// Reusable per-shard evaluation state (the step budget). Cheap to create.
#[derive(Debug)]
pub struct ExprScratch {
    /// Loop iterations and LINQ element visits allowed per evaluation.
    pub step_budget: u32,
}

impl Default for ExprScratch {
    fn default() -> Self {
        ExprScratch {
            step_budget: DEFAULT_STEP_BUDGET,
        }
    }
}

impl ExprScratch {
    pub fn new() -> Self {
        Self::default()
    }
}

/// True when an attribute value or element text is a policy expression (`@(` or `@{`
/// after trimming whitespace).
pub fn is_expression(attr_value: &str) -> bool {
    let t = attr_value.trim();
    t.starts_with("@(") || t.starts_with("@{")
}

/// Compiles an expression. `source` is the text from `@` (optional) on, e.g.
/// `"(context.Request.Method)"`, `"@(1 + 1)"` or `"{ return 1; }"`; offsets in errors are
/// byte offsets into `source`.
pub fn compile(source: &str, env: &CompileEnv) -> Result<Expr, ExprError> {
    if source.len() > MAX_SOURCE_LEN {
        return Err(ExprError::new(
            0,
            format!("expression is longer than {MAX_SOURCE_LEN} bytes"),
        ));
    }
    let body = parser::parse_body(source)?;
    let mut ck = check::Checker::new(env);
    let (root, ty) = match &body {
        ast::Body::Expr(e) => {
            let te = ck.value(e)?;
            if te.1 == Type::Class(types::Class::CultureInfo) {
                return Err(ExprError::new(e.pos, "a type is not a value"));
            }
            te
        }
        ast::Body::Block(stmts) => {
            let block_stmt = ast::Stmt {
                kind: ast::StmtKind::Block(stmts.clone()),
                pos: 0,
            };
            if !check_stmt::always_returns(&block_stmt) {
                let end = source.trim_end().len().saturating_sub(1);
                return Err(ExprError::new(end, "not all code paths return a value")
                    .with_hint("end the block with a return statement"));
            }
            let id = ck.block(stmts, 0)?;
            (id, ck.block_type())
        }
    };
    let expr = Expr {
        nodes: ck.nodes,
        root,
        n_slots: ck.n_slots,
        regexes: ck.regexes,
        ty,
    };
    let depth = expr.max_depth();
    if depth > 4 * MAX_DEPTH {
        return Err(ExprError::new(
            0,
            format!("expression is nested too deeply (limit {MAX_DEPTH})"),
        ));
    }
    Ok(expr)
}

impl Expr {
    /// The static result type (`Type::Object` for dynamic results).
    pub fn result_type(&self) -> Type {
        self.ty
    }

    /// Evaluates against a request. Runtime strings and values are allocated in
    /// `ctx.arena()`; the `Expr` itself must outlive the arena borrow (`'a`), which holds
    /// for a `Program` shared across requests.
    pub fn eval<'a>(
        &'a self,
        ctx: &dyn ExprContext<'a>,
        scratch: &mut ExprScratch,
    ) -> Result<Value<'a>, EvalError> {
        eval::run(self, ctx, scratch)
    }

    /// Evaluates and converts the result with C# `ToString()` semantics (`null` → `""`).
    pub fn eval_display<'a>(
        &'a self,
        ctx: &dyn ExprContext<'a>,
        scratch: &mut ExprScratch,
    ) -> Result<&'a str, EvalError> {
        let v = self.eval(ctx, scratch)?;
        Ok(v.to_display(ctx.arena()))
    }

    /// Depth of the node tree (bounded at compile time; the evaluator recurses this deep).
    fn max_depth(&self) -> usize {
        // Iterative: nodes only reference earlier nodes, so one forward pass suffices.
        let mut depth = vec![1usize; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            let mut d = 0;
            eval::for_each_child(n, |c| {
                if let Some(cd) = depth.get(c as usize) {
                    d = d.max(*cd);
                }
            });
            depth[i] = d + 1;
        }
        depth.get(self.root as usize).copied().unwrap_or(1)
    }
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn expr_is_send_sync() {
        assert_send_sync::<super::Expr>();
    }
}
