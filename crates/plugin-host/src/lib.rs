//! `plugin-host`: Core Lightning's plugin protocol. Plugins are processes speaking JSON-RPC on
//! their stdin and stdout, configured by `getmanifest` and `init`, called for hooks, sent
//! notifications, and serving RPC methods of their own.
//!
//! # What it owns
//!
//! * [`manifest`] (no IO): the `getmanifest` result, with CLN's errors; `option.rs`: an
//!   option's type and the values `init` sends for it.
//! * [`order`] (no IO): the order of a hook's plugins from their `before`/`after` lists.
//! * [`process`]: one plugin process: its stdio JSON-RPC and its bounded stdin queue.
//! * [`PluginHost`] (`host.rs`), a cheap handle whose work is split by concept:
//!   * `plugin.rs`: one plugin and its state (configured, active, stopped);
//!   * `registry.rs`: every plugin, and each hook's chain, computed when a plugin becomes
//!     active or stops rather than per message;
//!   * `supervisor.rs`: processes start (at start-up, from directories, by command), die
//!     and stop; an important plugin's death stops the node;
//!   * `init.rs`: option values claimed from the node's unknown options, feature bits, `init`;
//!   * `hooks.rs`: `custommsg`, `peer_connected` and the two onion message hooks, their chain semantics and timeouts;
//!   * `notifications.rs`: to and from plugins, and peer events turned into them;
//!   * `methods.rs`: plugins' RPC methods, served as rpc's [`rpc::ExternalMethods`];
//!   * `command.rs`: the `plugin` command, which [`PluginHost::register`] puts into rpc's
//!     dispatcher.
//!
//! # Calling protocol
//!
//! ```text
//! PluginHost::new ─▶ start_configured (manifests) ─▶ claim_options ─▶ init_features
//!   ─▶ register(&mut rpc::Dispatcher) ─▶ (RPC socket up) ─▶ init_all(manager)
//!   ─▶ ... fatal() resolves if an important plugin dies ─▶ shutdown
//! ```
//!
//! # What it must not touch
//!
//! Peers' sockets and wire messages (it reaches peers only through `peer-manager`'s events,
//! its custom message sink and its commands), the RPC socket and the command table (it gives
//! `rpc` a command and the [`rpc::ExternalMethods`] of its plugins, and knows nothing else of
//! the dispatcher), the database.

#![forbid(unsafe_code)]

mod command;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod hooks;
mod host;
mod init;
pub mod manifest;
mod methods;
mod notifications;
mod option;
pub mod order;
mod plugin;
pub mod process;
mod registry;
mod stdin;
mod supervisor;

pub use hooks::OnionMessageHook;
pub use host::{HostConfig, HostError, PluginHost};
pub use plugin::Plugin;
