//! The one place gateway errors become responses on the wire.

use monoio::io::AsyncWriteRent;
use tollgate_core::error::GatewayError;

use super::io::write_all;

/// Writes `err` as an APIM JSON error response. Returns false if the client is gone.
pub async fn send_error<S: AsyncWriteRent>(
    stream: &mut S,
    out: &mut Vec<u8>,
    err: GatewayError,
    close: bool,
) -> bool {
    out.clear();
    err.write_response(out, close || err.closes_connection());
    crate::debug!("gateway error {}: {err}", err.status());
    write_all(stream, out).await.is_ok()
}
