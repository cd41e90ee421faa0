//! Real `lnpeerd` processes for the RPC, commando and idle-peer rows: built in release by cargo
//! first, each in a temporary lightning dir on regtest, on a free 127.0.0.1 port, killed when
//! dropped; and the JSON-RPC client those rows drive them with.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The workspace's `Cargo.toml` (this package is `bin/lnpeer-bench`).
const WORKSPACE_MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");

/// The release `lnpeerd` next to this binary, built (or found up to date) by cargo once.
fn lnpeerd_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        // `cargo run` gives this binary its package's variables, and ring's build script
        // reruns when CARGO_MANIFEST_DIR changes: passed on, they would rebuild lnpeerd after
        // every plain `cargo build` and the reverse.
        let package_vars = std::env::vars_os().filter_map(|(name, _)| {
            let text = name.to_str()?;
            (text.starts_with("CARGO_PKG_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                ]
                .contains(&text))
            .then_some(name)
        });
        let mut build = Command::new(cargo);
        for name in package_vars {
            build.env_remove(name);
        }
        let status = build
            .args(["build", "--release", "--quiet", "-p", "lnpeerd"])
            // The workspace this binary was built from, wherever it is run from.
            .args(["--manifest-path", WORKSPACE_MANIFEST])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building lnpeerd failed");
        // This binary is `<target>/release/lnpeer-bench`, or under `cargo test`
        // `<target>/<profile>/deps/lnpeer_bench-<hash>`; cargo put lnpeerd in `<target>/release`.
        let exe = std::env::current_exe().expect("this binary's path");
        let mut dir = exe.parent().expect("this binary's directory");
        if dir.ends_with("deps") {
            dir = dir.parent().expect("the profile directory");
        }
        let target = dir.parent().expect("the target directory");
        target.join("release").join("lnpeerd")
    })
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A running lnpeerd.
pub(crate) struct Daemon {
    dir: tempfile::TempDir,
    pub(crate) port: u16,
    pub(crate) id: String,
    child: Child,
}

