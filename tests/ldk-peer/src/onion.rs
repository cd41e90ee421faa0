//! Custom onion messages (BOLT 4 type 513) through LDK's `OnionMessenger`: one TLV of a type
//! ≥ 64 carrying bytes.
//!
//! - Sending: along explicit intermediate hops to a node id, or to a blinded path (after
//!   optional hops to its introduction node), with or without a reply path. The onion is built
//!   with LDK's public `create_onion_message` and queued to the first hop, so no message router
//!   has to guess the path.
//! - Receiving: every custom message this node is the final hop of goes into a bounded inbox,
//!   read with [`LdkNode::next_onion_message`]; each says whether it carried a reply path and
//!   which context it came back with (set only on paths this node made, once LDK has
//!   authenticated it).
//! - Replying: along the reply path a message carried ([`LdkNode::reply_onion_message`]).
//! - Forwarding: done by the messenger itself, for peers that offered onion messages (bit 38/39).
//!
//! LDK reads a final hop's TLVs of types 64, 66, 68 (offers) and the async payment and DNS
//! types itself; every other type ≥ 64 reaches [`CustomOnionHandler`].

use std::sync::Arc;

use lightning::bitcoin::secp256k1::PublicKey;
use lightning::blinded_path::message::BlindedMessagePath;
use lightning::io;
use lightning::ln::msgs::DecodeError;
use lightning::log_warn;
use lightning::onion_message::messenger::{
    create_onion_message, CustomOnionMessageHandler, Destination, MessageSendInstructions,
    OnionMessagePath, Responder, ResponseInstruction, SendError, SendSuccess,
};
use lightning::onion_message::packet::OnionMessageContents;
use lightning::util::logger::Logger;
use lightning::util::ser::{Writeable, Writer};
use tokio::sync::mpsc;

use crate::log::NodeLogger;
use crate::node::LdkNode;

/// The most bytes a custom TLV read from an onion can hold: a whole onion message is a BOLT 1
/// message, at most 65535 bytes.
const MAX_CUSTOM_TLV_LEN: u64 = 65_535;

/// One custom onion message: its TLV type (≥ 64, which LDK checks on sending) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomOnionMessage {
    /// The TLV type in the final hop's `onionmsg_tlv`.
    pub tlv_type: u64,
    /// The TLV value.
    pub bytes: Vec<u8>,
}

impl CustomOnionMessage {
    /// A message of type `tlv_type` carrying `bytes`.
    pub fn new(tlv_type: u64, bytes: impl Into<Vec<u8>>) -> Self {
        CustomOnionMessage {
            tlv_type,
            bytes: bytes.into(),
        }
    }
}

impl Writeable for CustomOnionMessage {
    fn write<W: Writer>(&self, writer: &mut W) -> Result<(), io::Error> {
        // Only the value: LDK writes the type and length around it.
        writer.write_all(&self.bytes)
    }
}

impl OnionMessageContents for CustomOnionMessage {
    fn tlv_type(&self) -> u64 {
        self.tlv_type
    }

    fn msg_type(&self) -> &'static str {
        "ldk-peer custom"
    }
}

/// A custom onion message this node received as the final hop.
#[derive(Debug, Clone)]
pub struct ReceivedOnionMessage {
    /// The message.
    pub message: CustomOnionMessage,
    /// The context of the blinded path it arrived on, if this node made that path (with
    /// [`LdkNode::blinded_path_to_self`] or a [`ReplyPath::Through`]) and LDK authenticated it.
    pub context: Option<Vec<u8>>,
    /// Whether it carried a `reply_path`.
    pub has_reply_path: bool,
    responder: Option<Responder>,
}

/// Where a message goes.
#[derive(Debug, Clone)]
pub enum OnionDestination {
    /// A node, by its id: the sender blinds the last hop itself (LDK's `ReceiveTlvs` with no
    /// context, so no `path_id`).
    Node(PublicKey),
    /// A blinded path, e.g. one an lnpeer node made (see [`crate::decode_blinded_path`]).
    BlindedPath(BlindedMessagePath),
}

/// The reply path a sent message carries.
#[derive(Debug, Clone)]
pub enum ReplyPath {
    /// None: the recipient cannot answer.
    None,
    /// A blinded path to this node made now, through `intermediate` (in order from the
    /// introduction node; empty makes this node the introduction node). The reply comes back
    /// with `context`.
    Through {
        /// The hops before this node.
        intermediate: Vec<PublicKey>,
        /// What [`ReceivedOnionMessage::context`] will hold on the reply.
        context: Vec<u8>,
    },
    /// This path, as given.
    Given(BlindedMessagePath),
}

/// Why a message was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnionSendError {
    /// LDK would not build or queue it (type < 64, too big, bad path, ...).
    Ldk(SendError),
    /// The first hop is not a connected peer that offered onion messages. For replies LDK
    /// keeps the message for two timer ticks in case that peer connects.
    FirstHopNotConnected(PublicKey),
    /// [`LdkNode::reply_onion_message`] on a message without a reply path.
    NoReplyPath,
}

impl std::fmt::Display for OnionSendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnionSendError::Ldk(error) => write!(f, "LDK refused the onion message: {error:?}"),
            OnionSendError::FirstHopNotConnected(peer) => {
                write!(f, "first hop {peer} is not a connected onion-message peer")
            }
            OnionSendError::NoReplyPath => write!(f, "the message carried no reply path"),
        }
    }
}

