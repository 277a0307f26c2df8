//! Recursive-descent parser for the C# subset (precedence climbing for binary operators).
//! Nesting is bounded by [`MAX_DEPTH`](super::MAX_DEPTH) so deep input is a load error,
//! never a stack overflow.

use super::ast::*;
use super::error::ExprError;
use super::lexer::{lex, Tk, Token};
use super::MAX_DEPTH;

pub struct Parser<'s> {
    pub(super) src: &'s str,
    pub(super) toks: Vec<Token>,
    pub(super) i: usize,
    pub(super) depth: usize,
}

type PResult<T> = Result<T, ExprError>;

const KEYWORD_TYPES: &[&str] = &[
    "string", "int", "long", "double", "bool", "object", "char", "byte", "decimal", "float",
    "dynamic", "short", "uint", "ulong",
];

/// Parses a whole expression source: `(expr)` or `{ statements }`, optionally after `@`.
pub fn parse_body(src: &str) -> PResult<Body> {
    let trimmed_start = src.len() - src.trim_start().len();
    let mut start = trimmed_start;
    if src[start..].starts_with('@') {
        start += 1;
    }
    let mut p = Parser {
        src,
        toks: lex(src, start, src.len())?,
        i: 0,
        depth: 0,
    };
    let body = if p.is_punct("{") {
        p.i += 1;
        let mut stmts = Vec::new();
        while !p.is_punct("}") {
            if p.at_eof() {
                return Err(p.err("expected '}' at the end of the statement block"));
            }
            stmts.push(p.statement()?);
        }
        p.i += 1;
        Body::Block(stmts)
    } else if p.is_punct("(") {
        p.i += 1;
        let e = p.expr()?;
        p.expect(")")?;
        Body::Expr(e)
    } else {
        return Err(p.err("an expression must start with '@(' or '@{'"));
    };
    if !p.at_eof() {
        return Err(p.err("unexpected text after the end of the expression"));
    }
    Ok(body)
}

