//! Messages stored for peers that are not connected (`sendcustommsg` with `delivery`
//! `stored`): persisted, bounded per peer, each with a time to live, and sent in the order they
//! were submitted once the peer is connected. Each one's fate is kept: `sent` (written to the
//! peer's socket), `expired` or `cancelled`.
//!
//! Order: one lock covers deciding whether a submission can go out at once (the peer is
//! connected and has nothing stored), storing it otherwise, and each queueing by the flush, so
//! a later message never overtakes an earlier one. A message counts as sent once it is written
//! to the socket ([`peer_manager::WriteReceipt`]); one whose connection dies before that stays
//! pending and goes out on the next connection.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use node_config::Limits;
use noise_transport::PublicKey;
use peer_manager::{PeerEvent, PeerManager, SendCustomError, SendError, WriteReceipt};
use rpc::StoredSubmission;
use subdaemon_state::SendRefused;

use crate::inbox::unix_now;
use crate::store::{SendStatus, SendStore, StoreFailure, StoredSend};

/// How sends are bounded, from the `custommsg-stored-*` limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredConfig {
    /// Pending sends one peer may have.
    pub max_pending_per_peer: u64,
    /// A send's time to live when the call gives none.
    pub default_ttl: Duration,
}

impl StoredConfig {
    /// The bounds `limits` set.
    pub fn from_limits(limits: &Limits) -> StoredConfig {
        StoredConfig {
            max_pending_per_peer: u64::from(limits.custommsg_stored_per_peer),
            default_ttl: limits.custommsg_stored_ttl,
        }
    }
}

/// How long a send stays listed after it was sent, expired or cancelled.
pub const RESOLVED_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// How often expiry is applied and connected peers with pending sends are flushed (which also
/// covers a connection whose event a lagging subscriber missed).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// The peer cannot take custom messages (closingd or onchaind owns it), or its
    /// connection's queue is full.
    Refused(SendCustomError),
    /// The peer already has this many pending sends, the limit.
    PeerFull {
        /// Its pending sends.
        pending: u64,
    },
    /// The store failed.
    Store(StoreFailure),
}

impl From<StoreFailure> for SubmitError {
    fn from(failure: StoreFailure) -> Self {
        SubmitError::Store(failure)
    }
}

/// Why a cancel was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelError {
    /// No send has that id (or it was forgotten, [`RESOLVED_KEPT`] after it was resolved).
    NotFound,
    /// It is no longer pending.
    Resolved(SendStatus),
    /// It is being written to the peer right now.
    InFlight,
    /// The store failed.
    Store(StoreFailure),
}

impl From<StoreFailure> for CancelError {
    fn from(failure: StoreFailure) -> Self {
        CancelError::Store(failure)
    }
}

/// Who is being flushed, and which sends are queued on a connection but not yet written.
#[derive(Debug, Default)]
struct FlushState {
    flushing: HashSet<PublicKey>,
    /// Peers to flush again when their current flush ends (a send came in meanwhile).
    again: HashSet<PublicKey>,
    in_flight: HashSet<u64>,
}

/// The stored sends of one node.
pub struct StoredSends {
    store: Arc<dyn SendStore>,
    manager: PeerManager,
    config: StoredConfig,
    state: Mutex<FlushState>,
    /// Ourselves, for the flush tasks we spawn.
    me: Weak<StoredSends>,
}

impl std::fmt::Debug for StoredSends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSends")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn peer_key(bytes: &[u8; 33]) -> Option<PublicKey> {
    PublicKey::from_slice(bytes).ok()
}

impl StoredSends {
    /// Stored sends kept in `store`, sent through `manager`.
    pub fn new(
        store: Arc<dyn SendStore>,
        manager: PeerManager,
        config: StoredConfig,
    ) -> Arc<StoredSends> {
        Arc::new_cyclic(|me| StoredSends {
            store,
            manager,
            config,
            state: Mutex::new(FlushState::default()),
            me: me.clone(),
        })
    }

