//! Many idle peers on one `lnpeerd`: the clients run in another process (this binary with
//! `idle-clients`), each with its own node id, doing the BOLT 8 handshake and `init` and then
//! nothing. The node's resident memory before and after, divided by the peers, is the cost of
//! an idle peer; the time until `getinfo` counts them all is the time to connect them.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use noise_transport::{InitiatorHandshake, PublicKey, SecretKey, ACT_TWO_LEN};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wire::ChainHash;

use crate::daemon::{rss_bytes, Daemon};
use crate::report::Report;

/// Handshakes the client process runs at once.
const PARALLEL: usize = 256;

pub(crate) fn measure(report: &mut Report, peers: usize) {
    // Idle peers without channels are what is measured, many more than the default cap of
    // 250. And the node reads a client's `init` after the client has moved on to its next
    // handshake, so more than PARALLEL can be pending at once: with both caps at `peers`,
    // neither one closes anything.
    let node = Daemon::start(
        &[
            format!("--max-inbound-peers-without-channel={peers}"),
            format!("--max-pending-handshakes={peers}"),
        ],
        &[],
    );
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_bytes(node.pid());
    let started = Instant::now();
    let mut clients = Command::new(std::env::current_exe().expect("this binary's path"))
        .arg("idle-clients")
        .arg(format!("127.0.0.1:{}", node.port))
        .arg(&node.id)
        .arg(peers.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the client process starts");
    let mut ready = String::new();
    BufReader::new(clients.stdout.take().expect("the clients' stdout"))
        .read_line(&mut ready)
        .expect("the clients report");
    assert!(ready.starts_with("ready"), "the clients failed: {ready}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while node.rpc("getinfo", json!([]))["num_peers"].as_u64() != Some(peers as u64) {
        assert!(Instant::now() < deadline, "not every peer connected");
        std::thread::sleep(Duration::from_millis(10));
    }
    let connect_time = started.elapsed();
    // Let allocator and kernel settle before reading memory.
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_bytes(node.pid());
    let per_peer = after.saturating_sub(before) as f64 / peers as f64 / 1024.0;
    report.ours(
        &format!("{peers} idle peers: RSS per peer, KiB"),
        per_peer,
        &format!(
            "lnpeerd RSS {:.1} MiB before, {:.1} MiB after",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0
        ),
    );
    report.ours(
        &format!("{peers} idle peers: seconds to connect all"),
        connect_time.as_secs_f64(),
        &format!("{PARALLEL} handshakes at a time from one client process"),
    );
    if let Some(mut stdin) = clients.stdin.take() {
        let _ = stdin.write_all(b"done\n");
    }
    let _ = clients.kill();
    let _ = clients.wait();
}

/// The client process: `idle-clients <host:port> <node id> <count>`. Prints `ready <ms>` once
/// every connection has finished `init`, then holds them until stdin closes.
pub(crate) fn run_clients(args: &[String]) {
    let [address, id, count] = args else {
        eprintln!("usage: lnpeer-bench idle-clients <host:port> <node id> <count>");
        std::process::exit(2);
    };
    let node: PublicKey = id.parse().expect("a node id");
    let count: usize = count.parse().expect("a count");
    let runtime = crate::runtime();
    let started = Instant::now();
    let streams = runtime.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let tasks: Vec<_> = (0..count)
            .map(|index| {
                let permits = permits.clone();
                let address = address.clone();
                tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await.expect("the semaphore");
                    connect(&address, &node, index).await
                })
            })
            .collect();
        let mut streams = Vec::with_capacity(count);
        for task in tasks {
            match task.await.expect("a client task") {
                Ok(stream) => streams.push(stream),
                Err(error) => {
                    println!("failed: {error}");
                    std::process::exit(1);
                }
            }
        }
        streams
    });
    println!("ready {}", started.elapsed().as_millis());
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(streams);
}

/// Handshake as initiator with a fresh key, send our `init`, read the node's.
///
/// Connection `index` comes from source address 127.0.0.(2 + index % 250): each source address
/// has its own ephemeral ports, so 10,000 connections fit even when the runs before this one
/// left most of 127.0.0.1's ports in TIME_WAIT.
async fn connect(address: &str, node: &PublicKey, index: usize) -> Result<TcpStream, String> {
    let key = SecretKey::from_slice(&crate::random_bytes()).map_err(|e| e.to_string())?;
    let target: std::net::SocketAddr = address.parse().map_err(|e| format!("{address}: {e}"))?;
    let source = std::net::SocketAddr::from(([127, 0, 0, 2 + (index % 250) as u8], 0));
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(source)
        .map_err(|e| format!("bind {source}: {e}"))?;
    let mut stream = socket.connect(target).await.map_err(|e| e.to_string())?;
    let (handshake, act_one) = InitiatorHandshake::new(&key, node);
    stream
        .write_all(&act_one)
        .await
        .map_err(|e| e.to_string())?;
    let mut act_two = [0u8; ACT_TWO_LEN];
    stream
        .read_exact(&mut act_two)
        .await
        .map_err(|e| e.to_string())?;
    let (act_three, transport) = handshake
        .read_act_two(&act_two)
        .map_err(|e| e.to_string())?;
    let (mut encryptor, mut decryptor) = transport.split();
    let init =
        peer_protocol::our_init(&peer_protocol::default_features(), ChainHash::REGTEST, None);
    let mut out = act_three.to_vec();
    encryptor
        .encrypt_into(&init, &mut out)
        .map_err(|e| e.to_string())?;
    stream.write_all(&out).await.map_err(|e| e.to_string())?;
    loop {
        if decryptor
            .next_message()
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Ok(stream);
        }
        let n = stream
            .read(decryptor.read_buffer())
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the node closed the connection".into());
        }
        decryptor.commit(n);
    }
}
