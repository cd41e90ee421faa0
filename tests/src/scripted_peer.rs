//! Scripted peers: a Python script in `tests/python/` (pyln-proto over BOLT 8) run against a
//! real node for one case, which connects, sends hand-built messages and prints what it saw.
//!
//! The script is called as `<script> <case> <port> <node_id> <rpc_file>` and prints one JSON
//! object per line, the last being `{"result": ...}`; the test asserts on that result.
//! `commando_peer.py` and `lsps0_peer.py` follow this protocol; `bolt1_conformance.py`, which
//! also stops at checkpoints, has a driver of its own.

use std::io::Read;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::node::Node;
use crate::python;

/// Runs `case` of `script` against `node` and returns its result.
///
/// # Panics
/// If the script fails, exits non-zero, runs longer than `limit` (a backstop: the scripts
/// bound their own reads and runs) or its last line is not `{"result": ...}`; the message
/// quotes its stdout and stderr.
#[track_caller]
pub fn run_case(script: &str, case: &str, node: &Node, limit: Duration) -> Value {
    let mut child = python::script(script)
        .arg(case)
        .arg(node.port.to_string())
        .arg(&node.id)
        .arg(node.rpc_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the python peer starts");
    let stdout = read_all(&mut child, true);
    let stderr = read_all(&mut child, false);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let failed = |what: &str| -> ! {
        panic!("{script} {case}: {what}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
    };
    match status {
        Some(status) if status.success() => {}
        Some(status) => failed(&format!("exited with {status}")),
        None => failed("did not finish in time"),
    }
    let Some(last) = stdout.lines().last() else {
        failed("printed nothing");
    };
    match serde_json::from_str::<Value>(last) {
        Ok(mut line) if line.get("result").is_some() => line["result"].take(),
        _ => failed("the last line is not {\"result\": ...}"),
    }
}

/// Reads the child's stdout (or stderr) to the end on a thread, so a chatty script cannot
/// block on a full pipe.
fn read_all(child: &mut Child, stdout: bool) -> thread::JoinHandle<String> {
    let mut pipe: Box<dyn Read + Send> = match stdout {
        true => Box::new(child.stdout.take().expect("piped stdout")),
        false => Box::new(child.stderr.take().expect("piped stderr")),
    };
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}