    fn state(&self) -> MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `message` for `peer` at once if that keeps the order (connected, nothing stored
    /// before it), else stores it for `ttl` (the default if `None`) and sends it when it can.
    ///
    /// # Errors
    /// See [`SubmitError`].
    pub fn submit(
        &self,
        peer: &PublicKey,
        message: &[u8],
        ttl: Option<Duration>,
    ) -> Result<StoredSubmission, SubmitError> {
        let now = unix_now();
        let key = peer.serialize();
        let stored = {
            let state = self.state();
            let backlog =
                state.flushing.contains(peer) || !self.store.pending_sends(&key, now)?.is_empty();
            if !backlog {
                match self.manager.send_custom(peer, message) {
                    Ok(owner) => return Ok(StoredSubmission::Queued(owner)),
                    Err(SendCustomError::NoSuchPeer)
                    | Err(SendCustomError::Refused(SendRefused::NotConnected))
                    | Err(SendCustomError::Queue(SendError::Closed)) => {}
                    Err(error) => return Err(SubmitError::Refused(error)),
                }
            }
            let ttl = ttl.unwrap_or(self.config.default_ttl);
            let expires_at = now.saturating_add(ttl.as_secs());
            match self.store.insert_send(
                &key,
                message,
                now,
                expires_at,
                self.config.max_pending_per_peer,
            )? {
                Ok(id) => StoredSubmission::Stored { id, expires_at },
                Err(pending) => return Err(SubmitError::PeerFull { pending }),
            }
        };
        if self.is_connected(peer) {
            self.spawn_flush(*peer);
        }
        Ok(stored)
    }

    /// Cancels pending send `id`.
    ///
    /// # Errors
    /// See [`CancelError`].
    pub fn cancel(&self, id: u64) -> Result<StoredSend, CancelError> {
        let state = self.state();
        if state.in_flight.contains(&id) {
            return Err(CancelError::InFlight);
        }
        let send = self.store.send(id)?.ok_or(CancelError::NotFound)?;
        if send.status != SendStatus::Pending {
            return Err(CancelError::Resolved(send.status));
        }
        let now = unix_now();
        if !self.store.resolve_send(id, SendStatus::Cancelled, now)? {
            return Err(CancelError::NotFound);
        }
        drop(state);
        Ok(StoredSend {
            status: SendStatus::Cancelled,
            resolved_at: Some(now),
            ..send
        })
    }

    /// Sends for `peer` (or all) with `status` (or any), oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn list(
        &self,
        peer: Option<&PublicKey>,
        status: Option<SendStatus>,
    ) -> Result<Vec<StoredSend>, StoreFailure> {
        let peer = peer.map(PublicKey::serialize);
        self.store.list_sends(peer.as_ref(), status)
    }

    fn is_connected(&self, peer: &PublicKey) -> bool {
        self.manager
            .peer(peer)
            .is_some_and(|info| info.connection.is_some())
    }

    /// Flushes `peer`'s pending sends on a task, unless a flush is running (then that one
    /// goes round again when it ends).
    fn spawn_flush(&self, peer: PublicKey) {
        let Some(me) = self.me.upgrade() else { return };
        let mut state = self.state();
        if !state.flushing.insert(peer) {
            state.again.insert(peer);
            return;
        }
        drop(state);
        tokio::spawn(me.flush(peer));
    }

    async fn flush(self: Arc<Self>, peer: PublicKey) {
        loop {
            self.flush_once(&peer).await;
            let mut state = self.state();
            if !state.again.remove(&peer) {
                state.flushing.remove(&peer);
                return;
            }
        }
    }

    /// Sends `peer`'s pending sends in order, marking each sent once written; stops at the
    /// first that cannot be queued or written (the peer left).
    async fn flush_once(&self, peer: &PublicKey) {
        let pending = match self.store.pending_sends(&peer.serialize(), unix_now()) {
            Ok(pending) => pending,
            Err(failure) => {
                tracing::warn!(node_id = %peer, subsystem = "delivery", "could not read stored messages: {failure}");
                return;
            }
        };
        let mut receipts = VecDeque::new();
        for send in pending {
            loop {
                match self.queue(peer, &send) {
                    Queued::Yes(receipt) => receipts.push_back((send.id, receipt)),
                    Queued::Skipped => {}
                    Queued::Full if !receipts.is_empty() => {
                        // Wait for what is queued to be written, then try this one again.
                        if !self.settle(&mut receipts).await {
                            return;
                        }
                        continue;
                    }
                    Queued::Full | Queued::Gone => {
                        self.settle(&mut receipts).await;
                        return;
                    }
                }
                break;
            }
        }
        self.settle(&mut receipts).await;
    }

