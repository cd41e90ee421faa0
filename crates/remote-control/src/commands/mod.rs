//! The RPC commands of remote control, one file each, registered into the dispatcher by
//! [`crate::RemoteControl::register`].

pub(crate) mod blacklistrune;
pub(crate) mod checkrune;
pub(crate) mod commando;
pub(crate) mod createrune;
pub(crate) mod showrunes;

use jsonrpc::error::RpcError;
use jsonrpc::params::{refuse, Refusal};
use runes::Rune;
use serde_json::value::RawValue;

/// A `rune` parameter as CLN's `param_rune` reads it: the rune and its numeric unique id.
pub(crate) fn rune_param(token: &RawValue) -> Result<(Rune, u64, String), Refusal> {
    let text = jsonrpc::params::string(token)?;
    let (rune, id) = runes::parse_rune_param(&text).map_err(|e| Refusal::Should(e.message()))?;
    Ok((rune, id, text))
}

/// The -32602 error for `token` refused as parameter `name` with `what`.
pub(crate) fn bad_param(name: &str, token: &RawValue, what: &'static str) -> RpcError {
    refuse(name, token, Refusal::Should(what))
}
