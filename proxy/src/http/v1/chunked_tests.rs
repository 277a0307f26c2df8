//! Table-driven tests of `ChunkedScanner`; every case is fed whole, one byte
//! at a time and in random splits, and must give the same result each way.

use super::chunked::{ChunkError, ChunkedScanner, Scan, MAX_CHUNK_EXT_BYTES, MAX_TRAILER_BYTES};
use super::fuzz::fuzz_chunked;
use super::request_tests::Lcg;

use ChunkError::{BadTrailer, InvalidExtension, InvalidSize, MissingCrlf, TooLarge};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// Body complete after `consumed` bytes carrying `body` data bytes.
    Done {
        consumed: usize,
        body: u64,
    },
    /// All input consumed, body not finished, `body` data bytes so far.
    More {
        body: u64,
    },
    Err(ChunkError),
}

struct Case {
    name: &'static str,
    input: Vec<u8>,
    max: u64,
    want: Want,
}

const MAX: u64 = 1 << 20;

fn done(name: &'static str, input: &[u8], body: u64) -> Case {
    Case {
        name,
        input: input.to_vec(),
        max: MAX,
        want: Want::Done {
            consumed: input.len(),
            body,
        },
    }
}
fn done_at(name: &'static str, input: &[u8], consumed: usize, body: u64) -> Case {
    Case {
        name,
        input: input.to_vec(),
        max: MAX,
        want: Want::Done { consumed, body },
    }
}
fn more(name: &'static str, input: &[u8], body: u64) -> Case {
    Case {
        name,
        input: input.to_vec(),
        max: MAX,
        want: Want::More { body },
    }
}
fn fail(name: &'static str, input: &[u8], e: ChunkError) -> Case {
    Case {
        name,
        input: input.to_vec(),
        max: MAX,
        want: Want::Err(e),
    }
}
fn with_max(mut c: Case, max: u64) -> Case {
    c.max = max;
    c
}

fn long_ext(n: usize) -> Vec<u8> {
    // "1;" + name of n-1 bytes: n bytes after the size on the chunk line.
    let mut v = b"1;".to_vec();
    v.extend_from_slice(&vec![b'e'; n - 1]);
    v.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
    v
}

fn long_trailer(total: usize) -> Vec<u8> {
    // Trailer section = "X: " + value + "\r\n" + "\r\n" = total bytes.
    let mut v = b"0\r\nX: ".to_vec();
    v.extend_from_slice(&vec![b'v'; total - 7]);
    v.extend_from_slice(b"\r\n\r\n");
    v
}

