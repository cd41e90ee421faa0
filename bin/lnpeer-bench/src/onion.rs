//! Onion messages (BOLT 4, type 513) forwarded by one node: messages per second through it, and
//! the latency it adds.
//!
//! The ends are the same two LDK 0.2.7 nodes for every row, in this process: a sender and a
//! receiver with LDK's `OnionMessenger` and a custom onion message handler (`ldk-peer`). Only
//! the node in the middle changes:
//! - lnpeer: a real `lnpeerd` process, with its per-peer onion message and ping rate limits
//!   raised (see [`FORWARDER_OPTIONS`]);
//! - LDK: a third LDK node in this process.
//!
//! The sender builds each onion (LDK's `create_onion_message`, 1300-byte payloads) through the
//! forwarder to the receiver; the message is one custom TLV holding its sequence number, checked
//! on arrival. The sender is also connected straight to the receiver: the same messages with no
//! forwarder give the reference latency, and "added by the hop" is the forwarded p50 minus the
//! direct p50.

use std::time::{Duration, Instant};

use ldk_peer::lightning::bitcoin::secp256k1::PublicKey;
use ldk_peer::{CustomOnionMessage, LdkConfig, LdkNode, OnionDestination, ReplyPath};
use serde_json::json;

use crate::daemon::Daemon;
use crate::report::Report;
use crate::stats::{micros, Latencies};

/// The custom TLV the messages carry: odd, ≥ 64, and not one LDK reads itself.
const CUSTOM_TLV_TYPE: u64 = 1_000_001;
/// Messages the sender keeps in flight for the rate rows. LDK buffers at most 256 KiB of onion
/// messages per peer (about 190 messages) and drops beyond that, so the window stays below it.
const WINDOW: u64 = 64;
/// Round trips before the latency samples.
const WARM_UP: usize = 100;
/// lnpeerd's options. Its per-peer onion message rate limit (CLN's: a burst of 4, then 4 a
/// second) is raised out of the way, so the rows measure forwarding, not the limiter. So is its
/// ping limit (20, then 10 a second): once LDK has written 32 messages to a peer since the last
/// pong it pings and relays that peer no more onion messages until the pong, so at thousands
/// of messages a second an unanswered ping would stall the sender.
const FORWARDER_OPTIONS: [&str; 4] = [
    "--onion-message-burst=1000000",
    "--onion-messages-per-second=1000000",
    "--ping-burst=1000000",
    "--pings-per-second=1000000",
];
/// How long one message may take before the run is abandoned as broken.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(30);

/// The two LDK ends.
struct Ends {
    sender: LdkNode,
    receiver: LdkNode,
}

impl Ends {
    /// Sends message `sequence` to the receiver through `intermediate` (empty: straight).
    fn send(&self, sequence: u64, intermediate: &[PublicKey]) {
        let message = CustomOnionMessage::new(CUSTOM_TLV_TYPE, sequence.to_be_bytes());
        self.sender
            .send_onion_message(
                message,
                intermediate,
                OnionDestination::Node(self.receiver.node_id()),
                ReplyPath::None,
            )
            .unwrap_or_else(|error| panic!("the sender could not send: {error}"));
    }

    /// Waits for the receiver's next message and returns its sequence number.
    async fn receive(&self, intermediate: &[PublicKey]) -> u64 {
        let received = tokio::time::timeout(ARRIVAL_TIMEOUT, self.receiver.next_onion_message())
            .await
            .unwrap_or_else(|_| panic!("no message through {intermediate:?} within 30 s"))
            .expect("the receiver is running");
        assert_eq!(received.message.tlv_type, CUSTOM_TLV_TYPE);
        let bytes: [u8; 8] = received
            .message
            .bytes
            .as_slice()
            .try_into()
            .expect("an 8-byte sequence number");
        u64::from_be_bytes(bytes)
    }

    /// One message at a time: latencies after [`WARM_UP`].
    async fn latencies(&self, intermediate: &[PublicKey], samples: usize) -> Latencies {
        let mut taken = Vec::with_capacity(samples);
        for n in 0..WARM_UP + samples {
            let sent = Instant::now();
            self.send(n as u64, intermediate);
            assert_eq!(
                self.receive(intermediate).await,
                n as u64,
                "messages out of order"
            );
            if n >= WARM_UP {
                taken.push(sent.elapsed());
            }
        }
        Latencies::new(taken)
    }

