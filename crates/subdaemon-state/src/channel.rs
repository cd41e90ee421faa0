//! The channel states we model and their owners.

use std::{fmt, str::FromStr};

use crate::{Owner, ParseChannelStateError};

/// A channel's database id (CLN's `dbid`, shown in log prefixes as `chan#<dbid>`). The store
/// assigns it; this crate only requires it to be unique per peer.
pub type ChannelDbId = u64;

/// The CLN channel states we model. The order of the variants (and so [`Ord`]) is the lifecycle
/// order: a channel's state never moves backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChannelState {
    /// `CHANNELD_NORMAL`: open and usable.
    ChanneldNormal,
    /// `CHANNELD_SHUTTING_DOWN`: `shutdown` sent or received, HTLCs draining.
    ChanneldShuttingDown,
    /// `CLOSINGD_SIGEXCHANGE`: negotiating the closing fee.
    ClosingdSigexchange,
    /// `CLOSINGD_COMPLETE`: closing transaction agreed and broadcast.
    ClosingdComplete,
    /// `FUNDING_SPEND_SEEN`: the funding output was spent on chain.
    FundingSpendSeen,
    /// `ONCHAIN`: the spend is confirmed; onchaind resolves the outputs.
    Onchain,
}

impl ChannelState {
    /// Every state, in lifecycle order.
    pub const ALL: [ChannelState; 6] = [
        ChannelState::ChanneldNormal,
        ChannelState::ChanneldShuttingDown,
        ChannelState::ClosingdSigexchange,
        ChannelState::ClosingdComplete,
        ChannelState::FundingSpendSeen,
        ChannelState::Onchain,
    ];

    /// CLN's name for the state, e.g. `"CHANNELD_NORMAL"`; [`FromStr`] parses it back.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChanneldNormal => "CHANNELD_NORMAL",
            Self::ChanneldShuttingDown => "CHANNELD_SHUTTING_DOWN",
            Self::ClosingdSigexchange => "CLOSINGD_SIGEXCHANGE",
            Self::ClosingdComplete => "CLOSINGD_COMPLETE",
            Self::FundingSpendSeen => "FUNDING_SPEND_SEEN",
            Self::Onchain => "ONCHAIN",
        }
    }

    /// The subdaemon that owns a channel in this state: `CHANNELD_*` → channeld, `CLOSINGD_*` →
    /// closingd, `FUNDING_SPEND_SEEN` and `ONCHAIN` → onchaind.
    pub fn owner(self) -> Owner {
        match self {
            Self::ChanneldNormal | Self::ChanneldShuttingDown => Owner::Channeld,
            Self::ClosingdSigexchange | Self::ClosingdComplete => Owner::Closingd,
            Self::FundingSpendSeen | Self::Onchain => Owner::Onchaind,
        }
    }

    /// Whether `getinfo` counts the channel as active: until a close is agreed or the funding
    /// is spent (CLN's `channel_active`).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::ChanneldNormal | Self::ChanneldShuttingDown | Self::ClosingdSigexchange
        )
    }
}

impl fmt::Display for ChannelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ChannelState {
    type Err = ParseChannelStateError;

    /// Parses exactly a [`name`](ChannelState::name) (case-sensitive, as the store writes it).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "CHANNELD_NORMAL" => Self::ChanneldNormal,
            "CHANNELD_SHUTTING_DOWN" => Self::ChanneldShuttingDown,
            "CLOSINGD_SIGEXCHANGE" => Self::ClosingdSigexchange,
            "CLOSINGD_COMPLETE" => Self::ClosingdComplete,
            "FUNDING_SPEND_SEEN" => Self::FundingSpendSeen,
            "ONCHAIN" => Self::Onchain,
            _ => return Err(ParseChannelStateError::new(s)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_until_the_close_is_agreed() {
        let active: Vec<_> = ChannelState::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect();
        assert_eq!(
            active,
            [
                ChannelState::ChanneldNormal,
                ChannelState::ChanneldShuttingDown,
                ChannelState::ClosingdSigexchange
            ]
        );
    }

    #[test]
    fn names_round_trip() {
        for state in ChannelState::ALL {
            assert_eq!(state.name().parse::<ChannelState>(), Ok(state));
            assert_eq!(state.to_string(), state.name());
        }
    }

    #[test]
    fn unknown_names_are_typed_errors() {
        for text in [
            "",
            "channeld_normal",
            "CHANNELD_NORMAL ",
            "AWAITING_UNILATERAL",
        ] {
            let err = text.parse::<ChannelState>().unwrap_err();
            assert_eq!(err.to_string(), format!("unknown channel state {text:?}"));
        }
    }

    #[test]
    fn owners_follow_the_state_prefix() {
        for state in ChannelState::ALL {
            let prefix = state.name().split('_').next().unwrap();
            let expected = match prefix {
                "CHANNELD" => Owner::Channeld,
                "CLOSINGD" => Owner::Closingd,
                _ => Owner::Onchaind,
            };
            assert_eq!(state.owner(), expected, "{state}");
        }
    }
}
