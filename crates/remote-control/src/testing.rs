//! Test support shared by this crate's unit tests: an in-memory [`RuneStore`] that behaves as
//! lnpeerd's SQLite one (and can be told to fail), CLN's `l1` master rune so CLN's own test
//! values apply, and a node with a dispatcher for the commands and the commando server.
//!
//! Everything here panics on failure, as test helpers should.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use node_config::{Limits, LogLevel};
use noise_transport::PublicKey;
use peer_manager::PeerManager;
use rpc::{
    ChannelRecord, Dispatcher, ExternalMethods, LogEntry, NodeControl, NodeError, NodeInfo, Reply,
    ReplyFuture, Session,
};
use runes::Rune;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use subdaemon_state::PeerInput;

use crate::authority::RuneAuthority;
use crate::store::{RuneStore, StoreFailure, StoredRune};
use crate::RemoteControl;

/// CLN's `l1` rune master secret (`tests/test_runes.py`: "l1's master rune secret is 4ac0…").
pub(crate) const CLN_L1_SECRET: &str =
    "4ac018131e70b044e17891e67960f59b9d602525d3aef9956e900189f456e595";

/// A node id starting with `022d223620a359a47ff7`, the prefix CLN's `test_createrune` rune 4
/// is restricted to (`id^022d223620a359a47ff7`).
pub(crate) const L1_ID: &str = "022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59";

/// The master rune of [`CLN_L1_SECRET`].
pub(crate) fn cln_master() -> Rune {
    Rune::master(&hex::decode(CLN_L1_SECRET).unwrap()).unwrap()
}

/// `id` as the 33 bytes checkrune and commando pass.
pub(crate) fn node_id_bytes(id: &str) -> [u8; 33] {
    hex::decode(id).unwrap().try_into().unwrap()
}

/// `seconds` after the Unix epoch.
pub(crate) fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A JSON token.
pub(crate) fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).unwrap()
}

/// The runes and blacklist of a node, in memory, with the SQLite store's rules: unique ids
/// are unique, the next one is one past the largest, a last use of an id never issued is
/// dropped, runes are listed by id. `fail_with` makes every call fail until `heal`.
#[derive(Debug, Default)]
pub(crate) struct MemoryRuneStore {
    runes: Mutex<BTreeMap<u64, StoredRune>>,
    blacklist: Mutex<Vec<(u64, u64)>>,
    failing: Mutex<Option<String>>,
    blacklist_writes: AtomicUsize,
}

impl MemoryRuneStore {
    pub(crate) fn new() -> Arc<MemoryRuneStore> {
        Arc::new(MemoryRuneStore::default())
    }

    /// A store that already holds `ranges` as its blacklist (as written by an earlier run).
    pub(crate) fn with_blacklist(ranges: &[(u64, u64)]) -> Arc<MemoryRuneStore> {
        let store = MemoryRuneStore::default();
        *store.blacklist.lock().unwrap() = ranges.to_vec();
        Arc::new(store)
    }

    /// Every call fails with `text` from now on.
    pub(crate) fn fail_with(&self, text: &str) {
        *self.failing.lock().unwrap() = Some(text.to_owned());
    }

    /// Calls succeed again.
    pub(crate) fn heal(&self) {
        *self.failing.lock().unwrap() = None;
    }

    /// The stored rune with id `id`, read without the failure switch.
    pub(crate) fn stored(&self, id: u64) -> Option<StoredRune> {
        self.runes.lock().unwrap().get(&id).cloned()
    }

    /// Every stored rune's id and text, by id.
    pub(crate) fn stored_runes(&self) -> Vec<(u64, String)> {
        let runes = self.runes.lock().unwrap();
        runes.values().map(|r| (r.id, r.rune.clone())).collect()
    }

    /// The stored blacklist, read without the failure switch.
    pub(crate) fn stored_blacklist(&self) -> Vec<(u64, u64)> {
        self.blacklist.lock().unwrap().clone()
    }

    /// How many times the blacklist was written.
    pub(crate) fn blacklist_writes(&self) -> usize {
        self.blacklist_writes.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreFailure> {
        match &*self.failing.lock().unwrap() {
            Some(text) => Err(StoreFailure(text.clone())),
            None => Ok(()),
        }
    }
}

impl RuneStore for MemoryRuneStore {
    fn next_rune_id(&self) -> Result<u64, StoreFailure> {
        self.check()?;
        let runes = self.runes.lock().unwrap();
        Ok(runes.keys().next_back().map_or(0, |largest| largest + 1))
    }

