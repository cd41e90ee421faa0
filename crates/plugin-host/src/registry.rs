//! Every plugin the host knows, and each hook's chain.
//!
//! A chain (the active plugins registered for a hook, in call order) is computed when the
//! set of active plugins changes: a plugin answers `init`, or stops. Messages only read it.
//! Ordering is a topological sort over every registration's `before`/`after` lists, and
//! custom messages come far more often than plugins come and go.

use std::sync::Arc;

use crate::manifest::{HookRegistration, KNOWN_HOOKS};
use crate::order::{order, HookEntry};
use crate::plugin::Plugin;

/// One plugin in a hook's chain.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) plugin: Arc<Plugin>,
    /// Message types it wants (`custommsg`); `None` for all.
    pub(crate) filters: Option<Vec<u16>>,
}

/// A hook's plugins in call order; cheap to take out of the registry's lock.
pub(crate) type Chain = Arc<[Link]>;

/// What computing the chains found worth saying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Remark {
    /// Logged at DEBUG (a `before`/`after` name matching no plugin, as CLN logs it).
    Debug(String),
    /// Logged at UNUSUAL with the `warning` notification (constraints that cannot be met).
    Warning(String),
}

/// The plugins, in start order, and one chain per hook lnpeer implements.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    plugins: Vec<Arc<Plugin>>,
    chains: Vec<(&'static str, Chain)>,
}

impl Registry {
    /// Every plugin not yet withdrawn, in start order.
    pub(crate) fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// A plugin whose manifest was read joins. It is in no chain until it is active.
    pub(crate) fn add(&mut self, plugin: Arc<Plugin>) {
        self.plugins.push(plugin);
    }

    /// Withdraws a plugin, and recomputes the chains without it.
    pub(crate) fn remove(&mut self, plugin: &Arc<Plugin>) -> Vec<Remark> {
        self.plugins.retain(|p| !Arc::ptr_eq(p, plugin));
        self.rebuild_chains()
    }

    /// Withdraws every plugin.
    pub(crate) fn clear(&mut self) {
        self.plugins.clear();
        self.chains.clear();
    }

    /// Recomputes every chain from the plugins active now.
    pub(crate) fn rebuild_chains(&mut self) -> Vec<Remark> {
        let mut remarks = Vec::new();
        self.chains = KNOWN_HOOKS
            .iter()
            .map(|&hook| (hook, build_chain(hook, &self.plugins, &mut remarks)))
            .collect();
        remarks
    }

    /// The chain of `hook` (empty if no active plugin registered it).
    pub(crate) fn chain(&self, hook: &str) -> Chain {
        self.chains
            .iter()
            .find(|(name, _)| *name == hook)
            .map(|(_, chain)| chain.clone())
            .unwrap_or_else(|| Arc::from([]))
    }
}

