//! `dev-peer-write-delay id delay_ms` (`--developer` only): our writes to one connected peer
//! wait `delay_ms` milliseconds each, from now until that connection closes; 0 clears it. For
//! testing how a peer copes with a slow one (its ping timeouts, its queues).

use std::time::Duration;

use noise_transport::PublicKey;
use serde_json::json;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::errors;
use crate::params::{self, Params};
use crate::shapes::hex_id;
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "dev-peer-write-delay",
    params: &["id", "delay_ms"],
    usage: "id delay_ms",
    developer: true,
};

/// `dev-peer-write-delay`.
pub(crate) struct DevPeerWriteDelay;

/// The peer, and the delay before each write.
#[derive(Debug)]
pub(crate) struct DelayArgs {
    id: PublicKey,
    delay_ms: u32,
}

impl TypedCommand for DevPeerWriteDelay {
    type Args = DelayArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<DelayArgs, RpcError> {
        Ok(DelayArgs {
            id: p.required(0, params::node_id)?,
            delay_ms: p.required(1, jsonrpc::params::u32_number)?,
        })
    }

    fn validate(&self, ctx: &Context<'_>, args: &DelayArgs) -> Result<(), RpcError> {
        ctx.node
            .manager()
            .check_connected(&args.id)
            .map_err(|error| errors::send_custom_error(&args.id, error))
    }

    fn execute(&self, ctx: &Context<'_>, args: DelayArgs) -> Result<Reply, RpcError> {
        let delay = Duration::from_millis(u64::from(args.delay_ms));
        ctx.node
            .manager()
            .set_write_delay(&args.id, delay)
            .map_err(|error| errors::send_custom_error(&args.id, error))?;
        Ok(Reply::Now(json!({
            "id": hex_id(&args.id),
            "delay_ms": args.delay_ms,
        })))
    }
}