fn cases() -> Vec<Case> {
    let ext_max = MAX_CHUNK_EXT_BYTES as usize;
    let tr_max = MAX_TRAILER_BYTES as usize;
    vec![
        done("last-chunk only", b"0\r\n\r\n", 0),
        done("one chunk", b"5\r\nhello\r\n0\r\n\r\n", 5),
        done(
            "hex sizes, both cases",
            b"a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n",
            20,
        ),
        done("leading zeros", b"0005\r\nhello\r\n000\r\n\r\n", 5),
        done(
            "16 hex digits",
            b"0000000000000005\r\nhello\r\n0\r\n\r\n",
            5,
        ),
        done("data may contain CRLF", b"4\r\n\r\n\r\n\r\n0\r\n\r\n", 4),
        done_at(
            "next message after the body",
            b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
            13,
            3,
        ),
        done("extension name only", b"5;a\r\nhello\r\n0\r\n\r\n", 5),
        done(
            "extension token value",
            b"5;name=value\r\nhello\r\n0\r\n\r\n",
            5,
        ),
        done(
            "several extensions",
            b"5;a;b=c;d=e\r\nhello\r\n0;last\r\n\r\n",
            5,
        ),
        done(
            "quoted extension with escape",
            b"5;a=\"q \\\" ;x\"\r\nhello\r\n0\r\n\r\n",
            5,
        ),
        done(
            "quoted extension then another",
            b"5;a=\"x\";b\r\nhello\r\n0\r\n\r\n",
            5,
        ),
        done(
            "BWS around ; and =",
            b"5 ; a = b ;c\r\nhello\r\n0\r\n\r\n",
            5,
        ),
        done("extension exactly at the limit", &long_ext(ext_max), 1),
        done("trailer", b"0\r\nX-T: v\r\n\r\n", 0),
        done(
            "several trailers, empty value, obs-text",
            b"0\r\nA: 1\r\nB:\r\nC: \xc3\xa9 x\r\n\r\n",
            0,
        ),
        done(
            "trailer section exactly at the limit",
            &long_trailer(tr_max),
            0,
        ),
        with_max(
            done("body exactly max", b"a\r\n0123456789\r\n0\r\n\r\n", 10),
            10,
        ),
        with_max(
            done(
                "two chunks summing to max",
                b"5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
                10,
            ),
            10,
        ),
        with_max(
            more("16 f's with u64::MAX limit", b"ffffffffffffffff\r\nabc", 3),
            u64::MAX,
        ),
        more("empty input", b"", 0),
        more("mid size", b"1", 0),
        more("mid data", b"5\r\nhel", 3),
        more("after data CR", b"5\r\nhello\r", 5),
        more("after last-chunk line", b"0\r\n", 0),
        more("mid trailer", b"0\r\nX: y", 0),
        more("before final LF", b"0\r\n\r", 0),
        more("mid extension", b"5;a=\"x", 0),
        // size errors
        fail("empty size line", b"\r\n", InvalidSize),
        fail("non-hex size", b"g\r\n", InvalidSize),
        fail("negative size", b"-1\r\n", InvalidSize),
        fail("0x prefix", b"0x5\r\nhello\r\n", InvalidSize),
        fail("leading space", b" 5\r\nhello\r\n", InvalidSize),
        fail("plus sign", b"+5\r\nhello\r\n", InvalidSize),
        fail(
            "17 hex digits",
            b"00000000000000005\r\nhello\r\n0\r\n\r\n",
            InvalidSize,
        ),
        fail("size overflow", b"10000000000000000\r\n", InvalidSize),
        fail("garbage after size", b"5x\r\nhello\r\n", InvalidSize),
        // extension errors
        fail(
            "trailing whitespace without extension",
            b"5 \r\nhello\r\n0\r\n\r\n",
            InvalidExtension,
        ),
        fail("empty extension", b"5;\r\nhello\r\n", InvalidExtension),
        fail(
            "empty extension value",
            b"5;a=\r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "missing extension name",
            b"5;=b\r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "space inside extension",
            b"5;a b\r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "space inside value",
            b"5;a=b c\r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "whitespace before CRLF after value",
            b"5;a=b \r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "unterminated quote",
            b"5;a=\"x\r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "junk after closing quote",
            b"5;a=\"x\"y\r\nhello\r\n",
            InvalidExtension,
        ),
        fail(
            "CTL in extension",
            b"5;a=\x01\r\nhello\r\n",
            InvalidExtension,
        ),
        fail("bare LF in extension", b"5;a\nhello\r\n", InvalidExtension),
        fail(
            "extension one over the limit",
            &long_ext(ext_max + 1),
            InvalidExtension,
        ),
        // CRLF errors
        fail("bare LF after size", b"5\nhello\r\n0\r\n\r\n", MissingCrlf),
        fail("CR not followed by LF after size", b"5\rhello", MissingCrlf),
        fail(
            "data longer than size",
            b"3\r\nhello\r\n0\r\n\r\n",
            MissingCrlf,
        ),
        fail("bare LF after data", b"5\r\nhello\n0\r\n\r\n", MissingCrlf),
        fail(
            "CR without LF after data",
            b"5\r\nhello\r0\r\n\r\n",
            MissingCrlf,
        ),
        fail("final CR without LF", b"0\r\n\r\r", MissingCrlf),
        // trailer errors
        fail("bare LF ends the trailer section", b"0\r\n\n", BadTrailer),
        fail(
            "obs-fold in trailers",
            b"0\r\nX: a\r\n b\r\n\r\n",
            BadTrailer,
        ),
        fail(
            "space before trailer line",
            b"0\r\n X: a\r\n\r\n",
            BadTrailer,
        ),
        fail("whitespace before colon", b"0\r\nX : a\r\n\r\n", BadTrailer),
        fail("trailer without colon", b"0\r\nNoColon\r\n\r\n", BadTrailer),
        fail("NUL in trailer value", b"0\r\nX: a\x00\r\n\r\n", BadTrailer),
        fail("bare LF after trailer", b"0\r\nX: a\n\r\n", BadTrailer),
        fail(
            "Content-Length trailer",
            b"0\r\nContent-Length: 5\r\n\r\n",
            BadTrailer,
        ),
        fail(
            "Transfer-Encoding trailer",
            b"0\r\ntransfer-ENCODING: chunked\r\n\r\n",
            BadTrailer,
        ),
        fail("Host trailer", b"0\r\nHost: evil\r\n\r\n", BadTrailer),
        fail(
            "trailer section one over the limit",
            &long_trailer(tr_max + 1),
            BadTrailer,
        ),
        // size limit
        with_max(
            fail("chunk over max", b"b\r\n0123456789a\r\n0\r\n\r\n", TooLarge),
            10,
        ),
        with_max(
            fail(
                "sum over max",
                b"5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n",
                TooLarge,
            ),
            10,
        ),
        fail("huge declared chunk", b"ffffffffffffffff\r\n", TooLarge),
    ]
}

