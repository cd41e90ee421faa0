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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::json_id;
    use crate::testing::Rig;

    #[test]
    fn the_json_id_sent_is_the_local_ids_text() {
        assert_eq!(json_id(r#""cli:commando#12""#), "cli:commando#12");
        assert_eq!(json_id(r#""a\"b""#), "a\"b");
        assert_eq!(json_id("7"), "7");
        assert_eq!(json_id("null"), "null");
    }

    #[tokio::test]
    async fn parameters_are_checked_before_anything_is_sent() {
        let rig = Rig::start(1).await;
        let peer = peer_manager::testing::node_id(7).to_string();
        let cases = [
            (
                json!({"method": "getinfo"}),
                "missing required parameter: peer_id".to_owned(),
            ),
            (
                json!({"peer_id": "02", "method": "getinfo"}),
                r#"peer_id: should be a node id: invalid token '"02"'"#.to_owned(),
            ),
            (
                json!({ "peer_id": peer }),
                "missing required parameter: method".to_owned(),
            ),
            (
                json!({"peer_id": peer, "method": 7}),
                "method: should be a string: invalid token '7'".to_owned(),
            ),
            (
                json!({"peer_id": peer, "method": "getinfo", "params": "x"}),
                r#"params: should be an object or array: invalid token '"x"'"#.to_owned(),
            ),
            (
                json!({"peer_id": peer, "method": "getinfo", "rune": 7}),
                "rune: should be a string: invalid token '7'".to_owned(),
            ),
            (
                json!({"peer_id": peer, "method": "getinfo", "filter": []}),
                "filter: should be an object: invalid token '[]'".to_owned(),
            ),
        ];
        for (params, message) in cases {
            assert_eq!(
                rig.err("commando", params.clone()).await,
                (-32602, message),
                "{params}"
            );
        }
    }

    #[tokio::test]
    async fn a_peer_we_are_not_connected_to_is_sendcustommsgs_error() {
        let rig = Rig::start(1).await;
        let peer = peer_manager::testing::node_id(7).to_string();
        let call = json!([peer, "getinfo", {}, "rune", {"id": true}]);
        assert_eq!(
            rig.err("commando", call).await,
            (-32600, format!("No such peer: {peer}"))
        );
    }
}
