//! BOLT 1 conformance of a real `lnpeerd`, in the style of lnprototest: a scripted peer built on
//! pyln-proto (`tests/python/bolt1_conformance.py`) connects over BOLT 8 and sends hand-built
//! messages, and these tests check what it saw (warnings, pongs, closes) together with the
//! node's side (`listpeers`, the io log and the reasons it logs).
//!
//! Checked: unknown odd/even feature bits in `init`; unknown odd/even message types; `init`
//! first and only once; ping/pong sizes and the 65532 cut-off, both ways; `networks`;
//! malformed `init`s; a handshake to the wrong static key; delivery byte by byte, split and
//! batched; and 1,100 messages each way across BOLT 8 key rotations.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lnpeer_tests::node::{wait_until, Node};
use lnpeer_tests::python;
use serde_json::{json, Value};

const SCRIPT: &str = "bolt1_conformance.py";

/// A backstop only: the script bounds each read (10 s) and its whole run (90 s) itself.
const SCRIPT_LIMIT: Duration = Duration::from_secs(120);

/// One run of the Python peer for one case. It prints one JSON object per line: events,
/// checkpoints (where it waits for a line on stdin) and a final `{"result": ...}`.
struct Script {
    case: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Option<thread::JoinHandle<String>>,
    seen: Vec<String>,
}

impl Script {
    fn start(node: &Node, case: &str, args: &[&str]) -> Script {
        let mut child = python::script(SCRIPT)
            .arg(case)
            .arg(node.port.to_string())
            .arg(&node.id)
            .arg(node.rpc_path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the python peer starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        // Readers on threads, so a silent or hung script can be timed out rather than block.
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Script {
            case: case.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: Some(stderr),
            seen: Vec::new(),
        }
    }

    /// Kills the script and panics with everything it printed.
    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        panic!(
            "{SCRIPT} {}: {what}\n--- stdout ---\n{}\n--- stderr ---\n{stderr}",
            self.case,
            self.seen.join("\n")
        );
    }

    fn next(&mut self) -> Value {
        match self.lines.recv_timeout(SCRIPT_LIMIT) {
            Ok(line) => {
                self.seen.push(line.clone());
                match serde_json::from_str(&line) {
                    Ok(value) => value,
                    Err(error) => self.fail(&format!("printed a non-JSON line ({error})")),
                }
            }
            Err(_) => self.fail("ended or went silent before its next line"),
        }
    }

    /// The next line, which must be `{"<key>": "<name>", ...}`.
    fn expect(&mut self, key: &str, name: &str) -> Value {
        let line = self.next();
        if line[key] != name {
            self.fail(&format!("expected {key} {name:?}, got {line}"));
        }
        line
    }

    /// Lets the script go on past a checkpoint.
    fn resume(&mut self) {
        let written = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "go").and_then(|()| stdin.flush()),
            None => Ok(()),
        };
        if let Err(error) = written {
            self.fail(&format!("cannot resume: {error}"));
        }
    }

    /// The script's result; it must then exit with status 0.
    fn finish(mut self) -> Value {
        let line = self.next();
        let Some(result) = line.get("result").cloned() else {
            self.fail(&format!("expected the result, got {line}"));
        };
        let deadline = Instant::now() + SCRIPT_LIMIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return result,
                Ok(Some(status)) => self.fail(&format!("exited with {status}")),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => self.fail("did not exit after its result"),
                Err(error) => self.fail(&format!("cannot wait for it: {error}")),
            }
        }
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        // A test that panicked mid-case must not leave its peer running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a case that needs nothing from the test while it runs.
fn run(node: &Node, case: &str) -> Value {
    Script::start(node, case, &[]).finish()
}

fn peers(node: &Node, id: &Value) -> Vec<Value> {
    let id = id.as_str().expect("a peer id");
    node.rpc("listpeers", json!([id]))["peers"]
        .as_array()
        .expect("listpeers.peers")
        .clone()
}

#[track_caller]
fn assert_connected(node: &Node, id: &Value) {
    let listed = peers(node, id);
    assert_eq!(listed.len(), 1, "listpeers {id}: {listed:?}");
    assert_eq!(listed[0]["connected"], json!(true), "listpeers {id}");
}

/// The node forgets a channel-less peer once its connection is torn down.
#[track_caller]
fn assert_gone(node: &Node, id: &Value) {
    wait_until(|| peers(node, id).is_empty());
}

