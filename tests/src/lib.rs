//! Helpers shared by lnpeer's cross-crate and cross-process test binaries.
//!
//! - [`python`]: a Python virtual environment with the pinned `pyln-client` and `pyln-proto`,
//!   provisioned on first use, for tests that drive the node from Core Lightning's own Python
//!   tooling.

pub mod python;
