//! Validating scanner for `Transfer-Encoding: chunked` bodies (RFC 9112 §7.1).
//!
//! The proxy relays chunked bodies byte for byte; this state machine only
//! watches them go by, to find where the body ends and to refuse malformed or
//! oversized ones. It keeps no buffer: input may be split at any byte.
//!
//! Strictness: chunk-size is 1–16 hex digits; extensions follow the RFC
//! grammar (`;name[=token|quoted-string]`, BWS only around `;` and `=`) and
//! are bounded per chunk line; every line ends in CRLF; trailer fields are
//! checked like header fields (token name, no whitespace before ':', no
//! obs-fold, no CTLs), bounded in total, and may not carry framing fields
//! (Content-Length, Transfer-Encoding, Host).

use core::fmt;

use super::field::{is_tchar, is_value_byte};

/// Bytes allowed after the chunk-size on one chunk line (extensions + BWS).
pub const MAX_CHUNK_EXT_BYTES: u32 = 4096;
/// Bytes allowed for the whole trailer section (all lines, their CRLFs).
pub const MAX_TRAILER_BYTES: u32 = 8192;

/// Why a chunked body is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// chunk-size not 1–16 hex digits, or followed by something unexpected.
    InvalidSize,
    /// Malformed or too long chunk extension.
    InvalidExtension,
    /// A chunk line or chunk data not followed by CRLF.
    MissingCrlf,
    /// Malformed, forbidden or too long trailer field.
    BadTrailer,
    /// Sum of chunk sizes above `max_body_bytes`.
    TooLarge,
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChunkError::InvalidSize => "invalid chunk size",
            ChunkError::InvalidExtension => "invalid chunk extension",
            ChunkError::MissingCrlf => "missing CRLF in chunked body",
            ChunkError::BadTrailer => "invalid trailer field",
            ChunkError::TooLarge => "chunked body too large",
        })
    }
}

impl std::error::Error for ChunkError {}

/// Result of one [`ChunkedScanner::scan`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scan {
    /// Bytes of the input that belong to the body (all of it unless `done`;
    /// when `done`, bytes after `consumed` belong to the next message).
    pub consumed: usize,
    /// The last-chunk, trailers and final CRLF have been seen.
    pub done: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Expecting the first hex digit of a chunk-size.
    SizeStart,
    Size,
    /// BWS after the size: only `;` may follow.
    SizeWs,
    /// After `;` (BWS allowed): expecting an extension name.
    ExtNameStart,
    ExtName,
    /// BWS after a name: `=` or `;`.
    ExtNameWs,
    /// After `=` (BWS allowed): token or quoted-string.
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedEscape,
    /// Right after the closing quote: `;`, CR or BWS.
    ExtQuotedEnd,
    /// BWS after a value: only `;` may follow.
    ExtValueWs,
    /// Saw the CR ending a chunk line.
    SizeLf,
    /// `size` bytes of chunk data left.
    Data,
    DataCr,
    DataLf,
    /// Start of a trailer line or of the final CRLF.
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    FinalLf,
    Done,
}

/// Incremental chunked-body validator; see the module doc.
#[derive(Clone, Debug)]
pub struct ChunkedScanner {
    state: State,
    /// chunk-size being read, then data bytes left in the chunk.
    size: u64,
    digits: u8,
    /// Bytes of the current chunk line's extensions, or of the trailer section.
    aux_len: u32,
    declared: u64,
    body: u64,
    max_body: u64,
    /// Lowercased prefix of the current trailer name, for the forbidden list.
    name: [u8; 17],
    name_len: u8,
    failed: Option<ChunkError>,
}

const FORBIDDEN_TRAILERS: [&[u8]; 3] = [b"content-length", b"transfer-encoding", b"host"];

#[inline]
fn hex(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

/// qdtext / obs-text inside a quoted-string (not '"' nor '\\').
#[inline]
fn qdtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff)
}

impl ChunkedScanner {
    /// A scanner for one body whose chunk sizes may add up to `max_body_bytes`.
    pub fn new(max_body_bytes: u64) -> Self {
        ChunkedScanner {
            state: State::SizeStart,
            size: 0,
            digits: 0,
            aux_len: 0,
            declared: 0,
            body: 0,
            max_body: max_body_bytes,
            name: [0; 17],
            name_len: 0,
            failed: None,
        }
    }

    /// Feeds the next bytes of the body. After an error every later call
    /// returns the same error; after `done`, calls consume nothing.
    pub fn scan(&mut self, data: &[u8]) -> Result<Scan, ChunkError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.state == State::Done {
            return Ok(Scan {
                consumed: 0,
                done: true,
            });
        }
        let mut i = 0;
        while i < data.len() {
            if self.state == State::Data {
                let n = self.size.min((data.len() - i) as u64);
                i += n as usize;
                self.size -= n;
                self.body += n;
                if self.size == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            let b = data[i];
            i += 1;
            if let Err(e) = self.step(b) {
                self.failed = Some(e);
                return Err(e);
            }
            if self.state == State::Done {
                return Ok(Scan {
                    consumed: i,
                    done: true,
                });
            }
        }
        Ok(Scan {
            consumed: data.len(),
            done: false,
        })
    }

    /// The whole body, through the final CRLF, has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Chunk-data bytes seen so far (framing excluded).
    pub fn body_bytes(&self) -> u64 {
        self.body
    }

