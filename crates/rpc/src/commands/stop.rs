//! `stop`: answers, then the node shuts down once the answer is written.

use serde_json::json;

use crate::command::{Context, Reply, Signature, TypedCommand};
use jsonrpc::error::RpcError;
use jsonrpc::params::Params;

static SIGNATURE: Signature = Signature {
    name: "stop",
    params: &[],
    usage: "",
    developer: false,
};

/// `stop`.
pub(crate) struct Stop;

impl TypedCommand for Stop {
    type Args = ();

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, _: &Params<'_>) -> Result<(), RpcError> {
        Ok(())
    }

    fn execute(&self, _: &Context<'_>, (): ()) -> Result<Reply, RpcError> {
        tracing::warn!("JSON-RPC shutdown");
        Ok(Reply::ThenStop(json!({ "result": "Shutdown complete" })))
    }
}
