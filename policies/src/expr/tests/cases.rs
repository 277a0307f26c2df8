//! Runs the data-driven cases in `policies/tests/expr/cases.txt`.
//!
//! Format, one case per line: `[out] SOURCE ==> EXPECTED`. `[out]` compiles with a
//! response (outbound); EXPECTED is the display string (`\n` unescaped), or
//! `!compile SUBSTRING` / `!runtime SUBSTRING` for an expected error.

use bumpalo::Bump;

use super::mock::MockContext;
use crate::expr::{compile, CompileEnv, ExprScratch};

const CASES: &str = include_str!("../../../tests/expr/cases.txt");

pub struct Case<'s> {
    pub line: usize,
    pub outbound: bool,
    pub source: &'s str,
    pub expected: String,
}

pub fn cases() -> Vec<Case<'static>> {
    let mut out = Vec::new();
    for (i, raw) in CASES.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (outbound, rest) = match line.strip_prefix("[out]") {
            Some(r) => (true, r.trim_start()),
            None => (false, line),
        };
        let (source, expected) = match rest.split_once(" ==>") {
            Some((s, e)) => (s.trim(), e.strip_prefix(' ').unwrap_or(e)),
            None => panic!("cases.txt:{}: missing ' ==> '", i + 1),
        };
        out.push(Case {
            line: i + 1,
            outbound,
            source,
            expected: expected.replace("\\n", "\n"),
        });
    }
    out
}

/// Compiles and evaluates one source; `Err` carries "compile: ..." or "runtime: ...".
pub fn run(source: &str, outbound: bool) -> Result<String, String> {
    let env = if outbound {
        CompileEnv::outbound()
    } else {
        CompileEnv::inbound()
    };
    let expr = compile(source, &env).map_err(|e| format!("compile: {e}"))?;
    let arena = Bump::new();
    let ctx = MockContext::new(&arena);
    let mut scratch = ExprScratch::new();
    let v = expr
        .eval(&ctx, &mut scratch)
        .map_err(|e| format!("runtime: {e}"))?;
    Ok(v.to_display(&arena).to_string())
}

#[test]
fn data_driven_cases() {
    let all = cases();
    assert!(
        all.len() >= 150,
        "expected at least 150 cases, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for c in &all {
        let got = run(c.source, c.outbound);
        let ok = if let Some(sub) = c.expected.strip_prefix("!compile ") {
            matches!(&got, Err(e) if e.starts_with("compile:") && e.contains(sub))
        } else if let Some(sub) = c.expected.strip_prefix("!runtime ") {
            matches!(&got, Err(e) if e.starts_with("runtime:") && e.contains(sub))
        } else {
            got.as_deref() == Ok(c.expected.as_str())
        };
        if !ok {
            failures.push(format!(
                "cases.txt:{}: {}\n    expected: {:?}\n    got:      {:?}",
                c.line, c.source, c.expected, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