/// The active plugins registered for `hook`, ordered by their constraints (ties by start
/// order); in start order if the constraints cannot be met.
fn build_chain(hook: &str, plugins: &[Arc<Plugin>], remarks: &mut Vec<Remark>) -> Chain {
    let registered: Vec<(&Arc<Plugin>, &HookRegistration)> = plugins
        .iter()
        .filter(|p| p.is_active())
        .filter_map(|p| {
            p.manifest
                .hooks
                .iter()
                .find(|h| h.name == hook)
                .map(|h| (p, h))
        })
        .collect();
    if registered.is_empty() {
        return Arc::from([]);
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
        Ok((sequence, notes)) => {
            remarks.extend(notes.into_iter().map(Remark::Debug));
            sequence
        }
        Err(error) => {
            remarks.push(Remark::Warning(format!(
                "hook {hook}: {error}; calling in start order"
            )));
            (0..registered.len()).collect()
        }
    };
    sequence
        .into_iter()
        .filter_map(|position| registered.get(position))
        .map(|(plugin, registration)| Link {
            plugin: Arc::clone(plugin),
            filters: registration.filters.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::time::Duration;

    use serde_json::Map;

    use crate::manifest::Manifest;
    use crate::process::{Launch, PluginProcess};

    fn registration(hook: &str, before: &[&str], filters: Option<Vec<u16>>) -> HookRegistration {
        HookRegistration {
            name: hook.to_owned(),
            before: before.iter().map(|s| s.to_string()).collect(),
            after: Vec::new(),
            filters,
        }
    }

    /// A configured plugin `name` whose process only sleeps, registered for `hooks`.
    fn plugin(dir: &Path, name: &str, index: usize, hooks: Vec<HookRegistration>) -> Arc<Plugin> {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let launch = Launch {
            path: path.clone(),
            cwd: dir.to_owned(),
            developer: false,
            version: "test".to_owned(),
        };
        let mut attempts = 0;
        let process = loop {
            match PluginProcess::spawn(&launch, Box::new(|_| {})) {
                Ok(process) => break process,
                // Another test's fork may briefly hold the just-written script open.
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("spawn: {e}"),
            }
        };
        let manifest = Manifest {
            hooks,
            ..Manifest::default()
        };
        Arc::new(Plugin::new(
            index,
            &path,
            false,
            process,
            manifest,
            Map::new(),
        ))
    }

    fn names(chain: &Chain) -> Vec<(&str, Option<Vec<u16>>)> {
        chain
            .iter()
            .map(|link| (link.plugin.name.as_str(), link.filters.clone()))
            .collect()
    }

    #[tokio::test]
    async fn chains_change_when_plugins_become_active_or_stop_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let a = plugin(
            dir.path(),
            "a",
            0,
            vec![registration("custommsg", &[], None)],
        );
        let b = plugin(
            dir.path(),
            "b",
            1,
            vec![
                registration("custommsg", &["a"], Some(vec![0x7777])),
                registration("peer_connected", &["ghost"], None),
            ],
        );
        let mut registry = Registry::default();
        registry.add(a.clone());
        registry.add(b.clone());
        assert!(
            registry.chain("custommsg").is_empty(),
            "configured plugins are in no chain"
        );

        assert!(a.activate());
        assert_eq!(registry.rebuild_chains(), []);
        assert_eq!(names(&registry.chain("custommsg")), [("a", None)]);

        assert!(b.activate());
        assert_eq!(
            registry.rebuild_chains(),
            [Remark::Debug(
                "hook peer_connected before unknown plugin ghost".into()
            )]
        );
        let chain = registry.chain("custommsg");
        assert_eq!(names(&chain), [("b", Some(vec![0x7777])), ("a", None)]);
        assert_eq!(names(&registry.chain("peer_connected")), [("b", None)]);
        // Messages share the chain computed above; nothing is sorted per message.
        assert!(Arc::ptr_eq(&chain, &registry.chain("custommsg")));
        assert!(registry.chain("no_such_hook").is_empty());

        assert_eq!(b.mark_stopped(), Some(crate::plugin::State::Active));
        assert_eq!(b.mark_stopped(), None, "a plugin is withdrawn once");
        assert_eq!(registry.remove(&b), []);
        assert_eq!(names(&registry.chain("custommsg")), [("a", None)]);
        assert!(registry.chain("peer_connected").is_empty());
        assert!(!b.activate(), "a stopped plugin does not come back");
        assert_eq!(registry.plugins().len(), 1);
    }

    #[tokio::test]
    async fn constraints_that_cannot_be_met_fall_back_to_start_order_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let a = plugin(
            dir.path(),
            "a",
            0,
            vec![registration("custommsg", &["b"], None)],
        );
        let b = plugin(
            dir.path(),
            "b",
            1,
            vec![registration("custommsg", &["a"], None)],
        );
        let mut registry = Registry::default();
        for plugin in [&a, &b] {
            registry.add(plugin.clone());
            assert!(plugin.activate());
        }
        assert_eq!(
            registry.rebuild_chains(),
            [Remark::Warning(
                "hook custommsg: Cannot meet required hook dependencies; calling in start order"
                    .into()
            )]
        );
        assert_eq!(
            names(&registry.chain("custommsg")),
            [("a", None), ("b", None)]
        );
        registry.clear();
        assert!(registry.chain("custommsg").is_empty());
    }
}
