//! The Unix socket server: accepts connections, splits requests, hands each to the
//! [`Dispatcher`] and writes responses, possibly out of order, each followed by `"\n\n"`. It
//! knows framing and limits, not commands.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use node_config::Limits;

use crate::command::{Reply, Session};
use crate::control::NodeControl;
use crate::dispatch::Dispatcher;
use jsonrpc::error::RpcError;
use jsonrpc::filter;
use jsonrpc::framing::{error_frame, result_frame, Next, ValueSplitter};
use jsonrpc::request::parse_request;

/// The socket's path and limits. Each limit bounds what one client, or many, can make the node
/// hold; a request or connection past one is refused and the node carries on. The limits users
/// set (`rpc_max_request_bytes`, `rpc_max_nesting_depth`, `rpc_max_connections`) are
/// `node_config`'s table, which says what each bounds.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// The socket's path.
    pub path: PathBuf,
    /// The limits users set.
    pub limits: Limits,
    /// Responses a connection may have waiting to be written before it stops reading.
    pub max_pending_responses: usize,
}

impl RpcConfig {
    /// [`RpcConfig::max_pending_responses`]'s default.
    pub const DEFAULT_MAX_PENDING_RESPONSES: usize = 256;

    /// The socket at `path` with the default limits and 256 responses waiting per connection
    /// ([`RpcConfig::DEFAULT_MAX_PENDING_RESPONSES`]).
    pub fn new(path: PathBuf) -> Self {
        RpcConfig {
            path,
            limits: Limits::default(),
            max_pending_responses: Self::DEFAULT_MAX_PENDING_RESPONSES,
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
    /// Binds the socket (mode 0600) and starts serving `dispatcher`'s commands. A stale socket
    /// file is replaced; a live one (a node answers on it) is an error.
    ///
    /// # Errors
    /// [`RpcStartError`].
    pub async fn start(
        config: RpcConfig,
        dispatcher: Arc<Dispatcher>,
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
        let acceptor = tokio::spawn(accept(listener, Arc::new(config), dispatcher, stopped));
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
    dispatcher: Arc<Dispatcher>,
    mut stopped: watch::Receiver<bool>,
) {
    let for_connections = stopped.clone();
    // A semaphore cannot hold more permits than this; so many connections is no limit anyway.
    let slots = Arc::new(Semaphore::new(
        config
            .limits
            .rpc_max_connections
            .min(Semaphore::MAX_PERMITS),
    ));
    // Refusals since the last accepted connection: one warning per burst, not per refusal.
    let mut refused_in_burst: u64 = 0;
    loop {
        tokio::select! {
            _ = until_stopped(&mut stopped) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        if refused_in_burst > 1 {
                            tracing::info!(
                                subsystem = "jsonrpc",
                                "RPC connections accepted again after {refused_in_burst} refused"
                            );
                        }
                        refused_in_burst = 0;
                        tokio::spawn(serve(
                            stream,
                            slot,
                            config.clone(),
                            dispatcher.clone(),
                            for_connections.clone(),
                        ));
                    }
                    Err(_) => {
                        if refused_in_burst == 0 {
                            tracing::warn!(
                                subsystem = "jsonrpc",
                                "RPC connection refused: {} connections open (rpc-max-connections)",
                                config.limits.rpc_max_connections
                            );
                        }
                        refused_in_burst += 1;
                        // Closed unread: the client sees the end of the stream.
                        drop(stream);
                    }
                },
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

/// Serves one connection. `_slot` is its place under `rpc_max_connections`, given back when this
/// returns, whichever way.
async fn serve(
    stream: UnixStream,
    _slot: OwnedSemaphorePermit,
    config: Arc<RpcConfig>,
    dispatcher: Arc<Dispatcher>,
    mut stopped: watch::Receiver<bool>,
) {
    let (mut reader, writer) = stream.into_split();
    let (frames, queue) = mpsc::channel(config.max_pending_responses);
    let writer = tokio::spawn(write_frames(writer, queue, dispatcher.node().clone()));
    let session = Session::default();
    let mut requests = ValueSplitter::new(config.limits.rpc_max_nesting_depth);
    'read: loop {
        // Each error here ends the connection: the stream cannot be resynchronised.
        let refusal = loop {
            match requests.next_value() {
                Next::Value(text) => {
                    if !handle(text, &dispatcher, &session, &frames).await {
                        break 'read;
                    }
                }
                Next::NeedMore => break None,
                Next::Invalid(error) => {
                    let shown = String::from_utf8_lossy(requests.unconsumed());
                    let shown: String = shown.chars().take(200).collect();
                    break Some(format!(
                        "Failed to parse RPC JSON response '{shown}': {error}"
                    ));
                }
                Next::TooDeep => {
                    break Some(format!(
                        "Request nested deeper than {} levels",
                        config.limits.rpc_max_nesting_depth
                    ));
                }
            }
        };
        // An unfinished request already at the limit will be larger than it.
        let refusal = refusal.or_else(|| {
            (requests.unconsumed().len() >= config.limits.rpc_max_request_bytes).then(|| {
                format!(
                    "Request larger than {} bytes",
                    config.limits.rpc_max_request_bytes
                )
            })
        });
        if let Some(message) = refusal {
            let error = RpcError::invalid_request(message);
            let _ = frames.send(outgoing(error_frame(None, &error))).await;
            break;
        }
        // Read no further than the limit, so a request over it is refused however it is cut
        // into reads.
        let room = config
            .limits
            .rpc_max_request_bytes
            .saturating_sub(requests.unconsumed().len());
        tokio::select! {
            _ = until_stopped(&mut stopped) => break,
            read = crate::stream::read_into(&mut requests, &mut reader, room) => match read {
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

/// Serves one request (a whole JSON value); false if the connection should stop reading.
async fn handle(
    text: &str,
    dispatcher: &Dispatcher,
    session: &Session,
    frames: &mpsc::Sender<Outgoing>,
) -> bool {
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
    let frame = match dispatcher.dispatch(session, &request) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_depth_ceiling_every_member_still_parses_as_a_value() {
        let ceiling = jsonrpc::framing::SERDE_JSON_DEPTH_LIMIT;
        // The deepest member a request can hold sits one level below the request object.
        let filter = format!("{}{}", "[".repeat(ceiling - 1), "]".repeat(ceiling - 1));
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"getinfo","params":[],"filter":{filter}}}"#
        );
        let mut requests = ValueSplitter::new(ceiling);
        requests.push(text.as_bytes());
        let Next::Value(value) = requests.next_value() else {
            panic!("a request at the ceiling was refused");
        };
        let filter = parse_request(value).unwrap().filter.unwrap();
        assert!(serde_json::from_str::<Value>(filter.get()).is_ok());
        // One level more and serde_json refuses it.
        let deeper = format!("[{}]", filter.get());
        assert!(serde_json::from_str::<Value>(&deeper).is_err());
    }
}
