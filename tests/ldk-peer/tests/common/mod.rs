//! Helpers shared by the loopback tests: starting labelled nodes, connecting them, and a
//! deadline so that a bug hangs no test (a guard, not a timing assertion).

use std::future::Future;
use std::time::Duration;

use ldk_peer::{LdkConfig, LdkNode};

/// Far longer than anything here takes on loopback.
const DEADLINE: Duration = Duration::from_secs(30);

/// `future`'s output; panics naming `what` if it takes longer than the deadline.
pub(crate) async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: not done within {DEADLINE:?}"),
    }
}

/// A listening node named `label`, otherwise as `config` says.
pub(crate) async fn start(label: &str, config: LdkConfig) -> LdkNode {
    let config = LdkConfig {
        label: label.to_owned(),
        ..config
    };
    LdkNode::start(config).await.expect("the node starts")
}

/// A listening node with the default configuration.
pub(crate) async fn start_default(label: &str) -> LdkNode {
    start(label, LdkConfig::default()).await
}

/// Dials `to` from `from` and waits until both see the other.
pub(crate) async fn connect(from: &LdkNode, to: &LdkNode) {
    let address = to.listen_addr().expect("the node listens");
    within("connect", from.connect(to.node_id(), address))
        .await
        .expect("the nodes connect");
    // The dialled side accepts the dialler's init a moment after its own is accepted.
    within("the dialled side's view", to.wait_connected(from.node_id())).await;
}