impl std::error::Error for OnionSendError {}

/// The messenger's custom handler: reads any type it is offered, and puts each message into the
/// node's inbox. It never answers by itself; tests answer with
/// [`LdkNode::reply_onion_message`].
pub(crate) struct CustomOnionHandler {
    inbox: mpsc::Sender<ReceivedOnionMessage>,
    logger: Arc<NodeLogger>,
}

impl CustomOnionHandler {
    /// A handler and the inbox it fills, holding at most `capacity` unread messages (more are
    /// dropped, with a warning).
    pub(crate) fn new(
        capacity: usize,
        logger: Arc<NodeLogger>,
    ) -> (Self, mpsc::Receiver<ReceivedOnionMessage>) {
        let (inbox, receiver) = mpsc::channel(capacity.max(1));
        (CustomOnionHandler { inbox, logger }, receiver)
    }
}

impl CustomOnionMessageHandler for CustomOnionHandler {
    type CustomMessage = CustomOnionMessage;

    fn handle_custom_message(
        &self,
        message: CustomOnionMessage,
        context: Option<Vec<u8>>,
        responder: Option<Responder>,
    ) -> Option<(CustomOnionMessage, ResponseInstruction)> {
        let tlv_type = message.tlv_type;
        let received = ReceivedOnionMessage {
            message,
            context,
            has_reply_path: responder.is_some(),
            responder,
        };
        if self.inbox.try_send(received).is_err() {
            log_warn!(
                self.logger,
                "Dropping custom onion message of type {tlv_type}: inbox full or closed"
            );
        }
        None
    }

    fn read_custom_message<R: io::Read>(
        &self,
        message_type: u64,
        buffer: &mut R,
    ) -> Result<Option<CustomOnionMessage>, DecodeError> {
        let mut bytes = Vec::new();
        buffer
            .read_to_limit(&mut bytes, MAX_CUSTOM_TLV_LEN)
            .map_err(|_| DecodeError::ShortRead)?;
        Ok(Some(CustomOnionMessage {
            tlv_type: message_type,
            bytes,
        }))
    }

    fn release_pending_custom_messages(
        &self,
    ) -> Vec<(CustomOnionMessage, MessageSendInstructions)> {
        // Sends go straight to the messenger (`LdkNode::send_onion_message`).
        Vec::new()
    }
}

impl LdkNode {
    /// Sends `message` to `destination` through `intermediate` (node ids in order; empty sends
    /// straight to the node, or to the blinded path's introduction node), with `reply` as its
    /// reply path. The first hop must be a connected peer that offered onion messages.
    pub fn send_onion_message(
        &self,
        message: CustomOnionMessage,
        intermediate: &[PublicKey],
        destination: OnionDestination,
        reply: ReplyPath,
    ) -> Result<(), OnionSendError> {
        let reply_path = match reply {
            ReplyPath::None => None,
            ReplyPath::Through {
                intermediate,
                context,
            } => Some(self.blinded_path_to_self(&intermediate, context)),
            ReplyPath::Given(path) => Some(path),
        };
        let destination = match destination {
            OnionDestination::Node(node_id) => Destination::Node(node_id),
            OnionDestination::BlindedPath(path) => Destination::BlindedPath(path),
        };
        let path = OnionMessagePath {
            intermediate_nodes: intermediate.to_vec(),
            destination,
            first_node_addresses: Vec::new(),
        };
        let (first_hop, onion, _addresses) = create_onion_message(
            &self.keys,
            &self.keys,
            &self.channel_manager,
            &self.secp,
            path,
            message,
            reply_path,
        )
        .map_err(OnionSendError::Ldk)?;
        self.messenger
            .forward_onion_message(onion, &first_hop)
            .map_err(|error| match error {
                SendError::InvalidFirstHop(peer) => OnionSendError::FirstHopNotConnected(peer),
                other => OnionSendError::Ldk(other),
            })?;
        // The messenger only queues; write it out now.
        self.peer_manager.process_events();
        Ok(())
    }

    /// The next custom onion message this node received (waiting for one if there is none);
    /// `None` once the node is shutting down.
    pub async fn next_onion_message(&self) -> Option<ReceivedOnionMessage> {
        self.onion_inbox.lock().await.recv().await
    }

    /// A received message, if one is waiting (does not wait). `None` too while another call
    /// is waiting in [`LdkNode::next_onion_message`].
    pub fn try_next_onion_message(&self) -> Option<ReceivedOnionMessage> {
        self.onion_inbox.try_lock().ok()?.try_recv().ok()
    }

    /// Answers `received` with `message`, along the reply path it carried.
    pub fn reply_onion_message(
        &self,
        received: &ReceivedOnionMessage,
        message: CustomOnionMessage,
    ) -> Result<(), OnionSendError> {
        let responder = received
            .responder
            .clone()
            .ok_or(OnionSendError::NoReplyPath)?;
        let queued = self
            .messenger
            .handle_onion_message_response(message, responder.respond())
            .map_err(OnionSendError::Ldk)?;
        self.peer_manager.process_events();
        match queued {
            SendSuccess::Buffered => Ok(()),
            SendSuccess::BufferedAwaitingConnection(peer) => {
                Err(OnionSendError::FirstHopNotConnected(peer))
            }
        }
    }
}
