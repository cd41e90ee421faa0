//! The delivery commands, one file each, and the JSON shapes they share.

pub(crate) mod cancelsendcustommsg;
pub(crate) mod listcustommsgs;
pub(crate) mod listsendcustommsgs;
pub(crate) mod waitcustommsg;

use jsonrpc::error::RpcError;
use serde_json::{json, Value};

use crate::store::{ReceivedMessage, StoreFailure, StoredSend};

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

/// A stored send as the commands show it: `id`, `peer_id`, `payload` (hex), `status`,
/// `created_at`, `expires_at` and, once it left `pending`, `resolved_at` (Unix seconds).
pub(crate) fn send_json(send: &StoredSend) -> Value {
    let mut shown = json!({
        "id": send.id,
        "peer_id": hex::encode(send.peer),
        "payload": hex::encode(&send.payload),
        "status": send.status.name(),
        "created_at": send.created_at,
        "expires_at": send.expires_at,
    });
    if let (Some(at), Some(object)) = (send.resolved_at, shown.as_object_mut()) {
        object.insert("resolved_at".to_owned(), json!(at));
    }
    shown
}

/// The error for a command that needs the inbox when `--custommsg-inbox=false`.
pub(crate) fn inbox_disabled() -> RpcError {
    RpcError::lightningd(
        "The custom message inbox is off (--custommsg-inbox=false): received messages are not recorded",
    )
}

/// A store failure, as the client sees it.
pub(crate) fn store_failed(failure: StoreFailure) -> RpcError {
    RpcError::lightningd(format!("The store failed: {failure}"))
}