impl Daemon {
    /// Starts lnpeerd with `extra` options and `env`, and waits for its RPC.
    pub(crate) fn start(extra: &[String], env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("lnpeer-bench")
            .tempdir()
            .expect("a temporary directory");
        let port = free_port();
        let child = Command::new(lnpeerd_binary())
            .arg(format!("--lightning-dir={}", dir.path().display()))
            .arg("--network=regtest")
            .arg(format!("--bind-addr=127.0.0.1:{port}"))
            .arg("--log-level=info")
            .arg(format!("--log-file={}", dir.path().join("log").display()))
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("lnpeerd starts");
        let mut daemon = Daemon {
            dir,
            port,
            id: String::new(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(info) = daemon.try_rpc("getinfo", json!([])) {
                daemon.id = info["id"].as_str().expect("getinfo.id").to_owned();
                return daemon;
            }
            assert!(Instant::now() < deadline, "lnpeerd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `<lightning-dir>/regtest/lightning-rpc`.
    pub(crate) fn rpc_path(&self) -> PathBuf {
        self.dir.path().join("regtest").join("lightning-rpc")
    }

    /// `id@127.0.0.1:port`.
    pub(crate) fn address(&self) -> String {
        format!("{}@127.0.0.1:{}", self.id, self.port)
    }

    /// The process id, for its memory figures.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One call on a fresh connection: the result, or the error object.
    pub(crate) fn try_rpc(&self, method: &str, params: Value) -> Result<Value, Value> {
        let mut client = RpcClient::connect(&self.rpc_path()).map_err(|e| json!(e))?;
        client.call(method, params)
    }

    /// One call that must succeed.
    pub(crate) fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params.clone())
            .unwrap_or_else(|error| panic!("{method} {params} failed: {error}"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSON-RPC connection to lnpeerd's socket; responses end with a blank line.
pub(crate) struct RpcClient {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
    line: String,
}

impl RpcClient {
    pub(crate) fn connect(path: &Path) -> Result<RpcClient, String> {
        let writer = UnixStream::connect(path).map_err(|e| e.to_string())?;
        let reader = BufReader::new(writer.try_clone().map_err(|e| e.to_string())?);
        Ok(RpcClient {
            writer,
            reader,
            line: String::new(),
        })
    }

    /// Writes requests as they are (already serialized).
    pub(crate) fn send(&mut self, requests: &[u8]) {
        self.writer.write_all(requests).expect("an RPC write");
    }

    /// Reads the next response.
    pub(crate) fn receive(&mut self) -> Value {
        let mut frame = String::new();
        loop {
            self.line.clear();
            let n = self.reader.read_line(&mut self.line).expect("an RPC read");
            assert!(n > 0, "lnpeerd closed the RPC connection");
            if self.line == "\n" && !frame.is_empty() {
                return serde_json::from_str(&frame).expect("a JSON response");
            }
            frame.push_str(&self.line);
        }
    }

    /// One request and its response.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.send(request.to_string().as_bytes());
        let mut response = self.receive();
        match response.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(response["error"].take()),
        }
    }
}

/// What [`pipelined_calls`] measured.
pub(crate) struct Pipelined {
    /// Calls answered.
    pub(crate) calls: u64,
    /// From the first request written to the last response read.
    pub(crate) elapsed: Duration,
    /// Calls answered with an error.
    pub(crate) errors: u64,
    /// The first of those errors, for the report.
    pub(crate) first_error: Option<Value>,
}

impl Pipelined {
    /// Calls per second.
    pub(crate) fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }
}

/// `calls` requests on `clients` connections to the socket at `path`, each connection a thread
/// that keeps up to `window` requests in flight. `request(seq)` is call `seq`, serialized.
pub(crate) fn pipelined_calls(
    path: &Path,
    clients: usize,
    window: usize,
    calls: u64,
    request: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Pipelined {
    let request = std::sync::Arc::new(request);
    let per_client = calls / clients as u64;
    let started = Instant::now();
    let threads: Vec<_> = (0..clients as u64)
        .map(|client| {
            let path = path.to_owned();
            let request = request.clone();
            std::thread::spawn(move || {
                let first = client * per_client;
                pipeline(&path, window, per_client, |n| request(first + n))
            })
        })
        .collect();
    let mut errors = 0;
    let mut first_error = None;
    for thread in threads {
        let (failed, error) = thread.join().expect("an RPC client");
        errors += failed;
        first_error = first_error.or(error);
    }
    Pipelined {
        calls: per_client * clients as u64,
        elapsed: started.elapsed(),
        errors,
        first_error,
    }
}

/// One connection's share of [`pipelined_calls`]: how many calls failed, and the first error.
fn pipeline(
    path: &Path,
    window: usize,
    count: u64,
    request: impl Fn(u64) -> String,
) -> (u64, Option<Value>) {
    let mut client = RpcClient::connect(path).expect("an RPC connection");
    let mut sent = 0;
    let mut received = 0;
    let mut errors = 0;
    let mut first_error = None;
    let mut batch = String::new();
    while received < count {
        batch.clear();
        while sent < count && sent - received < window as u64 {
            batch.push_str(&request(sent));
            sent += 1;
        }
        if !batch.is_empty() {
            client.send(batch.as_bytes());
        }
        let mut response = client.receive();
        if let Some(error) = response.get_mut("error") {
            errors += 1;
            first_error = first_error.or_else(|| Some(error.take()));
        }
        received += 1;
    }
    (errors, first_error)
}

/// Resident memory of process `pid`, in bytes (`VmRSS`).
pub(crate) fn rss_bytes(pid: u32) -> u64 {
    let mut status = String::new();
    std::fs::File::open(format!("/proc/{pid}/status"))
        .and_then(|mut file| file.read_to_string(&mut status))
        .expect("the process's status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .expect("a VmRSS line")
}
