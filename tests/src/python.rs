//! A Python virtual environment holding the pinned `pyln-client` and `pyln-proto`
//! (`tests/python/requirements.txt`), provisioned on first use under the cargo target directory.
//!
//! ```no_run
//! let out = lnpeer_tests::python::run_script("pyln_versions.py", &[]);
//! assert!(out.contains("pyln-client"));
//! ```
//!
//! Provisioning creates `<target-dir>/pyvenv` with `python3 -m venv`, installs the requirements
//! with the venv's pip, checks that `pyln.client` and `pyln.proto` import, and last writes a
//! marker file holding the SHA-256 of `requirements.txt`. A later call (in this or any other
//! process) that finds the marker matching and the interpreter present returns at once; a changed
//! `requirements.txt`, a missing marker (an interrupted install) or a dangling interpreter (the
//! base Python was removed) rebuilds the venv from scratch.
//!
//! Concurrency: within a process a [`OnceLock`] runs provisioning once and every thread shares
//! its outcome (a failure too, so it is not retried by each test). Across processes (test
//! binaries run side by side, e.g. by nextest, or two `cargo test` runs) an exclusive
//! [`File::lock`](std::fs::File::lock) on `<target-dir>/pyvenv.lock` serialises the check-and-install; the OS drops
//! that lock when its holder exits or dies, so a killed run leaves no stale lock behind.
//!
//! Environment:
//! - [`VENV_DIR_ENV`] (`LNPEER_PYVENV`): use that directory for the venv instead of
//!   `<target-dir>/pyvenv` (it is provisioned and checked the same way).
//! - [`PYTHON3_ENV`] (`LNPEER_PYTHON3`): the base interpreter that creates the venv (default
//!   `python3` from `PATH`).

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// Environment variable naming the venv directory to use instead of `<target-dir>/pyvenv`.
pub const VENV_DIR_ENV: &str = "LNPEER_PYVENV";

/// Environment variable naming the base interpreter that creates the venv (default `python3`).
pub const PYTHON3_ENV: &str = "LNPEER_PYTHON3";

/// File inside the venv written once provisioning succeeded; holds the requirements' SHA-256.
const MARKER: &str = "lnpeer-provisioned";

/// Most of a failed command's stdout/stderr that a panic message quotes (the tail is kept).
const QUOTED_OUTPUT: usize = 8_000;

/// A provisioned venv.
struct Venv {
    dir: PathBuf,
    python: PathBuf,
}

#[track_caller]
fn venv() -> &'static Venv {
    static VENV: OnceLock<Result<Venv, String>> = OnceLock::new();
    match VENV.get_or_init(provision) {
        Ok(venv) => venv,
        Err(e) => panic!("{e}"),
    }
}

/// The provisioned venv's Python interpreter, provisioning the venv on first call.
///
/// # Panics
/// If provisioning fails: the message names the command that failed and quotes its output.
#[track_caller]
pub fn python() -> &'static Path {
    &venv().python
}

/// The provisioned venv's directory, provisioning the venv on first call.
///
/// # Panics
/// As [`python`].
#[track_caller]
pub fn venv_dir() -> &'static Path {
    &venv().dir
}

/// The requirements file the venv is provisioned from (`tests/python/requirements.txt`).
pub fn requirements_file() -> PathBuf {
    scripts_dir().join("requirements.txt")
}

/// The directory holding the tests' Python scripts (`tests/python`).
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// A [`Command`] running `script` with the venv's interpreter; a relative `script` is taken
/// from [`scripts_dir`].
///
/// # Panics
/// As [`python`].
#[track_caller]
pub fn script(script: impl AsRef<Path>) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(scripts_dir().join(script));
    cmd
}

/// Runs script `name` (see [`script`]) with `args` and returns its stdout; for other arguments
/// or environment, build the [`Command`] with [`script`].
///
/// # Panics
/// If the venv cannot be provisioned, the script cannot be started, exits non-zero or prints
/// other than UTF-8; the message quotes its stdout and stderr.
#[track_caller]
pub fn run_script(name: impl AsRef<Path>, args: &[&str]) -> String {
    let mut cmd = script(name);
    cmd.args(args).stdin(Stdio::null());
    match output(&mut cmd, "python script") {
        Ok(stdout) => stdout,
        Err(e) => panic!("{e}"),
    }
}

