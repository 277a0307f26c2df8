//! Finding the caller's subscription key and asking [`Access`] what the request may do.
//!
//! The key comes from the API's header (`Ocp-Apim-Subscription-Key` by default) or, only
//! when that header is absent, its query parameter (`subscription-key`), percent-decoded.
//! The query parameter is cut out of what the backend sees; the header is forwarded, as
//! APIM does. Nothing here allocates.

use std::ops::Range;

use tollgate_core::access::{Access, Caller};
use tollgate_core::error::GatewayError;

use crate::http::v1::request::RequestHead;
use crate::http::v1::HeaderSpan;

/// APIM's limit on a subscription key's length.
pub const MAX_KEY: usize = 256;

/// What identification found out about a request.
#[derive(Clone)]
pub struct Identity {
    pub caller: Caller,
    /// The key as presented (decoded), for `context.Subscription.Key`.
    key: [u8; MAX_KEY],
    key_len: usize,
    /// The bytes of the query (without `?`) to leave out when forwarding: the key
    /// parameter and one separator.
    pub query_cut: Option<Range<usize>>,
}

impl Identity {
    /// A request that needs no identification (an API without key rules).
    pub fn anonymous() -> Identity {
        Identity {
            caller: Caller::default(),
            key: [0; MAX_KEY],
            key_len: 0,
            query_cut: None,
        }
    }

    pub fn key(&self) -> &[u8] {
        &self.key[..self.key_len]
    }
}

/// Identifies the request to API `api`: `Ok` with its context, or the 401 to answer
/// (with the identity so far, for the query cut).
pub fn identify(
    access: &Access,
    api: u32,
    buf: &[u8],
    head: &RequestHead,
    headers: &[HeaderSpan],
    now: i64,
) -> (Identity, Result<(), GatewayError>) {
    let mut id = Identity::anonymous();
    let Some(rules) = access.apis.get(api as usize) else {
        return (id, Ok(()));
    };
    let header = headers
        .iter()
        .find(|h| h.is(buf, &rules.key_header))
        .map(|h| h.value.get(buf).trim_ascii())
        .filter(|v| !v.is_empty());
    let query = head.query.map(|q| q.get(buf));
    let present = match header {
        Some(v) => Some(copy_key(&mut id, v, false)),
        None => match query.and_then(|q| find_param(q, rules.key_query.as_bytes())) {
            Some((value, cut)) => {
                id.query_cut = Some(cut);
                Some(copy_key(&mut id, value, true))
            }
            None => None,
        },
    };
    let key = match present {
        Some(true) => Some(id.key()),
        // Too long, or broken percent-encoding: no subscription has it.
        Some(false) => Some(&b"\0"[..]),
        None => None,
    };
    match access.authorize(api, key, now) {
        Ok(caller) => {
            id.caller = caller;
            (id, Ok(()))
        }
        Err(e) => (id, Err(e)),
    }
}

/// Copies (and percent-decodes, for the query) the key; false if it cannot be a key.
fn copy_key(id: &mut Identity, raw: &[u8], decode: bool) -> bool {
    let mut n = 0;
    let mut i = 0;
    while i < raw.len() {
        let b = match raw[i] {
            b'%' if decode => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    raw.get(i + 1).and_then(|&c| hex(c)),
                    raw.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    (Some(h), Some(l)) => {
                        i += 2;
                        (h * 16 + l) as u8
                    }
                    _ => return false,
                }
            }
            b'+' if decode => b' ',
            b => b,
        };
        if n == MAX_KEY {
            return false;
        }
        id.key[n] = b;
        n += 1;
        i += 1;
    }
    id.key_len = n;
    true
}

/// Finds `name=value` in a raw query; returns the value and the range to cut (the pair
/// and the `&` joining it to its neighbours).
fn find_param<'q>(query: &'q [u8], name: &[u8]) -> Option<(&'q [u8], Range<usize>)> {
    let mut start = 0;
    while start <= query.len() {
        let end = query[start..]
            .iter()
            .position(|&b| b == b'&')
            .map_or(query.len(), |p| start + p);
        let pair = &query[start..end];
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        if k == name && !v.is_empty() {
            let cut = if end < query.len() {
                start..end + 1
            } else if start > 0 {
                start - 1..end
            } else {
                start..end
            };
            return Some((v, cut));
        }
        start = end + 1;
    }
    None
}

/// The query without the cut range (None: nothing left).
pub fn cut_query<'q>(query: &'q [u8], cut: &Range<usize>) -> (&'q [u8], &'q [u8]) {
    (&query[..cut.start], &query[cut.end..])
}

#[cfg(test)]
mod tests {
    use super::find_param;

    fn cut(q: &str, name: &str) -> Option<(String, String)> {
        let (v, r) = find_param(q.as_bytes(), name.as_bytes())?;
        let rest = [&q.as_bytes()[..r.start], &q.as_bytes()[r.end..]].concat();
        Some((
            String::from_utf8(v.to_vec()).unwrap(),
            String::from_utf8(rest).unwrap(),
        ))
    }

    #[test]
    fn the_key_parameter_is_cut_cleanly() {
        let k = "subscription-key";
        assert_eq!(
            cut("subscription-key=abc", k),
            Some(("abc".into(), "".into()))
        );
        assert_eq!(
            cut("a=1&subscription-key=abc", k),
            Some(("abc".into(), "a=1".into()))
        );
        assert_eq!(
            cut("subscription-key=abc&a=1", k),
            Some(("abc".into(), "a=1".into()))
        );
        assert_eq!(
            cut("a=1&subscription-key=abc&b=2", k),
            Some(("abc".into(), "a=1&b=2".into()))
        );
        assert_eq!(cut("a=1&subscription-keyx=abc", k), None);
        assert_eq!(cut("subscription-key=&a=1", k), None, "empty is absent");
        assert_eq!(cut("", k), None);
    }
}
