//! One peer's state: its connection and its channels, and the transitions between them.

use std::collections::{btree_map::Entry, BTreeMap};

use crate::{ChannelDbId, ChannelState, InvalidTransition, Owner, SendRefused};

/// Something that happened to a peer: a connection event or a `dev-` command on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerInput {
    /// The transport finished the handshake and `init` exchange.
    Connected,
    /// The connection closed. Channels are kept.
    Disconnected,
    /// A new channel, in `CHANNELD_NORMAL`. Only while connected; the dbid must be new.
    ChannelOpened(ChannelDbId),
    /// `CHANNELD_NORMAL` → `CHANNELD_SHUTTING_DOWN`.
    ShutdownStarted(ChannelDbId),
    /// `CHANNELD_NORMAL` or `CHANNELD_SHUTTING_DOWN` → `CLOSINGD_SIGEXCHANGE`.
    ClosingStarted(ChannelDbId),
    /// `CLOSINGD_SIGEXCHANGE` → `CLOSINGD_COMPLETE`.
    ClosingComplete(ChannelDbId),
    /// Any `CHANNELD_*` or `CLOSINGD_*` state → `FUNDING_SPEND_SEEN`.
    FundingSpent(ChannelDbId),
    /// `FUNDING_SPEND_SEEN` → `ONCHAIN`.
    SpendConfirmed(ChannelDbId),
    /// Removes the channel, whatever its state (CLN's `dev-forget-channel`).
    ChannelForgotten(ChannelDbId),
}

impl PeerInput {
    /// The channel the input is about, if any.
    pub fn channel(self) -> Option<ChannelDbId> {
        match self {
            Self::Connected | Self::Disconnected => None,
            Self::ChannelOpened(dbid)
            | Self::ShutdownStarted(dbid)
            | Self::ClosingStarted(dbid)
            | Self::ClosingComplete(dbid)
            | Self::FundingSpent(dbid)
            | Self::SpendConfirmed(dbid)
            | Self::ChannelForgotten(dbid) => Some(dbid),
        }
    }

    /// The input's snake-case name, e.g. `"shutdown_started"`, as [`InvalidTransition`] reports it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
            Self::ChannelOpened(_) => "channel_opened",
            Self::ShutdownStarted(_) => "shutdown_started",
            Self::ClosingStarted(_) => "closing_started",
            Self::ClosingComplete(_) => "closing_complete",
            Self::FundingSpent(_) => "funding_spent",
            Self::SpendConfirmed(_) => "spend_confirmed",
            Self::ChannelForgotten(_) => "channel_forgotten",
        }
    }
}

/// What an accepted input did to the peer's ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// [`PeerState::owner`] before the input.
    pub owner_before: Option<Owner>,
    /// [`PeerState::owner`] after the input.
    pub owner_after: Option<Owner>,
    /// [`PeerState::is_forgettable`] after the input: the caller should drop the peer.
    pub forget: bool,
}

/// One peer's connection flag and channels. See the crate docs for the transition table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerState {
    connected: bool,
    channels: BTreeMap<ChannelDbId, ChannelState>,
}

impl PeerState {
    /// A peer we just met: disconnected, no channels.
    pub fn new() -> Self {
        Self::default()
    }

    /// A peer loaded from the store at startup: disconnected, with these channels. If a dbid
    /// repeats, its last state wins.
    pub fn restore(channels: impl IntoIterator<Item = (ChannelDbId, ChannelState)>) -> Self {
        Self {
            connected: false,
            channels: channels.into_iter().collect(),
        }
    }

    /// Applies `input`. On `Err` the state is unchanged.
    pub fn handle(&mut self, input: PeerInput) -> Result<Transition, InvalidTransition> {
        let owner_before = self.owner();
        self.apply(input)?;
        Ok(Transition {
            owner_before,
            owner_after: self.owner(),
            forget: self.is_forgettable(),
        })
    }

