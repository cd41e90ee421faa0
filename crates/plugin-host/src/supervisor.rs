//! Plugin processes coming and going: starting them (at start-up, from directories, or by the
//! `plugin` command) and reading their manifests, noticing their death, stopping them, and
//! stopping the node when an important one dies. Each change to the set of active plugins
//! recomputes the hook chains and the even message types peers may send us.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use jsonrpc::error::RpcError;
use node_config::PluginSource;
use serde_json::{json, Map};

use crate::host::{HostError, PluginHost};
use crate::manifest::{parse_manifest, Manifest};
use crate::plugin::{Plugin, State};
use crate::process::{short_name, Launch, Notification, PluginGone, PluginProcess};

/// The plugin a reading task reports to, once registered, and what it said before that.
type EarlySlot = (Option<Weak<Plugin>>, Vec<Notification>);

/// How long plugins get to exit by themselves after the `shutdown` notification.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Files a directory scan takes: regular and executable, with a plain name.
pub(crate) fn scan_dir(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let plain = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n != "README.md"
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
            let executable = std::fs::metadata(path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            plain && executable
        })
        .collect();
    // Directory order is the OS's; sorting makes hook tie-breaks reproducible.
    found.sort();
    found
}

impl PluginHost {
    /// Starts the plugins named at start-up and reads their manifests. A plugin that fails is
    /// logged and dropped, unless it is important.
    ///
    /// # Errors
    /// An important plugin failed, or two plugins claim the same option or method.
    pub async fn start_configured(
        &self,
        sources: &[PluginSource],
        disabled: &[String],
        scan_default_dir: bool,
    ) -> Result<(), HostError> {
        let mut wanted: Vec<(PathBuf, bool)> = Vec::new();
        for source in sources {
            match source {
                PluginSource::Plugin(path) => wanted.push((path.clone(), false)),
                PluginSource::Important(path) => wanted.push((path.clone(), true)),
                PluginSource::Dir(dir) => {
                    wanted.extend(scan_dir(dir).into_iter().map(|p| (p, false)));
                }
            }
        }
        if scan_default_dir {
            let dir = self.config().lightning_dir.join("plugins");
            wanted.extend(scan_dir(&dir).into_iter().map(|p| (p, false)));
        }
        for (path, important) in wanted {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let name = short_name(&path);
            if disabled.iter().any(|d| {
                if d.contains('/') {
                    std::fs::canonicalize(d).is_ok_and(|d| d == path)
                } else {
                    *d == name
                }
            }) {
                tracing::info!(
                    subsystem = "plugin-manager",
                    "{name}: disabled by --disable-plugin"
                );
                continue;
            }
            if self.plugins().iter().any(|p| p.path == path) {
                continue;
            }
            match self.launch(&path, important).await {
                Ok(_) => {}
                Err(error) if important => {
                    return Err(HostError(format!("important plugin {name}: {error}")))
                }
                Err(error) => {
                    self.warn(
                        "plugin-manager",
                        &format!("{name}: Killing plugin: {error}"),
                    );
                }
            }
        }
        Ok(())
    }

    /// Starts one plugin and reads its manifest; it joins the host as configured.
    async fn launch(&self, path: &Path, important: bool) -> Result<Arc<Plugin>, String> {
        let config = self.config();
        // Notifications are handled on the plugin's reading task, in order with its answers.
        // Until the plugin is registered they wait in `early`.
        let slot: Arc<Mutex<EarlySlot>> = Arc::new(Mutex::new((None, Vec::new())));
        let on_notification = {
            let slot = slot.clone();
            let host = self.clone();
            Box::new(move |notification: Notification| {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                match slot.0.as_ref().and_then(Weak::upgrade) {
                    Some(plugin) => host.handle_notification(&plugin, notification),
                    None => slot.1.push(notification),
                }
            })
        };
        let launch = Launch {
            path: path.to_owned(),
            cwd: config.network_dir.clone(),
            developer: config.developer,
            version: config.version.clone(),
        };
        let process = PluginProcess::spawn(&launch, on_notification)
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let answer = tokio::time::timeout(
            config.startup_timeout,
            process.request("getmanifest", &json!({"allow-deprecated-apis": false})),
        )
        .await
        .map_err(|_| "timed out before replying to getmanifest".to_owned())?
        .map_err(|PluginGone| "exited before replying to getmanifest".to_owned())?
        .map_err(|e| format!("getmanifest failed: {}", e.message))?;
        let manifest = parse_manifest(&answer)?;
        if let Some(reason) = &manifest.disable {
            return Err(format!("disabled itself: {reason}"));
        }
        for remark in &manifest.warnings {
            self.warn(&format!("plugin-{}", short_name(path)), remark);
        }
        // The running plugin, if any, that already registered something `claims` names.
        let existing = self.plugins();
        let owner_of = |claims: &dyn Fn(&Manifest) -> bool| {
            existing
                .iter()
                .filter(|p| p.state() != State::Stopped)
                .find(|p| claims(&p.manifest))
                .map(|p| p.name.clone())
        };
        for method in &manifest.rpcmethods {
            let taken = |m: &Manifest| m.rpcmethods.iter().any(|m| m.name == method.name);
            let by = match owner_of(&taken) {
                Some(owner) => format!(" by plugin {owner}"),
                None if config.reserved_methods.contains(&method.name) => String::new(),
                None => continue,
            };
            return Err(format!(
                "Could not register method \"{}\", a method with that name is already registered{by}",
                method.name
            ));
        }
        for option in &manifest.options {
            let taken = |m: &Manifest| m.options.iter().any(|o| o.name == option.name);
            if let Some(owner) = owner_of(&taken) {
                return Err(format!(
                    "error starting plugin '{}': option name '{}' is already taken (by {owner})",
                    short_name(path),
                    option.name
                ));
            }
        }
        let mut defaults = Map::new();
        for option in &manifest.options {
            if let Some(value) = option.init_value(&[])? {
                defaults.insert(option.name.clone(), value);
            }
        }
        let index = self.inner.next_index.fetch_add(1, Ordering::Relaxed);
        let plugin = Arc::new(Plugin::new(
            index, path, important, process, manifest, defaults,
        ));
        self.registry_mut().add(plugin.clone());
        {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            slot.0 = Some(Arc::downgrade(&plugin));
            for notification in std::mem::take(&mut slot.1) {
                self.handle_notification(&plugin, notification);
            }
        }
        tokio::spawn(watch_plugin(self.clone(), plugin.clone()));
        Ok(plugin)
    }

