//! An in-process LDK node (`ldk_peer::LdkNode`) as the peer of a real lnpeerd: on a tokio
//! runtime of its own, so the test thread can make blocking RPC calls to lnpeerd while LDK keeps
//! running; every wait on LDK bounded; shut down when dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use ldk_peer::lightning::bitcoin::secp256k1::PublicKey;
use ldk_peer::{LdkConfig, LdkNode};
use serde_json::json;

use crate::node::{wait_until, Node};

/// A guard so that a bug hangs no test; LDK answers on loopback within milliseconds.
pub const LDK_DEADLINE: Duration = Duration::from_secs(30);

/// A running LDK node and the runtime it runs on.
pub struct Ldk {
    runtime: tokio::runtime::Runtime,
    node: Option<LdkNode>,
}

impl Ldk {
    /// Starts an LDK node with `config` (its label, LSPS roles, ...) on a new runtime.
    ///
    /// # Panics
    /// If the runtime or the node does not start.
    pub fn start(config: LdkConfig) -> Ldk {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let node = runtime
            .block_on(LdkNode::start(config))
            .expect("the LDK node starts");
        Ldk {
            runtime,
            node: Some(node),
        }
    }

    /// The node, for calls this wrapper does not cover (run async ones with [`Ldk::block_on`]).
    pub fn node(&self) -> &LdkNode {
        self.node.as_ref().expect("running until dropped")
    }

    /// The node id, hex.
    pub fn id(&self) -> String {
        self.node().node_id().to_string()
    }

    /// `id@127.0.0.1:port`, for lnpeerd's `connect`.
    ///
    /// # Panics
    /// If the node was started without `listen`.
    pub fn address(&self) -> String {
        let address = self.node().listen_addr().expect("the LDK node listens");
        format!("{}@{address}", self.id())
    }

    /// Runs `future` on LDK's runtime, within [`LDK_DEADLINE`].
    ///
    /// # Panics
    /// If `future` (described by `what`) is not done by then.
    #[track_caller]
    pub fn block_on<T>(&self, what: &str, future: impl Future<Output = T>) -> T {
        let bounded = async { tokio::time::timeout(LDK_DEADLINE, future).await };
        match self.runtime.block_on(bounded) {
            Ok(output) => output,
            Err(_) => panic!("{what}: not done within {LDK_DEADLINE:?}"),
        }
    }

    /// LDK dials `node` and both sides see the connection.
    ///
    /// # Panics
    /// If LDK cannot connect, or lnpeerd does not list LDK as connected in time.
    pub fn dial(&self, node: &Node) {
        let address = SocketAddr::from(([127, 0, 0, 1], node.port));
        self.block_on("LDK dials", self.node().connect(public_key(node), address))
            .expect("LDK connects to lnpeerd");
        wait_until(|| node.rpc("listpeers", json!([self.id()]))["peers"][0]["connected"] == true);
    }

    /// `node` dials LDK and both sides see the connection.
    ///
    /// # Panics
    /// If `connect` fails or LDK does not see lnpeerd in time.
    pub fn dialled_by(&self, node: &Node) {
        node.rpc("connect", json!([self.address()]));
        self.block_on(
            "LDK sees lnpeerd",
            self.node().wait_connected(public_key(node)),
        );
    }
}

impl Drop for Ldk {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            self.runtime.block_on(node.shutdown());
        }
    }
}

/// lnpeerd's node id as the key LDK addresses it by.
///
/// # Panics
/// If the id is not a public key.
pub fn public_key(node: &Node) -> PublicKey {
    PublicKey::from_str(&node.id).expect("lnpeerd's id is a public key")
}
