//! Which peers have finished the `init` exchange, so that `connect` can await it instead of
//! polling.
//!
//! LDK's `PeerManager` raises no event for a new peer; it calls `peer_connected` on each of its
//! message handlers. [`PeerWatch`] sits in the slot meant for handlers that only send
//! (`MessageHandler::send_only_message_handler`), sends nothing, and publishes the set of
//! connected node ids. The `PeerManager` calls it after every other handler has accepted the
//! peer, so once a node id is in the set, the onion messenger and the liquidity manager know
//! the peer too.

use std::collections::HashSet;

use lightning::bitcoin::secp256k1::PublicKey;
use lightning::ln::msgs::{BaseMessageHandler, Init, MessageSendEvent, SendOnlyMessageHandler};
use lightning::types::features::{InitFeatures, NodeFeatures};
use tokio::sync::watch;

/// The node ids of the peers whose `init` LDK has accepted.
pub(crate) struct PeerWatch {
    connected: watch::Sender<HashSet<PublicKey>>,
}

impl PeerWatch {
    pub(crate) fn new() -> Self {
        PeerWatch {
            connected: watch::Sender::new(HashSet::new()),
        }
    }

    /// Whether `peer` is connected now.
    pub(crate) fn is_connected(&self, peer: &PublicKey) -> bool {
        self.connected.borrow().contains(peer)
    }

    /// Returns once `peer` is connected (at once if it already is).
    pub(crate) async fn connected(&self, peer: PublicKey) {
        self.wait_for(|set| set.contains(&peer)).await;
    }

    /// Returns once `peer` is not connected (at once if it is not).
    pub(crate) async fn disconnected(&self, peer: PublicKey) {
        self.wait_for(|set| !set.contains(&peer)).await;
    }

    async fn wait_for(&self, condition: impl FnMut(&HashSet<PublicKey>) -> bool) {
        let mut receiver = self.connected.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = receiver.wait_for(condition).await;
    }
}

impl BaseMessageHandler for PeerWatch {
    fn get_and_clear_pending_msg_events(&self) -> Vec<MessageSendEvent> {
        Vec::new()
    }

    fn peer_disconnected(&self, their_node_id: PublicKey) {
        self.connected.send_modify(|set| {
            set.remove(&their_node_id);
        });
    }

    fn provided_node_features(&self) -> NodeFeatures {
        NodeFeatures::empty()
    }

    fn provided_init_features(&self, _their_node_id: PublicKey) -> InitFeatures {
        InitFeatures::empty()
    }

    fn peer_connected(
        &self,
        their_node_id: PublicKey,
        _init: &Init,
        _inbound: bool,
    ) -> Result<(), ()> {
        self.connected.send_modify(|set| {
            set.insert(their_node_id);
        });
        Ok(())
    }
}

impl SendOnlyMessageHandler for PeerWatch {}