/// The node's debug line for a connection refused before `init` completed, found by the
/// peer's local port.
#[track_caller]
fn refusal_reason(node: &Node, refused: &Value) -> String {
    let port = refused["local_port"].as_u64().expect("local_port");
    let needle = format!("Incoming connection from 127.0.0.1:{port} failed: ");
    let line = node.wait_for_log(&needle);
    line[line.find(&needle).expect("found") + needle.len()..].to_owned()
}

#[track_caller]
fn assert_no_pong(refused: &Value) {
    let messages = refused["messages"].as_array().expect("messages");
    assert!(
        messages
            .iter()
            .all(|m| !m.as_str().unwrap_or_default().starts_with("0013")),
        "the node answered a ping it should not have: {messages:?}"
    );
}

/// BOLT 9: an unknown odd (optional) bit is ignored, in `features` and in `globalfeatures`.
#[test]
fn unknown_odd_feature_bit_is_accepted() {
    let node = Node::start(&[]);
    let mut script = Script::start(&node, "odd_feature_bit", &[]);
    let connected = script.expect("checkpoint", "connected");
    let id = &connected["id"];
    assert_connected(&node, id);
    // The node kept the bit it does not know (bit 101 = "2000...00").
    assert_eq!(peers(&node, id)[0]["features"], connected["features"]);
    script.resume();
    let result = script.finish();
    assert_eq!(result["pongs"], json!([10, 1]), "{result}");
    assert_eq!(result["globalfeatures_pong"], json!(2), "{result}");
}

/// BOLT 9: an unknown even (required) bit closes the connection; CLN first sends the
/// warning `Unsupported feature 100`. Both bitmaps count, since the receiver ORs them.
#[test]
fn unknown_even_feature_bit_is_refused() {
    let node = Node::start(&[]);
    let result = run(&node, "even_feature_bit");
    for bitmap in ["features", "globalfeatures"] {
        let refused = &result[bitmap];
        assert_eq!(
            refused["warnings"],
            json!(["warning: Unsupported feature 100"]),
            "{bitmap}: {refused}"
        );
        assert_eq!(
            refusal_reason(&node, refused),
            "init rejected: Unsupported feature 100"
        );
        assert!(peers(&node, &refused["id"]).is_empty(), "{bitmap}");
    }
    assert_eq!(result["healthy"], json!(true));
}

/// BOLT 1: an unknown odd message type is ignored (lnpeerd hands it to plugins as a custom
/// message): nothing comes back, the connection stays, and a ping is still answered.
#[test]
fn unknown_odd_messages_are_ignored() {
    let node = Node::start(&[]);
    let mut script = Script::start(&node, "unknown_odd_message", &[]);
    let sent = script.expect("checkpoint", "sent");
    let id = sent["id"].as_str().expect("id");
    for hex in sent["sent"].as_array().expect("sent") {
        let hex = hex.as_str().expect("hex");
        node.wait_for_log(&format!("{id}-openingd: [IN] {hex}"));
    }
    assert_connected(&node, &sent["id"]);
    assert!(
        !node.log().contains("Sending warning"),
        "the node warned about an odd message:\n{}",
        node.log()
    );
    script.resume();
    let result = script.finish();
    assert_eq!(result["pongs"], json!([2, 3]), "{result}");
}

/// BOLT 1: an unknown even message type closes the connection; CLN (v23.11+) sends the
/// warning `Invalid unknown even msg <hex of the whole message>` first.
#[test]
fn unknown_even_message_gets_warning_and_close() {
    let node = Node::start(&[]);
    let result = run(&node, "unknown_even_message");
    let refused = result["refused"].as_array().expect("refused");
    assert_eq!(refused.len(), 2, "{result}");
    for refused in refused {
        let sent = refused["sent"].as_str().expect("sent");
        let text = format!("Invalid unknown even msg {sent}");
        assert_eq!(refused["warnings"], json!([format!("warning: {text}")]));
        let id = refused["id"].as_str().expect("id");
        node.wait_for_log(&format!(
            "{id}-connectd: Sending warning and closing: {text}"
        ));
        assert_gone(&node, &refused["id"]);
    }
    assert_eq!(result["healthy"], json!(true));
}

/// BOLT 1: `init` is the first message. A ping or an unknown even message first closes the
/// connection unanswered; a second `init` gets a warning and a close. As in CLN, unknown odd
/// messages before `init` are skipped.
#[test]
fn init_must_come_first_and_only_once() {
    let node = Node::start(&[]);
    let result = run(&node, "init_first");

    let ping_first = &result["ping_first"];
    assert_no_pong(ping_first);
    assert_eq!(
        refusal_reason(&node, ping_first),
        "first message was type 18, not init"
    );
    let even_first = &result["even_first"];
    assert_eq!(
        refusal_reason(&node, even_first),
        "first message was type 32768, not init"
    );

    let second = &result["second_init"];
    assert_eq!(
        second["warnings"],
        json!(["warning: Unexpected second init"]),
        "{second}"
    );
    assert_gone(&node, &second["id"]);

    assert_eq!(result["odd_then_init_pong"], json!(5), "{result}");
}

