//! Filters and the text helpers they use (URL coding, dates, arithmetic, slicing),
//! as a second `impl` block of the renderer.

use super::*;

impl<'h, 'a, H: ExprContext<'a>> R<'h, 'a, H> {
    pub(super) fn expr(&mut self, e: &FilteredExpr) -> Res<V<'a>> {
        let mut v = self.term(&e.base)?;
        let mut args = Vec::new();
        for f in &e.filters {
            args.clear();
            for a in &f.args {
                args.push(self.term(a)?);
            }
            v = self.filter(f.kind, v, &args)?;
        }
        Ok(v)
    }

    fn string(&self, s: BString<'a>) -> Res<V<'a>> {
        if s.len() > MAX_OUTPUT {
            return Err(too_long());
        }
        Ok(V::Str(s.into_bump_str()))
    }

    fn map_str(&mut self, v: V<'a>, f: impl FnOnce(&str) -> String) -> V<'a> {
        let s = self.text(v);
        V::Str(self.arena.alloc_str(&f(s)))
    }

    fn filter(&mut self, k: FilterKind, v: V<'a>, a: &[V<'a>]) -> Res<V<'a>> {
        use FilterKind as F;
        let arg = |i: usize| a.get(i).copied().unwrap_or(V::Nil);
        Ok(match k {
            F::Default => {
                if !truthy(v) || self.is_empty(v) {
                    arg(0)
                } else {
                    v
                }
            }
            F::Upcase => self.map_str(v, str::to_uppercase),
            F::Downcase => self.map_str(v, str::to_lowercase),
            F::Capitalize => self.map_str(v, |s| {
                let mut c = s.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => String::new(),
                }
            }),
            F::Append | F::Prepend => {
                let s = self.text(v);
                let x = self.text(arg(0));
                let mut out = BString::with_capacity_in(s.len() + x.len(), self.arena);
                if k == F::Append {
                    out.push_str(s);
                    out.push_str(x);
                } else {
                    out.push_str(x);
                    out.push_str(s);
                }
                self.string(out)?
            }
            F::Replace | F::ReplaceFirst | F::Remove | F::RemoveFirst => {
                let s = self.text(v);
                let from = self.text(arg(0));
                let to = if matches!(k, F::Replace | F::ReplaceFirst) {
                    self.text(arg(1))
                } else {
                    ""
                };
                if from.is_empty() {
                    return Ok(V::Str(s));
                }
                let first = matches!(k, F::ReplaceFirst | F::RemoveFirst);
                let n = if first { 1 } else { s.matches(from).count() };
                if s.len() + n * to.len() > MAX_OUTPUT {
                    return Err(too_long());
                }
                let r = if first {
                    s.replacen(from, to, 1)
                } else {
                    s.replace(from, to)
                };
                V::Str(self.arena.alloc_str(&r))
            }
            F::Size => match v {
                V::Str(s) => V::Int(s.chars().count() as i64),
                V::Json(_) | V::List(_) => V::Int(self.list_of(v)?.len() as i64),
                V::Nil => V::Int(0),
                v => V::Int(self.text(v).chars().count() as i64),
            },
            F::First | F::Last => match v {
                V::Str(s) => {
                    let c = if k == F::First {
                        s.chars().next()
                    } else {
                        s.chars().next_back()
                    };
                    c.map_or(V::Nil, |c| {
                        V::Str(self.arena.alloc_str(c.encode_utf8(&mut [0; 4])))
                    })
                }
                v => self.index(v, if k == F::First { 0 } else { -1 }),
            },
            F::Join => {
                let sep = if a.is_empty() { " " } else { self.text(arg(0)) };
                match v {
                    V::Json(JNode::Array(_)) | V::List(_) => {
                        let items = self.list_of(v)?;
                        let mut out = BString::new_in(self.arena);
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                out.push_str(sep);
                            }
                            self.write(*item, &mut out);
                            if out.len() > MAX_OUTPUT {
                                return Err(too_long());
                            }
                        }
                        V::Str(out.into_bump_str())
                    }
                    v => V::Str(self.text(v)),
                }
            }
            F::Split => {
                let s = self.text(v);
                let sep = self.text(arg(0));
                let mut out = BVec::new_in(self.arena);
                if sep.is_empty() {
                    for (i, c) in s.char_indices() {
                        out.push(V::Str(&s[i..i + c.len_utf8()]));
                    }
                } else {
                    out.extend(s.split(sep).map(V::Str));
                }
                V::List(out.into_bump_slice())
            }
            F::Strip => V::Str(self.text(v).trim()),
            F::Lstrip => V::Str(self.text(v).trim_start()),
            F::Rstrip => V::Str(self.text(v).trim_end()),
            F::StripNewlines => self.map_str(v, |s| s.replace(['\r', '\n'], "")),
            F::NewlineToBr => {
                let s = self.text(v);
                if s.len() + 6 * s.matches('\n').count() > MAX_OUTPUT {
                    return Err(too_long());
                }
                V::Str(self.arena.alloc_str(&s.replace('\n', "<br />\n")))
            }
            F::StripHtml => self.map_str(v, |s| {
                let mut out = String::with_capacity(s.len());
                let mut in_tag = false;
                for c in s.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' if in_tag => in_tag = false,
                        c if !in_tag => out.push(c),
                        _ => {}
                    }
                }
                out
            }),
            F::Truncate | F::TruncateWords => {
                let s = self.text(v);
                let n = match a.first().and_then(|x| num(*x)) {
                    Some(V::Int(i)) => i.max(0) as usize,
                    Some(V::Float(f)) => f.max(0.0) as usize,
                    _ if k == F::Truncate => 50,
                    _ => 15,
                };
                let ell = if a.len() > 1 {
                    self.text(arg(1))
                } else {
                    "..."
                };
                if k == F::Truncate {
                    if s.chars().count() <= n {
                        return Ok(V::Str(s));
                    }
                    let keep = n.saturating_sub(ell.chars().count());
                    let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
                    let mut out = BString::new_in(self.arena);
                    out.push_str(&s[..end]);
                    out.push_str(ell);
                    V::Str(out.into_bump_str())
                } else {
                    let words: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
                    if words.len() <= n.max(1) {
                        return Ok(V::Str(s));
                    }
                    let mut out = BString::new_in(self.arena);
                    out.push_str(&words[..n.max(1)].join(" "));
                    out.push_str(ell);
                    V::Str(out.into_bump_str())
                }
            }
            F::Plus | F::Minus | F::Times | F::DividedBy | F::Modulo => arith(k, v, arg(0))?,
            F::Abs => match num(v) {
                Some(V::Int(i)) => i.checked_abs().map_or(V::Float((i as f64).abs()), V::Int),
                Some(V::Float(f)) => V::Float(f.abs()),
                _ => V::Int(0),
            },
            F::AtLeast | F::AtMost => match (num(v), num(arg(0))) {
                (Some(x), Some(y)) => {
                    let (p, q) = (as_f64(x).unwrap_or(0.0), as_f64(y).unwrap_or(0.0));
                    let pick_y = if k == F::AtLeast { q > p } else { q < p };
                    if pick_y {
                        y
                    } else {
                        x
                    }
                }
                (x, _) => x.unwrap_or(V::Nil),
            },
            F::Round | F::Ceil | F::Floor => match num(v) {
                Some(V::Float(f)) => {
                    let r = match k {
                        F::Ceil => f.ceil(),
                        F::Floor => f.floor(),
                        _ => {
                            let digits = match a.first().and_then(|x| num(*x)) {
                                Some(V::Int(d)) => d.clamp(0, 15) as i32,
                                _ => 0,
                            };
                            let m = 10f64.powi(digits);
                            let r = (f * m).round_ties_even() / m;
                            if digits > 0 {
                                return Ok(V::Float(r));
                            }
                            r
                        }
                    };
                    if r.abs() < 9.0e15 {
                        V::Int(r as i64)
                    } else {
                        V::Float(r)
                    }
                }
                Some(i) => i,
                None => V::Nil,
            },
            F::UrlEncode => self.map_str(v, url_encode),
            F::UrlDecode => self.map_str(v, url_decode),
            F::Escape | F::H => {
                let s = self.text(v);
                let mut out = BString::with_capacity_in(s.len(), self.arena);
                for c in s.chars() {
                    match c {
                        '&' => out.push_str("&amp;"),
                        '<' => out.push_str("&lt;"),
                        '>' => out.push_str("&gt;"),
                        '"' => out.push_str("&quot;"),
                        '\'' => out.push_str("&#39;"),
                        c => out.push(c),
                    }
                }
                self.string(out)?
            }
            F::Date => self.date(v, arg(0)),
            F::Reverse => {
                let items = self.list_of(v)?;
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                out.extend(items.iter().rev().copied());
                V::List(out.into_bump_slice())
            }
            F::Compact => {
                let items = self.list_of(v)?;
                let mut out = BVec::new_in(self.arena);
                out.extend(items.iter().copied().filter(|x| !matches!(x, V::Nil)));
                V::List(out.into_bump_slice())
            }
            F::Map => {
                let key = self.text(arg(0));
                let items = self.list_of(v)?;
                let mut out = BVec::with_capacity_in(items.len(), self.arena);
                for item in items {
                    out.push(self.member(*item, key));
                }
                V::List(out.into_bump_slice())
            }
            F::Sort => {
                let items = self.list_of(v)?;
                let key = if a.is_empty() {
                    None
                } else {
                    Some(self.text(arg(0)))
                };
                let mut keyed: Vec<(V<'a>, V<'a>)> = Vec::with_capacity(items.len());
                for item in items {
                    let k = match key {
                        Some(p) => self.member(*item, p),
                        None => *item,
                    };
                    keyed.push((k, *item));
                }
                keyed.sort_by(|(x, _), (y, _)| sort_order(*x, *y));
                let mut out = BVec::with_capacity_in(keyed.len(), self.arena);
                out.extend(keyed.into_iter().map(|(_, x)| x));
                V::List(out.into_bump_slice())
            }
            F::Uniq => {
                let items = self.list_of(v)?;
                if items.len() > MAX_ITERATIONS as usize {
                    return Err(format!(
                        "liquid: Uniq over more than {MAX_ITERATIONS} items"
                    ));
                }
                let mut out: BVec<'a, V<'a>> = BVec::new_in(self.arena);
                for item in items {
                    let mut seen = false;
                    for x in out.iter() {
                        if self.eq(*x, *item) {
                            seen = true;
                            break;
                        }
                    }
                    if !seen {
                        out.push(*item);
                    }
                }
                V::List(out.into_bump_slice())
            }
            F::Slice => {
                let start = match num(arg(0)) {
                    Some(V::Int(i)) => i,
                    _ => 0,
                };
                let len = match a.get(1).and_then(|x| num(*x)) {
                    Some(V::Int(i)) => i.max(0),
                    _ => 1,
                };
                match v {
                    V::Json(JNode::Array(_)) | V::List(_) => {
                        let items = self.list_of(v)?;
                        let (s, e) = slice_bounds(items.len(), start, len);
                        V::List(&items[s..e])
                    }
                    v => {
                        let s = self.text(v);
                        let idx: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
                        let (b, e) = slice_bounds(idx.len(), start, len);
                        let end = idx.get(e).copied().unwrap_or(s.len());
                        let begin = idx.get(b).copied().unwrap_or(s.len());
                        V::Str(&s[begin..end])
                    }
                }
            }
        })
    }

    /// `Date`: "now"/"today", a date string or Unix seconds, formatted with a .NET
    /// format (`yyyy-MM-dd`) or, when it has a `%`, strftime.
    fn date(&mut self, v: V<'a>, fmt: V<'a>) -> V<'a> {
        let dt = match v {
            V::Str(s) if s.eq_ignore_ascii_case("now") || s.eq_ignore_ascii_case("today") => {
                Some(self.host.utc_now())
            }
            V::Int(i) => DateTime::from_unix_seconds(i, DateKind::Utc),
            V::Nil => None,
            v => {
                let s = self.text(v);
                time::parse_datetime(s).or_else(|| {
                    s.trim()
                        .parse::<i64>()
                        .ok()
                        .and_then(|i| DateTime::from_unix_seconds(i, DateKind::Utc))
                })
            }
        };
        let Some(dt) = dt else { return v };
        let fmt = self.text(fmt);
        let mut out = BString::new_in(self.arena);
        if fmt.contains('%') {
            strftime(dt, fmt, &mut out);
        } else if time::format_datetime(dt, fmt, &mut out).is_err() {
            return v;
        }
        V::Str(out.into_bump_str())
    }
}

