//! The plugin host: starting plugins, their manifests and options, `init`, hook chains,
//! notifications, RPC passthrough and the `plugin` command.
//!
//! Unlike lightningd, a plugin that answers a hook badly, too slowly, or dies mid-hook never
//! brings the node down: it is logged and skipped, and the chain goes on. Only a plugin
//! started with `--important-plugin` stops the node when it dies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use noise_transport::PublicKey;
use peer_manager::{CustomMessageSink, Direction, PeerEvent, PeerManager};
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, watch};
use wire::Features;

use crate::manifest::{parse_manifest, Manifest, RpcMethod};
use crate::order::{order, HookEntry};
use crate::process::{short_name, Launch, Notification, PluginGone, PluginProcess};
use jsonrpc::error::RpcError;
use node_config::PluginSource;
use rpc::shapes::{address_json, direction_name};
use rpc::{ExternalMethods, ReplyFuture};

/// How the host runs plugins.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// `<lightning-dir>`: its `plugins` directory is scanned at start.
    pub lightning_dir: PathBuf,
    /// `<lightning-dir>/<network>`: the plugins' working directory.
    pub network_dir: PathBuf,
    /// The network's name, for `init`.
    pub network: String,
    /// The RPC socket, for `init`'s `rpc-file`.
    pub rpc_file: PathBuf,
    /// `--developer`, passed on to plugins.
    pub developer: bool,
    /// `LIGHTNINGD_VERSION`.
    pub version: String,
    /// How long a plugin may take to answer a hook before it is skipped.
    pub hook_timeout: Duration,
    /// How long a plugin may take to answer `getmanifest`, and then `init` (CLN: 120 s).
    pub startup_timeout: Duration,
    /// Commands the node serves itself: a plugin method by one of these names is refused.
    pub reserved_methods: Vec<String>,
}

/// Why the node cannot start with its plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Manifest received, `init` not yet answered.
    Configured,
    /// `init` answered: gets notifications and hook calls.
    Active,
    /// Dead or stopped.
    Stopped,
}

/// A plugin the host knows.
pub struct Plugin {
    index: usize,
    path: PathBuf,
    name: String,
    important: bool,
    process: PluginProcess,
    manifest: Manifest,
    options: Mutex<Map<String, Value>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_state(&self, state: State) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
    }

    fn is_active(&self) -> bool {
        self.state() == State::Active
    }

    fn subscribes(&self, topic: &str) -> bool {
        self.manifest
            .subscriptions
            .iter()
            .any(|s| s == topic || (s == "*" && topic != "log"))
    }

    /// Matches `--disable-plugin` and `plugin stop` arguments: a path, or a file name.
    fn is_named(&self, name: &str) -> bool {
        if name.contains('/') {
            Path::new(name) == self.path
                || std::fs::canonicalize(name).is_ok_and(|path| path == self.path)
        } else {
            self.name == name
        }
    }

    fn methods_json(&self) -> Value {
        self.manifest
            .rpcmethods
            .iter()
            .map(|m| Value::from(m.name.clone()))
            .collect()
    }
}

struct Inner {
    config: HostConfig,
    plugins: RwLock<Vec<Arc<Plugin>>>,
    next_index: AtomicUsize,
    manager: OnceLock<PeerManager>,
    started: Instant,
    /// Set when an important plugin died: the node must stop.
    fatal: watch::Sender<Option<String>>,
}

/// The plugin a reading task reports to, once registered, and what it said before that.
type EarlySlot = (Option<Weak<Plugin>>, Vec<Notification>);

/// The plugin host; cheap to clone.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost").finish_non_exhaustive()
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

