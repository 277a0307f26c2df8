//! Evaluating a header lookup + compare expression performs zero global-heap allocations
//! after warm-up: runtime values live in the request arena (reset between requests).
//! A counting `#[global_allocator]` lives in this separate test binary only.

use bumpalo::Bump;
use tollgate_policies::expr::{
    compile, Certificate, CompileEnv, DateKind, DateTime, Entity, EvalError, ExprContext,
    ExprScratch, Field, Guid, Msg, TimeSpan, UrlKind, UrlParts, Value,
};

// Only the measuring thread's allocations are counted: the test harness' own threads may
// allocate at any time (timers, output) and are not what is measured.
#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

struct Ctx<'a> {
    arena: &'a Bump,
}

impl<'a> ExprContext<'a> for Ctx<'a> {
    fn arena(&self) -> &'a Bump {
        self.arena
    }
    fn method(&self) -> &'a str {
        "POST"
    }
    fn url(&self, _which: UrlKind) -> Option<UrlParts<'a>> {
        Some(UrlParts {
            scheme: "https",
            host: "h",
            port: 443,
            path: "/p",
            query: "a=1",
        })
    }
    fn header_values(&self, _msg: Msg, name: &str) -> Option<&'a [&'a str]> {
        if name.eq_ignore_ascii_case("x-api-key") {
            Some(&["secret"])
        } else {
            None
        }
    }
    fn header_names(&self, _msg: Msg) -> &'a [&'a str] {
        &["X-Api-Key"]
    }
    fn has_body(&self, _msg: Msg) -> bool {
        false
    }
    fn body(&self, _msg: Msg, _preserve: bool) -> Result<&'a [u8], EvalError> {
        Ok(b"")
    }
    fn ip_address(&self) -> &'a str {
        "127.0.0.1"
    }
    fn matched_parameter(&self, _name: &str) -> Option<&'a str> {
        Some("42")
    }
    fn status(&self, _msg: Msg) -> (i32, &'a str) {
        (200, "OK")
    }
    fn variable(&self, name: &str) -> Option<Value<'a>> {
        (name == "tier").then_some(Value::Str("gold"))
    }
    fn has_entity(&self, _e: Entity) -> bool {
        true
    }
    fn field(&self, _f: Field) -> Value<'a> {
        Value::Str("x")
    }
    fn certificate(&self) -> Option<Certificate<'a>> {
        None
    }
    fn request_id(&self) -> Guid {
        Guid([0; 16])
    }
    fn timestamp(&self) -> DateTime {
        DateTime {
            ticks: 0,
            kind: DateKind::Utc,
        }
    }
    fn utc_now(&self) -> DateTime {
        DateTime {
            ticks: 0,
            kind: DateKind::Utc,
        }
    }
    fn elapsed(&self) -> TimeSpan {
        TimeSpan { ticks: 0 }
    }
    fn tracing(&self) -> bool {
        false
    }
    fn random_u64(&self) -> u64 {
        4
    }
}

#[test]
fn header_compare_does_not_allocate_after_warmup() {
    let sources = [
        r#"@(context.Request.Headers.GetValueOrDefault("X-Api-Key","") == "secret")"#,
        r#"@(context.Request.Headers.GetValueOrDefault("X-Api-Key","") == "secret" && context.Request.Method == "POST")"#,
        r#"@{ var k = context.Request.Headers.GetValueOrDefault("X-Api-Key", ""); return k == "secret" ? "ok" : "no"; }"#,
        r#"@((string)context.Variables["tier"] == "gold" ? context.Request.Url.Path + "/gold" : "std")"#,
        r#"@(context.Request.MatchedParameters.GetValueOrDefault("id", "0").Length > 1)"#,
    ];
    let env = CompileEnv::inbound();
    let exprs: Vec<_> = sources
        .iter()
        .map(|s| compile(s, &env).expect("compiles"))
        .collect();
    let mut arena = Bump::with_capacity(64 * 1024);
    let mut scratch = ExprScratch::new();
    let run = |arena: &mut Bump, scratch: &mut ExprScratch| {
        for e in &exprs {
            arena.reset();
            let ctx = Ctx { arena };
            let v = e.eval(&ctx, scratch).expect("evaluates");
            assert!(!v.to_display(arena).is_empty());
        }
    };
    for _ in 0..10 {
        run(&mut arena, &mut scratch);
    }
    let before = tollgate_alloc_count::this_thread();
    for _ in 0..10_000 {
        run(&mut arena, &mut scratch);
    }
    assert_eq!(
        tollgate_alloc_count::this_thread() - before,
        0,
        "global allocations during 10,000 evaluations"
    );
}
