//! `getinfo`: the node's identity, counts, addresses and features.

use serde_json::{json, Map, Value};

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::shapes::{address_json, hex_id, websocket_address_json};
use jsonrpc::error::RpcError;
use jsonrpc::params::Params;

static SIGNATURE: Signature = Signature {
    name: "getinfo",
    params: &[],
    usage: "",
    developer: false,
};

/// `getinfo`.
pub(crate) struct GetInfo;

impl TypedCommand for GetInfo {
    type Args = ();

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, _: &Params<'_>) -> Result<(), RpcError> {
        Ok(())
    }

    fn execute(&self, ctx: &Context<'_>, (): ()) -> Result<Reply, RpcError> {
        let info = ctx.node.info();
        let manager = ctx.node.manager();
        let channels = ctx.node.channels()?;
        // CLN counts a channel active until its close is settled (`channel_active`).
        let active = channels.iter().filter(|c| c.state.is_active()).count();
        let features = hex::encode(manager.our_features().as_wire());
        let mut result = Map::new();
        result.insert("id".into(), hex_id(&manager.node_id()).into());
        result.insert("alias".into(), info.alias.clone().into());
        result.insert("color".into(), hex::encode(info.color).into());
        result.insert("num_peers".into(), manager.peers().len().into());
        result.insert("num_pending_channels".into(), 0.into());
        result.insert("num_active_channels".into(), active.into());
        result.insert(
            "num_inactive_channels".into(),
            (channels.len() - active).into(),
        );
        result.insert(
            "address".into(),
            info.announced.iter().map(address_json).collect(),
        );
        let binding: Vec<Value> = manager
            .listen_addrs()
            .iter()
            .map(address_json)
            .chain(manager.websocket_addrs().iter().map(websocket_address_json))
            .collect();
        if !binding.is_empty() {
            result.insert("binding".into(), binding.into());
        }
        result.insert("version".into(), info.version.clone().into());
        // No chain backend: there is no block height to report, and no fees (no funds).
        result.insert("blockheight".into(), 0.into());
        result.insert("network".into(), info.network.clone().into());
        result.insert("fees_collected_msat".into(), 0.into());
        result.insert(
            "lightning-dir".into(),
            info.network_dir.display().to_string().into(),
        );
        result.insert(
            "our_features".into(),
            json!({ "init": features, "node": features, "channel": "", "invoice": "" }),
        );
        Ok(Reply::Now(Value::Object(result)))
    }
}
