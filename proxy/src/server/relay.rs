//! Relaying a message body from one connection to another, streaming.
//!
//! Bytes are forwarded as they arrive, in their wire form (a chunked body stays
//! chunked), through one buffer; nothing ever holds a whole body. The framing decides
//! where the body ends: a byte count, the chunked scanner's verdict, or the peer closing.
//! Bytes read past the end of the body (a pipelined next request) stay in the buffer.

use std::io;
use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};

use crate::http::v1::chunked::{ChunkError, ChunkedScanner};

use super::io::{consume, read_more, write_range, Read};

/// Where a body ends.
pub enum Framing {
    Length(u64),
    Chunked(ChunkedScanner),
    UntilClose,
}

#[derive(Debug)]
#[allow(dead_code)] // the io::Errors are kept for debugging and logs
pub enum RelayError {
    /// The sender closed before the body was complete.
    SourceClosed,
    SourceTimeout,
    Source(io::Error),
    Destination(io::Error),
    Chunked(ChunkError),
}

impl Framing {
    /// How many of `data`'s leading bytes belong to the body, and whether it ends there.
    fn take(&mut self, data: &[u8]) -> Result<(usize, bool), ChunkError> {
        match self {
            Framing::Length(rem) => {
                let n = (*rem).min(data.len() as u64);
                *rem -= n;
                Ok((n as usize, *rem == 0))
            }
            Framing::Chunked(scanner) => {
                let scan = scanner.scan(data)?;
                Ok((scan.consumed, scan.done))
            }
            Framing::UntilClose => Ok((data.len(), false)),
        }
    }

    /// True when nothing more is expected (a zero length, or a finished chunked body).
    pub fn is_done(&self) -> bool {
        match self {
            Framing::Length(rem) => *rem == 0,
            Framing::Chunked(s) => s.is_done(),
            Framing::UntilClose => false,
        }
    }
}

/// Forwards the body from `src` to `dst`. `buf` holds bytes already read from `src`
/// (starting at the body); on success it holds only what follows the body.
/// `read_timeout` bounds each wait for more bytes from `src`.
pub async fn relay<S, D>(
    src: &mut S,
    dst: &mut D,
    buf: &mut Vec<u8>,
    framing: &mut Framing,
    read_timeout: Duration,
) -> Result<(), RelayError>
where
    S: AsyncReadRent,
    D: AsyncWriteRentExt,
{
    loop {
        let (n, done) = framing.take(buf).map_err(RelayError::Chunked)?;
        if n > 0 {
            write_range(dst, buf, 0, n)
                .await
                .map_err(RelayError::Destination)?;
            consume(buf, n);
        }
        if done {
            return Ok(());
        }
        debug_assert!(
            buf.is_empty(),
            "an unfinished body consumes every byte it is given"
        );
        match read_more(src, buf, read_timeout).await {
            Read::Data(_) => {}
            Read::Eof if matches!(framing, Framing::UntilClose) => return Ok(()),
            Read::Eof => return Err(RelayError::SourceClosed),
            Read::TimedOut => return Err(RelayError::SourceTimeout),
            Read::Failed(e) => return Err(RelayError::Source(e)),
        }
    }
}