/// Feeds `input` in pieces of the sizes `piece(i)` returns.
fn run(input: &[u8], max: u64, mut piece: impl FnMut(usize) -> usize) -> Want {
    let mut sc = ChunkedScanner::new(max);
    let mut pos = 0;
    let mut i = 0;
    while pos < input.len() {
        let end = pos.saturating_add(piece(i).max(1)).min(input.len());
        i += 1;
        match sc.scan(&input[pos..end]) {
            Err(e) => {
                // Errors are sticky.
                assert_eq!(sc.scan(b"0\r\n\r\n"), Err(e));
                return Want::Err(e);
            }
            Ok(Scan {
                consumed,
                done: true,
            }) => {
                assert!(sc.is_done());
                assert_eq!(
                    sc.scan(b"more"),
                    Ok(Scan {
                        consumed: 0,
                        done: true
                    })
                );
                return Want::Done {
                    consumed: pos + consumed,
                    body: sc.body_bytes(),
                };
            }
            Ok(Scan {
                consumed,
                done: false,
            }) => {
                assert_eq!(consumed, end - pos, "not done but bytes left over");
                pos = end;
            }
        }
    }
    assert!(!sc.is_done());
    Want::More {
        body: sc.body_bytes(),
    }
}

#[test]
fn chunked_table() {
    let all = cases();
    assert!(all.len() >= 60);
    let mut rng = Lcg(42);
    for case in &all {
        let n = case.name;
        assert_eq!(
            run(&case.input, case.max, |_| usize::MAX),
            case.want,
            "{n}: whole"
        );
        assert_eq!(
            run(&case.input, case.max, |_| 1),
            case.want,
            "{n}: byte at a time"
        );
        for round in 0..20 {
            let top = 1 + round % 9;
            assert_eq!(
                run(&case.input, case.max, |_| 1 + rng.below(top)),
                case.want,
                "{n}: random split"
            );
        }
        // The fuzz entry point agrees with itself for any split seed.
        if case.max == MAX {
            for seed in [0u8, 5, 200] {
                let mut v = vec![seed];
                v.extend_from_slice(&case.input);
                fuzz_chunked(&v);
            }
        }
    }
}

/// Every split point of a realistic body, fed as exactly two pieces.
#[test]
fn every_two_piece_split() {
    let body: &[u8] = b"1a;ext=\"v\\\"\"\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\nxyz\r\n0\r\nX-Sum: 1\r\nY: \r\n\r\nNEXT";
    let want = Want::Done {
        consumed: body.len() - 4,
        body: 29,
    };
    for at in 0..=body.len() {
        let mut first = true;
        let got = run(body, MAX, |_| {
            if first {
                first = false;
                at
            } else {
                usize::MAX
            }
        });
        assert_eq!(got, want, "split at {at}");
    }
}

/// Random bodies generated from valid pieces, random splits, must parse.
#[test]
fn random_valid_bodies() {
    let mut rng = Lcg(7);
    for _ in 0..300 {
        let mut body = Vec::new();
        let mut total = 0u64;
        for _ in 0..rng.below(6) {
            let n = rng.below(40) + 1;
            body.extend_from_slice(format!("{n:x}").as_bytes());
            if rng.below(3) == 0 {
                body.extend_from_slice(b";k=\"v v\"");
            }
            body.extend_from_slice(b"\r\n");
            body.extend((0..n).map(|i| (i as u8).wrapping_mul(31)));
            body.extend_from_slice(b"\r\n");
            total += n as u64;
        }
        body.extend_from_slice(b"0\r\n");
        if rng.below(2) == 0 {
            body.extend_from_slice(b"Trailer-A: x\r\n");
        }
        body.extend_from_slice(b"\r\n");
        let want = Want::Done {
            consumed: body.len(),
            body: total,
        };
        assert_eq!(run(&body, MAX, |_| rng.below(16) + 1), want);
        assert_eq!(run(&body, MAX, |_| 1), want);
    }
}

/// Random byte soup through the differential fuzz entry point.
#[test]
fn random_inputs_agree_across_splits() {
    let mut rng = Lcg(99);
    const ALPHABET: &[u8] = b"0123456789abcdefABCDEF;= \t\"\\\r\n:xX\x00\xff";
    for _ in 0..3000 {
        let len = rng.below(48);
        let mut v: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        v.insert(0, rng.below(256) as u8);
        fuzz_chunked(&v);
    }
}
