//! A header list in the request arena: ordered (name, value) lines, names compared
//! case-insensitively, one entry per value as on the wire.

use bumpalo::collections::Vec as BVec;
use bumpalo::Bump;

pub struct HeaderList<'a> {
    arena: &'a Bump,
    lines: BVec<'a, (&'a str, &'a str)>,
}

impl<'a> HeaderList<'a> {
    pub fn new(arena: &'a Bump) -> Self {
        HeaderList {
            arena,
            lines: BVec::new_in(arena),
        }
    }

    pub fn push(&mut self, name: &'a str, value: &'a str) {
        self.lines.push((name, value));
    }

    pub fn lines(&self) -> &[(&'a str, &'a str)] {
        &self.lines
    }

    pub fn contains(&self, name: &str) -> bool {
        self.lines.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Every value of `name`, in order; `None` when absent.
    pub fn values(&self, name: &str) -> Option<&'a [&'a str]> {
        let mut out = BVec::new_in(self.arena);
        for (n, v) in self.lines.iter() {
            if n.eq_ignore_ascii_case(name) {
                out.push(*v);
            }
        }
        (!out.is_empty()).then(|| out.into_bump_slice())
    }

    /// Distinct names, first spelling kept.
    pub fn names(&self) -> &'a [&'a str] {
        let mut out: BVec<'a, &'a str> = BVec::new_in(self.arena);
        for (n, _) in self.lines.iter() {
            if !out.iter().any(|x| x.eq_ignore_ascii_case(n)) {
                out.push(*n);
            }
        }
        out.into_bump_slice()
    }

    pub fn remove(&mut self, name: &str) {
        self.lines.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Replaces every line of `name` with `values` (at the position of the first one).
    pub fn set(&mut self, name: &'a str, values: &[&'a str]) {
        let at = self
            .lines
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name));
        self.remove(name);
        let at = at.unwrap_or(self.lines.len()).min(self.lines.len());
        for (i, v) in values.iter().enumerate() {
            self.lines.insert(at + i, (name, v));
        }
    }

    pub fn append(&mut self, name: &'a str, values: &[&'a str]) {
        for v in values {
            self.lines.push((name, v));
        }
    }
}
