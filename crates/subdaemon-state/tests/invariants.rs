#![allow(clippy::unwrap_used, missing_docs)]
//! Random input sequences, valid or not, against the invariants the crate docs promise.

use std::collections::BTreeMap;

use proptest::prelude::*;
use subdaemon_state::{
    ChannelDbId, ChannelState, Owner, PeerInput, PeerState, SendRefused, Transition,
};
use ChannelState::*;

/// Every state change a channel may make (the allowed skips included).
const FORWARD: [(ChannelState, ChannelState); 9] = [
    (ChanneldNormal, ChanneldShuttingDown),
    (ChanneldNormal, ClosingdSigexchange),
    (ChanneldShuttingDown, ClosingdSigexchange),
    (ClosingdSigexchange, ClosingdComplete),
    (ChanneldNormal, FundingSpendSeen),
    (ChanneldShuttingDown, FundingSpendSeen),
    (ClosingdSigexchange, FundingSpendSeen),
    (ClosingdComplete, FundingSpendSeen),
    (FundingSpendSeen, Onchain),
];

/// A few dbids, so inputs often hit existing channels and often miss.
fn dbid() -> impl Strategy<Value = ChannelDbId> {
    0..4u64
}

fn input() -> impl Strategy<Value = PeerInput> {
    prop_oneof![
        Just(PeerInput::Connected),
        Just(PeerInput::Disconnected),
        dbid().prop_map(PeerInput::ChannelOpened),
        dbid().prop_map(PeerInput::ShutdownStarted),
        dbid().prop_map(PeerInput::ClosingStarted),
        dbid().prop_map(PeerInput::ClosingComplete),
        dbid().prop_map(PeerInput::FundingSpent),
        dbid().prop_map(PeerInput::SpendConfirmed),
        dbid().prop_map(PeerInput::ChannelForgotten),
    ]
}

/// A fresh peer, or one restored from the store.
fn start() -> impl Strategy<Value = PeerState> {
    prop::collection::vec((dbid(), prop::sample::select(&ChannelState::ALL[..])), 0..4)
        .prop_map(PeerState::restore)
}

fn target(input: PeerInput) -> Option<ChannelDbId> {
    match input {
        PeerInput::Connected | PeerInput::Disconnected => None,
        PeerInput::ChannelOpened(dbid)
        | PeerInput::ShutdownStarted(dbid)
        | PeerInput::ClosingStarted(dbid)
        | PeerInput::ClosingComplete(dbid)
        | PeerInput::FundingSpent(dbid)
        | PeerInput::SpendConfirmed(dbid)
        | PeerInput::ChannelForgotten(dbid) => Some(dbid),
    }
}

/// Precedence of a channel's owner when choosing the deciding channel.
fn rank(state: ChannelState) -> u8 {
    match state.owner() {
        Owner::Channeld => 0,
        Owner::Closingd => 1,
        Owner::Onchaind => 2,
        Owner::Openingd => panic!("no channel state is owned by openingd"),
    }
}

/// What must hold of any reachable state.
fn check_state(peer: &PeerState) {
    let channels: Vec<_> = peer.channels().collect();
    let connected = peer.is_connected();
    assert!(
        channels.windows(2).all(|w| w[0].0 < w[1].0),
        "channels() ascends by dbid"
    );
    for &(dbid, state) in &channels {
        assert_eq!(peer.channel(dbid), Some(state));
    }

    let lonely = channels.is_empty();
    assert_eq!(peer.owner().is_none(), !connected && lonely);
    assert_eq!(peer.is_forgettable(), !connected && lonely);
    assert_eq!(peer.owner() == Some(Owner::Openingd), connected && lonely);

    let deciding = peer.deciding_channel();
    assert_eq!(deciding.is_none(), lonely);
    if let Some((dbid, state)) = deciding {
        assert_eq!(peer.channel(dbid), Some(state));
        assert!(channels
            .iter()
            .all(|&(d, s)| (rank(state), dbid) <= (rank(s), d)));
        assert_eq!(peer.owner(), Some(state.owner()));
        assert_eq!(peer.log_prefix(), format!("{}-chan#{dbid}", state.owner()));
    } else {
        assert_eq!(peer.log_prefix(), "openingd");
    }

    let gate = peer.custom_send_gate();
    match peer.owner() {
        _ if !connected => assert_eq!(gate, Err(SendRefused::NotConnected)),
        Some(owner @ (Owner::Openingd | Owner::Channeld)) => assert_eq!(gate, Ok(owner)),
        Some(owner) => assert_eq!(gate, Err(SendRefused::OwnedBy(owner))),
        None => unreachable!("a connected peer always has an owner"),
    }
    if let Ok(owner) = gate {
        assert!(connected && owner.talks_to_peer());
    }
}

/// What must hold of one step from `before` to `after`.
fn check_step(
    before: &PeerState,
    input: PeerInput,
    result: Result<Transition, impl std::fmt::Debug>,
    after: &PeerState,
) {
    let Ok(transition) = result else {
        assert_eq!(
            after, before,
            "{input:?} failed with {result:?} but changed the state"
        );
        return;
    };
    assert_eq!(
        transition,
        Transition {
            owner_before: before.owner(),
            owner_after: after.owner(),
            forget: after.is_forgettable(),
        }
    );

    let expected_connected = match input {
        PeerInput::Connected => true,
        PeerInput::Disconnected => false,
        _ => before.is_connected(),
    };
    assert_eq!(after.is_connected(), expected_connected);
    if matches!(input, PeerInput::Connected | PeerInput::Disconnected) {
        assert_ne!(after.is_connected(), before.is_connected());
    }
    if let PeerInput::ChannelOpened(_) = input {
        assert!(before.is_connected(), "channels open only while connected");
    }

    let old: BTreeMap<_, _> = before.channels().collect();
    let new: BTreeMap<_, _> = after.channels().collect();
    let delta = new.len() as i64 - old.len() as i64;
    let expected_delta = match input {
        PeerInput::ChannelOpened(_) => 1,
        PeerInput::ChannelForgotten(_) => -1,
        _ => 0,
    };
    assert_eq!(delta, expected_delta, "{input:?}");

    for (dbid, &state) in &new {
        match old.get(dbid) {
            None => {
                assert_eq!(input, PeerInput::ChannelOpened(*dbid));
                assert_eq!(state, ChanneldNormal);
            }
            Some(&was) if was == state => {}
            Some(&was) => {
                assert_eq!(target(input), Some(*dbid), "{input:?} changed chan#{dbid}");
                assert!(was < state, "{was} -> {state} moved backwards");
                assert!(
                    FORWARD.contains(&(was, state)),
                    "{was} -> {state} is not allowed"
                );
            }
        }
    }
    for dbid in old.keys().filter(|dbid| !new.contains_key(dbid)) {
        assert_eq!(input, PeerInput::ChannelForgotten(*dbid));
    }
}

proptest! {
    #[test]
    fn every_step_keeps_the_invariants(
        mut peer in start(),
        inputs in prop::collection::vec(input(), 0..64),
    ) {
        check_state(&peer);
        for input in inputs {
            let before = peer.clone();
            let result = peer.handle(input);
            check_step(&before, input, result, &peer);
            check_state(&peer);
        }
    }

    #[test]
    fn restore_keeps_the_channels_and_is_disconnected(
        channels in prop::collection::btree_map(dbid(), prop::sample::select(&ChannelState::ALL[..]), 0..4),
    ) {
        let peer = PeerState::restore(channels.clone());
        prop_assert!(!peer.is_connected());
        prop_assert!(peer.channels().eq(channels));
    }
}
