//! Primary expressions: literals, identifiers, parenthesized expressions, interpolated
//! strings (holes re-lexed in place), generic argument lists and `new` forms.

use super::ast::*;
use super::error::ExprError;
use super::lexer::{lex, IPart, Tk};
use super::parser::Parser;

type PResult<T> = Result<T, ExprError>;

impl Parser<'_> {
    pub(super) fn try_generic_args(&mut self) -> Vec<TypeName> {
        if !self.is_punct("<") {
            return Vec::new();
        }
        let save = self.i;
        self.i += 1;
        let mut args = Vec::new();
        while let Some(t) = self.try_type(true) {
            args.push(t);
            if self.is_punct(",") {
                self.i += 1;
                continue;
            }
            if self.is_punct(">") && self.punct_at(1, "(") {
                self.i += 1;
                return args;
            }
            break;
        }
        self.i = save;
        Vec::new()
    }

    pub(super) fn primary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let tok = self.tok().kind.clone();
        self.i += 1;
        let kind = match tok {
            Tk::Int(v, l) => ExprKind::Int(v, l),
            Tk::Double(d) => ExprKind::Double(d),
            Tk::Str(s) => ExprKind::Str(s),
            Tk::Char(c) => ExprKind::Char(c),
            Tk::Interp(parts) => self.interp(parts)?,
            Tk::Punct("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                return Ok(e);
            }
            Tk::Ident(s) => match s.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                "new" => return self.new_expr(pos),
                "typeof" | "default" | "nameof" | "sizeof" => {
                    self.expect("(")?;
                    let t = self
                        .try_type(true)
                        .ok_or_else(|| self.err("expected a type"))?;
                    self.expect(")")?;
                    match s.as_str() {
                        "default" => ExprKind::Default(t),
                        _ => ExprKind::Typeof(t),
                    }
                }
                "default_" => ExprKind::Null,
                "await" | "async" | "checked" | "unchecked" | "stackalloc" | "this" | "base"
                | "throw" | "switch" => {
                    return Err(ExprError::new(
                        pos,
                        format!("'{s}' is not supported in policy expressions"),
                    ));
                }
                _ => ExprKind::Ident(s),
            },
            Tk::Eof => {
                self.i -= 1;
                return Err(self.err("unexpected end of expression"));
            }
            _ => {
                self.i -= 1;
                return Err(self.err("expected an expression"));
            }
        };
        Ok(Expr { kind, pos })
    }

    pub(super) fn interp(&mut self, parts: Vec<IPart>) -> PResult<ExprKind> {
        let mut out = Vec::new();
        for p in parts {
            match p {
                IPart::Text(t) => out.push(InterpPart::Text(t)),
                IPart::Hole {
                    start,
                    end,
                    align,
                    format,
                } => {
                    let toks = lex(self.src, start, end)?;
                    let mut sub = Parser {
                        src: self.src,
                        toks,
                        i: 0,
                        depth: self.depth,
                    };
                    let e = sub.expr()?;
                    if !sub.at_eof() {
                        return Err(sub.err("unexpected text in interpolation hole"));
                    }
                    out.push(InterpPart::Hole {
                        expr: e,
                        align,
                        format,
                    });
                }
            }
        }
        Ok(ExprKind::Interp(out))
    }

    pub(super) fn new_expr(&mut self, pos: usize) -> PResult<Expr> {
        if self.is_punct("[") && self.punct_at(1, "]") {
            self.i += 2;
            self.expect("{")?;
            let items = self.exprs_until("}")?;
            return Ok(Expr {
                kind: ExprKind::NewArray(None, items),
                pos,
            });
        }
        if self.is_punct("{") {
            self.i += 1;
            let mut members = Vec::new();
            loop {
                if self.is_punct("}") {
                    self.i += 1;
                    break;
                }
                let mpos = self.pos();
                let e = self.expr()?;
                let (name, value) = match e.kind {
                    ExprKind::Assign(target, None, value) => match target.kind {
                        ExprKind::Ident(n) => (n, *value),
                        _ => {
                            return Err(ExprError::new(
                                mpos,
                                "invalid anonymous type member declarator",
                            ))
                        }
                    },
                    ExprKind::Ident(ref n) => (n.clone(), e.clone()),
                    ExprKind::Member(_, ref n, _) => (n.clone(), e.clone()),
                    _ => {
                        return Err(ExprError::new(
                            mpos,
                            "invalid anonymous type member declarator",
                        ))
                    }
                };
                members.push((name, value));
                if self.is_punct(",") {
                    self.i += 1;
                } else {
                    self.expect("}")?;
                    break;
                }
            }
            return Ok(Expr {
                kind: ExprKind::NewAnon(members),
                pos,
            });
        }
        let mut t = self
            .try_type(false)
            .ok_or_else(|| self.err("expected a type after 'new'"))?;
        if self.is_punct("[") {
            // `new string[2]` / `new string[] {..}` handled by type_name when `[]`.
            return Err(self.err("sized array creation is not supported; use new[] { ... }"));
        }
        if t.array {
            self.expect("{")?;
            let items = self.exprs_until("}")?;
            t.array = false;
            return Ok(Expr {
                kind: ExprKind::NewArray(Some(t), items),
                pos,
            });
        }
        let args = if self.is_punct("(") {
            self.i += 1;
            self.args(")")?
        } else {
            Vec::new()
        };
        if self.is_punct("{") {
            return Err(self.err("object and collection initializers are not supported"));
        }
        Ok(Expr {
            kind: ExprKind::New(t, args),
            pos,
        })
    }
}
