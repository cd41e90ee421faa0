//! `lsps0-request peer_id method [params] [timeout]`: sends any LSPS request (`params` an
//! object, `{}` by default) to a connected LSP and waits `timeout` seconds (60) for its
//! answer. The result says which answer came: `{"result": {...}}` or `{"error": {"code",
//! "message", "data"?}}`, so an LSP's error never looks like a local failure. Local failures
//! (not connected, no answer in time, disconnected, a muted LSP) are RPC errors.

use std::sync::Arc;
use std::time::Duration;

use jsonrpc::error::RpcError;
use jsonrpc::params::{string, u32_number, Params, Refusal};
use noise_transport::PublicKey;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;
use serde_json::value::RawValue;

use super::{call_failed, DEFAULT_TIMEOUT_SECONDS};
use crate::client::LspsClient;

static SIGNATURE: Signature = Signature {
    name: "lsps0-request",
    params: &["peer_id", "method", "params", "timeout"],
    usage: "peer_id method [params] [timeout]",
    developer: false,
};

/// `lsps0-request`.
pub(crate) struct Lsps0Request(pub(crate) Arc<LspsClient>);

/// Its parameters.
pub(crate) struct RequestArgs {
    peer: PublicKey,
    method: String,
    params: Box<RawValue>,
    timeout: Duration,
}

fn object(token: &RawValue) -> Result<Box<RawValue>, Refusal> {
    if token.get().starts_with('{') {
        Ok(token.to_owned())
    } else {
        Err(Refusal::Should("should be an object"))
    }
}

fn positive_seconds(token: &RawValue) -> Result<u32, Refusal> {
    match u32_number(token)? {
        0 => Err(Refusal::Should("should be a positive number of seconds")),
        seconds => Ok(seconds),
    }
}

impl TypedCommand for Lsps0Request {
    type Args = RequestArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<RequestArgs, RpcError> {
        let peer = p.required(0, rpc::params::node_id)?;
        let method = p.required(1, string)?;
        let params = match p.optional(2, object)? {
            Some(params) => params,
            None => lsps0::list_protocols::params(),
        };
        let seconds = p
            .optional(3, positive_seconds)?
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        Ok(RequestArgs {
            peer,
            method,
            params,
            timeout: Duration::from_secs(u64::from(seconds)),
        })
    }

    fn execute(&self, _: &Context<'_>, args: RequestArgs) -> Result<Reply, RpcError> {
        let client = self.0.clone();
        Ok(Reply::Later(Box::pin(async move {
            let answer = client
                .call(args.peer, &args.method, &args.params, args.timeout)
                .await
                .map_err(|error| call_failed(&args.peer, error))?;
            Ok(match answer {
                Ok(result) => {
                    let result: serde_json::Value = serde_json::from_str(result.get())
                        .map_err(|_| RpcError::lightningd("the LSP's result could not be read"))?;
                    json!({ "result": result })
                }
                Err(error) => json!({ "error": error.to_json() }),
            })
        })))
    }
}
