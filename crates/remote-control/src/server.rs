//! The commando server: commands arriving from peers in custom messages are put back together
//! (`commando::Server`), their rune checked against the calling peer's node id, and run
//! through the same dispatcher as the RPC socket, plugin methods and `filter` included. The
//! reply goes back in chunks to the peer that asked, and only to it.
//!
//! No rune is ever logged: the log says which unique id was used, never the rune.

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Instant, SystemTime};

use commando::{
    error_reply, reply_messages, response_body, Chunk, Command, Refusal, RequestId, Server,
    ServerAction, ServerConfig, COMMANDO_ERROR_REMOTE, COMMANDO_ERROR_REMOTE_AUTH,
};
use jsonrpc::error::RpcError;
use noise_transport::PublicKey;
use peer_manager::PeerManager;
use rpc::{Dispatcher, Reply, Session};
use runes::{CheckRuneError, RuneParamError};
use serde_json::Value;

use crate::authority::{Asking, CheckFailure, RuneAuthority};

/// The server side of commando for every peer.
pub(crate) struct CommandoServer {
    state: Mutex<Server<PublicKey>>,
    authority: Arc<RuneAuthority>,
    /// Set once the dispatcher is built (it holds our commands, so it comes after us).
    dispatcher: OnceLock<Weak<Dispatcher>>,
    manager: PeerManager,
}

impl CommandoServer {
    pub(crate) fn new(
        config: ServerConfig,
        authority: Arc<RuneAuthority>,
        manager: PeerManager,
    ) -> Self {
        CommandoServer {
            state: Mutex::new(Server::new(config)),
            authority,
            dispatcher: OnceLock::new(),
            manager,
        }
    }

    /// Runs commands through `dispatcher` from now on.
    pub(crate) fn serve(&self, dispatcher: &Arc<Dispatcher>) {
        let _ = self.dispatcher.set(Arc::downgrade(dispatcher));
    }

    /// A command chunk from `peer`. Quick: the command itself runs on a task of its own.
    pub(crate) fn handle(self: &Arc<Self>, peer: PublicKey, chunk: &Chunk<'_>) {
        let now = Instant::now();
        let action = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.handle_timeout(now);
            state.handle_chunk(&peer, chunk, now)
        };
        match action {
            ServerAction::Nothing => {}
            ServerAction::Reply(messages) => {
                tracing::debug!(node_id = %peer, subsystem = "commando", "Refused a commando request: {}", reply_text(&messages));
                tokio::spawn(send(self.manager.clone(), peer, messages));
            }
            ServerAction::Execute(command) => {
                tokio::spawn(self.clone().execute(peer, command));
            }
        }
    }

    /// Forgets `peer`'s partial request.
    pub(crate) fn peer_disconnected(&self, peer: &PublicKey) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .peer_disconnected(peer);
    }

    /// Checks the rune, runs the command and replies.
    async fn execute(self: Arc<Self>, peer: PublicKey, command: Command) {
        let Command { id, request } = command;
        let node_id = peer.serialize();
        let asking = Asking {
            node_id: Some(&node_id),
            method: Some(&request.method),
            params: Some(&request.params),
        };
        let checked = self
            .authority
            .check(&request.rune, asking, SystemTime::now());
        let messages = match checked {
            Err(CheckFailure::Refused(refused)) => {
                tracing::info!(node_id = %peer, subsystem = "commando", "Refused commando {}: {refused}", request.method);
                rune_refusal(id, &refused)
            }
            Err(CheckFailure::Store(failure)) => {
                tracing::error!(subsystem = "commando", "rune store failed: {failure}");
                error_reply(
                    id,
                    COMMANDO_ERROR_REMOTE,
                    "Internal error: the rune store failed",
                )
            }
            Ok(authorized) => {
                tracing::debug!(node_id = %peer, subsystem = "commando", "commando {} with rune {}", request.method, authorized.unique_id);
                let (body, stop) = self.run(&request).await;
                let messages = reply_messages(id, &body);
                if stop {
                    send(self.manager.clone(), peer, messages).await;
                    if let Some(dispatcher) = self.dispatcher.get().and_then(Weak::upgrade) {
                        dispatcher.node().request_stop();
                    }
                    return;
                }
                messages
            }
        };
        send(self.manager.clone(), peer, messages).await;
    }

    /// Runs `request` as the RPC socket would, and gives the response body (with the
    /// request's id put back) and whether the node stops after sending it.
    async fn run(&self, request: &commando::Request) -> (Vec<u8>, bool) {
        let Some(dispatcher) = self.dispatcher.get().and_then(Weak::upgrade) else {
            let error = RpcError::lightningd("The node is shutting down");
            return (response_body(&request.id, Err(&error)), false);
        };
        let call = jsonrpc::request::Request {
            id: request.id.get(),
            method: request.method.clone(),
            params: &request.params,
            filter: request.filter.as_deref(),
        };
        let (result, stop) = match dispatcher.dispatch(&Session::default(), &call) {
            Ok(Reply::Now(value)) => (Ok(value), false),
            Ok(Reply::ThenStop(value)) => (Ok(value), true),
            Ok(Reply::Later(future)) => (future.await, false),
            Err(error) => (Err(error), false),
        };
        let filter: Option<Value> = request
            .filter
            .as_deref()
            .and_then(|raw| serde_json::from_str(raw.get()).ok());
        let body = match result {
            Ok(value) => {
                let value = match &filter {
                    Some(filter) => jsonrpc::filter::apply(value, filter),
                    None => value,
                };
                match serde_json::value::to_raw_value(&value) {
                    Ok(raw) => response_body(&request.id, Ok(&raw)),
                    Err(_) => {
                        let error = RpcError::lightningd("result could not be serialized");
                        response_body(&request.id, Err(&error))
                    }
                }
            }
            Err(error) => response_body(&request.id, Err(&error)),
        };
        (body, stop)
    }
}

