//! `cancelsendcustommsg id`: takes back a message stored for a peer that has not been sent
//! yet. Its record stays, with status `cancelled`.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{u64_number, Params};
use rpc::{Context, Reply, Signature, TypedCommand};

use super::{send_json, store_failed};
use crate::stored::{CancelError, StoredSends};

static SIGNATURE: Signature = Signature {
    name: "cancelsendcustommsg",
    params: &["id"],
    usage: "id",
    developer: false,
};

/// `cancelsendcustommsg`.
pub(crate) struct CancelSendCustomMsg(pub(crate) Arc<StoredSends>);

impl TypedCommand for CancelSendCustomMsg {
    type Args = u64;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<u64, RpcError> {
        p.required(0, u64_number)
    }

    fn execute(&self, _: &Context<'_>, id: u64) -> Result<Reply, RpcError> {
        match self.0.cancel(id) {
            Ok(send) => Ok(Reply::Now(send_json(&send))),
            Err(CancelError::NotFound) => Err(RpcError::lightningd(format!(
                "No stored message with id {id}"
            ))),
            Err(CancelError::Resolved(status)) => Err(RpcError::lightningd(format!(
                "Stored message {id} is already {}",
                status.name()
            ))),
            Err(CancelError::InFlight) => Err(RpcError::lightningd(format!(
                "Stored message {id} is being written to the peer: too late to cancel"
            ))),
            Err(CancelError::Store(failure)) => Err(store_failed(failure)),
        }
    }
}
