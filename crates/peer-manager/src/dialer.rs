//! Dialing out: resolving and opening TCP under the dial deadline, then establishing and
//! registering the connection; and redialling peers with channels after they drop.

use std::net::SocketAddr;
use std::sync::Arc;

use node_config::DialAddress;
use noise_transport::PublicKey;
use tokio::net::TcpStream;

use crate::error::ConnectError;
use crate::establish::establish;
use crate::events::ConnectionInfo;
use crate::manager::Inner;
use crate::stream::PeerStream;
use crate::tasks::stopped;

/// Connects to `id` at `address` (the network's default port if it has none), or returns the
/// live connection if there is one.
pub(crate) async fn connect(
    inner: &Arc<Inner>,
    id: PublicKey,
    address: &DialAddress,
) -> Result<ConnectionInfo, ConnectError> {
    if let Some(info) = inner.registry.connection_info(&id) {
        return Ok(info);
    }
    let address = address.or_port(inner.config.default_port);
    let (host, port) = (address.host(), address.port().unwrap_or_default());
    // Only resolving and the TCP connect run under the dial deadline; `establish` has its own.
    let deadline = inner.config.dial_timeout;
    let dial = async {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ConnectError::Resolve(e.to_string()))?
            .collect();
        let mut last_error = ConnectError::Resolve(format!("{host} has no addresses"));
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = ConnectError::Io(format!("{address}: {error}")),
            }
        }
        Err(last_error)
    };
    let stream = tokio::time::timeout(deadline, dial).await.map_err(|_| {
        tracing::debug!(node_id = %id, subsystem = "connectd", "Dialing {address} timed out after {deadline:?}");
        ConnectError::Timeout(deadline)
    })??;
    let peer_address = stream
        .peer_addr()
        .map_err(|e| ConnectError::Io(e.to_string()))?;
    let established = establish(inner, PeerStream::Tcp(stream), peer_address, Some(id))
        .await
        .map_err(|failure| {
        tracing::debug!(node_id = %id, subsystem = "connectd", "Outgoing connection to {address} failed: {failure}");
        failure.error
    })?;
    Ok(crate::connection::register(
        inner,
        established,
        Some(address),
    ))
}

/// Redials a disconnected peer that has channels, with doubling backoff, until it is
/// connected, forgotten, or the node stops.
pub(crate) fn spawn_redial(inner: &Arc<Inner>, id: PublicKey) {
    if !inner.registry.start_redial(&id) {
        return;
    }
    let task_inner = inner.clone();
    inner.tasks.spawn(async move {
        let inner = task_inner;
        let mut shutdown = inner.tasks.stop_signal();
        let mut delay = inner.config.redial_backoff_min;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut shutdown) => break,
            }
            let Some(address) = inner.registry.redial_address(&id) else {
                break;
            };
            match connect(&inner, id, &address).await {
                Ok(_) => break,
                Err(error) => {
                    tracing::debug!(node_id = %id, subsystem = "connectd", "Reconnect failed, next try in {:?}: {error}", delay * 2)
                }
            }
            delay = (delay * 2).min(inner.config.redial_backoff_max);
        }
        inner.registry.end_redial(&id);
    });
}
