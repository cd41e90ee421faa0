//! Commando round trips through real `lnpeerd` processes (LDK has no RPC, so these rows are
//! lnpeer's alone). A client node calls `commando <server> getinfo` on its own socket; the
//! server node checks the rune, runs `getinfo` through its dispatcher and replies over the same
//! BOLT 8 connection:
//! - one call at a time: calls per second, p50 and p99;
//! - many at once: [`CLIENTS`] connections to the client node's socket, [`WINDOW`] calls in
//!   flight on each.
//!
//! Each figure is printed beside the same `getinfo` on the server node's own socket, measured
//! the same way in the same run: the same command through the same dispatcher, without the
//! two Lightning hops, the rune check and the client's bookkeeping.
//!
//! The server's per-peer call limit (the limits table's `commando-burst`, 10, then
//! `commando-calls-per-second`, 2) would make these rows measure the limiter, so the server
//! runs with `--commando-calls-per-second=0` (no limit).

use std::path::Path;

use serde_json::{json, Value};

use crate::daemon::{pipelined_calls, Daemon, RpcClient};
use crate::report::Report;
use crate::stats::{micros, time_calls, Latencies};

/// Concurrent RPC connections, and calls each keeps in flight.
const CLIENTS: usize = 4;
const WINDOW: usize = 16;
/// Round trips before the samples, to warm both nodes up.
const WARM_UP: usize = 100;
/// The server's options: the per-peer call limit off.
const SERVER_OPTIONS: [&str; 1] = ["--commando-calls-per-second=0"];
/// The rune's restrictions: `getinfo` only, as an app that only shows a node's status gets.
const RUNE_RESTRICTIONS: &str = "method=getinfo";

/// One way of calling the server's `getinfo`.
#[derive(Debug, Clone)]
enum GetInfo {
    /// On the server's own socket: the reference.
    Local,
    /// `commando` on the client's socket.
    Commando { server: String, rune: String },
}

impl GetInfo {
    fn method(&self) -> &'static str {
        match self {
            GetInfo::Local => "getinfo",
            GetInfo::Commando { .. } => "commando",
        }
    }

    fn params(&self) -> Value {
        match self {
            GetInfo::Local => json!({}),
            GetInfo::Commando { server, rune } => {
                json!({"peer_id": server, "method": "getinfo", "params": {}, "rune": rune})
            }
        }
    }

    /// Request `id`, serialized.
    fn request(&self, id: u64) -> String {
        json!({"jsonrpc": "2.0", "id": id, "method": self.method(), "params": self.params()})
            .to_string()
    }
}

/// Whether `result` is `server`'s `getinfo`: a commando reply that came back empty or from
/// the wrong place would otherwise pass for a fast call.
fn is_getinfo_of(result: &Value, server: &str) -> bool {
    result["id"].as_str() == Some(server) && result["num_peers"].is_u64()
}

/// Sequential calls: the latencies after [`WARM_UP`], and calls per second over them.
fn one_at_a_time(path: &Path, call: &GetInfo, server: &str, samples: usize) -> (Latencies, f64) {
    let mut client = RpcClient::connect(path).expect("an RPC connection");
    time_calls(WARM_UP, samples, || {
        let result = client
            .call(call.method(), call.params())
            .unwrap_or_else(|error| panic!("{} failed: {error}", call.method()));
        assert!(
            is_getinfo_of(&result, server),
            "not the server's getinfo: {result}"
        );
    })
}

