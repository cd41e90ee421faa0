//! The LSP side (`--lsps-service`): `lsps0::Service` behind a lock. It answers
//! `lsps0.list_protocols` and the bLIP's errors itself, and passes every other LSPS method to
//! the plugin that serves it.
//!
//! A plugin serves LSPS method `lspsN.name` by registering an RPC method of that very name
//! (pyln-client: `@plugin.method("lsps2.get_info")`). The node calls it with
//! `{"peer_id": <the client's id>, "params": <the request's params object>}`; its result
//! (an object) becomes the LSPS result, and its JSON-RPC error (code, message, data) the LSPS
//! error. When the plugin gives no answer of its own (it stops or breaks the plugin protocol
//! first, its method is gone, the node is stopping), the client gets `-32603` "Internal
//! error", as for an owner that went away, and the reason is logged: the node's own codes
//! (the plugin host's `-4`) and texts mean nothing to an LSPS client. `lsps0.list_protocols`
//! then lists N. The registry is brought up to date with the
//! plugins' methods on every request, so plugins started or stopped at run time count at once.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Instant;

use jsonrpc::error::{code, RpcError};
use lsps0::{Forward, Reply, ServiceAction, ServiceConfig};
use noise_transport::PublicKey;
use peer_manager::PeerManager;
use rpc::{Dispatcher, Session};
use serde_json::value::RawValue;
use tokio::sync::Notify;

use crate::client::Answer;
use crate::message;

struct State {
    service: lsps0::Service<PublicKey, String>,
    /// The plugin methods registered, by name (each is its own owner).
    registered: HashSet<String>,
}

/// The LSPS0 service.
pub(crate) struct LspsService {
    state: Mutex<State>,
    manager: PeerManager,
    dispatcher: OnceLock<Weak<Dispatcher>>,
    /// Woken when a new deadline may be earlier than the timer's.
    pub(crate) deadlines: Notify,
}

/// The LSPS protocol number of `method` if it names one (`lsps<N>.<name>`, N ≥ 1).
pub(crate) fn protocol_of(method: &str) -> Option<u16> {
    let rest = method.strip_prefix("lsps")?;
    let (number, name) = rest.split_once('.')?;
    if name.is_empty() || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `lsps01.x` is not `lsps1.x`: one spelling per protocol.
    if number.len() > 1 && number.starts_with('0') {
        return None;
    }
    number.parse().ok().filter(|&n| n != 0)
}