    /// Starts a plugin while the node runs (`plugin start`, `startdir`, `rescan`): its
    /// manifest, then `options` (`name=value`, as given), then `init`.
    pub(crate) async fn start_dynamic(
        &self,
        path: &Path,
        options: &[(String, String)],
    ) -> Result<(), RpcError> {
        if self.plugins().iter().any(|p| p.path == path) {
            return Err(RpcError::lightningd(format!(
                "{}: already registered",
                path.display()
            )));
        }
        let plugin = self
            .launch(path, false)
            .await
            .map_err(|e| RpcError::lightningd(format!("{}: {e}", path.display())))?;
        let fail = |host: &PluginHost, why: String| {
            host.stop_plugin(&plugin, &format!("Killing plugin: {why}"));
            RpcError::lightningd(format!("{}: {why}", path.display()))
        };
        if !plugin.manifest.dynamic {
            return Err(fail(self, "Not a dynamic plugin".into()));
        }
        {
            let mut values = plugin.options.lock().unwrap_or_else(|e| e.into_inner());
            for (name, value) in options {
                let Some(option) = plugin.manifest.options.iter().find(|o| o.name == *name) else {
                    drop(values);
                    return Err(fail(self, format!("unknown option {name}")));
                };
                match option.parse_value(value) {
                    Ok(value) => {
                        values.insert(name.clone(), value);
                    }
                    Err(error) => {
                        drop(values);
                        return Err(fail(self, error));
                    }
                }
            }
        }
        if let Err(error) = self.init(&plugin, false).await {
            return Err(fail(self, error));
        }
        Ok(())
    }

    /// A plugin answered `init`: it joins the hook chains, its even message types are
    /// allowed, and subscribers hear `plugin_started`.
    pub(crate) fn activated(&self, plugin: &Arc<Plugin>) {
        if !plugin.activate() {
            // Stopped while `init` was on its way.
            return;
        }
        let remarks = self.registry_mut().rebuild_chains();
        self.report(remarks);
        self.push_custom_messages();
        self.notify_lifecycle("plugin_started", plugin);
    }

    /// Marks a plugin stopped, kills it and withdraws what it registered.
    pub(crate) fn stop_plugin(&self, plugin: &Arc<Plugin>, why: &str) {
        let Some(before) = plugin.mark_stopped() else {
            return;
        };
        plugin.process.kill();
        let remarks = self.registry_mut().remove(plugin);
        tracing::info!(subsystem = %format!("plugin-{}", plugin.name), "{why}");
        self.report(remarks);
        if before == State::Active {
            self.push_custom_messages();
            self.notify_lifecycle("plugin_stopped", plugin);
        }
        if plugin.important {
            tracing::error!(
                subsystem = "plugin-manager",
                "Plugin marked as important, shutting down lightningd!"
            );
            self.inner
                .fatal
                .send_replace(Some(format!("important plugin {} died", plugin.name)));
        }
    }

    /// Tells the peer manager which even types the running plugins accept.
    fn push_custom_messages(&self) {
        let Some(manager) = self.inner.manager.get() else {
            return;
        };
        let types: Vec<u16> = self
            .plugins()
            .iter()
            .filter(|p| p.is_active())
            .flat_map(|p| p.manifest.custommessages.clone())
            .collect();
        tracing::debug!(
            subsystem = "connectd",
            "Now allowing {} custom message types",
            types.len()
        );
        manager.set_allowed_even_types(types);
    }

    /// Resolves when an important plugin died.
    pub async fn fatal(&self) -> String {
        let mut fatal = self.inner.fatal.subscribe();
        let reason = match fatal.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }

    /// Sends `shutdown` to subscribers, gives plugins a moment to exit, then kills the rest.
    pub async fn shutdown(&self) {
        self.notify("shutdown", &json!({"shutdown": {}}));
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        for plugin in self.plugins() {
            let _ = tokio::time::timeout_at(deadline, plugin.process.exited()).await;
            plugin.mark_stopped();
            plugin.process.kill();
        }
        self.registry_mut().clear();
    }
}

/// Notices a plugin's death and withdraws it.
async fn watch_plugin(host: PluginHost, plugin: Arc<Plugin>) {
    let reason = plugin.process.exited().await;
    let state = match plugin.state() {
        State::Configured => "before replying to init",
        State::Active => "during normal operation",
        State::Stopped => return,
    };
    host.stop_plugin(&plugin, &format!("Killing plugin: {reason} {state}"));
}
