//! Reading a stream of JSON values from a tokio reader into a [`ValueSplitter`]: the RPC
//! socket's connections and plugins' stdout.

use std::io;

use jsonrpc::framing::ValueSplitter;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Appends what one read of `reader` gives to `splitter`, at most `most` bytes (at least one
/// is asked for); `Ok(0)` is the end of the stream. Cancel-safe, as `read_buf` is.
///
/// # Errors
/// The read's.
pub async fn read_into<R: AsyncRead + Unpin>(
    splitter: &mut ValueSplitter,
    reader: &mut R,
    most: usize,
) -> io::Result<usize> {
    let most = u64::try_from(most.max(1)).unwrap_or(u64::MAX);
    reader.take(most).read_buf(splitter.read_buffer()).await
}