/// Files a directory scan takes: regular and executable, with a plain name.
fn scan_dir(dir: &Path) -> Vec<PathBuf> {
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
    /// A host with no plugins.
    pub fn new(config: HostConfig) -> PluginHost {
        PluginHost {
            inner: Arc::new(Inner {
                config,
                plugins: RwLock::new(Vec::new()),
                next_index: AtomicUsize::new(0),
                manager: OnceLock::new(),
                started: Instant::now(),
                fatal: watch::channel(None).0,
            }),
        }
    }

    fn plugins(&self) -> Vec<Arc<Plugin>> {
        self.inner
            .plugins
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

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
            let dir = self.inner.config.lightning_dir.join("plugins");
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
        let config = &self.inner.config;
        // Notifications are handled on the plugin's reading task, in order with its answers.
        // Until the plugin is registered they wait in `early`.
        let slot: Arc<Mutex<EarlySlot>> = Arc::new(Mutex::new((None, Vec::new())));
        let on_notification = {
            let slot = slot.clone();
            let host = self.clone();
            Box::new(move |notification: Notification| {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                match slot.0.as_ref().and_then(Weak::upgrade) {
                    Some(plugin) => handle_notification(&host, &plugin, notification),
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
        let plugin = Arc::new(Plugin {
            index: self.inner.next_index.fetch_add(1, Ordering::Relaxed),
            path: path.to_owned(),
            name: short_name(path),
            important,
            process,
            manifest,
            options: Mutex::new(defaults),
            state: Mutex::new(State::Configured),
        });
        self.inner
            .plugins
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(plugin.clone());
        {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            slot.0 = Some(Arc::downgrade(&plugin));
            for notification in std::mem::take(&mut slot.1) {
                handle_notification(self, &plugin, notification);
            }
        }
        tokio::spawn(watch_plugin(self.clone(), plugin.clone()));
        Ok(plugin)
    }

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
        manager.set_custom_sink(Arc::new(PluginSink(self.clone())));
        tokio::spawn(peer_events(self.clone(), manager));
        Ok(())
    }

    async fn init(&self, plugin: &Arc<Plugin>, startup: bool) -> Result<(), String> {
        let config = &self.inner.config;
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
        plugin.set_state(State::Active);
        self.push_custom_messages();
        self.notify_lifecycle("plugin_started", plugin);
        Ok(())
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

    /// `plugin_started` or `plugin_stopped` about `plugin`, in CLN's shape.
    fn notify_lifecycle(&self, topic: &str, plugin: &Plugin) {
        let about = json!({
            "plugin_name": plugin.name,
            "plugin_path": plugin.path.display().to_string(),
            "methods": plugin.methods_json(),
        });
        self.notify(topic, &json!({ topic: about }));
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
    fn warn(&self, source: &str, text: &str) {
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

    /// A hook answer we cannot use: CLN aborts here; we warn and go on with the chain.
    fn invalid_hook_answer(&self, plugin: &Plugin, hook: &str, result: &Value) {
        self.warn(
            &format!("plugin-{}", plugin.name),
            &format!("Plugin returned an invalid response to the {hook} hook: {result}; skipped"),
        );
    }

    /// Marks a plugin stopped, kills it and withdraws what it registered.
    fn stop_plugin(&self, plugin: &Arc<Plugin>, why: &str) {
        if plugin.state() == State::Stopped {
            return;
        }
        let was_active = plugin.is_active();
        plugin.set_state(State::Stopped);
        plugin.process.kill();
        self.inner
            .plugins
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| !Arc::ptr_eq(p, plugin));
        tracing::info!(subsystem = %format!("plugin-{}", plugin.name), "{why}");
        if was_active {
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
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        for plugin in self.plugins() {
            let _ = tokio::time::timeout_at(deadline, plugin.process.exited()).await;
            plugin.set_state(State::Stopped);
            plugin.process.kill();
        }
        self.inner
            .plugins
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The active plugin serving RPC method `name`.
    pub fn method(&self, name: &str) -> Option<(Arc<Plugin>, RpcMethod)> {
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
    pub fn methods(&self) -> Vec<(String, String)> {
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
    pub async fn forward(
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

    /// The `plugin` command.
    ///
    /// # Errors
    /// Unknown subcommand, unknown or non-dynamic plugin, or a plugin that failed to start.
    pub async fn command(
        &self,
        subcommand: &str,
        target: Option<String>,
        options: Vec<(String, String)>,
    ) -> Result<Value, RpcError> {
        match subcommand {
            "list" => Ok(self.list("list")),
            "stop" => {
                let target = target.ok_or_else(|| {
                    RpcError::invalid_params("missing required parameter: plugin")
                })?;
                let plugin = self
                    .plugins()
                    .into_iter()
                    .find(|p| p.is_named(&target))
                    .ok_or_else(|| {
                        RpcError::lightningd(format!("Could not find plugin {target}"))
                    })?;
                if !plugin.manifest.dynamic {
                    return Err(RpcError::lightningd(format!(
                        "{} cannot be managed when lightningd is up",
                        plugin.name
                    )));
                }
                self.stop_plugin(&plugin, "Killing plugin: stopped by the plugin command");
                Ok(json!({"command": "stop", "result": format!("Successfully stopped {}.", plugin.name)}))
            }
            "start" => {
                let target = target.ok_or_else(|| {
                    RpcError::invalid_params("missing required parameter: plugin")
                })?;
                let path = std::fs::canonicalize(&target)
                    .map_err(|e| RpcError::lightningd(format!("{target}: {e}")))?;
                self.start_dynamic(&path, &options).await?;
                Ok(self.list("start"))
            }
            "startdir" | "rescan" => {
                let dir = match (subcommand, target) {
                    ("startdir", Some(dir)) => PathBuf::from(dir),
                    ("startdir", None) => {
                        return Err(RpcError::invalid_params(
                            "missing required parameter: directory",
                        ))
                    }
                    _ => self.inner.config.lightning_dir.join("plugins"),
                };
                for path in scan_dir(&dir) {
                    let path = std::fs::canonicalize(&path).unwrap_or(path);
                    if self.plugins().iter().any(|p| p.path == path) {
                        continue;
                    }
                    if let Err(error) = self.start_dynamic(&path, &[]).await {
                        self.warn("plugin-manager", &error.message);
                    }
                }
                Ok(self.list(subcommand))
            }
            other => Err(RpcError::invalid_params(format!(
                "subcommand: should be one of start, stop, startdir, rescan, list: invalid token '{other}'"
            ))),
        }
    }

    async fn start_dynamic(
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

    fn list(&self, command: &str) -> Value {
        let plugins: Vec<Value> = self
            .plugins()
            .iter()
            .map(|p| {
                json!({
                    "name": p.path.display().to_string(),
                    "active": p.is_active(),
                    "dynamic": p.manifest.dynamic,
                })
            })
            .collect();
        json!({"command": command, "plugins": plugins})
    }

    /// Calls `hook` on every active plugin registered for it, in hook order, skipping those
    /// whose `filters` exclude `msg_type`. `on_result` sees each plugin's result and says
    /// whether the chain goes on.
    async fn run_hook(
        &self,
        hook: &str,
        params: &Value,
        msg_type: Option<u16>,
        mut on_result: impl FnMut(&Plugin, &Value) -> bool,
    ) {
        let plugins: Vec<Arc<Plugin>> = self
            .plugins()
            .into_iter()
            .filter(|p| p.is_active())
            .collect();
        let registered: Vec<(&Arc<Plugin>, &crate::manifest::HookRegistration)> = plugins
            .iter()
            .filter_map(|p| {
                p.manifest
                    .hooks
                    .iter()
                    .find(|h| h.name == hook)
                    .map(|h| (p, h))
            })
            .collect();
        if registered.is_empty() {
            return;
        }
        let entries: Vec<HookEntry<'_>> = registered
            .iter()
            .map(|(p, h)| HookEntry {
                plugin_path: &p.path,
                index: p.index,
                before: &h.before,
                after: &h.after,
            })
            .collect();
        let sequence = match order(hook, &entries) {
            Ok((sequence, remarks)) => {
                for remark in remarks {
                    tracing::debug!(subsystem = "plugin-manager", "{remark}");
                }
                sequence
            }
            Err(error) => {
                self.warn(
                    "plugin-manager",
                    &format!("hook {hook}: {error}; calling in start order"),
                );
                (0..registered.len()).collect()
            }
        };
        for position in sequence {
            let Some((plugin, registration)) = registered.get(position) else {
                continue;
            };
            if let (Some(filters), Some(ty)) = (&registration.filters, msg_type) {
                if !filters.contains(&ty) {
                    continue;
                }
            }
            let source = format!("plugin-{}", plugin.name);
            let call = plugin.process.request(hook, params);
            match tokio::time::timeout(self.inner.config.hook_timeout, call).await {
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
                        self.inner.config.hook_timeout.as_secs()
                    ),
                ),
            }
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

fn handle_notification(host: &PluginHost, plugin: &Arc<Plugin>, notification: Notification) {
    let Notification { method, params } = notification;
    match method.as_str() {
        "log" => {
            let level = params.get("level").and_then(Value::as_str).unwrap_or("info");
            match params.get("message").and_then(Value::as_str) {
                Some(message) => log_plugin_line(&plugin.name, level, message),
                None => host.warn(
                    &format!("plugin-{}", plugin.name),
                    "Log notification from plugin doesn't have a string \"message\" field",
                ),
            }
        }
        // Progress reports for RPC callers; we do not relay them yet.
        "message" | "progress" => {}
        topic if plugin.manifest.notifications.iter().any(|t| t == topic) => {
            host.notify(topic, &json!({"origin": plugin.name, "payload": params}));
        }
        topic => host.warn(
            &format!("plugin-{}", plugin.name),
            &format!(
                "Plugin attempted to send a notification to topic \"{topic}\" it hasn't declared in its manifest, not forwarding to subscribers."
            ),
        ),
    }
}

/// Peer events to plugins: connect (after the peer_connected hook) and disconnect.
async fn peer_events(host: PluginHost, manager: PeerManager) {
    let mut events = manager.subscribe();
    loop {
        match events.recv().await {
            Ok(PeerEvent::Connected {
                id,
                direction,
                address,
            }) => {
                tokio::spawn(peer_connected(
                    host.clone(),
                    manager.clone(),
                    id,
                    direction,
                    address,
                ));
            }
            Ok(PeerEvent::Disconnected { id, .. }) => {
                host.notify(
                    "disconnect",
                    &json!({"disconnect": {"id": hex::encode(id.serialize())}}),
                );
            }
            // Delivered through `PluginSink` once it is set.
            Ok(PeerEvent::CustomMessage { .. }) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                host.warn(
                    "plugin-manager",
                    &format!("plugins missed {missed} peer events"),
                );
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

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

async fn custom_messages(host: PluginHost, id: PublicKey, mut queue: mpsc::Receiver<Vec<u8>>) {
    let peer_id = hex::encode(id.serialize());
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

async fn peer_connected(
    host: PluginHost,
    manager: PeerManager,
    id: PublicKey,
    direction: Direction,
    address: SocketAddr,
) {
    let peer_id = hex::encode(id.serialize());
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
