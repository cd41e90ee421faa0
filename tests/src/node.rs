//! Real `lnpeerd` processes for cross-process tests: each in its own temporary lightning
//! directory, on regtest, listening on a free 127.0.0.1 port, logging at io level to a file,
//! and killed when dropped.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a test waits for a node to start, a log line to appear or an RPC to answer.
pub const WAIT: Duration = Duration::from_secs(30);

/// A built binary of this workspace (`lnpeerd`, `lnpeer-cli`), next to the test executable's
/// `deps` directory. `cargo test --workspace` builds both before running any test.
///
/// # Panics
/// If the binary is not there.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1 (bound and released; the node binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A running lnpeerd.
pub struct Node {
    /// The lightning directory (deleted on drop).
    pub dir: tempfile::TempDir,
    /// The node's P2P port on 127.0.0.1.
    pub port: u16,
    /// The node id, hex.
    pub id: String,
    child: Child,
}

impl Node {
    /// Starts a node with `--developer` and the given extra options, and waits until its RPC
    /// answers `getinfo`.
    ///
    /// # Panics
    /// If it does not start in time.
    pub fn start(extra: &[&str]) -> Node {
        Node::start_with(true, extra)
    }

    /// Starts a node, with `--developer` or not.
    ///
    /// # Panics
    /// If it does not start in time.
    pub fn start_with(developer: bool, extra: &[&str]) -> Node {
        Node::start_in(Node::new_dir(), developer, extra)
    }

