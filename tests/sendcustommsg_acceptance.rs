//! Core Lightning's `test_sendcustommsg` acceptance test (tests/test_misc.py; see
//! the CLN reference, cln.md §6.1), ported to real `lnpeerd` processes.
//!
//! Four nodes each run the two test plugins, `custommsg_b.py` (filtered to type 0xaaff) and
//! `custommsg_a.py` (no filter), registered in that order as CLN does. l1–l2 and l2–l3 have a
//! channel, l2 is connected to l4 without one, and l3 is stopped. Then `sendcustommsg` must
//! refuse an unknown peer, a disconnected peer, an internal type and an even type, and deliver
//! an odd message through the peer's owner to both plugins, and the filter must keep
//! custommsg_b away from another type.
//!
//! Where it differs from CLN's test at HEAD:
//! - **v0.10 ownership.** lnpeer follows the v0.10 model the man page describes, so the status
//!   names the owning subdaemon (`Message sent to subdaemon channeld for delivery`) and the
//!   `[OUT]`/`[IN]` lines are on the owner's prefix, not on `connectd`: `<peer>-channeld-chan#1`
//!   as in v0.10, and `<peer>-openingd` (v0.10 wrote `openingd-chan#<n>`; lnpeer has no
//!   uncommitted channel to number). Lines are matched in full, where CLN's regexes only
//!   asked for `[IN] <msg>` on the receiver.
//! - **The even refusal** that v0.10 still asserted (`dev-sendcustommsg ... 00FE`) is checked,
//!   for `dev-sendcustommsg` and `sendcustommsg` alike.
//! - **Strings and codes.** Each error is checked in full with its JSON-RPC code (-32600), not
//!   by a regex over the error's text; the strings are lnpeer's (CLN's v0.10 wording, with the
//!   peer id after `No such peer:` / `Peer is not connected:`).
//! - **Channels without funds.** The channels are simulated with the `--developer` lifecycle
//!   commands, opened on both nodes of a pair. That also lets the test add what CLN could not
//!   reach: after `dev-close-channel` the peer is owned by closingd and after
//!   `dev-spend-funding` by onchaind, and both refuse custom messages.
//! - **The filter check** proves that the hook chain for the filtered message finished (a later
//!   message's chain ran to its end) before it asserts that custommsg_b never saw it, where CLN
//!   only checks right after custommsg_a's line.
#![allow(clippy::unwrap_used, missing_docs)]

use lnpeer_tests::node::{wait_until, Node, WAIT};
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use serde_json::json;

/// The test plugins, in the order CLN's test registers them.
const PLUGINS: [&str; 2] = ["custommsg_b.py", "custommsg_a.py"];

/// CLN's "invalid request" code, used by every `sendcustommsg` refusal.
const INVALID_REQUEST: i64 = -32600;

/// `sendcustommsg` (or `method`) from `node` must fail with -32600 and exactly `message`.
#[track_caller]
fn assert_refused(node: &Node, method: &str, peer: &str, msg: &str, message: &str) {
    let error = node
        .try_rpc(method, json!([peer, msg]))
        .expect_err("the message must be refused");
    assert_eq!(
        error,
        json!({"code": INVALID_REQUEST, "message": message}),
        "{method} {peer} {msg}"
    );
}

/// Opens a simulated channel on both ends of a connected pair, so that each owns the other by
/// channeld (a `dev-open-channel` is local to the node that runs it).
#[track_caller]
fn open_channel(a: &Node, b: &Node) {
    for (node, peer) in [(a, b), (b, a)] {
        let opened = node.rpc("dev-open-channel", json!([peer.id]));
        assert_eq!(opened["state"], json!("CHANNELD_NORMAL"), "{opened}");
        assert_eq!(opened["owner"], json!("channeld"), "{opened}");
    }
}

/// Waits for a line of `node`'s log that ends with `tail`: the whole message after the prefix,
/// so that a longer payload, or other text after it, does not pass for it.
#[track_caller]
fn wait_for_line(node: &Node, tail: &str) {
    let line = node.wait_for_log(tail);
    assert!(line.ends_with(tail), "{line:?} does not end with {tail:?}");
}

