//! Where typed failures become Core Lightning's codes and texts. Commands and the node report
//! what went wrong as data ([`NodeError`], peer-manager's errors); each kind is worded here,
//! once, so a text users and tools match on is written in one place and tested verbatim.
//!
//! Refusals of a command's own parameters (`Can't specify port without host`, ...) are not
//! here: they belong to that command's file, beside the parsing that finds them.

use noise_transport::PublicKey;
use peer_manager::{ConnectError, NotWritten, PeerError, PingError, SendCustomError, SendError};
use subdaemon_state::SendRefused;

use crate::shapes::hex_id;
use jsonrpc::error::{code, RpcError};

/// Why the node could not do what a command asked: what [`crate::NodeControl`]'s methods
/// return. The node says what happened; [`RpcError::from`] says it to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeError {
    /// The store failed; the text is the store's own error.
    Store(String),
    /// The peer is not connected, so no channel can be opened with it.
    PeerNotConnected(PublicKey),
    /// The peer is unknown, or the lifecycle step is impossible in its channel's state.
    Lifecycle(PeerError),
    /// Something no command input explains (a store row this version cannot read, a step the
    /// node does not take this way); the text says what.
    Internal(String),
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeError::Store(error) | NodeError::Internal(error) => f.write_str(error),
            NodeError::PeerNotConnected(peer) => {
                write!(f, "Peer is not connected: {}", hex_id(peer))
            }
            NodeError::Lifecycle(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for NodeError {}

impl From<NodeError> for RpcError {
    /// Every node failure is lightningd's generic -1, with the text above.
    fn from(error: NodeError) -> Self {
        RpcError::lightningd(error.to_string())
    }
}

/// A storage failure reported through a store trait (runes, the inbox, stored sends), with
/// the store's own words. The crates that define those traits never see SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFailure(pub String);

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreFailure {}

/// `sendcustommsg`'s refusals once the message itself is fine: about the peer `peer` (CLN's
/// `json_sendcustommsg` texts), or our own queue to it.
pub fn send_custom_error(peer: &PublicKey, error: SendCustomError) -> RpcError {
    match error {
        SendCustomError::NoSuchPeer => {
            RpcError::invalid_request(format!("No such peer: {}", hex_id(peer)))
        }
        SendCustomError::Refused(SendRefused::OwnedBy(owner)) => {
            RpcError::invalid_request(format!(
                "Peer is currently owned by {owner} which does not support injecting custom \
                 messages."
            ))
        }
        SendCustomError::Queue(SendError::QueueFull { queued, len, limit }) => {
            RpcError::lightningd(format!(
                "Peer's outgoing queue is full ({queued} of {limit} bytes queued, message of \
                 {len} bytes): message not sent, try again later"
            ))
        }
        // Not connected, or the connection is closing under us.
        _ => RpcError::invalid_request(format!("Peer is not connected: {}", hex_id(peer))),
    }
}

/// `sendcustommsg` with `delivery` `written`: the connection closed before the message was
/// written, so it was not sent.
pub fn not_written(peer: &PublicKey, why: &NotWritten) -> RpcError {
    RpcError::lightningd(format!(
        "Peer {} disconnected before the message was written: {why}",
        hex_id(peer)
    ))
}

/// `sendcustommsg` with `delivery` `written`: no write within `timeout`. The message stays
/// queued: it may still be written, and nothing takes it back.
pub fn write_timed_out(peer: &PublicKey, timeout: std::time::Duration) -> RpcError {
    RpcError::new(
        code::WAIT_TIMEOUT,
        format!(
            "Timed out after {} seconds: the message to {} is queued but not yet written; it \
             may still be written",
            timeout.as_secs(),
            hex_id(peer)
        ),
    )
}

/// `connect` with no host given, to a peer whose address we never learnt.
pub fn connect_no_known_address() -> RpcError {
    RpcError::new(
        code::CONNECT_NO_KNOWN_ADDRESS,
        "Unable to connect, no address known for peer",
    )
}

/// `connect`'s failure to reach `host:port`, with CLN's codes.
pub fn connect_error(host: &str, port: u16, error: ConnectError) -> RpcError {
    match error {
        ConnectError::ClosedDuringInit => RpcError::new(
            code::CONNECT_DISCONNECTED_DURING,
            "disconnected during connection",
        ),
        error => RpcError::new(
            code::CONNECT_ALL_ADDRESSES_FAILED,
            format!("All addresses failed: {host}:{port}: {error}. "),
        ),
    }
}

/// Why `ping` got no pong.
pub fn ping_error(error: PingError) -> RpcError {
    match error {
        PingError::NotConnected => RpcError::lightningd("Peer not connected"),
        PingError::AlreadyPending => RpcError::lightningd("Ping already pending"),
        PingError::Disconnected => {
            RpcError::lightningd("Peer disconnected before answering the ping")
        }
        error => RpcError::lightningd(format!("Ping not sent: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use subdaemon_state::{InvalidTransition, Owner};

    fn peer() -> PublicKey {
        crate::params::parse_node_id(
            "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
        )
        .unwrap()
    }

    fn pair(error: RpcError) -> (i32, String) {
        (error.code, error.message)
    }

    #[test]
    fn node_errors_are_lightningd_failures_in_clns_words() {
        let id = hex_id(&peer());
        assert_eq!(
            pair(NodeError::PeerNotConnected(peer()).into()),
            (-1, format!("Peer is not connected: {id}"))
        );
        assert_eq!(
            pair(NodeError::Store("disk I/O error".into()).into()),
            (-1, "disk I/O error".into())
        );
        assert_eq!(
            pair(NodeError::Lifecycle(PeerError::Invalid(InvalidTransition::NotConnected)).into()),
            (-1, "peer is not connected".into())
        );
        assert_eq!(
            pair(NodeError::Lifecycle(PeerError::NoSuchPeer).into()),
            (-1, "no such peer".into())
        );
    }

    #[test]
    fn send_custom_refusals() {
        let id = hex_id(&peer());
        assert_eq!(
            pair(send_custom_error(&peer(), SendCustomError::NoSuchPeer)),
            (-32600, format!("No such peer: {id}"))
        );
        assert_eq!(
            pair(send_custom_error(
                &peer(),
                SendCustomError::Refused(SendRefused::NotConnected)
            )),
            (-32600, format!("Peer is not connected: {id}"))
        );
        assert_eq!(
            pair(send_custom_error(
                &peer(),
                SendCustomError::Refused(SendRefused::OwnedBy(Owner::Onchaind))
            )),
            (
                -32600,
                "Peer is currently owned by onchaind which does not support injecting custom \
                 messages."
                    .into()
            )
        );
        assert_eq!(
            pair(send_custom_error(
                &peer(),
                SendCustomError::Queue(SendError::QueueFull {
                    queued: 10,
                    len: 5,
                    limit: 12
                })
            )),
            (
                -1,
                "Peer's outgoing queue is full (10 of 12 bytes queued, message of 5 bytes): \
                 message not sent, try again later"
                    .into()
            )
        );
    }

    #[test]
    fn connect_and_ping_failures() {
        assert_eq!(
            pair(connect_no_known_address()),
            (400, "Unable to connect, no address known for peer".into())
        );
        assert_eq!(
            pair(connect_error("h", 1, ConnectError::ClosedDuringInit)),
            (402, "disconnected during connection".into())
        );
        assert_eq!(
            pair(connect_error("h", 1, ConnectError::Io("refused".into()))),
            (401, "All addresses failed: h:1: refused. ".into())
        );
        assert_eq!(
            pair(ping_error(PingError::NotConnected)),
            (-1, "Peer not connected".into())
        );
        assert_eq!(
            pair(ping_error(PingError::AlreadyPending)),
            (-1, "Ping already pending".into())
        );
        assert_eq!(
            pair(ping_error(PingError::Disconnected)),
            (-1, "Peer disconnected before answering the ping".into())
        );
    }
}
