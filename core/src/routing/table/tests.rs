use super::*;

fn api(id: &str, path: &str, ops: &[(&str, &str, &str)]) -> ApiRoute {
    ApiRoute {
        id: id.into(),
        path: path.into(),
        service_url: None,
        operations: ops
            .iter()
            .map(|(id, m, t)| {
                let template = Template::parse(t).unwrap();
                OpRoute {
                    id: id.to_string(),
                    method: m.to_string(),
                    param_names: template.param_names().map(str::to_string).collect(),
                    template,
                }
            })
            .collect(),
    }
}

fn table() -> RouteTable {
    RouteTable::from_apis(vec![
        api("root", "", &[("any", "GET", "/*")]),
        api(
            "orders",
            "orders",
            &[
                ("get", "GET", "/orders/{id}"),
                ("latest", "GET", "/orders/latest"),
                ("lines", "GET", "/orders/{id}/lines/{*rest}"),
                ("create", "POST", "/orders"),
                ("search-fast", "GET", "/search?mode=fast&q={q}"),
                ("search", "GET", "/search?q={q}"),
            ],
        ),
        api("orders-v2", "orders/v2", &[("get", "GET", "/orders/{id}")]),
    ])
}

/// (method, path, query) → (api id, op id, params as name=value)
fn find(t: &RouteTable, m: &str, target: &str) -> Option<(String, String, Vec<String>)> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q.as_bytes())),
        None => (target, None),
    };
    let mut params = Vec::with_capacity(8);
    let r = t.lookup(m.as_bytes(), path.as_bytes(), query, &mut params)?;
    let op = t.operation(r);
    let ps = params
        .iter()
        .map(|p| {
            let src = if p.in_query {
                query.unwrap()
            } else {
                path.as_bytes()
            };
            format!(
                "{}={}",
                op.param_names[p.name as usize],
                std::str::from_utf8(&src[p.start as usize..p.end as usize]).unwrap()
            )
        })
        .collect();
    Some((t.api(r.api).id.clone(), op.id.clone(), ps))
}

macro_rules! route {
    ($t:expr, $m:literal $p:literal => None) => {
        assert_eq!(find(&$t, $m, $p), None, "{} {}", $m, $p);
    };
    ($t:expr, $m:literal $p:literal => $api:literal $op:literal [$($param:literal),*]) => {
        assert_eq!(
            find(&$t, $m, $p),
            Some(($api.to_string(), $op.to_string(), vec![$($param.to_string()),*])),
            "{} {}", $m, $p
        );
    };
}

#[test]
fn longest_prefix_and_template_precedence() {
    let t = table();
    route!(t, "GET" "/orders/orders/5" => "orders" "get" ["id=5"]);
    route!(t, "GET" "/orders/orders/latest" => "orders" "latest" []);
    route!(t, "GET" "/orders/v2/orders/7" => "orders-v2" "get" ["id=7"]);
    route!(t, "GET" "/orders/orders/5/lines/a/b" => "orders" "lines" ["id=5", "rest=a/b"]);
    // A wildcard matches zero or more segments.
    route!(t, "GET" "/orders/orders/5/lines" => "orders" "lines" ["id=5", "rest="]);
    route!(t, "POST" "/orders/orders" => "orders" "create" []);
    route!(t, "POST" "/orders/orders/" => "orders" "create" []);
    route!(t, "GET" "/ordersx/1" => "root" "any" []);
    route!(t, "GET" "/" => "root" "any" []);
}

#[test]
fn method_mismatch_is_not_found_within_api() {
    let t = table();
    route!(t, "DELETE" "/orders/orders/5" => None);
    route!(t, "get" "/orders/orders/5" => None);
}

#[test]
fn query_constraints_select_operations() {
    let t = table();
    route!(t, "GET" "/orders/search?q=x&mode=fast" => "orders" "search-fast" ["q=x"]);
    route!(t, "GET" "/orders/search?q=y" => "orders" "search" ["q=y"]);
    route!(t, "GET" "/orders/search" => None);
}

#[test]
fn lookup_does_not_allocate_params_beyond_capacity() {
    let t = table();
    let mut params = Vec::with_capacity(8);
    let cap = params.capacity();
    for _ in 0..3 {
        t.lookup(b"GET", b"/orders/orders/5/lines/x", None, &mut params)
            .unwrap();
    }
    assert_eq!(params.capacity(), cap);
}