fn provision() -> Result<Venv, String> {
    let dir = match std::env::var_os(VENV_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target_dir().join("pyvenv"),
    };
    let python = venv_python(&dir);
    let requirements = requirements_file();
    let wanted = fs::read(&requirements)
        .map(|bytes| format!("{}\n", hex::encode(Sha256::digest(bytes))))
        .map_err(|e| format!("python venv: cannot read {}: {e}", requirements.display()))?;

    let parent = dir.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent)
        .map_err(|e| format!("python venv: cannot create {}: {e}", parent.display()))?;
    let mut lock_name = dir.file_name().unwrap_or(OsStr::new("pyvenv")).to_owned();
    lock_name.push(".lock");
    let lock_path = parent.join(lock_name);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("python venv: cannot open {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("python venv: cannot lock {}: {e}", lock_path.display()))?;

    let marker = dir.join(MARKER);
    let provisioned = python.is_file() && fs::read_to_string(&marker).is_ok_and(|m| m == wanted);
    if !provisioned {
        install(&dir, &python, &requirements, &marker, &wanted)?;
    }
    drop(lock);
    Ok(Venv { dir, python })
}

/// (Re)builds the venv in `dir` from scratch; the marker is written last, so an interrupted
/// install is redone by the next caller. Runs under the cross-process lock.
fn install(
    dir: &Path,
    python: &Path,
    requirements: &Path,
    marker: &Path,
    wanted: &str,
) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir)
            .map_err(|e| format!("python venv: cannot remove stale {}: {e}", dir.display()))?;
    }
    let base = std::env::var_os(PYTHON3_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into());
    output(
        Command::new(&base).arg("-m").arg("venv").arg(dir),
        &format!(
            "creating the venv (needs python3 with its venv module, e.g. Debian's python3-venv; \
             or set {PYTHON3_ENV})"
        ),
    )?;
    output(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .arg("--requirement")
            .arg(requirements),
        "installing the pinned requirements with pip",
    )?;
    output(
        Command::new(python).args(["-c", "import pyln.client, pyln.proto"]),
        "importing pyln.client and pyln.proto in the new venv",
    )?;
    let tmp = marker.with_extension("tmp");
    fs::write(&tmp, wanted)
        .and_then(|()| fs::rename(&tmp, marker))
        .map_err(|e| format!("python venv: cannot write {}: {e}", marker.display()))
}

/// Runs `cmd` to completion; its stdout on success, else an error naming `what`, the command,
/// its exit status and the tails of its stderr and stdout.
fn output(cmd: &mut Command, what: &str) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("python venv: {what}: cannot run `{shown}`: {e}"))?;
    if out.status.success() {
        return String::from_utf8(out.stdout)
            .map_err(|e| format!("python venv: {what}: `{shown}` printed non-UTF-8: {e}"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Err(format!(
        "python venv: {what}: `{shown}` failed ({})\n--- stderr ---\n{}\n--- stdout ---\n{}",
        out.status,
        tail(&stderr),
        tail(&stdout),
    ))
}

fn tail(text: &str) -> &str {
    let text = text.trim_end();
    let mut start = text.len().saturating_sub(QUOTED_OUTPUT);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

fn venv_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}

/// The cargo target directory this test binary was built into.
///
/// The binary itself is the most reliable witness: it lies at `<target-dir>/[<triple>/]<profile>/
/// deps/<name>-<hash>` whatever chose the directory (`CARGO_TARGET_DIR`, `--target-dir`,
/// `build.target-dir` in a cargo config, a `--target` triple, nextest), and cargo marks the
/// target directory's root with a `CACHEDIR.TAG` file, so the nearest ancestor holding one is
/// it. Build-time `CARGO_TARGET_DIR` (an absolute one) and `<workspace>/target` are fallbacks
/// for a binary run from a copy outside the target directory.
fn target_dir() -> PathBuf {
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