    fn apply(&mut self, input: PeerInput) -> Result<(), InvalidTransition> {
        use ChannelState::*;
        match input {
            PeerInput::Connected if self.connected => Err(InvalidTransition::AlreadyConnected),
            PeerInput::Disconnected if !self.connected => Err(InvalidTransition::NotConnected),
            PeerInput::Connected | PeerInput::Disconnected => {
                self.connected = !self.connected;
                Ok(())
            }
            PeerInput::ChannelOpened(_) if !self.connected => Err(InvalidTransition::NotConnected),
            PeerInput::ChannelOpened(dbid) => match self.channels.entry(dbid) {
                Entry::Occupied(_) => Err(InvalidTransition::DuplicateChannel(dbid)),
                Entry::Vacant(slot) => {
                    slot.insert(ChanneldNormal);
                    Ok(())
                }
            },
            PeerInput::ShutdownStarted(dbid) => {
                self.advance(dbid, input, &[ChanneldNormal], ChanneldShuttingDown)
            }
            PeerInput::ClosingStarted(dbid) => self.advance(
                dbid,
                input,
                &[ChanneldNormal, ChanneldShuttingDown],
                ClosingdSigexchange,
            ),
            PeerInput::ClosingComplete(dbid) => {
                self.advance(dbid, input, &[ClosingdSigexchange], ClosingdComplete)
            }
            PeerInput::FundingSpent(dbid) => self.advance(
                dbid,
                input,
                &[
                    ChanneldNormal,
                    ChanneldShuttingDown,
                    ClosingdSigexchange,
                    ClosingdComplete,
                ],
                FundingSpendSeen,
            ),
            PeerInput::SpendConfirmed(dbid) => {
                self.advance(dbid, input, &[FundingSpendSeen], Onchain)
            }
            PeerInput::ChannelForgotten(dbid) => match self.channels.remove(&dbid) {
                Some(_) => Ok(()),
                None => Err(InvalidTransition::UnknownChannel(dbid)),
            },
        }
    }

    /// Moves channel `dbid` to `to` if it is in one of the states `from`.
    fn advance(
        &mut self,
        dbid: ChannelDbId,
        input: PeerInput,
        from: &[ChannelState],
        to: ChannelState,
    ) -> Result<(), InvalidTransition> {
        let state = self
            .channels
            .get_mut(&dbid)
            .ok_or(InvalidTransition::UnknownChannel(dbid))?;
        if !from.contains(state) {
            return Err(InvalidTransition::WrongState {
                dbid,
                state: *state,
                input: input.name(),
            });
        }
        *state = to;
        Ok(())
    }

