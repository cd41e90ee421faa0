//! `listpeers [id] [level]`: known peers, their connections and, with `level`, their log.

use node_config::LogLevel;
use noise_transport::PublicKey;
use peer_manager::PeerInfo;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::control::NodeControl;
use crate::params::{self, Params, Refusal};
use crate::shapes::hex_id;
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "listpeers",
    params: &["id", "level"],
    usage: "[id] [level]",
    developer: false,
};

/// `listpeers`.
pub(crate) struct ListPeers;

/// Which peers, and how much of their log.
#[derive(Debug)]
pub(crate) struct ListPeersArgs {
    pub(crate) id: Option<PublicKey>,
    pub(crate) level: Option<LogLevel>,
}

fn log_level(token: &RawValue) -> Result<LogLevel, Refusal> {
    match params::token_text(token).as_deref() {
        Some("io") => Ok(LogLevel::Io),
        Some("trace") => Ok(LogLevel::Trace),
        Some("debug") => Ok(LogLevel::Debug),
        Some("info") => Ok(LogLevel::Info),
        Some("unusual") => Ok(LogLevel::Unusual),
        Some("broken") => Ok(LogLevel::Broken),
        _ => Err(Refusal::Should(
            "should be 'io', 'trace', 'debug', 'info', 'unusual' or 'broken'",
        )),
    }
}

fn peer_json(node: &dyn NodeControl, peer: &PeerInfo, level: Option<LogLevel>) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), hex_id(&peer.id).into());
    object.insert("connected".into(), peer.connection.is_some().into());
    object.insert("num_channels".into(), peer.channels.len().into());
    let features = match &peer.connection {
        Some(connection) => {
            object.insert("netaddr".into(), json!([connection.address.to_string()]));
            if let Some(remote_addr) = &connection.remote_addr {
                object.insert("remote_addr".into(), remote_addr.to_string().into());
            }
            hex::encode(connection.features.as_wire())
        }
        None => String::new(),
    };
    object.insert("features".into(), features.into());
    if let Some(level) = level {
        let log = node
            .peer_log(&peer.id, level)
            .into_iter()
            .map(|entry| {
                let mut line = Map::new();
                line.insert("type".into(), entry.type_name().into());
                line.insert(
                    "time".into(),
                    format!("{}.{:09}", entry.time.as_secs(), entry.time.subsec_nanos()).into(),
                );
                line.insert("node_id".into(), entry.node_id.into());
                line.insert("source".into(), entry.source.into());
                line.insert("log".into(), entry.log.into());
                if let Some(data) = entry.data {
                    line.insert("data".into(), data.into());
                }
                Value::Object(line)
            })
            .collect();
        object.insert("log".into(), Value::Array(log));
    }
    Value::Object(object)
}

impl TypedCommand for ListPeers {
    type Args = ListPeersArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<ListPeersArgs, RpcError> {
        let id = p.optional(0, params::node_id)?;
        let level = p.optional(1, log_level)?;
        Ok(ListPeersArgs { id, level })
    }

    fn execute(&self, ctx: &Context<'_>, args: ListPeersArgs) -> Result<Reply, RpcError> {
        let manager = ctx.node.manager();
        let mut peers = match args.id {
            Some(id) => manager.peer(&id).into_iter().collect(),
            None => manager.peers(),
        };
        peers.sort_by_key(|peer| peer.id.serialize());
        let peers: Vec<Value> = peers
            .iter()
            .map(|peer| peer_json(&**ctx.node, peer, args.level))
            .collect();
        Ok(Reply::Now(json!({ "peers": peers })))
    }
}
