//! The durable inbox on real nodes: received custom messages listed and waited for by index,
//! kept across a node restart, followed by a plugin that resumes from its own cursor after it
//! is stopped and after the node restarts, and switched off with `--custommsg-inbox=false`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use lnpeer_tests::node::{Node, WAIT};
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use serde_json::{json, Value};

fn send(from: &Node, to: &Node, msg: &str) {
    from.rpc("sendcustommsg", json!([to.id, msg]));
}

fn indexes(listed: &Value) -> Vec<u64> {
    listed["custommsgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["index"].as_u64().unwrap())
        .collect()
}

/// Waits until `node`'s inbox holds `count` messages.
fn wait_for_inbox(node: &Node, count: usize) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let listed = node.rpc("listcustommsgs", json!({}));
        if indexes(&listed).len() >= count {
            return listed;
        }
        assert!(Instant::now() < deadline, "inbox: {listed}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn received_messages_are_listed_waited_for_and_kept_across_a_restart() {
    let alice = Node::start(&[]);
    let bob = Node::start(&[]);
    let carol = Node::start(&[]);
    bob.connect(&alice);
    carol.connect(&alice);
    // One at a time: messages from different peers arrive in no fixed order.
    send(&bob, &alice, "77770001");
    wait_for_inbox(&alice, 1);
    send(&carol, &alice, "77770002");
    wait_for_inbox(&alice, 2);
    send(&bob, &alice, "7777000300");
    let listed = wait_for_inbox(&alice, 3);
    let all = listed["custommsgs"].as_array().unwrap();
    assert_eq!(indexes(&listed), [1, 2, 3]);
    assert_eq!(all[0]["peer_id"], bob.id);
    assert_eq!(all[0]["payload"], "77770001");
    assert_eq!(all[1]["peer_id"], carol.id);
    assert_eq!(all[2]["payload"], "7777000300");
    assert!(all[0]["received_at"].as_u64().unwrap() > 1_700_000_000);
    // By peer, after an index, at most a few.
    assert_eq!(
        indexes(&alice.rpc("listcustommsgs", json!({"peer_id": bob.id}))),
        [1, 3]
    );
    assert_eq!(
        indexes(&alice.rpc("listcustommsgs", json!([null, 1]))),
        [2, 3]
    );
    assert_eq!(
        indexes(&alice.rpc("listcustommsgs", json!({"since": 0, "limit": 2}))),
        [1, 2]
    );

    // waitcustommsg: at once for what is there, later for what comes, 2000 on a timeout.
    assert_eq!(alice.rpc("waitcustommsg", json!([2]))["index"], 3);
    let timed_out = alice
        .try_rpc("waitcustommsg", json!({"since": 3, "timeout": 1}))
        .unwrap_err();
    assert_eq!(
        timed_out,
        json!({"code": 2000, "message": "Timed out after 1 seconds: no custom message above index 3"})
    );
    let waiter = {
        let rpc = alice.rpc_path();
        std::thread::spawn(move || lnpeer_tests::node::rpc_at(&rpc, "waitcustommsg", json!([3])))
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!waiter.is_finished());
    send(&carol, &alice, "77770004");
    let waited = waiter.join().unwrap().unwrap();
    assert_eq!(waited["index"], 4);
    assert_eq!(waited["peer_id"], carol.id);
    assert_eq!(waited["payload"], "77770004");

    // Bad parameters.
    let bad = alice
        .try_rpc("listcustommsgs", json!({"since": -1}))
        .unwrap_err();
    assert_eq!(bad["code"], -32602);
    assert_eq!(
        bad["message"],
        "since: should be an unsigned 64 bit integer: invalid token '-1'"
    );

    // A restart keeps every message and the index goes on.
    let alice = Node::start_in(alice.stop(), true, &[]);
    assert_eq!(
        indexes(&alice.rpc("listcustommsgs", json!({}))),
        [1, 2, 3, 4]
    );
    bob.connect(&alice);
    send(&bob, &alice, "77770005");
    assert_eq!(indexes(&wait_for_inbox(&alice, 5))[4], 5);
}

#[test]
fn the_inbox_is_bounded_and_can_be_switched_off() {
    let alice = Node::start(&["--custommsg-inbox-max-count=2"]);
    let bob = Node::start(&[]);
    bob.connect(&alice);
    for i in 1..=4 {
        send(&bob, &alice, &format!("7777000{i}"));
    }
    let deadline = Instant::now() + WAIT;
    while indexes(&alice.rpc("listcustommsgs", json!({}))) != [3, 4] {
        assert!(Instant::now() < deadline, "{}", alice.log());
        std::thread::sleep(Duration::from_millis(20));
    }

    let wrappers = Wrappers::new();
    let off = Node::start(&[
        "--custommsg-inbox=false",
        &wrappers.plugin("custommsg_a.py"),
    ]);
    bob.connect(&off);
    send(&bob, &off, "77770009");
    // Plugins still get the message; nothing is recorded.
    off.wait_for_log("Got custommessage_a 77770009");
    let refused = off.try_rpc("listcustommsgs", json!({})).unwrap_err();
    assert_eq!(
        refused,
        json!({"code": -1, "message": "The custom message inbox is off (--custommsg-inbox=false): received messages are not recorded"})
    );
    assert_eq!(
        off.try_rpc("waitcustommsg", json!([0])).unwrap_err(),
        refused
    );
}

/// The lines `inbox_follower.py` wrote: index, peer and payload of each message it handled.
fn handled(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("regtest/inbox_follower.handled"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn wait_handled(node: &Node, count: usize) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let lines = handled(node.lightning_dir());
        if lines.len() >= count {
            return lines;
        }
        assert!(Instant::now() < deadline, "{lines:?}\n{}", node.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_plugin_resumes_from_its_cursor_after_it_or_the_node_restarts() {
    let wrappers = Wrappers::new();
    let plugin = wrappers.plugin("inbox_follower.py");
    let alice = Node::start(&[&plugin]);
    let bob = Node::start(&[]);
    wait_for_plugins(&alice, &["inbox_follower.py"]);
    bob.connect(&alice);
    send(&bob, &alice, "77770001");
    send(&bob, &alice, "77770002");
    wait_handled(&alice, 2);

    // While the plugin is stopped, messages keep coming; started again, it catches up.
    alice.rpc("plugin", json!(["stop", "inbox_follower.py"]));
    send(&bob, &alice, "77770003");
    send(&bob, &alice, "77770004");
    wait_for_inbox(&alice, 4);
    let path = wrappers.path("inbox_follower.py");
    alice.rpc("plugin", json!(["start", path.display().to_string()]));
    wait_handled(&alice, 4);

    // Across a node restart too.
    let alice = Node::start_in(alice.stop(), true, &[&plugin]);
    bob.connect(&alice);
    send(&bob, &alice, "77770005");
    let lines = wait_handled(&alice, 5);
    // Each message handled exactly once, in order.
    std::thread::sleep(Duration::from_millis(300));
    let lines_after = handled(alice.lightning_dir());
    assert_eq!(lines, lines_after, "handled again");
    let expected: Vec<String> = (1..=5)
        .map(|i| format!("{i} {} 7777000{i}", bob.id))
        .collect();
    assert_eq!(lines, expected);
}
