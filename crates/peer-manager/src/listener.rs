//! Accepting inbound connections: each takes a place among the pending handshakes, is
//! established under its deadlines, passes the cap on peers without a channel, and is
//! registered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::admission::{admit_without_channel, NoChannelAdmission, PendingHandshake};
use crate::establish::{establish, warn_and_close, EstablishError, Established};
use crate::manager::Inner;
use crate::stream::PeerStream;
use crate::tasks::stopped;

/// What a listener's connections speak before BOLT 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listening {
    /// BOLT 8 straight on TCP.
    Tcp,
    /// An HTTP upgrade to WebSocket first (`--bind-addr=ws:`).
    WebSocket,
}

/// Accepts connections on `listener` until the node stops.
pub(crate) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener, listening: Listening) {
    let mut shutdown = inner.tasks.stop_signal();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, address)) => {
                    // Taken here, in accept order, so "oldest" is the first one accepted.
                    let (pending, evicted) = PendingHandshake::admit(
                        &inner.pending_handshakes,
                        inner.config.limits.max_pending_handshakes,
                    );
                    inner.tasks.spawn(accept(inner.clone(), stream, address, listening, pending, evicted));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(error) => {
                    tracing::warn!(subsystem = "connectd", "accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stopped(&mut shutdown) => return,
        }
    }
}

/// One inbound connection: handshake and `init` while it holds a pending place (given up to
/// a newer connection if it is the oldest when the limit is reached), then the no-channel cap,
/// then the registry.
async fn accept(
    inner: Arc<Inner>,
    stream: TcpStream,
    address: SocketAddr,
    listening: Listening,
    pending: PendingHandshake,
    mut evicted: oneshot::Receiver<()>,
) {
    let mut shutdown = inner.tasks.stop_signal();
    // Dropping `establish` drops the socket, which closes the connection.
    let establishing = async {
        let stream = match listening {
            Listening::Tcp => PeerStream::Tcp(stream),
            Listening::WebSocket => {
                let deadline = inner.config.limits.handshake_timeout;
                crate::websocket::upgrade(stream, deadline, |bridge| inner.tasks.spawn(bridge))
                    .await
                    .map_err(EstablishError::in_handshake)?
            }
        };
        establish(&inner, stream, address, None).await
    };
    let established = tokio::select! {
        established = establishing => established,
        _ = &mut evicted => {
            tracing::debug!(subsystem = "connectd", "Incoming connection from {address} closed: it was the oldest of {} still in their handshake", inner.config.limits.max_pending_handshakes.max(1));
            return;
        }
        _ = stopped(&mut shutdown) => return,
    };
    drop(pending);
    let established = match established {
        Ok(established) => established,
        Err(failure) => {
            tracing::debug!(
                subsystem = "connectd",
                "Incoming connection from {address} failed: {failure}"
            );
            return;
        }
    };
    let limit = inner.config.limits.max_inbound_peers_without_channel;
    match admit_without_channel(
        &inner.registry,
        &established.id,
        established.direction,
        limit,
    ) {
        NoChannelAdmission::Exempt => {
            crate::connection::register(&inner, established, None);
        }
        NoChannelAdmission::Admitted(slot) => {
            crate::connection::register(&inner, established, None);
            // Held until the registered entry counts itself.
            drop(slot);
        }
        NoChannelAdmission::Full => {
            let text = format!("Too many peers without channels (limit {limit}): try again later");
            tracing::debug!(node_id = %established.id, subsystem = "connectd", "Refusing incoming connection from {address}: {text}");
            let Established {
                id,
                mut stream,
                mut encryptor,
                ..
            } = established;
            warn_and_close(&inner, id, &mut stream, &mut encryptor, &text).await;
        }
    }
}
