//! The RPC path through real `lnpeerd` processes (LDK has no RPC, so these rows are lnpeer's
//! alone):
//! - `sendcustommsg` calls per second: several clients on node A's socket, each keeping a
//!   window of requests in flight, sending 32-byte messages to node B1;
//! - RPC-to-hook latency: from a `sendcustommsg` call on A until B2's `custommsg` hook runs in
//!   a plugin. The plugin is this binary: `lnpeerd` starts it with `LIGHTNINGD_PLUGIN=1`, and
//!   it reports each hook call back over a Unix socket named in `LNPEER_BENCH_REPORT`.
//!
//! Both run twice: with the receiving nodes' durable inbox on (the default: each received
//! custom message is committed to SQLite before plugins see it) and off
//! (`--custommsg-inbox=false`), so the rows show what that durability costs.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::daemon::{pipelined_calls, Daemon, RpcClient};
use crate::report::Report;
use crate::stats::{micros, Latencies};

/// Where the plugin reports hook calls (set in lnpeerd's environment, which plugins inherit).
const REPORT_ENV: &str = "LNPEER_BENCH_REPORT";
/// Concurrent RPC clients, and requests each keeps in flight.
const CLIENTS: usize = 4;
const WINDOW: usize = 64;

/// A 32-byte custom message carrying `seq`.
fn message_hex(seq: u64) -> String {
    format!("8001{seq:016x}{}", "5a".repeat(22))
}

/// The receiving nodes' inbox setting for one pass: the option, and the rows' suffix.
const INBOX_SETTINGS: [(&str, &str); 2] = [
    ("--custommsg-inbox=true", ""),
    ("--custommsg-inbox=false", ", inbox off"),
];

pub(crate) fn measure(report: &mut Report, calls: u64, latency_samples: usize) {
    for (option, suffix) in INBOX_SETTINGS {
        measure_with(report, calls, latency_samples, option, suffix);
    }
}

fn measure_with(
    report: &mut Report,
    calls: u64,
    latency_samples: usize,
    inbox_option: &str,
    suffix: &str,
) {
    let report_dir = tempfile::tempdir().expect("a temporary directory");
    let report_path = report_dir.path().join("hooks");
    let listener = UnixListener::bind(&report_path).expect("the report socket");
    let plugin = std::env::current_exe().expect("this binary's path");
    let a = Daemon::start(&[], &[]);
    let b1 = Daemon::start(&[inbox_option.to_owned()], &[]);
    let b2 = Daemon::start(
        &[
            format!("--plugin={}", plugin.display()),
            inbox_option.to_owned(),
        ],
        &[(REPORT_ENV, report_path.to_str().expect("a UTF-8 path"))],
    );
    a.rpc("connect", json!([b1.address()]));
    a.rpc("connect", json!([b2.address()]));

    // Calls per second, with every client pipelining.
    let to = b1.id.clone();
    let run = pipelined_calls(&a.rpc_path(), CLIENTS, WINDOW, calls, move |seq| {
        json!({"jsonrpc": "2.0", "id": seq, "method": "sendcustommsg", "params": [to, message_hex(seq)]})
            .to_string()
    });
    report.ours(
        &format!("sendcustommsg calls/s ({CLIENTS} clients, {WINDOW} in flight each{suffix})"),
        run.per_second(),
        &format!("{} of {} refused as queue full", run.errors, run.calls),
    );

    // RPC to remote hook, one message at a time.
    let (mut hooks, _) = listener.accept().expect("the plugin reports in");
    hooks
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    let mut client = RpcClient::connect(&a.rpc_path()).expect("A's RPC");
    let mut samples = Vec::with_capacity(latency_samples);
    for seq in 0..latency_samples as u64 + 100 {
        let sent = Instant::now();
        client
            .call("sendcustommsg", json!([b2.id, message_hex(seq)]))
            .expect("sendcustommsg to B2");
        let mut reported = [0u8; 8];
        hooks.read_exact(&mut reported).expect("the hook's report");
        let took = sent.elapsed();
        assert_eq!(u64::from_be_bytes(reported), seq, "hook calls in order");
        // The first hundred warm the path up.
        if seq >= 100 {
            samples.push(took);
        }
    }
    let latencies = Latencies::new(samples);
    for (quantile, latency) in [("p50", latencies.p50()), ("p99", latencies.p99())] {
        report.ours(
            &format!("RPC to remote custommsg hook{suffix}: {quantile} µs"),
            micros(latency),
            "one call at a time, Rust plugin",
        );
    }
}

/// The plugin side: answers `getmanifest` and `init`, and for each `custommsg` hook writes
/// the message's sequence number to the report socket before letting the chain continue.
pub(crate) fn run_plugin() {
    let mut report = std::env::var_os(REPORT_ENV).and_then(|path| UnixStream::connect(path).ok());
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let requests = serde_json::Deserializer::from_reader(stdin).into_iter::<Value>();
    for request in requests {
        let Ok(request) = request else { return };
        let result = match request["method"].as_str() {
            Some("getmanifest") => json!({
                "options": [],
                "rpcmethods": [],
                "subscriptions": [],
                "hooks": [{"name": "custommsg"}],
                "dynamic": true,
            }),
            Some("init") => json!({}),
            Some("custommsg") => {
                let seq = request["params"]["payload"]
                    .as_str()
                    .and_then(|payload| payload.get(4..20))
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok());
                if let (Some(seq), Some(stream)) = (seq, report.as_mut()) {
                    let _ = stream.write_all(&seq.to_be_bytes());
                }
                json!({"result": "continue"})
            }
            Some("shutdown") => return,
            _ => continue,
        };
        let Some(id) = request.get("id") else {
            continue;
        };
        let response = json!({"jsonrpc": "2.0", "id": id, "result": result});
        if writeln!(stdout, "{response}\n")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_32_bytes_and_carry_their_number() {
        let hex = super::message_hex(0x0102);
        assert_eq!(hex.len(), 64);
        assert_eq!(u64::from_str_radix(&hex[4..20], 16).unwrap(), 0x0102);
    }
}
