//! A live connection's life: registering an established connection (replacing an older one to
//! the same peer) and starting its reader and writer, then tearing it down when either ends.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use node_config::DialAddress;
use noise_transport::PublicKey;
use tokio::sync::watch;

use crate::establish::Established;
use crate::events::{ConnectionInfo, Direction, PeerEvent};
use crate::manager::Inner;
use crate::outbox::Outbox;
use crate::registry::{Connection, PongWaiter};

/// What the reader and writer of one connection share.
pub(crate) struct Link {
    pub(crate) inner: Arc<Inner>,
    pub(crate) id: PublicKey,
    pub(crate) connection_id: u64,
    /// Becomes true when the connection is to close.
    pub(crate) closed: watch::Receiver<bool>,
}

/// Puts an established connection in the registry (closing an older one to the same peer)
/// and starts its reader and writer. Inbound connections pass admission first.
pub(crate) fn register(
    inner: &Arc<Inner>,
    established: Established,
    dialed: Option<DialAddress>,
) -> ConnectionInfo {
    let Established {
        id,
        stream,
        encryptor,
        decryptor,
        direction,
        address,
        features,
        remote_addr,
    } = established;
    let connection_id = inner.next_connection.fetch_add(1, Ordering::Relaxed);
    let (read_half, write_half) = stream.into_split();
    let outbox = Outbox::new(
        write_half,
        encryptor,
        inner.config.limits.peer_send_queue_bytes,
        inner.config.control_queue_bytes,
    );
    if let Some(hook) = inner.dev_disconnect_hook(id) {
        outbox.set_dev_disconnect(hook);
    }
    let (closer, closed) = watch::channel(false);
    let info = ConnectionInfo {
        id,
        direction,
        address,
        features,
        remote_addr,
    };
    let pong_waiter = PongWaiter::default();
    let connection = Connection {
        id: connection_id,
        info: info.clone(),
        outbox: outbox.clone(),
        closer,
        pong_waiter: pong_waiter.clone(),
    };
    if let Some(old) = inner.registry.attach(id, connection, dialed) {
        tracing::debug!(node_id = %id, subsystem = "connectd", "Peer reconnected: closing the older connection");
        old.closer.send_replace(true);
    }
    tracing::info!(node_id = %id, subsystem = "connectd", "Connected ({})", match direction {
        Direction::Inbound => "incoming",
        Direction::Outbound => "outgoing",
    });
    let _ = inner.events.send(PeerEvent::Connected {
        id,
        direction,
        address,
    });
    let link = |closed| Link {
        inner: inner.clone(),
        id,
        connection_id,
        closed,
    };
    inner
        .tasks
        .spawn(crate::writer::writer(link(closed.clone()), outbox.clone()));
    inner.tasks.spawn(crate::reader::reader(
        link(closed),
        read_half,
        decryptor,
        outbox,
        pong_waiter,
    ));
    info
}

/// Removes connection `connection_id` of `id` if it is still the live one, says so, and
/// redials a peer that has channels.
pub(crate) fn teardown(inner: &Arc<Inner>, id: PublicKey, connection_id: u64, reason: &str) {
    let Some(detached) = inner.registry.detach(id, connection_id) else {
        return;
    };
    tracing::debug!(node_id = %id, subsystem = "connectd", "Disconnected: {reason}");
    let _ = inner.events.send(PeerEvent::Disconnected {
        id,
        reason: reason.to_owned(),
    });
    if detached.redial && !inner.tasks.is_stopping() {
        crate::dialer::spawn_redial(inner, id);
    }
}
