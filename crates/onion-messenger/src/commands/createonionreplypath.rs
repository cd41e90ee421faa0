//! `createonionreplypath [hops]`: a blinded path to this node, for a `reply_path` (or to hand
//! out any other way). `hops` are node ids from the path's introduction node towards us (each
//! must be able to reach the next; the last must reach us); none makes this node the
//! introduction node, which reveals it to whoever replies.
//!
//! The path's `path_id` is a fresh secret only this node can make (`path_secret.rs`); a message
//! that arrives over the path goes to the `onion_message_recv_secret` hook with it as
//! `pathsecret`, which the result returns so the caller can match replies to requests.
//!
//! CLN has no command for this (its offers plugin calls `incoming_message_blinded_path` in C).
//! Result: `{"blindedpath": {CLN's shape}, "blindedpath_hex": <BOLT 4 bytes>, "pathsecret": hex}`.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use noise_transport::PublicKey;
use onion_message::{create_blinded_path, ForwardNode, SecretKey};
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::params::node_ids;
use crate::relay::Relay;
use crate::shapes::{blinded_path_hex, blinded_path_json};

static SIGNATURE: Signature = Signature {
    name: "createonionreplypath",
    params: &["hops"],
    usage: "[hops]",
    developer: false,
};

/// `createonionreplypath`.
pub(crate) struct CreateOnionReplyPath(pub(crate) Arc<Relay>);

impl TypedCommand for CreateOnionReplyPath {
    type Args = Vec<PublicKey>;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<Vec<PublicKey>, RpcError> {
        Ok(p.optional(0, node_ids)?.unwrap_or_default())
    }

    fn execute(&self, _: &Context<'_>, hops: Vec<PublicKey>) -> Result<Reply, RpcError> {
        let relay = &self.0;
        let forward: Vec<ForwardNode> = hops
            .iter()
            .map(|&node_id| ForwardNode {
                node_id,
                next_short_channel_id: None,
            })
            .collect();
        let pathsecret = relay.paths.issue();
        let first_path_secret = SecretKey::new(&mut secp256k1::rand::thread_rng());
        let path = create_blinded_path(&forward, &relay.node_id, &pathsecret, &first_path_secret)
            .map_err(|error| RpcError::invalid_params(format!("hops: {error}")))?;
        Ok(Reply::Now(json!({
            "blindedpath": blinded_path_json(&path),
            "blindedpath_hex": blinded_path_hex(&path),
            "pathsecret": hex::encode(pathsecret),
        })))
    }
}
