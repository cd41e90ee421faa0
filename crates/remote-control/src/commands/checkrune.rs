//! `checkrune rune [nodeid] [method] [params]`: whether `rune` allows calling `method` with
//! `params` as `nodeid`; a pass counts as a use of the rune (for `rate` and `per`).

use std::sync::Arc;
use std::time::SystemTime;

use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, Refusal};
use rpc::{Context, Reply, Signature, TypedCommand};
use runes::CheckRuneError;
use serde_json::json;
use serde_json::value::RawValue;

use crate::authority::{store_error, Asking, CheckFailure, RuneAuthority};

static SIGNATURE: Signature = Signature {
    name: "checkrune",
    params: &["rune", "nodeid", "method", "params"],
    usage: "rune [nodeid] [method] [params]",
    developer: false,
};

/// `checkrune`.
pub(crate) struct CheckRune(pub(crate) Arc<RuneAuthority>);

/// What to check.
pub(crate) struct CheckArgs {
    rune: String,
    rune_token: Box<RawValue>,
    nodeid: Option<[u8; 33]>,
    method: Option<String>,
    params: Option<Box<RawValue>>,
}

fn object_or_array(token: &RawValue) -> Result<Box<RawValue>, Refusal> {
    match token.get().as_bytes().first() {
        Some(b'{' | b'[') => Ok(token.to_owned()),
        _ => Err(Refusal::Other("must be object or array".to_owned())),
    }
}

impl TypedCommand for CheckRune {
    type Args = CheckArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<CheckArgs, RpcError> {
        let rune = p.required(0, jsonrpc::params::string)?;
        let rune_token = match p.raw(0) {
            Some(token) => token.to_owned(),
            None => serde_json::value::to_raw_value(&rune)
                .map_err(|_| RpcError::invalid_params("rune: should be a string"))?,
        };
        let nodeid = p
            .optional(1, rpc::params::node_id)?
            .map(|id| id.serialize());
        let method = p.optional(2, jsonrpc::params::string)?;
        let params = p.optional(3, object_or_array)?;
        Ok(CheckArgs {
            rune,
            rune_token,
            nodeid,
            method,
            params,
        })
    }

    fn execute(&self, _: &Context<'_>, args: CheckArgs) -> Result<Reply, RpcError> {
        let asking = Asking {
            node_id: args.nodeid.as_ref(),
            method: args.method.as_deref(),
            params: args.params.as_deref(),
        };
        match self.0.check(&args.rune, asking, SystemTime::now()) {
            Ok(_) => Ok(Reply::Now(json!({ "valid": true }))),
            Err(CheckFailure::Store(failure)) => Err(store_error(failure)),
            Err(CheckFailure::Refused(refused)) => Err(check_error(&refused, &args.rune_token)),
        }
    }
}

/// A refused check as checkrune's caller sees it: the parameter errors in the usual form, the
/// rest with CLN's codes and texts.
pub(crate) fn check_error(refused: &CheckRuneError, rune_token: &RawValue) -> RpcError {
    match refused {
        CheckRuneError::InvalidRune(e) => super::bad_param("rune", rune_token, e.message()),
        other => RpcError::new(other.code(), other.to_string()),
    }
}