#[test]
fn sendcustommsg_like_cln_v0_10() {
    let wrappers = Wrappers::new();
    let options = PLUGINS.map(|name| wrappers.plugin(name));
    let options = options.each_ref().map(String::as_str);
    let [l1, l2, mut l3, l4] = [(); 4].map(|()| Node::start(&options));
    for node in [&l1, &l2, &l3, &l4] {
        wait_for_plugins(node, &PLUGINS);
    }

    // CLN's join_nodes([l1, l2, l3]) and l2.connect(l4), without funds.
    l1.connect(&l2);
    open_channel(&l1, &l2);
    l2.connect(&l3);
    open_channel(&l2, &l3);
    l2.connect(&l4);
    assert_eq!(
        l3.rpc("stop", json!([])),
        json!({"result": "Shutdown complete"})
    );
    assert!(l3.wait_exit(WAIT), "l3 did not stop");

    let msg = format!("aa{}bb", "ff".repeat(30));

    // 1. A node we never heard of.
    let stranger = "02df5ffe895c778e10f7742a6c5b8a0cefbe9465df58b92fadeb883752c8107c8f";
    assert_refused(
        &l1,
        "sendcustommsg",
        stranger,
        &msg,
        &format!("No such peer: {stranger}"),
    );

    // 2. A known peer (it has a channel) that is gone.
    wait_until(|| l2.rpc("listpeers", json!([l3.id]))["peers"][0]["connected"] == json!(false));
    assert_refused(
        &l2,
        "sendcustommsg",
        &l3.id,
        &msg,
        &format!("Peer is not connected: {}", l3.id),
    );

    // 3. An internal type, to ourselves: the type is checked before the peer.
    assert_refused(
        &l2,
        "sendcustommsg",
        &l2.id,
        "0012",
        "Cannot send messages of type 18 (WIRE_PING). It is not possible to send messages that \
         have a type managed internally since that might cause issues with the internal state \
         tracking.",
    );

    // 4. An even type (v0.10's check; no plugin here declares `custommessages`).
    let even = "Cannot send even-typed 254 custom message. Currently custom messages are limited \
                to odd-numbered message types, as even-numbered types might result in \
                disconnections.";
    for method in ["dev-sendcustommsg", "sendcustommsg"] {
        assert_refused(&l2, method, &l1.id, "00FE", even);
    }

    // 5. Through channeld to l1, and up both of l1's hooks (0xaaff passes custommsg_b's filter).
    assert_eq!(
        l2.rpc("sendcustommsg", json!([l1.id, msg])),
        json!({"status": "Message sent to subdaemon channeld for delivery"})
    );
    // l2 opened its channel with l1 before the one with l3, and l1 has only that one: chan#1.
    wait_for_line(&l2, &format!("{}-channeld-chan#1: [OUT] {msg}", l1.id));
    wait_for_line(&l1, &format!("{}-channeld-chan#1: [IN] {msg}", l2.id));
    for plugin in ["a", "b"] {
        wait_for_line(
            &l1,
            &format!(
                "plugin-custommsg_{plugin}.py: Got custommessage_{plugin} {msg} from peer {}",
                l2.id
            ),
        );
    }

    // 6. Through openingd to l4, which has no channel.
    assert_eq!(
        l2.rpc("sendcustommsg", json!([l4.id, msg])),
        json!({"status": "Message sent to subdaemon openingd for delivery"})
    );
    wait_for_line(&l2, &format!("{}-openingd: [OUT] {msg}", l4.id));
    wait_for_line(&l4, &format!("{}-openingd: [IN] {msg}", l2.id));
    for plugin in ["a", "b"] {
        wait_for_line(
            &l4,
            &format!(
                "plugin-custommsg_{plugin}.py: Got custommessage_{plugin} {msg} from peer {}",
                l2.id
            ),
        );
    }

    // 7. Type 0xaafd reaches custommsg_a only. One message per peer goes through the chain at a
    // time, so once a later 0xaaff message has reached custommsg_b (last in the chain), the
    // 0xaafd chain is over and custommsg_b's silence about it is final.
    let msg2 = format!("aa{}bb", "fd".repeat(30));
    let later = format!("aaff{}bb", "01".repeat(29));
    for message in [&msg2, &later] {
        assert_eq!(
            l2.rpc("sendcustommsg", json!([l4.id, message]))["status"],
            json!("Message sent to subdaemon openingd for delivery")
        );
    }
    wait_for_line(
        &l4,
        &format!(
            "plugin-custommsg_a.py: Got custommessage_a {msg2} from peer {}",
            l2.id
        ),
    );
    wait_for_line(
        &l4,
        &format!(
            "plugin-custommsg_b.py: Got custommessage_b {later} from peer {}",
            l2.id
        ),
    );
    assert!(
        !l4.log()
            .contains(&format!("Got custommessage_b {msg2} from peer")),
        "custommsg_b's filter let 0xaafd through:\n{}",
        l4.log()
    );

    // 8. Ours: closingd and onchaind do not take custom messages.
    let closing = l2.rpc("dev-close-channel", json!([l1.id]));
    assert_eq!(closing["state"], json!("CLOSINGD_SIGEXCHANGE"), "{closing}");
    assert_eq!(closing["owner"], json!("closingd"), "{closing}");
    let refused = format!("aa{}bb", "fb".repeat(30));
    assert_refused(
        &l2,
        "sendcustommsg",
        &l1.id,
        &refused,
        "Peer is currently owned by closingd which does not support injecting custom messages.",
    );
    let spent = l2.rpc("dev-spend-funding", json!([l1.id]));
    assert_eq!(spent["state"], json!("FUNDING_SPEND_SEEN"), "{spent}");
    assert_eq!(spent["owner"], json!("onchaind"), "{spent}");
    assert_refused(
        &l2,
        "sendcustommsg",
        &l1.id,
        &refused,
        "Peer is currently owned by onchaind which does not support injecting custom messages.",
    );
    // Refused synchronously, so nothing was queued that could still reach the wire.
    assert!(!l2.log().contains(&format!("[OUT] {refused}")));
    assert!(!l1.log().contains(&format!("[IN] {refused}")));
}