/// BOLT 1: a ping with `num_pong_bytes` below 65532 gets a pong with exactly that many
/// (zero) bytes, whatever it carries itself; 65532 and above get nothing. And the node's own
/// ping (RPC `ping`) reaches the peer as asked and counts the pong.
#[test]
fn ping_pong_sizes() {
    let node = Node::start(&[]);
    let mut script = Script::start(&node, "ping_sizes", &[]);
    let waiting = script.expect("checkpoint", "node_ping");
    let id = waiting["id"].as_str().expect("id");
    // CLN's totlen: the pong's type and byteslen fields, then the bytes.
    let reply = node.rpc("ping", json!([id, 10, 300]));
    assert_eq!(reply["totlen"], json!(4 + 300), "{reply}");
    let reply = node.rpc("ping", json!({"id": id, "len": 0, "pongbytes": 0}));
    assert_eq!(reply["totlen"], json!(4), "{reply}");
    script.resume();
    let result = script.finish();

    // Had the 65532 or 65535 ping been answered, that pong would have come first.
    assert_eq!(
        result["first_pong"],
        json!({"byteslen": 0, "ignored": 0}),
        "{result}"
    );
    let pongs = result["pongs"].as_array().expect("pongs");
    assert_eq!(pongs.len(), 5, "{result}");
    for pong in pongs {
        let asked = pong["asked"].as_u64().expect("asked");
        assert_eq!(pong["byteslen"], json!(asked), "{pong}");
        assert_eq!(pong["ignored"], json!(asked), "{pong}");
        assert_eq!(pong["msg_len"], json!(4 + asked), "{pong}");
        assert_eq!(pong["zeros"], json!(true), "{pong}");
    }
    // Ping = type, num_pong_bytes, byteslen, then `len` zero bytes.
    assert_eq!(
        result["node_pings"],
        json!([
            {"num_pong_bytes": 300, "ignored_len": 10, "len": 6 + 10},
            {"num_pong_bytes": 0, "ignored_len": 0, "len": 6},
        ]),
        "{result}"
    );
}

/// BOLT 1 `networks`: no chain in common closes the connection (CLN: warning `No common
/// network`). Chain hashes are compared in wire byte order. Any common chain, or no
/// `networks` at all, is accepted.
#[test]
fn wrong_network_is_refused() {
    let node = Node::start(&[]);
    let result = run(&node, "wrong_network");
    for case in ["mainnet_only", "display_order"] {
        let refused = &result[case];
        assert_eq!(
            refused["warnings"],
            json!(["warning: No common network"]),
            "{case}: {refused}"
        );
        assert_eq!(
            refusal_reason(&node, refused),
            "init rejected: No common network"
        );
    }
    assert_eq!(
        result["accepted"],
        json!({"mainnet_and_regtest": 6, "absent": 6}),
        "{result}"
    );
}

/// BOLT 1: an `init` that does not parse (short fields, a bad TLV stream) closes the
/// connection; unknown odd TLVs do not. The node must stay healthy.
#[test]
fn malformed_init_closes() {
    let node = Node::start(&[]);
    let result = run(&node, "malformed_init");
    // The node's reason for each, so a close for some other cause does not pass.
    let expected = [
        ("truncated_globalfeatures", "truncated init.globalfeatures"),
        ("truncated_features", "truncated init.features"),
        ("missing_features_length", "truncated init.features"),
        ("tlv_out_of_order", "not strictly increasing"),
        ("tlv_duplicate", "not strictly increasing"),
        ("tlv_truncated", "truncated init.tlvs"),
        ("tlv_unknown_even", "unknown even tlv type 2"),
        ("networks_bad_length", "init.networks length"),
        ("tlv_type_not_minimal", "non-canonical bigsize"),
    ];
    let refused = result["refused"].as_object().expect("refused");
    assert_eq!(refused.len(), expected.len(), "{result}");
    for (name, reason) in expected {
        let case = &refused[name];
        let logged = refusal_reason(&node, case);
        assert!(
            logged.starts_with("bad init: ") && logged.contains(reason),
            "{name}: the node logged {logged:?}, expected a bad init for {reason:?}"
        );
        assert!(peers(&node, &case["id"]).is_empty(), "{name}");
    }
    assert_eq!(result["odd_tlvs_pong"], json!(8), "{result}");
    assert_eq!(result["healthy"], json!(true));
}

