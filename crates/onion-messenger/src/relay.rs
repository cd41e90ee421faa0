//! What happens to one onion message that reached us, from a peer or injected: peeled with the
//! node key; a forward sent to its next peer (or peeled again when the next hop is us); a
//! message for us handed to the hooks' queue. Nothing here waits: a full queue or a busy peer
//! drops the message, as BOLT 4 allows ("MAY rate-limit messages by dropping them").
//!
//! A peer's message that does not peel, or whose next hop is no peer of ours, is also handed
//! (bounded, dropped when full) to the `onionmessage_forward_fail` notification, as CLN does: a
//! plugin may connect to the next node and inject the message again. So is one whose next peer
//! refused it (no bit 38/39, or busy), which CLN would have sent.

use std::sync::Arc;

use noise_transport::PublicKey;
use onion_message::{
    peel_onion_message, Encode, Forward, NextHop, OnionMessage, Peeled, Received, SecretKey,
};
use peer_manager::{OnionMessageHandler, PeerManager};
use tokio::sync::mpsc;

use crate::path_secret::PathSecrets;
use crate::shapes::{forward_fail_params, hook_params};

/// How many times one message may be peeled by us in a row (a path that goes through us more
/// than once, as a reply path whose introduction node is ourselves does). Each peel consumes a
/// layer, so a message ends anyway; this bounds what a crafted one costs at a few peels.
const MAX_LOCAL_PEELS: usize = 8;

/// An onion message for us, ready for the plugins' hooks.
#[derive(Debug, Clone)]
pub struct ReceivedOnionMessage {
    /// Set when it came over a path we issued (`onion_message_recv_secret`); otherwise the
    /// message goes to `onion_message_recv`.
    pub pathsecret: Option<[u8; 32]>,
    /// The hook's params, `{"onion_message": {...}}` in CLN's shape.
    pub params: serde_json::Value,
}

/// A peer's onion message we could not pass on, for the `onionmessage_forward_fail`
/// notification: it did not peel (`outgoing` is `None`), or its next hop is not a connected
/// peer, as in CLN; or the next peer did not offer onion messages or has too much waiting to
/// be written, where CLN would have sent it (`outgoing` is the peeled message and where it was
/// going).
#[derive(Debug, Clone)]
pub struct ForwardFailure {
    /// The peer that sent it.
    pub source: PublicKey,
    /// The message as we last tried to peel it: as it came, or after the layers that were
    /// for us (a path through us more than once).
    pub incoming: OnionMessage,
    /// The peeled message and its next hop, when peeling got that far.
    pub outgoing: Option<Forward>,
}

impl ForwardFailure {
    /// The notification's params in CLN's shape: `{"onionmessage_forward_fail": {...}}`.
    pub fn params(&self) -> serde_json::Value {
        forward_fail_params(&self.source, &self.incoming, self.outgoing.as_ref())
    }
}

/// Everything peeling and forwarding need, shared by the reader-side handler and the commands.
pub(crate) struct Relay {
    pub(crate) manager: PeerManager,
    pub(crate) node_secret: SecretKey,
    pub(crate) node_id: PublicKey,
    pub(crate) paths: PathSecrets,
    pub(crate) received: mpsc::Sender<ReceivedOnionMessage>,
    pub(crate) forward_failures: mpsc::Sender<ForwardFailure>,
}

/// What became of a message: `Err` holds CLN's text for why it went nowhere.
pub(crate) type Outcome = Result<(), String>;

impl Relay {
    /// Peels `message` and carries out what it says. `source` is the peer it came from (`None`
    /// when injected), for the logs.
    pub(crate) fn handle(&self, source: Option<&PublicKey>, message: OnionMessage) -> Outcome {
        let mut message = message;
        for _ in 0..MAX_LOCAL_PEELS {
            let peeled = match peel_onion_message(&self.node_secret, &message) {
                Ok(peeled) => peeled,
                Err(error) => {
                    self.report_failure(source, message, None);
                    return self.dropped(source, error.to_string());
                }
            };
            let forward = match peeled {
                Peeled::Receive(received) => return self.receive(source, &received),
                Peeled::Forward(forward) => forward,
            };
            match forward.next_hop {
                NextHop::NodeId(next) if next == self.node_id => message = forward.message,
                NextHop::NodeId(next) => return self.forward(source, message, &next, forward),
                NextHop::ShortChannelId(scid) => {
                    // A channel-less node knows no short channel ids (CLN looks them up in its
                    // channels and aliases).
                    self.report_failure(source, message, Some(forward));
                    return self.dropped(source, format!("onion msg: unknown next scid {scid}"));
                }
            }
        }
        self.dropped(
            source,
            format!("onion msg: routed through us more than {MAX_LOCAL_PEELS} times"),
        )
    }

