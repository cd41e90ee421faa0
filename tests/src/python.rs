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
//!
//! Other venvs with requirements that cannot share this one (lnprototest's, in
//! [`crate::lnprototest`]) are built the same way with [`provision_venv`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::provision::{fingerprint, output, target_dir, Provisioning};

/// Environment variable naming the venv directory to use instead of `<target-dir>/pyvenv`.
pub const VENV_DIR_ENV: &str = "LNPEER_PYVENV";

/// Environment variable naming the base interpreter that creates the venv (default `python3`).
pub const PYTHON3_ENV: &str = "LNPEER_PYTHON3";

/// A provisioned venv.
#[derive(Debug)]
pub struct Venv {
    /// Its directory.
    pub dir: PathBuf,
    /// Its Python interpreter.
    pub python: PathBuf,
}

/// What a venv is built from, and how it is checked.
#[derive(Debug)]
pub struct VenvSpec<'a> {
    /// The venv's directory.
    pub dir: PathBuf,
    /// The pinned requirements file it is installed from (its hash is the venv's marker).
    pub requirements: &'a Path,
    /// The base interpreter that creates it.
    pub base_python: OsString,
    /// A Python statement that must run in the new venv, e.g. `import pyln.client`.
    pub check: &'a str,
    /// What failures are about, e.g. `python venv`.
    pub what: &'a str,
    /// How to get the base interpreter, quoted when creating the venv fails.
    pub hint: &'a str,
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
    let base_python = std::env::var_os(PYTHON3_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into());
    let hint = format!(
        "needs python3 with its venv module, e.g. Debian's python3-venv; or set {PYTHON3_ENV}"
    );
    provision_venv(&VenvSpec {
        dir,
        requirements: &requirements_file(),
        base_python,
        check: "import pyln.client, pyln.proto",
        what: "python venv",
        hint: &hint,
    })
}

/// Provisions the venv `spec` describes, once across processes (see the module
/// documentation): reused while its marker matches the requirements and its interpreter is
/// there, else rebuilt from scratch.
///
/// # Errors
/// Creating it, installing the requirements or the check failed; the message names the
/// command and quotes its output.
pub fn provision_venv(spec: &VenvSpec<'_>) -> Result<Venv, String> {
    let what = spec.what;
    let python = venv_python(&spec.dir);
    let wanted = fingerprint(&[spec.requirements], what)?;
    let provisioning = Provisioning::lock(&spec.dir, what)?;
    if !(python.is_file() && provisioning.is_current(&wanted)) {
        provisioning.clear(what)?;
        install(spec, &python)?;
        provisioning.finish(&wanted, what)?;
    }
    Ok(Venv {
        dir: spec.dir.clone(),
        python,
    })
}

/// Builds the venv from scratch. Runs under the cross-process lock.
fn install(spec: &VenvSpec<'_>, python: &Path) -> Result<(), String> {
    let what = spec.what;
    output(
        Command::new(&spec.base_python)
            .arg("-m")
            .arg("venv")
            .arg(&spec.dir),
        &format!("{what}: creating the venv ({})", spec.hint),
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
            .arg(spec.requirements),
        &format!("{what}: installing the pinned requirements with pip"),
    )?;
    output(
        Command::new(python).args(["-c", spec.check]),
        &format!("{what}: running `{}` in the new venv", spec.check),
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
