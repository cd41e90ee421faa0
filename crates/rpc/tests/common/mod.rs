//! Shared pieces of the RPC server tests: a `NodeControl` over a real `PeerManager`, a raw
//! socket client that sees every byte the server writes; the scripted raw peer and the event
//! helpers come from `peer_manager::testing`.
#![allow(
    clippy::unwrap_used,
    dead_code,
    unused_imports,
    missing_docs,
    unreachable_pub
)]

use std::io::Read;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use node_config::LogLevel;
use noise_transport::PublicKey;
use peer_manager::testing::config;
use peer_manager::{PeerManager, PeerManagerConfig};
use rpc::{
    ChannelRecord, Dispatcher, LogEntry, NodeControl, NodeError, NodeInfo, Opener, RpcConfig,
    RpcServer,
};
use serde_json::{json, Value};
use subdaemon_state::{ChannelState, PeerInput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::Notify;

pub use peer_manager::testing::{
    addr, connected, custom_from, dial_address, disconnected, inbox, key, node_id, RawPeer, WAIT,
};

/// How long "nothing arrives" is watched for.
pub const QUIET: Duration = Duration::from_millis(150);

pub fn hex_id(id: &PublicKey) -> String {
    hex::encode(id.serialize())
}

/// A peer manager on 127.0.0.1, port 0, that never redials by itself during a test.
pub fn peer_config(byte: u8) -> PeerManagerConfig {
    let mut config = config(byte);
    config.redial_backoff_min = Duration::from_secs(3600);
    config.redial_backoff_max = Duration::from_secs(3600);
    config
}

pub async fn peer(byte: u8) -> PeerManager {
    PeerManager::start(peer_config(byte)).await.unwrap()
}

/// `<id>@127.0.0.1:<port>`.
pub fn id_at(manager: &PeerManager) -> String {
    format!("{}@{}", hex_id(&manager.node_id()), addr(manager))
}

/// The `NodeControl` the tests run the server with: a real peer manager, channels in memory,
/// a log book the test fills, and a stop request it can watch.
pub struct TestNode {
    manager: PeerManager,
    info: NodeInfo,
    channels: Mutex<Vec<ChannelRecord>>,
    next_dbid: AtomicU64,
    log: Mutex<Vec<LogEntry>>,
    stops: AtomicUsize,
    stopped: Notify,
    /// A second handle on a client's socket: at `request_stop`, whatever the server has
    /// already written to that client is taken from it into `seen_at_stop`.
    stop_probe: Mutex<Option<StdUnixStream>>,
    seen_at_stop: Mutex<Option<Vec<u8>>>,
}

impl TestNode {
    pub fn new(manager: PeerManager, info: NodeInfo) -> TestNode {
        TestNode {
            manager,
            info,
            channels: Mutex::new(Vec::new()),
            next_dbid: AtomicU64::new(1),
            log: Mutex::new(Vec::new()),
            stops: AtomicUsize::new(0),
            stopped: Notify::new(),
            stop_probe: Mutex::new(None),
            seen_at_stop: Mutex::new(None),
        }
    }

    pub fn inject_log(&self, entries: Vec<LogEntry>) {
        self.log.lock().unwrap().extend(entries);
    }

    pub fn stops(&self) -> usize {
        self.stops.load(Ordering::SeqCst)
    }

    /// Waits for `request_stop`.
    pub async fn stop_requested(&self) {
        tokio::time::timeout(WAIT, self.stopped.notified())
            .await
            .expect("request_stop was not called");
    }

    pub fn set_stop_probe(&self, probe: StdUnixStream) {
        *self.stop_probe.lock().unwrap() = Some(probe);
    }

    /// What the probed client could already read when `request_stop` ran.
    pub fn seen_at_stop(&self) -> Option<Vec<u8>> {
        self.seen_at_stop.lock().unwrap().clone()
    }
}

impl NodeControl for TestNode {
    fn manager(&self) -> &PeerManager {
        &self.manager
    }

    fn info(&self) -> &NodeInfo {
        &self.info
    }

    fn channels(&self) -> Result<Vec<ChannelRecord>, NodeError> {
        Ok(self.channels.lock().unwrap().clone())
    }

    fn open_channel(&self, peer: &PublicKey) -> Result<ChannelRecord, NodeError> {
        let connected = self
            .manager
            .peer(peer)
            .is_some_and(|info| info.connection.is_some());
        if !connected {
            return Err(NodeError::PeerNotConnected(*peer));
        }
        let dbid = self.next_dbid.fetch_add(1, Ordering::SeqCst);
        self.manager
            .apply(peer, PeerInput::ChannelOpened(dbid))
            .map_err(NodeError::Lifecycle)?;
        let mut channel_id = [0xccu8; 32];
        channel_id[..8].copy_from_slice(&dbid.to_be_bytes());
        let record = ChannelRecord {
            peer_id: peer.serialize(),
            created_at: None,
            dbid,
            channel_id,
            state: ChannelState::ChanneldNormal,
            opener: Opener::Local,
        };
        self.channels.lock().unwrap().push(record.clone());
        Ok(record)
    }

    fn channel_step(&self, peer: &PublicKey, input: PeerInput) -> Result<(), NodeError> {
        self.manager
            .apply(peer, input)
            .map_err(NodeError::Lifecycle)?;
        let Some(dbid) = input.channel() else {
            return Ok(());
        };
        let mut channels = self.channels.lock().unwrap();
        if let PeerInput::ChannelForgotten(_) = input {
            channels.retain(|c| !(c.peer_id == peer.serialize() && c.dbid == dbid));
            return Ok(());
        }
        let state = self
            .manager
            .peer(peer)
            .and_then(|info| {
                info.channels
                    .iter()
                    .find(|(id, _)| *id == dbid)
                    .map(|(_, s)| *s)
            })
            .ok_or_else(|| {
                NodeError::Internal("the channel vanished from the peer manager".into())
            })?;
        for channel in channels
            .iter_mut()
            .filter(|c| c.peer_id == peer.serialize() && c.dbid == dbid)
        {
            channel.state = state;
        }
        Ok(())
    }

    fn peer_log(&self, peer: &PublicKey, level: LogLevel) -> Vec<LogEntry> {
        let id = hex_id(peer);
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|entry| entry.node_id == id && entry.level >= level)
            .cloned()
            .collect()
    }

    fn request_stop(&self) {
        if let Some(probe) = self.stop_probe.lock().unwrap().as_mut() {
            // Non-blocking: take exactly what is already readable.
            let mut seen = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match probe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => seen.extend_from_slice(&chunk[..n]),
                    Err(_) => break,
                }
            }
            *self.seen_at_stop.lock().unwrap() = Some(seen);
        }
        self.stops.fetch_add(1, Ordering::SeqCst);
        self.stopped.notify_one();
    }
}