    /// Sends `forward` (peeled from `incoming`) to the peer `next`.
    fn forward(
        &self,
        source: Option<&PublicKey>,
        incoming: OnionMessage,
        next: &PublicKey,
        forward: Forward,
    ) -> Outcome {
        match self
            .manager
            .send_onion_message(next, &forward.message.to_bytes())
        {
            Ok(()) => {
                tracing::debug!(node_id = %next, subsystem = "connectd", "onion msg: forwarded");
                Ok(())
            }
            Err(error) => {
                // A refusal by a connected peer (no bit 38/39, busy) is reported too, though
                // CLN would have sent: a plugin told of it can inject the message again later.
                self.report_failure(source, incoming, Some(forward));
                let why = match error {
                    peer_manager::SendOnionError::NotConnected => {
                        format!("onion msg: unknown next peer {next}")
                    }
                    refused => format!("onion msg: next peer {next}: {refused}"),
                };
                self.dropped(source, why)
            }
        }
    }

    /// Hands a peer's message that went nowhere to the `onionmessage_forward_fail` queue
    /// (not an injected one: its caller already has the error, as in CLN).
    fn report_failure(
        &self,
        source: Option<&PublicKey>,
        incoming: OnionMessage,
        outgoing: Option<Forward>,
    ) {
        let Some(source) = source else {
            return;
        };
        let failure = ForwardFailure {
            source: *source,
            incoming,
            outgoing,
        };
        if self.forward_failures.try_send(failure).is_err() {
            tracing::debug!(node_id = %source, subsystem = "connectd", "onion msg: the forward-failure queue is full");
        }
    }

    fn receive(&self, source: Option<&PublicKey>, received: &Received) -> Outcome {
        // Room first: a message the hooks have no room for is dropped before its JSON is built.
        let Ok(room) = self.received.try_reserve() else {
            return self.dropped(source, "onion msg: the hooks' queue is full".to_owned());
        };
        // Only a path_id we made means "over our path"; any other is treated as unsolicited.
        let pathsecret = received
            .path_secret()
            .filter(|secret| self.paths.is_ours(secret));
        let params = hook_params(&received.payload, pathsecret.as_ref().map(|s| &s[..]));
        tracing::debug!(
            subsystem = "lightningd",
            "Got onionmsg{}{}",
            if pathsecret.is_some() {
                " with pathsecret"
            } else {
                ""
            },
            if received.payload.reply_path.is_some() {
                " reply_path"
            } else {
                ""
            },
        );
        room.send(ReceivedOnionMessage { pathsecret, params });
        Ok(())
    }

    /// Logs why a message went nowhere, and returns it as the outcome.
    fn dropped(&self, source: Option<&PublicKey>, why: String) -> Outcome {
        match source {
            Some(peer) => tracing::debug!(node_id = %peer, subsystem = "connectd", "{why}"),
            None => tracing::debug!(subsystem = "connectd", "injected {why}"),
        }
        Err(why)
    }
}

/// The peer manager's onion message handler: runs on the reader of the peer that sent the
/// message (after its rate limit), so peeling costs that peer's task only.
pub(crate) struct PeerOnionHandler(pub(crate) Arc<Relay>);

/// CLN's warning for a 513 that does not decode.
const BAD_ONION_MESSAGE: &str = "Bad onion_message";

impl OnionMessageHandler for PeerOnionHandler {
    fn handle(&self, from: &PublicKey, message: &[u8]) -> Option<String> {
        match OnionMessage::decode(message) {
            Ok(message) => {
                let _ = self.0.handle(Some(from), message);
                None
            }
            Err(error) => {
                tracing::debug!(node_id = %from, subsystem = "connectd", "Bad onion_message: {error}");
                Some(BAD_ONION_MESSAGE.to_owned())
            }
        }
    }
}