impl<'s> Parser<'s> {
    pub(super) fn tok(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.i.min(last)]
    }

    pub(super) fn tok_at(&self, k: usize) -> &Tk {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.i + k).min(last)].kind
    }

    pub(super) fn pos(&self) -> usize {
        self.tok().pos
    }

    pub(super) fn at_eof(&self) -> bool {
        matches!(self.tok().kind, Tk::Eof)
    }

    pub(super) fn is_punct(&self, p: &str) -> bool {
        matches!(&self.tok().kind, Tk::Punct(q) if *q == p)
    }

    pub(super) fn punct_at(&self, k: usize, p: &str) -> bool {
        matches!(self.tok_at(k), Tk::Punct(q) if *q == p)
    }

    pub(super) fn is_ident(&self, name: &str) -> bool {
        matches!(&self.tok().kind, Tk::Ident(s) if s == name)
    }

    pub(super) fn err(&self, msg: impl Into<String>) -> ExprError {
        let found = match &self.tok().kind {
            Tk::Eof => "end of expression".to_string(),
            Tk::Ident(s) => format!("'{s}'"),
            Tk::Punct(p) => format!("'{p}'"),
            _ => "a literal".to_string(),
        };
        ExprError::new(self.pos(), format!("{} (found {found})", msg.into()))
    }

    pub(super) fn expect(&mut self, p: &str) -> PResult<()> {
        if self.is_punct(p) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected '{p}'")))
        }
    }

    pub(super) fn ident(&mut self) -> PResult<String> {
        match &self.tok().kind {
            Tk::Ident(s) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => Err(self.err("expected an identifier")),
        }
    }

    pub(super) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                self.pos(),
                format!("expression is nested too deeply (limit {MAX_DEPTH})"),
            ));
        }
        Ok(())
    }

    /// `f` one level deeper: refused past [`MAX_DEPTH`], the level given back after.
    pub(super) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.enter()?;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Parses a type name; `None` (position restored) if the tokens are not a type.
    pub(super) fn try_type(&mut self, allow_nullable: bool) -> Option<TypeName> {
        let save = self.i;
        let r = self.type_name(allow_nullable);
        if r.is_none() {
            self.i = save;
        }
        r
    }

    pub(super) fn type_name(&mut self, allow_nullable: bool) -> Option<TypeName> {
        let pos = self.pos();
        let Tk::Ident(first) = &self.tok().kind else {
            return None;
        };
        let mut name = first.clone();
        self.i += 1;
        while self.is_punct(".") && matches!(self.tok_at(1), Tk::Ident(_)) {
            self.i += 1;
            if let Tk::Ident(s) = &self.tok().kind {
                name.push('.');
                name.push_str(s);
            }
            self.i += 1;
        }
        let mut args = Vec::new();
        if self.is_punct("<") {
            self.i += 1;
            loop {
                if self.depth + args.len() > MAX_DEPTH {
                    return None;
                }
                self.depth += 1;
                let t = self.type_name(true);
                self.depth -= 1;
                args.push(t?);
                if self.is_punct(",") {
                    self.i += 1;
                    continue;
                }
                if self.is_punct(">") {
                    self.i += 1;
                    break;
                }
                return None;
            }
        }
        let mut nullable = false;
        if allow_nullable && self.is_punct("?") {
            self.i += 1;
            nullable = true;
        }
        let mut array = false;
        if self.is_punct("[") && self.punct_at(1, "]") {
            self.i += 2;
            array = true;
        }
        Some(TypeName {
            name,
            args,
            array,
            nullable,
            pos,
        })
    }

    // ---- expressions ----------------------------------------------------------------

    pub(super) fn expr(&mut self) -> PResult<Expr> {
        self.nested(Self::expr_inner)
    }

    pub(super) fn expr_inner(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        if let Some(lambda) = self.try_lambda()? {
            return Ok(lambda);
        }
        let lhs = self.conditional()?;
        let op = match &self.tok().kind {
            Tk::Punct("=") => Some(None),
            Tk::Punct("+=") => Some(Some(BinOp::Add)),
            Tk::Punct("-=") => Some(Some(BinOp::Sub)),
            Tk::Punct("*=") => Some(Some(BinOp::Mul)),
            Tk::Punct("/=") => Some(Some(BinOp::Div)),
            Tk::Punct("%=") => Some(Some(BinOp::Rem)),
            Tk::Punct("&=") => Some(Some(BinOp::BitAnd)),
            Tk::Punct("|=") => Some(Some(BinOp::BitOr)),
            Tk::Punct("^=") => Some(Some(BinOp::BitXor)),
            Tk::Punct("??=") => Some(Some(BinOp::Coalesce)),
            _ => None,
        };
        if let Some(op) = op {
            self.i += 1;
            let rhs = self.expr()?;
            return Ok(Expr {
                kind: ExprKind::Assign(Box::new(lhs), op, Box::new(rhs)),
                pos,
            });
        }
        Ok(lhs)
    }

    pub(super) fn try_lambda(&mut self) -> PResult<Option<Expr>> {
        let pos = self.pos();
        let mut params = Vec::new();
        let save = self.i;
        if let Tk::Ident(s) = &self.tok().kind {
            if self.punct_at(1, "=>") {
                params.push(s.clone());
                self.i += 2;
            }
        } else if self.is_punct("(") {
            self.i += 1;
            loop {
                match &self.tok().kind {
                    Tk::Ident(s) => {
                        params.push(s.clone());
                        self.i += 1;
                    }
                    Tk::Punct(")") if params.is_empty() => {}
                    _ => break,
                }
                if self.is_punct(",") {
                    self.i += 1;
                    continue;
                }
                break;
            }
            if !(self.is_punct(")") && self.punct_at(1, "=>")) {
                self.i = save;
                return Ok(None);
            }
            self.i += 2;
        }
        if self.i == save {
            return Ok(None);
        }
        if self.is_punct("{") {
            return Err(
                self.err("statement-bodied lambdas are not supported; use an expression lambda")
            );
        }
        let body = self.expr()?;
        Ok(Some(Expr {
            kind: ExprKind::Lambda(params, Box::new(body)),
            pos,
        }))
    }

    pub(super) fn conditional(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let c = self.coalesce()?;
        if self.is_punct("?") {
            self.i += 1;
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr {
                kind: ExprKind::Cond(Box::new(c), Box::new(a), Box::new(b)),
                pos,
            });
        }
        Ok(c)
    }

    pub(super) fn coalesce(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let lhs = self.binary(1)?;
        if self.is_punct("??") {
            self.i += 1;
            let rhs = self.nested(Self::coalesce);
            return Ok(Expr {
                kind: ExprKind::Binary(BinOp::Coalesce, Box::new(lhs), Box::new(rhs?)),
                pos,
            });
        }
        Ok(lhs)
    }

    pub(super) fn binop(&self) -> Option<(BinOp, u8)> {
        let Tk::Punct(p) = &self.tok().kind else {
            return None;
        };
        Some(match *p {
            "||" => (BinOp::Or, 1),
            "&&" => (BinOp::And, 2),
            "|" => (BinOp::BitOr, 3),
            "^" => (BinOp::BitXor, 4),
            "&" => (BinOp::BitAnd, 5),
            "==" => (BinOp::Eq, 6),
            "!=" => (BinOp::Ne, 6),
            "<" => (BinOp::Lt, 7),
            ">" => (BinOp::Gt, 7),
            "<=" => (BinOp::Le, 7),
            ">=" => (BinOp::Ge, 7),
            "+" => (BinOp::Add, 8),
            "-" => (BinOp::Sub, 8),
            "*" => (BinOp::Mul, 9),
            "/" => (BinOp::Div, 9),
            "%" => (BinOp::Rem, 9),
            _ => return None,
        })
    }

    pub(super) fn binary(&mut self, min: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        let mut chain = 0usize;
        loop {
            let pos = self.pos();
            // `is` / `as` bind at relational precedence (7).
            if min <= 7 && (self.is_ident("is") || self.is_ident("as")) {
                let is = self.is_ident("is");
                self.i += 1;
                lhs = if is && self.is_ident("null") {
                    self.i += 1;
                    Expr {
                        kind: ExprKind::IsNull(Box::new(lhs), false),
                        pos,
                    }
                } else if is
                    && self.is_ident("not")
                    && matches!(self.tok_at(1), Tk::Ident(s) if s == "null")
                {
                    self.i += 2;
                    Expr {
                        kind: ExprKind::IsNull(Box::new(lhs), true),
                        pos,
                    }
                } else {
                    let t = self
                        .try_type(false)
                        .ok_or_else(|| self.err("expected a type"))?;
                    if is {
                        let bind = match &self.tok().kind {
                            Tk::Ident(s) if !matches!(s.as_str(), "and" | "or") => {
                                let s = s.clone();
                                self.i += 1;
                                Some(s)
                            }
                            _ => None,
                        };
                        Expr {
                            kind: ExprKind::Is(Box::new(lhs), t, bind),
                            pos,
                        }
                    } else {
                        Expr {
                            kind: ExprKind::As(Box::new(lhs), t),
                            pos,
                        }
                    }
                };
                continue;
            }
            let Some((op, prec)) = self.binop() else {
                break;
            };
            if prec < min {
                break;
            }
            self.i += 1;
            chain += 1;
            if chain > 4 * MAX_DEPTH {
                return Err(self.err("expression is too long"));
            }
            let rhs = self.nested(|p| p.binary(prec + 1));
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs?)),
                pos,
            };
            // Left-associative chains grow the tree's depth: count it.
            self.enter()?;
        }
        self.depth -= chain;
        Ok(lhs)
    }

    pub(super) fn unary(&mut self) -> PResult<Expr> {
        self.nested(Self::unary_inner)
    }

    pub(super) fn unary_inner(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let op = match &self.tok().kind {
            Tk::Punct("-") => Some(UnOp::Neg),
            Tk::Punct("+") => Some(UnOp::Plus),
            Tk::Punct("!") => Some(UnOp::Not),
            Tk::Punct("~") => Some(UnOp::BitNot),
            _ => None,
        };
        if let Some(op) = op {
            self.i += 1;
            // `-2147483648` and `-9223372036854775808L` are valid literals.
            if op == UnOp::Neg {
                if let Tk::Int(v, long) = self.tok().kind {
                    if v == 1 << 31 && !long {
                        self.i += 1;
                        return self.postfix(Expr {
                            kind: ExprKind::Int(u64::MAX, false),
                            pos,
                        });
                    }
                    if v == 1 << 63 {
                        self.i += 1;
                        return self.postfix(Expr {
                            kind: ExprKind::Int(u64::MAX - 1, true),
                            pos,
                        });
                    }
                }
            }
            let e = self.unary()?;
            return Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(e)),
                pos,
            });
        }
        if self.is_punct("++") || self.is_punct("--") {
            let d = if self.is_punct("++") { 1 } else { -1 };
            self.i += 1;
            let e = self.unary()?;
            return Ok(Expr {
                kind: ExprKind::IncDec(Box::new(e), d, false),
                pos,
            });
        }
        if self.is_punct("(") {
            if let Some(cast) = self.try_cast()? {
                return Ok(cast);
            }
        }
        let p = self.primary()?;
        self.postfix(p)
    }

    pub(super) fn try_cast(&mut self) -> PResult<Option<Expr>> {
        let pos = self.pos();
        let save = self.i;
        self.i += 1;
        let Some(t) = self.try_type(true) else {
            self.i = save;
            return Ok(None);
        };
        if !self.is_punct(")") {
            self.i = save;
            return Ok(None);
        }
        self.i += 1;
        let keyword =
            KEYWORD_TYPES.contains(&t.name.as_str()) || t.array || t.nullable || !t.args.is_empty();
        let follows_operand = match self.tok().kind {
            Tk::Ident(ref s) => !matches!(s.as_str(), "is" | "as"),
            Tk::Int(..) | Tk::Double(_) | Tk::Str(_) | Tk::Char(_) | Tk::Interp(_) => true,
            Tk::Punct(p) => matches!(p, "(" | "!" | "~"),
            Tk::Eof => false,
        };
        let keyword_operand = keyword
            && !matches!(self.tok().kind, Tk::Punct(p) if !matches!(p, "(" | "!" | "~" | "-" | "+"))
            && !self.at_eof();
        if follows_operand || keyword_operand {
            let e = self.unary()?;
            return Ok(Some(Expr {
                kind: ExprKind::Cast(t, Box::new(e)),
                pos,
            }));
        }
        self.i = save;
        Ok(None)
    }

    pub(super) fn args(&mut self, close: &str) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        if self.is_punct(close) {
            self.i += 1;
            return Ok(args);
        }
        loop {
            let name = match (&self.tok().kind, self.tok_at(1)) {
                (Tk::Ident(s), Tk::Punct(":")) => {
                    let s = s.clone();
                    self.i += 2;
                    Some(s)
                }
                _ => None,
            };
            let pos = self.pos();
            if self.is_ident("out") || self.is_ident("ref") {
                self.i += 1;
                let t = self
                    .try_type(true)
                    .ok_or_else(|| self.err("expected a variable after 'out'"))?;
                let target = if let Tk::Ident(s) = &self.tok().kind {
                    let s = s.clone();
                    self.i += 1;
                    OutTarget::Decl(if t.name == "var" { None } else { Some(t) }, s)
                } else {
                    OutTarget::Existing(t.name)
                };
                args.push(Arg {
                    name,
                    out: Some(target),
                    value: Expr {
                        kind: ExprKind::Null,
                        pos,
                    },
                });
            } else {
                let value = self.expr()?;
                args.push(Arg {
                    name,
                    out: None,
                    value,
                });
            }
            if self.is_punct(",") {
                self.i += 1;
                continue;
            }
            self.expect(close)?;
            return Ok(args);
        }
    }

    pub(super) fn exprs_until(&mut self, close: &str) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        loop {
            if self.is_punct(close) {
                self.i += 1;
                return Ok(items);
            }
            items.push(self.expr()?);
            if self.is_punct(",") {
                self.i += 1;
            } else {
                self.expect(close)?;
                return Ok(items);
            }
        }
    }

    pub(super) fn postfix(&mut self, e: Expr) -> PResult<Expr> {
        let depth = self.depth;
        let r = self.postfix_inner(e);
        self.depth = depth;
        r
    }

    /// Each postfix step nests the tree one level deeper: it counts against the limit.
    pub(super) fn postfix_inner(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            let pos = self.pos();
            if self.is_punct(".")
                || self.is_punct("(")
                || self.is_punct("[")
                || self.is_punct("?.")
                || self.is_punct("?[")
            {
                self.enter()?;
            }
            if self.is_punct(".") {
                self.i += 1;
                let name = self.ident()?;
                let generics = self.try_generic_args();
                e = Expr {
                    kind: ExprKind::Member(Box::new(e), name, generics),
                    pos,
                };
            } else if self.is_punct("(") {
                self.i += 1;
                let args = self.args(")")?;
                e = Expr {
                    kind: ExprKind::Call(Box::new(e), args),
                    pos,
                };
            } else if self.is_punct("[") {
                self.i += 1;
                let idx = self.exprs_until("]")?;
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), idx),
                    pos,
                };
            } else if self.is_punct("++") || self.is_punct("--") {
                let d = if self.is_punct("++") { 1 } else { -1 };
                self.i += 1;
                e = Expr {
                    kind: ExprKind::IncDec(Box::new(e), d, true),
                    pos,
                };
            } else if self.is_punct("?.") || self.is_punct("?[") {
                let recv = Box::new(Expr {
                    kind: ExprKind::CondReceiver,
                    pos,
                });
                let first = if self.is_punct("?.") {
                    self.i += 1;
                    let name = self.ident()?;
                    let generics = self.try_generic_args();
                    Expr {
                        kind: ExprKind::Member(recv, name, generics),
                        pos,
                    }
                } else {
                    self.i += 1;
                    let idx = self.exprs_until("]")?;
                    Expr {
                        kind: ExprKind::Index(recv, idx),
                        pos,
                    }
                };
                let chain = self.postfix(first)?;
                return Ok(Expr {
                    kind: ExprKind::CondAccess(Box::new(e), Box::new(chain)),
                    pos,
                });
            } else if self.is_punct("!")
                && !self.punct_at(1, "=")
                && matches!(self.tok_at(1), Tk::Punct("." | ")" | ";" | "["))
            {
                // Null-forgiving `x!`: no runtime effect.
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(e)
    }
}
