//! `node-config`: what a node is told to be, shared by the daemon (`lnpeerd`), the command-line
//! client (`lnpeer-cli`, which finds the node's socket with it) and the crates that enforce the
//! limits.
//!
//! # What it owns
//!
//! * [`config`]: [`Config`], merged from the command line, `<lightning-dir>/config` and
//!   `<lightning-dir>/<network>/config` the way `lightningd` merges them.
//! * [`settings`] reads those sources into `name[=value]` settings that remember where they
//!   came from; [`options`] is the table of options that are not limits, and `--help`.
//! * [`limits`]: every denial-of-service limit in one table (option, help, default, bounds,
//!   where it applies); [`Limits`] is what the peer manager and the RPC server read.
//! * [`network`]: the networks with CLN's names, ports and chain hashes.
//! * [`address`]: [`DialAddress`], the one type for "host with an optional port", and the
//!   listen addresses of `--addr`/`--bind-addr`.
//! * [`log_level`]: [`LogLevel`], lowest first.
//!
//! # What it must not touch
//!
//! Sockets, tasks, the database, plugins. It reads config files and nothing else, so that the
//! command-line client links neither tokio nor SQLite nor the peer layer.

#![forbid(unsafe_code)]

pub mod address;
pub mod config;
pub mod error;
pub mod limits;
pub mod log_level;
pub mod network;
pub mod options;
pub mod settings;

pub use address::{
    parse_bind_addr, parse_listen_addr, AddrError, AddressError, DialAddress, ListenAddr,
};
pub use config::{Config, PluginSource};
pub use error::{ConfigError, Origin};
pub use limits::{LimitSpec, Limits, Scope, LIMITS};
pub use log_level::{LogLevel, UnknownLogLevel};
pub use network::{Network, UnknownNetwork};

/// The version: `--version` prints it as is (`lightningd`'s `v<version>` shape), and the node
/// reports it to `getinfo` and plugins as [`NODE_VERSION`].
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// [`VERSION`] as the node names itself (`getinfo`'s `version`, `LIGHTNINGD_VERSION`).
pub const NODE_VERSION: &str = concat!("lnpeer-v", env!("CARGO_PKG_VERSION"));

/// The default lightning directory, under `$HOME` (CLN's is `.lightning`).
pub const DEFAULT_LIGHTNING_DIR: &str = ".lnpeer";

/// The config file's name, in the lightning directory and in each network directory.
pub const CONFIG_FILE: &str = "config";

/// The JSON-RPC socket's default name inside the network directory (CLN's).
pub const DEFAULT_RPC_FILE: &str = "lightning-rpc";

/// BOLT 7 gives `node_announcement` 32 bytes of alias; CLN refuses longer ones.
pub const MAX_ALIAS_LEN: usize = 32;
