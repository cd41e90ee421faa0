//! The pinned JavaScript packages of the cross-process tests (`tests/js/package.json` with its
//! lock file: lnmessage, the browser and Node.js library Lightning web apps use; esbuild, to
//! bundle the browser console; playwright-core, to drive Chromium), provisioned on first use
//! under `<target-dir>/npm` with `npm ci`, the same way as the Python venv ([`crate::provision`]).
//!
//! Node.js and npm come from the machine (`.ci/run` installs Debian's). [`node_available`]
//! tells a test whether it can run at all, so it can skip with a clear message rather than pass
//! silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::provision::{fingerprint, output, target_dir, Provisioning};

/// What provisioning failures are about.
const WHAT: &str = "npm packages";

/// The directory holding the tests' JavaScript (`tests/js`).
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Whether `node` and `npm` can be run here.
pub fn node_available() -> bool {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    runs("node") && runs("npm")
}

/// The provisioned `node_modules`' parent, provisioning it on first call.
///
/// # Panics
/// If provisioning fails: the message names the command that failed and quotes its output.
#[track_caller]
pub fn packages_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(provision) {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// A [`Command`] running `node` on `script` (relative to [`scripts_dir`]) with the provisioned
/// packages on its module path.
///
/// # Panics
/// As [`packages_dir`].
#[track_caller]
pub fn node_script(script: &str) -> Command {
    let packages = packages_dir().join("node_modules");
    let mut cmd = Command::new("node");
    cmd.arg(scripts_dir().join(script))
        .env("NODE_PATH", &packages)
        .env("LNPEER_NODE_MODULES", &packages);
    cmd
}

fn provision() -> Result<PathBuf, String> {
    let dir = target_dir().join("npm");
    let manifest = scripts_dir().join("package.json");
    let lock = scripts_dir().join("package-lock.json");
    let wanted = fingerprint(&[&manifest, &lock], WHAT)?;
    let provisioning = Provisioning::lock(&dir, WHAT)?;
    if !(dir.join("node_modules").is_dir() && provisioning.is_current(&wanted)) {
        provisioning.clear(WHAT)?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("{WHAT}: cannot create {}: {e}", dir.display()))?;
        for file in [&manifest, &lock] {
            let to = dir.join(file.file_name().unwrap_or_default());
            std::fs::copy(file, &to)
                .map_err(|e| format!("{WHAT}: cannot copy {}: {e}", file.display()))?;
        }
        // Exactly the lock file's versions; no install scripts run (esbuild's binary comes as
        // a platform package), no audit or funding chatter.
        output(
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            &format!("{WHAT}: npm ci (needs Node.js and npm, e.g. Debian's nodejs and npm)"),
        )?;
        provisioning.finish(&wanted, WHAT)?;
    }
    Ok(dir)
}
