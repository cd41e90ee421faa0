//! `plugin-host`: Core Lightning's plugin protocol. Plugins are processes speaking JSON-RPC on
//! their stdin and stdout, configured by `getmanifest` and `init`, called for hooks, sent
//! notifications, and serving RPC methods of their own.
//!
//! # What it owns
//!
//! * [`manifest`] (no IO): the `getmanifest` result and option values, with CLN's errors.
//! * [`order`] (no IO): the order of a hook's plugins from their `before`/`after` lists.
//! * [`process`]: one plugin process and its stdio JSON-RPC.
//! * [`host`]: every plugin, hook chains, notifications, passthrough.
//! * [`command`]: the `plugin` command, which the node registers into rpc's dispatcher.
//!
//! # What it must not touch
//!
//! Peers' sockets and wire messages (it reaches peers only through `peer-manager`'s events,
//! its custom message sink and its commands), the RPC socket and the command table (it gives
//! `rpc` a command and the [`rpc::ExternalMethods`] of its plugins, and knows nothing else of
//! the dispatcher), the database.

pub mod command;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod manifest;
pub mod order;
pub mod process;

pub use command::PluginCommand;
pub use host::{HostConfig, HostError, Plugin, PluginHost};
