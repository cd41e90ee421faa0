//! The IO side of lnpeer's peer layer: it listens and dials, runs the BOLT 8 handshake and the
//! BOLT 1 `init` exchange, keeps one reader and one writer task per connection, and tracks
//! every known peer with its owning subdaemon.
//!
//! # What it owns, and what it must not touch
//!
//! Sockets and tasks (tokio). The rules it applies come from IO-free crates: BOLT 8 from
//! `noise-transport`, BOLT 1 messages from `wire`, ownership from `subdaemon-state`, and the
//! peer rules (init checks, the odd/even rule, keepalive, ping and byte-rate limits) from
//! `peer-protocol`, whose `Session` the reader drives. It knows nothing of RPC, plugins or
//! storage: it publishes [`PeerEvent`]s, hands custom messages to one consumer, and takes
//! commands; the node binary persists what it must.
//!
//! # Layout
//!
//! * [`PeerManager`] (`manager.rs`): the public face.
//! * `listener.rs`, `dialer.rs`: connections coming in and going out; `admission.rs`: the caps
//!   on pending handshakes and on inbound peers without a channel; `establish.rs`: handshake
//!   and `init` under their deadlines.
//! * `websocket.rs`: WebSocket peers, bridged onto the same stream as TCP peers (`stream.rs`).
//! * `connection.rs`: registering a connection and tearing it down; `reader.rs` and
//!   `writer.rs`: its two tasks; `outbox.rs`: its bounded, encrypt-at-send queue.
//! * `registry.rs`: every known peer, the one place that changes an entry and its counters.
//! * `custom.rs`: where received custom messages go; `onion.rs`: where received onion
//!   messages go (one handler, on the reader) and how they are sent (bounded per peer);
//!   `events.rs`: what callers are told; `tasks.rs`: spawning and shutdown; `io_log.rs`: the
//!   `[IN]`/`[OUT]` log records; `key_log.rs`: the file of BOLT 8 keys for Wireshark, when one
//!   is asked for.
//!
//! # Data path
//!
//! ```text
//! socket ─read─▶ reader: Decryptor (in place) ─▶ Session::handle_message ─▶ pong/error → outbox
//!                                            ├─▶ CustomMessageHandler (a slice, on the reader)
//!                                            ├─▶ CustomMessageSink (per-peer bounded queue; waits)
//!                                            └─▶ OnionMessageHandler (513 within the peer's rate)
//! send_custom ─▶ owner gate ─▶ Outbox: encrypt into the connection's buffer (bounded in bytes;
//!                              send_custom_waiting waits for room instead)
//!                 ─▶ written by the writer task, woken once per burst; or, for what a reader
//!                    sends while handling a batch, by that reader when the batch is done
//! ```

#![forbid(unsafe_code)]

mod admission;
mod config;
mod connection;
mod custom;
mod dialer;
mod error;
mod establish;
mod events;
mod io_log;
mod key_log;
mod listener;
mod manager;
mod onion;
mod outbox;
mod reader;
mod registry;
mod stream;
mod tasks;
mod websocket;
mod writer;

#[cfg(feature = "test-support")]
pub mod testing;

pub use config::*;
pub use custom::{CustomMessageHandler, CustomMessageSink, SendBatch};
pub use error::{ConnectError, PeerError, PingError, SendCustomError};
pub use events::{ConnectionInfo, Direction, PeerEvent, PeerInfo};
pub use key_log::KeyLogFile;
pub use manager::PeerManager;
pub use onion::{OnionMessageHandler, SendOnionError};
pub use outbox::{NotWritten, Outbox, SendError, WriteReceipt};