pub(crate) fn measure(report: &mut Report, samples: usize, calls: u64) {
    let server = Daemon::start(&SERVER_OPTIONS.map(String::from), &[]);
    let client = Daemon::start(&[], &[]);
    client.rpc("connect", json!([server.address()]));
    let created = server.rpc("createrune", json!({"restrictions": [[RUNE_RESTRICTIONS]]}));
    let rune = created["rune"]
        .as_str()
        .expect("createrune.rune")
        .to_owned();
    let local = GetInfo::Local;
    let remote = GetInfo::Commando {
        server: server.id.clone(),
        rune,
    };
    let limit_off = "server with --commando-calls-per-second=0 (no per-peer limit)";
    let reference = "the local socket's";

    let (local_latency, local_rate) =
        one_at_a_time(&server.rpc_path(), &local, &server.id, samples);
    let (remote_latency, remote_rate) =
        one_at_a_time(&client.rpc_path(), &remote, &server.id, samples);
    let what = format!("server node's own socket, one call at a time, {samples} calls");
    report.ours("getinfo, local socket: calls/s", local_rate, &what);
    report.ours_against(
        "commando getinfo: calls/s",
        remote_rate,
        local_rate,
        reference,
        &format!("one call at a time; {limit_off}"),
    );
    for (quantile, local, remote) in [
        ("p50", local_latency.p50(), remote_latency.p50()),
        ("p99", local_latency.p99(), remote_latency.p99()),
    ] {
        report.ours(
            &format!("getinfo, local socket: {quantile} µs"),
            micros(local),
            &what,
        );
        report.ours_against(
            &format!("commando getinfo: {quantile} µs"),
            micros(remote),
            micros(local),
            reference,
            "one call at a time",
        );
    }

    let concurrency = format!("{CLIENTS} clients, {WINDOW} in flight each");
    let local_run = pipelined_calls(&server.rpc_path(), CLIENTS, WINDOW, calls, {
        let local = local.clone();
        move |seq| local.request(seq)
    });
    let remote_run = pipelined_calls(&client.rpc_path(), CLIENTS, WINDOW, calls, {
        let remote = remote.clone();
        move |seq| remote.request(seq)
    });
    for (what, run) in [("getinfo", &local_run), ("commando", &remote_run)] {
        if let Some(error) = &run.first_error {
            panic!(
                "{} of {} {what} calls failed, the first with {error}",
                run.errors, run.calls
            );
        }
    }
    report.ours(
        &format!("getinfo, local socket ({concurrency}): calls/s"),
        local_run.per_second(),
        &format!("server node's own socket, {} calls", local_run.calls),
    );
    report.ours_against(
        &format!("commando getinfo ({concurrency}): calls/s"),
        remote_run.per_second(),
        local_run.per_second(),
        reference,
        &format!("{} calls; {limit_off}", remote_run.calls),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_getinfo_locally_or_through_commando() {
        let local: Value = serde_json::from_str(&GetInfo::Local.request(3)).unwrap();
        assert_eq!(
            local,
            json!({"jsonrpc": "2.0", "id": 3, "method": "getinfo", "params": {}})
        );
        let remote = GetInfo::Commando {
            server: "02aa".into(),
            rune: "r".into(),
        };
        let remote: Value = serde_json::from_str(&remote.request(4)).unwrap();
        assert_eq!(remote["id"], 4);
        assert_eq!(remote["method"], "commando");
        assert_eq!(
            remote["params"],
            json!({"peer_id": "02aa", "method": "getinfo", "params": {}, "rune": "r"})
        );
    }

    #[test]
    fn only_the_servers_getinfo_counts_as_an_answer() {
        assert!(is_getinfo_of(
            &json!({"id": "02aa", "num_peers": 1}),
            "02aa"
        ));
        assert!(!is_getinfo_of(
            &json!({"id": "03bb", "num_peers": 1}),
            "02aa"
        ));
        assert!(!is_getinfo_of(&json!({}), "02aa"));
    }

    /// Both nodes for real, a few calls of each kind: `measure` panics on any failed call or
    /// wrong answer. Builds the release `lnpeerd` first.
    #[test]
    #[ignore = "builds and starts release lnpeerd processes"]
    fn every_row_is_measured_against_real_nodes() {
        measure(&mut Report::new(), 20, 4 * (CLIENTS * WINDOW) as u64);
    }
}