    /// A fresh lightning directory for [`Node::start_in`], e.g. to put an `hsm_secret` in first.
    pub fn new_dir() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("lnpeer")
            .tempdir()
            .expect("a temporary directory")
    }

    /// Starts a node in `dir` (a new one, or one a stopped node left: see [`Node::stop`]).
    ///
    /// # Panics
    /// If it does not start in time.
    pub fn start_in(dir: tempfile::TempDir, developer: bool, extra: &[&str]) -> Node {
        Node::start_with_env(dir, developer, extra, &[])
    }

    /// Starts a node in `dir` like [`Node::start_in`], with these environment variables set
    /// (e.g. `LIGHTNINGKEYLOGFILE`).
    ///
    /// # Panics
    /// If it does not start in time.
    pub fn start_with_env(
        dir: tempfile::TempDir,
        developer: bool,
        extra: &[&str],
        env: &[(&str, &Path)],
    ) -> Node {
        let port = free_port();
        let child = Command::new(binary("lnpeerd"))
            .envs(env.iter().copied())
            .arg(format!("--lightning-dir={}", dir.path().display()))
            .arg("--network=regtest")
            .arg(format!("--bind-addr=127.0.0.1:{port}"))
            .args(developer.then_some("--developer"))
            .arg("--log-level=io")
            .arg(format!("--log-file={}", dir.path().join("log").display()))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lnpeerd starts");
        let mut node = Node {
            dir,
            port,
            id: String::new(),
            child,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(info) = node.try_rpc("getinfo", json!([])) {
                node.id = info["id"].as_str().expect("getinfo.id").to_owned();
                return node;
            }
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!("lnpeerd exited at start with {status}: {}", node.log());
            }
            assert!(
                Instant::now() < deadline,
                "lnpeerd did not start: {}",
                node.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the node with the `stop` command and waits for it to exit; returns its directory,
    /// to start it again with [`Node::start_in`].
    ///
    /// # Panics
    /// If it does not exit in time.
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.try_rpc("stop", json!([]));
        assert!(self.wait_exit(WAIT), "lnpeerd did not stop: {}", self.log());
        let dir = tempfile::Builder::new()
            .prefix("lnpeer-moved")
            .tempdir()
            .expect("a temporary directory");
        // Drop kills the child (already gone) and deletes `dir`: swap the directory out first.
        std::mem::replace(&mut self.dir, dir)
    }

    /// The lightning directory.
    pub fn lightning_dir(&self) -> &Path {
        self.dir.path()
    }

    /// `<lightning-dir>/regtest/lightning-rpc`.
    pub fn rpc_path(&self) -> PathBuf {
        self.dir.path().join("regtest").join("lightning-rpc")
    }

    /// `id@127.0.0.1:port`.
    pub fn address(&self) -> String {
        format!("{}@127.0.0.1:{}", self.id, self.port)
    }

    /// Calls `method`: the result, or the error object.
    ///
    /// # Panics
    /// If the socket fails.
    pub fn try_rpc(&self, method: &str, params: Value) -> Result<Value, Value> {
        rpc_at(&self.rpc_path(), method, params)
    }

    /// Calls `method` and returns its result.
    ///
    /// # Panics
    /// If it fails.
    #[track_caller]
    pub fn rpc(&self, method: &str, params: Value) -> Value {
        match self.try_rpc(method, params.clone()) {
            Ok(result) => result,
            Err(error) => panic!("{method} {params} failed: {error}"),
        }
    }

    /// Sends `request` as is and returns the first response frame (without its `\n\n`).
    ///
    /// # Errors
    /// The socket failed or closed early.
    pub fn raw_rpc(&self, request: &str) -> Result<String, String> {
        raw_rpc_at(&self.rpc_path(), request)
    }

    /// Runs `lnpeer-cli --lightning-dir=<this node's> --regtest <args>`.
    ///
    /// # Panics
    /// If the CLI cannot be run.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(binary("lnpeer-cli"))
            .arg(format!("--lightning-dir={}", self.dir.path().display()))
            .arg("--regtest")
            .args(args)
            .output()
            .expect("lnpeer-cli runs")
    }

    /// [`Node::cli`] that must succeed: its stdout as JSON.
    ///
    /// # Panics
    /// If it fails or prints other than JSON.
    #[track_caller]
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let output = self.cli(args);
        assert!(
            output.status.success(),
            "lnpeer-cli {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("lnpeer-cli prints JSON")
    }

    /// The log file's contents.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Waits until a log line contains `needle`, and returns that line.
    ///
    /// # Panics
    /// If none does in time.
    #[track_caller]
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(line) = self.log().lines().find(|line| line.contains(needle)) {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no log line contains {needle:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Connects this node to `other` and waits until both see the connection.
    #[track_caller]
    pub fn connect(&self, other: &Node) -> Value {
        let result = self.rpc("connect", json!([other.address()]));
        wait_until(|| {
            other.rpc("listpeers", json!([self.id]))["peers"][0]["connected"] == json!(true)
        });
        result
    }

    /// Waits for the process to exit by itself; false if it did not in time.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `condition` until it holds.
///
/// # Panics
/// If it does not within [`WAIT`].
#[track_caller]
pub fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Calls `method` on the node whose RPC socket is `path` (from a thread that holds no
/// [`Node`]): its result, or its error object.
pub fn rpc_at(path: &Path, method: &str, params: Value) -> Result<Value, Value> {
    let request = json!({"jsonrpc": "2.0", "id": format!("test:{method}"), "method": method, "params": params});
    let reply = raw_rpc_at(path, &request.to_string()).map_err(|e| json!(e))?;
    let mut reply: Value = serde_json::from_str(&reply).map_err(|e| json!(e.to_string()))?;
    match reply.get_mut("result") {
        Some(result) => Ok(result.take()),
        None => Err(reply["error"].take()),
    }
}

/// Sends `request` to the RPC socket at `path` and returns the response's text.
pub fn raw_rpc_at(path: &Path, request: &str) -> Result<String, String> {
    let mut socket = UnixStream::connect(path).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(WAIT))
        .map_err(|e| e.to_string())?;
    socket
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 8192];
    while !reply.ends_with(b"\n\n") {
        let n = socket.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the node closed the RPC connection".into());
        }
        reply.extend_from_slice(&chunk[..n]);
    }
    reply.truncate(reply.len() - 2);
    String::from_utf8(reply).map_err(|e| e.to_string())
}
