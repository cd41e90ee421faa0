//! The peers we know: one entry per node id with its state (owner, channels), its live
//! connection if any, and the address we reach it at.
//!
//! Every change to an entry goes through this file, and through [`Registry::change`] in it,
//! which keeps three things in step: the entry's [`PeerState`] (whose "connected" input is
//! applied exactly when a connection is attached to or detached from the entry), the
//! connection itself, and the count of inbound peers without a channel that admission reads.
//! Nothing awaits while holding an entry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use node_config::DialAddress;
use noise_transport::PublicKey;
use subdaemon_state::{
    ChannelDbId, ChannelState, Owner, PeerInput, PeerState, SendRefused, Transition,
};
use tokio::sync::{oneshot, watch};

use crate::error::{PeerError, SendCustomError};
use crate::events::{ConnectionInfo, Direction, PeerInfo};
use crate::outbox::Outbox;

/// At most one caller's `ping` awaits its `pong` per connection; the reader completes it with
/// the pong's length (type and length fields included, as CLN's `totlen`).
pub(crate) type PongWaiter = Arc<Mutex<Option<oneshot::Sender<usize>>>>;

/// A live connection's handle, kept in its peer's entry.
pub(crate) struct Connection {
    /// Tells a connection from the one that replaced it.
    pub(crate) id: u64,
    pub(crate) info: ConnectionInfo,
    pub(crate) outbox: Outbox,
    /// Set to true to close the connection (its reader and writer watch it).
    pub(crate) closer: watch::Sender<bool>,
    pub(crate) pong_waiter: PongWaiter,
}

#[derive(Default)]
struct PeerEntry {
    state: PeerState,
    connection: Option<Connection>,
    address: Option<DialAddress>,
    redialing: bool,
}

impl PeerEntry {
    fn has_channel(&self) -> bool {
        self.state.channels().next().is_some()
    }

    /// Whether this entry counts toward the cap on inbound peers without a channel.
    fn counts_without_channel(&self) -> bool {
        self.connection
            .as_ref()
            .is_some_and(|connection| connection.info.direction == Direction::Inbound)
            && !self.has_channel()
    }

    fn info(&self, id: PublicKey) -> PeerInfo {
        PeerInfo {
            id,
            connection: self.connection.as_ref().map(|c| c.info.clone()),
            owner: self.state.owner(),
            channels: self.state.channels().collect(),
            address: self.address.clone(),
            log_prefix: self.state.log_prefix(),
        }
    }
}

/// What [`Registry::detach`] did.
pub(crate) struct Detached {
    /// The peer still has channels and an address: dial it again.
    pub(crate) redial: bool,
}

