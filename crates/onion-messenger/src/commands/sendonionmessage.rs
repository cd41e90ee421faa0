//! `sendonionmessage hops tlvs [reply_path] [blinded_path]`: builds an onion message and sends
//! it to its first hop.
//!
//! - `hops`: node ids in order. Without `blinded_path` the last is the recipient and the rest
//!   are the nodes on the way; with it they are the nodes before its introduction node (maybe
//!   none). The first node (or, with none, the introduction node) must be a connected peer
//!   that offers onion messages, or this node (then it is peeled here, as CLN's plugins
//!   inject onions whose first hop is the node itself).
//! - `tlvs`: the final hop's payload, `{"<type>": "<hex>"}`, one odd type of 64 or more.
//! - `reply_path`: a blinded path the recipient may answer along (CLN's JSON shape, e.g. from
//!   `createonionreplypath`, or its hex).
//! - `blinded_path`: send into this blinded path instead of to a node id: how a plugin answers
//!   a message along the `reply_blindedpath` its hook received.
//!
//! CLN has no such command today (its plugins build onions and inject them); the result is
//! `{"first_hop": <node id>}`.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use noise_transport::PublicKey;
use onion_message::{
    build_onion_message, BlindedPath, BuildError, Destination, Encode, IntroductionNode,
    MessageContents, SecretKey, SenderSecrets, TlvRecord,
};
use peer_manager::SendOnionError;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::params::{blinded_path, node_ids, payload_tlvs};
use crate::relay::Relay;

static SIGNATURE: Signature = Signature {
    name: "sendonionmessage",
    params: &["hops", "tlvs", "reply_path", "blinded_path"],
    usage: "hops tlvs [reply_path] [blinded_path]",
    developer: false,
};

/// `sendonionmessage`.
pub(crate) struct SendOnionMessage(pub(crate) Arc<Relay>);

/// Its parameters, checked.
pub(crate) struct SendArgs {
    intermediate: Vec<PublicKey>,
    destination: Destination,
    first_hop: PublicKey,
    contents: MessageContents,
}

fn lightningd(text: String) -> RpcError {
    RpcError::lightningd(text)
}

impl TypedCommand for SendOnionMessage {
    type Args = SendArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<SendArgs, RpcError> {
        let mut hops = p.required(0, node_ids)?;
        let custom: Vec<TlvRecord> = p.required(1, payload_tlvs)?;
        let reply_path = p.optional(2, blinded_path)?;
        let destination_path: Option<BlindedPath> = p.optional(3, blinded_path)?;
        let (intermediate, destination) = match destination_path {
            Some(path) => (hops, Destination::BlindedPath(path)),
            None => {
                let recipient = hops.pop().ok_or_else(|| {
                    RpcError::invalid_params(
                        "hops: should name at least the recipient (or give blinded_path)",
                    )
                })?;
                (hops, Destination::Node(recipient))
            }
        };
        let first_hop = match (intermediate.first(), &destination) {
            (Some(first), _) => *first,
            (None, Destination::Node(recipient)) => *recipient,
            (None, Destination::BlindedPath(path)) => match path.introduction_node() {
                IntroductionNode::NodeId(id) => *id,
                IntroductionNode::Channel { .. } => {
                    return Err(RpcError::invalid_params(
                        "blinded_path: starts at a short channel id, which this node cannot resolve; give its first_node_id",
                    ))
                }
            },
        };
        Ok(SendArgs {
            intermediate,
            destination,
            first_hop,
            contents: MessageContents {
                reply_path,
                custom,
                ..MessageContents::default()
            },
        })
    }

    fn validate(&self, _: &Context<'_>, args: &SendArgs) -> Result<(), RpcError> {
        let relay = &self.0;
        if args.first_hop == relay.node_id {
            return Ok(());
        }
        let connection = relay
            .manager
            .peer(&args.first_hop)
            .and_then(|peer| peer.connection);
        match connection {
            None => Err(lightningd(format!(
                "First hop {} is not a connected peer",
                args.first_hop
            ))),
            Some(connection)
                if !connection
                    .features
                    .offers(wire::feature_bits::OPTION_ONION_MESSAGES) =>
            {
                Err(lightningd(format!(
                    "First hop {} does not offer onion messages",
                    args.first_hop
                )))
            }
            Some(_) => Ok(()),
        }
    }

    fn execute(&self, _: &Context<'_>, args: SendArgs) -> Result<Reply, RpcError> {
        let relay = &self.0;
        let mut rng = secp256k1::rand::thread_rng();
        let secrets = SenderSecrets {
            session_key: SecretKey::new(&mut rng),
            first_path_secret: SecretKey::new(&mut rng),
        };
        let built = build_onion_message(
            &args.intermediate,
            &args.destination,
            &args.contents,
            &secrets,
        )
        .map_err(|error| match error {
            BuildError::TooBig { .. } => {
                RpcError::invalid_params("Creating onion failed (tlvs too long?)")
            }
            other => RpcError::invalid_params(other.to_string()),
        })?;
        if built.first_hop == relay.node_id {
            relay.handle(None, built.message).map_err(lightningd)?;
        } else {
            relay
                .manager
                .send_onion_message(&built.first_hop, &built.message.to_bytes())
                .map_err(|error| {
                    lightningd(match error {
                        SendOnionError::NotConnected => {
                            format!("First hop {} is not a connected peer", built.first_hop)
                        }
                        other => format!("Cannot send to {}: {other}", built.first_hop),
                    })
                })?;
        }
        Ok(Reply::Now(
            json!({"first_hop": built.first_hop.to_string()}),
        ))
    }
}