    fn step(&mut self, b: u8) -> Result<(), ChunkError> {
        use State::*;
        match self.state {
            SizeWs | ExtNameStart | ExtName | ExtNameWs | ExtValueStart | ExtToken | ExtQuoted
            | ExtQuotedEscape | ExtQuotedEnd | ExtValueWs => {
                self.aux_len += 1;
                if self.aux_len > MAX_CHUNK_EXT_BYTES {
                    return Err(ChunkError::InvalidExtension);
                }
            }
            TrailerStart | TrailerName | TrailerValue | TrailerLf | FinalLf => {
                self.aux_len += 1;
                if self.aux_len > MAX_TRAILER_BYTES {
                    return Err(ChunkError::BadTrailer);
                }
            }
            _ => {}
        }
        self.state = match self.state {
            SizeStart => {
                let d = hex(b).ok_or(ChunkError::InvalidSize)?;
                self.size = d;
                self.digits = 1;
                Size
            }
            Size => {
                if let Some(d) = hex(b) {
                    if self.digits >= 16 {
                        return Err(ChunkError::InvalidSize);
                    }
                    self.size = (self.size << 4) | d;
                    self.digits += 1;
                    Size
                } else {
                    let next = match b {
                        b';' => ExtNameStart,
                        b' ' | b'\t' => SizeWs,
                        b'\r' => SizeLf,
                        b'\n' => return Err(ChunkError::MissingCrlf),
                        _ => return Err(ChunkError::InvalidSize),
                    };
                    self.declared = match self.declared.checked_add(self.size) {
                        Some(t) if t <= self.max_body => t,
                        _ => return Err(ChunkError::TooLarge),
                    };
                    self.aux_len = 0;
                    next
                }
            }
            SizeWs => match b {
                b' ' | b'\t' => SizeWs,
                b';' => ExtNameStart,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtNameStart => match b {
                b' ' | b'\t' => ExtNameStart,
                _ if is_tchar(b) => ExtName,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtName => match b {
                b'=' => ExtValueStart,
                b';' => ExtNameStart,
                b'\r' => SizeLf,
                b' ' | b'\t' => ExtNameWs,
                _ if is_tchar(b) => ExtName,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtNameWs => match b {
                b' ' | b'\t' => ExtNameWs,
                b'=' => ExtValueStart,
                b';' => ExtNameStart,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtValueStart => match b {
                b' ' | b'\t' => ExtValueStart,
                b'"' => ExtQuoted,
                _ if is_tchar(b) => ExtToken,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtToken => match b {
                b';' => ExtNameStart,
                b'\r' => SizeLf,
                b' ' | b'\t' => ExtValueWs,
                _ if is_tchar(b) => ExtToken,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtQuoted => match b {
                b'"' => ExtQuotedEnd,
                b'\\' => ExtQuotedEscape,
                _ if qdtext(b) => ExtQuoted,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtQuotedEscape => match b {
                b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff => ExtQuoted,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtQuotedEnd => match b {
                b';' => ExtNameStart,
                b'\r' => SizeLf,
                b' ' | b'\t' => ExtValueWs,
                _ => return Err(ChunkError::InvalidExtension),
            },
            ExtValueWs => match b {
                b' ' | b'\t' => ExtValueWs,
                b';' => ExtNameStart,
                _ => return Err(ChunkError::InvalidExtension),
            },
            SizeLf => match b {
                b'\n' if self.size == 0 => {
                    self.aux_len = 0;
                    TrailerStart
                }
                b'\n' => Data,
                _ => return Err(ChunkError::MissingCrlf),
            },
            Data => Data, // handled in bulk by `scan`
            DataCr => match b {
                b'\r' => DataLf,
                _ => return Err(ChunkError::MissingCrlf),
            },
            DataLf => match b {
                b'\n' => SizeStart,
                _ => return Err(ChunkError::MissingCrlf),
            },
            TrailerStart => match b {
                b'\r' => FinalLf,
                _ if is_tchar(b) => {
                    self.name_len = 0;
                    self.push_name(b);
                    TrailerName
                }
                _ => return Err(ChunkError::BadTrailer),
            },
            TrailerName => match b {
                b':' if self.forbidden_trailer() => return Err(ChunkError::BadTrailer),
                b':' => TrailerValue,
                _ if is_tchar(b) => {
                    self.push_name(b);
                    TrailerName
                }
                _ => return Err(ChunkError::BadTrailer),
            },
            TrailerValue => match b {
                b'\r' => TrailerLf,
                _ if is_value_byte(b) => TrailerValue,
                _ => return Err(ChunkError::BadTrailer),
            },
            TrailerLf => match b {
                b'\n' => TrailerStart,
                _ => return Err(ChunkError::BadTrailer),
            },
            FinalLf => match b {
                b'\n' => Done,
                _ => return Err(ChunkError::MissingCrlf),
            },
            Done => Done,
        };
        Ok(())
    }

    fn push_name(&mut self, b: u8) {
        if let Some(slot) = self.name.get_mut(self.name_len as usize) {
            *slot = b.to_ascii_lowercase();
        }
        self.name_len = self.name_len.saturating_add(1);
    }

    fn forbidden_trailer(&self) -> bool {
        let n = self.name_len as usize;
        n <= self.name.len() && FORBIDDEN_TRAILERS.iter().any(|f| *f == &self.name[..n])
    }
}
