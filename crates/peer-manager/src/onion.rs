//! Where received `onion_message`s (BOLT 4, type 513) go, and how the node sends them. The
//! manager knows nothing of onions: the peer's `Session` decides which messages are within its
//! rate (`peer-protocol`), the reader hands those to the one [`OnionMessageHandler`], and
//! [`crate::PeerManager::send_onion_message`] queues one for a peer that offered the feature,
//! unless that peer's queue is already over the onion budget (dropped, never waited for).

use noise_transport::PublicKey;
use wire::feature_bits::OPTION_ONION_MESSAGES;

use crate::io_log::log_io_as;
use crate::outbox::{Class, SendError};
use crate::registry::Registry;

/// Receives each `onion_message` (type and body, a slice of the read buffer) on the reader task
/// of the connection it came from, after that peer's rate limit.
///
/// `handle` must not block or wait: the peer is not read while it runs, so its cost falls on
/// the peer that sent the message and no other. A panic in it ends that peer's connection only.
pub trait OnionMessageHandler: Send + Sync {
    /// One `onion_message` from `from`. A returned text is sent to the peer as a `warning`
    /// (the connection stays), as CLN answers an undecodable message with `Bad onion_message`.
    fn handle(&self, from: &PublicKey, message: &[u8]) -> Option<String>;
}

/// Why an onion message was not queued for a peer. Never the peer's fault, and never fatal:
/// BOLT 4 has no error path for onion messages, so the caller drops the message and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOnionError {
    /// The peer is not connected.
    NotConnected,
    /// The peer did not offer `option_onion_messages` (bit 38/39) in its `init`.
    NotOffered,
    /// The peer already has this many bytes waiting to be written, at or over the onion budget.
    Busy {
        /// Bytes waiting for the peer's socket.
        queued: usize,
    },
    /// The connection's queue refused it (full, or closing).
    Queue(SendError),
}

impl std::fmt::Display for SendOnionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendOnionError::NotConnected => f.write_str("peer is not connected"),
            SendOnionError::NotOffered => f.write_str("peer does not offer onion messages"),
            SendOnionError::Busy { queued } => {
                write!(f, "peer has {queued} bytes waiting to be written")
            }
            SendOnionError::Queue(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for SendOnionError {}

/// Queues `message` for `to` if it is connected, offered onion messages, and has fewer than
/// `budget` bytes waiting.
pub(crate) fn send_onion_message(
    registry: &Registry,
    to: &PublicKey,
    message: &[u8],
    budget: usize,
) -> Result<(), SendOnionError> {
    registry
        .with_connection(to, |state, connection| {
            if !connection.info.features.offers(OPTION_ONION_MESSAGES) {
                return Err(SendOnionError::NotOffered);
            }
            let queued = connection.outbox.queued_bytes();
            if queued >= budget {
                return Err(SendOnionError::Busy { queued });
            }
            connection
                .outbox
                .send(message, Class::Custom)
                .map_err(SendOnionError::Queue)?;
            log_io_as(state, to, "OUT", message);
            Ok(())
        })
        .unwrap_or(Err(SendOnionError::NotConnected))
}
