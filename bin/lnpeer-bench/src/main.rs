//! `lnpeer-bench`: lnpeer and LDK 0.2.7 on the same work, on loopback, in one run.
//!
//! ```text
//! cargo run --release -p lnpeer-bench -- [--quick]
//!     [--only=handshakes,throughput,echo,rpc,commando,lsps,onion,idle] [--idle-peers=N]
//! ```
//!
//! Each implementation talks to itself, in a fresh runtime per measurement. The table gives
//! lnpeer, LDK at its best setting (for throughput: the best in-flight window and TCP_NODELAY
//! cell of a sweep), their ratio, and for throughput the ratio to the bare AEAD limit. The RPC,
//! commando, LSPS, onion and idle-peer rows run real `lnpeerd` processes (built by this tool with
//! cargo first); the commando rows are each printed beside the same `getinfo` on a local
//! socket, the LSPS rows beside LDK's liquidity manager asking itself, and the onion rows
//! forward between the same two LDK nodes through lnpeerd or through a third LDK node.
//!
//! The same binary is also the helper processes those rows need: a CLN plugin when `lnpeerd`
//! starts it (`LIGHTNINGD_PLUGIN=1`), and the idle peers' client process (`idle-clients`).

mod aead;
mod commando;
mod daemon;
mod floor;
mod idle;
mod ldk;
mod lnpeer;
mod lsps;
mod onion;
mod report;
mod rpc_path;
mod stats;

use std::time::Duration;

use report::Report;

/// 32 random bytes from the kernel (node keys, LDK's ephemeral-key entropy).
fn random_bytes() -> [u8; 32] {
    use std::io::Read;
    let mut bytes = [0; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .expect("/dev/urandom");
    bytes
}

/// A fresh runtime for one measurement, as the machine has: two workers.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The sections `--only` picks from, in the order they run.
const SECTIONS: [&str; 8] = [
    "handshakes",
    "throughput",
    "echo",
    "rpc",
    "commando",
    "lsps",
    "onion",
    "idle",
];

/// What to run, from the command line.
struct Options {
    quick: bool,
    only: Option<Vec<String>>,
    idle_peers: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            quick: false,
            only: None,
            idle_peers: 10_000,
        };
        for arg in args {
            if arg == "--quick" {
                options.quick = true;
            } else if let Some(list) = arg.strip_prefix("--only=") {
                let only: Vec<String> = list.split(',').map(str::to_owned).collect();
                if let Some(unknown) = only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!(
                        "unknown section {unknown} in --only (sections: {})",
                        SECTIONS.join(",")
                    ));
                }
                options.only = Some(only);
            } else if let Some(n) = arg.strip_prefix("--idle-peers=") {
                options.idle_peers = n.parse().map_err(|_| format!("bad --idle-peers: {n}"))?;
            } else {
                return Err(format!("unknown argument {arg}"));
            }
        }
        Ok(options)
    }

    fn wants(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|s| s == section))
    }

    /// `full` normally, a tenth with `--quick`.
    fn count(&self, full: u64) -> u64 {
        if self.quick {
            (full / 10).max(1)
        } else {
            full
        }
    }
}

/// Message sizes of the throughput rows, type included, and how many of each to send.
const THROUGHPUT_CASES: [(usize, u64); 3] = [(32, 1_500_000), (1024, 500_000), (60_000, 20_000)];
/// How long each LDK throughput cell should run.
const LDK_CELL_SECONDS: f64 = 1.5;
/// LDK's in-flight windows to sweep.
const LDK_WINDOWS: [usize; 5] = [64, 256, 1024, 4096, 16_384];