/// BOLT 8: a handshake to the wrong static key fails at act one (the node cannot
/// authenticate it and closes without a word); the node then still takes a correct one.
#[test]
fn wrong_static_key_fails_handshake() {
    let node = Node::start(&[]);
    let result = run(&node, "wrong_static_key");
    assert_eq!(result["outcome"], json!("closed"), "{result}");
    assert_eq!(
        refusal_reason(&node, &result),
        "handshake failed: act one: bad authentication tag"
    );
    assert_eq!(result["healthy"], json!(true));
}

/// BOLT 8 is a byte stream: acts, `init` and a ping written one byte per send, frames cut at
/// odd places, and three frames in one write are all read.
#[test]
fn byte_at_a_time_delivery() {
    let node = Node::start(&[]);
    let result = run(&node, "byte_at_a_time");
    // One send per byte: act one (50), act three (66), init (18 + 40 + 16: empty features,
    // networks), ping (18 + 9 + 16: three ignored bytes).
    assert_eq!(result["sends"], json!(50 + 66 + 74 + 43), "{result}");
    assert_eq!(result["pong"], json!(9), "{result}");
    assert_eq!(result["pong_ignored"], json!(9), "{result}");
    assert_eq!(result["split_pongs"], json!([11, 12]), "{result}");
    assert_eq!(result["batch_pongs"], json!([21, 22, 23]), "{result}");
}

/// BOLT 8 is a byte stream: a ping that arrives in the same TCP read as `init` must be
/// answered without the peer sending anything more.
#[test]
fn ping_coalesced_with_init_is_answered() {
    let node = Node::start(&[]);
    let result = run(&node, "coalesced");
    assert_eq!(result["pong_after_init"], json!(13), "{result}");
}

/// Message `index`'s payload, as the script builds it: the index, then 0-299 bytes of `fill`.
fn custom_payload(index: u32, fill: u8) -> Vec<u8> {
    let mut payload = index.to_be_bytes().to_vec();
    payload.resize(4 + (index as usize * 37) % 300, fill);
    payload
}

/// 1,100 messages each way through pyln-proto's BOLT 8: the key rotates every 500 messages
/// (at nonce 1000), so each direction crosses two rotations. The node must read every one of
/// the peer's, in order (its io log), and deliver every `sendcustommsg`, in order (checked by
/// the script).
#[test]
fn many_messages_both_ways_across_key_rotation() {
    const COUNT: u32 = 1_100;
    const PEER_TYPE: u16 = 32_769;
    const NODE_TYPE: u16 = 32_771;
    let node = Node::start(&[]);
    let count = COUNT.to_string();
    let (peer_type, node_type) = (PEER_TYPE.to_string(), NODE_TYPE.to_string());
    let mut script = Script::start(&node, "many_messages", &[&count, &peer_type, &node_type]);
    let connected = script.expect("event", "connected");
    let id = connected["id"].as_str().expect("id").to_owned();
    wait_until(|| node.rpc("listpeers", json!([id]))["peers"][0]["connected"] == json!(true));

    for index in 0..COUNT {
        let mut message = NODE_TYPE.to_be_bytes().to_vec();
        message.extend(custom_payload(index, 0x5a));
        let reply = node.rpc("sendcustommsg", json!([id, hex::encode(&message)]));
        assert_eq!(
            reply["status"],
            json!("Message sent to subdaemon openingd for delivery"),
            "message {index}"
        );
    }
    let result = script.finish();
    assert_eq!(result["received"], json!(COUNT), "{result}");
    assert_eq!(result["final_pong"], json!(1), "{result}");

    let expected: Vec<String> = (0..COUNT)
        .map(|index| {
            let mut message = PEER_TYPE.to_be_bytes().to_vec();
            message.extend(custom_payload(index, 0xa5));
            hex::encode(message)
        })
        .collect();
    let prefix = format!(
        "{id}-openingd: [IN] {}",
        hex::encode(PEER_TYPE.to_be_bytes())
    );
    node.wait_for_log(&format!(
        "{id}-openingd: [IN] {}",
        expected[expected.len() - 1]
    ));
    let log = node.log();
    let received: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(&prefix))
        .filter_map(|line| line.split("[IN] ").nth(1))
        .collect();
    assert_eq!(received.len(), expected.len(), "messages the node read");
    if let Some(index) = (0..expected.len()).find(|&i| received[i] != expected[i]) {
        panic!(
            "the node read message {index} as {}, expected {}",
            received[index], expected[index]
        );
    }
}
