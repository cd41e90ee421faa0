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
//! its outcome (a failure too, so it is not retried by each test). Across processes the lock of
//! [`crate::provision`] serialises the check-and-install.
//!
//! Environment:
//! - [`VENV_DIR_ENV`] (`LNPEER_PYVENV`): use that directory for the venv instead of
//!   `<target-dir>/pyvenv` (it is provisioned and checked the same way).
//! - [`PYTHON3_ENV`] (`LNPEER_PYTHON3`): the base interpreter that creates the venv (default
//!   `python3` from `PATH`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::provision::{fingerprint, output, target_dir, Provisioning};

/// Environment variable naming the venv directory to use instead of `<target-dir>/pyvenv`.
pub const VENV_DIR_ENV: &str = "LNPEER_PYVENV";

/// Environment variable naming the base interpreter that creates the venv (default `python3`).
pub const PYTHON3_ENV: &str = "LNPEER_PYTHON3";

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
    match output(&mut cmd, "python venv: python script") {
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
    let wanted = fingerprint(&[&requirements], WHAT)?;
    let provisioning = Provisioning::lock(&dir, WHAT)?;
    if !(python.is_file() && provisioning.is_current(&wanted)) {
        provisioning.clear(WHAT)?;
        install(&dir, &python, &requirements)?;
        provisioning.finish(&wanted, WHAT)?;
    }
    Ok(Venv { dir, python })
}

/// What provisioning failures are about.
const WHAT: &str = "python venv";

/// Builds the venv in `dir` from scratch. Runs under the cross-process lock.
fn install(dir: &Path, python: &Path, requirements: &Path) -> Result<(), String> {
    let base = std::env::var_os(PYTHON3_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into());
    output(
        Command::new(&base).arg("-m").arg("venv").arg(dir),
        &format!(
            "{WHAT}: creating the venv (needs python3 with its venv module, e.g. Debian's \
             python3-venv; or set {PYTHON3_ENV})"
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
        &format!("{WHAT}: installing the pinned requirements with pip"),
    )?;
    output(
        Command::new(python).args(["-c", "import pyln.client, pyln.proto"]),
        &format!("{WHAT}: importing pyln.client and pyln.proto in the new venv"),
    )?;
    Ok(())
}

fn venv_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}
