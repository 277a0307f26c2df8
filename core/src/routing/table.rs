//! The compiled route table and its allocation-free lookup.

use super::service_url::ServiceUrl;
use super::template::{Segment, Template};
use std::collections::BTreeMap;

use crate::config::{named_values, Config, NamedValue};

/// Index of an API in [`RouteTable::apis`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiIdx(pub u32);

/// Index of an operation in [`ApiRoute::operations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpIdx(pub u32);

#[derive(Debug)]
pub struct OpRoute {
    pub id: String,
    pub method: String,
    pub template: Template,
    /// Parameter names in capture order; [`ParamMatch::name`] indexes this.
    pub param_names: Vec<String>,
}

#[derive(Debug)]
pub struct ApiRoute {
    pub id: String,
    /// The API's path suffix without slashes (`orders`, `v1/orders`, or empty for the root).
    pub path: String,
    pub service_url: Option<ServiceUrl>,
    pub operations: Vec<OpRoute>,
}

/// A template parameter captured by a lookup, as a byte range of the path or the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamMatch {
    pub name: u16,
    pub in_query: bool,
    pub start: u32,
    pub end: u32,
}

/// The result of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub api: ApiIdx,
    pub op: OpIdx,
    /// Offset in the request path where the API-relative path starts (`/orders/5` of
    /// `/shop/orders/5` for API path `shop`).
    pub rest_start: usize,
}

/// A route that could not be compiled, located by its key path in `gateway.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError {
    pub key_path: String,
    pub message: String,
    pub hint: String,
}

/// All APIs of a configuration, ordered for longest-prefix matching.
#[derive(Debug, Default)]
pub struct RouteTable {
    pub apis: Vec<ApiRoute>,
    /// Indices into `apis`, longest path first.
    by_prefix: Vec<u32>,
}

impl RouteTable {
    /// Compiles the route table from a loaded configuration; reports every bad route.
    /// `{{named values}}` in service URLs are substituted from `named_values`.
    pub fn build(
        config: &Config,
        named_values: &BTreeMap<String, NamedValue>,
    ) -> Result<RouteTable, Vec<RouteError>> {
        let mut errors = Vec::new();
        let mut apis = Vec::with_capacity(config.apis.len());
        for (ai, api) in config.apis.iter().enumerate() {
            let substituted = api
                .service_url
                .as_deref()
                .map(|u| named_values::substitute(u, named_values));
            let service_url = match substituted {
                Some(None) => {
                    errors.push(RouteError {
                        key_path: format!("apis[{ai}].service-url"),
                        message: "refers to an undefined named value".into(),
                        hint: "define it under named-values".into(),
                    });
                    None
                }
                Some(Some(u)) => match ServiceUrl::parse(&u) {
                    Ok(s) => Some(s),
                    Err(message) => {
                        errors.push(RouteError {
                            key_path: format!("apis[{ai}].service-url"),
                            message,
                            hint: "write it as http://host:port/base-path".into(),
                        });
                        None
                    }
                },
                None => None,
            };
            let mut operations = Vec::with_capacity(api.operations.len());
            for (oi, op) in api.operations.iter().enumerate() {
                match Template::parse(&op.url_template) {
                    Ok(template) => operations.push(OpRoute {
                        id: op.id.clone(),
                        method: op.method.to_ascii_uppercase(),
                        param_names: template.param_names().map(str::to_string).collect(),
                        template,
                    }),
                    Err(e) => errors.push(RouteError {
                        key_path: format!("apis[{ai}].operations[{oi}].url-template"),
                        message: e.message,
                        hint: e.hint.into(),
                    }),
                }
            }
            apis.push(ApiRoute {
                id: api.id.clone(),
                path: api.path.trim_matches('/').to_string(),
                service_url,
                operations,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RouteTable::from_apis(apis))
    }

    /// Builds a table from already compiled APIs.
    pub fn from_apis(apis: Vec<ApiRoute>) -> RouteTable {
        let mut by_prefix: Vec<u32> = (0..apis.len() as u32).collect();
        by_prefix.sort_by_key(|&i| std::cmp::Reverse(apis[i as usize].path.len()));
        RouteTable { apis, by_prefix }
    }

    pub fn api(&self, idx: ApiIdx) -> &ApiRoute {
        &self.apis[idx.0 as usize]
    }

    pub fn operation(&self, m: RouteMatch) -> &OpRoute {
        &self.apis[m.api.0 as usize].operations[m.op.0 as usize]
    }

    /// Finds the API and operation for a request. `path` is the request path (starting
    /// with `/`), `query` the raw query string without `?`. Captured parameters are
    /// written to `params` (cleared first). Allocates nothing when `params` has capacity.
    pub fn lookup(
        &self,
        method: &[u8],
        path: &[u8],
        query: Option<&[u8]>,
        params: &mut Vec<ParamMatch>,
    ) -> Option<RouteMatch> {
        params.clear();
        let (api_idx, rest_start) = self.match_api(path)?;
        let api = &self.apis[api_idx as usize];
        let rest = &path[rest_start..];
        let mut best: Option<(u64, usize)> = None;
        for (oi, op) in api.operations.iter().enumerate() {
            if op.method.as_bytes() != method {
                continue;
            }
            if let Some(score) = score_template(&op.template, rest, query) {
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, oi));
                }
            }
        }
        let (_, oi) = best?;
        capture_params(
            &api.operations[oi].template,
            rest,
            rest_start,
            query,
            params,
        );
        Some(RouteMatch {
            api: ApiIdx(api_idx),
            op: OpIdx(oi as u32),
            rest_start,
        })
    }

    /// The API for `path` by longest prefix, and where its API-relative path starts.
    pub fn match_api(&self, path: &[u8]) -> Option<(u32, usize)> {
        for &i in &self.by_prefix {
            let prefix = self.apis[i as usize].path.as_bytes();
            if prefix.is_empty() {
                return Some((i, 0));
            }
            let after = 1 + prefix.len();
            if path.len() >= after && &path[1..after] == prefix {
                match path.get(after) {
                    None | Some(b'/') => return Some((i, after)),
                    _ => {}
                }
            }
        }
        None
    }
}

