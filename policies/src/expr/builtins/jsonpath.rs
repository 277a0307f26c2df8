//! A JSONPath subset for `SelectToken`/`SelectTokens`: `$`, `.name`, `['name']`, `["name"]`,
//! `[n]`, `[*]` and `.*`. Recursive descent (`..`) and filters are not supported.

use bumpalo::collections::Vec as BVec;
use bumpalo::Bump;

use super::super::error::{EResult, EvalError};
use super::json::JNode;

enum Step<'p> {
    Name(&'p str),
    Index(i64),
    Wildcard,
}

fn bad(path: &str) -> EvalError {
    EvalError::new(format!("Unexpected character while parsing path: {path}"))
}

fn parse_path(path: &str) -> EResult<Vec<Step<'_>>> {
    let b = path.as_bytes();
    let mut i = 0;
    let mut steps = Vec::new();
    if b.first() == Some(&b'$') {
        i = 1;
    }
    let mut first = true;
    while i < b.len() {
        match b[i] {
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    return Err(EvalError::new(
                        "recursive descent ('..') is not supported in SelectToken paths",
                    ));
                }
                i += 1;
                if b.get(i) == Some(&b'*') {
                    steps.push(Step::Wildcard);
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if start == i {
                    return Err(bad(path));
                }
                steps.push(Step::Name(&path[start..i]));
            }
            b'[' => {
                let close = path[i..].find(']').ok_or_else(|| bad(path))? + i;
                let inner = path[i + 1..close].trim();
                if inner == "*" {
                    steps.push(Step::Wildcard);
                } else if (inner.starts_with('\'') && inner.ends_with('\'')
                    || inner.starts_with('"') && inner.ends_with('"'))
                    && inner.len() >= 2
                {
                    steps.push(Step::Name(&inner[1..inner.len() - 1]));
                } else {
                    let n: i64 = inner.parse().map_err(|_| bad(path))?;
                    steps.push(Step::Index(n));
                }
                i = close + 1;
            }
            _ if first => {
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                steps.push(Step::Name(&path[start..i]));
            }
            _ => return Err(bad(path)),
        }
        first = false;
        if steps.len() > 256 {
            return Err(EvalError::new("path is too long"));
        }
    }
    Ok(steps)
}

/// Evaluates a path; returns all matches (in document order).
pub fn select<'a>(
    root: &'a JNode<'a>,
    path: &str,
    arena: &'a Bump,
) -> EResult<BVec<'a, &'a JNode<'a>>> {
    let steps = parse_path(path)?;
    let mut cur = BVec::new_in(arena);
    cur.push(root);
    for step in &steps {
        let mut next = BVec::new_in(arena);
        for n in cur.iter() {
            let n = match n {
                JNode::Prop(_, v) => *v,
                n => *n,
            };
            match (step, n) {
                (Step::Name(k), JNode::Object(props)) => {
                    let props = props
                        .try_borrow()
                        .map_err(|_| EvalError::new("collection is being modified"))?;
                    if let Some((_, v)) = props.iter().find(|(name, _)| name == k) {
                        next.push(*v);
                    }
                }
                (Step::Index(i), JNode::Array(items)) => {
                    let items = items
                        .try_borrow()
                        .map_err(|_| EvalError::new("collection is being modified"))?;
                    let idx = if *i < 0 { items.len() as i64 + i } else { *i };
                    if let Some(v) = usize::try_from(idx).ok().and_then(|x| items.get(x)) {
                        next.push(*v);
                    }
                }
                (Step::Wildcard, JNode::Array(items)) => {
                    let items = items
                        .try_borrow()
                        .map_err(|_| EvalError::new("collection is being modified"))?;
                    next.extend(items.iter().copied());
                }
                (Step::Wildcard, JNode::Object(props)) => {
                    let props = props
                        .try_borrow()
                        .map_err(|_| EvalError::new("collection is being modified"))?;
                    next.extend(props.iter().map(|(_, v)| *v));
                }
                _ => {}
            }
        }
        cur = next;
    }
    Ok(cur)
}
