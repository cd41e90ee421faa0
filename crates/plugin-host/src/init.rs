//! What plugins are told before they run: their options' values (claimed from the options
//! the node itself does not know), the feature bits they add to our `init`, and their own
//! `init`, after which they are active.

use std::sync::Arc;

use peer_manager::PeerManager;
use serde_json::{json, Value};
use wire::Features;

use crate::host::{HostError, PluginHost};
use crate::plugin::{Plugin, State};
use crate::process::PluginGone;

impl PluginHost {
    /// Gives plugin options their values from the command line and config files (`extra`,
    /// in order), and returns the options no plugin claimed.
    ///
    /// # Errors
    /// A value does not fit its option's type.
    pub fn claim_options(
        &self,
        extra: &[(String, Option<String>)],
    ) -> Result<Vec<String>, HostError> {
        let plugins = self.plugins();
        let mut unclaimed = Vec::new();
        for (name, _) in extra {
            let claimed = plugins
                .iter()
                .any(|p| p.manifest.options.iter().any(|o| o.name == *name));
            if !claimed && !unclaimed.contains(name) {
                unclaimed.push(name.clone());
            }
        }
        for plugin in &plugins {
            let mut values = plugin.options.lock().unwrap_or_else(|e| e.into_inner());
            for option in &plugin.manifest.options {
                let given: Vec<Option<String>> = extra
                    .iter()
                    .filter(|(name, _)| *name == option.name)
                    .map(|(_, value)| value.clone())
                    .collect();
                if given.is_empty() {
                    continue;
                }
                match option.init_value(&given).map_err(HostError)? {
                    Some(value) => values.insert(option.name.clone(), value),
                    None => values.remove(&option.name),
                };
            }
        }
        Ok(unclaimed)
    }

    /// `base` with every plugin's `featurebits.init` ORed in.
    ///
    /// # Errors
    /// A plugin asks for a bit that is already set (CLN: `Custom featurebits already present`).
    pub fn init_features(&self, base: &Features) -> Result<Features, HostError> {
        let mut features = base.clone();
        for plugin in self.plugins() {
            if let Some(bits) = &plugin.manifest.featurebits.init {
                let extra = Features::from_wire(bits);
                if let Some(bit) = extra.iter_set_bits().find(|bit| features.is_set(*bit)) {
                    return Err(HostError(format!(
                        "plugin {}: Custom featurebits already present (bit {bit})",
                        plugin.name
                    )));
                }
                features = features.union(&extra);
            }
        }
        Ok(features)
    }

    /// Sends `init` to every configured plugin, then starts delivering peer events. Call once
    /// the peer manager runs and the RPC socket is up.
    ///
    /// # Errors
    /// An important plugin failed `init`.
    pub async fn init_all(&self, manager: PeerManager) -> Result<(), HostError> {
        if self.inner.manager.set(manager.clone()).is_err() {
            return Err(HostError("plugins initialised twice".into()));
        }
        for plugin in self.plugins() {
            if plugin.state() != State::Configured {
                continue;
            }
            if let Err(error) = self.init(&plugin, true).await {
                if plugin.important {
                    return Err(HostError(format!(
                        "important plugin {}: {error}",
                        plugin.name
                    )));
                }
                self.stop_plugin(&plugin, &format!("Killing plugin: {error}"));
            }
        }
        tokio::spawn(self.clone().peer_events(manager));
        Ok(())
    }

    /// Sends `init` to one configured plugin and waits for its answer; `startup` says whether
    /// the node is starting (`false` for `plugin start`).
    pub(crate) async fn init(&self, plugin: &Arc<Plugin>, startup: bool) -> Result<(), String> {
        let config = self.config();
        let features = self
            .inner
            .manager
            .get()
            .map(|m| hex::encode(m.our_features().as_wire()))
            .unwrap_or_default();
        // CLN gives the socket relative to the plugin's working directory when it can.
        let rpc_file = config
            .rpc_file
            .strip_prefix(&config.network_dir)
            .unwrap_or(&config.rpc_file)
            .display()
            .to_string();
        let options = plugin
            .options
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let params = json!({
            "options": options,
            "configuration": {
                "lightning-dir": config.network_dir.display().to_string(),
                "rpc-file": rpc_file,
                "startup": startup,
                "network": config.network,
                "feature_set": {"init": features, "node": features, "channel": "", "invoice": ""},
            },
        });
        let answer = tokio::time::timeout(
            config.startup_timeout,
            plugin.process.request("init", &params),
        )
        .await
        .map_err(|_| "timed out before replying to init".to_owned())?
        .map_err(|PluginGone| "exited before replying to init".to_owned())?
        .map_err(|e| format!("init failed: {}", e.message))?;
        if let Some(reason) = answer.get("disable").and_then(Value::as_str) {
            return Err(format!("disabled itself at init: {reason}"));
        }
        self.activated(plugin);
        Ok(())
    }
}