fn main() {
    if std::env::var_os("LIGHTNINGD_PLUGIN").is_some() {
        rpc_path::run_plugin();
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("idle-clients") {
        idle::run_clients(&args[1..]);
        return;
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("lnpeer-bench: {error}");
            std::process::exit(2);
        }
    };
    let mut report = Report::new();

    if options.wants("handshakes") {
        let duration = Duration::from_secs(if options.quick { 1 } else { 3 });
        for connectors in [1, 8] {
            let ours = lnpeer::handshakes(connectors, duration);
            let theirs = ldk::handshakes(connectors, duration);
            report.row(
                &format!("handshakes/s, {connectors} connector(s)"),
                ours,
                theirs,
                "",
                None,
            );
        }
    }

    if options.wants("throughput") {
        for (len, full) in THROUGHPUT_CASES {
            let messages = options.count(full);
            let ours = lnpeer::one_way(len, messages);
            let mut best: Option<(stats::Throughput, usize, bool)> = None;
            for window in LDK_WINDOWS {
                for nodelay in [true, false] {
                    // Some cells crawl (Nagle with a small window: a few thousand msgs/s), so
                    // a short probe sizes each cell to about a second and a half.
                    let probe = ldk::one_way(len, (messages / 100).max(200), window, nodelay);
                    let sized = (probe.per_second() * LDK_CELL_SECONDS) as u64;
                    let run = ldk::one_way(len, sized.clamp(200, messages), window, nodelay);
                    if best.is_none_or(|(b, _, _)| run.per_second() > b.per_second()) {
                        best = Some((run, window, nodelay));
                    }
                }
            }
            let (theirs, window, nodelay) = best.expect("at least one LDK cell");
            let limit = aead::messages_per_second(len);
            let setting = format!(
                "window {window}, TCP_NODELAY {}",
                if nodelay { "on" } else { "off" }
            );
            report.row(
                &format!("one-way {len} B: msgs/s"),
                ours.per_second(),
                theirs.per_second(),
                &setting,
                Some(ours.per_second() / limit),
            );
            report.row(
                &format!("one-way {len} B: MB/s"),
                ours.megabytes_per_second(),
                theirs.megabytes_per_second(),
                &setting,
                None,
            );
        }
    }

    if options.wants("echo") {
        let samples = options.count(20_000) as usize;
        let ours = lnpeer::echo(32, samples);
        let (theirs, nodelay) = [true, false]
            .map(|nodelay| (ldk::echo(32, samples, nodelay), nodelay))
            .into_iter()
            .min_by_key(|(latencies, _)| latencies.p50())
            .expect("two LDK runs");
        let setting = format!("TCP_NODELAY {}", if nodelay { "on" } else { "off" });
        report.row(
            "echo 32 B: p50 µs",
            stats::micros(ours.p50()),
            stats::micros(theirs.p50()),
            &setting,
            None,
        );
        report.row(
            "echo 32 B: p99 µs",
            stats::micros(ours.p99()),
            stats::micros(theirs.p99()),
            &setting,
            None,
        );
        let floor = floor::tcp_echo(32, samples);
        let what = "plain TCP ping-pong between two tokio tasks: no BOLT 8, no Lightning";
        report.ours("echo floor 32 B: p50 µs", stats::micros(floor.p50()), what);
        report.ours("echo floor 32 B: p99 µs", stats::micros(floor.p99()), what);
    }

    if options.wants("rpc") {
        let calls = options.count(300_000);
        rpc_path::measure(&mut report, calls, options.count(5_000) as usize);
    }

    if options.wants("commando") {
        let samples = options.count(5_000) as usize;
        commando::measure(&mut report, samples, options.count(50_000));
    }

    if options.wants("lsps") {
        lsps::measure(&mut report, options.count(5_000) as usize);
    }

    if options.wants("onion") {
        onion::measure(
            &mut report,
            options.count(5_000) as usize,
            options.count(50_000),
        );
    }

    if options.wants("idle") {
        let peers = if options.quick {
            options.idle_peers.min(1_000)
        } else {
            options.idle_peers
        };
        idle::measure(&mut report, peers);
    }

    report.print();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn only_picks_known_sections() {
        let options = parse(&["--only=rpc,commando"]).unwrap();
        assert!(options.wants("commando") && options.wants("rpc"));
        assert!(!options.wants("idle"));
        assert!(parse(&[]).unwrap().wants("commando"));
        let error = parse(&["--only=comando"]).err().unwrap();
        assert!(error.starts_with("unknown section comando"), "{error}");
    }
}
