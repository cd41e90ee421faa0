//! Custom messages for peers that are not connected (`sendcustommsg` with `delivery` `stored`)
//! on real nodes: stored, listed with their fate, cancelled, expired, bounded per peer, kept
//! across a restart, and delivered in order when the peer connects.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use lnpeer_tests::node::{Node, WAIT};
use serde_json::{json, Value};

fn store(from: &Node, to: &str, msg: &str) -> Value {
    from.rpc(
        "sendcustommsg",
        json!({"node_id": to, "msg": msg, "delivery": "stored"}),
    )
}

fn statuses(node: &Node, peer: &str) -> Vec<(u64, String)> {
    node.rpc("listsendcustommsgs", json!({"node_id": peer}))["sendcustommsgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_u64().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn wait_for(mut condition: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The payloads in `node`'s inbox from `peer`, in order.
fn received_from(node: &Node, peer: &str) -> Vec<String> {
    node.rpc("listcustommsgs", json!({"peer_id": peer}))["custommsgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["payload"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn stored_messages_reach_the_peer_in_order_when_it_connects() {
    let alice = Node::start(&[]);
    let bob = Node::start(&[]);
    let stored = store(&alice, &bob.id, "77770001");
    assert_eq!(
        stored["status"],
        "Message stored: it is sent, in order, when the peer is connected"
    );
    assert_eq!(stored["id"], 1);
    let expires = stored["expires_at"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The default time to live is a day.
    assert!((now + 86_390..=now + 86_410).contains(&expires), "{stored}");
    for i in 2..=40 {
        store(&alice, &bob.id, &format!("7777{i:04x}"));
    }
    let listed = alice.rpc("listsendcustommsgs", json!([bob.id, "pending"]));
    let first = &listed["sendcustommsgs"][0];
    assert_eq!(first["peer_id"], bob.id);
    assert_eq!(first["payload"], "77770001");
    assert_eq!(first["status"], "pending");
    assert!(first.get("resolved_at").is_none());
    assert_eq!(listed["sendcustommsgs"].as_array().unwrap().len(), 40);

    // Cancelled ones are not sent, and say so.
    let cancelled = alice.rpc("cancelsendcustommsg", json!([2]));
    assert_eq!(
        (cancelled["id"].clone(), cancelled["status"].clone()),
        (json!(2), json!("cancelled"))
    );
    assert!(cancelled["resolved_at"].as_u64().is_some());
    assert_eq!(
        alice
            .try_rpc("cancelsendcustommsg", json!([2]))
            .unwrap_err(),
        json!({"code": -1, "message": "Stored message 2 is already cancelled"})
    );
    assert_eq!(
        alice
            .try_rpc("cancelsendcustommsg", json!({"id": 999}))
            .unwrap_err(),
        json!({"code": -1, "message": "No stored message with id 999"})
    );

    // Bob connects: everything pending arrives, in the order it was stored.
    bob.connect(&alice);
    wait_for(
        || received_from(&bob, &alice.id).len() >= 39,
        "bob got the stored messages",
    );
    let expected: Vec<String> = (1..=40u32)
        .filter(|&i| i != 2)
        .map(|i| format!("7777{i:04x}"))
        .collect();
    assert_eq!(received_from(&bob, &alice.id), expected);
    wait_for(
        || {
            statuses(&alice, &bob.id)
                .iter()
                .all(|(id, s)| s == if *id == 2 { "cancelled" } else { "sent" })
        },
        "every send resolved",
    );
    assert_eq!(
        alice
            .try_rpc("cancelsendcustommsg", json!([1]))
            .unwrap_err(),
        json!({"code": -1, "message": "Stored message 1 is already sent"})
    );

    // Connected with nothing stored: sent at once, with CLN's answer, and not recorded.
    assert_eq!(
        store(&alice, &bob.id, "77770100"),
        json!({"status": "Message sent to subdaemon openingd for delivery"})
    );
    wait_for(
        || received_from(&bob, &alice.id).len() == 40,
        "the direct send arrived",
    );
    assert_eq!(statuses(&alice, &bob.id).len(), 40);
}

#[test]
fn stored_messages_expire_are_bounded_and_survive_a_restart() {
    let alice = Node::start(&["--custommsg-stored-per-peer=2"]);
    // secp256k1's generator: a valid node id that no test node has.
    let nobody = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798".to_owned();
    alice.rpc(
        "sendcustommsg",
        json!({"node_id": nobody, "msg": "77770001", "delivery": "stored", "ttl": 1}),
    );
    store(&alice, &nobody, "77770002");
    let refused = alice
        .try_rpc("sendcustommsg", json!([nobody, "77770003", "stored"]))
        .unwrap_err();
    assert_eq!(
        refused,
        json!({"code": -1, "message": format!("Peer {nobody} already has 2 stored messages, the limit (--custommsg-stored-per-peer): message not stored")})
    );
    // The first one outlives its one-second time to live.
    wait_for(
        || statuses(&alice, &nobody) == [(1, "expired".to_owned()), (2, "pending".to_owned())],
        "the first send expired",
    );
    // Type checks still apply; even types are refused as for any send.
    let even = alice
        .try_rpc("sendcustommsg", json!([nobody, "7776", "stored"]))
        .unwrap_err();
    assert_eq!(even["code"], -32600);

    // Kept across a restart, then delivered.
    let carol = Node::start(&[]);
    store(&alice, &carol.id, "77770010");
    let alice = Node::start_in(alice.stop(), true, &[]);
    assert_eq!(statuses(&alice, &carol.id), [(3, "pending".to_owned())]);
    carol.connect(&alice);
    wait_for(
        || received_from(&carol, &alice.id) == ["77770010"],
        "carol got it",
    );
    wait_for(
        || statuses(&alice, &carol.id) == [(3, "sent".to_owned())],
        "marked sent",
    );
}
