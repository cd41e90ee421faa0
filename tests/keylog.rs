//! The BOLT 8 key log, used as a Wireshark user would: two lnpeerd talk through a loopback
//! relay that records each direction's raw bytes, one node writing its keys to the file
//! `--dev-keylog-file` names, the other (without `--developer`) to the one
//! `LIGHTNINGKEYLOGFILE` names. Each key log alone must then decrypt the whole capture, both
//! directions, across two key rotations each way, with nothing but Python's `cryptography`
//! (tests/python/keylog_decrypt.py, which looks keys up as lightning-dissector does).
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use lnpeer_tests::node::{wait_until, Node};
use lnpeer_tests::python;
use serde_json::{json, Value};

/// Custom messages each way: past 1000 frames, so each direction uses three keys.
const MESSAGES: u32 = 1100;
/// An odd custom type, so neither node needs a plugin to accept it.
const CUSTOM_TYPE: &str = "8001";

/// A TCP relay on 127.0.0.1 between one client and `target`, keeping every byte it forwards.
struct Relay {
    port: u16,
    /// Ends once both directions have ended.
    thread: thread::JoinHandle<()>,
    /// Client to target (the dialer's bytes), and target to client.
    to_target: Arc<Mutex<Vec<u8>>>,
    to_client: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a relay port");
        let port = listener.local_addr().expect("its address").port();
        let to_target = Arc::new(Mutex::new(Vec::new()));
        let to_client = Arc::new(Mutex::new(Vec::new()));
        let (up, down) = (to_target.clone(), to_client.clone());
        let thread = thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let pipe = |from: &TcpStream, to: &TcpStream, record: Arc<Mutex<Vec<u8>>>| {
                let (mut from, mut to) = (
                    from.try_clone().expect("a socket clone"),
                    to.try_clone().expect("a socket clone"),
                );
                thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                record.lock().unwrap().extend_from_slice(&buf[..n]);
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                })
            };
            let pipes = [pipe(&client, &server, up), pipe(&server, &client, down)];
            for pipe in pipes {
                let _ = pipe.join();
            }
        });
        Relay {
            port,
            thread,
            to_target,
            to_client,
        }
    }
}

fn custom_message(index: u32) -> String {
    format!("{CUSTOM_TYPE}{index:08x}")
}

/// Decrypts the capture with `key_log` alone; the script's result.
fn decrypt(key_log: &Path, to_target: &Path, to_client: &Path) -> Value {
    let out = python::run_script(
        "keylog_decrypt.py",
        &[
            key_log.to_str().expect("a UTF-8 path"),
            to_target.to_str().expect("a UTF-8 path"),
            to_client.to_str().expect("a UTF-8 path"),
        ],
    );
    let line = out.lines().last().expect("the script prints its result");
    let mut value: Value = serde_json::from_str(line).expect("a JSON result");
    value["result"].take()
}

/// One direction of the decrypted capture: `init` first, then every custom message in order,
/// with keys looked up at frames 0, 500 and 1000 (BOLT 8 rotates every 500 messages).
#[track_caller]
fn check_direction(direction: &Value, what: &str) {
    let messages: Vec<&str> = direction["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no messages in {direction}"))
        .iter()
        .map(|m| m.as_str().expect("hex"))
        .collect();
    assert!(
        messages[0].starts_with("0010"),
        "{what}: the first frame decrypts to init: {}",
        messages[0]
    );
    let custom: Vec<&str> = messages
        .iter()
        .copied()
        .filter(|m| m.starts_with(CUSTOM_TYPE))
        .collect();
    let expected: Vec<String> = (0..MESSAGES).map(custom_message).collect();
    assert_eq!(custom, expected, "{what}: every custom message, in order");
    let new_keys: Vec<u64> = direction["new_key_frames"]
        .as_array()
        .expect("new_key_frames")
        .iter()
        .map(|n| n.as_u64().expect("a frame index"))
        .collect();
    assert_eq!(&new_keys[..3], &[0, 500, 1000], "{what}: keys looked up");
    assert_eq!(
        new_keys.len() as u64,
        direction["keys_used"].as_u64().unwrap()
    );
    // The frames right after each rotation decrypted to real messages.
    assert!(messages.len() > 1000, "{what}: {} frames", messages.len());
}

#[test]
fn each_key_log_alone_decrypts_a_capture_across_key_rotations() {
    let logs = tempfile::tempdir().expect("a temporary directory");
    let a_log = logs.path().join("a-keys.log");
    let b_log = logs.path().join("b-keys.log");
    let a = Node::start(&[&format!("--dev-keylog-file={}", a_log.display())]);
    // No --developer: the environment variable alone asks for the log.
    let b = Node::start_with_env(
        Node::new_dir(),
        false,
        &[],
        &[("LIGHTNINGKEYLOGFILE", b_log.as_path())],
    );
    a.wait_for_log("Appending every BOLT 8 key to");
    b.wait_for_log("Appending every BOLT 8 key to");

    let relay = Relay::start(a.port);
    b.rpc(
        "connect",
        json!([format!("{}@127.0.0.1:{}", a.id, relay.port)]),
    );
    wait_until(|| a.rpc("listpeers", json!([b.id]))["peers"][0]["connected"] == json!(true));
    for index in 0..MESSAGES {
        b.rpc("sendcustommsg", json!([a.id, custom_message(index)]));
        a.rpc("sendcustommsg", json!([b.id, custom_message(index)]));
    }
    let last = format!("[IN] {}", custom_message(MESSAGES - 1));
    a.wait_for_log(&last);
    b.wait_for_log(&last);
    // Both nodes gone, the relay has seen each direction end on a whole frame.
    drop(a);
    drop(b);
    relay.thread.join().expect("the relay ends");

    let to_target = logs.path().join("b-to-a.bin");
    let to_client = logs.path().join("a-to-b.bin");
    std::fs::write(&to_target, &*relay.to_target.lock().unwrap()).unwrap();
    std::fs::write(&to_client, &*relay.to_client.lock().unwrap()).unwrap();

    for key_log in [&a_log, &b_log] {
        let mode = std::fs::metadata(key_log).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{} is private", key_log.display());
        let text = std::fs::read_to_string(key_log).unwrap();
        assert!(
            text.lines().count() >= 6,
            "three keys each way in {}:\n{text}",
            key_log.display()
        );
        let result = decrypt(key_log, &to_target, &to_client);
        // B dialed (through the relay), so B is the initiator.
        check_direction(&result["initiator"], "b to a");
        check_direction(&result["responder"], "a to b");
    }
}
