//! `sendcustommsg node_id msg` (and `dev-sendcustommsg`, its developer-mode name): queues a
//! custom message to a peer, with CLN's checks in CLN's order: the type, then the peer.

use noise_transport::PublicKey;
use serde_json::json;
use wire::MsgType;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::errors;
use crate::params::{self, Params};
use jsonrpc::error::RpcError;

/// `sendcustommsg` under either of its names.
pub(crate) struct SendCustomMsg {
    signature: Signature,
}

impl SendCustomMsg {
    /// `sendcustommsg`.
    pub(crate) const PUBLIC: SendCustomMsg = SendCustomMsg::named("sendcustommsg", false);
    /// `dev-sendcustommsg`, its name before CLN v0.10.2, kept under `--developer`.
    pub(crate) const DEVELOPER: SendCustomMsg = SendCustomMsg::named("dev-sendcustommsg", true);

    const fn named(name: &'static str, developer: bool) -> SendCustomMsg {
        SendCustomMsg {
            signature: Signature {
                name,
                params: &["node_id", "msg"],
                usage: "node_id msg",
                developer,
            },
        }
    }
}

/// A message for a peer.
#[derive(Debug)]
pub(crate) struct SendArgs {
    pub(crate) id: PublicKey,
    /// Type and payload, at least 2 bytes.
    pub(crate) message: Vec<u8>,
    pub(crate) ty: MsgType,
}

impl TypedCommand for SendCustomMsg {
    type Args = SendArgs;

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn parse(&self, p: &Params<'_>) -> Result<SendArgs, RpcError> {
        let id = p.required(0, params::node_id)?;
        let message = p.required(1, params::message_hex)?;
        let ty = MsgType(u16::from_be_bytes([message[0], message[1]]));
        if ty.is_cln_internal() {
            return Err(RpcError::invalid_request(format!(
                "Cannot send messages of type {} ({}). It is not possible to send messages that \
                 have a type managed internally since that might cause issues with the internal \
                 state tracking.",
                ty.0,
                ty.name()
            )));
        }
        Ok(SendArgs { id, message, ty })
    }

    fn validate(&self, ctx: &Context<'_>, args: &SendArgs) -> Result<(), RpcError> {
        let manager = ctx.node.manager();
        let ty = args.ty;
        // An even type is allowed only while a running plugin declared it.
        if !ty.is_odd() && !manager.is_allowed_even_type(ty.0) {
            return Err(RpcError::invalid_request(format!(
                "Cannot send even-typed {} custom message. Currently custom messages are limited \
                 to odd-numbered message types, as even-numbered types might result in \
                 disconnections.",
                ty.0
            )));
        }
        manager
            .check_custom(&args.id)
            .map_err(|error| errors::send_custom_error(&args.id, error))?;
        Ok(())
    }

    fn execute(&self, ctx: &Context<'_>, args: SendArgs) -> Result<Reply, RpcError> {
        let owner = ctx
            .node
            .manager()
            .send_custom(&args.id, &args.message)
            .map_err(|error| errors::send_custom_error(&args.id, error))?;
        Ok(Reply::Now(json!({
            "status": format!("Message sent to subdaemon {owner} for delivery")
        })))
    }
}
