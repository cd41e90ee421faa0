//! `disconnect id [force]`: closes a peer's connection and waits until it is closed.

use std::time::Duration;

use noise_transport::PublicKey;
use peer_manager::PeerEvent;
use serde_json::json;
use serde_json::value::RawValue;
use subdaemon_state::Owner;
use tokio::sync::broadcast::error::RecvError;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::params::{self, Params, Refusal};
use crate::shapes::hex_id;
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "disconnect",
    params: &["id", "force"],
    usage: "id [force]",
    developer: false,
};

/// How long `disconnect` waits for the connection's tasks to confirm it closed.
const DISCONNECT_CONFIRMATION: Duration = Duration::from_secs(30);

/// `disconnect`.
pub(crate) struct Disconnect;

/// Whom to disconnect.
#[derive(Debug)]
pub(crate) struct DisconnectArgs {
    pub(crate) id: PublicKey,
    /// Even with a channel channeld or closingd still runs.
    pub(crate) force: bool,
}

/// A node id, refused in `disconnect`'s words.
fn peer_id(token: &RawValue) -> Result<PublicKey, Refusal> {
    params::node_id(token).map_err(|_| Refusal::Should("invalid peer id"))
}

impl TypedCommand for Disconnect {
    type Args = DisconnectArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<DisconnectArgs, RpcError> {
        let id = p.required(0, peer_id)?;
        let force = p.optional(1, params::boolean)?.unwrap_or(false);
        Ok(DisconnectArgs { id, force })
    }

    fn validate(&self, ctx: &Context<'_>, args: &DisconnectArgs) -> Result<(), RpcError> {
        let peer = ctx.node.manager().peer(&args.id).ok_or_else(|| {
            RpcError::invalid_params(format!("Unknown peer '{}'", hex_id(&args.id)))
        })?;
        if peer.connection.is_none() {
            return Err(RpcError::lightningd("Peer not connected"));
        }
        if !args.force {
            if let Some((_, state)) = peer
                .channels
                .iter()
                // channeld and closingd still talk to the peer; onchaind does not need it.
                .find(|(_, state)| state.owner() != Owner::Onchaind)
            {
                return Err(RpcError::lightningd(format!(
                    "Peer has (at least one) channel in state {}",
                    state.name()
                )));
            }
        }
        Ok(())
    }

    fn execute(&self, ctx: &Context<'_>, args: DisconnectArgs) -> Result<Reply, RpcError> {
        let manager = ctx.node.manager();
        let id = args.id;
        // Subscribed before closing, so the confirmation cannot be missed.
        let mut events = manager.subscribe();
        if !manager.disconnect(&id) {
            return Err(RpcError::lightningd("Peer not connected"));
        }
        Ok(Reply::Later(Box::pin(async move {
            let confirmed = tokio::time::timeout(DISCONNECT_CONFIRMATION, async {
                loop {
                    match events.recv().await {
                        Ok(PeerEvent::Disconnected { id: gone, .. }) if gone == id => return,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    }
                }
            })
            .await;
            match confirmed {
                Ok(()) => Ok(json!({})),
                Err(_) => Err(RpcError::lightningd(
                    "Disconnection was not confirmed in time",
                )),
            }
        })))
    }
}
