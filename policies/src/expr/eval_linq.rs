//! LINQ over sequences (arrays, lists, JArray/JObject children, string chars), eager and
//! arena-allocated. Lambdas bind their parameter to a local slot per element.

use std::cmp::Ordering;

use bumpalo::collections::Vec as BVec;
use bumpalo::Bump;

use super::error::{EResult, EvalError};
use super::eval::Ev;
use super::eval_ops::{as_f64, as_i64, compare, overflow};
use super::ir::{Id, LinqOp, Num, Slot};
use super::value::{values_equal, Value};

/// The elements of a sequence value.
pub fn as_seq<'a>(v: Value<'a>, arena: &'a Bump) -> EResult<&'a [Value<'a>]> {
    match v {
        Value::List(items) => Ok(items),
        Value::Json(n) => n.children(arena),
        Value::Str(s) => {
            Ok(BVec::from_iter_in(s.chars().map(Value::Char), arena).into_bump_slice())
        }
        Value::Bytes(b) => {
            Ok(arena.alloc_slice_fill_iter(b.iter().map(|x| Value::Int(i32::from(*x)))))
        }
        Value::StrMap(m) => Ok(arena.alloc_slice_fill_iter(m.iter().map(|(k, _)| Value::Str(k)))),
        Value::Null => Err(EvalError::new("Value cannot be null. (Parameter 'source')")),
        other => Err(EvalError::new(format!(
            "{} is not enumerable",
            other.type_name()
        ))),
    }
}

fn no_elements() -> EvalError {
    EvalError::new("Sequence contains no elements")
}

fn no_match() -> EvalError {
    EvalError::new("Sequence contains no matching element")
}

/// Nothing found: no element at all (`body` is `None`), or none matching it.
fn none_found(body: Option<Id>) -> EvalError {
    match body {
        None => no_elements(),
        Some(_) => no_match(),
    }
}