    fn insert_rune(&self, id: u64, rune: &str) -> Result<(), StoreFailure> {
        self.check()?;
        let mut runes = self.runes.lock().unwrap();
        if runes.contains_key(&id) {
            return Err(StoreFailure(format!(
                "UNIQUE constraint failed: runes.id {id}"
            )));
        }
        let stored = StoredRune {
            id,
            rune: rune.to_owned(),
            last_used_nsec: None,
        };
        runes.insert(id, stored);
        Ok(())
    }

    fn runes(&self) -> Result<Vec<StoredRune>, StoreFailure> {
        self.check()?;
        Ok(self.runes.lock().unwrap().values().cloned().collect())
    }

    fn rune(&self, id: u64) -> Result<Option<StoredRune>, StoreFailure> {
        self.check()?;
        Ok(self.stored(id))
    }

    fn set_last_used(&self, id: u64, nsec: u64) -> Result<(), StoreFailure> {
        self.check()?;
        if let Some(stored) = self.runes.lock().unwrap().get_mut(&id) {
            stored.last_used_nsec = Some(nsec);
        }
        Ok(())
    }

    fn blacklist(&self) -> Result<Vec<(u64, u64)>, StoreFailure> {
        self.check()?;
        Ok(self.stored_blacklist())
    }

    fn set_blacklist(&self, ranges: &[(u64, u64)]) -> Result<(), StoreFailure> {
        self.check()?;
        self.blacklist_writes.fetch_add(1, Ordering::SeqCst);
        *self.blacklist.lock().unwrap() = ranges.to_vec();
        Ok(())
    }
}

/// CLN l1's rune authority over an empty in-memory store.
pub(crate) fn authority() -> (Arc<RuneAuthority>, Arc<MemoryRuneStore>) {
    let store = MemoryRuneStore::new();
    let authority = RuneAuthority::new(cln_master(), store.clone()).unwrap();
    (Arc::new(authority), store)
}

/// A peer manager with node key `[byte; 32]` that listens nowhere and has no peers: sends
/// to any peer fail with `NoSuchPeer`.
pub(crate) async fn idle_manager(byte: u8) -> PeerManager {
    let mut config = peer_manager::testing::config(byte);
    config.listen.clear();
    PeerManager::start(config).await.unwrap()
}

/// A node for the dispatcher: a peer manager that listens nowhere, and a count of
/// `request_stop` calls.
pub(crate) struct TestNode {
    manager: PeerManager,
    info: NodeInfo,
    stops: AtomicUsize,
}

impl TestNode {
    /// How many times the node was asked to stop.
    pub(crate) fn stops(&self) -> usize {
        self.stops.load(Ordering::SeqCst)
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
        Ok(Vec::new())
    }

    fn open_channel(&self, peer: &PublicKey) -> Result<ChannelRecord, NodeError> {
        Err(NodeError::PeerNotConnected(*peer))
    }

    fn channel_step(&self, _: &PublicKey, _: PeerInput) -> Result<(), NodeError> {
        Ok(())
    }

    fn peer_log(&self, _: &PublicKey, _: LogLevel) -> Vec<LogEntry> {
        Vec::new()
    }

