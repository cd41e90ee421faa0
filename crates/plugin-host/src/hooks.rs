//! The hooks lnpeer calls, with their chain semantics: `custommsg` (every plugin in turn,
//! one message of a peer at a time, in order), `peer_connected` (until one plugin says
//! `disconnect`) and `onion_message_recv` / `onion_message_recv_secret` (until one plugin
//! answers anything but `continue`, as CLN's `plugin_hook_continue`). Each call is bounded by
//! `--plugin-hook-timeout`.

use std::net::SocketAddr;
use std::sync::Arc;

use noise_transport::PublicKey;
use peer_manager::{CustomMessageSink, Direction, PeerManager};
use rpc::shapes::{address_json, direction_name, hex_id};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::host::PluginHost;
use crate::plugin::Plugin;
use crate::process::PluginGone;

/// Custom messages a connection may have waiting for the plugins before its reader waits
/// (and so stops reading that peer).
const CUSTOM_QUEUE_MESSAGES: usize = 64;

/// Custom messages to plugins without loss: one worker per connection takes its messages
/// through the notification and the hook chain one at a time, in order, and a peer whose
/// messages wait for slow plugins is not read meanwhile, while other peers go on.
struct PluginSink(PluginHost);

impl CustomMessageSink for PluginSink {
    fn open(&self, id: PublicKey) -> mpsc::Sender<Vec<u8>> {
        let (sender, queue) = mpsc::channel(CUSTOM_QUEUE_MESSAGES);
        tokio::spawn(custom_messages(self.0.clone(), id, queue));
        sender
    }
}

impl PluginHost {
    /// Where custom messages for the plugins go (the node's router opens one queue per
    /// connection from it): the `custommsg` notification, then the hook chain, in order.
    pub fn custom_message_sink(&self) -> Arc<dyn CustomMessageSink> {
        Arc::new(PluginSink(self.clone()))
    }

    /// Calls `hook` on each plugin of its chain in turn, skipping those whose `filters`
    /// exclude `msg_type`. `on_result` sees each plugin's result and says whether the chain
    /// goes on. A plugin that answers with an error, dies, or does not answer within the hook
    /// timeout is logged and skipped.
    async fn run_hook(
        &self,
        hook: &str,
        params: &Value,
        msg_type: Option<u16>,
        mut on_result: impl FnMut(&Plugin, &Value) -> bool,
    ) {
        let hook_timeout = self.config().hook_timeout;
        for link in self.chain(hook).iter() {
            let plugin = &link.plugin;
            // Stopped since the chain was taken: withdrawn, not skipped with a warning.
            if !plugin.is_active() {
                continue;
            }
            if let (Some(filters), Some(ty)) = (&link.filters, msg_type) {
                if !filters.contains(&ty) {
                    continue;
                }
            }
            let source = format!("plugin-{}", plugin.name);
            let call = plugin.process.request(hook, params);
            match tokio::time::timeout(hook_timeout, call).await {
                Ok(Ok(Ok(result))) => {
                    if !on_result(plugin, &result) {
                        return;
                    }
                }
                Ok(Ok(Err(error))) => self.warn(
                    &source,
                    &format!(
                        "Plugin {} for {hook} returned non-result response: {}; skipped",
                        plugin.name, error.message
                    ),
                ),
                Ok(Err(PluginGone)) => {
                    tracing::debug!(subsystem = %source, "Plugin died from {hook} hook call");
                }
                Err(_) => self.warn(
                    &source,
                    &format!(
                        "Plugin {} did not answer the {hook} hook within {} s; skipped",
                        plugin.name,
                        hook_timeout.as_secs()
                    ),
                ),
            }
        }
    }

    /// A hook answer we cannot use: CLN aborts here; we warn and go on with the chain.
    fn invalid_hook_answer(&self, plugin: &Plugin, hook: &str, result: &Value) {
        self.warn(
            &format!("plugin-{}", plugin.name),
            &format!("Plugin returned an invalid response to the {hook} hook: {result}; skipped"),
        );
    }
}

async fn custom_messages(host: PluginHost, id: PublicKey, mut queue: mpsc::Receiver<Vec<u8>>) {
    let peer_id = hex_id(&id);
    while let Some(message) = queue.recv().await {
        let payload = hex::encode(&message);
        host.notify(
            "custommsg",
            &json!({"custommsg": {"peer_id": peer_id, "payload": payload}}),
        );
        let ty = message.get(..2).map(|t| u16::from_be_bytes([t[0], t[1]]));
        let params = json!({"payload": payload, "peer_id": peer_id});
        host.run_hook("custommsg", &params, ty, |plugin, result| {
            if result.get("result").and_then(Value::as_str) != Some("continue") {
                host.invalid_hook_answer(plugin, "custommsg", result);
            }
            true
        })
        .await;
    }
}

/// Which of CLN's two onion message hooks a received message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnionMessageHook {
    /// `onion_message_recv`: not over a blinded path of ours.
    Recv,
    /// `onion_message_recv_secret`: over a blinded path we issued (`pathsecret` set).
    RecvSecret,
}

impl OnionMessageHook {
    /// The hook's name, as plugins register it.
    pub fn name(self) -> &'static str {
        match self {
            OnionMessageHook::Recv => "onion_message_recv",
            OnionMessageHook::RecvSecret => "onion_message_recv_secret",
        }
    }
}

impl PluginHost {
    /// Runs `hook`'s chain for one received onion message; `params` is the hook's whole
    /// params object (`{"onion_message": {...}}`, CLN's shape). A plugin answering anything
    /// but `{"result": "continue"}` ends the chain, as in CLN; one whose answer has no
    /// `result` string is warned about and skipped.
    pub async fn onion_message_hook(&self, hook: OnionMessageHook, params: &Value) {
        let name = hook.name();
        self.run_hook(name, params, None, |plugin, result| {
            match result.get("result").and_then(Value::as_str) {
                Some("continue") => true,
                Some(_) => false,
                None => {
                    self.invalid_hook_answer(plugin, name, result);
                    true
                }
            }
        })
        .await;
    }
}

/// The `peer_connected` chain for a new connection: a plugin answering `disconnect` closes
/// it and ends the chain; otherwise subscribers hear `connect` once the chain is done.
pub(crate) async fn peer_connected(
    host: PluginHost,
    manager: PeerManager,
    id: PublicKey,
    direction: Direction,
    address: SocketAddr,
) {
    let peer_id = hex_id(&id);
    let direction = direction_name(direction);
    let features = manager
        .peer(&id)
        .and_then(|p| p.connection)
        .map(|c| hex::encode(c.features.as_wire()))
        .unwrap_or_default();
    let params = json!({"peer": {
        "id": peer_id,
        "direction": direction,
        "addr": address.to_string(),
        "features": features,
    }});
    let mut refused = None;
    host.run_hook(
        "peer_connected",
        &params,
        None,
        |plugin, result| match result.get("result").and_then(Value::as_str) {
            Some("continue") => true,
            Some("disconnect") => {
                let message = result
                    .get("error_message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                refused = Some((plugin.name.clone(), message));
                false
            }
            _ => {
                host.invalid_hook_answer(plugin, "peer_connected", result);
                true
            }
        },
    )
    .await;
    if let Some((plugin, message)) = refused {
        tracing::info!(
            node_id = %id,
            subsystem = "lightningd",
            "peer_connected hook of plugin {plugin} disconnects the peer: {message}"
        );
        manager.disconnect(&id);
        return;
    }
    host.notify(
        "connect",
        &json!({"connect": {"id": peer_id, "direction": direction, "address": address_json(&address)}}),
    );
}
