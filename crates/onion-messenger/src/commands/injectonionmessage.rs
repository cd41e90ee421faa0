//! `injectonionmessage path_key message` (CLN v24.11+): handles an onion packet as if a peer
//! had sent it: forwarded to its next peer or received here. The result is `{}`; a packet
//! that goes nowhere fails with CLN's reason (code -1), a packet longer than a Lightning
//! message with `onion message too long` (-32602).

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use noise_transport::PublicKey;
use onion_message::OnionMessage;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::params::{hex_bytes, pubkey};
use crate::relay::Relay;

static SIGNATURE: Signature = Signature {
    name: "injectonionmessage",
    params: &["path_key", "message"],
    usage: "path_key message",
    developer: false,
};

/// `injectonionmessage`.
pub(crate) struct InjectOnionMessage(pub(crate) Arc<Relay>);

impl TypedCommand for InjectOnionMessage {
    type Args = OnionMessage;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<OnionMessage, RpcError> {
        let path_key: PublicKey = p.required(0, pubkey)?;
        let packet = p.required(1, hex_bytes)?;
        OnionMessage::new(path_key, packet)
            .map_err(|_| RpcError::invalid_params("onion message too long"))
    }

    fn execute(&self, _: &Context<'_>, message: OnionMessage) -> Result<Reply, RpcError> {
        self.0.handle(None, message).map_err(RpcError::lightningd)?;
        Ok(Reply::Now(json!({})))
    }
}