/// The reply to a request whose rune was refused. A rune that does not decode is refused as
/// CLN refuses it, before its checkrune is asked: 19536 `Invalid rune`. Every other failure is
/// checkrune's verdict: 19537 `Invalid rune: <why>`.
fn rune_refusal(id: RequestId, refused: &CheckRuneError) -> Vec<Vec<u8>> {
    match refused {
        CheckRuneError::InvalidRune(RuneParamError::NotBase64(_)) => Refusal::InvalidRune.reply(id),
        other => error_reply(
            id,
            COMMANDO_ERROR_REMOTE_AUTH,
            &format!("Invalid rune: {other}"),
        ),
    }
}

/// The text of a one-chunk reply, for the log.
fn reply_text(messages: &[Vec<u8>]) -> String {
    messages
        .first()
        .and_then(|message| Chunk::decode(message))
        .map(|chunk| String::from_utf8_lossy(chunk.json).into_owned())
        .unwrap_or_default()
}

/// Sends `messages` to `peer` in order, waiting for room in its queue; gives up (logged) if
/// the peer goes away.
pub(crate) async fn send(manager: PeerManager, peer: PublicKey, messages: Vec<Vec<u8>>) {
    for message in messages {
        if let Err(error) = manager.send_custom_waiting(&peer, &message).await {
            tracing::debug!(node_id = %peer, subsystem = "commando", "commando reply not sent: {error}");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: RequestId = RequestId([7; 8]);

    /// The one reply message's JSON, checking its type and request id.
    fn body(messages: Vec<Vec<u8>>) -> String {
        assert_eq!(messages.len(), 1);
        let chunk = Chunk::decode(&messages[0]).unwrap();
        assert_eq!(chunk.kind, commando::ChunkKind::ReplyTerminal);
        assert_eq!(chunk.id, ID);
        String::from_utf8(chunk.json.to_vec()).unwrap()
    }

    fn refused(rune: &str) -> CheckRuneError {
        CheckRuneError::InvalidRune(runes::parse_rune_param(rune).unwrap_err())
    }

    #[test]
    fn a_rune_that_does_not_decode_is_clns_plain_invalid_rune() {
        // Not base64url, and base64url of fewer than the authcode's 32 bytes: CLN's
        // rune_from_base64n fails on both before checkrune is asked.
        for rune in ["not base64!", "AAAA"] {
            assert_eq!(
                body(rune_refusal(ID, &refused(rune))),
                r#"{"error":{"code":19536,"message":"Invalid rune"}}"#,
                "{rune}"
            );
        }
    }

    #[test]
    fn other_refusals_are_checkruns_verdict() {
        // A rune that decodes (an authcode of zeros, no restrictions) but has no unique id:
        // checkrune's parameter error.
        let authcode_only = "A".repeat(43) + "=";
        assert_eq!(
            body(rune_refusal(ID, &refused(&authcode_only))),
            r#"{"error":{"code":19537,"message":"Invalid rune: rune: should have valid numeric unique_id"}}"#
        );
        assert_eq!(
            body(rune_refusal(ID, &CheckRuneError::Blacklisted)),
            r#"{"error":{"code":19537,"message":"Invalid rune: Not authorized: Blacklisted rune"}}"#
        );
        assert_eq!(
            body(rune_refusal(
                ID,
                &CheckRuneError::NotPermitted("method is not equal to getinfo".into())
            )),
            r#"{"error":{"code":19537,"message":"Invalid rune: Not permitted: method is not equal to getinfo"}}"#
        );
    }
}