pub fn node_info(developer: bool, dir: &Path) -> NodeInfo {
    NodeInfo {
        alias: "LNPEER-TEST".into(),
        color: [0x01, 0x02, 0x03],
        network: "regtest".into(),
        network_dir: dir.join("regtest"),
        version: "v0.1.0-test".into(),
        developer,
        default_port: 19846,
        announced: Vec::new(),
    }
}

/// Our node (key 1) with its RPC socket in a temporary directory.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub node: Arc<TestNode>,
    pub server: Option<RpcServer>,
    pub path: PathBuf,
}

impl Harness {
    pub async fn start(developer: bool) -> Harness {
        Self::start_with(developer, |_| {}).await
    }

    /// Like [`Harness::start`], with `configure` applied to the server's defaults.
    pub async fn start_with(developer: bool, configure: impl FnOnce(&mut RpcConfig)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let manager = peer(1).await;
        let node = Arc::new(TestNode::new(manager, node_info(developer, dir.path())));
        let path = dir.path().join("lightning-rpc");
        let mut config = RpcConfig::new(path.clone());
        configure(&mut config);
        let server = RpcServer::start(config, dispatcher(&node))
            .await
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        Harness {
            dir,
            node,
            server: Some(server),
            path,
        }
    }

    pub fn manager(&self) -> &PeerManager {
        self.node.manager()
    }

    pub fn id(&self) -> PublicKey {
        self.manager().node_id()
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.path).await
    }

    /// Connects to `other` through the `connect` command.
    pub async fn connect_rpc(&self, client: &mut Client, other: &PeerManager) -> Value {
        client.ok("connect", json!([id_at(other)])).await
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server.shutdown())
                .await
                .expect("server shutdown hung");
        }
        tokio::time::timeout(WAIT, self.node.manager().shutdown())
            .await
            .expect("peer manager shutdown hung");
    }
}

/// A JSON-RPC client that talks raw bytes, so the tests see the framing exactly.
pub struct Client {
    pub stream: UnixStream,
    buf: Vec<u8>,
    next_id: u64,
}

