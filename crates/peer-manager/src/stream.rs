//! The byte stream a peer connection runs on: a TCP socket, or one end of a local socket pair
//! whose other end a WebSocket bridge feeds ([`crate::websocket`]). Everything above (the
//! handshake, `init`, the reader, the writer and the outbox) sees the same stream either way,
//! so WebSocket peers get the same peer layer, limits and logs as TCP peers.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{tcp, unix, TcpStream, UnixStream};

/// A connection's stream before it is split between its reader and writer.
#[derive(Debug)]
pub(crate) enum PeerStream {
    /// A peer on TCP.
    Tcp(TcpStream),
    /// A peer on WebSocket, through its bridge.
    Bridged(UnixStream),
}

impl PeerStream {
    /// Turns off Nagle's algorithm where there is one: our writer coalesces frames itself.
    pub(crate) fn set_nodelay(&self) -> io::Result<()> {
        match self {
            PeerStream::Tcp(stream) => stream.set_nodelay(true),
            PeerStream::Bridged(_) => Ok(()),
        }
    }

    /// The reader's and the writer's halves.
    pub(crate) fn into_split(self) -> (ReadHalf, WriteHalf) {
        match self {
            PeerStream::Tcp(stream) => {
                let (read, write) = stream.into_split();
                (ReadHalf::Tcp(read), WriteHalf::Tcp(write))
            }
            PeerStream::Bridged(stream) => {
                let (read, write) = stream.into_split();
                (ReadHalf::Bridged(read), WriteHalf::Bridged(write))
            }
        }
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerStream::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            PeerStream::Bridged(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PeerStream::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            PeerStream::Bridged(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerStream::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            PeerStream::Bridged(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerStream::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            PeerStream::Bridged(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

/// The reading half: the reader waits for readiness, then reads without blocking, so that an
/// idle connection holds no read buffer.
#[derive(Debug)]
pub(crate) enum ReadHalf {
    Tcp(tcp::OwnedReadHalf),
    Bridged(unix::OwnedReadHalf),
}

impl ReadHalf {
    pub(crate) async fn readable(&self) -> io::Result<()> {
        match self {
            ReadHalf::Tcp(half) => half.readable().await,
            ReadHalf::Bridged(half) => half.readable().await,
        }
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ReadHalf::Tcp(half) => half.try_read(buf),
            ReadHalf::Bridged(half) => half.try_read(buf),
        }
    }
}

/// The writing half, shared by every task that may write (see the outbox).
#[derive(Debug)]
pub(crate) enum WriteHalf {
    Tcp(tcp::OwnedWriteHalf),
    Bridged(unix::OwnedWriteHalf),
}

impl WriteHalf {
    pub(crate) async fn writable(&self) -> io::Result<()> {
        match self {
            WriteHalf::Tcp(half) => half.writable().await,
            WriteHalf::Bridged(half) => half.writable().await,
        }
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            WriteHalf::Tcp(half) => half.try_write(buf),
            WriteHalf::Bridged(half) => half.try_write(buf),
        }
    }
}
