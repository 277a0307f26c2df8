//! Throttling policies seen from the policy engine: what is counted, when, under which
//! key, and what the caller gets (APIM's 429/403 bodies, Retry-After, remaining-calls
//! headers and variables). Counting itself is a plain exact sliding log here (the
//! gateway's shard limiter has its own tests); the clock is injected.

use std::cell::RefCell;
use std::collections::HashMap;

mod support;

use bumpalo::Bump;
use tollgate_policies::exchange::{
    CallInfo, CounterSpec, Exchange, HeaderList, ResponseState, SubscriptionInfo, Throttler,
    Verdict,
};
use tollgate_policies::expr::ExprScratch;
use tollgate_policies::pipeline::{self, Next};
use tollgate_policies::program::Program;

/// (counter id, key) → what was counted.
type Hits = HashMap<(u64, String), Vec<(i64, u64)>>;

/// Exact counting: rates as a log of (time, count), quotas as fixed windows.
#[derive(Default)]
struct Log {
    hits: RefCell<Hits>,
    bytes: RefCell<HashMap<(u64, String), u64>>,
}

impl Log {
    fn used(&self, c: &CounterSpec, key: &str, now: i64) -> (u64, i64) {
        let hits = self.hits.borrow();
        let list = hits
            .get(&(c.id, key.to_string()))
            .cloned()
            .unwrap_or_default();
        if c.rate {
            let from = now - c.period_ms as i64;
            let live: Vec<_> = list.iter().filter(|(t, _)| *t > from).collect();
            let oldest = live.first().map_or(now, |(t, _)| *t);
            (
                live.iter().map(|(_, n)| n).sum(),
                oldest + c.period_ms as i64 - now,
            )
        } else {
            let start = c.first_period_start_ms;
            let p = c.period_ms as i64;
            let window = if p == 0 {
                0
            } else {
                (now - start).div_euclid(p)
            };
            let ends = if p == 0 {
                i64::MAX / 2
            } else {
                start + (window + 1) * p
            };
            let used = list
                .iter()
                .filter(|(t, _)| p == 0 || (*t - start).div_euclid(p) == window)
                .map(|(_, n)| n)
                .sum();
            (used, ends - now)
        }
    }
}

impl Throttler for Log {
    fn check(&self, c: &CounterSpec, key: &str, count: u64, now: i64) -> Verdict {
        let (used, until) = self.used(c, key, now);
        let bytes_used = *self
            .bytes
            .borrow()
            .get(&(c.id, key.to_string()))
            .unwrap_or(&0);
        let calls = c.calls.unwrap_or(u64::MAX);
        if c.bytes.is_some_and(|b| bytes_used >= b) {
            return Verdict::Denied {
                retry_after_ms: until.max(0) as u64,
                bandwidth: true,
            };
        }
        if used + count.max(1) > calls {
            return Verdict::Denied {
                retry_after_ms: until.max(0) as u64,
                bandwidth: false,
            };
        }
        if count > 0 {
            self.hits
                .borrow_mut()
                .entry((c.id, key.to_string()))
                .or_default()
                .push((now, count));
        }
        Verdict::Allowed {
            remaining: calls - used - count,
            total: calls,
        }
    }
    fn add(&self, c: &CounterSpec, key: &str, count: u64, bytes: u64, now: i64) {
        if count > 0 {
            self.hits
                .borrow_mut()
                .entry((c.id, key.to_string()))
                .or_default()
                .push((now, count));
        }
        *self
            .bytes
            .borrow_mut()
            .entry((c.id, key.to_string()))
            .or_default() += bytes;
    }
}

