//! Located configuration messages: [`Location`], [`Diagnostic`], [`ConfigErrors`], and the
//! "did you mean" helper shared by the deserializer and the validator.
//!
//! Not for runtime errors: the request path has its own error kinds.

use std::fmt;
use std::path::PathBuf;

/// A position in the config file; both fields are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Location {
    pub line: usize,
    pub col: usize,
}

/// One error or warning about the config, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the message is about the file as a whole.
    pub line: usize,
    /// 1-based; 0 when the message is about the file as a whole.
    pub col: usize,
    /// Where in the document, e.g. `apis[1].operations[0].method`; empty for the root.
    pub key_path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(file: PathBuf, loc: Location, key_path: &str, message: String) -> Self {
        Diagnostic {
            file,
            line: loc.line,
            col: loc.col,
            key_path: key_path.to_owned(),
            message,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for Diagnostic {
    /// `gateway.yaml:12:5: apis[0].operations[1].mehtod: unknown key `mehtod``, then an
    /// indented `hint:` line when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        f.write_str(": ")?;
        if !self.key_path.is_empty() {
            write!(f, "{}: ", self.key_path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every error found in a config; a config with any error is rejected whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.0 {
            writeln!(f, "{diagnostic}")?;
        }
        let n = self.0.len();
        write!(f, "{n} error{}", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for ConfigErrors {}

/// Lists with at most this many names are spelled out in hints.
const MAX_LISTED: usize = 16;

/// "did you mean `x`?" and/or the allowed names, for an unknown `name` among `known`.
pub(crate) fn suggest<'a>(
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> Option<String> {
    let closest = closest(name, known.clone());
    let all: Vec<&str> = known.into_iter().collect();
    let listed = (!all.is_empty() && all.len() <= MAX_LISTED).then(|| {
        let quoted: Vec<String> = all.iter().map(|k| format!("`{k}`")).collect();
        format!("{what}: {}", quoted.join(", "))
    });
    match (closest, listed) {
        (Some(c), Some(l)) => Some(format!("did you mean `{c}`? {l}")),
        (Some(c), None) => Some(format!("did you mean `{c}`?")),
        (None, l) => l,
    }
}

/// The closest of `known` to `name` by edit distance, when close enough to be a typo.
pub(crate) fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    known
        .into_iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars, with `_`/`-` confusion costing nothing extra.
fn edit_distance(a: &str, b: &str) -> usize {
    let norm = |c: char| if c == '_' { '-' } else { c };
    let a: Vec<char> = a.chars().map(norm).collect();
    let b: Vec<char> = b.chars().map(norm).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos() {
        let keys = ["id", "method", "url-template", "policy"];
        assert_eq!(closest("mehtod", keys), Some("method"));
        assert_eq!(closest("url_template", keys), Some("url-template"));
        assert_eq!(closest("urltemplate", keys), Some("url-template"));
        assert_eq!(closest("zzzzzz", keys), None);
    }

    #[test]
    fn display_has_location_path_and_hint() {
        let d = Diagnostic::new(
            PathBuf::from("gateway.yaml"),
            Location { line: 12, col: 5 },
            "apis[0].operations[1].mehtod",
            "unknown key `mehtod`".into(),
        )
        .with_hint(Some("did you mean `method`?".into()));
        assert_eq!(
            d.to_string(),
            "gateway.yaml:12:5: apis[0].operations[1].mehtod: unknown key `mehtod`\n  hint: did you mean `method`?"
        );
        let errs = ConfigErrors(vec![d.clone(), d]);
        assert!(errs.to_string().ends_with("\n2 errors"));
    }
}
