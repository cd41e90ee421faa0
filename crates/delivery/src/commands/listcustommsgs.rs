//! `listcustommsgs [peer_id] [since] [limit]`: the received custom messages the inbox holds,
//! oldest first, with an index above `since` (default 0), from `peer_id` only if given, at most
//! `limit` of them.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{u64_number, Params};
use noise_transport::PublicKey;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::{inbox_disabled, received_json, store_failed};
use crate::inbox::Inbox;

static SIGNATURE: Signature = Signature {
    name: "listcustommsgs",
    params: &["peer_id", "since", "limit"],
    usage: "[peer_id] [since] [limit]",
    developer: false,
};

/// `listcustommsgs`; `None` when the inbox is off.
pub(crate) struct ListCustomMsgs(pub(crate) Option<Arc<Inbox>>);

/// Its parameters.
pub(crate) struct ListArgs {
    peer: Option<PublicKey>,
    since: u64,
    limit: Option<u64>,
}

impl TypedCommand for ListCustomMsgs {
    type Args = ListArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<ListArgs, RpcError> {
        Ok(ListArgs {
            peer: p.optional(0, rpc::params::node_id)?,
            since: p.optional(1, u64_number)?.unwrap_or(0),
            limit: p.optional(2, u64_number)?,
        })
    }

    fn validate(&self, _: &Context<'_>, _: &ListArgs) -> Result<(), RpcError> {
        self.0.as_ref().map(|_| ()).ok_or_else(inbox_disabled)
    }

    fn execute(&self, _: &Context<'_>, args: ListArgs) -> Result<Reply, RpcError> {
        let inbox = self.0.as_ref().ok_or_else(inbox_disabled)?;
        let messages = inbox
            .list(args.peer.as_ref(), args.since, args.limit)
            .map_err(store_failed)?;
        let shown: Vec<_> = messages.iter().map(received_json).collect();
        Ok(Reply::Now(json!({ "custommsgs": shown })))
    }
}
