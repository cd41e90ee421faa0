//! Helpers shared by lnpeer's cross-crate and cross-process test binaries.
//!
//! - [`python`]: a Python virtual environment with the pinned `pyln-client` and `pyln-proto`,
//!   provisioned on first use, for tests that drive the node from Core Lightning's own Python
//!   tooling.
//! - [`node`]: real `lnpeerd` processes in temporary directories, with an RPC client, log
//!   waiting, and cleanup on drop.
//! - [`plugins`]: the test plugins in `tests/plugins/`, wrapped to run with the venv's Python.
//! - [`scripted_peer`]: a Python script on pyln-proto run against a node for one case, its
//!   result read back (`commando_peer.py`, `lsps0_peer.py`).
//! - [`npm`]: the pinned JavaScript packages (lnmessage, esbuild, playwright-core), provisioned
//!   the same way, for tests that drive the node from Node.js and from a browser.
//! - [`lnprototest`]: a second venv, with lnprototest 0.0.7 (its pyln pins clash with the
//!   first), and pytest runs in it against `lnpeerd` through `tests/python/lnpeer_lnprototest`.
//! - [`provision`]: what the provisioned environments share.
//! - [`ldk`]: an in-process LDK node (`ldk-peer`) on a runtime of its own, as lnpeerd's peer,
//!   with bounded waits and shutdown on drop.

pub mod ldk;
pub mod lnprototest;
pub mod node;
pub mod npm;
pub mod plugins;
pub mod provision;
pub mod python;
pub mod scripted_peer;
