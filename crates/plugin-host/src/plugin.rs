//! One plugin the host knows: its process, its manifest, the values of its options and where
//! it is in its life (configured, active, stopped).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::manifest::Manifest;
use crate::process::{short_name, PluginProcess};

/// Where a plugin is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Manifest received, `init` not yet answered.
    Configured,
    /// `init` answered: gets notifications and hook calls.
    Active,
    /// Dead or stopped.
    Stopped,
}

/// A plugin the host knows.
pub struct Plugin {
    /// Start order: breaks ties in hook order.
    pub(crate) index: usize,
    /// Canonical path.
    pub(crate) path: PathBuf,
    /// File name, as logs and `before`/`after` lists name it.
    pub(crate) name: String,
    /// `--important-plugin`: the node stops when it dies.
    pub(crate) important: bool,
    pub(crate) process: PluginProcess,
    pub(crate) manifest: Manifest,
    /// What `init` sends as `options`.
    pub(crate) options: Mutex<Map<String, Value>>,
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
    /// A plugin whose manifest was read: configured, not yet active.
    pub(crate) fn new(
        index: usize,
        path: &Path,
        important: bool,
        process: PluginProcess,
        manifest: Manifest,
        options: Map<String, Value>,
    ) -> Plugin {
        Plugin {
            index,
            path: path.to_owned(),
            name: short_name(path),
            important,
            process,
            manifest,
            options: Mutex::new(options),
            state: Mutex::new(State::Configured),
        }
    }

    pub(crate) fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_active(&self) -> bool {
        self.state() == State::Active
    }

    /// Configured → active, once `init` is answered; false if it was stopped meanwhile.
    pub(crate) fn activate(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if *state != State::Configured {
            return false;
        }
        *state = State::Active;
        true
    }

    /// Marks it stopped and returns the state it was in, or `None` if it already was: of
    /// several tasks stopping one plugin, exactly one goes on to withdraw it.
    pub(crate) fn mark_stopped(&self) -> Option<State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let before = std::mem::replace(&mut *state, State::Stopped);
        (before != State::Stopped).then_some(before)
    }

    /// Whether it gets notifications of `topic` (`*` is every topic but `log`).
    pub(crate) fn subscribes(&self, topic: &str) -> bool {
        self.manifest
            .subscriptions
            .iter()
            .any(|s| s == topic || (s == "*" && topic != "log"))
    }

    /// Matches `--disable-plugin` and `plugin stop` arguments: a path, or a file name.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        if name.contains('/') {
            Path::new(name) == self.path
                || std::fs::canonicalize(name).is_ok_and(|path| path == self.path)
        } else {
            self.name == name
        }
    }

    /// Its method names, as `plugin_started` lists them.
    pub(crate) fn methods_json(&self) -> Value {
        self.manifest
            .rpcmethods
            .iter()
            .map(|m| Value::from(m.name.clone()))
            .collect()
    }
}
