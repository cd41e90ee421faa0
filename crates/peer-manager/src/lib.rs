//! The IO side of lnpeer: it listens and dials, runs the BOLT 8 handshake and the BOLT 1 `init`
//! exchange, keeps one reader and one writer task per connection, and tracks every known peer
//! with its owning subdaemon.
//!
//! # What it owns, and what it must not touch
//!
//! Sockets and tasks (tokio). The protocol rules it applies come from IO-free code: BOLT 8 from
//! `noise-transport`, BOLT 1 messages from `wire`, ownership from `subdaemon-state`, and the
//! peer rules (init checks, dispatch, keepalive, ping limits) from this crate's [`protocol`]
//! module, which has no IO either. It knows nothing of RPC, plugins or storage: it publishes
//! [`PeerEvent`]s and takes commands, and the node binary persists what it must.
//!
//! # Data path
//!
//! ```text
//! socket ─read─▶ reader task: Decryptor (in place) ─▶ protocol::dispatch ─▶ pong/error → outbox
//!                                            ├─▶ CustomMessageHandler (a slice, on the reader)
//!                                            └─▶ CustomMessageSink (per-peer bounded queue; waits)
//! send_custom ─▶ owner gate ─▶ Outbox: encrypt into the connection's buffer (bounded in bytes;
//!                              send_custom_waiting waits for room instead)
//!                 ─▶ written by the writer task, woken once per burst; or, for what a reader
//!                    sends while handling a batch, by that reader when the batch is done
//! ```

mod config;
mod error;
mod manager;
mod outbox;
pub mod protocol;

#[cfg(feature = "test-support")]
pub mod testing;

pub use config::*;
pub use error::{ConnectError, PeerError, PingError, SendCustomError};
pub use manager::{
    ConnectionInfo, CustomMessageHandler, CustomMessageSink, Direction, PeerEvent, PeerInfo,
    PeerManager,
};
pub use outbox::{Outbox, SendError};
