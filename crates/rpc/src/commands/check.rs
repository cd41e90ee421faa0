//! `check command_to_check ...`: the named command's parameters, and whatever it validates
//! against the node (for `sendcustommsg`, its peer checks), are checked; nothing is done.

use serde_json::json;

use crate::command::{Command, Context, Reply, Signature};
use jsonrpc::error::RpcError;
use jsonrpc::params::{self, RawParams};

static SIGNATURE: Signature = Signature {
    name: "check",
    params: &["command_to_check"],
    usage: "command_to_check",
    developer: false,
};

/// `check`. Not a [`crate::TypedCommand`]: its parameters are another command's, bound by
/// that command.
pub(crate) struct Check;

impl Command for Check {
    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    /// `check check ...` is accepted whatever follows.
    fn check(&self, _: &Context<'_>, _: RawParams<'_>) -> Result<(), RpcError> {
        Ok(())
    }

    fn run(&self, ctx: &Context<'_>, params: RawParams<'_>) -> Result<Reply, RpcError> {
        let missing = || RpcError::invalid_params("missing required parameter: command_to_check");
        let (name_token, rest) = match params {
            RawParams::Positional(mut values) => {
                if values.is_empty() {
                    return Err(missing());
                }
                let name = values.remove(0);
                (name, RawParams::Positional(values))
            }
            RawParams::Named(mut pairs) => {
                let index = pairs
                    .iter()
                    .position(|(name, _)| name == "command_to_check")
                    .ok_or_else(missing)?;
                let (_, name) = pairs.remove(index);
                (name, RawParams::Named(pairs))
            }
        };
        let name = params::string(name_token)
            .map_err(|refusal| params::refuse("command_to_check", name_token, refusal))?;
        if ctx.dispatcher.is_external_method(&name) {
            // Not forwarded to the plugin (CLN's `cancheck`): the method exists, that is all.
            return Ok(Reply::Now(json!({ "command_to_check": name })));
        }
        let command = ctx.dispatcher.runnable(&name)?;
        command.check(ctx, rest)?;
        Ok(Reply::Now(
            json!({ "command_to_check": command.signature().name }),
        ))
    }
}
