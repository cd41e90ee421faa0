//! The pinned JavaScript packages of the cross-process tests (`tests/js/package.json` with its
//! lock file: lnmessage, the browser and Node.js library Lightning web apps use; esbuild, to
//! bundle the browser console; playwright-core, to drive Chromium), provisioned on first use
//! under `<target-dir>/npm` with `npm ci`, the same way as the Python venv ([`crate::provision`]).
//!
//! Node.js and npm come from the machine, and so does Chromium for the browser tests (`.ci/run`
//! installs Debian's). [`node_or_skip`] and [`chromium_or_skip`] tell a test whether it can run
//! at all: where they are missing it skips with a clear `SKIPPED:` message rather than pass
//! silently, except under CI, where it fails. [`run`] runs a script with a time limit and keeps
//! its output for failure messages.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::provision::{fingerprint, output, tail, target_dir, Provisioning};

/// Debian's Chromium, which the browser tests drive.
pub const CHROMIUM: &str = "/usr/bin/chromium";

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

/// Whether `test`, which needs what `missing` says is missing, can run: true if `available`.
/// Otherwise it fails under CI (the `CI` environment variable is set, and CI installs what the
/// tests need), and elsewhere prints `SKIPPED: <test>: <missing>` to stderr and returns false.
///
/// # Panics
/// Under CI, when not `available`.
#[track_caller]
pub fn available_or_skip(test: &str, available: bool, missing: &str) -> bool {
    if available {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {missing}, and CI must run this test"
    );
    // Straight to the process's stderr: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {missing}");
    false
}

/// [`available_or_skip`] for Node.js and npm.
#[track_caller]
pub fn node_or_skip(test: &str) -> bool {
    available_or_skip(
        test,
        node_available(),
        "Node.js and npm are not installed (install Debian's nodejs and npm; .ci/run does)",
    )
}

/// [`available_or_skip`] for [`CHROMIUM`] (and Node.js and npm, which drive it).
#[track_caller]
pub fn chromium_or_skip(test: &str) -> bool {
    available_or_skip(
        test,
        Path::new(CHROMIUM).is_file(),
        &format!("{CHROMIUM} is not installed (install Debian's chromium; .ci/run does)"),
    ) && node_or_skip(test)
}

/// A finished (or killed) script run.
#[derive(Debug)]
pub struct ScriptRun {
    /// How it ended; `None` if it was killed for taking too long.
    pub status: Option<ExitStatus>,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl ScriptRun {
    /// The run, described for a failure message: how it ended, its stdout and the tail of its
    /// stderr.
    pub fn report(&self) -> String {
        let ended = match self.status {
            Some(status) => status.to_string(),
            None => format!("killed after {:?}", self.elapsed),
        };
        format!(
            "the script {ended} after {:.1} s\n--- its stdout ---\n{}\n--- its stderr ---\n{}",
            self.elapsed.as_secs_f64(),
            self.stdout.trim_end(),
            whole_lines(tail(&self.stderr), &self.stderr)
        )
    }

    /// The JSON document on the last line of stdout.
    ///
    /// # Panics
    /// If there is none: the message quotes the run.
    #[track_caller]
    pub fn json(&self) -> Value {
        self.stdout
            .lines()
            .last()
            .and_then(|line| serde_json::from_str(line).ok())
            .unwrap_or_else(|| panic!("no JSON document from the script: {}", self.report()))
    }

    /// Asserts that the value at `pointer` (RFC 6901, e.g. `/ws/getinfo/ok/id`) in `document`
    /// is `expected`.
    ///
    /// # Panics
    /// If it is not: the message shows both and quotes the run.
    #[track_caller]
    pub fn expect(&self, document: &Value, pointer: &str, expected: &Value) {
        let actual = document.pointer(pointer).unwrap_or(&Value::Null);
        assert!(
            actual == expected,
            "{pointer}: expected {expected}, got {actual}\n{}",
            self.report()
        );
    }
}

/// `end`, a tail of `text`, from its first whole line on.
fn whole_lines<'a>(end: &'a str, text: &str) -> &'a str {
    if end.len() == text.trim_end().len() {
        return end;
    }
    end.split_once('\n').map_or(end, |(_, rest)| rest)
}

/// Runs `cmd` (e.g. a [`node_script`]) with no stdin, kills it if it runs past `timeout`, and
/// keeps what it printed.
///
/// # Panics
/// If it cannot be started.
#[track_caller]
pub fn run(mut cmd: Command, timeout: Duration) -> ScriptRun {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    ScriptRun {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
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
