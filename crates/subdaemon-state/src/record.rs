//! A channel as the node remembers it: what the store keeps and the control plane shows.

use crate::channel::{ChannelDbId, ChannelState};

/// Who opened a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opener {
    /// We did.
    Local,
    /// The peer did.
    Remote,
}

impl Opener {
    /// `local` or `remote`, as listpeerchannels (and the store) spell it.
    pub fn name(self) -> &'static str {
        match self {
            Opener::Local => "local",
            Opener::Remote => "remote",
        }
    }

    /// The opener called `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Opener> {
        match name {
            "local" => Some(Opener::Local),
            "remote" => Some(Opener::Remote),
            _ => None,
        }
    }
}

/// One channel with one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// The peer's compressed public key.
    pub peer_id: [u8; 33],
    /// Our local id for the channel, as in CLN's `chan#<dbid>` log prefixes.
    pub dbid: ChannelDbId,
    /// The BOLT 2 channel id.
    pub channel_id: [u8; 32],
    /// Its lifecycle state.
    pub state: ChannelState,
    /// Who opened it.
    pub opener: Opener,
    /// Unix seconds when it was recorded, if known.
    pub created_at: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opener_names_round_trip() {
        for opener in [Opener::Local, Opener::Remote] {
            assert_eq!(Opener::from_name(opener.name()), Some(opener));
        }
        assert_eq!(Opener::from_name("both"), None);
    }
}
