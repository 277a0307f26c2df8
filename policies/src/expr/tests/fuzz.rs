//! Robustness: thousands of random and mutated sources must compile to `Ok` or `Err` and
//! evaluate to `Ok` or `Err`, never panic or overflow the stack.

use bumpalo::Bump;

use super::cases::cases;
use super::mock::MockContext;
use crate::expr::{compile, CompileEnv, ExprScratch};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ".",
    ",",
    ";",
    "?",
    ":",
    "??",
    "?.",
    "=>",
    "==",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "\"",
    "'",
    "@",
    "$\"",
    "{x}",
    "context",
    "Request",
    "Headers",
    "Body",
    "As<JObject>()",
    "Variables",
    "x",
    "var",
    "return",
    "if",
    "else",
    "foreach",
    "for",
    "in",
    "new",
    "JObject",
    "1",
    "0",
    "-1",
    "2147483647",
    "1.5",
    "null",
    "true",
    "\"s\"",
    "Select",
    "Where",
    "Any",
    "ToString",
    "Split",
    "int.Parse",
    "(string)",
    "(int)",
    " ",
    "\n",
    "\\",
    "é",
    "😀",
];

fn run_one(src: &str, outbound: bool) {
    let env = if outbound {
        CompileEnv::outbound()
    } else {
        CompileEnv::inbound()
    };
    if let Ok(e) = compile(src, &env) {
        let arena = Bump::new();
        let ctx = MockContext::new(&arena);
        let mut s = ExprScratch {
            step_budget: 20_000,
        };
        let _ = e.eval(&ctx, &mut s).map(|v| v.to_display(&arena).len());
    }
}

#[test]
fn mutated_cases_never_panic() {
    let seeds: Vec<_> = cases()
        .into_iter()
        .map(|c| (c.source.to_string(), c.outbound))
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut n = 0;
    for round in 0..12 {
        for (src, out) in &seeds {
            let mut s: Vec<char> = src.chars().collect();
            for _ in 0..=(round % 4) {
                match rng.below(4) {
                    0 if !s.is_empty() => {
                        let i = rng.below(s.len());
                        s.remove(i);
                    }
                    1 => {
                        let i = rng.below(s.len() + 1);
                        let p = PIECES[rng.below(PIECES.len())];
                        for (k, c) in p.chars().enumerate() {
                            s.insert(i + k, c);
                        }
                    }
                    2 if s.len() > 2 => {
                        let i = rng.below(s.len());
                        let j = rng.below(s.len());
                        s.swap(i, j);
                    }
                    _ if !s.is_empty() => {
                        let cut = rng.below(s.len());
                        s.truncate(cut);
                    }
                    _ => {}
                }
            }
            let m: String = s.into_iter().collect();
            run_one(&m, *out);
            n += 1;
        }
    }
    assert!(n >= 2000, "ran {n} mutations");
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..3000 {
        let mut s = String::from(if rng.below(2) == 0 { "@(" } else { "@{" });
        for _ in 0..rng.below(24) {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
        run_one(&s, rng.below(2) == 0);
    }
}

#[test]
fn deep_nesting_is_a_compile_error_not_a_crash() {
    for depth in [63usize, 65, 200, 5000] {
        let src = format!("@({}1{})", "(".repeat(depth), ")".repeat(depth));
        let r = compile(&src, &CompileEnv::inbound());
        if depth >= 65 {
            assert!(r.is_err(), "depth {depth} should be rejected");
        }
        run_one(&src, false);
        let src = format!("@({}1)", "-".repeat(depth));
        run_one(&src, false);
        let src = format!("@({}true)", "!".repeat(depth));
        run_one(&src, false);
        let src = format!("@(\"a\"{})", ".ToString()".repeat(depth));
        run_one(&src, false);
        let src = format!("@(1{})", " + 1".repeat(depth));
        run_one(&src, false);
        let src = format!(
            "@{{ {} return 1; {} }}",
            "if (true) {".repeat(depth),
            "}".repeat(depth)
        );
        run_one(&src, false);
        let src = format!(
            "@(new[] {{ {} }})",
            "new[] { ".repeat(depth.min(300)) + &"1 }".repeat(depth.min(300))
        );
        run_one(&src, false);
        let src = format!("@($\"{}\")", "{1}".repeat(depth));
        run_one(&src, false);
        let src = format!("@(context?{})", ".Request?".repeat(depth));
        run_one(&src, false);
    }
}

#[test]
fn deep_json_is_a_runtime_error_not_a_crash() {
    let json = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let src = format!("@(JToken.Parse(\"{json}\").ToString())");
    let e = compile(&src, &CompileEnv::inbound()).unwrap();
    let arena = Bump::new();
    let ctx = MockContext::new(&arena);
    assert!(e.eval(&ctx, &mut ExprScratch::new()).is_err());
}
