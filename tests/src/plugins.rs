//! Test plugins for real nodes: `tests/plugins/*.py` (pyln-client plugins run by the
//! provisioned venv's Python) started through generated wrapper scripts, since `--plugin` takes
//! an executable. A wrapper is named like its plugin (`custommsg_a.py`, ...), so that name is the
//! plugin's name in logs (`plugin-custommsg_a.py: ...`) and in hook `before`/`after` lists.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::node::{Node, WAIT};
use crate::python;

/// `tests/plugins`: the test plugins' sources.
pub fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins")
}

/// Writes `<dir>/<name>`: an executable that runs `tests/plugins/<name>` with the venv's Python,
/// passing its arguments on. Returns its path.
pub fn write_wrapper(dir: &Path, name: &str) -> PathBuf {
    let source = plugins_dir().join(name);
    assert!(source.is_file(), "no test plugin {}", source.display());
    let python = python::python();
    for path in [python, source.as_path()] {
        assert!(
            !path.to_string_lossy().contains('\''),
            "cannot quote {}",
            path.display()
        );
    }
    let wrapper = dir.join(name);
    let script = format!(
        "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
        python.display(),
        source.display()
    );
    std::fs::write(&wrapper, script).expect("the wrapper script is written");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .expect("the wrapper is made executable");
    wrapper
}

/// A temporary directory of plugin wrappers (see [`write_wrapper`]).
pub struct Wrappers {
    dir: tempfile::TempDir,
}

impl Default for Wrappers {
    fn default() -> Self {
        Wrappers::new()
    }
}

impl Wrappers {
    /// An empty set of wrappers in a new temporary directory.
    pub fn new() -> Wrappers {
        Wrappers {
            dir: tempfile::Builder::new()
                .prefix("lnpeer-plugins")
                .tempdir()
                .expect("a temporary directory"),
        }
    }

    /// The wrapper for `tests/plugins/<name>`, written on first use.
    pub fn path(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if path.exists() {
            path
        } else {
            write_wrapper(self.dir.path(), name)
        }
    }

    /// `--plugin=<wrapper path>`.
    pub fn plugin(&self, name: &str) -> String {
        format!("--plugin={}", self.path(name).display())
    }

    /// The directory holding the wrappers.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Waits until `plugin list` on `node` shows each of `plugins` active.
#[track_caller]
pub fn wait_for_plugins(node: &Node, plugins: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let listed = node.try_rpc("plugin", json!(["list"]));
        if let Ok(list) = &listed {
            if plugins
                .iter()
                .all(|name| plugin_entry(list, name)["active"] == json!(true))
            {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "plugins {plugins:?} not all active: {listed:?}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The entry for plugin `name` (a file name) in a `plugin` command's `plugins` list, or null.
pub fn plugin_entry(result: &Value, name: &str) -> Value {
    result["plugins"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| {
            entry["name"]
                .as_str()
                .is_some_and(|path| path == name || path.ends_with(&format!("/{name}")))
        })
        .cloned()
        .unwrap_or(Value::Null)
}
