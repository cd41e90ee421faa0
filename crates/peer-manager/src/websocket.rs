//! WebSocket peers (`--bind-addr=ws:HOST:PORT`, CLN's syntax), for browsers and apps that
//! cannot open a TCP socket. After the RFC 6455 upgrade the WebSocket carries exactly the
//! bytes TCP would (the BOLT 8 acts, then encrypted frames) in binary messages whose boundaries
//! mean nothing, as CLN's `websocketd` does.
//!
//! A bridge task moves those bytes between the WebSocket and one end of a local socket pair;
//! the other end is an ordinary [`PeerStream`], so the handshake, `init`, the reader, the
//! writer, every limit and every log line are the TCP ones. Backpressure carries through: a
//! peer whose reader is held back fills the socket pair, and the bridge stops reading the
//! WebSocket.

use std::io;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;

use crate::error::ConnectError;
use crate::stream::PeerStream;

/// The largest WebSocket message (and frame) accepted. A browser sends each write as one
/// message; BOLT 8's largest frame is 65,569 bytes, and 1 MiB leaves room for clients that
/// batch several, while bounding what one message can make us buffer.
const MAX_MESSAGE: usize = 1 << 20;

/// Bytes the bridge reads from the node's side at once; each read becomes one binary message.
const BRIDGE_READ: usize = 64 * 1024;

/// The longest HTTP upgrade request read: real ones are a few hundred bytes.
const MAX_UPGRADE_REQUEST: usize = 16 * 1024;

/// Performs the WebSocket upgrade on `stream` within `deadline` and starts the bridge (with
/// `spawn`, so the manager tracks it). Returns the stream the peer layer reads and writes.
pub(crate) async fn upgrade(
    stream: TcpStream,
    deadline: Duration,
    spawn: impl FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
) -> Result<PeerStream, ConnectError> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let websocket = tokio::time::timeout(deadline, accept_upgrade(stream, config))
        .await
        .map_err(|_| ConnectError::Timeout(deadline))??;
    let (ours, bridged) = UnixStream::pair().map_err(|e| ConnectError::Io(e.to_string()))?;
    spawn(Box::pin(bridge(websocket, bridged)));
    Ok(PeerStream::Bridged(ours))
}

/// Reads the HTTP upgrade request and answers it: `101 Switching Protocols`, or CLN's
/// `400 I only speak websocket` with the reason, for anything that is not a WebSocket upgrade.
/// Header names are matched without regard to case (RFC 9110), and bytes the client sent
/// after the request are kept for the WebSocket.
async fn accept_upgrade(
    mut stream: TcpStream,
    config: WebSocketConfig,
) -> Result<WebSocketStream<TcpStream>, ConnectError> {
    let io_error = |error: io::Error| ConnectError::Io(error.to_string());
    let mut request = Vec::with_capacity(1024);
    let end = loop {
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if request.len() >= MAX_UPGRADE_REQUEST {
            let reason = format!("No header end after {} bytes", request.len());
            return Err(refuse(&mut stream, &reason).await);
        }
        let room = MAX_UPGRADE_REQUEST - request.len();
        let n = (&mut stream)
            .take(room as u64)
            .read_buf(&mut request)
            .await
            .map_err(io_error)?;
        if n == 0 {
            return Err(ConnectError::Io(
                "closed during the websocket upgrade".into(),
            ));
        }
    };
    let head = String::from_utf8_lossy(request.get(..end).unwrap_or_default()).into_owned();
    let key = match upgrade_key(&head) {
        Ok(key) => key,
        Err(reason) => return Err(refuse(&mut stream, reason).await),
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream
        .write_all(response.as_bytes())
        .await
        .map_err(io_error)?;
    let surplus = request.split_off(end);
    Ok(WebSocketStream::from_partially_read(stream, surplus, Role::Server, Some(config)).await)
}

/// The `Sec-WebSocket-Key` of an upgrade request, or why it is not one (CLN's texts).
fn upgrade_key(head: &str) -> Result<&str, &'static str> {
    let header = |wanted: &str| {
        head.split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.trim())
    };
    let contains = |value: Option<&str>, word: &str| {
        value.is_some_and(|value| value.to_ascii_lowercase().contains(word))
    };
    if !contains(header("Upgrade"), "websocket") {
        return Err("Upgrade: websocket missing");
    }
    if !contains(header("Connection"), "upgrade") {
        return Err("Connection: Upgrade missing");
    }
    if header("Sec-WebSocket-Version") != Some("13") {
        return Err("Sec-WebSocket-Version: must be 13");
    }
    header("Sec-WebSocket-Key")
        .filter(|key| !key.is_empty())
        .ok_or("Sec-WebSocket-Key missing")
}

/// Answers a request that is no WebSocket upgrade with CLN's 400 and `reason`, then closes.
async fn refuse(stream: &mut TcpStream, reason: &str) -> ConnectError {
    let answer = format!("HTTP/1.1 400 I only speak websocket\r\n\r\n{reason}");
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
    ConnectError::Io(format!("websocket upgrade refused: {reason}"))
}

/// Moves bytes both ways until either side closes or fails; then both are closed.
async fn bridge(websocket: WebSocketStream<TcpStream>, local: UnixStream) {
    let (mut to_client, mut from_client) = websocket.split();
    let (mut from_node, mut to_node) = local.into_split();
    let outgoing = async {
        let mut buffer = vec![0u8; BRIDGE_READ];
        loop {
            let n = from_node.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            let chunk = Bytes::copy_from_slice(buffer.get(..n).unwrap_or_default());
            to_client
                .send(Message::Binary(chunk))
                .await
                .map_err(io::Error::other)?;
        }
        // The node closed the connection: say so in WebSocket terms too.
        let _ = to_client.send(Message::Close(None)).await;
        Ok::<(), io::Error>(())
    };
    let incoming = async {
        while let Some(message) = from_client.next().await {
            match message.map_err(io::Error::other)? {
                Message::Binary(data) => to_node.write_all(&data).await?,
                // BOLT 8 travels in binary messages only; pings are answered by the library.
                Message::Text(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                Message::Close(_) => break,
            }
        }
        to_node.shutdown().await
    };
    let ended = tokio::select! {
        ended = outgoing => ended,
        ended = incoming => ended,
    };
    if let Err(error) = ended {
        tracing::debug!(subsystem = "connectd", "websocket bridge closed: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_requests_are_judged_as_cln_words_it_with_any_header_case() {
        let good = "GET /x HTTP/1.1\r\nhost: a\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n\
                    sec-websocket-version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        assert_eq!(upgrade_key(good), Ok("dGhlIHNhbXBsZSBub25jZQ=="));
        // RFC 6455's own example.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let without = |name: &str| {
            good.split("\r\n")
                .filter(|line| !line.to_ascii_lowercase().starts_with(name))
                .collect::<Vec<_>>()
                .join("\r\n")
        };
        assert_eq!(
            upgrade_key(&without("upgrade")),
            Err("Upgrade: websocket missing")
        );
        assert_eq!(
            upgrade_key(&without("connection")),
            Err("Connection: Upgrade missing")
        );
        assert_eq!(
            upgrade_key(&without("sec-websocket-version")),
            Err("Sec-WebSocket-Version: must be 13")
        );
        assert_eq!(
            upgrade_key(&without("sec-websocket-key")),
            Err("Sec-WebSocket-Key missing")
        );
    }
}
