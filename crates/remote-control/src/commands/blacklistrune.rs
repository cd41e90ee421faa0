//! `blacklistrune [start] [end] [relist]`: blacklist (or with `relist` take back) the unique
//! ids `start..=end`, and list the blacklist.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, Refusal};
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::value::RawValue;

use crate::authority::RuneAuthority;

static SIGNATURE: Signature = Signature {
    name: "blacklistrune",
    params: &["start", "end", "relist"],
    usage: "[start] [end] [relist]",
    developer: false,
};

/// `blacklistrune`.
pub(crate) struct BlacklistRune(pub(crate) Arc<RuneAuthority>);

/// The range and the direction.
pub(crate) struct BlacklistArgs {
    start: Option<u64>,
    end: Option<u64>,
    relist: bool,
}

/// An unsigned 64-bit integer, as CLN's `param_u64`.
fn u64_number(token: &RawValue) -> Result<u64, Refusal> {
    jsonrpc::params::token_text(token)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or(Refusal::Should("should be an unsigned 64 bit integer"))
}

impl TypedCommand for BlacklistRune {
    type Args = BlacklistArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<BlacklistArgs, RpcError> {
        Ok(BlacklistArgs {
            start: p.optional(0, u64_number)?,
            end: p.optional(1, u64_number)?,
            relist: p.optional(2, jsonrpc::params::boolean)?.unwrap_or(false),
        })
    }

    fn execute(&self, _: &Context<'_>, args: BlacklistArgs) -> Result<Reply, RpcError> {
        Ok(Reply::Now(self.0.blacklist(
            args.start,
            args.end,
            args.relist,
        )?))
    }
}