    /// Whether the peer is connected.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The peer's channels, by ascending dbid.
    pub fn channels(&self) -> impl Iterator<Item = (ChannelDbId, ChannelState)> + '_ {
        self.channels.iter().map(|(&dbid, &state)| (dbid, state))
    }

    /// The state of channel `dbid`, if the peer has it.
    pub fn channel(&self, dbid: ChannelDbId) -> Option<ChannelState> {
        self.channels.get(&dbid).copied()
    }

    /// The channel that decides the owner: the most active one (channeld over closingd over
    /// onchaind, see [`Owner`]'s order); among channels with the same owner, the lowest dbid.
    pub fn deciding_channel(&self) -> Option<(ChannelDbId, ChannelState)> {
        self.channels()
            .min_by_key(|&(dbid, state)| (state.owner(), dbid))
    }

    /// The subdaemon that owns the peer: the deciding channel's owner; with no channel,
    /// openingd while connected and `None` while disconnected. A channel's owner does not depend
    /// on the connection (that check is [`custom_send_gate`](Self::custom_send_gate)'s).
    pub fn owner(&self) -> Option<Owner> {
        match self.deciding_channel() {
            Some((_, state)) => Some(state.owner()),
            None => self.connected.then_some(Owner::Openingd),
        }
    }

    /// `sendcustommsg`'s gate, in CLN v0.10's order: a disconnected peer is
    /// [`SendRefused::NotConnected`]; an owner that does not talk to the peer (closingd,
    /// onchaind) is [`SendRefused::OwnedBy`]; otherwise the owner to hand the message to
    /// (openingd or channeld).
    pub fn custom_send_gate(&self) -> Result<Owner, SendRefused> {
        let owner = self
            .owner()
            .filter(|_| self.connected)
            .ok_or(SendRefused::NotConnected)?;
        if owner.talks_to_peer() {
            Ok(owner)
        } else {
            Err(SendRefused::OwnedBy(owner))
        }
    }

    /// The subsystem prefix for this peer's log lines: `"openingd"` with no channel, else
    /// `"<owner>-chan#<dbid>"` of the deciding channel, e.g. `"channeld-chan#1"`.
    pub fn log_prefix(&self) -> String {
        match self.deciding_channel() {
            Some((dbid, state)) => format!("{}-chan#{dbid}", state.owner()),
            None => Owner::Openingd.name().to_owned(),
        }
    }

    /// Whether the peer should be dropped: disconnected with no channels (CLN deletes such a
    /// peer, so `sendcustommsg` then says "No such peer").
    pub fn is_forgettable(&self) -> bool {
        !self.connected && self.channels.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelState::*;
    use PeerInput::*;

    /// chan#1's possible states before an input: none, or each channel state.
    fn starts() -> impl Iterator<Item = Option<ChannelState>> {
        std::iter::once(None).chain(ChannelState::ALL.map(Some))
    }

    fn peer(connected: bool, channels: &[(ChannelDbId, ChannelState)]) -> PeerState {
        let mut peer = PeerState::restore(channels.iter().copied());
        if connected {
            peer.handle(Connected).unwrap();
        }
        peer
    }

    /// Applies `input` and checks the outcome, and that an `Err` left the state unchanged.
    fn check(
        mut peer: PeerState,
        input: PeerInput,
        expected: Result<PeerState, InvalidTransition>,
    ) {
        let before = peer.clone();
        let result = peer.handle(input);
        let context = format!("{input:?} on {before:?}");
        match expected {
            Ok(after) => {
                let transition = Transition {
                    owner_before: before.owner(),
                    owner_after: after.owner(),
                    forget: after.is_forgettable(),
                };
                assert_eq!(result, Ok(transition), "{context}");
                assert_eq!(peer, after, "{context}");
            }
            Err(err) => {
                assert_eq!(result, Err(err), "{context}");
                assert_eq!(peer, before, "{context}");
            }
        }
    }

    /// A channel input's effect on chan#1; the connection never changes.
    #[derive(Clone, Copy)]
    enum Chan {
        /// Accepted: chan#1 is now in this state.
        To(ChannelState),
        /// Accepted: chan#1 is gone.
        Gone,
        /// `WrongState` for chan#1's state and this input.
        Wrong,
        /// `UnknownChannel(1)`.
        Unknown,
    }

    const CHANNEL_INPUTS: [PeerInput; 6] = [
        ShutdownStarted(1),
        ClosingStarted(1),
        ClosingComplete(1),
        FundingSpent(1),
        SpendConfirmed(1),
        ChannelForgotten(1),
    ];

    /// Rows: chan#1's state before (for a connected and a disconnected peer alike).
    /// Columns: [`CHANNEL_INPUTS`].
    #[rustfmt::skip]
    const CHANNEL_TABLE: [(Option<ChannelState>, [Chan; 6]); 7] = {
        use Chan::*;
        [
            // before                       ShutdownStarted            ClosingStarted           ClosingComplete        FundingSpent             SpendConfirmed  ChannelForgotten
            (None,                       [Unknown,                  Unknown,                 Unknown,               Unknown,                 Unknown,        Unknown]),
            (Some(ChanneldNormal),       [To(ChanneldShuttingDown), To(ClosingdSigexchange), Wrong,                 To(FundingSpendSeen),    Wrong,          Gone]),
            (Some(ChanneldShuttingDown), [Wrong,                    To(ClosingdSigexchange), Wrong,                 To(FundingSpendSeen),    Wrong,          Gone]),
            (Some(ClosingdSigexchange),  [Wrong,                    Wrong,                   To(ClosingdComplete),  To(FundingSpendSeen),    Wrong,          Gone]),
            (Some(ClosingdComplete),     [Wrong,                    Wrong,                   Wrong,                 To(FundingSpendSeen),    Wrong,          Gone]),
            (Some(FundingSpendSeen),     [Wrong,                    Wrong,                   Wrong,                 Wrong,                   To(Onchain),    Gone]),
            (Some(Onchain),              [Wrong,                    Wrong,                   Wrong,                 Wrong,                   Wrong,          Gone]),
        ]
    };

    #[test]
    fn inputs_name_their_channel() {
        assert_eq!(Connected.channel(), None);
        assert_eq!(Disconnected.channel(), None);
        for input in [
            ChannelOpened(4),
            ShutdownStarted(4),
            ClosingStarted(4),
            ClosingComplete(4),
            FundingSpent(4),
            SpendConfirmed(4),
            ChannelForgotten(4),
        ] {
            assert_eq!(input.channel(), Some(4), "{input:?}");
        }
    }

    #[test]
    fn channel_inputs_every_state() {
        assert!(CHANNEL_TABLE.iter().map(|row| row.0).eq(starts()));
        for (before, cells) in CHANNEL_TABLE {
            let chan1: Vec<_> = before.map(|state| (1, state)).into_iter().collect();
            for connected in [false, true] {
                for (input, cell) in CHANNEL_INPUTS.into_iter().zip(cells) {
                    let expected = match cell {
                        Chan::To(state) => Ok(peer(connected, &[(1, state)])),
                        Chan::Gone => Ok(peer(connected, &[])),
                        Chan::Wrong => Err(InvalidTransition::WrongState {
                            dbid: 1,
                            state: before.unwrap(),
                            input: input.name(),
                        }),
                        Chan::Unknown => Err(InvalidTransition::UnknownChannel(1)),
                    };
                    check(peer(connected, &chan1), input, expected);
                }
            }
        }
    }

    /// A connection input's effect; chan#1 never changes.
    #[derive(Clone, Copy)]
    enum Link {
        /// Accepted: now connected.
        Up,
        /// Accepted: now disconnected.
        Down,
        /// Accepted: this channel was added in `CHANNELD_NORMAL`.
        Opened(ChannelDbId),
        /// Rejected with this error.
        Fails(InvalidTransition),
    }

    const LINK_INPUTS: [PeerInput; 4] =
        [Connected, Disconnected, ChannelOpened(1), ChannelOpened(2)];

    /// Rows: connected before, and chan#1's state before. Columns: [`LINK_INPUTS`].
    #[rustfmt::skip]
    const LINK_TABLE: [(bool, Option<ChannelState>, [Link; 4]); 14] = {
        use Link::*;
        const ALREADY: Link = Fails(InvalidTransition::AlreadyConnected);
        const NOT_CONN: Link = Fails(InvalidTransition::NotConnected);
        const DUP: Link = Fails(InvalidTransition::DuplicateChannel(1));
        [
            // up?  before                        Connected  Disconnected  ChannelOpened(1)  ChannelOpened(2)
            (false, None,                       [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (false, Some(ChanneldNormal),       [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (false, Some(ChanneldShuttingDown), [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (false, Some(ClosingdSigexchange),  [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (false, Some(ClosingdComplete),     [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (false, Some(FundingSpendSeen),     [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (false, Some(Onchain),              [Up,       NOT_CONN,     NOT_CONN,         NOT_CONN]),
            (true,  None,                       [ALREADY,  Down,         Opened(1),        Opened(2)]),
            (true,  Some(ChanneldNormal),       [ALREADY,  Down,         DUP,              Opened(2)]),
            (true,  Some(ChanneldShuttingDown), [ALREADY,  Down,         DUP,              Opened(2)]),
            (true,  Some(ClosingdSigexchange),  [ALREADY,  Down,         DUP,              Opened(2)]),
            (true,  Some(ClosingdComplete),     [ALREADY,  Down,         DUP,              Opened(2)]),
            (true,  Some(FundingSpendSeen),     [ALREADY,  Down,         DUP,              Opened(2)]),
            (true,  Some(Onchain),              [ALREADY,  Down,         DUP,              Opened(2)]),
        ]
    };

    #[test]
    fn link_inputs_every_state() {
        let keys = [false, true]
            .into_iter()
            .flat_map(|connected| starts().map(move |before| (connected, before)));
        assert!(LINK_TABLE.iter().map(|row| (row.0, row.1)).eq(keys));
        for (connected, before, cells) in LINK_TABLE {
            let chan1: Vec<_> = before.map(|state| (1, state)).into_iter().collect();
            for (input, cell) in LINK_INPUTS.into_iter().zip(cells) {
                let expected = match cell {
                    Link::Up => Ok(peer(true, &chan1)),
                    Link::Down => Ok(peer(false, &chan1)),
                    Link::Opened(dbid) => {
                        let mut channels = chan1.clone();
                        channels.push((dbid, ChanneldNormal));
                        Ok(peer(connected, &channels))
                    }
                    Link::Fails(err) => Err(err),
                };
                check(peer(connected, &chan1), input, expected);
            }
        }
    }

    #[test]
    fn transition_reports_owner_change_and_forget() {
        let mut peer = PeerState::new();
        assert!(peer.is_forgettable());
        let up = peer.handle(Connected).unwrap();
        assert_eq!(
            (up.owner_before, up.owner_after, up.forget),
            (None, Some(Owner::Openingd), false)
        );
        let opened = peer.handle(ChannelOpened(4)).unwrap();
        assert_eq!(opened.owner_after, Some(Owner::Channeld));
        peer.handle(FundingSpent(4)).unwrap();
        let down = peer.handle(Disconnected).unwrap();
        assert_eq!(
            down,
            Transition {
                owner_before: Some(Owner::Onchaind),
                owner_after: Some(Owner::Onchaind),
                forget: false
            }
        );
        let forgotten = peer.handle(ChannelForgotten(4)).unwrap();
        assert_eq!((forgotten.owner_after, forgotten.forget), (None, true));
    }

    #[test]
    fn deciding_channel_prefers_channeld_then_closingd_then_onchaind() {
        let mut peer = PeerState::restore([
            (5, Onchain),
            (3, ClosingdComplete),
            (9, ChanneldNormal),
            (7, ChanneldShuttingDown),
            (1, FundingSpendSeen),
            (8, ClosingdSigexchange),
        ]);
        // Forget the deciding channel each time to see who decides next. Within one owner the
        // lowest dbid wins, whatever the state (chan#7 before chan#9, chan#3 before chan#8).
        let expected = [
            ((7, ChanneldShuttingDown), "channeld-chan#7"),
            ((9, ChanneldNormal), "channeld-chan#9"),
            ((3, ClosingdComplete), "closingd-chan#3"),
            ((8, ClosingdSigexchange), "closingd-chan#8"),
            ((1, FundingSpendSeen), "onchaind-chan#1"),
            ((5, Onchain), "onchaind-chan#5"),
        ];
        for ((dbid, state), prefix) in expected {
            assert_eq!(peer.deciding_channel(), Some((dbid, state)));
            assert_eq!(peer.owner(), Some(state.owner()));
            assert_eq!(peer.log_prefix(), prefix);
            peer.handle(ChannelForgotten(dbid)).unwrap();
        }
        assert_eq!(peer.deciding_channel(), None);
        assert_eq!(peer.owner(), None);
        assert_eq!(peer.log_prefix(), "openingd");
        assert!(peer.is_forgettable());
    }

    #[test]
    fn owner_and_log_prefix_without_channels() {
        let mut peer = PeerState::new();
        assert_eq!(
            (peer.owner(), peer.log_prefix().as_str()),
            (None, "openingd")
        );
        peer.handle(Connected).unwrap();
        assert_eq!(
            (peer.owner(), peer.log_prefix().as_str()),
            (Some(Owner::Openingd), "openingd")
        );
    }

    #[test]
    fn custom_send_gate_for_every_owner() {
        for before in starts() {
            let chan1: Vec<_> = before.map(|state| (3, state)).into_iter().collect();
            let down = peer(false, &chan1);
            assert_eq!(
                down.custom_send_gate(),
                Err(SendRefused::NotConnected),
                "{before:?}"
            );
            // Disconnected, a channel still reports its owner.
            assert_eq!(down.owner(), before.map(ChannelState::owner));

            let expected = match before.map(ChannelState::owner) {
                None => Ok(Owner::Openingd),
                Some(Owner::Channeld) => Ok(Owner::Channeld),
                Some(owner) => Err(SendRefused::OwnedBy(owner)),
            };
            assert_eq!(
                peer(true, &chan1).custom_send_gate(),
                expected,
                "{before:?}"
            );
        }
    }

    #[test]
    fn custom_send_gate_uses_the_deciding_channel() {
        let peer = peer(true, &[(2, Onchain), (6, ChanneldNormal)]);
        assert_eq!(peer.custom_send_gate(), Ok(Owner::Channeld));
        let peer = PeerState::restore([(2, Onchain), (6, ClosingdComplete)]);
        assert_eq!(peer.custom_send_gate(), Err(SendRefused::NotConnected));
    }

    #[test]
    fn restore_is_disconnected_and_last_duplicate_wins() {
        let peer = PeerState::restore([(2, ChanneldNormal), (1, Onchain), (2, ClosingdComplete)]);
        assert!(!peer.is_connected());
        assert!(!peer.is_forgettable());
        assert!(peer.channels().eq([(1, Onchain), (2, ClosingdComplete)]));
        assert_eq!(peer.channel(2), Some(ClosingdComplete));
        assert_eq!(peer.channel(3), None);
    }
}
