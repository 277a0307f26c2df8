//! HTTP/1.1 chunked framing on the HTTP/2 bridge: encoding DATA frames (and trailers)
//! as chunks, and decoding chunks (and trailers) back into DATA and a trailer map.
//!
//! The decoder reads what the gateway's HTTP/1.1 side writes, which has already been
//! validated (`http::v1::chunked`) or written by the gateway itself; it still refuses
//! anything it cannot parse instead of guessing.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Appends one chunk holding `data` (nothing for empty data: that would end the body).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk and the trailer section.
pub fn encode_end(trailers: Option<&HeaderMap>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers.into_iter().flatten() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// What a step of decoding found.
#[derive(Debug, PartialEq)]
pub enum Piece {
    Data(Bytes),
    /// The body ended; trailers may be empty.
    End(HeaderMap),
}

#[derive(Debug)]
enum State {
    /// Reading a chunk-size line (extensions ignored).
    Size,
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd,
    Trailers,
    Done,
}

/// Trailer sections above this are refused (the HTTP/1.1 side bounds them at 8 KiB).
const MAX_LINE: usize = 16 * 1024;

#[derive(Debug)]
pub struct Decoder {
    state: State,
    line: Vec<u8>,
    trailers: HeaderMap,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            state: State::Size,
            line: Vec::new(),
            trailers: HeaderMap::new(),
        }
    }
}

impl Decoder {
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Decodes from `input`, handing out data and the end. Returns how many bytes it
    /// used (all of them unless the body ended). `Err`: not chunked framing.
    pub fn decode(
        &mut self,
        input: &[u8],
        mut out: impl FnMut(Piece),
    ) -> Result<usize, &'static str> {
        let mut i = 0;
        while i < input.len() {
            match &mut self.state {
                State::Size => {
                    if !self.take_line(input, &mut i)? {
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    let digits = line.split(|&b| b == b';').next().unwrap_or(&[]);
                    let text = std::str::from_utf8(digits).map_err(|_| "bad chunk size")?;
                    let size =
                        u64::from_str_radix(text.trim(), 16).map_err(|_| "bad chunk size")?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    let n = (*left).min((input.len() - i) as u64) as usize;
                    out(Piece::Data(Bytes::copy_from_slice(&input[i..i + n])));
                    i += n;
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::DataEnd;
                    }
                }
                State::DataEnd => {
                    if !self.take_line(input, &mut i)? {
                        continue;
                    }
                    if !self.line.is_empty() {
                        return Err("chunk data longer than its size");
                    }
                    self.state = State::Size;
                }
                State::Trailers => {
                    if !self.take_line(input, &mut i)? {
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    if line.is_empty() {
                        self.state = State::Done;
                        out(Piece::End(std::mem::take(&mut self.trailers)));
                        return Ok(i);
                    }
                    let (name, value) = line
                        .iter()
                        .position(|&b| b == b':')
                        .map(|p| (&line[..p], line[p + 1..].trim_ascii()))
                        .ok_or("bad trailer field")?;
                    let name = HeaderName::from_bytes(name).map_err(|_| "bad trailer name")?;
                    let value = HeaderValue::from_bytes(value).map_err(|_| "bad trailer value")?;
                    self.trailers.append(name, value);
                }
                State::Done => return Ok(i),
            }
        }
        Ok(i)
    }

    /// Moves bytes of `input` into the line buffer up to a LF; true when a whole line
    /// (CR LF stripped) is in `self.line`.
    fn take_line(&mut self, input: &[u8], i: &mut usize) -> Result<bool, &'static str> {
        let rest = &input[*i..];
        match memchr::memchr(b'\n', rest) {
            Some(p) => {
                self.line.extend_from_slice(&rest[..p]);
                *i += p + 1;
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                Ok(true)
            }
            None => {
                self.line.extend_from_slice(rest);
                *i = input.len();
                if self.line.len() > MAX_LINE {
                    return Err("chunk line too long");
                }
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], step: usize) -> (Vec<u8>, HeaderMap, usize) {
        let mut d = Decoder::default();
        let mut data = Vec::new();
        let mut trailers = None;
        let mut used = 0;
        for part in input.chunks(step) {
            used += d
                .decode(part, |p| match p {
                    Piece::Data(b) => data.extend_from_slice(&b),
                    Piece::End(t) => trailers = Some(t),
                })
                .unwrap();
            if d.is_done() {
                break;
            }
        }
        (data, trailers.expect("ended"), used)
    }

    #[test]
    fn round_trip_in_any_split() {
        let mut wire = Vec::new();
        encode_chunk(b"hello ", &mut wire);
        encode_chunk(b"", &mut wire);
        encode_chunk(&[7u8; 300], &mut wire);
        let mut t = HeaderMap::new();
        t.insert("grpc-status", HeaderValue::from_static("0"));
        t.insert("grpc-message", HeaderValue::from_static("ok"));
        encode_end(Some(&t), &mut wire);
        let len = wire.len();
        wire.extend_from_slice(b"NEXT");
        for step in [1, 2, 3, 7, 64, 4096] {
            let (data, trailers, used) = decode_all(&wire, step);
            assert_eq!(&data[..6], b"hello ");
            assert_eq!(data.len(), 306);
            assert_eq!(trailers, t);
            assert!(used <= len, "stops at the end of the body");
        }
    }

    #[test]
    fn extensions_are_ignored_and_garbage_refused() {
        let (data, t, _) = decode_all(b"3;ext=1\r\nabc\r\n0\r\n\r\n", 5);
        assert_eq!(data, b"abc");
        assert!(t.is_empty());
        let mut d = Decoder::default();
        assert!(d.decode(b"zz\r\n", |_| {}).is_err());
        let mut d = Decoder::default();
        assert!(d.decode(b"2\r\nabc\r\n", |_| {}).is_err());
    }
}