/// At product scope, where every throttling policy may stand (quota only there).
fn program(xml: &str) -> Program {
    support::compile(xml, support::At::Product).unwrap()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    variables: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn variable(&self, name: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request at `ms` (unix milliseconds) for subscription `sub` (None: no key), with
/// header `X-Client: client`; the backend answers `backend_status`.
fn call(
    prog: &Program,
    log: &Log,
    ms: i64,
    sub: Option<&str>,
    client: &str,
    backend_status: u16,
) -> Answer {
    let arena = Bump::new();
    let mut headers = HeaderList::new(&arena);
    headers.push("X-Client", arena.alloc_str(client));
    let request = support::get(headers);
    let info = CallInfo {
        api_id: "orders",
        api_name: "Orders",
        operation_id: "get",
        operation_name: "get",
        subscription: sub.map(|s| SubscriptionInfo {
            id: arena.alloc_str(s),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut ex = Exchange::new(&arena, request, info, ms * 1000, 1);
    ex.throttler = Some(log);
    let mut scratch = ExprScratch::new();
    let mut next = pipeline::start(prog, &mut ex, &mut scratch);
    while let Next::Forward { resume, .. } = next {
        ex.response = Some(ResponseState {
            status: backend_status,
            reason: "X",
            headers: HeaderList::new(&arena),
            body: None,
        });
        next = pipeline::after_forward(prog, resume, &mut ex, &mut scratch);
    }
    assert_eq!(next, Next::Respond);
    pipeline::after_response(prog, &mut ex, 2048, &mut scratch);
    let r = ex.response.as_ref();
    Answer {
        status: r.map_or(200, |r| r.status),
        headers: r.map_or(Vec::new(), |r| {
            r.headers
                .lines()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        }),
        body: r
            .and_then(|r| r.body)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default(),
        variables: ex
            .variables
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_display(&arena).to_string()))
            .collect(),
    }
}

const T0: i64 = 1_800_000_000_000;

#[test]
fn rate_limit_per_subscription_with_apims_answer() {
    let prog = program(
        r#"<policies><inbound><rate-limit calls="3" renewal-period="10" remaining-calls-header-name="X-Remaining" total-calls-header-name="X-Total" remaining-calls-variable-name="left"/></inbound><backend><forward-request/></backend></policies>"#,
    );
    let log = Log::default();
    for i in 0..3 {
        let a = call(&prog, &log, T0 + i * 100, Some("sub-a"), "", 200);
        assert_eq!(a.status, 200);
        assert_eq!(a.header("X-Remaining"), Some(["2", "1", "0"][i as usize]));
        assert_eq!(a.header("X-Total"), Some("3"));
        assert_eq!(a.variable("left"), Some(["2", "1", "0"][i as usize]));
    }
    let a = call(&prog, &log, T0 + 1_000, Some("sub-a"), "", 200);
    assert_eq!(a.status, 429);
    assert_eq!(
        a.body,
        r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 9 seconds."}"#
    );
    assert_eq!(a.header("Retry-After"), Some("9"));
    // Another subscription has its own counter; no subscription is not limited (APIM).
    assert_eq!(
        call(&prog, &log, T0 + 1_000, Some("sub-b"), "", 200).status,
        200
    );
    for _ in 0..10 {
        assert_eq!(call(&prog, &log, T0 + 1_000, None, "", 200).status, 200);
    }
    // The window slides: the first call leaves it 10 s after it was made.
    assert_eq!(
        call(&prog, &log, T0 + 10_050, Some("sub-a"), "", 200).status,
        200
    );
    assert_eq!(
        call(&prog, &log, T0 + 10_060, Some("sub-a"), "", 200).status,
        429
    );
}

#[test]
fn rate_limit_by_key_with_increment_condition_on_the_response() {
    let prog = program(
        r#"<policies><inbound><rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;&quot;))" increment-condition="@(context.Response.StatusCode &gt;= 200 &amp;&amp; context.Response.StatusCode &lt; 300)" retry-after-header-name="X-Retry" retry-after-variable-name="wait"/></inbound><backend><forward-request/></backend></policies>"#,
    );
    let log = Log::default();
    // Failed calls (500) are not counted.
    for _ in 0..5 {
        assert_eq!(call(&prog, &log, T0, None, "c1", 500).status, 500);
    }
    assert_eq!(call(&prog, &log, T0, None, "c1", 200).status, 200);
    assert_eq!(call(&prog, &log, T0, None, "c1", 200).status, 200);
    let a = call(&prog, &log, T0 + 30_000, None, "c1", 200);
    assert_eq!(a.status, 429);
    assert_eq!(a.header("X-Retry"), Some("30"));
    assert_eq!(a.header("Retry-After"), None);
    assert_eq!(a.variable("wait"), Some("30"));
    assert_eq!(
        call(&prog, &log, T0, None, "c2", 200).status,
        200,
        "another key"
    );
}

#[test]
fn rate_limit_by_key_increment_count_and_a_condition_known_up_front() {
    let prog = program(
        r#"<policies><inbound><rate-limit-by-key calls="10" renewal-period="60" counter-key="k" increment-count="4" increment-condition="@(context.Request.Method == &quot;GET&quot;)"/></inbound><backend><forward-request/></backend></policies>"#,
    );
    let log = Log::default();
    assert_eq!(call(&prog, &log, T0, None, "", 200).status, 200);
    assert_eq!(call(&prog, &log, T0, None, "", 200).status, 200);
    assert_eq!(
        call(&prog, &log, T0, None, "", 200).status,
        429,
        "8 used, 4 more do not fit"
    );
}

#[test]
fn child_counters_per_api_and_operation() {
    let prog = program(
        r#"<policies><inbound><rate-limit calls="100" renewal-period="60"><api name="Orders" calls="2" renewal-period="60"><operation id="get" calls="1" renewal-period="60"/></api><api id="billing" calls="1" renewal-period="60"/></rate-limit></inbound><backend><forward-request/></backend></policies>"#,
    );
    let log = Log::default();
    assert_eq!(call(&prog, &log, T0, Some("s"), "", 200).status, 200);
    assert_eq!(
        call(&prog, &log, T0, Some("s"), "", 200).status,
        429,
        "the operation's counter"
    );
}

#[test]
fn quota_calls_and_bandwidth_with_apims_timespan() {
    let prog = program(
        r#"<policies><inbound><quota calls="2" renewal-period="86400"/></inbound><backend><forward-request/></backend></policies>"#,
    );
    let log = Log::default();
    // Windows start at the epoch here (T0 is 2027-01-15T08:00:00Z).
    assert_eq!(call(&prog, &log, T0, Some("s"), "", 200).status, 200);
    assert_eq!(call(&prog, &log, T0, Some("s"), "", 200).status, 200);
    let a = call(&prog, &log, T0, Some("s"), "", 200);
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        r#"{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 16:00:00."}"#
    );
    assert_eq!(a.header("Retry-After"), Some("57600"));
    // The next window.
    assert_eq!(
        call(&prog, &log, T0 + 57_600_000, Some("s"), "", 200).status,
        200
    );

    let bw = program(
        r#"<policies><inbound><quota-by-key bandwidth="4" renewal-period="3600" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;&quot;))" first-period-start="2027-01-15T07:30:00Z"/></inbound><backend><forward-request/></backend></policies>"#,
    );
    let log = Log::default();
    // 2 KiB relayed per call: the third call finds 4 KiB used.
    assert_eq!(call(&bw, &log, T0, None, "c", 200).status, 200);
    assert_eq!(call(&bw, &log, T0, None, "c", 200).status, 200);
    let a = call(&bw, &log, T0, None, "c", 200);
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        r#"{"statusCode":403,"message":"Out of bandwidth quota. Quota will be replenished in 00:30:00."}"#
    );
}

#[test]
fn load_errors_name_what_is_wrong() {
    let err = |xml: &str| match support::compile(xml, support::At::Api) {
        Ok(_) => panic!("loaded: {xml}"),
        Err(e) => e,
    };

    assert!(err(
        r#"<policies><inbound><rate-limit calls="5" renewal-period="301"/></inbound></policies>"#
    )
    .contains("renewal-period must be 1 to 300 seconds"));
    assert!(err(
        r#"<policies><inbound><rate-limit calls="0" renewal-period="60"/></inbound></policies>"#
    )
    .contains("calls must be a positive number"));
    assert!(err(r#"<policies><inbound><rate-limit-by-key calls="x" renewal-period="60" counter-key="k"/></inbound></policies>"#).contains("calls=\"x\" must be a number"));
    let many: String = (0..8)
        .map(|i| format!(r#"<api id="a{i}" calls="1" renewal-period="60"/>"#))
        .collect();
    assert!(err(&format!(r#"<policies><inbound><rate-limit calls="5" renewal-period="60">{many}</rate-limit></inbound></policies>"#)).contains("9 counters"));
    assert!(err(r#"<policies><inbound><quota-by-key calls="5" renewal-period="60" counter-key="k" first-period-start="soon"/></inbound></policies>"#).contains("first-period-start `soon` is not a UTC date"));
}