fn slice_bounds(n: usize, start: i64, len: i64) -> (usize, usize) {
    let n = n as i64;
    let s = if start < 0 {
        (n + start).max(0)
    } else {
        start.min(n)
    };
    let e = s.saturating_add(len).min(n);
    (s as usize, e as usize)
}

fn sort_order(a: V<'_>, b: V<'_>) -> Ordering {
    match (a, b) {
        (V::Str(x), V::Str(y)) => x.cmp(y),
        (V::Nil, V::Nil) => Ordering::Equal,
        (V::Nil, _) => Ordering::Greater,
        (_, V::Nil) => Ordering::Less,
        (x, y) => match (as_f64(x), as_f64(y)) {
            (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

fn arith<'a>(k: FilterKind, a: V<'a>, b: V<'a>) -> Res<V<'a>> {
    use FilterKind as F;
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return Ok(V::Nil);
    };
    if let (V::Int(x), V::Int(y)) = (x, y) {
        let r = match k {
            F::Plus => x.checked_add(y),
            F::Minus => x.checked_sub(y),
            F::Times => x.checked_mul(y),
            F::DividedBy | F::Modulo if y == 0 => {
                return Err("liquid: divided by 0".into());
            }
            // C# integer division and remainder truncate toward zero.
            F::DividedBy => x.checked_div(y),
            _ => x.checked_rem(y),
        };
        if let Some(r) = r {
            return Ok(V::Int(r));
        }
    }
    let (p, q) = (as_f64(x).unwrap_or(0.0), as_f64(y).unwrap_or(0.0));
    let r = match k {
        F::Plus => p + q,
        F::Minus => p - q,
        F::Times => p * q,
        F::DividedBy | F::Modulo if q == 0.0 => return Err("liquid: divided by 0".into()),
        F::DividedBy => p / q,
        _ => p % q,
    };
    Ok(V::Float(r))
}

/// `WebUtility.UrlEncode`: letters, digits and `-_.!*()` kept, space as `+`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'*'
            | b'('
            | b')' => out.push(b as char),
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

pub(super) fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strftime(dt: DateTime, fmt: &str, out: &mut BString<'_>) {
    let (y, m, d) = dt.ymd();
    let tod = dt.time_of_day();
    let (h, mi, s, ms) = (
        tod / TICKS_PER_HOUR,
        tod % TICKS_PER_HOUR / TICKS_PER_MIN,
        tod % TICKS_PER_MIN / TICKS_PER_SEC,
        tod % TICKS_PER_SEC / TICKS_PER_MS,
    );
    let month = time::MONTH_NAMES[(m.clamp(1, 12) - 1) as usize];
    let day = time::DAY_NAMES[dt.day_of_week().clamp(0, 6) as usize];
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let _ = match chars.next() {
            Some('Y') => write!(out, "{y:04}"),
            Some('y') => write!(out, "{:02}", y % 100),
            Some('m') => write!(out, "{m:02}"),
            Some('d') => write!(out, "{d:02}"),
            Some('e') => write!(out, "{d:>2}"),
            Some('j') => write!(out, "{:03}", dt.day_of_year()),
            Some('H') => write!(out, "{h:02}"),
            Some('I') => write!(out, "{:02}", if h % 12 == 0 { 12 } else { h % 12 }),
            Some('M') => write!(out, "{mi:02}"),
            Some('S') => write!(out, "{s:02}"),
            Some('L') => write!(out, "{ms:03}"),
            Some('p') => write!(out, "{}", if h < 12 { "AM" } else { "PM" }),
            Some('b') => write!(out, "{}", &month[..3]),
            Some('B') => write!(out, "{month}"),
            Some('a') => write!(out, "{}", &day[..3]),
            Some('A') => write!(out, "{day}"),
            Some('s') => write!(out, "{}", dt.unix_seconds()),
            Some('z') => write!(out, "+0000"),
            Some('Z') => write!(out, "UTC"),
            Some('%') => write!(out, "%"),
            Some(o) => write!(out, "%{o}"),
            None => write!(out, "%"),
        };
    }
}
