//! lnpeer's side of the benchmark: two or more `PeerManager`s in this process, on loopback,
//! driven through the same public API an embedder uses.
//!
//! - Sending uses `send_custom_waiting`, which waits for room in the peer's byte-bounded queue
//!   (1 MiB by default) instead of failing: that queue is lnpeer's in-flight window, so there is
//!   nothing to sweep.
//! - Receiving uses a `CustomMessageHandler`, called on the connection's reader with a slice of
//!   the read buffer, the counterpart of LDK's `CustomMessageHandler`; what it sends is written
//!   when the reader has handled its batch.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use node_config::DialAddress;
use peer_manager::{CustomMessageHandler, PeerManager, PeerManagerConfig, SendBatch};
use secp256k1::{PublicKey, SecretKey};
use tokio::sync::Notify;
use wire::ChainHash;

use crate::stats::{Latencies, Throughput};

/// The custom type the benchmark sends (odd).
const BENCH_TYPE: [u8; 2] = [0x80, 0x01];

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
    config.limits.peer_inbound_rate = 0;
    if listen {
        config.listen = vec![([127, 0, 0, 1], 0).into()];
    }
    PeerManager::start(config).await.expect("a peer manager")
}

/// `a` dials `b`; returns when `init` is done on both sides.
async fn dial(a: &PeerManager, b: &PeerManager) {
    let mut b_events = b.subscribe();
    let address = b.listen_addrs()[0];
    a.connect(
        b.node_id(),
        &DialAddress::new(address.ip().to_string(), Some(address.port())),
    )
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
        let target = DialAddress::new(address.ip().to_string(), Some(address.port()));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connectors {
            let client = manager(false).await;
            let server_id = server.node_id();
            let target = target.clone();
            tasks.push(tokio::spawn(async move {
                let mut events = client.subscribe();
                let mut done = 0u64;
                while started.elapsed() < duration {
                    client
                        .connect(server_id, &target)
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

/// The sequence number `numbered` put after the type.
fn seq_of(message: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = message.get(2..10)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// B's handler in `one_way`: counts what arrives on B's reader, checks the order, and notes
/// when the last message came.
struct Counter {
    expected: u64,
    received: AtomicU64,
    in_order: AtomicBool,
    done_at: Mutex<Option<Instant>>,
    done: Notify,
}

impl CustomMessageHandler for Counter {
    fn handle(&self, _: &PublicKey, message: &[u8], _: &mut SendBatch<'_>) {
        let count = self.received.fetch_add(1, Ordering::AcqRel);
        // Messages shorter than 10 bytes carry a truncated number; only whole ones are checked.
        if message.len() >= 10 && seq_of(message) != Some(count) {
            self.in_order.store(false, Ordering::Release);
        }
        if count + 1 == self.expected {
            *self.done_at.lock().expect("the done lock") = Some(Instant::now());
            self.done.notify_one();
        }
    }
}

/// See `crate::ldk::one_way`: `messages` of `message_len` bytes from A to B on one connection.
/// A sends with `send_custom_waiting` (its queue is the window); B counts in a
/// `CustomMessageHandler`, on its reader, as LDK's handler does.
pub(crate) fn one_way(message_len: usize, messages: u64) -> Throughput {
    crate::runtime().block_on(async {
        let a = manager(false).await;
        let b = manager(true).await;
        let counter = Arc::new(Counter {
            expected: messages,
            received: AtomicU64::new(0),
            in_order: AtomicBool::new(true),
            done_at: Mutex::new(None),
            done: Notify::new(),
        });
        b.set_custom_handler(counter.clone());
        dial(&a, &b).await;
        let b_id = b.node_id();
        let started = Instant::now();
        let sender = {
            let a = a.clone();
            tokio::spawn(async move {
                let mut message = numbered(0, message_len);
                for seq in 0..messages {
                    if message_len >= 10 {
                        message[2..10].copy_from_slice(&seq.to_be_bytes());
                    }
                    a.send_custom_waiting(&b_id, &message)
                        .await
                        .expect("a send");
                }
            })
        };
        let done = counter.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        if counter.received.load(Ordering::Acquire) < messages {
            done.await;
        }
        let finished = counter
            .done_at
            .lock()
            .expect("the done lock")
            .expect("the last arrival");
        sender.await.expect("the sender");
        assert_eq!(counter.received.load(Ordering::Acquire), messages);
        assert!(
            counter.in_order.load(Ordering::Acquire),
            "B received them in order"
        );
        a.shutdown().await;
        b.shutdown().await;
        Throughput {
            messages,
            message_len,
            elapsed: finished - started,
        }
    })
}

/// B's handler in `echo`: sends each message straight back from B's reader.
struct Echo;

impl CustomMessageHandler for Echo {
    fn handle(&self, from: &PublicKey, message: &[u8], replies: &mut SendBatch<'_>) {
        // A full queue cannot happen with one message in flight; a closed one ends the run.
        let _ = replies.send_custom(from, message);
    }
}

/// A's handler in `echo`: notes when the echo arrived, on A's reader, and wakes the driver.
#[derive(Default)]
struct Arrival {
    back: Mutex<Option<(Vec<u8>, Instant)>>,
    wake: Notify,
}

impl CustomMessageHandler for Arrival {
    fn handle(&self, _: &PublicKey, message: &[u8], _: &mut SendBatch<'_>) {
        let at = Instant::now();
        *self.back.lock().expect("the arrival lock") = Some((message.to_vec(), at));
        self.wake.notify_one();
    }
}

/// See `crate::ldk::echo`: A sends one message, B's handler echoes it, and A's handler stamps
/// its arrival (as the LDK side does, so neither counts waking the driving task).
pub(crate) fn echo(message_len: usize, samples: usize) -> Latencies {
    crate::runtime().block_on(async {
        let a = manager(false).await;
        let b = manager(true).await;
        let arrival = Arc::new(Arrival::default());
        a.set_custom_handler(arrival.clone());
        b.set_custom_handler(Arc::new(Echo));
        dial(&a, &b).await;
        let b_id = b.node_id();
        let warm_up = samples / 10;
        let mut times = Vec::with_capacity(samples);
        for seq in 0..(warm_up + samples) as u64 {
            let message = numbered(seq, message_len);
            let sent = Instant::now();
            a.send_custom(&b_id, &message).expect("a send");
            let (back, at) = loop {
                let woken = arrival.wake.notified();
                if let Some(back) = arrival.back.lock().expect("the arrival lock").take() {
                    break back;
                }
                woken.await;
            };
            assert_eq!(back, message);
            if seq as usize >= warm_up {
                times.push(at - sent);
            }
        }
        a.shutdown().await;
        b.shutdown().await;
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
    eprintln!("{:.0} handshakes/s", handshakes(8, Duration::from_secs(3)));
}

/// For profiling echo alone, beside LDK's and the plain-TCP floor:
/// `cargo test --release -p lnpeer-bench profile_echo -- --ignored --nocapture`; set
/// `LNPEER_ECHO_ONLY=lnpeer|ldk|floor` to run one of them (for `perf stat`).
#[cfg(test)]
#[test]
#[ignore = "a profiling aid, not a check"]
fn profile_echo() {
    let only = std::env::var("LNPEER_ECHO_ONLY").unwrap_or_default();
    let samples = 20_000;
    if only.is_empty() || only == "lnpeer" {
        eprintln!("lnpeer p50 {:?}", echo(32, samples).p50());
    }
    if only.is_empty() || only == "ldk" {
        eprintln!("ldk p50 {:?}", crate::ldk::echo(32, samples, true).p50());
    }
    if only.is_empty() || only == "floor" {
        eprintln!("floor p50 {:?}", crate::floor::tcp_echo(32, samples).p50());
    }
}
