//! lnprototest's venv and running pytest in it against `lnpeerd`, through the runner in
//! `tests/python/lnpeer_lnprototest`.
//!
//! lnprototest 0.0.7 pins pyln-proto < 24 and pyln-client < 26, so it gets a venv of its own,
//! `<target-dir>/lnprototest-venv`, provisioned from the pinned
//! `tests/python/lnpeer_lnprototest/requirements.txt` as [`crate::python`] provisions its
//! venv (once, under a cross-process lock, rebuilt when the file changes). pyln-proto 23.11
//! needs coincurve 18, which has binary wheels for CPython 3.9 to 3.11 only, so the base
//! interpreter is the first of `$LNPEER_LNPROTOTEST_PYTHON3`, `python3.11`, `python3.10`,
//! `python3.9` and `python3` that is such a Python with its `venv` module. When there is none,
//! [`venv`] says so and the caller skips; any later failure (pip, the import check) is an
//! error, as it is for the other venv.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::node;
use crate::provision::target_dir;
use crate::python::{provision_venv, scripts_dir, Venv, VenvSpec};

/// Environment variable naming the base interpreter for lnprototest's venv.
pub const PYTHON3_ENV: &str = "LNPEER_LNPROTOTEST_PYTHON3";

/// The Python versions (major, minor) lnprototest's pinned packages install on.
const SUPPORTED: std::ops::RangeInclusive<(u32, u32)> = (3, 9)..=(3, 11);

/// Interpreters tried, in order, when [`PYTHON3_ENV`] is not set.
const CANDIDATES: &[&str] = &["python3.11", "python3.10", "python3.9", "python3"];

/// How long one pytest run may take before it is killed (its runner bounds every wait
/// itself; this is a backstop).
const PYTEST_LIMIT: Duration = Duration::from_secs(600);

/// Why lnprototest cannot run on this machine.
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

/// The package holding the runner (`tests/python/lnpeer_lnprototest`).
pub fn runner_dir() -> PathBuf {
    scripts_dir().join("lnpeer_lnprototest")
}

/// lnpeer's own tests written with lnprototest's events (`tests/python/lnprototest_tests`).
pub fn tests_dir() -> PathBuf {
    scripts_dir().join("lnprototest_tests")
}

/// The provisioned venv, provisioning it on first call; [`Unavailable`] if no suitable base
/// interpreter exists.
///
/// # Panics
/// If an interpreter was found but provisioning failed: the message names the command that
/// failed and quotes its output.
#[track_caller]
pub fn venv() -> Result<&'static Venv, Unavailable> {
    static VENV: OnceLock<Result<Result<Venv, Unavailable>, String>> = OnceLock::new();
    match VENV.get_or_init(provision) {
        Ok(Ok(venv)) => Ok(venv),
        Ok(Err(unavailable)) => Err(unavailable.clone()),
        Err(e) => panic!("{e}"),
    }
}

fn provision() -> Result<Result<Venv, Unavailable>, String> {
    let base_python = match base_python()? {
        Ok(python) => python,
        Err(unavailable) => return Ok(Err(unavailable)),
    };
    let requirements = runner_dir().join("requirements.txt");
    let hint = format!("needs Python 3.9-3.11 with its venv module; or set {PYTHON3_ENV}");
    provision_venv(&VenvSpec {
        dir: target_dir().join("lnprototest-venv"),
        requirements: &requirements,
        base_python,
        check: "import lnprototest, pyln.proto.wire, pyln.client",
        what: "lnprototest venv",
        hint: &hint,
    })
    .map(Ok)
}

/// The base interpreter: [`PYTHON3_ENV`] (which must be a supported Python), else the first
/// supported one of [`CANDIDATES`].
fn base_python() -> Result<Result<OsString, Unavailable>, String> {
    if let Some(chosen) = std::env::var_os(PYTHON3_ENV).filter(|p| !p.is_empty()) {
        return match python_version(&chosen) {
            Some(version) if SUPPORTED.contains(&version) => Ok(Ok(chosen)),
            Some((major, minor)) => Err(format!(
                "{PYTHON3_ENV}={} is Python {major}.{minor}; lnprototest's pinned packages \
                 need 3.9 to 3.11",
                chosen.to_string_lossy()
            )),
            None => Err(format!(
                "{PYTHON3_ENV}={} does not run as a Python with its venv module",
                chosen.to_string_lossy()
            )),
        };
    }
    let mut seen = Vec::new();
    for candidate in CANDIDATES {
        match python_version(candidate.as_ref()) {
            Some(version) if SUPPORTED.contains(&version) => return Ok(Ok(candidate.into())),
            Some((major, minor)) => seen.push(format!("{candidate} is {major}.{minor}")),
            None => seen.push(format!("{candidate} is missing or has no venv module")),
        }
    }
    Ok(Err(Unavailable(format!(
        "no Python 3.9-3.11 with its venv module ({}); lnprototest 0.0.7's pyln-proto 23.11 \
         needs coincurve 18, which has no wheels past 3.11. Install one, or set {PYTHON3_ENV}",
        seen.join("; ")
    ))))
}

/// `(major, minor)` of `python`, if it runs and has the `venv` module.
fn python_version(python: &std::ffi::OsStr) -> Option<(u32, u32)> {
    let out = Command::new(python)
        .args(["-c", "import sys, venv; print(*sys.version_info[:2])"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u32>().ok());
    Some((numbers.next()??, numbers.next()??))
}

/// What a pytest run printed.
#[derive(Debug)]
pub struct PytestRun {
    /// Whether pytest exited 0.
    pub success: bool,
    /// Its stdout and stderr, in that order.
    pub output: String,
}

/// Runs pytest in `venv` on `args` (test files, `-k`, ...) from `dir`, with the lnpeer runner
/// importable, `lnpeerd` from this build, and lnprototest's `TIMEOUT` at `timeout_secs`.
///
/// # Panics
/// If pytest cannot be started, or runs past a backstop limit (it is killed).
pub fn pytest(venv: &Venv, dir: &Path, args: &[&str], timeout_secs: u32) -> PytestRun {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let stdout_path = out_dir.path().join("stdout");
    let stderr_path = out_dir.path().join("stderr");
    let file = |path: &Path| std::fs::File::create(path).expect("an output file");
    let mut child = Command::new(&venv.python)
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-rA"])
        .args(args)
        .current_dir(dir)
        .env("LNPEERD", node::binary("lnpeerd"))
        .env("PYTHONPATH", scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("TIMEOUT", timeout_secs.to_string())
        .stdin(Stdio::null())
        .stdout(file(&stdout_path))
        .stderr(file(&stderr_path))
        .spawn()
        .expect("pytest starts");
    let deadline = Instant::now() + PYTEST_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for pytest") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let output = format!("{}{}", read(&stdout_path), read(&stderr_path));
    match status {
        Some(status) => PytestRun {
            success: status.success(),
            output,
        },
        None => panic!("pytest ran past {PYTEST_LIMIT:?} and was killed:\n{output}"),
    }
}