impl Client {
    pub async fn connect(path: &Path) -> Client {
        let stream = tokio::time::timeout(WAIT, UnixStream::connect(path))
            .await
            .expect("connect hung")
            .unwrap();
        Client {
            stream,
            buf: Vec::new(),
            next_id: 1,
        }
    }

    /// A client plus a second handle on its socket, for [`TestNode::set_stop_probe`].
    pub fn connect_with_probe(path: &Path) -> (Client, StdUnixStream) {
        let std = StdUnixStream::connect(path).unwrap();
        std.set_nonblocking(true).unwrap();
        let probe = std.try_clone().unwrap();
        let client = Client {
            stream: UnixStream::from_std(std).unwrap(),
            buf: Vec::new(),
            next_id: 1,
        };
        (client, probe)
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        tokio::time::timeout(WAIT, self.stream.write_all(bytes))
            .await
            .expect("write hung")
            .unwrap();
    }

    /// The next response, without its `"\n\n"` terminator.
    pub async fn frame(&mut self) -> String {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                    let frame: Vec<u8> = self.buf.drain(..end + 2).collect();
                    let text = String::from_utf8(frame[..end].to_vec()).unwrap();
                    assert!(
                        text.starts_with('{') && text.ends_with('}'),
                        "a frame is one compact object followed by \\n\\n: {text:?}"
                    );
                    return text;
                }
                let n = self.stream.read_buf(&mut self.buf).await.unwrap();
                assert!(
                    n > 0,
                    "the server closed the connection; unread: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
        })
        .await
        .expect("no response arrived in time")
    }

    /// The next response, parsed.
    pub async fn value(&mut self) -> Value {
        let frame = self.frame().await;
        serde_json::from_str(&frame).unwrap_or_else(|e| panic!("bad frame {frame:?}: {e}"))
    }

    /// Asserts the server closes the connection (after any frames already read).
    pub async fn eof(&mut self) {
        tokio::time::timeout(WAIT, async {
            loop {
                let n = self.stream.read_buf(&mut self.buf).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
            }
        })
        .await
        .expect("the server did not close the connection");
        assert!(
            self.buf.is_empty(),
            "unexpected bytes before close: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
    }

    /// Asserts nothing arrives for a while.
    pub async fn silent(&mut self) {
        assert!(self.buf.is_empty(), "unread bytes: {:?}", self.buf);
        if let Ok(read) = tokio::time::timeout(QUIET, self.stream.read_buf(&mut self.buf)).await {
            panic!(
                "unexpected bytes ({read:?}): {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    fn fresh_id(&mut self, method: &str) -> String {
        let id = format!("test:{method}#{}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Sends a request and returns the whole response object, checking the id comes back.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.fresh_id(method);
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.write(request.to_string().as_bytes()).await;
        let response = self.value().await;
        assert_eq!(response["jsonrpc"], "2.0", "{response}");
        assert_eq!(response["id"], id, "{response}");
        response
    }

    /// Sends a request written by hand and returns the response object.
    pub async fn call_raw(&mut self, request: &str) -> Value {
        self.write(request.as_bytes()).await;
        self.value().await
    }

    /// The result of a request that must succeed.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params.clone()).await;
        match response.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} {params} failed: {response}"),
        }
    }

    /// The code and message of a request that must fail.
    pub async fn err(&mut self, method: &str, params: Value) -> (i64, String) {
        let response = self.call(method, params.clone()).await;
        error_of(&response).unwrap_or_else(|| panic!("{method} {params} succeeded: {response}"))
    }
}

/// `(code, message)` of an error response (which must have no `data`), or None.
pub fn error_of(response: &Value) -> Option<(i64, String)> {
    let error = response.get("error")?;
    let object = error.as_object().unwrap();
    assert!(
        object.keys().all(|k| k == "code" || k == "message"),
        "unexpected error members: {error}"
    );
    assert!(response.get("result").is_none(), "{response}");
    Some((
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap().to_owned(),
    ))
}

/// One request as text.
pub fn request(id: &str, method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}"#)
}

/// A `pong` carrying `len` ignored bytes: type 19, `byteslen`, the bytes.
pub fn pong(len: u16) -> Vec<u8> {
    let mut message = vec![0, 19];
    message.extend_from_slice(&len.to_be_bytes());
    message.resize(4 + usize::from(len), 0);
    message
}

/// The built-in commands acting on `node`.
pub fn dispatcher(node: &Arc<TestNode>) -> Arc<Dispatcher> {
    Arc::new(Dispatcher::new(node.clone()))
}