    /// `messages` with [`WINDOW`] in flight: arrivals per second. Every message must arrive.
    async fn rate(&self, intermediate: &[PublicKey], messages: u64) -> f64 {
        let started = Instant::now();
        let (mut sent, mut arrived) = (0, 0);
        let mut seen = vec![false; messages as usize];
        while arrived < messages {
            while sent < messages && sent - arrived < WINDOW {
                self.send(sent, intermediate);
                sent += 1;
            }
            let sequence = self.receive(intermediate).await;
            let slot = seen
                .get_mut(sequence as usize)
                .expect("a sequence number that was sent");
            assert!(!*slot, "message {sequence} arrived twice");
            *slot = true;
            arrived += 1;
        }
        messages as f64 / started.elapsed().as_secs_f64()
    }
}

/// An LDK node in this process, quiet: no timer ticks, no logs.
async fn ldk_node(label: &str) -> LdkNode {
    LdkNode::start(LdkConfig {
        timer_ticks: false,
        label: label.to_owned(),
        log_level: None,
        ..LdkConfig::default()
    })
    .await
    .expect("an LDK node starts")
}

/// Connects `from` to `to` and waits for the `init` exchange.
async fn link(from: &LdkNode, to: &LdkNode) {
    let address = to.listen_addr().expect("the node listens");
    from.connect(to.node_id(), address)
        .await
        .expect("LDK connects to LDK");
}

/// What one forwarder measured.
struct Forwarded {
    per_second: f64,
    latencies: Latencies,
}

pub(crate) fn measure(report: &mut Report, samples: usize, messages: u64) {
    let runtime = crate::runtime();
    let (ends, ldk_forwarder) = runtime.block_on(async {
        let ends = Ends {
            sender: ldk_node("ldk-sender").await,
            receiver: ldk_node("ldk-receiver").await,
        };
        let forwarder = ldk_node("ldk-forwarder").await;
        link(&ends.sender, &ends.receiver).await;
        link(&ends.sender, &forwarder).await;
        link(&forwarder, &ends.receiver).await;
        (ends, forwarder)
    });

    let lnpeerd = Daemon::start(&FORWARDER_OPTIONS.map(String::from), &[]);
    let lnpeerd_id: PublicKey = lnpeerd.id.parse().expect("lnpeerd's node id");
    let receiver_address = ends.receiver.listen_addr().expect("the receiver listens");
    lnpeerd.rpc(
        "connect",
        json!([format!("{}@{receiver_address}", ends.receiver.node_id())]),
    );
    runtime.block_on(async {
        ends.sender
            .connect(lnpeerd_id, ([127, 0, 0, 1], lnpeerd.port).into())
            .await
            .expect("LDK connects to lnpeerd");
        ends.receiver.wait_connected(lnpeerd_id).await;
    });

    let (direct, ours, theirs) = runtime.block_on(async {
        let direct = ends.latencies(&[], samples).await;
        let forwarded = |forwarder: PublicKey| {
            let ends = &ends;
            async move {
                let latencies = ends.latencies(&[forwarder], samples).await;
                let per_second = ends.rate(&[forwarder], messages).await;
                Forwarded {
                    per_second,
                    latencies,
                }
            }
        };
        let ours = forwarded(lnpeerd_id).await;
        let theirs = forwarded(ldk_forwarder.node_id()).await;
        (direct, ours, theirs)
    });
    runtime.block_on(async {
        ends.sender.shutdown().await;
        ends.receiver.shutdown().await;
        ldk_forwarder.shutdown().await;
    });

    let setting = format!(
        "LDK ends (sender, receiver) for both; forwarder lnpeerd with its onion and ping rate limits raised, or LDK; {WINDOW} in flight"
    );
    report.row(
        "onion message, 1 forwarding hop: msgs/s",
        ours.per_second,
        theirs.per_second,
        &setting,
        None,
    );
    let one_at_a_time = "one at a time, LDK ends";
    for (quantile, q) in [("p50", 0.5), ("p99", 0.99)] {
        report.row(
            &format!("onion message, 1 forwarding hop: {quantile} µs"),
            micros(ours.latencies.quantile(q)),
            micros(theirs.latencies.quantile(q)),
            one_at_a_time,
            None,
        );
    }
    let added = |forwarded: &Forwarded| micros(forwarded.latencies.p50()) - micros(direct.p50());
    report.row(
        "onion message: p50 µs added by the hop",
        added(&ours),
        added(&theirs),
        &format!(
            "forwarded p50 minus the direct p50 ({:.1} µs, sender straight to receiver)",
            micros(direct.p50())
        ),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row for real, a few messages each: `measure` panics on a lost, repeated or
    /// wrong message. Builds the release `lnpeerd` first.
    #[test]
    #[ignore = "builds and starts a release lnpeerd process"]
    fn every_row_is_measured_through_real_forwarders() {
        measure(&mut Report::new(), 20, 2 * WINDOW);
    }
}
