//! `ping id [len] [pongbytes]`: sends a ping and waits for its pong.

use noise_transport::PublicKey;
use serde_json::json;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::errors;
use crate::params::{self, Params};
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "ping",
    params: &["id", "len", "pongbytes"],
    usage: "id [len] [pongbytes]",
    developer: false,
};

/// The largest `len`: type, `num_pong_bytes` and `byteslen` leave 65529 bytes of padding.
const MAX_PING_PADDING: u32 = 65529;

/// `ping`.
pub(crate) struct Ping;

/// What to ping, and how.
#[derive(Debug)]
pub(crate) struct PingArgs {
    pub(crate) id: PublicKey,
    /// Bytes of padding in the ping.
    pub(crate) len: u16,
    /// Bytes asked for in the pong.
    pub(crate) pong_bytes: u16,
}

impl TypedCommand for Ping {
    type Args = PingArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<PingArgs, RpcError> {
        let id = p.required(0, params::node_id)?;
        let len = p.optional(1, params::u32_number)?.unwrap_or(128);
        let pong_bytes = p.optional(2, params::u32_number)?.unwrap_or(128);
        if len > MAX_PING_PADDING {
            return Err(RpcError::invalid_params(format!(
                "{len} would result in oversize ping"
            )));
        }
        let (Ok(len), Ok(pong_bytes)) = (u16::try_from(len), u16::try_from(pong_bytes)) else {
            return Err(RpcError::invalid_params(format!(
                "pongbytes {pong_bytes} > 65535"
            )));
        };
        Ok(PingArgs {
            id,
            len,
            pong_bytes,
        })
    }

    fn execute(&self, ctx: &Context<'_>, args: PingArgs) -> Result<Reply, RpcError> {
        let node = ctx.node.clone();
        Ok(Reply::Later(Box::pin(async move {
            match node
                .manager()
                .ping(&args.id, args.len, args.pong_bytes)
                .await
            {
                Ok(totlen) => Ok(json!({ "totlen": totlen })),
                Err(error) => Err(errors::ping_error(error)),
            }
        })))
    }
}
