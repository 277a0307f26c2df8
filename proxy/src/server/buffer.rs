//! Reading a whole message body into the request arena, for policies that need it
//! (expressions reading `Body`, `buffer-request-body`, side-request responses).
//!
//! Bounded: a body larger than the limit fails instead of growing memory. Chunked
//! bodies are validated while read and handed over decoded.

use std::time::Duration;

use bumpalo::Bump;
use monoio::io::AsyncReadRent;

use crate::http::v1::chunked::ChunkedScanner;

use super::io::{consume, read_more, Read};

/// How the body to collect is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectError {
    TooLarge,
    Malformed,
    Closed,
    TimedOut,
}

/// Reads the body from `stream` (starting with the bytes already in `buf`) into the
/// arena. On return `buf` holds only what followed the body.
pub async fn collect<'a, S: AsyncReadRent>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    kind: BodyKind,
    limit: usize,
    timeout: Duration,
    arena: &'a Bump,
) -> Result<&'a [u8], CollectError> {
    if let BodyKind::Length(n) = kind {
        if n > limit as u64 {
            return Err(CollectError::TooLarge);
        }
    }
    let deadline = monoio::time::Instant::now() + timeout;
    let mut raw = bumpalo::collections::Vec::new_in(arena);
    let mut scanner = ChunkedScanner::new(limit as u64);
    loop {
        let done = match kind {
            BodyKind::None => true,
            BodyKind::Length(n) => {
                let take = ((n - raw.len() as u64) as usize).min(buf.len());
                raw.extend_from_slice(&buf[..take]);
                consume(buf, take);
                raw.len() as u64 == n
            }
            BodyKind::Chunked => {
                let scan = scanner.scan(buf).map_err(|e| match e {
                    crate::http::v1::chunked::ChunkError::TooLarge => CollectError::TooLarge,
                    _ => CollectError::Malformed,
                })?;
                raw.extend_from_slice(&buf[..scan.consumed]);
                consume(buf, scan.consumed);
                scan.done
            }
            BodyKind::UntilClose => {
                raw.extend_from_slice(buf);
                buf.clear();
                false
            }
        };
        if raw.len() > limit + 64 * 1024 {
            return Err(CollectError::TooLarge);
        }
        if done {
            break;
        }
        if buf.capacity() == buf.len() {
            buf.reserve(16 * 1024);
        }
        let left = deadline.saturating_duration_since(monoio::time::Instant::now());
        match read_more(stream, buf, left).await {
            Read::Data(_) => {}
            Read::Eof if kind == BodyKind::UntilClose => break,
            Read::TimedOut => return Err(CollectError::TimedOut),
            _ => return Err(CollectError::Closed),
        }
    }
    if kind == BodyKind::Chunked {
        Ok(dechunk(&raw, arena))
    } else {
        if raw.len() > limit {
            return Err(CollectError::TooLarge);
        }
        Ok(raw.into_bump_slice())
    }
}

/// The data of a validated chunked body (sizes, extensions and trailers dropped).
pub fn dechunk<'a>(raw: &[u8], arena: &'a Bump) -> &'a [u8] {
    let mut out = bumpalo::collections::Vec::with_capacity_in(raw.len(), arena);
    let mut rest = raw;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = &rest[..eol];
        let size_text = line.split(|&b| b == b';').next().unwrap_or(b"");
        let size = std::str::from_utf8(size_text)
            .ok()
            .and_then(|t| usize::from_str_radix(t.trim(), 16).ok())
            .unwrap_or(0);
        rest = &rest[eol + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
    out.into_bump_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        let arena = Bump::new();
        assert_eq!(
            dechunk(
                b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: v\r\n\r\n",
                &arena
            ),
            b"hello world"
        );
    }
}
