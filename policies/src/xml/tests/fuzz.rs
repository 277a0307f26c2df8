//! No panics on any input: thousands of deterministic mutations of the case corpus, run
//! through every entry point (parse, validate, fragments, named values, merge, print).

use std::collections::BTreeMap;

use tollgate_core::config::NamedValue;

use super::super::{
    merge, parse_document, parse_fragment, print_document, print_effective,
    substitute_fragment_named_values, substitute_named_values, Origin, Scopes,
};

const ITERATIONS: usize = 10_000;

const TOKENS: &[&str] = &[
    "<",
    ">",
    "/",
    "\"",
    "'",
    "&",
    "&amp;",
    "&lt",
    ";",
    "=",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<base/>",
    "<when condition=\"x\">",
    "</when>",
    "</inbound>",
    "<inbound>",
    "<backend>",
    "{{",
    "}}",
    "{{host}}",
    "{{secret}}",
    "{{nope}}",
    "\n",
    "\r\n",
    "é",
    "€",
    "\u{0}",
    "<?",
    "?>",
    "<!DOCTYPE x>",
    "&#0;",
    "&#x110000;",
    "&#65;",
    " a=\"b\"",
    " id=\"i\"",
    "<fragment>",
    "<include-fragment fragment-id=\"f\"/>",
    "<choose>",
    "</choose>",
    "<otherwise/>",
    "<forward-request/>",
    "<rate-limit calls=\"1\" renewal-period=\"1\"/>",
    "<cors>",
    "<set-body template=\"liquid\">",
    "</set-body>",
    "<policies>",
    "</policies>",
    "\t",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One to three random edits (none one time in eight, to reach the later stages).
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let edits = if rng.below(8) == 0 {
        0
    } else {
        1 + rng.below(3)
    };
    for _ in 0..edits {
        let len = chars.len();
        let at = rng.below(len + 1);
        match rng.below(6) {
            0 if len > 0 => {
                let end = (at + 1 + rng.below(6)).min(len);
                chars.drain(at.min(end)..end);
            }
            1 | 2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                for (i, c) in token.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            3 if len > 1 => {
                let end = (at + 1 + rng.below(40)).min(len);
                let copy: Vec<char> = chars[at.min(end)..end].to_vec();
                let to = rng.below(len + 1);
                for (i, c) in copy.into_iter().enumerate() {
                    chars.insert(to + i, c);
                }
            }
            4 if len > 1 => {
                let other = rng.below(len);
                chars.swap(at.min(len - 1), other);
            }
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    for data in [
        include_str!("../../../tests/xml/validate.txt"),
        include_str!("../../../tests/xml/merge.txt"),
        include_str!("../../../tests/xml/fragments.txt"),
        include_str!("../../../tests/xml/parse.txt"),
    ] {
        let mut current = String::new();
        for line in data.lines() {
            let boundary =
                line.starts_with("###") || line.starts_with("---") || line.starts_with(">>>");
            if boundary {
                if !current.trim().is_empty() {
                    texts.push(std::mem::take(&mut current));
                }
                current.clear();
            } else if !line.starts_with('@') && !line.starts_with('#') {
                current.push_str(line);
                current.push('\n');
            }
        }
    }
    texts.retain(|t| t.contains('<'));
    texts
}

#[test]
fn no_panics_on_mutated_policies() {
    let corpus = corpus();
    assert!(corpus.len() > 100, "corpus has {} texts", corpus.len());
    let mut values = BTreeMap::new();
    values.insert(
        "host".to_owned(),
        NamedValue {
            value: "h{{x}}&<".to_owned(),
            secret: false,
        },
    );
    values.insert(
        "secret".to_owned(),
        NamedValue {
            value: "s".to_owned(),
            secret: true,
        },
    );
    let origins = [
        Origin::file("fuzz.xml"),
        Origin::inline("fuzz.yaml", 7, 9, 4),
        Origin::inline("edge.yaml", u32::MAX, u32::MAX, u32::MAX),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut parsed, mut merged) = (0, 0);
    for i in 0..ITERATIONS {
        let base = &corpus[rng.below(corpus.len())];
        let text = mutate(&mut rng, base);
        let origin = &origins[i % origins.len()];
        let mut fragments = BTreeMap::new();
        if let Ok(mut f) = parse_fragment("f", &text, origin) {
            let _ = substitute_fragment_named_values(&mut f, &values);
            fragments.insert("f".to_owned(), f);
        }
        let Ok(mut doc) = parse_document(&text, origin) else {
            continue;
        };
        parsed += 1;
        let _ = substitute_named_values(&mut doc, &values);
        let _ = print_document(&doc);
        let slot = rng.below(4);
        let pick = |n: usize| (slot == n).then_some(&doc);
        let scopes = Scopes {
            global: pick(0),
            product: pick(1),
            api: pick(2),
            operation: pick(3),
            fragments: &fragments,
        };
        if let Ok(eff) = merge(&scopes) {
            merged += 1;
            let printed = print_effective(&eff, true);
            let _ = parse_document(&printed, origin);
        }
    }
    // Most mutants are refused; enough must get through to exercise merge and print.
    assert!(
        parsed > ITERATIONS / 20 && merged > ITERATIONS / 40,
        "only {parsed} parsed, {merged} merged"
    );
}
