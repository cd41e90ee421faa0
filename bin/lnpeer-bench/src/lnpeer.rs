//! lnpeer's side of the benchmark: two or more `PeerManager`s in this process, on loopback,
//! driven through the same public API an embedder uses.
//!
//! - Sending uses `send_custom_waiting`, which waits for room in the peer's byte-bounded queue
//!   (1 MiB by default) instead of failing: that queue is lnpeer's in-flight window, so there is
//!   nothing to sweep.
//! - Receiving uses a `CustomMessageSink`: each connection's reader hands messages to a bounded
//!   queue and waits when it is full, so a count of what arrived is exact.

use std::sync::Arc;
use std::time::{Duration, Instant};

use peer_manager::{CustomMessageSink, PeerManager, PeerManagerConfig};
use secp256k1::{PublicKey, SecretKey};
use tokio::sync::mpsc;
use wire::ChainHash;

use crate::stats::{Latencies, Throughput};

/// The custom type the benchmark sends (odd).
const BENCH_TYPE: [u8; 2] = [0x80, 0x01];

/// Messages a connection's reader may hand over before it waits for the consumer.
const SINK_QUEUE: usize = 1024;

fn random_key() -> SecretKey {
    loop {
        if let Ok(key) = SecretKey::from_slice(&crate::random_bytes()) {
            return key;
        }
    }
}

async fn manager(listen: bool) -> PeerManager {
    let mut config = PeerManagerConfig::new(random_key(), ChainHash::REGTEST, 9735);
    // No inbound rate limit (0 is unlimited): these benchmarks measure throughput, which the
    // default of 32 MiB/s per peer would cap.
    config.inbound_bytes_per_second = 0;
    if listen {
        config.listen = vec![([127, 0, 0, 1], 0).into()];
    }
    PeerManager::start(config).await.expect("a peer manager")
}

/// A sink that hands every connection the same queue (the benchmarks have one connection).
struct Shared(mpsc::Sender<Vec<u8>>);

impl CustomMessageSink for Shared {
    fn open(&self, _: PublicKey) -> mpsc::Sender<Vec<u8>> {
        self.0.clone()
    }
}

/// `a` dials `b`; returns when `init` is done on both sides.
async fn dial(a: &PeerManager, b: &PeerManager) {
    let mut b_events = b.subscribe();
    let address = b.listen_addrs()[0];
    a.connect(b.node_id(), &address.ip().to_string(), address.port())
        .await
        .expect("a connects to b");
    while b.peer(&a.node_id()).and_then(|p| p.connection).is_none() {
        let _ = b_events.recv().await;
    }
}

/// A message of `len` bytes in all carrying `seq` after the type.
fn numbered(seq: u64, len: usize) -> Vec<u8> {
    let mut message = Vec::with_capacity(len);
    message.extend_from_slice(&BENCH_TYPE);
    message.extend_from_slice(&seq.to_be_bytes()[..len.saturating_sub(2).min(8)]);
    message.resize(len, 0x5a);
    message
}

