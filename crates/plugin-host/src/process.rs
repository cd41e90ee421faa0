//! One plugin process and its JSON-RPC over stdin/stdout.
//!
//! We write compact JSON objects each followed by `"\n\n"` (pyln-client splits on it),
//! through a queue bounded in bytes (see `stdin.rs` for what happens when a plugin stops
//! reading). The plugin may write objects back to back with no delimiter. An object with an `id` answers
//! one of our requests; one without is a notification for the host. A message without
//! `"jsonrpc"`, or output that is not JSON, kills the plugin, as in CLN; so does output nested
//! deeper than [`MAX_OUTPUT_NESTING_DEPTH`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::{oneshot, watch};

use crate::stdin::StdinQueue;
pub use crate::stdin::{Delivery, STDIN_QUEUE_BYTES};

use jsonrpc::error::RpcError;
use jsonrpc::framing::{Next, ValueSplitter};

/// How deeply arrays and objects may nest in one message from a plugin, the message object
/// being level 1. Each message is parsed into a `serde_json::Value`, which serde_json refuses
/// at 128 levels, so one less than the RPC server's ceiling: everything the splitter lets
/// through parses, and anything deeper is caught early (at the bracket that crosses the limit,
/// without buffering the rest) and logged as too deep rather than as unparsable.
pub const MAX_OUTPUT_NESTING_DEPTH: usize = jsonrpc::framing::SERDE_JSON_DEPTH_LIMIT - 1;

/// The error a caller gets when the plugin dies before answering.
pub const PLUGIN_TERMINATED: i32 = jsonrpc::code::PLUGIN_TERMINATED;

/// A plugin's answer: its `result`, or its `error` object.
pub type Answer = Result<Value, RpcError>;

/// The plugin died (or was stopped) before it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginGone;

impl PluginGone {
    /// The error CLN gives a caller whose plugin died.
    pub fn rpc_error(self) -> RpcError {
        RpcError::new(
            PLUGIN_TERMINATED,
            "Plugin terminated before replying to RPC call.",
        )
    }
}

/// A notification the plugin sent.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Its method (`log`, `message`, a custom topic, ...).
    pub method: String,
    /// Its params.
    pub params: Value,
}

/// How a plugin process is started.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The executable.
    pub path: PathBuf,
    /// The working directory (the network directory).
    pub cwd: PathBuf,
    /// Pass `--developer`, as lightningd does in developer mode.
    pub developer: bool,
    /// `LIGHTNINGD_VERSION`.
    pub version: String,
}

/// Request ids are unique across all plugins, as CLN's counter is.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type Pending = Arc<Mutex<Option<HashMap<String, oneshot::Sender<Answer>>>>>;

/// What handles a plugin's notifications, on its output-reading task.
pub type OnNotification = Box<dyn Fn(Notification) + Send + Sync>;

/// A running plugin process.
pub struct PluginProcess {
    stdin: Arc<StdinQueue>,
    pending: Pending,
    exited: watch::Receiver<Option<String>>,
    child: Mutex<Option<Child>>,
}

impl std::fmt::Debug for PluginProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginProcess").finish_non_exhaustive()
    }
}

impl PluginProcess {
    /// Starts the process. `on_notification` is called for each notification it sends, in
    /// order with its responses: what a plugin logs before answering is handled before the
    /// answer reaches the caller, as in CLN.
    ///
    /// # Errors
    /// The executable could not be started.
    pub fn spawn(
        launch: &Launch,
        on_notification: OnNotification,
    ) -> std::io::Result<PluginProcess> {
        let mut command = Command::new(&launch.path);
        if launch.developer {
            command.arg("--developer");
        }
        let mut child = command
            .env("LIGHTNINGD_PLUGIN", "1")
            .env("LIGHTNINGD_VERSION", &launch.version)
            .current_dir(&launch.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(std::io::Error::other("plugin pipes missing"));
        };
        let stdin = Arc::new(StdinQueue::start(
            stdin,
            format!("plugin-{}", short_name(&launch.path)),
        ));
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let (exit, exited) = watch::channel(None);
        tokio::spawn(read_stdout(
            stdout,
            pending.clone(),
            on_notification,
            exit,
            stdin.clone(),
        ));
        Ok(PluginProcess {
            stdin,
            pending,
            exited,
            child: Mutex::new(Some(child)),
        })
    }

