//! The Unix socket server: accepts connections, splits requests, runs commands and writes
//! responses, possibly out of order, each followed by `"\n\n"`.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::commands::{self, Reply, Session};
use crate::control::NodeControl;
use crate::error::RpcError;
use crate::filter;
use crate::framing::{error_frame, result_frame, split_value, Split};
use crate::request::parse_request;

/// The socket's limits.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// The socket's path.
    pub path: PathBuf,
    /// The largest request accepted; a connection whose next request grows beyond this is
    /// answered with an error and closed.
    pub max_request_bytes: usize,
    /// Responses a connection may have waiting to be written before it stops reading.
    pub max_pending_responses: usize,
}

impl RpcConfig {
    /// Defaults: 16 MiB requests, 256 pending responses.
    pub fn new(path: PathBuf) -> Self {
        RpcConfig {
            path,
            max_request_bytes: 16 << 20,
            max_pending_responses: 256,
        }
    }
}

/// Why the server did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum RpcStartError {
    /// Another process answers on the socket.
    InUse(PathBuf),
    /// The path does not fit in a Unix socket address.
    TooLong(PathBuf),
    /// Binding or setting the mode failed.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for RpcStartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcStartError::InUse(path) => write!(f, "rpc filename '{}' in use", path.display()),
            RpcStartError::TooLong(path) => {
                write!(f, "rpc filename '{}' too long", path.display())
            }
            RpcStartError::Io(path, error) => {
                write!(f, "rpc filename '{}': {error}", path.display())
            }
        }
    }
}

impl std::error::Error for RpcStartError {}

/// `sockaddr_un.sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// A running server.
pub struct RpcServer {
    path: PathBuf,
    shutdown: watch::Sender<bool>,
    acceptor: JoinHandle<()>,
}