impl LspsService {
    pub(crate) fn new(manager: PeerManager, config: ServiceConfig) -> Self {
        LspsService {
            state: Mutex::new(State {
                service: lsps0::Service::new(config),
                registered: HashSet::new(),
            }),
            manager,
            dispatcher: OnceLock::new(),
            deadlines: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves plugin methods through `dispatcher` from now on.
    pub(crate) fn serve(&self, dispatcher: &Arc<Dispatcher>) {
        let _ = self.dispatcher.set(Arc::downgrade(dispatcher));
    }

    fn dispatcher(&self) -> Option<Arc<Dispatcher>> {
        self.dispatcher.get().and_then(Weak::upgrade)
    }

    /// Registers the plugins' `lspsN.*` methods that appeared and drops those that went;
    /// returns the replies for requests a departed method left unanswered.
    fn sync_methods(&self, state: &mut State) -> Vec<Reply<PublicKey>> {
        let served: HashSet<String> = self
            .dispatcher()
            .and_then(|dispatcher| {
                dispatcher.external_methods().map(|external| {
                    external
                        .list()
                        .into_iter()
                        .map(|(name, _)| name)
                        .filter(|name| protocol_of(name).is_some())
                        .collect()
                })
            })
            .unwrap_or_default();
        let mut replies = Vec::new();
        let gone: Vec<String> = state.registered.difference(&served).cloned().collect();
        for name in gone {
            replies.extend(state.service.unregister_owner(&name));
            state.registered.remove(&name);
        }
        for name in served {
            if state.registered.contains(&name) {
                continue;
            }
            let Some(protocol) = protocol_of(&name) else {
                continue;
            };
            match state.service.register(&name, name.clone(), protocol) {
                Ok(()) => {
                    tracing::info!(
                        subsystem = "lsps",
                        "serving LSPS{protocol} method {name} through its plugin"
                    );
                    state.registered.insert(name);
                }
                Err(error) => {
                    tracing::warn!(
                        subsystem = "lsps",
                        "plugin method {name} cannot serve LSPS: {error}"
                    );
                }
            }
        }
        replies
    }

    /// A request payload from `peer`.
    pub(crate) fn receive(self: &Arc<Self>, peer: PublicKey, payload: &[u8]) {
        let (action, replies) = {
            let mut state = self.state();
            let replies = self.sync_methods(&mut state);
            (
                state.service.receive(&peer, payload, Instant::now()),
                replies,
            )
        };
        self.send_replies(replies);
        match action {
            ServiceAction::Answer(payload) => self.send(peer, payload),
            ServiceAction::Refuse { payload, refusal } => {
                tracing::info!(node_id = %peer, subsystem = "lsps", "LSPS request refused: {refusal}");
                self.send(peer, payload);
            }
            ServiceAction::Forward(forward) => {
                self.deadlines.notify_one();
                tokio::spawn(self.clone().forward(peer, forward));
            }
        }
    }

    /// Calls the plugin method that serves `forward`, and replies with its answer.
    async fn forward(self: Arc<Self>, peer: PublicKey, forward: Forward<String>) {
        let Forward {
            handle,
            owner,
            request,
        } = forward;
        let outcome = match self.dispatcher() {
            Some(dispatcher) => call_plugin(&dispatcher, &owner, &peer, request.params()).await,
            None => Err(Unanswered::Stopping),
        };
        let outcome = outcome.unwrap_or_else(|why| {
            tracing::warn!(node_id = %peer, subsystem = "lsps", "LSPS request {} answered -32603: {owner} gave no answer: {why}", request.id().as_str());
            Err(internal_error())
        });
        let completed = match &outcome {
            Ok(result) => self.state().service.complete(handle, Ok(result)),
            Err(error) => self.state().service.complete(handle, Err(error.clone())),
        };
        match completed {
            Ok(reply) => self.send_replies(vec![reply]),
            Err(_) => {
                tracing::debug!(node_id = %peer, subsystem = "lsps", "{owner} answered after the request was given up");
            }
        }
    }

    fn send_replies(&self, replies: Vec<Reply<PublicKey>>) {
        for reply in replies {
            if let Some(fault) = reply.fault {
                tracing::warn!(node_id = %reply.peer, subsystem = "lsps", "LSPS request {} answered -32603: {fault}", reply.id.as_str());
            }
            self.send(reply.peer, reply.payload);
        }
    }

    /// Sends a response; the bLIP treats one that cannot be delivered as delivered.
    fn send(&self, peer: PublicKey, payload: Vec<u8>) {
        let manager = self.manager.clone();
        tokio::spawn(async move {
            if let Err(error) = manager
                .send_custom_waiting(&peer, &message::framed(&payload))
                .await
            {
                tracing::debug!(node_id = %peer, subsystem = "lsps", "LSPS response not sent: {error}");
            }
        });
    }

    /// Answers -32603 for the requests whose plugins are out of time.
    pub(crate) fn expire(&self, now: Instant) {
        let replies = self.state().service.expire(now);
        self.send_replies(replies);
    }

    /// The next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.state().service.poll_timeout()
    }
}

/// Why a forwarded request has no answer from its plugin.
#[derive(Debug, Clone, PartialEq)]
enum Unanswered {
    /// The node is stopping.
    Stopping,
    /// The dispatcher refused the call (the method went away).
    Refused(RpcError),
    /// The plugin stopped, or broke the plugin protocol, before answering.
    PluginGone(RpcError),
    /// The call or the plugin's result could not be written as JSON.
    Unwritable(&'static str),
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::Stopping => f.write_str("the node is stopping"),
            Unanswered::Refused(error) | Unanswered::PluginGone(error) => error.fmt(f),
            Unanswered::Unwritable(what) => write!(f, "{what} could not be written as JSON"),
        }
    }
}

