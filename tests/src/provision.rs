//! What the provisioned test environments share (the Python venvs in [`crate::python`], the
//! npm packages in [`crate::npm`]): where the cargo target directory is, a cross-process lock
//! and a marker that says an install finished, and running an install command with its output
//! quoted on failure.
//!
//! An environment is provisioned once: under an exclusive [`File::lock`](std::fs::File::lock)
//! on `<dir>.lock` (the OS drops it when its holder exits or dies, so a killed run leaves no
//! stale lock), the caller checks the marker file inside the directory against the SHA-256 of
//! what it installs from, and reinstalls from scratch when they differ. The marker is written
//! last, so an interrupted install is redone by the next caller.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// Most of a failed command's stdout/stderr that a panic message quotes (the tail is kept).
const QUOTED_OUTPUT: usize = 8_000;

/// File inside a provisioned directory written once provisioning succeeded; holds the inputs'
/// SHA-256.
const MARKER: &str = "lnpeer-provisioned";

/// The cargo target directory this test binary was built into.
///
/// The binary itself is the most reliable witness: it lies at `<target-dir>/[<triple>/]<profile>/
/// deps/<name>-<hash>` whatever chose the directory (`CARGO_TARGET_DIR`, `--target-dir`,
/// `build.target-dir` in a cargo config, a `--target` triple, nextest), and cargo marks the
/// target directory's root with a `CACHEDIR.TAG` file, so the nearest ancestor holding one is
/// it. Build-time `CARGO_TARGET_DIR` (an absolute one) and `<workspace>/target` are fallbacks
/// for a binary run from a copy outside the target directory.
pub fn target_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe
            .ancestors()
            .skip(1)
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        {
            return dir.to_path_buf();
        }
    }
    if let Some(dir) = option_env!("CARGO_TARGET_DIR").map(PathBuf::from) {
        if dir.is_absolute() {
            return dir;
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

/// The fingerprint of the files an environment is installed from.
///
/// # Errors
/// A file cannot be read.
pub fn fingerprint(inputs: &[&Path], what: &str) -> Result<String, String> {
    let mut hash = Sha256::new();
    for input in inputs {
        let bytes =
            fs::read(input).map_err(|e| format!("{what}: cannot read {}: {e}", input.display()))?;
        hash.update(&bytes);
    }
    Ok(format!("{}\n", hex::encode(hash.finalize())))
}

/// Holds the cross-process lock on `dir` while it is checked and, if need be, installed.
pub struct Provisioning {
    _lock: File,
    dir: PathBuf,
}

impl Provisioning {
    /// Takes the lock on `dir` (creating its parent).
    ///
    /// # Errors
    /// The parent or the lock file cannot be created, or the lock cannot be taken.
    pub fn lock(dir: &Path, what: &str) -> Result<Provisioning, String> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .map_err(|e| format!("{what}: cannot create {}: {e}", parent.display()))?;
        let mut lock_name = dir.file_name().unwrap_or(OsStr::new("env")).to_owned();
        lock_name.push(".lock");
        let lock_path = parent.join(lock_name);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("{what}: cannot open {}: {e}", lock_path.display()))?;
        lock.lock()
            .map_err(|e| format!("{what}: cannot lock {}: {e}", lock_path.display()))?;
        Ok(Provisioning {
            _lock: lock,
            dir: dir.to_path_buf(),
        })
    }

    /// Whether the directory was provisioned from inputs with this `fingerprint`.
    pub fn is_current(&self, fingerprint: &str) -> bool {
        fs::read_to_string(self.dir.join(MARKER)).is_ok_and(|m| m == fingerprint)
    }

    /// Empties the directory for a fresh install.
    ///
    /// # Errors
    /// It cannot be removed.
    pub fn clear(&self, what: &str) -> Result<(), String> {
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir)
                .map_err(|e| format!("{what}: cannot remove stale {}: {e}", self.dir.display()))?;
        }
        Ok(())
    }

    /// Records a finished install of inputs with this `fingerprint`.
    ///
    /// # Errors
    /// The marker cannot be written.
    pub fn finish(&self, fingerprint: &str, what: &str) -> Result<(), String> {
        let marker = self.dir.join(MARKER);
        let tmp = marker.with_extension("tmp");
        fs::write(&tmp, fingerprint)
            .and_then(|()| fs::rename(&tmp, &marker))
            .map_err(|e| format!("{what}: cannot write {}: {e}", marker.display()))
    }
}

/// Runs `cmd` to completion; its stdout on success, else an error naming `what`, the command,
/// its exit status and the tails of its stderr and stdout.
///
/// # Errors
/// The command cannot be started, fails, or prints other than UTF-8.
pub fn output(cmd: &mut Command, what: &str) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run `{shown}`: {e}"))?;
    if out.status.success() {
        return String::from_utf8(out.stdout)
            .map_err(|e| format!("{what}: `{shown}` printed non-UTF-8: {e}"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Err(format!(
        "{what}: `{shown}` failed ({})\n--- stderr ---\n{}\n--- stdout ---\n{}",
        out.status,
        tail(&stderr),
        tail(&stdout),
    ))
}

/// The last [`QUOTED_OUTPUT`] bytes of `text` (at a character boundary), for failure messages.
pub(crate) fn tail(text: &str) -> &str {
    let text = text.trim_end();
    let mut start = text.len().saturating_sub(QUOTED_OUTPUT);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
