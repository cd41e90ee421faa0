//! The delivery commands, one file each, and the JSON shapes they share.

pub(crate) mod listcustommsgs;
pub(crate) mod waitcustommsg;

use jsonrpc::error::RpcError;
use serde_json::{json, Value};

use crate::store::{ReceivedMessage, StoreFailure};

/// A received message as the commands show it: `index`, `peer_id`, `payload` (type and
/// payload in hex, as the `custommsg` hook gives it) and `received_at` (Unix seconds).
pub(crate) fn received_json(message: &ReceivedMessage) -> Value {
    json!({
        "index": message.index,
        "peer_id": hex::encode(message.peer),
        "payload": hex::encode(&message.payload),
        "received_at": message.received_at,
    })
}

/// The error for a command that needs the inbox when `--custommsg-inbox=false`.
pub(crate) fn inbox_disabled() -> RpcError {
    RpcError::lightningd(
        "The custom message inbox is off (--custommsg-inbox=false): received messages are not recorded",
    )
}

/// A store failure, as the client sees it.
pub(crate) fn store_failed(failure: StoreFailure) -> RpcError {
    RpcError::lightningd(format!("The inbox's store failed: {failure}"))
}
