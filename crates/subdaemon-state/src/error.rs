//! This crate's errors, as data. Text for users (CLN's exact wording) is the RPC layer's job.
//!
//! [`InvalidTransition`] and [`ParseChannelStateError`] are the caller's fault (a `dev-` command
//! that does not fit the channel's state, a corrupt store); [`SendRefused`] is an expected answer
//! to `sendcustommsg`.

use std::fmt;

use crate::{ChannelDbId, ChannelState, Owner};

/// Why [`PeerState::handle`](crate::PeerState::handle) rejected an input. The state is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidTransition {
    /// `Connected` for a peer that is already connected.
    AlreadyConnected,
    /// `Disconnected` for a peer that is not connected, or `ChannelOpened` while disconnected.
    NotConnected,
    /// `ChannelOpened` with a dbid this peer already has.
    DuplicateChannel(ChannelDbId),
    /// A channel input for a dbid this peer does not have.
    UnknownChannel(ChannelDbId),
    /// A channel input that does not apply to the channel's current state.
    WrongState {
        /// The channel.
        dbid: ChannelDbId,
        /// Its current (unchanged) state.
        state: ChannelState,
        /// The rejected input's [`name`](crate::PeerInput::name).
        input: &'static str,
    },
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyConnected => f.write_str("peer is already connected"),
            Self::NotConnected => f.write_str("peer is not connected"),
            Self::DuplicateChannel(dbid) => write!(f, "channel chan#{dbid} already exists"),
            Self::UnknownChannel(dbid) => write!(f, "unknown channel chan#{dbid}"),
            Self::WrongState { dbid, state, input } => {
                write!(f, "cannot apply {input} to chan#{dbid} in state {state}")
            }
        }
    }
}

impl std::error::Error for InvalidTransition {}

/// Why `sendcustommsg` may not inject a message into this peer's owner (CLN v0.10's checks 4 and
/// 5, in that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendRefused {
    /// The peer is not connected.
    NotConnected,
    /// The peer's owner does not talk to the peer ([`Owner::talks_to_peer`] is false).
    OwnedBy(Owner),
}

impl fmt::Display for SendRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConnected => f.write_str("peer is not connected"),
            Self::OwnedBy(owner) => {
                write!(
                    f,
                    "peer is owned by {owner}, which cannot inject custom messages"
                )
            }
        }
    }
}

impl std::error::Error for SendRefused {}

/// Text that is not a [`ChannelState::name`], from [`ChannelState`]'s `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseChannelStateError {
    text: String,
}

impl ParseChannelStateError {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
        }
    }
}

impl fmt::Display for ParseChannelStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown channel state {:?}", self.text)
    }
}

impl std::error::Error for ParseChannelStateError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display_lower_case() {
        let cases: [(&dyn std::error::Error, &str); 7] = [
            (
                &InvalidTransition::AlreadyConnected,
                "peer is already connected",
            ),
            (&InvalidTransition::NotConnected, "peer is not connected"),
            (
                &InvalidTransition::DuplicateChannel(4),
                "channel chan#4 already exists",
            ),
            (
                &InvalidTransition::UnknownChannel(4),
                "unknown channel chan#4",
            ),
            (
                &InvalidTransition::WrongState {
                    dbid: 4,
                    state: ChannelState::Onchain,
                    input: "shutdown_started",
                },
                "cannot apply shutdown_started to chan#4 in state ONCHAIN",
            ),
            (&SendRefused::NotConnected, "peer is not connected"),
            (
                &SendRefused::OwnedBy(Owner::Closingd),
                "peer is owned by closingd, which cannot inject custom messages",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