    /// A fresh request id for `method`: `cln:<method>#<n>`.
    pub fn next_id(method: &str) -> String {
        format!("cln:{method}#{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }

    /// Sends a request and waits for the answer.
    ///
    /// # Errors
    /// The plugin died first.
    pub async fn request(&self, method: &str, params: &Value) -> Result<Answer, PluginGone> {
        let params = serde_json::to_string(params).map_err(|_| PluginGone)?;
        self.request_raw(&PluginProcess::next_id(method), method, &params, None)
            .await
    }

    /// Sends a request whose params (and filter) are raw JSON text, under `id`. While the
    /// plugin's stdin queue is full, this waits for room. Dropping the future forgets the
    /// request: a late answer is logged as one to an unknown id.
    ///
    /// # Errors
    /// The plugin died first.
    pub async fn request_raw(
        &self,
        id: &str,
        method: &str,
        params: &str,
        filter: Option<&str>,
    ) -> Result<Answer, PluginGone> {
        let (sender, receiver) = oneshot::channel();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let Some(pending) = pending.as_mut() else {
                return Err(PluginGone);
            };
            pending.insert(id.to_owned(), sender);
        }
        // A caller that gives up (a hook timeout) must not leave its entry behind.
        let _waiting = Waiting {
            pending: &self.pending,
            id,
        };
        let mut frame = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":{},\"params\":{params}",
            Value::from(id),
            Value::from(method)
        );
        if let Some(filter) = filter {
            frame.push_str(",\"filter\":");
            frame.push_str(filter);
        }
        frame.push_str("}\n\n");
        self.stdin.send(frame.into_bytes()).await?;
        receiver.await.map_err(|_| PluginGone)
    }

    /// Sends a notification if the plugin's stdin queue has room; drops it otherwise (see
    /// `stdin.rs`).
    pub fn notify(&self, method: &str, params: &Value) -> Delivery {
        let frame = format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":{},\"params\":{}}}\n\n",
            Value::from(method),
            params
        );
        self.stdin.offer(frame.into_bytes())
    }

    /// Notifications dropped so far because the plugin did not read its stdin.
    pub fn notifications_dropped(&self) -> u64 {
        self.stdin.dropped()
    }

    /// Bytes waiting for the plugin's stdin.
    pub fn queued_bytes(&self) -> usize {
        self.stdin.queued_bytes()
    }

    /// Resolves with the reason once the process's output has ended.
    pub async fn exited(&self) -> String {
        let mut exited = self.exited.clone();
        let reason = match exited.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => "gone".to_owned(),
        };
        reason
    }

    /// Whether the process's output has ended.
    pub fn has_exited(&self) -> bool {
        self.exited.borrow().is_some()
    }

    /// Kills the process (if still running) and fails every pending request.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.start_kill();
            // Reap it in the background so it does not linger as a zombie.
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        self.stdin.close();
        fail_pending(&self.pending);
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn fail_pending(pending: &Pending) {
    // Dropping the senders wakes every waiter with `PluginGone`; later requests fail at once.
    pending.lock().unwrap_or_else(|e| e.into_inner()).take();
}

/// A request waiting for its answer; its entry goes when it does, answered or not.
struct Waiting<'a> {
    pending: &'a Pending,
    id: &'a str,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(pending) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            pending.remove(self.id);
        }
    }
}

async fn read_stdout(
    mut stdout: ChildStdout,
    pending: Pending,
    on_notification: OnNotification,
    exit: watch::Sender<Option<String>>,
    stdin: Arc<StdinQueue>,
) {
    // Keeps its place between reads, so a large answer arriving in many reads is scanned
    // once rather than re-parsed from its start on every read.
    let mut messages = ValueSplitter::new(MAX_OUTPUT_NESTING_DEPTH);
    let reason = 'read: loop {
        loop {
            match messages.next_value() {
                Next::Value(text) => {
                    if let Err(reason) = deliver(text.as_bytes(), &pending, &on_notification) {
                        break 'read reason;
                    }
                }
                Next::NeedMore => break,
                // The stream cannot be resynchronised: the plugin is killed, as in CLN.
                Next::Invalid(_) => {
                    break 'read format!(
                        "Failed to parse RPC JSON response '{}'",
                        shown(messages.unconsumed())
                    );
                }
                // Garbage too, as far as we are concerned, but say why.
                Next::TooDeep => {
                    break 'read format!(
                        "JSON-RPC message nested deeper than {MAX_OUTPUT_NESTING_DEPTH} levels: '{}'",
                        shown(messages.unconsumed())
                    );
                }
            }
        }
        // No size limit, as before: plugins are trusted, and some answers are large.
        match rpc::stream::read_into(&mut messages, &mut stdout, usize::MAX).await {
            Ok(0) => break "exited".to_owned(),
            Ok(_) => {}
            Err(error) => break format!("read failed: {error}"),
        }
    };
    stdin.close();
    fail_pending(&pending);
    exit.send_replace(Some(reason));
}

fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
}

/// Routes one object from the plugin; `Err` kills the plugin.
fn deliver(text: &[u8], pending: &Pending, on_notification: &OnNotification) -> Result<(), String> {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(text) else {
        return Err(format!(
            "Failed to parse RPC JSON response '{}'",
            shown(text)
        ));
    };
    if !object.contains_key("jsonrpc") {
        return Err(format!(
            "JSON-RPC message does not contain \"jsonrpc\" field: '{}'",
            shown(text)
        ));
    }
    match object.remove("id") {
        Some(id) => {
            let id = match id {
                Value::String(id) => id,
                other => other.to_string(),
            };
            let answer = match (object.remove("result"), object.remove("error")) {
                (Some(result), _) => Ok(result),
                (None, Some(error)) => Err(plugin_error(error)),
                (None, None) => Err(RpcError::new(
                    PLUGIN_TERMINATED,
                    "Plugin response has neither result nor error",
                )),
            };
            let waiter = pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
                .and_then(|pending| pending.remove(&id));
            match waiter {
                Some(waiter) => {
                    let _ = waiter.send(answer);
                }
                None => tracing::warn!("plugin answered unknown request id {id}"),
            }
            Ok(())
        }
        None => {
            let method = match object.remove("method") {
                Some(Value::String(method)) => method,
                _ => return Err(format!("notification without a method: '{}'", shown(text))),
            };
            let params = object.remove("params").unwrap_or(Value::Null);
            on_notification(Notification { method, params });
            Ok(())
        }
    }
}

/// A plugin's `error` object as an [`RpcError`], kept as close to what it sent as possible.
fn plugin_error(error: Value) -> RpcError {
    let code = error
        .get("code")
        .and_then(Value::as_i64)
        .and_then(|code| i32::try_from(code).ok())
        .unwrap_or(-1);
    let message = match error.get("message") {
        Some(Value::String(message)) => message.clone(),
        _ => error.to_string(),
    };
    RpcError {
        code,
        message,
        data: error.get("data").cloned(),
    }
}