impl<'a> Ev<'_, 'a> {
    fn apply(&mut self, slot: Slot, body: Id, v: Value<'a>) -> EResult<Value<'a>> {
        self.step()?;
        self.set(slot, v);
        self.eval(body)
    }

    fn pred(&mut self, slot: Slot, body: Option<Id>, v: Value<'a>) -> EResult<bool> {
        match body {
            None => {
                self.step()?;
                Ok(true)
            }
            Some(b) => Ok(self.apply(slot, b, v)?.truthy()),
        }
    }

    /// `v`, or with a lambda `body` what it gives for `v`.
    fn project(&mut self, slot: Slot, body: Option<Id>, v: Value<'a>) -> EResult<Value<'a>> {
        match body {
            Some(b) => self.apply(slot, b, v),
            None => {
                self.step()?;
                Ok(v)
            }
        }
    }

    /// The first of `items` for which `body` holds (any, without one).
    fn find<'s>(
        &mut self,
        slot: Slot,
        body: Option<Id>,
        items: impl Iterator<Item = &'s Value<'a>>,
    ) -> EResult<Option<Value<'a>>>
    where
        'a: 's,
    {
        for v in items {
            if self.pred(slot, body, *v)? {
                return Ok(Some(*v));
            }
        }
        Ok(None)
    }

    pub fn linq(
        &mut self,
        op: LinqOp,
        src: Id,
        slot: Slot,
        body: Option<Id>,
        arg: Option<Id>,
        num: Option<Num>,
    ) -> EResult<Value<'a>> {
        use LinqOp as L;
        let s = self.eval(src)?;
        let items = as_seq(s, self.arena)?;
        let argv = match arg {
            Some(a) => self.eval(a)?,
            None => Value::Null,
        };
        let list = |v: BVec<'a, Value<'a>>| Value::List(v.into_bump_slice());
        Ok(match op {
            L::ToArray => Value::List(items),
            L::Select => {
                let body = body.ok_or_else(no_elements)?;
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                for v in items {
                    out.push(self.apply(slot, body, *v)?);
                }
                list(out)
            }
            L::Where => {
                let mut out = BVec::new_in(self.arena);
                for v in items {
                    if self.pred(slot, body, *v)? {
                        out.push(*v);
                    }
                }
                list(out)
            }
            L::Any => {
                for v in items {
                    if self.pred(slot, body, *v)? {
                        return Ok(Value::Bool(true));
                    }
                }
                Value::Bool(false)
            }
            L::All => {
                for v in items {
                    if !self.pred(slot, body, *v)? {
                        return Ok(Value::Bool(false));
                    }
                }
                Value::Bool(true)
            }
            L::Count => {
                let mut n = 0i32;
                for v in items {
                    if self.pred(slot, body, *v)? {
                        n += 1;
                    }
                }
                Value::Int(n)
            }
            L::First | L::FirstOrDefault | L::Last | L::LastOrDefault => {
                let found = if matches!(op, L::First | L::FirstOrDefault) {
                    self.find(slot, body, items.iter())?
                } else {
                    self.find(slot, body, items.iter().rev())?
                };
                match found {
                    Some(v) => v,
                    None if matches!(op, L::FirstOrDefault | L::LastOrDefault) => Value::Null,
                    None => return Err(none_found(body)),
                }
            }
            L::Single | L::SingleOrDefault => {
                let mut found = None;
                for v in items {
                    if self.pred(slot, body, *v)? {
                        if found.is_some() {
                            return Err(EvalError::new(if body.is_some() {
                                "Sequence contains more than one matching element"
                            } else {
                                "Sequence contains more than one element"
                            }));
                        }
                        found = Some(*v);
                    }
                }
                match found {
                    Some(v) => v,
                    None if op == L::SingleOrDefault => Value::Null,
                    None => return Err(none_found(body)),
                }
            }
            L::Contains => {
                for v in items {
                    self.step()?;
                    if values_equal(v, &argv) {
                        return Ok(Value::Bool(true));
                    }
                }
                Value::Bool(false)
            }
            L::Skip | L::Take => {
                let n = as_i64(argv).unwrap_or(0).clamp(0, items.len() as i64) as usize;
                Value::List(if op == L::Skip {
                    &items[n..]
                } else {
                    &items[..n]
                })
            }
            L::ElementAt | L::ElementAtOrDefault => {
                let i = as_i64(argv).unwrap_or(-1);
                match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                    Some(v) => *v,
                    None if op == L::ElementAtOrDefault => Value::Null,
                    None => return Err(EvalError::new("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')")),
                }
            }
            L::Reverse => {
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                out.extend(items.iter().rev().copied());
                list(out)
            }
            L::Concat => {
                let other = as_seq(argv, self.arena)?;
                let mut out = BVec::with_capacity_in(items.len() + other.len(), self.arena);
                out.extend_from_slice(items);
                out.extend_from_slice(other);
                list(out)
            }
            L::Distinct => {
                let mut out: BVec<'a, Value<'a>> = BVec::new_in(self.arena);
                for v in items {
                    self.step()?;
                    if !out.iter().any(|o| values_equal(o, v)) {
                        out.push(*v);
                    }
                }
                list(out)
            }
            L::OrderBy | L::OrderByDescending => {
                let body = body.ok_or_else(no_elements)?;
                let mut keyed = BVec::with_capacity_in(items.len(), self.arena);
                for (i, v) in items.iter().enumerate() {
                    let k = self.apply(slot, body, *v)?;
                    keyed.push((k, i, *v));
                }
                let desc = op == L::OrderByDescending;
                keyed.sort_unstable_by(|a, b| {
                    let o = compare(&a.0, &b.0).unwrap_or(Ordering::Equal);
                    let o = if desc { o.reverse() } else { o };
                    o.then(a.1.cmp(&b.1))
                });
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                out.extend(keyed.iter().map(|k| k.2));
                list(out)
            }
            L::Sum | L::Average => {
                let n = num.unwrap_or(Num::Double);
                let (mut si, mut sf, mut count) = (0i64, 0f64, 0usize);
                for v in items {
                    let x = self.project(slot, body, *v)?;
                    if x.is_null() {
                        continue;
                    }
                    count += 1;
                    match n {
                        Num::Double => sf += as_f64(x).unwrap_or(0.0),
                        _ => {
                            si = si
                                .checked_add(as_i64(x).unwrap_or(0))
                                .ok_or_else(overflow)?
                        }
                    }
                }
                if op == L::Average {
                    if count == 0 {
                        return Err(no_elements());
                    }
                    let total = if n == Num::Double { sf } else { si as f64 };
                    return Ok(Value::Double(total / count as f64));
                }
                match n {
                    Num::Int => Value::Int(i32::try_from(si).map_err(|_| overflow())?),
                    Num::Long => Value::Long(si),
                    Num::Double => Value::Double(sf),
                }
            }
            L::Min | L::Max => {
                let mut best: Option<Value<'a>> = None;
                for v in items {
                    let x = self.project(slot, body, *v)?;
                    if x.is_null() {
                        continue;
                    }
                    best = Some(match best {
                        None => x,
                        Some(b) => {
                            let o = compare(&x, &b).unwrap_or(Ordering::Equal);
                            if (op == L::Min && o == Ordering::Less)
                                || (op == L::Max && o == Ordering::Greater)
                            {
                                x
                            } else {
                                b
                            }
                        }
                    });
                }
                best.ok_or_else(no_elements)?
            }
        })
    }
}
