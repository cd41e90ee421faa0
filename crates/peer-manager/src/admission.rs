//! Who may come in: inbound connections still in their handshake or `init` are capped (the
//! oldest gives way to a newcomer), and inbound peers without a channel are capped once their
//! `init` is in. The numbers are `node_config`'s limits (`max_pending_handshakes`,
//! `max_inbound_peers_without_channel`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use noise_transport::PublicKey;
use tokio::sync::oneshot;

use crate::events::Direction;
use crate::registry::Registry;

/// The inbound connections still in their handshake or `init`, by arrival (the oldest has the
/// lowest ticket). Dropping a connection's sender tells its task to close it.
#[derive(Default)]
pub(crate) struct PendingHandshakes {
    next_ticket: u64,
    closers: BTreeMap<u64, oneshot::Sender<()>>,
}

/// One inbound connection's place among the pending handshakes; dropping it (the connection
/// got through `init`, failed, timed out or was closed) gives the place back.
pub(crate) struct PendingHandshake {
    pending: Arc<Mutex<PendingHandshakes>>,
    ticket: u64,
}

impl PendingHandshake {
    /// Takes a place for a connection just accepted, closing the oldest pending connections
    /// beyond `limit`. The receiver resolves when this connection is the one evicted.
    pub(crate) fn admit(
        pending: &Arc<Mutex<PendingHandshakes>>,
        limit: usize,
    ) -> (PendingHandshake, oneshot::Receiver<()>) {
        let (closer, evicted) = oneshot::channel();
        // A limit of 0 would evict every connection on arrival.
        let limit = limit.max(1);
        let mut handshakes = pending.lock().unwrap_or_else(|e| e.into_inner());
        let ticket = handshakes.next_ticket;
        handshakes.next_ticket += 1;
        handshakes.closers.insert(ticket, closer);
        while handshakes.closers.len() > limit {
            // Dropping the sender resolves the oldest connection's receiver.
            handshakes.closers.pop_first();
        }
        drop(handshakes);
        let place = PendingHandshake {
            pending: pending.clone(),
            ticket,
        };
        (place, evicted)
    }
}

impl Drop for PendingHandshake {
    fn drop(&mut self) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closers
            .remove(&self.ticket);
    }
}

/// A place held under the cap on inbound peers without a channel while such a peer is being
/// registered; dropping it (once the registered entry counts itself) gives the hold back.
pub(crate) struct NoChannelSlot<'a> {
    registry: &'a Registry,
}

impl Drop for NoChannelSlot<'_> {
    fn drop(&mut self) {
        self.registry.release_without_channel();
    }
}

/// What [`admit_without_channel`] decided about a connection.
pub(crate) enum NoChannelAdmission<'a> {
    /// The cap does not apply: an outbound connection, a peer with a channel, a reconnect.
    Exempt,
    /// A place was free and is held until the peer is registered.
    Admitted(NoChannelSlot<'a>),
    /// The node has as many inbound peers without a channel as it takes.
    Full,
}

/// Applies the cap of `limit` inbound peers without a channel to a connection from `id`.
pub(crate) fn admit_without_channel<'a>(
    registry: &'a Registry,
    id: &PublicKey,
    direction: Direction,
    limit: usize,
) -> NoChannelAdmission<'a> {
    if direction == Direction::Outbound || registry.exempt_from_cap(id) {
        return NoChannelAdmission::Exempt;
    }
    if registry.reserve_without_channel(limit) {
        NoChannelAdmission::Admitted(NoChannelSlot { registry })
    } else {
        NoChannelAdmission::Full
    }
}
