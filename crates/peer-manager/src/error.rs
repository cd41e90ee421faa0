//! Errors: connecting (the peer's or the network's fault) and sending (the caller's view).

use std::time::Duration;

use noise_transport::{DecryptError, HandshakeError};
use subdaemon_state::{InvalidTransition, SendRefused};

use peer_protocol::{InitFailure, InitRejection};

use crate::outbox::SendError;

/// Why a connection could not be established.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The host name did not resolve.
    Resolve(String),
    /// TCP connect, read or write failed.
    Io(String),
    /// The deadline for TCP, handshake and `init` passed.
    Timeout(Duration),
    /// The BOLT 8 handshake failed (for example, the node id was wrong).
    Handshake(HandshakeError),
    /// The stream could not be decrypted during `init`.
    Decrypt(DecryptError),
    /// The peer's first message was neither `init` nor an ignorable odd type.
    FirstMessageNotInit(u16),
    /// The peer's `init` did not parse.
    BadInit(String),
    /// The peer's `init` broke a rule; we sent a warning and closed.
    InitRejected(InitRejection),
    /// The peer closed the connection before its `init`.
    ClosedDuringInit,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Resolve(error) => write!(f, "could not resolve: {error}"),
            ConnectError::Io(error) => write!(f, "{error}"),
            ConnectError::Timeout(after) => write!(f, "timed out after {after:?}"),
            ConnectError::Handshake(error) => write!(f, "handshake failed: {error}"),
            ConnectError::Decrypt(error) => write!(f, "decryption failed: {error}"),
            ConnectError::FirstMessageNotInit(ty) => {
                write!(f, "first message was type {ty}, not init")
            }
            ConnectError::BadInit(error) => write!(f, "bad init: {error}"),
            ConnectError::InitRejected(rejection) => write!(f, "init rejected: {rejection}"),
            ConnectError::ClosedDuringInit => f.write_str("peer closed the connection before init"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<HandshakeError> for ConnectError {
    fn from(error: HandshakeError) -> Self {
        ConnectError::Handshake(error)
    }
}

/// How a refused `init` phase reads to callers.
impl From<InitFailure> for ConnectError {
    fn from(failure: InitFailure) -> Self {
        match failure {
            InitFailure::TooShort => ConnectError::BadInit("message shorter than a type".into()),
            InitFailure::FirstMessageNotInit(ty) => ConnectError::FirstMessageNotInit(ty),
            InitFailure::Malformed(error) => ConnectError::BadInit(error),
            InitFailure::Rejected(rejection) => ConnectError::InitRejected(rejection),
        }
    }
}

impl From<DecryptError> for ConnectError {
    fn from(error: DecryptError) -> Self {
        ConnectError::Decrypt(error)
    }
}

/// Why a custom message was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendCustomError {
    /// No such peer is known.
    NoSuchPeer,
    /// The peer's state refuses custom traffic (not connected, or owned by closingd/onchaind).
    Refused(SendRefused),
    /// The connection's queue refused it.
    Queue(SendError),
}

impl std::fmt::Display for SendCustomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendCustomError::NoSuchPeer => f.write_str("no such peer"),
            SendCustomError::Refused(refused) => write!(f, "{refused}"),
            SendCustomError::Queue(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for SendCustomError {}

/// Why a `ping` got no `pong`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PingError {
    /// The peer is unknown or not connected.
    NotConnected,
    /// Another ping to this peer is still waiting for its pong.
    AlreadyPending,
    /// The connection's control queue is full.
    Queue(SendError),
    /// The connection closed before the pong arrived.
    Disconnected,
}

impl std::fmt::Display for PingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PingError::NotConnected => f.write_str("peer not connected"),
            PingError::AlreadyPending => f.write_str("ping already pending"),
            PingError::Queue(error) => write!(f, "{error}"),
            PingError::Disconnected => f.write_str("disconnected before the pong arrived"),
        }
    }
}

impl std::error::Error for PingError {}

/// Why a lifecycle event could not be applied to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// No such peer is known.
    NoSuchPeer,
    /// The peer's state does not allow it.
    Invalid(InvalidTransition),
}

impl std::fmt::Display for PeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerError::NoSuchPeer => f.write_str("no such peer"),
            PeerError::Invalid(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for PeerError {}