    /// Queues one send if it is still pending.
    fn queue(&self, peer: &PublicKey, send: &StoredSend) -> Queued {
        let mut state = self.state();
        // Cancelled or expired since the list was read.
        match self.store.send(send.id) {
            Ok(Some(now)) if now.status == SendStatus::Pending => {}
            Ok(_) => return Queued::Skipped,
            Err(failure) => {
                tracing::warn!(node_id = %peer, subsystem = "delivery", "could not read stored message {}: {failure}", send.id);
                return Queued::Gone;
            }
        }
        match self.manager.send_custom_tracked(peer, &send.payload) {
            Ok((_, receipt)) => {
                state.in_flight.insert(send.id);
                Queued::Yes(receipt)
            }
            Err(SendCustomError::Queue(SendError::QueueFull { .. })) => Queued::Full,
            Err(_) => Queued::Gone,
        }
    }

    /// Waits for each queued send to be written and marks it sent; false if one was not
    /// (the connection closed): it and the rest stay pending.
    async fn settle(&self, receipts: &mut VecDeque<(u64, WriteReceipt)>) -> bool {
        while let Some((id, receipt)) = receipts.pop_front() {
            let written = receipt.written().await.is_ok();
            if written {
                if let Err(failure) = self.store.resolve_send(id, SendStatus::Sent, unix_now()) {
                    tracing::warn!(
                        subsystem = "delivery",
                        "stored message {id} was sent, but could not be marked so: {failure}"
                    );
                }
            }
            let mut state = self.state();
            state.in_flight.remove(&id);
            if !written {
                for (id, _) in receipts.drain(..) {
                    state.in_flight.remove(&id);
                }
                return false;
            }
        }
        true
    }

    /// Expires what outlived its time to live, forgets what was resolved long ago, and
    /// flushes connected peers that have pending sends.
    fn sweep(&self) {
        let now = unix_now();
        match self.store.expire_sends(now) {
            Ok(expired) => {
                for send in expired {
                    tracing::info!(node_id = %hex::encode(send.peer), subsystem = "delivery", "stored message {} expired unsent", send.id);
                }
            }
            Err(failure) => {
                tracing::warn!(
                    subsystem = "delivery",
                    "could not expire stored messages: {failure}"
                );
            }
        }
        if let Err(failure) = self
            .store
            .forget_resolved_sends(now.saturating_sub(RESOLVED_KEPT.as_secs()))
        {
            tracing::warn!(
                subsystem = "delivery",
                "could not forget old stored messages: {failure}"
            );
        }
        match self.store.peers_with_pending() {
            Ok(peers) => {
                for peer in peers.iter().filter_map(peer_key) {
                    if self.is_connected(&peer) {
                        self.spawn_flush(peer);
                    }
                }
            }
            Err(failure) => {
                tracing::warn!(
                    subsystem = "delivery",
                    "could not read stored messages: {failure}"
                );
            }
        }
    }

    /// Flushes each peer as it connects, and sweeps every second, until aborted or the
    /// manager stops.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let mut events = self.manager.subscribe();
        let sends = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut sweeps = tokio::time::interval(SWEEP_EVERY);
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(PeerEvent::Connected { id, .. }) => {
                            let Some(sends) = sends.upgrade() else { return };
                            sends.spawn_flush(id);
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    _ = sweeps.tick() => {
                        let Some(sends) = sends.upgrade() else { return };
                        sends.sweep();
                    }
                }
            }
        })
    }
}

/// What queueing one send did.
enum Queued {
    Yes(WriteReceipt),
    /// It is no longer pending.
    Skipped,
    /// The connection's queue is full.
    Full,
    /// The peer is gone (or the store failed).
    Gone,
}

/// `sendcustommsg`'s view of the stored sends, with its error texts.
impl rpc::StoredSendQueue for StoredSends {
    fn submit(
        &self,
        peer: &PublicKey,
        message: &[u8],
        ttl: Option<Duration>,
    ) -> Result<StoredSubmission, jsonrpc::error::RpcError> {
        StoredSends::submit(self, peer, message, ttl).map_err(|error| match error {
            SubmitError::Refused(error) => rpc::errors::send_custom_error(peer, error),
            SubmitError::PeerFull { pending } => jsonrpc::error::RpcError::lightningd(format!(
                "Peer {} already has {pending} stored messages, the limit \
                 (--custommsg-stored-per-peer): message not stored",
                hex::encode(peer.serialize())
            )),
            SubmitError::Store(failure) => crate::commands::store_failed(failure),
        })
    }
}
