//! The one error type of the policy front end, and "did you mean" suggestions.
//!
//! Every error names its file, line and column (of the original file, also for policies
//! inline in YAML), the policy it concerns when there is one, and usually a hint.

use std::fmt;

use super::tree::Loc;

/// A policy document that cannot be loaded: malformed XML, an invalid policy, a bad
/// scope merge, a missing fragment or named value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// The policy element concerned (`set-header`), if any.
    pub policy: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl PolicyError {
    pub fn new(file: &str, loc: Loc, message: impl Into<String>) -> Self {
        PolicyError {
            file: file.to_owned(),
            line: loc.line,
            col: loc.col,
            policy: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn policy(mut self, name: impl Into<String>) -> Self {
        self.policy = Some(name.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn loc(&self) -> Loc {
        Loc::new(self.line, self.col)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if let Some(policy) = &self.policy {
            write!(f, "{policy}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

/// Words longer than this get no suggestion.
const MAX_SUGGESTED_LEN: usize = 64;

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Names are short; a long word is no typo, and would make the table large.
    if word.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates
        .into_iter()
        .filter(|c| c.len() <= MAX_SUGGESTED_LEN)
    {
        let d = distance(word, candidate);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean `x`?" for the closest candidate, if any.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), on
/// characters, case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("set-heder", "set-header"), 1);
        assert_eq!(distance("set-haeder", "set-header"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn suggestions() {
        let names = ["set-header", "set-body", "rate-limit"];
        assert_eq!(closest("set-heder", names), Some("set-header"));
        assert_eq!(closest("ratelimit", names), Some("rate-limit"));
        assert_eq!(closest("xyz", names), None);
    }
}
