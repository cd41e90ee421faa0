//! Core Lightning's plugin protocol: plugins are processes speaking JSON-RPC on their stdin
//! and stdout, configured by `getmanifest` and `init`, called for hooks, sent notifications,
//! and serving RPC methods of their own.
//!
//! * [`manifest`] (no IO): the `getmanifest` result and option values, with CLN's errors.
//! * [`order`] (no IO): the order of a hook's plugins from their `before`/`after` lists.
//! * [`process`]: one plugin process and its stdio JSON-RPC.
//! * [`host`]: every plugin, hook chains, notifications, passthrough.
//! * [`command`]: the `plugin` command.

pub mod command;
pub mod host;
pub mod manifest;
pub mod order;
pub mod process;

pub use command::PluginCommand;
pub use host::{HostConfig, HostError, Plugin, PluginHost, Source};
