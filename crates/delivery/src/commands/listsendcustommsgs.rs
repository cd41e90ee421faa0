//! `listsendcustommsgs [node_id] [status]`: the messages `sendcustommsg` stored for peers
//! (`delivery` `stored`), oldest first, with their fate: `pending`, `sent`, `expired` or
//! `cancelled`. Resolved ones stay listed for a week.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, Refusal};
use noise_transport::PublicKey;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::{send_json, store_failed};
use crate::store::SendStatus;
use crate::stored::StoredSends;

static SIGNATURE: Signature = Signature {
    name: "listsendcustommsgs",
    params: &["node_id", "status"],
    usage: "[node_id] [status]",
    developer: false,
};

/// `listsendcustommsgs`.
pub(crate) struct ListSendCustomMsgs(pub(crate) Arc<StoredSends>);

fn status(token: &serde_json::value::RawValue) -> Result<SendStatus, Refusal> {
    SendStatus::from_name(&jsonrpc::params::string(token)?).ok_or(Refusal::Should(
        "should be one of pending, sent, expired, cancelled",
    ))
}

impl TypedCommand for ListSendCustomMsgs {
    type Args = (Option<PublicKey>, Option<SendStatus>);

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<Self::Args, RpcError> {
        Ok((p.optional(0, rpc::params::node_id)?, p.optional(1, status)?))
    }

    fn execute(&self, _: &Context<'_>, (peer, status): Self::Args) -> Result<Reply, RpcError> {
        let sends = self.0.list(peer.as_ref(), status).map_err(store_failed)?;
        let shown: Vec<_> = sends.iter().map(send_json).collect();
        Ok(Reply::Now(json!({ "sendcustommsgs": shown })))
    }
}
