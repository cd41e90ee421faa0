//! Onion messages between lnpeerd and LDK 0.2.7's `OnionMessenger` (through `tests/ldk-peer`):
//! lnpeer to LDK and LDK to lnpeer, a request answered along its reply path both ways (each
//! side answering into a blinded path the other made), and lnpeer forwarding between two LDK
//! nodes. lnpeerd's side is read from its plugin's hook log (`tests/plugins/onion_echo.py`,
//! which also answers requests of type 65537 with type 65539).
#![allow(clippy::unwrap_used, missing_docs)]

use ldk_peer::lightning::bitcoin::secp256k1::PublicKey;
use ldk_peer::{
    decode_blinded_path, encode_blinded_path, CustomOnionMessage, LdkConfig, OnionDestination,
    ReceivedOnionMessage, ReplyPath,
};
use lnpeer_tests::ldk::{public_key, Ldk};
use lnpeer_tests::node::{wait_until, Node};
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use serde_json::{json, Value};

const PLUGIN: &str = "onion_echo.py";
/// What onion_echo.py answers, and the type of its answer.
const REQUEST: u64 = 65_537;
const ANSWER: u64 = 65_539;
/// A type nobody answers.
const NOTE: u64 = 65_555;

fn start_ldk(label: &str) -> Ldk {
    Ldk::start(LdkConfig {
        label: label.to_owned(),
        ..LdkConfig::default()
    })
}

/// What these tests ask of LDK's onion messenger.
trait OnionMessages {
    /// The next custom onion message LDK received.
    fn next(&self, what: &str) -> ReceivedOnionMessage;
    fn send(
        &self,
        message: CustomOnionMessage,
        hops: &[PublicKey],
        to: OnionDestination,
        reply: ReplyPath,
    );
}

impl OnionMessages for Ldk {
    fn next(&self, what: &str) -> ReceivedOnionMessage {
        self.block_on(what, self.node().next_onion_message())
            .expect("the LDK node is running")
    }

    fn send(
        &self,
        message: CustomOnionMessage,
        hops: &[PublicKey],
        to: OnionDestination,
        reply: ReplyPath,
    ) {
        self.node()
            .send_onion_message(message, hops, to, reply)
            .unwrap_or_else(|error| panic!("LDK sends: {error}"));
    }
}

fn start_lnpeer(plugins: &Wrappers) -> Node {
    let node = Node::start(&[plugins.plugin(PLUGIN).as_str()]);
    wait_for_plugins(&node, &[PLUGIN]);
    node
}

