//! `rpc`: lnpeer's control plane, a JSON-RPC 2.0 server on a Unix socket that behaves like
//! Core Lightning's (`lightningd/jsonrpc.c`), so pyln-client, cln-rpc and lightning-cli habits
//! work unchanged.
//!
//! # What it owns
//!
//! * [`framing`]: splitting concatenated JSON requests from a byte stream, and response frames
//!   (each followed by `"\n\n"`, the id echoed byte for byte).
//! * [`request`]: the envelope checks in CLN's order with CLN's texts.
//! * [`params`]: parameters by position or name, and typed parsers with CLN's error texts.
//! * [`commands`]: the command table (`getinfo`, `connect`, `sendcustommsg`, the `dev-`
//!   lifecycle commands, ...), CLN's result shapes.
//! * [`plugin`]: the plugin host (CLN's plugin protocol): manifests, options, `init`, hook
//!   chains, notifications, RPC passthrough and the `plugin` command.
//! * [`server`]: the socket (mode 0600, stale-file and in-use handling), many connections,
//!   several requests in flight per connection, responses in completion order.
//!
//! # What it must not touch
//!
//! Peers' sockets and wire messages (that is `peer-manager`), the database and files of the
//! node (reached only through [`NodeControl`], which `lnpeerd` implements).

pub mod commands;
pub mod control;
pub mod errors;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod params;
pub mod plugin;
pub mod server;
pub mod shapes;
pub mod stream;

pub use control::{ChannelRecord, IoDirection, LogEntry, NodeControl, NodeInfo, Opener};
pub use errors::NodeError;
pub use jsonrpc::{code, RpcError};
pub use server::{RpcConfig, RpcServer, RpcStartError};