/// The file name a plugin goes by in logs and in hook `before`/`after` lists.
pub fn short_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    /// A plugin that runs `body` under `/bin/sh`.
    fn script(dir: &Path, body: &str) -> Launch {
        let path = dir.join("plugin.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Launch {
            path,
            cwd: dir.to_owned(),
            developer: false,
            version: "test".to_owned(),
        }
    }

    fn spawn(
        launch: &Launch,
        on_notification: impl Fn(Notification) + Send + Sync + 'static,
    ) -> PluginProcess {
        let on_notification = Arc::new(on_notification);
        let mut attempts = 0;
        loop {
            let on_notification = on_notification.clone();
            match PluginProcess::spawn(launch, Box::new(move |n| on_notification(n))) {
                Ok(process) => return process,
                // Another test's fork may briefly hold its copy of the just-written script
                // open for writing; exec then fails until that child execs too.
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("spawn: {e}"),
            }
        }
    }

    async fn exit_reason(process: &PluginProcess) -> String {
        tokio::time::timeout(Duration::from_secs(10), process.exited())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_large_answer_written_in_many_pieces_arrives_whole() {
        let dir = tempfile::tempdir().unwrap();
        let chunk = "x".repeat(512);
        // 2048 writes of 512 bytes: 1 MiB, read in many pieces.
        let launch = script(
            dir.path(),
            &format!(
                "read -r request\n\
                 printf '%s' '{{\"jsonrpc\":\"2.0\",\"id\":\"big\",\"result\":{{\"data\":\"'\n\
                 i=0; while [ $i -lt 2048 ]; do printf '%s' '{chunk}'; i=$((i+1)); done\n\
                 printf '%s' '\"}}}}'\n\
                 sleep 30"
            ),
        );
        let process = spawn(&launch, |_| {});
        let answer = tokio::time::timeout(
            Duration::from_secs(20),
            process.request_raw("big", "big", "{}", None),
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
        assert_eq!(answer["data"].as_str().map(str::len), Some(512 * 2048));
        assert!(!process.has_exited());
    }

    #[tokio::test]
    async fn garbage_kills_the_plugin_naming_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let launch = script(dir.path(), "printf 'hello, node'\nsleep 30");
        let process = spawn(&launch, |_| {});
        assert_eq!(
            exit_reason(&process).await,
            "Failed to parse RPC JSON response 'hello, node'"
        );
    }

    #[tokio::test]
    async fn output_nested_past_the_limit_kills_the_plugin_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let inner = MAX_OUTPUT_NESTING_DEPTH - 1;
        // At the limit: delivered (and serde_json parses it). One more level: refused at the
        // bracket, though the message never ends.
        let at_limit = format!(
            r#"{{"jsonrpc":"2.0","method":"deep","params":{}{}}}"#,
            "[".repeat(inner),
            "]".repeat(inner)
        );
        // Why the limit is one under the server's ceiling: a whole message one level deeper
        // would pass the splitter only to fail in serde_json.
        let one_more = format!(
            r#"{{"jsonrpc":"2.0","method":"deep","params":{}{}}}"#,
            "[".repeat(inner + 1),
            "]".repeat(inner + 1)
        );
        assert!(serde_json::from_str::<Value>(&at_limit).is_ok());
        assert!(serde_json::from_str::<Value>(&one_more).is_err());
        let too_deep = format!(
            r#"{{"jsonrpc":"2.0","method":"deeper","params":{}"#,
            "[".repeat(inner + 1)
        );
        let launch = script(
            dir.path(),
            &format!("printf '%s' '{at_limit}'\nprintf '%s' '{too_deep}'\nsleep 30"),
        );
        let (seen, methods) = std::sync::mpsc::channel();
        let process = spawn(&launch, move |notification: Notification| {
            let _ = seen.send(notification.method);
        });
        let reason = exit_reason(&process).await;
        assert!(
            reason.starts_with(&format!(
                "JSON-RPC message nested deeper than {MAX_OUTPUT_NESTING_DEPTH} levels: \
                 '{{\"jsonrpc\":\"2.0\",\"method\":\"deeper\""
            )),
            "{reason}"
        );
        assert_eq!(methods.try_iter().collect::<Vec<_>>(), ["deep"]);
    }

    #[tokio::test]
    async fn a_plugin_that_stops_reading_loses_notifications_and_holds_up_only_requests() {
        let dir = tempfile::tempdir().unwrap();
        // Never reads: its pipe fills, then our queue.
        let launch = script(dir.path(), "exec sleep 30");
        let process = spawn(&launch, |_| {});
        let payload = json!({ "data": "x".repeat(64 * 1024) });
        let mut deliveries = Vec::new();
        for _ in 0..(2 * STDIN_QUEUE_BYTES / (64 * 1024)) {
            deliveries.push(process.notify("flood", &payload));
        }
        assert_eq!(deliveries.first(), Some(&Delivery::Queued));
        assert_eq!(deliveries.last(), Some(&Delivery::Dropped));
        let dropped = deliveries
            .iter()
            .filter(|d| **d == Delivery::Dropped)
            .count();
        assert_eq!(process.notifications_dropped(), dropped as u64);
        assert!(process.queued_bytes() <= STDIN_QUEUE_BYTES);
        assert!(process.queued_bytes() > STDIN_QUEUE_BYTES - 70 * 1024);

        // A request waits for room rather than growing the queue or being dropped...
        let waited = tokio::time::timeout(
            Duration::from_millis(200),
            process.request_raw("r1", "m", "{}", None),
        )
        .await;
        assert!(waited.is_err(), "{waited:?}");
        // ... and fails once the plugin is gone, without waiting any longer.
        let (gone, ()) = tokio::join!(process.request_raw("r2", "m", "{}", None), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            process.kill();
        });
        assert_eq!(gone, Err(PluginGone));
        assert_eq!(process.notify("late", &json!({})), Delivery::Gone);
        assert_eq!(
            process.request_raw("r3", "m", "{}", None).await,
            Err(PluginGone)
        );
    }

    #[tokio::test]
    async fn a_request_given_up_on_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // Reads, never answers.
        let launch = script(dir.path(), "while read -r line; do :; done");
        let process = spawn(&launch, |_| {});
        for n in 0..3 {
            let id = format!("silent#{n}");
            let answer = tokio::time::timeout(
                Duration::from_millis(50),
                process.request_raw(&id, "m", "{}", None),
            )
            .await;
            assert!(answer.is_err(), "{answer:?}");
        }
        let pending = process.pending.lock().unwrap();
        assert_eq!(pending.as_ref().map(HashMap::len), Some(0));
    }
}