impl RpcServer {
    /// Binds the socket (mode 0600) and starts serving. A stale socket file is replaced; a
    /// live one (a node answers on it) is an error.
    ///
    /// # Errors
    /// [`RpcStartError`].
    pub async fn start(
        config: RpcConfig,
        node: Arc<dyn NodeControl>,
    ) -> Result<RpcServer, RpcStartError> {
        let path = config.path.clone();
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(RpcStartError::TooLong(path));
        }
        if path.exists() {
            if UnixStream::connect(&path).await.is_ok() {
                return Err(RpcStartError::InUse(path));
            }
            std::fs::remove_file(&path).map_err(|e| RpcStartError::Io(path.clone(), e))?;
        }
        let listener = UnixListener::bind(&path).map_err(|e| RpcStartError::Io(path.clone(), e))?;
        // The network directory is 0700, so nobody else can reach the socket in the instant
        // before its own mode is set.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| RpcStartError::Io(path.clone(), e))?;
        let (shutdown, stopped) = watch::channel(false);
        let acceptor = tokio::spawn(accept(listener, Arc::new(config), node, stopped));
        Ok(RpcServer {
            path,
            shutdown,
            acceptor,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting and reading, and removes the socket file. Responses already being
    /// computed are still written.
    pub async fn shutdown(self) {
        self.shutdown.send_replace(true);
        let _ = self.acceptor.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn accept(
    listener: UnixListener,
    config: Arc<RpcConfig>,
    node: Arc<dyn NodeControl>,
    mut stopped: watch::Receiver<bool>,
) {
    let for_connections = stopped.clone();
    loop {
        tokio::select! {
            _ = until_stopped(&mut stopped) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve(stream, config.clone(), node.clone(), for_connections.clone()));
                }
                Err(error) => {
                    tracing::warn!(subsystem = "jsonrpc", "accept failed: {error}");
                    // Out of descriptors, most likely: give other work a chance to free some.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Resolves once shutdown is signalled (or the server is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here rather than in a select arm.
    let _ = stopped.wait_for(|stop| *stop).await.is_ok();
}

/// A response on its way to the writer.
struct Outgoing {
    bytes: Vec<u8>,
    then_stop: bool,
}

async fn serve(
    stream: UnixStream,
    config: Arc<RpcConfig>,
    node: Arc<dyn NodeControl>,
    mut stopped: watch::Receiver<bool>,
) {
    let (mut reader, writer) = stream.into_split();
    let (frames, queue) = mpsc::channel(config.max_pending_responses);
    let writer = tokio::spawn(write_frames(writer, queue, node.clone()));
    let session = Session::default();
    let mut buf: Vec<u8> = Vec::with_capacity(8 << 10);
    'read: loop {
        let mut consumed = 0;
        loop {
            match split_value(&buf[consumed..]) {
                Split::Value { start, end } => {
                    let text = &buf[consumed + start..consumed + end];
                    consumed += end;
                    if !handle(text, &node, &session, &frames).await {
                        break 'read;
                    }
                }
                Split::Incomplete { skip } => {
                    consumed += skip;
                    break;
                }
                Split::Invalid(error) => {
                    let shown = String::from_utf8_lossy(&buf[consumed..]);
                    let shown: String = shown.chars().take(200).collect();
                    let error = RpcError::invalid_request(format!(
                        "Failed to parse RPC JSON response '{shown}': {error}"
                    ));
                    let _ = frames.send(outgoing(error_frame(None, &error))).await;
                    break 'read;
                }
            }
        }
        buf.drain(..consumed);
        if buf.len() > config.max_request_bytes {
            let error = RpcError::invalid_request(format!(
                "Request larger than {} bytes",
                config.max_request_bytes
            ));
            let _ = frames.send(outgoing(error_frame(None, &error))).await;
            break;
        }
        tokio::select! {
            _ = until_stopped(&mut stopped) => break,
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            },
        }
    }
    // The writer ends once every pending response (ours and the spawned ones) is written.
    drop(frames);
    let _ = writer.await;
}

fn outgoing(bytes: Vec<u8>) -> Outgoing {
    Outgoing {
        bytes,
        then_stop: false,
    }
}

/// Serves one request; false if the connection should stop reading.
async fn handle(
    text: &[u8],
    node: &Arc<dyn NodeControl>,
    session: &Session,
    frames: &mpsc::Sender<Outgoing>,
) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        let error = RpcError::invalid_request("Expected {} for json command: not UTF-8");
        return frames
            .send(outgoing(error_frame(None, &error)))
            .await
            .is_ok();
    };
    let request = match parse_request(text) {
        Ok(request) => request,
        Err(rejected) => {
            return frames
                .send(outgoing(error_frame(rejected.id, &rejected.error)))
                .await
                .is_ok();
        }
    };
    let filter: Option<Value> = request
        .filter
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    let frame = match commands::dispatch(node, session, &request) {
        Ok(Reply::Now(value)) => outgoing(respond(request.id, Ok(value), filter.as_ref())),
        Ok(Reply::ThenStop(value)) => Outgoing {
            bytes: respond(request.id, Ok(value), filter.as_ref()),
            then_stop: true,
        },
        Ok(Reply::Later(future)) => {
            let id = request.id.to_owned();
            let frames = frames.clone();
            tokio::spawn(async move {
                let result = future.await;
                let _ = frames
                    .send(outgoing(respond(&id, result, filter.as_ref())))
                    .await;
            });
            return true;
        }
        Err(error) => outgoing(respond(request.id, Err(error), None)),
    };
    frames.send(frame).await.is_ok()
}

fn respond(id: &str, result: Result<Value, RpcError>, filter: Option<&Value>) -> Vec<u8> {
    match result {
        Ok(value) => {
            let value = match filter {
                Some(filter) => filter::apply(value, filter),
                None => value,
            };
            result_frame(id, &value)
        }
        Err(error) => error_frame(Some(id), &error),
    }
}

/// Writes responses, batching whatever is ready into one write.
async fn write_frames(
    mut writer: OwnedWriteHalf,
    mut queue: mpsc::Receiver<Outgoing>,
    node: Arc<dyn NodeControl>,
) {
    let mut out = Vec::new();
    while let Some(first) = queue.recv().await {
        let mut stop = first.then_stop;
        out.extend_from_slice(&first.bytes);
        while out.len() < (1 << 20) {
            match queue.try_recv() {
                Ok(next) => {
                    stop |= next.then_stop;
                    out.extend_from_slice(&next.bytes);
                }
                Err(_) => break,
            }
        }
        let written = writer.write_all(&out).await;
        out.clear();
        if stop {
            node.request_stop();
        }
        if written.is_err() {
            // The client is gone; what it asked for still happens, its answers go nowhere.
            while let Some(next) = queue.recv().await {
                if next.then_stop {
                    node.request_stop();
                }
            }
            return;
        }
    }
    let _ = writer.shutdown().await;
}
