//! LSPS0 (bLIP-50) `lsps0.list_protocols` round trips, one at a time: calls per second, p50
//! and p99.
//!
//! - lnpeer: two real `lnpeerd` processes. The LSP runs `--lsps-service` with no LSPS plugin,
//!   so it answers `{"protocols": []}` by itself; the client node is asked `lsps-listprotocols`
//!   on its RPC socket, which sends the request over BOLT 8 as message 37913 and waits for the
//!   answer.
//! - LDK: two `lightning-liquidity` 0.2.7 nodes in this process (through `ldk-peer`), the LSP
//!   with the service on and no LSPS2/LSPS5, so it answers `[]` too; the client's
//!   `LSPS0ClientHandler::list_protocols` is driven to its answer event.
//!
//! lnpeer's figure includes what LDK's has no counterpart for: the client's RPC round trip on
//! its Unix socket, and two processes instead of one.

use ldk_peer::{LdkConfig, LdkNode, LiquidityConfig, LspsServiceConfig};
use serde_json::{json, Value};

use crate::daemon::{Daemon, RpcClient};
use crate::report::Report;
use crate::stats::{micros, time_calls, Latencies};

/// Round trips before the samples, to warm both sides up.
const WARM_UP: usize = 100;

/// What both LSPs answer: no LSPS protocol beyond LSPS0 itself.
fn is_empty_protocol_list(result: &Value) -> bool {
    result == &json!({"protocols": []})
}

/// lnpeerd asking lnpeerd.
fn lnpeer_round_trips(samples: usize) -> (Latencies, f64) {
    let lsp = Daemon::start(&["--lsps-service".to_owned()], &[]);
    let client = Daemon::start(&[], &[]);
    client.rpc("connect", json!([lsp.address()]));
    let mut rpc = RpcClient::connect(&client.rpc_path()).expect("an RPC connection");
    let params = json!({"lsp_id": lsp.id});
    time_calls(WARM_UP, samples, || {
        let result = rpc
            .call("lsps-listprotocols", params.clone())
            .unwrap_or_else(|error| panic!("lsps-listprotocols failed: {error}"));
        assert!(
            is_empty_protocol_list(&result),
            "unexpected answer {result}"
        );
    })
}

/// LDK's liquidity manager asking itself. Each call is driven from this thread; LDK's tasks
/// run on the runtime's workers.
fn ldk_round_trips(samples: usize) -> (Latencies, f64) {
    let runtime = crate::runtime();
    let quiet = |label: &str, liquidity| LdkConfig {
        liquidity,
        // Nothing but the measured requests on the connection.
        timer_ticks: false,
        label: label.to_owned(),
        log_level: None,
        ..LdkConfig::default()
    };
    let service = LiquidityConfig {
        service: Some(LspsServiceConfig::default()),
    };
    let (lsp, client) = runtime.block_on(async {
        let lsp = LdkNode::start(quiet("ldk-lsp", service))
            .await
            .expect("the LDK LSP starts");
        let client = LdkNode::start(quiet("ldk-client", LiquidityConfig::default()))
            .await
            .expect("the LDK client starts");
        let address = lsp.listen_addr().expect("the LSP listens");
        client
            .connect(lsp.node_id(), address)
            .await
            .expect("LDK connects to LDK");
        (lsp, client)
    });
    let lsp_id = lsp.node_id();
    let measured = time_calls(WARM_UP, samples, || {
        let protocols = runtime
            .block_on(client.lsps0_list_protocols(lsp_id))
            .unwrap_or_else(|error| panic!("LDK's list_protocols failed: {error:?}"));
        assert!(protocols.is_empty(), "unexpected answer {protocols:?}");
    });
    runtime.block_on(async {
        client.shutdown().await;
        lsp.shutdown().await;
    });
    measured
}

pub(crate) fn measure(report: &mut Report, samples: usize) {
    let (ours, our_rate) = lnpeer_round_trips(samples);
    let (theirs, their_rate) = ldk_round_trips(samples);
    let setting = "LDK: lightning-liquidity 0.2.7 in one process; lnpeer: two lnpeerd, via RPC";
    report.row(
        "LSPS0 list_protocols: round trips/s",
        our_rate,
        their_rate,
        setting,
        None,
    );
    for (quantile, q) in [("p50", 0.5), ("p99", 0.99)] {
        report.row(
            &format!("LSPS0 list_protocols: {quantile} µs"),
            micros(ours.quantile(q)),
            micros(theirs.quantile(q)),
            setting,
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_empty_list_counts_as_the_answer() {
        assert!(is_empty_protocol_list(&json!({"protocols": []})));
        assert!(!is_empty_protocol_list(&json!({"protocols": [2]})));
        assert!(!is_empty_protocol_list(&json!({})));
    }

    /// Both sides for real, a few calls each: `measure` panics on any failed call or wrong
    /// answer. Builds the release `lnpeerd` first.
    #[test]
    #[ignore = "builds and starts release lnpeerd processes"]
    fn every_row_is_measured_against_real_nodes() {
        measure(&mut Report::new(), 20);
    }
}