/// See `crate::ldk::handshakes`: connect + handshake + both inits, then disconnect, by
/// `connectors` dialling managers (each its own node id) in parallel, for `duration`.
pub(crate) fn handshakes(connectors: usize, duration: Duration) -> f64 {
    crate::runtime().block_on(async {
        let server = manager(true).await;
        let address = server.listen_addrs()[0];
        let host = address.ip().to_string();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connectors {
            let client = manager(false).await;
            let server_id = server.node_id();
            let host = host.clone();
            tasks.push(tokio::spawn(async move {
                let mut events = client.subscribe();
                let mut done = 0u64;
                while started.elapsed() < duration {
                    client
                        .connect(server_id, &host, address.port())
                        .await
                        .expect("a handshake");
                    done += 1;
                    client.disconnect(&server_id);
                    // `connect` returns an existing connection, so wait until this one is gone.
                    while client.peer(&server_id).and_then(|p| p.connection).is_some() {
                        let _ = events.recv().await;
                    }
                }
                client.shutdown().await;
                done
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("a connector");
        }
        let elapsed = started.elapsed();
        server.shutdown().await;
        total as f64 / elapsed.as_secs_f64()
    })
}

/// See `crate::ldk::one_way`: `messages` of `message_len` bytes from A to B on one connection.
pub(crate) fn one_way(message_len: usize, messages: u64) -> Throughput {
    crate::runtime().block_on(async {
        let a = manager(false).await;
        let b = manager(true).await;
        let (sink, mut received) = mpsc::channel(SINK_QUEUE);
        b.set_custom_sink(Arc::new(Shared(sink)));
        dial(&a, &b).await;
        let b_id = b.node_id();
        let started = Instant::now();
        let sender = {
            let a = a.clone();
            tokio::spawn(async move {
                for seq in 0..messages {
                    a.send_custom_waiting(&b_id, numbered(seq, message_len))
                        .await
                        .expect("a send");
                }
            })
        };
        let mut count = 0u64;
        let mut batch = Vec::with_capacity(SINK_QUEUE);
        let mut last = Vec::new();
        while count < messages {
            let n = received.recv_many(&mut batch, SINK_QUEUE).await;
            assert!(n > 0, "b's queue closed early");
            count += n as u64;
            last = batch.pop().expect("a batch");
            batch.clear();
        }
        let elapsed = started.elapsed();
        sender.await.expect("the sender");
        assert_eq!(
            last,
            numbered(messages - 1, message_len),
            "the last message"
        );
        a.shutdown().await;
        b.shutdown().await;
        Throughput {
            messages,
            message_len,
            elapsed,
        }
    })
}

/// See `crate::ldk::echo`: A sends one message, B echoes it, A times the round trip.
pub(crate) fn echo(message_len: usize, samples: usize) -> Latencies {
    crate::runtime().block_on(async {
        let a = manager(false).await;
        let b = manager(true).await;
        let (a_sink, mut a_received) = mpsc::channel(SINK_QUEUE);
        let (b_sink, mut b_received) = mpsc::channel::<Vec<u8>>(SINK_QUEUE);
        a.set_custom_sink(Arc::new(Shared(a_sink)));
        b.set_custom_sink(Arc::new(Shared(b_sink)));
        dial(&a, &b).await;
        let (a_id, b_id) = (a.node_id(), b.node_id());
        let echoer = {
            let b = b.clone();
            tokio::spawn(async move {
                while let Some(message) = b_received.recv().await {
                    if b.send_custom_waiting(&a_id, message).await.is_err() {
                        return;
                    }
                }
            })
        };
        let warm_up = samples / 10;
        let mut times = Vec::with_capacity(samples);
        for seq in 0..(warm_up + samples) as u64 {
            let message = numbered(seq, message_len);
            let sent = Instant::now();
            a.send_custom(&b_id, message.clone()).expect("a send");
            let back = a_received.recv().await.expect("the echo");
            let took = sent.elapsed();
            assert_eq!(back, message);
            if seq as usize >= warm_up {
                times.push(took);
            }
        }
        a.shutdown().await;
        b.shutdown().await;
        echoer.abort();
        Latencies::new(times)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_arrives_in_a_short_run() {
        let run = one_way(1_000, 2_000);
        assert_eq!(run.messages, 2_000);
        assert!(run.per_second() > 0.0);
    }

    #[test]
    fn the_largest_message_goes_through() {
        assert_eq!(one_way(65_535, 20).messages, 20);
    }

    #[test]
    fn echo_and_handshakes_complete() {
        assert_eq!(echo(32, 50).len(), 50);
        assert!(handshakes(2, Duration::from_millis(200)) > 0.0);
    }
}

/// For profiling one side alone: `cargo test --release -p lnpeer-bench profile_one_way -- --ignored`.
#[cfg(test)]
#[test]
#[ignore = "a profiling aid, not a check"]
fn profile_one_way() {
    for len in [32, 1024, 60_000] {
        let messages = if len > 10_000 { 20_000 } else { 1_000_000 };
        let run = one_way(len, messages);
        eprintln!(
            "{len} B: {:.0} msgs/s, {:.1} MB/s",
            run.per_second(),
            run.megabytes_per_second()
        );
    }
}

/// For profiling handshakes alone: `cargo test --release -p lnpeer-bench profile_handshakes -- --ignored`.
#[cfg(test)]
#[test]
#[ignore = "a profiling aid, not a check"]
fn profile_handshakes() {
    eprintln!("{:.0} handshakes/s", handshakes(1, Duration::from_secs(3)));
}
