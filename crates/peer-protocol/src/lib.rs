//! `peer-protocol`: the BOLT 1 peer rules, without IO, in the shape of quinn-proto.
//!
//! # What it owns
//!
//! * [`init`]: our `init`, and [`AwaitingInit`], the phase in which the peer's `init` must
//!   arrive by a deadline and pass CLN's checks (networks, unknown even bits, dependencies).
//! * [`session`]: [`Session`], one connection after `init`: what to do with each message,
//!   when to ping, how fast to answer pings and to read the peer's bytes.
//! * [`dispatch`]: the odd/even rule and what each BOLT 1 message means to a channel-less
//!   node; [`keepalive`] and [`rate`]: the rules the session combines.
//! * [`dev_disconnect`]: Core Lightning's `--dev-disconnect` file (`--developer` only): where
//!   our side of a connection closes or drops a message on purpose.
//!
//! # What it must not touch
//!
//! Sockets, tasks, the clock and randomness: every function that depends on time takes `now`,
//! and the caller picks the jitter seed. So every rule is a unit test with virtual time.
//! `peer-manager` drives these types from its reader and its connection set-up.
//!
//! # Calling protocol
//!
//! ```text
//! handshake done ─▶ our_init ─▶ AwaitingInit::handle_message(each message) ─▶ Accepted(init)
//!                                   (deadline(): close if no init by then)
//! Session::new(config, seed, now), then, each wake-up with one `now`:
//!   handle_read(bytes, now)          after a socket read
//!   handle_message(message, now, ..) for each decrypted message ─▶ Received
//!   handle_timeout(now)              once poll_timeout() has passed ─▶ Timer
//!   read_delay(now)                  Some(wait): do not read the socket before then
//! ```

#![forbid(unsafe_code)]

pub mod dev_disconnect;
pub mod dispatch;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod init;
pub mod keepalive;
pub mod rate;
pub mod session;

pub use dev_disconnect::{DevDisconnect, DevDisconnectError, DisconnectAction, DisconnectPoint};
pub use dispatch::{dispatch, warning, Action};
pub use init::{
    check_remote_init, default_features, known_features, our_init, AwaitingInit, InitFailure,
    InitRejection, InitStep, KNOWN_REQUIRED_BITS, OFFERED_FEATURE_BITS,
};
pub use keepalive::{keepalive_ping, Keepalive, KeepaliveAction};
pub use rate::{InboundRateLimiter, OnionMessageLimiter, PingLimiter};
pub use session::{Received, Session, SessionConfig, Timer, HANG_UP_REASON, ONION_RATE_WARNING};