/// What the client gets for a request its plugin did not answer.
fn internal_error() -> RpcError {
    RpcError::new(
        lsps0::error::code::INTERNAL_ERROR,
        lsps0::error::message::INTERNAL_ERROR,
    )
}

/// Runs plugin method `name` for `peer`'s request with `params`.
async fn call_plugin(
    dispatcher: &Dispatcher,
    name: &str,
    peer: &PublicKey,
    params: &RawValue,
) -> Result<Answer, Unanswered> {
    let wrapped = format!(
        "{{\"peer_id\":\"{}\",\"params\":{}}}",
        hex::encode(peer.serialize()),
        params.get()
    );
    let wrapped =
        RawValue::from_string(wrapped).map_err(|_| Unanswered::Unwritable("the LSPS params"))?;
    let id = format!("\"lsps:{name}\"");
    let call = jsonrpc::request::Request {
        id: &id,
        method: name.to_owned(),
        params: &wrapped,
        filter: None,
    };
    let outcome = match dispatcher
        .dispatch(&Session::default(), &call)
        .map_err(Unanswered::Refused)?
    {
        rpc::Reply::Now(value) | rpc::Reply::ThenStop(value) => Ok(value),
        rpc::Reply::Later(future) => future.await,
    };
    plugin_answer(outcome)
}

/// A plugin call's outcome as the LSPS answer: the plugin's result, or its own error. The
/// plugin host's `-4` (CLN's `PLUGIN_TERMINATED`) is no answer of the plugin's.
fn plugin_answer(outcome: Result<serde_json::Value, RpcError>) -> Result<Answer, Unanswered> {
    match outcome {
        Err(error) if error.code == code::PLUGIN_TERMINATED => Err(Unanswered::PluginGone(error)),
        Err(error) => Ok(Err(error)),
        Ok(result) => serde_json::value::to_raw_value(&result)
            .map(Ok)
            .map_err(|_| Unanswered::Unwritable("the plugin's result")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_numbers_come_from_method_names() {
        for (method, protocol) in [
            ("lsps1.get_info", Some(1)),
            ("lsps2.buy", Some(2)),
            ("lsps65535.x", Some(65535)),
            ("lsps0.list_protocols", None),
            ("lsps65536.x", None),
            ("lsps01.x", None),
            ("lsps2.", None),
            ("lsps.x", None),
            ("lspsx.y", None),
            ("getinfo", None),
            ("LSPS2.buy", None),
        ] {
            assert_eq!(protocol_of(method), protocol, "{method}");
        }
    }

    #[test]
    fn a_plugins_answer_is_passed_on_and_a_dead_plugin_is_not_an_answer() {
        let result = plugin_answer(Ok(serde_json::json!({"menu": [1]}))).unwrap();
        assert_eq!(result.unwrap().get(), r#"{"menu":[1]}"#);
        // The plugin's own error, data included, is the LSP's error.
        let mut own = RpcError::new(201, "invalid_opening_fee_params");
        own.data = Some(serde_json::json!({"why": "expired"}));
        assert_eq!(plugin_answer(Err(own.clone())).unwrap().unwrap_err(), own);
        // The plugin host's error for a plugin that stopped first is not.
        let gone = RpcError::new(
            code::PLUGIN_TERMINATED,
            "Plugin terminated before replying to RPC call.",
        );
        assert_eq!(
            plugin_answer(Err(gone.clone())).unwrap_err(),
            Unanswered::PluginGone(gone)
        );
        assert_eq!(
            internal_error().to_json(),
            serde_json::json!({"code": -32603, "message": "Internal error"})
        );
    }
}
