//! The plugin host's handle: its settings and the state every part of it shares.
//!
//! The host's work is split by concept, each an `impl PluginHost` block of its own:
//! `supervisor` (processes start, stop and die), `init` (options, feature bits, `init`),
//! `hooks`, `notifications`, `methods` (RPC passthrough) and `command` (`plugin`).
//!
//! Unlike lightningd, a plugin that answers a hook badly, too slowly, or dies mid-hook never
//! brings the node down: it is logged and skipped, and the chain goes on. Only a plugin
//! started with `--important-plugin` stops the node when it dies.

use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use peer_manager::PeerManager;
use tokio::sync::watch;

use crate::plugin::Plugin;
use crate::registry::{Chain, Registry, Remark};

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
    /// Commands the node serves itself (`rpc::Dispatcher::builtin_names`): a plugin method
    /// by one of these names is refused.
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

pub(crate) struct Inner {
    pub(crate) config: HostConfig,
    registry: RwLock<Registry>,
    /// The next plugin's start order.
    pub(crate) next_index: AtomicUsize,
    /// Set by `init_all`: plugins start getting peer traffic.
    pub(crate) manager: OnceLock<PeerManager>,
    /// For the `warning` notification's `time`.
    pub(crate) started: Instant,
    /// Set when an important plugin died: the node must stop.
    pub(crate) fatal: watch::Sender<Option<String>>,
}

/// The plugin host; cheap to clone.
#[derive(Clone)]
pub struct PluginHost {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost").finish_non_exhaustive()
    }
}

impl PluginHost {
    /// A host with no plugins.
    pub fn new(config: HostConfig) -> PluginHost {
        PluginHost {
            inner: Arc::new(Inner {
                config,
                registry: RwLock::new(Registry::default()),
                next_index: AtomicUsize::new(0),
                manager: OnceLock::new(),
                started: Instant::now(),
                fatal: watch::channel(None).0,
            }),
        }
    }

    pub(crate) fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    pub(crate) fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.inner
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn registry_mut(&self) -> RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Every plugin not yet withdrawn, in start order.
    pub(crate) fn plugins(&self) -> Vec<Arc<Plugin>> {
        self.registry().plugins().to_vec()
    }

    /// The chain of `hook`, as computed when a plugin last started or stopped.
    pub(crate) fn chain(&self, hook: &str) -> Chain {
        self.registry().chain(hook)
    }

    /// Logs what recomputing the chains found (outside the registry's lock: a warning is
    /// also a notification, which reads the registry).
    pub(crate) fn report(&self, remarks: Vec<Remark>) {
        for remark in remarks {
            match remark {
                Remark::Debug(text) => tracing::debug!(subsystem = "plugin-manager", "{text}"),
                Remark::Warning(text) => self.warn("plugin-manager", &text),
            }
        }
    }
}
