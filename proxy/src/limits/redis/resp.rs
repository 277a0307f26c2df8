//! RESP2, the Redis wire protocol, as far as the rate-limit link needs it: commands are
//! arrays of bulk strings; replies are simple strings, errors, integers, bulk strings and
//! arrays (nested), read from any `BufRead` with bounded sizes.

use std::io::{self, BufRead, Read, Write};

/// Largest bulk string or array a reply may announce (a script's answer to a batch is a
/// few thousand integers).
const MAX_LEN: i64 = 64 * 1024 * 1024;
/// Deepest nesting of arrays accepted.
const MAX_DEPTH: usize = 8;

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

/// Appends the command `args` to `out`.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    let _ = write!(out, "*{}\r\n", args.len());
    for a in args {
        let _ = write!(out, "${}\r\n", a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads one reply.
pub fn read(r: &mut impl BufRead) -> io::Result<Reply> {
    read_depth(r, 0)
}

fn read_depth(r: &mut impl BufRead, depth: usize) -> io::Result<Reply> {
    let line = read_line(r)?;
    let (kind, rest) = line
        .split_first()
        .ok_or_else(|| invalid("empty reply line"))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' => Ok(Reply::Simple(text())),
        b'-' => Ok(Reply::Error(text())),
        b':' => Ok(Reply::Int(number(rest)?)),
        b'$' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            if n > MAX_LEN {
                return Err(invalid("bulk string too long"));
            }
            let mut buf = vec![0u8; n as usize + 2];
            r.read_exact(&mut buf)?;
            if !buf.ends_with(b"\r\n") {
                return Err(invalid("bulk string not ended by CRLF"));
            }
            buf.truncate(n as usize);
            Ok(Reply::Bulk(Some(buf)))
        }
        b'*' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Array(None));
            }
            if n > MAX_LEN || depth >= MAX_DEPTH {
                return Err(invalid("array too long or too deep"));
            }
            let mut items = Vec::with_capacity((n as usize).min(4096));
            for _ in 0..n {
                items.push(read_depth(r, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(invalid("unknown reply type")),
    }
}

/// A line without its CRLF (at most 64 KiB).
fn read_line(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let n = r.by_ref().take(64 * 1024).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(invalid("reply line not ended by CRLF"));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn number(s: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| invalid("not a number"))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("Redis protocol: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode(&mut out, &[b"GET", b"k\r\n"]);
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$3\r\nk\r\n\r\n");
    }

    #[test]
    fn replies_of_every_kind() {
        let wire =
            b"+OK\r\n-NOSCRIPT x\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*3\r\n:1\r\n*1\r\n:-2\r\n$0\r\n\r\n";
        let mut r = &wire[..];
        assert_eq!(read(&mut r).unwrap(), Reply::Simple("OK".into()));
        assert_eq!(read(&mut r).unwrap(), Reply::Error("NOSCRIPT x".into()));
        assert_eq!(read(&mut r).unwrap(), Reply::Int(42));
        assert_eq!(read(&mut r).unwrap(), Reply::Bulk(Some(b"abc".to_vec())));
        assert_eq!(read(&mut r).unwrap(), Reply::Bulk(None));
        assert_eq!(
            read(&mut r).unwrap(),
            Reply::Array(Some(vec![
                Reply::Int(1),
                Reply::Array(Some(vec![Reply::Int(-2)])),
                Reply::Bulk(Some(Vec::new())),
            ]))
        );
        assert!(read(&mut r).is_err(), "end of input");
    }

    #[test]
    fn malformed_replies_are_errors() {
        for wire in [
            &b":x\r\n"[..],
            b"$5\r\nab\r\n",
            b"?\r\n",
            b"+OK\n",
            b"$99999999999\r\n",
        ] {
            let mut r = wire;
            assert!(read(&mut r).is_err(), "{:?}", String::from_utf8_lossy(wire));
        }
    }
}
