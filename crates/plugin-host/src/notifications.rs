//! Notifications: to plugins (the node's topics and the custom topics plugins declare, each
//! to its subscribers) and from plugins (`log`, custom topics). Peer events become the
//! `connect` (after the `peer_connected` chain) and `disconnect` notifications here.

use std::sync::Arc;

use peer_manager::{PeerEvent, PeerManager};
use rpc::shapes::hex_id;
use serde_json::{json, Value};

use crate::host::PluginHost;
use crate::plugin::Plugin;
use crate::process::Notification;

impl PluginHost {
    /// `plugin_started` or `plugin_stopped` about `plugin`, in CLN's shape.
    pub(crate) fn notify_lifecycle(&self, topic: &str, plugin: &Plugin) {
        let about = json!({
            "plugin_name": plugin.name,
            "plugin_path": plugin.path.display().to_string(),
            "methods": plugin.methods_json(),
        });
        self.notify(topic, &json!({ topic: about }));
    }

    /// Whether an active plugin subscribes to `topic` (so a costly notification is built only
    /// when someone will read it).
    pub fn has_subscribers(&self, topic: &str) -> bool {
        self.plugins()
            .iter()
            .any(|plugin| plugin.is_active() && plugin.subscribes(topic))
    }

    /// Sends a notification to every active plugin subscribed to `topic`.
    pub fn notify(&self, topic: &str, params: &Value) {
        for plugin in self.plugins() {
            if plugin.is_active() && plugin.subscribes(topic) {
                plugin.process.notify(topic, params);
            }
        }
    }

    /// Logs at UNUSUAL and sends the `warning` notification.
    pub(crate) fn warn(&self, source: &str, text: &str) {
        tracing::warn!(subsystem = %source, "{text}");
        let elapsed = self.inner.started.elapsed();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.notify(
            "warning",
            &json!({"warning": {
                "level": "warn",
                "time": format!("{}.{:09}", elapsed.as_secs(), elapsed.subsec_nanos()),
                "timestamp": format!("{}.{:09}", now.as_secs(), now.subsec_nanos()),
                "source": source,
                "log": text,
            }}),
        );
    }

    /// A notification a plugin sent: its `log` lines to our log, custom topics it declared
    /// to their subscribers; anything else is warned about.
    pub(crate) fn handle_notification(&self, plugin: &Arc<Plugin>, notification: Notification) {
        let Notification { method, params } = notification;
        match method.as_str() {
            "log" => {
                let level = params.get("level").and_then(Value::as_str).unwrap_or("info");
                match params.get("message").and_then(Value::as_str) {
                    Some(message) => log_plugin_line(&plugin.name, level, message),
                    None => self.warn(
                        &format!("plugin-{}", plugin.name),
                        "Log notification from plugin doesn't have a string \"message\" field",
                    ),
                }
            }
            // Progress reports for RPC callers; we do not relay them yet.
            "message" | "progress" => {}
            topic if plugin.manifest.notifications.iter().any(|t| t == topic) => {
                self.notify(topic, &json!({"origin": plugin.name, "payload": params}));
            }
            topic => self.warn(
                &format!("plugin-{}", plugin.name),
                &format!(
                    "Plugin attempted to send a notification to topic \"{topic}\" it hasn't declared in its manifest, not forwarding to subscribers."
                ),
            ),
        }
    }

    /// Turns peer events into plugin traffic until the peer manager is gone.
    pub(crate) async fn peer_events(self, manager: PeerManager) {
        let mut events = manager.subscribe();
        loop {
            match events.recv().await {
                Ok(PeerEvent::Connected {
                    id,
                    direction,
                    address,
                }) => {
                    tokio::spawn(crate::hooks::peer_connected(
                        self.clone(),
                        manager.clone(),
                        id,
                        direction,
                        address,
                    ));
                }
                Ok(PeerEvent::Disconnected { id, .. }) => {
                    self.notify("disconnect", &json!({"disconnect": {"id": hex_id(&id)}}));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    self.warn(
                        "plugin-manager",
                        &format!("plugins missed {missed} peer events"),
                    );
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

fn log_plugin_line(name: &str, level: &str, message: &str) {
    let subsystem = format!("plugin-{name}");
    for line in message.split('\n') {
        match level {
            "trace" => tracing::trace!(subsystem = %subsystem, "{line}"),
            "debug" => tracing::debug!(subsystem = %subsystem, "{line}"),
            "warn" | "unusual" => tracing::warn!(subsystem = %subsystem, "{line}"),
            "error" | "broken" => tracing::error!(subsystem = %subsystem, "{line}"),
            _ => tracing::info!(subsystem = %subsystem, "{line}"),
        }
    }
}