/// Iterates the segments of an API-relative path, ignoring one trailing slash.
fn segments(rest: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = rest.strip_prefix(b"/").unwrap_or(rest);
    let base = rest.len() - body.len();
    let body = body.strip_suffix(b"/").unwrap_or(body);
    let mut offset = base;
    body.split(|&b| b == b'/')
        .filter(move |_| !body.is_empty())
        .map(move |s| {
            let start = offset;
            offset += s.len() + 1;
            (start, s)
        })
}

/// A score for how specifically `template` matches, or `None` if it does not match.
/// Per segment (up to 16), 2 bits: literal 3, param 2, wildcard 1; then 8 bits of
/// matched query constraints. Higher is more specific.
fn score_template(t: &Template, rest: &[u8], query: Option<&[u8]>) -> Option<u64> {
    let mut score: u64 = 0;
    let mut segs = segments(rest);
    for (pos, tseg) in t.segments.iter().enumerate() {
        let rank = match tseg {
            Segment::Wildcard(_) => {
                if pos < 16 {
                    score |= 1u64 << (62 - 2 * pos);
                }
                return query_score(t, query).map(|q| score | q);
            }
            Segment::Literal(l) => {
                let (_, s) = segs.next()?;
                if s != l.as_bytes() {
                    return None;
                }
                3
            }
            Segment::Param(_) => {
                let (_, s) = segs.next()?;
                if s.is_empty() {
                    return None;
                }
                2
            }
        };
        if pos < 16 {
            score |= rank << (62 - 2 * pos);
        }
    }
    if segs.next().is_some() {
        return None;
    }
    query_score(t, query).map(|q| score | q)
}

fn query_score(t: &Template, query: Option<&[u8]>) -> Option<u64> {
    for c in &t.query {
        let v = query_value(query?, c.name.as_bytes())?;
        if let Segment::Literal(l) = &c.value {
            if v.1 != l.as_bytes() {
                return None;
            }
        }
    }
    Some(t.query.len().min(255) as u64)
}

/// Finds `name` in a raw query string; returns (offset of the value, value).
fn query_value<'q>(query: &'q [u8], name: &[u8]) -> Option<(usize, &'q [u8])> {
    let mut offset = 0;
    for pair in query.split(|&b| b == b'&') {
        let start = offset;
        offset += pair.len() + 1;
        let (k, v, voff) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..], start + i + 1),
            None => (pair, &pair[pair.len()..], start + pair.len()),
        };
        if k == name {
            return Some((voff, v));
        }
    }
    None
}

fn capture_params(
    t: &Template,
    rest: &[u8],
    rest_start: usize,
    query: Option<&[u8]>,
    params: &mut Vec<ParamMatch>,
) {
    let mut name = 0u16;
    let mut segs = segments(rest);
    for tseg in &t.segments {
        match tseg {
            Segment::Literal(_) => {
                segs.next();
            }
            Segment::Param(_) => {
                if let Some((off, s)) = segs.next() {
                    let start = (rest_start + off) as u32;
                    params.push(ParamMatch {
                        name,
                        in_query: false,
                        start,
                        end: start + s.len() as u32,
                    });
                }
                name += 1;
            }
            Segment::Wildcard(n) => {
                if n.is_some() {
                    let body_start = usize::from(rest.first() == Some(&b'/'));
                    let start = segs.next().map_or(rest.len().max(body_start), |(o, _)| o);
                    params.push(ParamMatch {
                        name,
                        in_query: false,
                        start: (rest_start + start) as u32,
                        end: (rest_start + rest.len()) as u32,
                    });
                    name += 1;
                }
                break;
            }
        }
    }
    for c in &t.query {
        if let Segment::Param(_) = c.value {
            if let Some((off, v)) = query.and_then(|q| query_value(q, c.name.as_bytes())) {
                params.push(ParamMatch {
                    name,
                    in_query: true,
                    start: off as u32,
                    end: (off + v.len()) as u32,
                });
            }
            name += 1;
        }
    }
}

#[cfg(test)]
mod tests;
