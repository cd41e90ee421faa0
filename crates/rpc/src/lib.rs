//! `rpc`: lnpeer's control plane, a JSON-RPC 2.0 server on a Unix socket that behaves like
//! Core Lightning's (`lightningd/jsonrpc.c`), so pyln-client, cln-rpc and lightning-cli habits
//! work unchanged. The JSON-RPC dialect itself (splitting, envelopes, params, filters) is the
//! `jsonrpc` crate's.
//!
//! # What it owns
//!
//! * [`Command`] and [`TypedCommand`] (`command.rs`): what a command is. A typed command is
//!   parsed without the node, validated against it, then executed; `check` stops before
//!   executing, by construction.
//! * [`Dispatcher`] (`dispatch.rs`): the command table (built-ins and registered commands),
//!   the methods served elsewhere ([`ExternalMethods`]), the developer-only rule, and
//!   request → [`Reply`], with no socket.
//! * `commands/`: one file per built-in command (`getinfo`, `connect`, `sendcustommsg`, the
//!   `dev-` lifecycle commands, `check`, `help`, ...), with its CLN result shape and texts.
//! * [`errors`]: typed failures ([`NodeError`], peer-manager's) worded as CLN words them, in
//!   one place. [`shapes`]: JSON shapes shared with the plugin host.
//! * [`params`]: parsers of Lightning values (node ids, messages, channel ids).
//! * [`server`]: the socket (mode 0600, stale-file and in-use handling), many connections,
//!   several requests in flight per connection, responses in completion order.
//!
//! # What it must not touch
//!
//! Peers' sockets and wire messages (that is `peer-manager`), the database and files of the
//! node (reached only through [`NodeControl`], which `lnpeerd` implements), plugins (the
//! `plugin-host` crate registers its command and serves its methods through
//! [`ExternalMethods`]; nothing here names it).
//!
//! # Calling protocol
//!
//! ```text
//! lnpeerd: Dispatcher::new(node) ─▶ register(commands from other crates)
//!          ─▶ set_external_methods(..) ─▶ RpcServer::start(config, Arc<Dispatcher>)
//! server:  bytes ─▶ jsonrpc request ─▶ Dispatcher::dispatch(session, request) ─▶ Reply
//! ```

#![forbid(unsafe_code)]

mod command;
mod commands;
pub mod control;
mod dispatch;
pub mod errors;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod params;
pub mod server;
pub mod shapes;
pub mod stream;

pub use command::{Command, Context, Reply, ReplyFuture, Session, Signature, TypedCommand};
pub use control::{
    ChannelRecord, IoDirection, LogEntry, NodeControl, NodeInfo, Opener, StoredSendQueue,
    StoredSubmission,
};
pub use dispatch::{CommandTaken, Dispatcher, ExternalMethods};
pub use errors::{NodeError, StoreFailure};
pub use jsonrpc::{code, RpcError};
pub use server::{RpcConfig, RpcServer, RpcStartError};
