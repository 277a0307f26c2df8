//! `Regex.IsMatch/Match/Matches/Replace/Split/Escape` and `Match`/`Group` members, on the
//! `regex` crate. Literal patterns are compiled once at load; dynamic patterns are compiled
//! per call with size limits. .NET-only constructs (lookaround, backreferences) are
//! rejected by the `regex` crate: at load for literal patterns.

use bumpalo::collections::Vec as BVec;
use regex::{Regex, RegexBuilder};

use super::super::check_call::MAX_REGEX_LEN;
use super::super::error::{EResult, EvalError};
use super::super::ir::R;
use super::super::value::Value;
use super::strings::byte_to_u16;
use super::{arg, req_str, Rt};

/// A match result in the arena: the input and each group's byte range.
#[derive(Debug)]
pub struct RegexMatch<'a> {
    pub input: &'a str,
    pub groups: &'a [Option<(usize, usize)>],
    pub names: &'a [Option<&'a str>],
    /// Precompiled regex index (for `NextMatch`), or the dynamic pattern and options.
    pub re: Option<u16>,
    pub pattern: &'a str,
    pub options: i32,
}

impl<'a> RegexMatch<'a> {
    pub fn group(&self, g: u16) -> Option<(usize, usize)> {
        self.groups.get(g as usize).copied().flatten()
    }

    pub fn group_str(&self, g: u16) -> &'a str {
        match self.group(g) {
            Some((s, e)) => self.input.get(s..e).unwrap_or(""),
            None => "",
        }
    }
}

/// Builds a regex from a .NET pattern and `RegexOptions` flags.
pub fn build(pattern: &str, options: i32) -> Result<Regex, String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!("pattern is longer than {MAX_REGEX_LEN} bytes"));
    }
    if options & (64 | 256) != 0 {
        return Err("RegexOptions.RightToLeft and ECMAScript are not supported".to_string());
    }
    RegexBuilder::new(pattern)
        .case_insensitive(options & 1 != 0)
        .multi_line(options & 2 != 0)
        .dot_matches_new_line(options & 16 != 0)
        .ignore_whitespace(options & 32 != 0)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| {
            let s = e.to_string();
            let last = s
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or(&s)
                .trim()
                .to_string();
            if s.contains("look-around") || s.contains("backreferences") {
                format!("{last} (lookaround and backreferences are not supported)")
            } else {
                last
            }
        })
}

enum Re<'r> {
    Pre(&'r Regex),
    Own(Box<Regex>),
}

impl Re<'_> {
    fn get(&self) -> &Regex {
        match self {
            Re::Pre(r) => r,
            Re::Own(r) => r,
        }
    }
}

fn regex_for<'r>(
    k: Option<u16>,
    pattern: &str,
    options: i32,
    regexes: &'r [Regex],
) -> EResult<Re<'r>> {
    match k.and_then(|k| regexes.get(k as usize)) {
        Some(r) => Ok(Re::Pre(r)),
        None => build(pattern, options)
            .map(|r| Re::Own(Box::new(r)))
            .map_err(|m| EvalError::new(format!("Invalid pattern '{pattern}': {m}"))),
    }
}

fn options(v: Value<'_>) -> i32 {
    match v {
        Value::Enum(_, o) => o,
        _ => 0,
    }
}

fn make_match<'a>(
    re: &Regex,
    input: &'a str,
    start: usize,
    k: Option<u16>,
    pattern: &'a str,
    opts: i32,
    rt: &Rt<'_, 'a>,
) -> &'a RegexMatch<'a> {
    let mut locs = re.capture_locations();
    let found = start <= input.len() && re.captures_read_at(&mut locs, input, start).is_some();
    let mut groups = BVec::with_capacity_in(locs.len(), rt.arena);
    for i in 0..locs.len() {
        groups.push(if found { locs.get(i) } else { None });
    }
    let names = rt.arena.alloc_slice_fill_iter(
        re.capture_names()
            .map(|n| n.map(|n| &*rt.arena.alloc_str(n))),
    );
    rt.arena.alloc(RegexMatch {
        input,
        groups: groups.into_bump_slice(),
        names,
        re: k,
        pattern,
        options: opts,
    })
}