    fn request_stop(&self) {
        self.stops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A plugin's methods: `echo` answers `{"params": <params>, "filter": <filter or null>}`,
/// `blob` answers `{"data": "<size x's>"}` for params `{"size": <size>}`.
pub(crate) struct TestPlugin;

impl ExternalMethods for TestPlugin {
    fn usage(&self, name: &str) -> Option<String> {
        matches!(name, "echo" | "blob").then(String::new)
    }

    fn list(&self) -> Vec<(String, String)> {
        vec![
            ("echo".into(), String::new()),
            ("blob".into(), String::new()),
        ]
    }

    fn call(
        &self,
        _caller_id: &str,
        name: &str,
        params: &str,
        filter: Option<&str>,
    ) -> Option<ReplyFuture> {
        let params: Value = serde_json::from_str(params).unwrap();
        let filter: Value = filter.map_or(Value::Null, |f| serde_json::from_str(f).unwrap());
        let result = match name {
            "echo" => json!({ "params": params, "filter": filter }),
            "blob" => {
                let size = params["size"].as_u64().unwrap() as usize;
                json!({ "data": "x".repeat(size) })
            }
            _ => return None,
        };
        Some(Box::pin(async move { Ok(result) }))
    }
}

/// Remote control wired to a dispatcher (with [`TestPlugin`]'s methods) on a [`TestNode`],
/// over CLN l1's master and an in-memory store.
pub(crate) struct Rig {
    pub(crate) remote: RemoteControl,
    pub(crate) dispatcher: Arc<Dispatcher>,
    pub(crate) node: Arc<TestNode>,
    pub(crate) store: Arc<MemoryRuneStore>,
    /// The node key's byte.
    byte: u8,
}

impl Rig {
    /// A rig whose peer manager's node key is `[byte; 32]`.
    pub(crate) async fn start(byte: u8) -> Rig {
        Rig::start_over(byte, MemoryRuneStore::new()).await
    }

    /// This rig's node started again: a new rig over the same store.
    pub(crate) async fn restart(&self) -> Rig {
        Rig::start_over(self.byte, self.store.clone()).await
    }

    async fn start_over(byte: u8, store: Arc<MemoryRuneStore>) -> Rig {
        let manager = idle_manager(byte).await;
        let node = Arc::new(TestNode {
            manager: manager.clone(),
            info: NodeInfo {
                alias: "rig".into(),
                color: [1, 2, 3],
                network: "regtest".into(),
                network_dir: "/nonexistent/regtest".into(),
                version: "v0.0.0-test".into(),
                developer: false,
                default_port: 19846,
                announced: Vec::new(),
            },
            stops: AtomicUsize::new(0),
        });
        let remote =
            RemoteControl::new(cln_master(), store.clone(), manager, &Limits::default()).unwrap();
        let mut dispatcher = Dispatcher::new(node.clone());
        remote.register(&mut dispatcher).unwrap();
        dispatcher.set_external_methods(Arc::new(TestPlugin));
        let dispatcher = Arc::new(dispatcher);
        remote.serve(&dispatcher);
        Rig {
            remote,
            dispatcher,
            node,
            store,
            byte,
        }
    }

    /// Runs `method` with `params` (an object or an array) as the RPC socket would.
    pub(crate) async fn rpc(&self, method: &str, params: Value) -> Result<Value, rpc::RpcError> {
        let params = raw(&params.to_string());
        let request = jsonrpc::request::Request {
            id: "1",
            method: method.to_owned(),
            params: &params,
            filter: None,
        };
        match self.dispatcher.dispatch(&Session::default(), &request)? {
            Reply::Now(value) | Reply::ThenStop(value) => Ok(value),
            Reply::Later(future) => future.await,
        }
    }

    /// [`Rig::rpc`] that must succeed.
    pub(crate) async fn ok(&self, method: &str, params: Value) -> Value {
        match self.rpc(method, params).await {
            Ok(value) => value,
            Err(error) => panic!("{method} failed: {error:?}"),
        }
    }

    /// [`Rig::rpc`] that must fail; its code and message.
    pub(crate) async fn err(&self, method: &str, params: Value) -> (i32, String) {
        match self.rpc(method, params).await {
            Ok(value) => panic!("{method} succeeded: {value}"),
            Err(error) => (error.code, error.message),
        }
    }
}

/// Runes from CLN's `tests/test_runes.py` for [`CLN_L1_SECRET`] (notes `runes-commando.md`
/// §9.2–§9.4), and what they were made from.
pub(crate) mod cln {
    /// `createrune` on a fresh node: unique id 0, no restrictions.
    pub(crate) const RUNE0: &str = "I9TZsYEWiAwThQye-gYhpWIe1h15szWEN_qNyMSBOdE9MA==";
    /// Unique id 1, no restrictions (`test_showrunes`'s second rune).
    pub(crate) const RUNE1_BARE: &str = "uJXLfjDwNvh3KLkiCHc-wE2eBM7-AT7IT9oprKL1EtY9MQ==";
    /// Unique id 1, `"readonly"`.
    pub(crate) const RUNE1_READONLY: &str = "s0IEnsikGDw76tdpAiMbqzigYhlkjqSVh0ZuvJ1Np1w9MSZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5Jm1ldGhvZC9saXN0ZGF0YXN0b3Jl";
    /// Unique id 2, `[["time>1656675211"]]`.
    pub(crate) const RUNE2_TIME: &str =
        "K0c0pWvBWb3y9HF1GMy33Zx2KRg1zcEvQLr2vtWwMew9MiZ0aW1lPjE2NTY2NzUyMTE=";
    /// Unique id 3, `[["id^022d223620a359a47ff7"],["method=listpeers"]]`.
    pub(crate) const RUNE3_ID_METHOD: &str = "ixuStVB4oewJtVNnim1P_qEL89ZU0G8Tnxg_JZgJTUk9MyZpZF4wMjJkMjIzNjIwYTM1OWE0N2ZmNyZtZXRob2Q9bGlzdHBlZXJz";
    /// [`RUNE3_ID_METHOD`] + `[["pnamelevel!","pnamelevel/io"]]`.
    pub(crate) const RUNE3_LEVEL: &str = "NUPHrMs1TEdfWbRfO_KJ4rXhJSBjmSqbdcz-W0yH9J89MyZpZF4wMjJkMjIzNjIwYTM1OWE0N2ZmNyZtZXRob2Q9bGlzdHBlZXJzJnBuYW1lbGV2ZWwhfHBuYW1lbGV2ZWwvaW8=";
    /// [`RUNE3_LEVEL`] + `[["parr1!","parr1/io"]]`.
    pub(crate) const RUNE3_PARR: &str = "sloBq0jn21v4LWhkswsHZgdtvQ0-jqgXXp_2jNNWLJA9MyZpZF4wMjJkMjIzNjIwYTM1OWE0N2ZmNyZtZXRob2Q9bGlzdHBlZXJzJnBuYW1lbGV2ZWwhfHBuYW1lbGV2ZWwvaW8mcGFycjEhfHBhcnIxL2lv";
    /// Unique id 4, `[["pnum=0"]]`.
    pub(crate) const RUNE4_PNUM: &str = "k6kQt9dkGMaz75f51-PEkPk8Qovbiqz2HXconizqa-w9NCZwbnVtPTA=";
    /// [`RUNE4_PNUM`] + `[["rate=3"]]`.
    pub(crate) const RUNE4_RATE3: &str =
        "jHidm2_terhiOytrn8xgEWR1pvFkKuoIvKgvcEeLLQQ9NCZwbnVtPTAmcmF0ZT0z";
    /// [`RUNE4_RATE3`] + `[["rate=1"]]`.
    pub(crate) const RUNE4_RATE1: &str =
        "AWO9sW94iv7Y99h0b6kyQO5yePUXQOSIpSuTRp8XFTM9NCZwbnVtPTAmcmF0ZT0zJnJhdGU9MQ==";
    /// Unique id 9, no restrictions, never stored (`test_showrunes`).
    pub(crate) const RUNE9_UNSTORED: &str = "j6bX7Q4L3jcVnMp56cRKRROWQevIVyIHExNKsL9iqCg9OQ==";
    /// Unique id 0 of another node (`test_showrunes`).
    pub(crate) const FOREIGN: &str = "oNJAqigqDrHBGzsm7gV3z87oGpzq-KqFlOxx2O9iEQk9MA==";
    /// Runes whose unique ids are `zero`, `0andstr`, `9223372036854775809` and absent
    /// (`test_nonnumeric_uniqueid`).
    pub(crate) const NON_NUMERIC: [&str; 4] = [
        "pX1h8z05kg0WZqe0ogo_8MHOa7-8gVZNXTckyyLKuLk9emVybw==",
        "1dYYAIxmjRDHbXUIpztpwDA0q7RrHKbXJd9Yhj50Dfc9MGFuZHN0cmluZw==",
        "cr7eQmdhPVqH3-M2g67JymP2zVKyZ_n5hhFk3IMSg5o9OTIyMzM3MjAzNjg1NDc3NTgwOQ==",
        "SaQlgbzu6SGAhANReucs7P8GLuVbSlPg30QG78UzNcY=",
    ];
    /// createrune's schema example (a rune of an unknown secret) and it + `"readonly"`.
    pub(crate) const SCHEMA_BASE: &str = "7cKJyALVY0_LLVV-AB9oetXjipOdyt0EhOuYrSS42fM9MA==";
    pub(crate) const SCHEMA_READONLY: &str = "0VIVf0M4jMlGNIwNM3sTpBextINe4_VBGZnBMM82kR49MCZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5Jm1ldGhvZC9saXN0ZGF0YXN0b3Jl";
    /// CLN's warning for a rune with no restriction but its unique id.
    pub(crate) const WARNING: &str = "WARNING: This rune has no restrictions! Anyone who has access to this rune could drain funds from your node. Be careful when giving this to apps that you don't trust. Consider using the restrictions parameter to only allow access to specific rpc methods.";
}
