//! Reading a policy element's attributes and text into operands and typed settings.

use crate::expr::{self, CompileEnv, Type};
use crate::program::{ExprIdx, Operand, Section, Target};
use crate::xml::{Loc, MergedElement, MergedNode, PolicyError};

use super::Compiler;

/// The element being compiled, its section and its LastError.Path.
pub(crate) struct Ctx<'e> {
    pub el: &'e MergedElement,
    pub section: Section,
    pub path: &'e str,
    /// Inside `return-response`: header and body policies build the gateway's response.
    pub builds_response: bool,
}

impl Ctx<'_> {
    /// The message header and body policies change here.
    pub fn target(&self) -> Target {
        match self.section {
            _ if self.builds_response => Target::Response,
            Section::Inbound | Section::Backend => Target::Request,
            Section::Outbound | Section::OnError => Target::Response,
        }
    }

    /// `el`, inside this element, at `path`: the same section, building the response when
    /// this does.
    pub fn child<'c>(&self, el: &'c MergedElement, path: &'c str) -> Ctx<'c> {
        Ctx {
            el,
            section: self.section,
            path,
            builds_response: self.builds_response,
        }
    }
}

impl Compiler {
    /// An attribute as an operand (literal text or a compiled expression); `None` when absent.
    pub fn operand_attr(&mut self, ctx: &Ctx<'_>, name: &str) -> Option<Operand> {
        let attr = ctx.el.attrs.iter().find(|a| a.name == name)?;
        self.secret |= attr.secret;
        let (line, col) = attr_value_pos(attr);
        Some(self.operand(ctx, &attr.value, line, col))
    }

    /// A required attribute as an operand; records an error when missing.
    pub fn required_operand(&mut self, ctx: &Ctx<'_>, name: &str) -> Option<Operand> {
        let op = self.operand_attr(ctx, name);
        if op.is_none() {
            self.error(ctx.el, format!("attribute `{name}` is required"), None);
        }
        op
    }

    /// The text content of `el` as an operand.
    pub fn operand_text(&mut self, ctx: &Ctx<'_>, el: &MergedElement) -> Operand {
        let text = element_text(el);
        self.secret |= el
            .children
            .iter()
            .any(|n| matches!(n, MergedNode::Text(t) if t.secret));
        // Positions in the text count from where it starts, not from the element's `<`.
        let loc = el
            .children
            .iter()
            .find_map(|n| match n {
                // A CDATA section is positioned at its `<![CDATA[`.
                MergedNode::Text(t) if t.is_cdata => Some(Loc::new(t.loc.line, t.loc.col + 9)),
                MergedNode::Text(t) => Some(t.loc),
                MergedNode::Element(_) => None,
            })
            .unwrap_or(el.loc);
        self.operand(ctx, &text, loc.line, loc.col)
    }

    /// Turns `value` into an operand, compiling it when it is `@(...)` / `@{...}`.
    pub fn operand(&mut self, ctx: &Ctx<'_>, value: &str, line: u32, col: u32) -> Operand {
        match self.expression(ctx, value, line, col) {
            Some(Ok(idx)) => Operand::Expr(idx),
            Some(Err(())) => Operand::Text("".into()),
            None => Operand::Text(value.into()),
        }
    }

    /// Compiles `value` if it is an expression: `None` for plain text, `Some(Err)` after
    /// recording a compile error. `line`:`col` is where `value` starts in its file.
    pub fn expression(
        &mut self,
        ctx: &Ctx<'_>,
        value: &str,
        line: u32,
        col: u32,
    ) -> Option<Result<ExprIdx, ()>> {
        let trimmed = value.trim();
        if !expr::is_expression(trimmed) {
            return None;
        }
        let env = CompileEnv {
            // In backend, after a forward-request the backend's response is there.
            has_response: matches!(ctx.section, Section::Outbound | Section::OnError)
                || (ctx.section == Section::Backend && self.after_forward),
            section: ctx.section.name(),
        };
        match expr::compile(&trimmed[1..], &env) {
            Ok(e) => {
                self.note_body_reads(ctx.section, trimmed);
                self.prog.exprs.push(e);
                Some(Ok(ExprIdx(self.prog.exprs.len() as u32 - 1)))
            }
            Err(e) => {
                // e.offset counts from after the `@` of the trimmed text.
                let leading = value.len() - value.trim_start().len();
                let (l, c) = offset_to_line_col(value, leading + e.offset + 1, line, col);
                self.errors.push(PolicyError {
                    file: ctx.el.file.to_string(),
                    line: l,
                    col: c,
                    policy: Some(ctx.el.name.clone()),
                    message: format!("expression: {}", e.message),
                    hint: e.hint,
                });
                Some(Err(()))
            }
        }
    }

