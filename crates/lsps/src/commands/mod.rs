//! The LSPS client commands, one file each, and the errors they share.

pub(crate) mod lsps0_request;
pub(crate) mod lsps_listprotocols;

use jsonrpc::error::{code, RpcError};
use noise_transport::PublicKey;

use crate::client::CallError;

/// How long a call waits for the LSP unless told: CLN's client's 60 seconds.
pub(crate) const DEFAULT_TIMEOUT_SECONDS: u32 = 60;

/// A call that got no answer, worded for the caller. `Not connected to peer <id>` is CLN's
/// client's text.
pub(crate) fn call_failed(peer: &PublicKey, error: CallError) -> RpcError {
    let id = hex::encode(peer.serialize());
    match error {
        CallError::NotConnected => RpcError::lightningd(format!("Not connected to peer {id}")),
        CallError::Start(error) => {
            RpcError::lightningd(format!("Request not sent to {id}: {error}"))
        }
        CallError::Send(error) => rpc::errors::send_custom_error(peer, error),
        CallError::TimedOut(timeout) => RpcError::new(
            code::WAIT_TIMEOUT,
            format!(
                "Timeout: {id} did not answer within {} seconds",
                timeout.as_secs()
            ),
        ),
        CallError::Disconnected => {
            RpcError::lightningd(format!("Peer {id} disconnected before answering"))
        }
        CallError::Stopping => RpcError::lightningd("The node is stopping"),
    }
}
