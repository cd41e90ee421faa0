//! `onion-messenger`: onion messages (BOLT 4, type 513) on the node, over the sans-IO
//! `onion-message` crate.
//!
//! # What it owns
//!
//! * `relay.rs`: what happens to a message that reaches us, following `onion-message`'s
//!   calling protocol: peel; forward to the next peer (by node id; a next hop given as a short
//!   channel id is dropped, since a channel-less node knows none), or peel again when the next
//!   hop is us; or hand a message for us to the hooks' bounded queue (full: dropped). A peer's
//!   message that does not peel, whose next hop is not a connected peer, or whose next peer
//!   refused it (no bit 38/39, busy) goes to a second bounded queue, for the
//!   `onionmessage_forward_fail` notification. The
//!   peer manager's [`peer_manager::OnionMessageHandler`] runs it on the sending peer's reader,
//!   after that peer's rate limit (`peer-protocol`'s session), so one peer's onions cost no
//!   other peer anything.
//! * `path_secret.rs`: the `path_id`s of the paths we issue, derived from a key lnpeerd
//!   derives from `hsm_secret`; a message over one goes to `onion_message_recv_secret`.
//! * `shapes.rs`: CLN's JSON for blinded paths and the hooks' `onion_message` payload.
//! * `commands/`: `sendonionmessage`, `createonionreplypath`, `injectonionmessage` and
//!   `decryptencrypteddata`.
//!
//! # What it must not touch
//!
//! The cryptography and encodings (`onion-message`), sockets and per-peer queues (it sends
//! through [`PeerManager::send_onion_message`], which drops a message for a peer whose queue is
//! over the onion budget), rate limits (the session's), plugins (lnpeerd drains
//! [`OnionMessenger::take_received`] into the plugin host's hooks, and
//! [`OnionMessenger::take_forward_failures`] into its notifications) and feature bits (lnpeerd
//! sets bit 39).
//!
//! # Wiring
//!
//! ```text
//! OnionMessenger::new(manager, node_secret, path_key, limits)
//!   ─▶ register(&mut dispatcher)     the four commands
//!   ─▶ start()                       513 from peers reaches the relay from now on
//!   ─▶ take_received()               ReceivedOnionMessage { pathsecret, params } for the hooks
//!   ─▶ take_forward_failures()       ForwardFailure, .params() for onionmessage_forward_fail
//! ```

#![forbid(unsafe_code)]

mod commands;
mod path_secret;
mod relay;
mod shapes;

use std::sync::{Arc, Mutex};

use node_config::Limits;
use noise_transport::SecretKey;
use peer_manager::PeerManager;
use rpc::{CommandTaken, Dispatcher};
use tokio::sync::mpsc;

pub use path_secret::{PathSecrets, PATH_SECRET_LEN};
pub use relay::{ForwardFailure, ReceivedOnionMessage};
pub use shapes::{
    blinded_path_hex, blinded_path_json, forward_fail_params, hook_params, parse_blinded_path,
};

use relay::{PeerOnionHandler, Relay};

/// Onion messages for one node.
pub struct OnionMessenger {
    relay: Arc<Relay>,
    received: Mutex<Option<mpsc::Receiver<ReceivedOnionMessage>>>,
    forward_failures: Mutex<Option<mpsc::Receiver<ForwardFailure>>>,
}

impl std::fmt::Debug for OnionMessenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnionMessenger").finish_non_exhaustive()
    }
}

impl OnionMessenger {
    /// Onion messages through `manager`, peeled with `node_secret`; our paths' `path_id`s come
    /// from `path_key` (derived from `hsm_secret`); at most `limits.onion_message_hook_queue`
    /// received messages wait for the hooks, and as many forward failures for their
    /// notification.
    pub fn new(
        manager: PeerManager,
        node_secret: SecretKey,
        path_key: [u8; 32],
        limits: &Limits,
    ) -> OnionMessenger {
        let queue = limits.onion_message_hook_queue.max(1);
        let (sender, receiver) = mpsc::channel(queue);
        let (failure_sender, failure_receiver) = mpsc::channel(queue);
        OnionMessenger {
            relay: Arc::new(Relay {
                node_id: manager.node_id(),
                manager,
                node_secret,
                paths: PathSecrets::new(path_key),
                received: sender,
                forward_failures: failure_sender,
            }),
            received: Mutex::new(Some(receiver)),
            forward_failures: Mutex::new(Some(failure_receiver)),
        }
    }

    /// Adds `sendonionmessage`, `createonionreplypath`, `injectonionmessage` and
    /// `decryptencrypteddata` to `dispatcher`.
    ///
    /// # Errors
    /// One of those names is taken.
    pub fn register(&self, dispatcher: &mut Dispatcher) -> Result<(), CommandTaken> {
        let relay = &self.relay;
        dispatcher.register(Arc::new(commands::sendonionmessage::SendOnionMessage(
            relay.clone(),
        )))?;
        dispatcher.register(Arc::new(
            commands::createonionreplypath::CreateOnionReplyPath(relay.clone()),
        ))?;
        dispatcher.register(Arc::new(commands::injectonionmessage::InjectOnionMessage(
            relay.clone(),
        )))?;
        dispatcher.register(Arc::new(
            commands::decryptencrypteddata::DecryptEncryptedData(relay.clone()),
        ))?;
        Ok(())
    }

    /// Takes the `onion_message` of every peer from now on (the manager drops them until
    /// then). False if the manager already had a handler.
    pub fn start(&self) -> bool {
        self.relay
            .manager
            .set_onion_message_handler(Arc::new(PeerOnionHandler(self.relay.clone())))
    }

    /// The queue of messages for us, for the hooks; `None` after the first call.
    pub fn take_received(&self) -> Option<mpsc::Receiver<ReceivedOnionMessage>> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The queue of peers' messages we could not pass on, for `onionmessage_forward_fail`;
    /// `None` after the first call.
    pub fn take_forward_failures(&self) -> Option<mpsc::Receiver<ForwardFailure>> {
        self.forward_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}