    /// A condition that must be an expression (`when condition`, `retry condition`).
    pub fn condition(&mut self, ctx: &Ctx<'_>, el: &MergedElement, name: &str) -> Option<ExprIdx> {
        let attr = el.attrs.iter().find(|a| a.name == name);
        let Some(attr) = attr else {
            self.error(el, format!("attribute `{name}` is required"), None);
            return None;
        };
        let sub = ctx.child(el, ctx.path);
        let (line, col) = attr_value_pos(attr);
        match self.expression(&sub, &attr.value, line, col) {
            Some(Ok(i)) => {
                // `(bool)` of the value: a bool, or an object cast at run time.
                let ty = self.prog.exprs[i.0 as usize].result_type();
                if matches!(ty, Type::Bool | Type::Object) {
                    Some(i)
                } else {
                    self.errors.push(PolicyError {
                        file: el.file.to_string(),
                        line,
                        col,
                        policy: Some(ctx.el.name.clone()),
                        message: format!(
                            "`{name}` must be a bool expression; this one is {}",
                            ty.name()
                        ),
                        hint: Some("compare or test the value, e.g. @(x == \"GET\")".into()),
                    });
                    None
                }
            }
            Some(Err(())) => None,
            None => {
                self.error(
                    el,
                    format!("`{name}` must be a policy expression: @(...)"),
                    Some("e.g. condition=\"@(context.Request.Method == \\\"GET\\\")\""),
                );
                None
            }
        }
    }

    /// A literal attribute (no expressions allowed) parsed with `parse`.
    pub fn literal<T>(
        &mut self,
        ctx: &Ctx<'_>,
        name: &str,
        default: Option<T>,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        match ctx.el.attr_value(name) {
            None => {
                if default.is_none() {
                    self.error(ctx.el, format!("attribute `{name}` is required"), None);
                }
                default
            }
            Some(v) if expr::is_expression(v.trim()) => {
                self.error(
                    ctx.el,
                    format!("`{name}` does not accept policy expressions"),
                    Some(expected),
                );
                None
            }
            Some(v) => {
                let parsed = parse(v.trim());
                if parsed.is_none() {
                    self.error(
                        ctx.el,
                        format!("`{name}=\"{v}\"` is invalid"),
                        Some(expected),
                    );
                }
                parsed
            }
        }
    }

    pub fn bool_attr(&mut self, ctx: &Ctx<'_>, name: &str, default: bool) -> bool {
        self.literal(ctx, name, Some(default), "use true or false", parse_bool)
            .unwrap_or(default)
    }
}

impl Compiler {
    /// Marks which bodies the program reads, from the expression text: `Request.Body`
    /// and `Response.Body` name theirs; any other `.Body` (through a variable) counts as
    /// the section's own message. Conservative: buffering more than needed is safe.
    /// A policy in `section` reads its message's body (request before outbound).
    pub fn note_body_read(&mut self, section: Section) {
        if matches!(section, Section::Outbound | Section::OnError) {
            self.prog.reads_response_body = true;
        } else {
            self.prog.reads_request_body = true;
        }
    }

    fn note_body_reads(&mut self, section: Section, source: &str) {
        let response_section = matches!(section, Section::Outbound | Section::OnError);
        if source.contains("Request.Body") {
            self.prog.reads_request_body = true;
        }
        if source.contains("Response.Body") {
            self.prog.reads_response_body = true;
        }
        let other = source.matches(".Body").count()
            > source.matches("Request.Body").count() + source.matches("Response.Body").count();
        if other {
            if response_section {
                self.prog.reads_response_body = true;
            } else {
                self.prog.reads_request_body = true;
            }
        }
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Concatenated text children of an element.
pub(crate) fn element_text(el: &MergedElement) -> String {
    let mut out = String::new();
    for n in &el.children {
        if let MergedNode::Text(t) = n {
            out.push_str(&t.text);
        }
    }
    out
}

/// Where an attribute's value starts: attributes are positioned at their name, and the
/// value follows `name="` (best effort: whitespace around `=` is rare).
fn attr_value_pos(attr: &crate::xml::Attr) -> (u32, u32) {
    (
        attr.loc.line,
        attr.loc.col + attr.name.chars().count() as u32 + 2,
    )
}

/// Maps a byte offset inside an attribute value to a file position (best effort:
/// attributes may span lines).
pub(crate) fn offset_to_line_col(text: &str, offset: usize, line: u32, col: u32) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    match before.rfind('\n') {
        Some(nl) => (
            line + before.matches('\n').count() as u32,
            before[nl + 1..].chars().count() as u32 + 1,
        ),
        None => (line, col + before.chars().count() as u32),
    }
}
