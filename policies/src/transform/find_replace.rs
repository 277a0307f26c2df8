//! `find-and-replace`: every occurrence of `from` in the body becomes `to`.
//!
//! APIM reads the body as a string and calls `String.Replace(from, to)`: ordinal,
//! case-sensitive, non-overlapping, left to right. On UTF-8 that is the same as
//! replacing bytes, which also leaves a body that is not UTF-8 intact around matches.

use bumpalo::Bump;

/// `body` with every `from` replaced by `to`, in the arena; `None` when `from` does not
/// occur (the body stays as it is). `from` is not empty.
pub(super) fn replace_all<'a>(
    arena: &'a Bump,
    body: &[u8],
    from: &str,
    to: &str,
) -> Option<&'a [u8]> {
    let from = from.as_bytes();
    let first = find(body, from, 0)?;
    let mut out = bumpalo::collections::Vec::with_capacity_in(body.len() + to.len(), arena);
    let mut at = 0;
    let mut next = Some(first);
    while let Some(i) = next {
        out.extend_from_slice(&body[at..i]);
        out.extend_from_slice(to.as_bytes());
        at = i + from.len();
        next = find(body, from, at);
    }
    out.extend_from_slice(&body[at..]);
    Some(out.into_bump_slice())
}

/// The first index ≥ `start` where `needle` occurs in `hay`.
fn find(hay: &[u8], needle: &[u8], start: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = start;
    while i + needle.len() <= hay.len() {
        let off = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += off;
        if hay[i + 1..i + needle.len()] == *rest {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str, from: &str, to: &str) -> Option<String> {
        let arena = Bump::new();
        replace_all(&arena, body.as_bytes(), from, to)
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn replaces_every_occurrence() {
        assert_eq!(run("a-b-c", "-", "+").as_deref(), Some("a+b+c"));
        assert_eq!(run("aaaa", "aa", "b").as_deref(), Some("bb"));
        assert_eq!(run("aaa", "aa", "b").as_deref(), Some("ba"));
        assert_eq!(run("x", "xy", "z"), None);
        assert_eq!(run("notebook", "notebook", "").as_deref(), Some(""));
        assert_eq!(run("héllo héllo", "é", "e").as_deref(), Some("hello hello"));
        assert_eq!(run("abc", "c", "cc").as_deref(), Some("abcc"));
    }
}
