//! APIM URL templates: `/orders/{id}`, `/files/{*path}`, `/*`, `/get?a={b}&mode=fast`.

/// One path segment of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `{name}`: exactly one non-empty segment.
    Param(String),
    /// `{*name}` or `*` as the last segment: the rest of the path (possibly empty).
    Wildcard(Option<String>),
}

/// A query constraint of a template: `name={param}` (required, captured) or `name=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryConstraint {
    pub name: String,
    pub value: Segment,
}

/// A compiled URL template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub segments: Vec<Segment>,
    pub query: Vec<QueryConstraint>,
    /// The template as written, for `context.Operation.UrlTemplate` and listings.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub hint: &'static str,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let err = |message: String, hint: &'static str| TemplateError { message, hint };
        if !source.starts_with('/') {
            return Err(err(
                format!("url-template `{source}` must start with `/`"),
                "write it as a path, e.g. `/orders/{id}`",
            ));
        }
        let (path, query) = match source.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (source, None),
        };
        let mut names: Vec<String> = Vec::new();
        let mut segments = Vec::new();
        let raw: Vec<&str> = path[1..].split('/').collect();
        for (i, seg) in raw.iter().enumerate() {
            let last = i + 1 == raw.len();
            if seg.is_empty() {
                if last {
                    continue; // trailing slash
                }
                return Err(err(
                    format!("url-template `{source}` has an empty segment"),
                    "remove the `//`",
                ));
            }
            let parsed = parse_segment(seg, source)?;
            if let Segment::Wildcard(_) = parsed {
                if !last {
                    return Err(err(
                        format!("url-template `{source}`: a wildcard must be the last segment"),
                        "use `{*rest}` or `*` only at the end",
                    ));
                }
            }
            if let Segment::Param(n) | Segment::Wildcard(Some(n)) = &parsed {
                check_unique(&mut names, n, source)?;
            }
            segments.push(parsed);
        }
        let mut constraints = Vec::new();
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').ok_or_else(|| {
                    err(
                        format!("url-template `{source}`: query part `{pair}` has no `=`"),
                        "write query constraints as `name={param}` or `name=value`",
                    )
                })?;
                let value = parse_segment(value, source)?;
                if let Segment::Wildcard(_) = value {
                    return Err(err(
                        format!("url-template `{source}`: wildcards are not allowed in the query"),
                        "use `name={param}`",
                    ));
                }
                if let Segment::Param(n) = &value {
                    check_unique(&mut names, n, source)?;
                }
                constraints.push(QueryConstraint {
                    name: name.to_string(),
                    value,
                });
            }
        }
        Ok(Template {
            segments,
            query: constraints,
            source: source.to_string(),
        })
    }

    /// Names of all captured parameters, in template order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        let path = self.segments.iter().filter_map(|s| match s {
            Segment::Param(n) | Segment::Wildcard(Some(n)) => Some(n.as_str()),
            _ => None,
        });
        let query = self.query.iter().filter_map(|q| match &q.value {
            Segment::Param(n) => Some(n.as_str()),
            _ => None,
        });
        path.chain(query)
    }
}

fn check_unique(names: &mut Vec<String>, n: &str, source: &str) -> Result<(), TemplateError> {
    if names.iter().any(|x| x == n) {
        return Err(TemplateError {
            message: format!("url-template `{source}` uses parameter `{n}` twice"),
            hint: "parameter names must be unique across the whole template",
        });
    }
    names.push(n.to_string());
    Ok(())
}

fn parse_segment(seg: &str, source: &str) -> Result<Segment, TemplateError> {
    if seg == "*" {
        return Ok(Segment::Wildcard(None));
    }
    if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let (wild, name) = match inner.strip_prefix('*') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(TemplateError {
                message: format!("url-template `{source}`: invalid parameter `{seg}`"),
                hint: "parameter names are letters, digits, `_` and `-`, e.g. `{id}`",
            });
        }
        return Ok(if wild {
            Segment::Wildcard(Some(name.to_string()))
        } else {
            Segment::Param(name.to_string())
        });
    }
    if seg.contains(['{', '}']) {
        return Err(TemplateError {
            message: format!("url-template `{source}`: segment `{seg}` mixes text and a parameter"),
            hint: "a parameter must fill a whole segment, e.g. `/items/{id}`",
        });
    }
    Ok(Segment::Literal(seg.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params_wildcards_and_query() {
        let t = Template::parse("/orders/{id}/lines/{*rest}").unwrap();
        assert_eq!(t.segments.len(), 4);
        assert_eq!(t.param_names().collect::<Vec<_>>(), ["id", "rest"]);
        let t = Template::parse("/get?a={b}&mode=fast").unwrap();
        assert_eq!(t.query.len(), 2);
        assert_eq!(
            Template::parse("/*").unwrap().segments,
            vec![Segment::Wildcard(None)]
        );
        assert!(Template::parse("/").unwrap().segments.is_empty());
    }

    #[test]
    fn rejects_bad_templates() {
        for bad in [
            "orders",
            "/a//b",
            "/{*x}/b",
            "/{id}/{id}",
            "/a{b}",
            "/{}",
            "/x?a",
            "/x?a={*b}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
