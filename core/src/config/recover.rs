//! "Every error at once" on top of serde's stop-at-the-first-error: after an error the
//! offending entry (the unknown key, the invalid value, the map missing a key) is hidden
//! and the whole tree is read again, so the next error surfaces. Errors our own hiding
//! caused (a "missing key" for a removed or misspelt key) are not reported.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;

use super::de::NodeDe;
use super::de_error::{Error, ErrorKind};
use super::node::{join_key, Node};

/// Reading stops after this many errors (each costs one pass over the tree).
pub const MAX_ERRORS: usize = 100;

/// Deserializes `T` from `root`, collecting every error (up to [`MAX_ERRORS`]).
pub fn deserialize_all<T: DeserializeOwned>(root: &Node) -> Result<T, Vec<Error>> {
    let mut hidden = BTreeSet::new();
    // `map.key` for keys an unknown key was probably a typo of.
    let mut typos = BTreeSet::new();
    let mut errors = Vec::new();
    while errors.len() < MAX_ERRORS {
        let error = match T::deserialize(NodeDe::new(root, String::new(), &hidden)) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(e) => e.locate(root.loc, ""),
        };
        let path = error.path().to_owned();
        let caused_by_us = match error.kind {
            ErrorKind::MissingField(f) => {
                let field = join_key(&path, f);
                hidden.contains(&field) || typos.contains(&field)
            }
            // e.g. "give exactly one of `value`, `env` or `file`" once a typo'd key is gone.
            ErrorKind::Invalid => hidden.iter().any(|h| is_below(h, &path)),
            ErrorKind::UnknownKey(_) => false,
        };
        if let ErrorKind::UnknownKey(Some(near)) = error.kind {
            let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
            typos.insert(join_key(parent, near));
        }
        if !caused_by_us {
            errors.push(error);
        }
        if path.is_empty() || !hidden.insert(path) {
            break;
        }
    }
    Err(errors)
}

/// Whether `path` is strictly inside `ancestor` (`a.b` or `a[0]` inside `a`).
fn is_below(path: &str, ancestor: &str) -> bool {
    match path.strip_prefix(ancestor) {
        Some(rest) => (ancestor.is_empty() && !rest.is_empty()) || rest.starts_with(['.', '[']),
        None => false,
    }
}
