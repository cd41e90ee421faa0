//! The floor under the echo figures: the same round trip with neither BOLT 8 nor Lightning,
//! two tokio tasks bouncing raw bytes over loopback TCP on the same two-worker runtime. Both
//! implementations' echoes pay at least this in syscalls and wake-ups.

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::stats::Latencies;

/// `samples` round trips of `len` bytes, after a tenth as many for warm-up.
pub(crate) fn tcp_echo(len: usize, samples: usize) -> Latencies {
    crate::runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a listener");
        let address = listener.local_addr().expect("its address");
        let echoer = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("a connection");
            stream.set_nodelay(true).expect("TCP_NODELAY");
            let mut buf = vec![0u8; len];
            while stream.read_exact(&mut buf).await.is_ok() {
                if stream.write_all(&buf).await.is_err() {
                    break;
                }
            }
        });
        let mut stream = TcpStream::connect(address).await.expect("a connection");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let message = vec![0x5a; len];
        let mut back = vec![0u8; len];
        let warm_up = samples / 10;
        let mut times = Vec::with_capacity(samples);
        for round in 0..warm_up + samples {
            let sent = Instant::now();
            stream.write_all(&message).await.expect("a write");
            stream.read_exact(&mut back).await.expect("the echo");
            if round >= warm_up {
                times.push(sent.elapsed());
            }
        }
        drop(stream);
        let _ = echoer.await;
        Latencies::new(times)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_round_trip_is_timed() {
        assert_eq!(super::tcp_echo(32, 50).len(), 50);
    }
}
