//! Targeted tests: public API shape, error offsets and hints, result types, body
//! consumption, determinism.

use bumpalo::Bump;

use super::mock::MockContext;
use crate::expr::{compile, is_expression, CompileEnv, ExprScratch, Type, Value};

#[test]
fn is_expression_detects_both_forms() {
    assert!(is_expression("@(1)"));
    assert!(is_expression("  @{ return 1; }"));
    assert!(!is_expression("plain"));
    assert!(!is_expression("@@(x)"));
}

#[test]
fn result_types() {
    let env = CompileEnv::inbound();
    assert_eq!(
        compile("@(context.Request.Method)", &env)
            .unwrap()
            .result_type(),
        Type::Str
    );
    assert_eq!(
        compile("@(1 + 2L)", &env).unwrap().result_type(),
        Type::Long
    );
    assert_eq!(
        compile("@(context.Variables[\"x\"])", &env)
            .unwrap()
            .result_type(),
        Type::Object
    );
    assert_eq!(
        compile("@{ if (true) { return 1; } return \"a\"; }", &env)
            .unwrap()
            .result_type(),
        Type::Object
    );
}

#[test]
fn compile_error_offset_and_hint() {
    let env = CompileEnv::inbound();
    let src = "@(context.Response.StatusCode)";
    let e = compile(src, &env).unwrap_err();
    assert_eq!(&src[e.offset..e.offset + 1], ".");
    assert!(e.hint.is_some());
    let e = compile("@(context.Request.Nope)", &env).unwrap_err();
    assert!(e.message.contains("Nope"), "{e}");
    assert_eq!(e.offset, 17);
}

#[test]
fn body_without_preserve_is_consumed() {
    let env = CompileEnv::inbound();
    let e = compile("@{ var a = context.Request.Body.As<string>(); var b = context.Request.Body.As<string>(); return b; }", &env).unwrap();
    let arena = Bump::new();
    let ctx = MockContext::new(&arena);
    let err = e.eval(&ctx, &mut ExprScratch::new()).unwrap_err();
    assert!(err.message.contains("already"), "{err}");
}

#[test]
fn null_entities() {
    let env = CompileEnv::inbound();
    let arena = Bump::new();
    let mut ctx = MockContext::new(&arena);
    ctx.has_subscription = false;
    ctx.has_body = false;
    ctx.has_cert = false;
    let mut s = ExprScratch::new();
    let e = compile("@(context.Subscription?.Key ?? \"anon\")", &env).unwrap();
    assert_eq!(e.eval(&ctx, &mut s).unwrap().as_str(), Some("anon"));
    let e = compile("@(context.Subscription.Key)", &env).unwrap();
    assert!(e
        .eval(&ctx, &mut s)
        .unwrap_err()
        .message
        .contains("Object reference"));
    let e = compile("@(context.Request.Body == null)", &env).unwrap();
    assert!(e.eval(&ctx, &mut s).unwrap().truthy());
    let e = compile(
        "@(context.Request.Certificate == null ? \"none\" : context.Request.Certificate.Subject)",
        &env,
    )
    .unwrap();
    assert_eq!(e.eval(&ctx, &mut s).unwrap().as_str(), Some("none"));
}

#[test]
fn guid_new_is_deterministic_with_host_random() {
    let env = CompileEnv::inbound();
    let e = compile("@(Guid.NewGuid().ToString())", &env).unwrap();
    let a1 = Bump::new();
    let a2 = Bump::new();
    let c1 = MockContext::new(&a1);
    let c2 = MockContext::new(&a2);
    let v1 = e
        .eval(&c1, &mut ExprScratch::new())
        .unwrap()
        .to_display(&a1)
        .to_string();
    let v2 = e
        .eval(&c2, &mut ExprScratch::new())
        .unwrap()
        .to_display(&a2)
        .to_string();
    assert_eq!(v1, v2);
    assert_eq!(v1.len(), 36);
    assert_eq!(&v1[14..15], "4");
}

#[test]
fn step_budget_bounds_work() {
    let env = CompileEnv::inbound();
    let e = compile(
        "@{ int n = 0; for (int i = 0; i < 10000; i++) { n += i; } return n; }",
        &env,
    )
    .unwrap();
    let arena = Bump::new();
    let ctx = MockContext::new(&arena);
    let mut s = ExprScratch { step_budget: 100 };
    assert!(e.eval(&ctx, &mut s).unwrap_err().message.contains("budget"));
    let mut s = ExprScratch::new();
    assert!(matches!(
        e.eval(&ctx, &mut s).unwrap(),
        Value::Int(49_995_000)
    ));
}

#[test]
fn values_are_small_and_copy() {
    fn is_copy<T: Copy>() {}
    is_copy::<Value<'static>>();
    assert!(std::mem::size_of::<Value<'static>>() <= 24);
}

#[test]
fn deepest_accepted_expressions_evaluate_on_a_small_stack() {
    // The evaluator recurses; compile-time limits keep the depth small enough for a
    // 1 MiB stack even in debug builds.
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let env = CompileEnv::inbound();
            let forms = [
                format!("@(\"a\"{})", ".Trim()".repeat(30)),
                format!("@({}1{})", "(".repeat(30), ")".repeat(30)),
                format!("@({}true)", "!".repeat(60)),
                format!("@(1{})", " + 1".repeat(60)),
                format!(
                    "@{{ {} return 1; {} return 2; }}",
                    "if (true) {".repeat(30),
                    "}".repeat(30)
                ),
                format!("@({}1{})", "true ? (".repeat(20), ") : 0".repeat(20)),
            ];
            let mut accepted = 0;
            for src in &forms {
                if let Ok(e) = compile(src, &env) {
                    accepted += 1;
                    let arena = Bump::new();
                    let ctx = MockContext::new(&arena);
                    let _ = e.eval(&ctx, &mut ExprScratch::new());
                }
            }
            accepted
        })
        .unwrap();
    assert_eq!(handle.join().unwrap(), 6);
}
