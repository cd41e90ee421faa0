//! `commando peer_id method [params] [rune] [filter]`: runs `method` on a peer that serves
//! commando, authorised by `rune`, and returns its result (or its error, as it came).

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, Refusal};
use noise_transport::PublicKey;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::value::RawValue;

use crate::client::{Call, CommandoClient};

static SIGNATURE: Signature = Signature {
    name: "commando",
    params: &["peer_id", "method", "params", "rune", "filter"],
    usage: "peer_id method [params] [rune] [filter]",
    developer: false,
};

/// `commando`.
pub(crate) struct Commando(pub(crate) Arc<CommandoClient>);

/// The call, checked.
pub(crate) struct CommandoArgs {
    peer: PublicKey,
    method: String,
    params: Option<Box<RawValue>>,
    rune: Option<String>,
    filter: Option<Box<RawValue>>,
}

fn object_or_array(token: &RawValue) -> Result<Box<RawValue>, Refusal> {
    match token.get().as_bytes().first() {
        Some(b'{' | b'[') => Ok(token.to_owned()),
        _ => Err(Refusal::Should("should be an object or array")),
    }
}

fn object(token: &RawValue) -> Result<Box<RawValue>, Refusal> {
    match token.get().as_bytes().first() {
        Some(b'{') => Ok(token.to_owned()),
        _ => Err(Refusal::Should("should be an object")),
    }
}

/// The local command's JSON id as text: a string id without its quotes, any other token as
/// written (CLN sends the id as a string).
fn json_id(token: &str) -> String {
    serde_json::from_str::<String>(token).unwrap_or_else(|_| token.to_owned())
}

impl TypedCommand for Commando {
    type Args = CommandoArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<CommandoArgs, RpcError> {
        Ok(CommandoArgs {
            peer: p.required(0, rpc::params::node_id)?,
            method: p.required(1, jsonrpc::params::string)?,
            params: p.optional(2, object_or_array)?,
            rune: p.optional(3, jsonrpc::params::string)?,
            filter: p.optional(4, object)?,
        })
    }

    fn execute(&self, ctx: &Context<'_>, args: CommandoArgs) -> Result<Reply, RpcError> {
        let call = Call {
            peer: args.peer,
            method: args.method,
            params: args.params,
            rune: args.rune,
            filter: args.filter,
            json_id: json_id(ctx.request_id),
        };
        let client = self.0.clone();
        Ok(Reply::Later(Box::pin(
            async move { client.call(call).await },
        )))
    }
}
