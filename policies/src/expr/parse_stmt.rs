//! Statement parsing for `@{ ... }` blocks: declarations, `if`/`else`, `foreach`, bounded
//! `for`, `return`, `break`/`continue`, `throw` and expression statements.

use super::ast::*;
use super::error::ExprError;
use super::lexer::Tk;
use super::parser::Parser;

type PResult<T> = Result<T, ExprError>;

impl Parser<'_> {
    pub(super) fn statement(&mut self) -> PResult<Stmt> {
        self.nested(Self::statement_inner)
    }

    fn block_or_stmt(&mut self) -> PResult<Box<Stmt>> {
        Ok(Box::new(self.statement()?))
    }

    fn statement_inner(&mut self) -> PResult<Stmt> {
        let pos = self.pos();
        if self.is_punct("{") {
            self.i += 1;
            let mut stmts = Vec::new();
            while !self.is_punct("}") {
                if self.at_eof() {
                    return Err(self.err("expected '}'"));
                }
                stmts.push(self.statement()?);
            }
            self.i += 1;
            return Ok(Stmt {
                kind: StmtKind::Block(stmts),
                pos,
            });
        }
        if self.is_punct(";") {
            self.i += 1;
            return Ok(Stmt {
                kind: StmtKind::Empty,
                pos,
            });
        }
        let kw = match &self.tok().kind {
            Tk::Ident(s) => s.clone(),
            _ => String::new(),
        };
        let kind = match kw.as_str() {
            "if" => {
                self.i += 1;
                self.expect("(")?;
                let c = self.expr()?;
                self.expect(")")?;
                let then = self.block_or_stmt()?;
                let els = if self.is_ident("else") {
                    self.i += 1;
                    Some(self.block_or_stmt()?)
                } else {
                    None
                };
                StmtKind::If(c, then, els)
            }
            "return" => {
                self.i += 1;
                StmtKind::Return(self.optional_expr_then_semicolon()?)
            }
            "throw" => {
                self.i += 1;
                StmtKind::Throw(self.optional_expr_then_semicolon()?)
            }
            "break" | "continue" => {
                self.i += 1;
                self.expect(";")?;
                if kw == "break" {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                }
            }
            "foreach" => {
                self.i += 1;
                self.expect("(")?;
                let t = self
                    .try_type(true)
                    .ok_or_else(|| self.err("expected a type or 'var'"))?;
                let name = self.ident()?;
                if !self.is_ident("in") {
                    return Err(self.err("expected 'in'"));
                }
                self.i += 1;
                let src = self.expr()?;
                self.expect(")")?;
                let body = self.block_or_stmt()?;
                StmtKind::Foreach(
                    if t.name == "var" { None } else { Some(t) },
                    name,
                    src,
                    body,
                )
            }
            "for" => {
                self.i += 1;
                self.expect("(")?;
                let init = if self.is_punct(";") {
                    self.i += 1;
                    None
                } else {
                    Some(Box::new(self.simple_statement()?))
                };
                let cond = self.optional_expr_then_semicolon()?;
                let mut step = Vec::new();
                while !self.is_punct(")") {
                    step.push(self.expr()?);
                    if self.is_punct(",") {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                self.expect(")")?;
                let body = self.block_or_stmt()?;
                StmtKind::For(init, cond, step, body)
            }
            "while" => {
                self.i += 1;
                self.expect("(")?;
                let c = self.expr()?;
                self.expect(")")?;
                let body = self.block_or_stmt()?;
                StmtKind::While(c, body)
            }
            "do" => {
                return Err(ExprError::new(
                    pos,
                    "do/while loops are not supported: loops must be bounded",
                )
                .with_hint("use foreach over a collection or a for loop with a literal bound"))
            }
            "try" | "switch" | "goto" | "lock" | "using" | "fixed" | "unsafe" | "yield" => {
                return Err(ExprError::new(
                    pos,
                    format!("'{kw}' statements are not supported in policy expressions"),
                ))
            }
            _ => return self.simple_statement(),
        };
        Ok(Stmt { kind, pos })
    }

    /// An expression unless a `;` comes first, then the `;` (`return;`, `return x;`, a `for`
    /// condition).
    fn optional_expr_then_semicolon(&mut self) -> PResult<Option<Expr>> {
        let e = if self.is_punct(";") {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect(";")?;
        Ok(e)
    }

    /// A declaration or an expression statement, with its `;`.
    fn simple_statement(&mut self) -> PResult<Stmt> {
        let pos = self.pos();
        let save = self.i;
        if let Some(t) = self.try_type(true) {
            if matches!(self.tok().kind, Tk::Ident(_)) {
                let mut vars = Vec::new();
                loop {
                    let vpos = self.pos();
                    let name = self.ident()?;
                    let init = if self.is_punct("=") {
                        self.i += 1;
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    vars.push((name, init, vpos));
                    if self.is_punct(",") {
                        self.i += 1;
                        continue;
                    }
                    break;
                }
                self.expect(";")?;
                let t = if t.name == "var" { None } else { Some(t) };
                return Ok(Stmt {
                    kind: StmtKind::Decl(t, vars),
                    pos,
                });
            }
            self.i = save;
        }
        let e = self.expr()?;
        self.expect(";")?;
        Ok(Stmt {
            kind: StmtKind::Expr(e),
            pos,
        })
    }
}
