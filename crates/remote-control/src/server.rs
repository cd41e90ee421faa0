//! The commando server: commands arriving from peers in custom messages are put back together
//! (`commando::Server`), their rune checked against the calling peer's node id, and run
//! through the same dispatcher as the RPC socket, plugin methods and `filter` included. The
//! reply goes back in chunks to the peer that asked, and only to it.
//!
//! No rune is ever logged: the log says which unique id was used, never the rune.

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Instant, SystemTime};

use commando::{
    error_reply, reply_messages, response_body, Chunk, Command, Refusal, Server, ServerAction,
    ServerConfig, COMMANDO_ERROR_REMOTE, COMMANDO_ERROR_REMOTE_AUTH,
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
        match self.receive(&peer, chunk, Instant::now()) {
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

    /// What the server state makes of a chunk from `peer` at `now`, partial requests past
    /// their time dropped first.
    fn receive(&self, peer: &PublicKey, chunk: &Chunk<'_>, now: Instant) -> ServerAction {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.handle_timeout(now);
        state.handle_chunk(peer, chunk, now)
    }

    /// Forgets `peer`'s partial request.
    pub(crate) fn peer_disconnected(&self, peer: &PublicKey) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .peer_disconnected(peer);
    }

    /// Checks the rune, runs the command and replies; stops the node afterwards if the
    /// command says so (`stop`).
    async fn execute(self: Arc<Self>, peer: PublicKey, command: Command) {
        let (messages, stop) = self.answer(&peer, command).await;
        send(self.manager.clone(), peer, messages).await;
        if stop {
            if let Some(dispatcher) = self.dispatcher.get().and_then(Weak::upgrade) {
                dispatcher.node().request_stop();
            }
        }
    }

    /// The reply messages to `command` from `peer`, and whether the node stops once they are
    /// sent.
    async fn answer(&self, peer: &PublicKey, command: Command) -> (Vec<Vec<u8>>, bool) {
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
        match checked {
            Err(CheckFailure::Refused(CheckRuneError::InvalidRune(RuneParamError::NotBase64(
                _,
            )))) => {
                // CLN decodes the rune itself before asking checkrune, and gives no reason.
                tracing::info!(node_id = %peer, subsystem = "commando", "Refused commando {}: the rune does not decode", request.method);
                (Refusal::InvalidRune.reply(id), false)
            }
            Err(CheckFailure::Refused(refused)) => {
                tracing::info!(node_id = %peer, subsystem = "commando", "Refused commando {}: {refused}", request.method);
                // checkrune's verdict without the token it quotes: CLN's commando passes on
                // checkrune's whole message, rune included, but replies are IO-logged and a
                // rune must never reach the log.
                let messages = error_reply(
                    id,
                    COMMANDO_ERROR_REMOTE_AUTH,
                    &format!("Invalid rune: {refused}"),
                );
                (messages, false)
            }
            Err(CheckFailure::Store(failure)) => {
                tracing::error!(subsystem = "commando", "rune store failed: {failure}");
                let messages = error_reply(
                    id,
                    COMMANDO_ERROR_REMOTE,
                    "Internal error: the rune store failed",
                );
                (messages, false)
            }
            Ok(authorized) => {
                tracing::debug!(node_id = %peer, subsystem = "commando", "commando {} with rune {}", request.method, authorized.unique_id);
                let (body, stop) = self.run(&request).await;
                (reply_messages(id, &body), stop)
            }
        }
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
    use commando::{split_messages, ChunkKind, Direction, RequestId};
    use serde_json::{json, Value};

    use super::*;
    use crate::testing::{cln, Rig};
    use rpc::NodeControl;

    const ID: RequestId = RequestId([1, 2, 3, 4, 5, 6, 7, 8]);

    fn peer(byte: u8) -> PublicKey {
        peer_manager::testing::node_id(byte)
    }

    /// A request as lnmessage sends it, with `extra` members added.
    fn request(method: &str, rune: &str, extra: Value) -> String {
        let mut request = json!({"id": format!("lnmessage:{method}#0102030405060708"), "rune": rune, "method": method});
        for (name, value) in extra.as_object().unwrap() {
            request[name] = value.clone();
        }
        request.to_string()
    }

    /// The reply messages' JSON put back together, after checking each is a reply chunk for
    /// `id`, only the last one terminal.
    fn reply_text(messages: &[Vec<u8>], id: RequestId) -> String {
        let mut json = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            let chunk = Chunk::decode(message).unwrap();
            let last = index + 1 == messages.len();
            let kind = match last {
                true => ChunkKind::ReplyTerminal,
                false => ChunkKind::ReplyContinues,
            };
            assert_eq!((chunk.kind, chunk.id), (kind, id));
            json.extend_from_slice(chunk.json);
        }
        String::from_utf8(json).unwrap()
    }

    /// What the server answers `from` for `json` sent in chunks under `id`: the reply's
    /// JSON, and whether the node stops after it.
    async fn ask_as(rig: &Rig, from: PublicKey, id: RequestId, json: &str) -> (String, bool) {
        let server = &rig.remote.server;
        let now = Instant::now();
        let mut action = ServerAction::Nothing;
        let chunks = split_messages(Direction::Command, id, json.as_bytes());
        let count = chunks.len();
        for (index, message) in chunks.iter().enumerate() {
            action = server.receive(&from, &Chunk::decode(message).unwrap(), now);
            if index + 1 < count {
                assert!(matches!(action, ServerAction::Nothing), "{action:?}");
            }
        }
        let (messages, stop) = match action {
            ServerAction::Nothing => panic!("no answer"),
            ServerAction::Reply(messages) => (messages, false),
            ServerAction::Execute(command) => server.answer(&from, command).await,
        };
        (reply_text(&messages, id), stop)
    }

    async fn ask(rig: &Rig, json: &str) -> Value {
        let (text, stop) = ask_as(rig, peer(7), ID, json).await;
        assert!(!stop);
        serde_json::from_str(&text).unwrap()
    }

    async fn open_rune(rig: &Rig) -> String {
        mint(rig, json!([])).await
    }

    async fn mint(rig: &Rig, restrictions: Value) -> String {
        let created = rig
            .ok("createrune", json!({ "restrictions": restrictions }))
            .await;
        created["rune"].as_str().unwrap().to_owned()
    }

    fn auth_error(message: &str) -> Value {
        json!({"error": {"code": 19537, "message": format!("Invalid rune: {message}")}})
    }

    #[tokio::test]
    async fn a_command_is_run_and_answered_with_the_requests_id() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let reply = ask(&rig, &request("getinfo", &rune, json!({"params": []}))).await;
        assert_eq!(reply["jsonrpc"], "2.0");
        assert_eq!(reply["id"], "lnmessage:getinfo#0102030405060708");
        assert_eq!(
            reply["result"]["id"],
            rig.node.manager().node_id().to_string()
        );
        // The id token goes back as it came, whatever its kind.
        for id in ["7", r#""a\"b\u00e9""#, "null", r#"{"x":[1]}"#] {
            let json = format!(r#"{{"method":"getinfo","id":{id},"rune":"{rune}"}}"#);
            let (text, _) = ask_as(&rig, peer(7), ID, &json).await;
            assert!(
                text.starts_with(&format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"#)),
                "{text}"
            );
        }
    }

    #[tokio::test]
    async fn big_requests_and_replies_cross_chunks_byte_exact() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let payload = "z".repeat(150_000);
        let json = request("echo", &rune, json!({"params": {"payload": payload}}));
        let (text, _) = ask_as(&rig, peer(7), ID, &json).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["result"]["params"]["payload"], payload);
        // A plugin's 300 KB result comes back in five chunks.
        let json = request("blob", &rune, json!({"params": {"size": 300_000}}));
        let server = &rig.remote.server;
        let message = &split_messages(Direction::Command, ID, json.as_bytes())[0];
        let action = server.receive(&peer(7), &Chunk::decode(message).unwrap(), Instant::now());
        let ServerAction::Execute(command) = action else {
            panic!("not run: {action:?}");
        };
        let (messages, _) = server.answer(&peer(7), command).await;
        assert_eq!(messages.len(), 5);
        let reply: Value = serde_json::from_str(&reply_text(&messages, ID)).unwrap();
        assert_eq!(reply["result"]["data"].as_str().unwrap().len(), 300_000);
    }

    #[tokio::test]
    async fn the_filter_is_applied_and_passed_to_plugins() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let filter = json!({"filter": {"id": true}});
        let reply = ask(&rig, &request("getinfo", &rune, filter)).await;
        assert_eq!(
            reply["result"],
            json!({"id": rig.node.manager().node_id().to_string()})
        );
        let filter = json!({"params": {"a": 1}, "filter": {"filter": true}});
        let reply = ask(&rig, &request("echo", &rune, filter)).await;
        assert_eq!(reply["result"], json!({"filter": {"filter": true}}));
    }

    #[tokio::test]
    async fn a_commands_own_error_comes_back_as_a_json_rpc_error() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let json =
            r#"{"method":"nosuch","id":"x","rune":"RUNE","params":{}}"#.replace("RUNE", &rune);
        let (text, _) = ask_as(&rig, peer(7), ID, &json).await;
        assert_eq!(
            text,
            r#"{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"Unknown command 'nosuch'"}}"#
        );
        let reply = ask(&rig, &request("checkrune", &rune, json!({"params": {}}))).await;
        assert_eq!(
            reply["error"]["message"],
            "missing required parameter: rune"
        );
    }

    #[tokio::test]
    async fn the_rune_is_checked_against_the_calling_peer_method_and_params() {
        let rig = Rig::start(1).await;
        let getinfo_only = mint(&rig, json!([["method=getinfo"]])).await;
        let for_peer_7 = mint(&rig, json!([[format!("id={}", peer(7))]])).await;
        let no_params = mint(&rig, json!([["pnum=0"]])).await;
        let reply = ask(&rig, &request("listpeers", &getinfo_only, json!({}))).await;
        assert_eq!(
            reply,
            auth_error("Not permitted: method is not equal to getinfo")
        );
        assert!(
            ask(&rig, &request("getinfo", &getinfo_only, json!({}))).await["result"].is_object()
        );

        let json = request("getinfo", &for_peer_7, json!({}));
        let (text, _) = ask_as(&rig, peer(7), ID, &json).await;
        assert!(text.contains(r#""result":"#), "{text}");
        let (text, _) = ask_as(&rig, peer(8), ID, &json).await;
        let expected = auth_error(&format!("Not permitted: id is not equal to {}", peer(7)));
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);

        // Absent params are `{}`: no parameters.
        assert!(ask(&rig, &request("getinfo", &no_params, json!({}))).await["result"].is_object());
        let reply = ask(
            &rig,
            &request("getinfo", &no_params, json!({"params": ["x"]})),
        )
        .await;
        assert_eq!(
            reply,
            auth_error("Not permitted: number of parameters is not equal to 0")
        );
    }

    #[tokio::test]
    async fn blacklisted_foreign_and_overused_runes_are_refused() {
        let rig = Rig::start(1).await;
        let open = open_rune(&rig).await;
        let rate = mint(&rig, json!([["rate=1"]])).await;
        assert!(ask(&rig, &request("getinfo", &rate, json!({}))).await["result"].is_object());
        assert_eq!(
            ask(&rig, &request("getinfo", &rate, json!({}))).await,
            auth_error("Not permitted: too soon")
        );
        assert_eq!(
            ask(&rig, &request("getinfo", cln::FOREIGN, json!({}))).await,
            auth_error("Not authorized: Not derived from master")
        );
        rig.ok("blacklistrune", json!({"start": 0})).await;
        assert_eq!(
            ask(&rig, &request("getinfo", &open, json!({}))).await,
            auth_error("Not authorized: Blacklisted rune")
        );
    }

    #[tokio::test]
    async fn runes_that_do_not_decode_or_have_no_numeric_id_get_clns_errors() {
        let rig = Rig::start(1).await;
        // CLN decodes the rune itself first: 19536 `Invalid rune`, no reason.
        for junk in ["", "not base64!", "AAAA"] {
            assert_eq!(
                ask(&rig, &request("getinfo", junk, json!({}))).await,
                json!({"error": {"code": 19536, "message": "Invalid rune"}}),
                "{junk:?}"
            );
        }
        // A rune that decodes goes to checkrune, whose verdict is passed on without the
        // token checkrune quotes: the reply is logged, the rune must not be.
        let bad = cln::NON_NUMERIC[0];
        let checkrune = rig.err("checkrune", json!({ "rune": bad })).await.1;
        assert!(
            checkrune.ends_with(&format!(r#": invalid token '"{bad}"'"#)),
            "{checkrune}"
        );
        assert_eq!(
            ask(&rig, &request("getinfo", bad, json!({}))).await,
            auth_error("rune: should have valid numeric unique_id")
        );
    }

    #[tokio::test]
    async fn a_store_failure_refuses_the_command() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        rig.store.fail_with("database is locked");
        assert_eq!(
            ask(&rig, &request("getinfo", &rune, json!({}))).await,
            json!({"error": {"code": 19536, "message": "Internal error: the rune store failed"}})
        );
    }

    #[tokio::test]
    async fn malformed_requests_get_clns_refusals_before_any_rune_check() {
        let rig = Rig::start(1).await;
        let cases = [
            ("{", "Invalid JSON"),
            ("[]", "Not a JSON object"),
            (r#"{"id":1,"rune":"r"}"#, "No method"),
            (
                r#"{"method":"getinfo","params":"x","id":1}"#,
                "Params must be object or array",
            ),
            (r#"{"method":"getinfo","rune":"r"}"#, "missing id field"),
            (r#"{"method":"getinfo","id":1}"#, "Missing rune"),
        ];
        for (json, message) in cases {
            assert_eq!(
                ask(&rig, json).await,
                json!({"error": {"code": 19536, "message": message}}),
                "{json}"
            );
        }
    }

    #[tokio::test]
    async fn a_new_request_replaces_a_partial_one_and_a_disconnect_drops_it() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let server = &rig.remote.server;
        let now = Instant::now();
        let json = request("getinfo", &rune, json!({}));
        let (head, tail) = json.as_bytes().split_at(20);
        let first = RequestId([1; 8]);
        let continues = |id| Chunk {
            kind: ChunkKind::CommandContinues,
            id,
            json: head,
        };
        let terminal = |id, json| Chunk {
            kind: ChunkKind::CommandTerminal,
            id,
            json,
        };
        assert!(matches!(
            server.receive(&peer(7), &continues(first), now),
            ServerAction::Nothing
        ));
        // Another request from the same peer: the partial one is dropped (CLN).
        let second = RequestId([2; 8]);
        let action = server.receive(&peer(7), &terminal(second, json.as_bytes()), now);
        assert!(matches!(action, ServerAction::Execute(Command { id, .. }) if id == second));
        let action = server.receive(&peer(7), &terminal(first, tail), now);
        let ServerAction::Reply(messages) = action else {
            panic!("{action:?}");
        };
        assert_eq!(
            reply_text(&messages, first),
            r#"{"error":{"code":19536,"message":"Invalid JSON"}}"#
        );
        // Another peer's partial request is its own; a disconnect drops it.
        server.receive(&peer(7), &continues(first), now);
        server.receive(&peer(8), &continues(first), now);
        server.peer_disconnected(&peer(7));
        let action = server.receive(&peer(8), &terminal(first, tail), now);
        assert!(matches!(action, ServerAction::Execute(_)), "{action:?}");
        let action = server.receive(&peer(7), &terminal(first, tail), now);
        assert!(matches!(action, ServerAction::Reply(_)), "{action:?}");
    }

    #[tokio::test]
    async fn a_peer_over_its_call_limit_is_refused_and_others_are_not() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let json = request("getinfo", &rune, json!({}));
        let burst = node_config::Limits::default().commando_burst;
        for _ in 0..burst {
            assert!(ask(&rig, &json).await["result"].is_object());
        }
        assert_eq!(
            ask(&rig, &json).await,
            json!({"error": {"code": 19536, "message": "Too many commando requests: try again later"}})
        );
        let (text, _) = ask_as(&rig, peer(8), ID, &json).await;
        assert!(text.contains(r#""result":"#));
    }

    #[tokio::test]
    async fn stop_replies_first_then_stops_the_node() {
        let rig = Rig::start(1).await;
        let rune = open_rune(&rig).await;
        let json = request("stop", &rune, json!({}));
        let (text, stop) = ask_as(&rig, peer(7), ID, &json).await;
        assert!(stop);
        assert_eq!(
            text,
            r#"{"jsonrpc":"2.0","id":"lnmessage:stop#0102030405060708","result":{"result":"Shutdown complete"}}"#
        );
        assert_eq!(rig.node.stops(), 0, "answering does not stop");
        // Carried out: the reply cannot go to a peer that is not connected, and the node
        // stops all the same.
        let message = &split_messages(Direction::Command, ID, json.as_bytes())[0];
        let server = rig.remote.server.clone();
        let ServerAction::Execute(command) =
            server.receive(&peer(7), &Chunk::decode(message).unwrap(), Instant::now())
        else {
            panic!("not run");
        };
        server.execute(peer(7), command).await;
        assert_eq!(rig.node.stops(), 1);
        // A refused stop stops nothing.
        let refused = request("stop", cln::FOREIGN, json!({}));
        let (_, stop) = ask_as(&rig, peer(7), ID, &refused).await;
        assert!(!stop);
    }

    #[tokio::test]
    async fn without_a_dispatcher_the_node_is_shutting_down() {
        let Rig {
            remote, dispatcher, ..
        } = Rig::start(1).await;
        drop(dispatcher);
        let rune = remote.authority().create(None, Vec::new()).unwrap().rune;
        let json = request("getinfo", &rune, json!({}));
        let message = &split_messages(Direction::Command, ID, json.as_bytes())[0];
        let chunk = Chunk::decode(message).unwrap();
        let ServerAction::Execute(command) =
            remote.server.receive(&peer(7), &chunk, Instant::now())
        else {
            panic!("not run");
        };
        let (messages, stop) = remote.server.answer(&peer(7), command).await;
        assert!(!stop);
        assert_eq!(
            reply_text(&messages, ID),
            r#"{"jsonrpc":"2.0","id":"lnmessage:getinfo#0102030405060708","error":{"code":-1,"message":"The node is shutting down"}}"#
        );
    }
}