/// Every known peer.
pub(crate) struct Registry {
    peers: DashMap<PublicKey, PeerEntry>,
    /// Entries with an inbound connection and no channel, plus admissions in progress (see
    /// [`Registry::reserve_without_channel`]). Exact, so admitting a peer never scans.
    inbound_without_channel: AtomicUsize,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            peers: DashMap::new(),
            inbound_without_channel: AtomicUsize::new(0),
        }
    }

    /// Applies `change` to `entry`, then corrects the count of inbound peers without a
    /// channel. Every mutation of an entry goes through here.
    fn change<R>(&self, entry: &mut PeerEntry, change: impl FnOnce(&mut PeerEntry) -> R) -> R {
        let before = entry.counts_without_channel();
        let result = change(entry);
        match (before, entry.counts_without_channel()) {
            (false, true) => {
                self.inbound_without_channel.fetch_add(1, Ordering::AcqRel);
            }
            (true, false) => {
                self.inbound_without_channel.fetch_sub(1, Ordering::AcqRel);
            }
            _ => {}
        }
        result
    }

    /// Makes `connection` the peer's live one and returns the one it replaces (the newest
    /// connection wins). A first connection moves the peer's state to connected. `dialed` is
    /// the address we reached it at, if we dialed.
    pub(crate) fn attach(
        &self,
        id: PublicKey,
        connection: Connection,
        dialed: Option<DialAddress>,
    ) -> Option<Connection> {
        let mut entry = self.peers.entry(id).or_default();
        self.change(&mut entry, |entry| {
            let previous = entry.connection.replace(connection);
            if previous.is_none() {
                // The state was disconnected: it changes only here and in `detach`.
                if let Err(error) = entry.state.handle(PeerInput::Connected) {
                    tracing::error!(node_id = %id, subsystem = "connectd", "peer state refused a connection: {error}");
                }
            }
            if dialed.is_some() {
                entry.address = dialed;
            }
            previous
        })
    }

    /// Removes connection `connection_id` of `id` if it is still the live one: the peer's
    /// state moves to disconnected, and a peer with nothing left to remember is forgotten.
    /// `None` if that connection was already replaced or removed.
    pub(crate) fn detach(&self, id: PublicKey, connection_id: u64) -> Option<Detached> {
        let Entry::Occupied(mut occupied) = self.peers.entry(id) else {
            return None;
        };
        if occupied.get().connection.as_ref().map(|c| c.id) != Some(connection_id) {
            return None;
        }
        let forget = self.change(occupied.get_mut(), |entry| {
            if let Some(connection) = entry.connection.take() {
                connection.closer.send_replace(true);
            }
            if let Err(error) = entry.state.handle(PeerInput::Disconnected) {
                tracing::error!(node_id = %id, subsystem = "connectd", "peer state refused a disconnection: {error}");
            }
            entry.state.is_forgettable()
        });
        if forget {
            occupied.remove();
            return Some(Detached { redial: false });
        }
        Some(Detached {
            redial: occupied.get().address.is_some(),
        })
    }

    /// Applies a lifecycle event to a known peer; a peer left with nothing is forgotten.
    pub(crate) fn apply(&self, id: &PublicKey, input: PeerInput) -> Result<Transition, PeerError> {
        let mut entry = self.peers.get_mut(id).ok_or(PeerError::NoSuchPeer)?;
        let transition = self
            .change(&mut entry, |entry| entry.state.handle(input))
            .map_err(PeerError::Invalid)?;
        if transition.forget {
            drop(entry);
            self.peers.remove(id);
        }
        Ok(transition)
    }

    /// Adds a peer remembered from the store, disconnected, with its channels (replacing any
    /// entry it had). False if there is nothing to remember.
    pub(crate) fn restore(
        &self,
        id: PublicKey,
        address: Option<DialAddress>,
        channels: impl IntoIterator<Item = (ChannelDbId, ChannelState)>,
    ) -> bool {
        let state = PeerState::restore(channels);
        if state.is_forgettable() {
            return false;
        }
        let mut entry = self.peers.entry(id).or_default();
        self.change(&mut entry, |entry| {
            *entry = PeerEntry {
                state,
                connection: None,
                address,
                redialing: false,
            };
        });
        true
    }

    /// A known peer.
    pub(crate) fn info(&self, id: &PublicKey) -> Option<PeerInfo> {
        self.peers.get(id).map(|entry| entry.info(*entry.key()))
    }

    /// Every known peer.
    pub(crate) fn all(&self) -> Vec<PeerInfo> {
        self.peers
            .iter()
            .map(|entry| entry.info(*entry.key()))
            .collect()
    }

    /// The live connection to `id`, if any.
    pub(crate) fn connection_info(&self, id: &PublicKey) -> Option<ConnectionInfo> {
        self.peers
            .get(id)
            .and_then(|entry| entry.connection.as_ref().map(|c| c.info.clone()))
    }

    /// The prefix of `id`'s log lines, if it is known.
    pub(crate) fn log_prefix(&self, id: &PublicKey) -> Option<String> {
        self.peers.get(id).map(|entry| entry.state.log_prefix())
    }

    /// Runs `then` with the peer's state and live connection, under its entry's lock.
    ///
    /// # Errors
    /// [`SendCustomError`] when the peer is unknown or not connected.
    pub(crate) fn with_connection<T>(
        &self,
        id: &PublicKey,
        then: impl FnOnce(&PeerState, &Connection) -> T,
    ) -> Option<T> {
        let entry = self.peers.get(id)?;
        let connection = entry.connection.as_ref()?;
        Some(then(&entry.state, connection))
    }

    /// sendcustommsg's checks in CLN's order (known, connected and owned by a subdaemon that
    /// talks to the peer), then `then` with the owner and the connection's outbox, under the
    /// entry's lock.
    ///
    /// # Errors
    /// The peer is unknown, refused by its state, or `then`'s error.
    pub(crate) fn custom_gate<T>(
        &self,
        id: &PublicKey,
        then: impl FnOnce(Owner, &Outbox, &PeerState) -> Result<T, SendCustomError>,
    ) -> Result<T, SendCustomError> {
        let entry = self.peers.get(id).ok_or(SendCustomError::NoSuchPeer)?;
        let owner = entry
            .state
            .custom_send_gate()
            .map_err(SendCustomError::Refused)?;
        let connection = entry
            .connection
            .as_ref()
            .ok_or(SendCustomError::Refused(SendRefused::NotConnected))?;
        then(owner, &connection.outbox, &entry.state)
    }

    /// Asks the live connection to `id` to close; false if there is none.
    pub(crate) fn close(&self, id: &PublicKey) -> bool {
        self.with_connection(id, |_, connection| {
            connection.closer.send_replace(true);
        })
        .is_some()
    }

    /// Asks every live connection to close.
    pub(crate) fn close_all(&self) {
        for entry in self.peers.iter() {
            if let Some(connection) = &entry.connection {
                connection.closer.send_replace(true);
            }
        }
    }

    /// Whether an inbound connection from `id` is exempt from the cap on peers without a
    /// channel: it replaces a live connection, or the peer has a channel.
    pub(crate) fn exempt_from_cap(&self, id: &PublicKey) -> bool {
        self.peers
            .get(id)
            .is_some_and(|entry| entry.connection.is_some() || entry.has_channel())
    }

    /// Holds a place under the cap of `limit` inbound peers without a channel while one is
    /// being registered, so two admitted at once cannot both take the last place. False if
    /// the cap is reached. Give it back with [`Registry::release_without_channel`] once the
    /// entry counts itself (after [`Registry::attach`]).
    pub(crate) fn reserve_without_channel(&self, limit: usize) -> bool {
        self.inbound_without_channel
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < limit).then_some(count + 1)
            })
            .is_ok()
    }

    /// Gives back a place held by [`Registry::reserve_without_channel`].
    pub(crate) fn release_without_channel(&self) {
        self.inbound_without_channel.fetch_sub(1, Ordering::AcqRel);
    }

    /// Inbound peers without a channel, plus admissions in progress.
    pub(crate) fn inbound_without_channel(&self) -> usize {
        self.inbound_without_channel.load(Ordering::Acquire)
    }

    /// Marks `id` as being redialled; false if it already is, or has no address to dial.
    pub(crate) fn start_redial(&self, id: &PublicKey) -> bool {
        match self.peers.get_mut(id) {
            Some(mut entry) if !entry.redialing && entry.address.is_some() => {
                entry.redialing = true;
                true
            }
            _ => false,
        }
    }

    /// Where to redial `id`: its address, while it is disconnected and has a channel.
    pub(crate) fn redial_address(&self, id: &PublicKey) -> Option<DialAddress> {
        let entry = self.peers.get(id)?;
        if entry.connection.is_some() || !entry.has_channel() {
            return None;
        }
        entry.address.clone()
    }

    /// Redialling `id` has ended.
    pub(crate) fn end_redial(&self, id: &PublicKey) {
        if let Some(mut entry) = self.peers.get_mut(id) {
            entry.redialing = false;
        }
    }
}