/// The `onion_message` object the plugin logged after `prefix` (the `nth` such line, from 0).
#[track_caller]
fn logged(node: &Node, prefix: &str, nth: usize) -> Value {
    wait_until(|| node.log().matches(prefix).count() > nth);
    let log = node.log();
    let line = log.lines().filter(|l| l.contains(prefix)).nth(nth).unwrap();
    let start = line.find(prefix).unwrap() + prefix.len();
    serde_json::from_str(&line[start..]).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn lnpeer_to_ldk_and_ldk_to_lnpeer() {
    let plugins = Wrappers::new();
    let lnpeer = start_lnpeer(&plugins);
    let ldk = start_ldk("ldk");
    ldk.dial(&lnpeer);

    lnpeer.rpc(
        "sendonionmessage",
        json!([[ldk.id()], {NOTE.to_string(): "68656c6c6f"}]),
    );
    let got = ldk.next("LDK receives lnpeer's message");
    assert_eq!(
        got.message,
        CustomOnionMessage::new(NOTE, b"hello".to_vec())
    );
    assert!(!got.has_reply_path);

    ldk.send(
        CustomOnionMessage::new(NOTE, b"hi".to_vec()),
        &[],
        OnionDestination::Node(public_key(&lnpeer)),
        ReplyPath::None,
    );
    let got = logged(&lnpeer, "onion_message_recv: ", 0);
    assert_eq!(
        got["unknown_fields"],
        json!([{"number": NOTE, "value": "6869"}])
    );
    assert!(got.get("reply_blindedpath").is_none());
}

#[test]
fn replies_along_blinded_paths_both_ways() {
    let plugins = Wrappers::new();
    let lnpeer = start_lnpeer(&plugins);
    let ldk = start_ldk("ldk");
    ldk.dial(&lnpeer);

    // lnpeer asks with a reply path it made (itself the introduction node); LDK answers
    // along it, and lnpeer's secret hook recognises the path.
    let path = lnpeer.rpc("createonionreplypath", json!([]));
    lnpeer.rpc(
        "sendonionmessage",
        json!({"hops": [ldk.id()], "tlvs": {NOTE.to_string(): "01"}, "reply_path": path["blindedpath"]}),
    );
    let request = ldk.next("LDK receives the request");
    assert!(request.has_reply_path);
    ldk.node()
        .reply_onion_message(&request, CustomOnionMessage::new(ANSWER, b"pong".to_vec()))
        .unwrap_or_else(|error| panic!("LDK replies: {error}"));
    let answer = logged(&lnpeer, "onion_message_recv_secret: ", 0);
    assert_eq!(answer["pathsecret"], path["pathsecret"]);
    assert_eq!(
        answer["unknown_fields"],
        json!([{"number": ANSWER, "value": "706f6e67"}])
    );

    // LDK asks with a reply path of its own; lnpeer's plugin answers into it with
    // `sendonionmessage ... blinded_path`, and LDK authenticates its path (the context).
    ldk.send(
        CustomOnionMessage::new(REQUEST, b"ping".to_vec()),
        &[],
        OnionDestination::Node(public_key(&lnpeer)),
        ReplyPath::Through {
            intermediate: Vec::new(),
            context: b"ask".to_vec(),
        },
    );
    let asked = logged(&lnpeer, "onion_message_recv: ", 0);
    assert_eq!(asked["reply_blindedpath"]["first_node_id"], json!(ldk.id()));
    let answer = ldk.next("LDK receives lnpeer's answer");
    assert_eq!(
        answer.message,
        CustomOnionMessage::new(ANSWER, b"ping".to_vec())
    );
    assert_eq!(answer.context, Some(b"ask".to_vec()));

    // A blinded path LDK made, handed over as BOLT 4 bytes, and one lnpeer made, read by LDK.
    let ldk_path = ldk.node().blinded_path_to_self(&[], b"given".to_vec());
    lnpeer.rpc(
        "sendonionmessage",
        json!({"hops": [], "tlvs": {NOTE.to_string(): "02"}, "blinded_path": hex::encode(encode_blinded_path(&ldk_path))}),
    );
    let got = ldk.next("LDK receives over its path");
    assert_eq!(got.context, Some(b"given".to_vec()));
    let ours = lnpeer.rpc("createonionreplypath", json!([]));
    let ours_path =
        decode_blinded_path(&hex::decode(ours["blindedpath_hex"].as_str().unwrap()).unwrap())
            .expect("LDK reads lnpeer's path");
    ldk.send(
        CustomOnionMessage::new(NOTE, b"x".to_vec()),
        &[],
        OnionDestination::BlindedPath(ours_path),
        ReplyPath::None,
    );
    let got = logged(&lnpeer, "onion_message_recv_secret: ", 1);
    assert_eq!(got["pathsecret"], ours["pathsecret"]);
}

#[test]
fn lnpeer_forwards_between_two_ldk_nodes() {
    let plugins = Wrappers::new();
    let lnpeer = start_lnpeer(&plugins);
    let (one, two) = (start_ldk("one"), start_ldk("two"));
    one.dial(&lnpeer);
    two.dial(&lnpeer);
    let via = public_key(&lnpeer);

    // one → lnpeer → two, with a reply path through lnpeer back to one.
    one.send(
        CustomOnionMessage::new(NOTE, vec![0xab; 600]),
        &[via],
        OnionDestination::Node(two.node().node_id()),
        ReplyPath::Through {
            intermediate: vec![via],
            context: b"back".to_vec(),
        },
    );
    let got = two.next("two receives through lnpeer");
    assert_eq!(got.message, CustomOnionMessage::new(NOTE, vec![0xab; 600]));
    assert!(got.has_reply_path);
    two.node()
        .reply_onion_message(&got, CustomOnionMessage::new(ANSWER, b"ok".to_vec()))
        .unwrap_or_else(|error| panic!("two replies: {error}"));
    let back = one.next("one receives the reply through lnpeer");
    assert_eq!(
        back.message,
        CustomOnionMessage::new(ANSWER, b"ok".to_vec())
    );
    assert_eq!(back.context, Some(b"back".to_vec()));
    // lnpeerd logs a forward after queueing it, so the reply can reach `one` first.
    wait_until(|| lnpeer.log().matches("onion msg: forwarded").count() >= 2);
    assert_eq!(lnpeer.log().matches("onion msg: forwarded").count(), 2);
    // lnpeer's own hooks saw nothing: it only forwarded.
    assert!(!lnpeer.log().contains("onion_message_recv"));
}
