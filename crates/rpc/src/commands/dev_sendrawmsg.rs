//! `dev-sendrawmsg node_id msg` (`--developer` only): sends a whole message, type included,
//! exactly as given, to test how a peer takes what `sendcustommsg` refuses to send: even
//! types nobody declared, channel messages, a second `init`, CLN's internal types. Only the
//! hex and the connection are checked.

use noise_transport::PublicKey;
use serde_json::json;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::errors;
use crate::params::{self, Params};
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "dev-sendrawmsg",
    params: &["node_id", "msg"],
    usage: "node_id msg",
    developer: true,
};

/// `dev-sendrawmsg`.
pub(crate) struct DevSendRawMsg;

/// A message for a connected peer, unchecked.
#[derive(Debug)]
pub(crate) struct RawArgs {
    id: PublicKey,
    /// Type and payload, 2 to 65535 bytes.
    message: Vec<u8>,
}

impl TypedCommand for DevSendRawMsg {
    type Args = RawArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<RawArgs, RpcError> {
        Ok(RawArgs {
            id: p.required(0, params::node_id)?,
            message: p.required(1, params::message_hex)?,
        })
    }

    fn validate(&self, ctx: &Context<'_>, args: &RawArgs) -> Result<(), RpcError> {
        ctx.node
            .manager()
            .check_connected(&args.id)
            .map_err(|error| errors::send_custom_error(&args.id, error))
    }

    fn execute(&self, ctx: &Context<'_>, args: RawArgs) -> Result<Reply, RpcError> {
        ctx.node
            .manager()
            .send_raw(&args.id, &args.message)
            .map_err(|error| errors::send_custom_error(&args.id, error))?;
        let ty = wire::MsgType(u16::from_be_bytes([args.message[0], args.message[1]]));
        Ok(Reply::Now(json!({
            "status": format!("Message of type {} ({}) sent to connectd for delivery, unchecked", ty.0, ty.name())
        })))
    }
}
