//! Evaluating a header lookup + compare expression performs zero global-heap allocations
//! after warm-up: runtime values live in the request arena (reset between requests).
//! A counting `#[global_allocator]` lives in this separate test binary only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bumpalo::Bump;
use tollgate_policies::expr::{
    compile, Certificate, CompileEnv, DateKind, DateTime, Entity, EvalError, ExprContext,
    ExprScratch, Field, Guid, Msg, TimeSpan, UrlKind, UrlParts, Value,
};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Only the measuring thread counts: the test harness' own threads may allocate
    /// at any time (timers, output) and are not what is measured.
    static MEASURED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.load(Ordering::Relaxed) && MEASURED.with(|m| m.get())
}

// SAFETY: delegates to the system allocator; only adds a counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    ALLOCS.store(0, Ordering::SeqCst);
    MEASURED.with(|m| m.set(true));
    COUNTING.store(true, Ordering::SeqCst);
    for _ in 0..10_000 {
        run(&mut arena, &mut scratch);
    }
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(
        ALLOCS.load(Ordering::SeqCst),
        0,
        "global allocations during 10,000 evaluations"
    );
}