/// Converts a .NET replacement string (`$1`, `${name}`, `$0`, `$&`, `$$`) to the regex
/// crate's syntax.
fn replacement(r: &str) -> String {
    let mut out = String::with_capacity(r.len());
    let b = r.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            let c = b[i + 1];
            if c.is_ascii_digit() {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                out.push_str("${");
                out.push_str(&r[start..j]);
                out.push('}');
                i = j;
                continue;
            }
            if c == b'&' {
                out.push_str("${0}");
                i += 2;
                continue;
            }
            if c == b'$' {
                out.push_str("$$");
                i += 2;
                continue;
            }
            if c == b'{' {
                if let Some(end) = r[i..].find('}') {
                    out.push_str(&r[i..i + end + 1]);
                    i += end + 1;
                    continue;
                }
            }
            out.push_str("$$");
            i += 1;
            continue;
        }
        let ch = r[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

fn the_match<'a>(a: &[Value<'a>]) -> EResult<(&'a RegexMatch<'a>, u16)> {
    match arg(a, 0) {
        Value::Match(m, g) => Ok((m, g)),
        _ => Err(EvalError::null_ref()),
    }
}

pub(crate) fn call<'a>(f: R, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    Ok(match f {
        R::IsMatch(k) | R::Match(k) | R::Matches(k) | R::Split(k) => {
            let input = req_str(a, 0, "input")?;
            let pattern = req_str(a, 1, "pattern")?;
            let opts = options(arg(a, 2));
            let re = regex_for(k, pattern, opts, rt.regexes)?;
            let re = re.get();
            match f {
                R::IsMatch(_) => Value::Bool(re.is_match(input)),
                R::Match(_) => Value::Match(make_match(re, input, 0, k, pattern, opts, rt), 0),
                R::Split(_) => {
                    let mut out = BVec::new_in(rt.arena);
                    for piece in re.split(input) {
                        out.push(Value::Str(piece));
                    }
                    Value::List(out.into_bump_slice())
                }
                _ => {
                    let mut out = BVec::new_in(rt.arena);
                    let mut start = 0;
                    while start <= input.len() {
                        let m = make_match(re, input, start, k, pattern, opts, rt);
                        let Some((s, e)) = m.group(0) else { break };
                        out.push(Value::Match(m, 0));
                        start = if e > s {
                            e
                        } else {
                            e + input[e..].chars().next().map_or(1, char::len_utf8)
                        };
                        if out.len() > 100_000 {
                            return Err(EvalError::new("too many regex matches"));
                        }
                    }
                    Value::List(out.into_bump_slice())
                }
            }
        }
        R::Replace(k) => {
            let input = req_str(a, 0, "input")?;
            let pattern = req_str(a, 1, "pattern")?;
            let repl = req_str(a, 2, "replacement")?;
            let re = regex_for(k, pattern, options(arg(a, 3)), rt.regexes)?;
            let r = replacement(repl);
            match re.get().replace_all(input, r.as_str()) {
                std::borrow::Cow::Borrowed(s) if s.len() == input.len() => Value::Str(input),
                c => Value::Str(rt.arena.alloc_str(&c)),
            }
        }
        R::Escape => Value::Str(rt.arena.alloc_str(&regex::escape(req_str(a, 0, "str")?))),
        R::Value => {
            let (m, g) = the_match(a)?;
            Value::Str(m.group_str(g))
        }
        R::Success => {
            let (m, g) = the_match(a)?;
            Value::Bool(m.group(g).is_some())
        }
        R::Index | R::Length => {
            let (m, g) = the_match(a)?;
            let (s, e) = m.group(g).unwrap_or((0, 0));
            Value::Int(if f == R::Index {
                byte_to_u16(m.input, s) as i32
            } else {
                (byte_to_u16(m.input, e) - byte_to_u16(m.input, s)) as i32
            })
        }
        R::Groups => {
            let (m, _) = the_match(a)?;
            Value::Match(m, 0)
        }
        R::GroupAt => {
            let (m, _) = the_match(a)?;
            let idx = match arg(a, 1) {
                Value::Int(i) => u16::try_from(i)
                    .ok()
                    .filter(|i| (*i as usize) < m.groups.len()),
                Value::Str(name) => m
                    .names
                    .iter()
                    .position(|n| *n == Some(name))
                    .or_else(|| name.parse::<usize>().ok().filter(|i| *i < m.groups.len()))
                    .and_then(|i| u16::try_from(i).ok()),
                _ => None,
            };
            Value::Match(m, idx.unwrap_or(u16::MAX))
        }
        R::NextMatch => {
            let (m, _) = the_match(a)?;
            let Some((s, e)) = m.group(0) else {
                return Ok(Value::Match(m, 0));
            };
            let start = if e > s {
                e
            } else {
                e + m.input[e..].chars().next().map_or(1, char::len_utf8)
            };
            let re = regex_for(m.re, m.pattern, m.options, rt.regexes)?;
            Value::Match(
                make_match(re.get(), m.input, start, m.re, m.pattern, m.options, rt),
                0,
            )
        }
    })
}
