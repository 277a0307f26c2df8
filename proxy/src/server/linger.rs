//! Lingering close: after an error response to a client that may still be sending a
//! body, shut our write side and read (and discard) what is in flight for a short
//! while, so the client reads our response instead of getting a TCP reset
//! (nginx's `lingering_close`, bounded in time and bytes).

use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::io::{read_more, Read};

const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;

pub async fn close<S: AsyncReadRent + AsyncWriteRent>(stream: &mut S, buf: &mut Vec<u8>) {
    let _ = stream.shutdown().await;
    let deadline = monoio::time::Instant::now() + LINGER_TIME;
    let mut drained = 0;
    while drained < LINGER_BYTES {
        buf.clear();
        if buf.capacity() == 0 {
            buf.reserve(8 * 1024);
        }
        let left = deadline.saturating_duration_since(monoio::time::Instant::now());
        match read_more(stream, buf, left).await {
            Read::Data(n) => drained += n,
            _ => return,
        }
    }
}
