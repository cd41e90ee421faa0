//! RPC passthrough: plugins' `rpcmethods` served through rpc's dispatcher. A call goes to
//! the plugin with its id rewritten to `<caller id>/cln:<method>#<n>`, and the answer goes
//! back under the caller's id.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use rpc::{ExternalMethods, ReplyFuture};
use serde_json::Value;

use crate::host::PluginHost;
use crate::manifest::RpcMethod;
use crate::plugin::Plugin;
use crate::process::PluginProcess;

impl PluginHost {
    /// The active plugin serving RPC method `name`.
    pub(crate) fn method(&self, name: &str) -> Option<(Arc<Plugin>, RpcMethod)> {
        self.plugins().into_iter().find_map(|plugin| {
            let method = plugin
                .manifest
                .rpcmethods
                .iter()
                .find(|m| m.name == name)?
                .clone();
            plugin.is_active().then_some((plugin, method))
        })
    }

    /// `(name, usage)` of every plugin method, for `help`.
    pub(crate) fn methods(&self) -> Vec<(String, String)> {
        self.plugins()
            .iter()
            .filter(|p| p.is_active())
            .flat_map(|p| {
                p.manifest
                    .rpcmethods
                    .iter()
                    .map(|m| (m.name.clone(), m.usage.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Forwards an RPC call to the plugin serving it: the id becomes
    /// `<caller id>/cln:<method>#<n>` on the way and the caller's id on the way back.
    ///
    /// # Errors
    /// The plugin's own error, or -4 if it died first.
    pub(crate) async fn forward(
        plugin: Arc<Plugin>,
        caller_id: &str,
        method: &str,
        params: &str,
        filter: Option<&str>,
    ) -> Result<Value, RpcError> {
        // A caller id that needs escaping is replaced, as CLN does.
        let prefix = match serde_json::from_str::<String>(caller_id) {
            Ok(id) if !id.contains(['"', '\\']) && !id.chars().any(char::is_control) => id,
            Ok(_) => "weird-id".to_owned(),
            Err(_) => caller_id.to_owned(),
        };
        let id = format!("{prefix}/{}", PluginProcess::next_id(method));
        match plugin
            .process
            .request_raw(&id, method, params, filter)
            .await
        {
            Ok(answer) => answer,
            Err(gone) => Err(gone.rpc_error()),
        }
    }
}

/// Plugins' `rpcmethods`, served through the dispatcher.
impl ExternalMethods for PluginHost {
    fn usage(&self, name: &str) -> Option<String> {
        self.method(name).map(|(_, method)| method.usage)
    }

    fn list(&self) -> Vec<(String, String)> {
        self.methods()
    }

    fn call(
        &self,
        caller_id: &str,
        name: &str,
        params: &str,
        filter: Option<&str>,
    ) -> Option<ReplyFuture> {
        let (plugin, method) = self.method(name)?;
        let id = caller_id.to_owned();
        let params = params.to_owned();
        let filter = filter.map(str::to_owned);
        Some(Box::pin(async move {
            PluginHost::forward(plugin, &id, &method.name, &params, filter.as_deref()).await
        }))
    }
}
