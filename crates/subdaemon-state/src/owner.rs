//! The subdaemons that can own a peer.

use std::fmt;

/// The subdaemon that owns a peer. Displays as its [`name`](Self::name).
///
/// [`Ord`] is the lifecycle order (opening, channel, closing, on chain), which is also the
/// precedence when a peer's channels have different owners: the earliest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// Negotiates a new channel; owns a connected peer that has no channel.
    Openingd,
    /// Runs a channel in `CHANNELD_NORMAL` or `CHANNELD_SHUTTING_DOWN`.
    Channeld,
    /// Negotiates a mutual close (`CLOSINGD_SIGEXCHANGE`, `CLOSINGD_COMPLETE`).
    Closingd,
    /// Watches a spent funding output (`FUNDING_SPEND_SEEN`, `ONCHAIN`).
    Onchaind,
}

impl Owner {
    /// The subdaemon's program name, as CLN prints it: `"openingd"`, `"channeld"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::Openingd => "openingd",
            Self::Channeld => "channeld",
            Self::Closingd => "closingd",
            Self::Onchaind => "onchaind",
        }
    }

    /// Whether this subdaemon exchanges messages with the peer, so it can inject custom messages
    /// (CLN v0.10's allow-list: only `openingd` and `channeld`).
    pub fn talks_to_peer(self) -> bool {
        matches!(self, Self::Openingd | Self::Channeld)
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
