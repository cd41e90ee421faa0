//! `listpeerchannels [id] [short_channel_id] [channel_id]`: the stored channels, with their
//! peer's connection and owner.

use noise_transport::PublicKey;
use peer_manager::PeerInfo;
use serde_json::{json, Map, Value};
use subdaemon_state::Owner;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::control::ChannelRecord;
use crate::params::{self, Params};
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "listpeerchannels",
    params: &["id", "short_channel_id", "channel_id"],
    usage: "[id] [short_channel_id] [channel_id]",
    developer: false,
};

/// `listpeerchannels`.
pub(crate) struct ListPeerChannels;

/// Which channels.
#[derive(Debug)]
pub(crate) struct ListPeerChannelsArgs {
    id: Option<PublicKey>,
    short_channel_id: Option<String>,
    channel_id: Option<[u8; 32]>,
}

fn channel_json(channel: &ChannelRecord, peer: Option<&PeerInfo>) -> Value {
    let connected = peer.is_some_and(|peer| peer.connection.is_some());
    let owner = channel.state.owner();
    let mut object = Map::new();
    object.insert("peer_id".into(), hex::encode(channel.peer_id).into());
    object.insert("peer_connected".into(), connected.into());
    object.insert("state".into(), channel.state.name().into());
    // channeld and closingd run only while the peer is connected; onchaind always.
    if connected || owner == Owner::Onchaind {
        object.insert("owner".into(), owner.name().into());
    }
    object.insert("channel_id".into(), hex::encode(channel.channel_id).into());
    object.insert("opener".into(), channel.opener.name().into());
    // No channel type is negotiated for a simulated channel.
    object.insert("features".into(), json!([]));
    Value::Object(object)
}

impl TypedCommand for ListPeerChannels {
    type Args = ListPeerChannelsArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<ListPeerChannelsArgs, RpcError> {
        Ok(ListPeerChannelsArgs {
            id: p.optional(0, params::node_id)?,
            short_channel_id: p.optional(1, params::string)?,
            channel_id: p.optional(2, params::channel_id)?,
        })
    }

    fn execute(&self, ctx: &Context<'_>, args: ListPeerChannelsArgs) -> Result<Reply, RpcError> {
        let manager = ctx.node.manager();
        let channels: Vec<Value> = ctx
            .node
            .channels()?
            .iter()
            // Simulated channels have no funding output, hence no short channel id to match.
            .filter(|_| args.short_channel_id.is_none())
            .filter(|channel| args.id.is_none_or(|id| channel.peer_id == id.serialize()))
            .filter(|channel| {
                args.channel_id
                    .is_none_or(|wanted| channel.channel_id == wanted)
            })
            .map(|channel| {
                let peer = PublicKey::from_slice(&channel.peer_id)
                    .ok()
                    .and_then(|id| manager.peer(&id));
                channel_json(channel, peer.as_ref())
            })
            .collect();
        Ok(Reply::Now(json!({ "channels": channels })))
    }
}
