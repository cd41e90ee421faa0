//! `lnpeerd`: the lnpeer node daemon, a Lightning transport node that behaves like Core
//! Lightning's `lightningd` where users and tools can see it (options, files, logs).
//!
//! # Layout
//!
//! * [`hsm`]: `hsm_secret` and the node key derived from it, CLN-compatible.
//! * [`store`]: the SQLite database of peers and channels.
//! * [`logging`]: CLN's log line format on top of `tracing`.
//! * `custom_router.rs`: where received custom messages go (commando to remote control, the rest
//!   to plugins).
//! * [`node`]: the node itself: key, store and peer manager wired together; [`node::run`] is
//!   what `main` calls, and tests call it too.
//!
//! The options and config files are `node_config`'s, which the command-line client shares.
//! These modules do file and terminal IO only; sockets belong to `peer-manager`.

mod custom_router;
pub mod hsm;
pub mod logging;
pub mod node;
pub mod store;
