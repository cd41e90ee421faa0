//! Which subdaemon owns a peer, and where each of its channels is in its lifecycle.
//!
//! lnpeerd tracks peer ownership the way Core Lightning v0.10 did, without any funds: a
//! channel's lifecycle is driven by `dev-` RPC commands, so custom-message protocols can be
//! tested against every ownership state.
//!
//! # What this crate owns
//!
//! One [`PeerState`] per peer: its connection flag and its channels ([`ChannelDbId`] →
//! [`ChannelState`]). [`PeerState::handle`] applies a [`PeerInput`] by the table below and
//! reports the [`Transition`] of [`Owner`]; [`PeerState::custom_send_gate`] answers
//! `sendcustommsg`'s connection and owner checks (CLN v0.10's steps 4 and 5).
//!
//! # What it must not touch
//!
//! No IO, no async runtime, no clock, no storage and no RPC text. The store persists
//! [`ChannelState::name`] and hands channels back to [`PeerState::restore`]; the RPC layer turns
//! [`SendRefused`] and [`InvalidTransition`] into CLN's wording.
//!
//! # Transitions
//!
//! | input | applies to | result | otherwise |
//! |---|---|---|---|
//! | `Connected` | a disconnected peer | connected | `AlreadyConnected` |
//! | `Disconnected` | a connected peer | disconnected, channels kept | `NotConnected` |
//! | `ChannelOpened(id)` | a connected peer without `id` | `id` in `CHANNELD_NORMAL` | `NotConnected`, else `DuplicateChannel` |
//! | `ShutdownStarted(id)` | `CHANNELD_NORMAL` | `CHANNELD_SHUTTING_DOWN` | `UnknownChannel` or `WrongState` |
//! | `ClosingStarted(id)` | `CHANNELD_NORMAL`, `CHANNELD_SHUTTING_DOWN` | `CLOSINGD_SIGEXCHANGE` | `UnknownChannel` or `WrongState` |
//! | `ClosingComplete(id)` | `CLOSINGD_SIGEXCHANGE` | `CLOSINGD_COMPLETE` | `UnknownChannel` or `WrongState` |
//! | `FundingSpent(id)` | `CHANNELD_*`, `CLOSINGD_*` | `FUNDING_SPEND_SEEN` | `UnknownChannel` or `WrongState` |
//! | `SpendConfirmed(id)` | `FUNDING_SPEND_SEEN` | `ONCHAIN` | `UnknownChannel` or `WrongState` |
//! | `ChannelForgotten(id)` | any state | `id` removed | `UnknownChannel` |
//!
//! Only `ChannelOpened` depends on the connection. A rejected input changes nothing. So a
//! channel only moves forward, `CHANNELD_NORMAL` → `CHANNELD_SHUTTING_DOWN` →
//! `CLOSINGD_SIGEXCHANGE` → `CLOSINGD_COMPLETE` → `FUNDING_SPEND_SEEN` → `ONCHAIN`, skipping
//! at most what the table allows, until it is forgotten.
//!
//! # Ownership
//!
//! | channel states | owner | talks to the peer |
//! |---|---|---|
//! | none, connected | openingd | yes |
//! | none, disconnected | none: the peer is forgettable | — |
//! | `CHANNELD_NORMAL`, `CHANNELD_SHUTTING_DOWN` | channeld | yes |
//! | `CLOSINGD_SIGEXCHANGE`, `CLOSINGD_COMPLETE` | closingd | no |
//! | `FUNDING_SPEND_SEEN`, `ONCHAIN` | onchaind | no |
//!
//! With several channels, the [deciding channel](PeerState::deciding_channel) is the most
//! active one (channeld over closingd over onchaind), the lowest dbid among equals. A channel's
//! owner does not depend on the connection; the send gate checks the connection first.
//!
//! This is a model, not a copy of CLN v0.10: there, a channel in `CLOSINGD_COMPLETE` or on chain
//! is not "active", so a connected peer with only such channels is owned by openingd. Here each
//! state keeps its owner, so every owner is reachable from `sendcustommsg`.
//!
//! ```
//! use subdaemon_state::{Owner, PeerInput, PeerState, SendRefused};
//!
//! let mut peer = PeerState::new();
//! peer.handle(PeerInput::Connected)?;
//! assert_eq!(peer.custom_send_gate(), Ok(Owner::Openingd));
//! peer.handle(PeerInput::ChannelOpened(1))?;
//! peer.handle(PeerInput::ClosingStarted(1))?;
//! assert_eq!(peer.custom_send_gate(), Err(SendRefused::OwnedBy(Owner::Closingd)));
//! assert_eq!(peer.log_prefix(), "closingd-chan#1");
//! peer.handle(PeerInput::ChannelForgotten(1))?;
//! assert!(peer.handle(PeerInput::Disconnected)?.forget);
//! # Ok::<(), subdaemon_state::InvalidTransition>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod channel;
mod error;
mod owner;
mod peer;
mod record;

// The public interface:
pub use channel::{ChannelDbId, ChannelState};
pub use error::{InvalidTransition, ParseChannelStateError, SendRefused};
pub use owner::Owner;
pub use peer::{PeerInput, PeerState, Transition};
pub use record::{ChannelRecord, Opener};
