//! A plugin's stdin queue: frames on their way to the plugin, bounded in bytes.
//!
//! # When a plugin stops reading its stdin
//!
//! Its pipe fills (64 KiB on Linux), then this queue ([`STDIN_QUEUE_BYTES`]). From then on:
//!
//! * **requests wait for room** (hook calls, `init`, RPC passthrough). Each caller already
//!   bounds its wait for the answer (`--plugin-hook-timeout`, the startup timeout), or waits
//!   for it anyway (an RPC client calling a plugin method), so waiting for room costs nothing
//!   new, and a request is never lost;
//! * **notifications are dropped**, counted, and logged once per burst: UNUSUAL at the first
//!   one dropped, INFO with the count when one gets through again. A notification has no
//!   answer and its sender (peer events, another plugin's custom topic, a warning) must not
//!   wait on one plugin; a plugin that does not read could not act on it anyway.
//!
//! So a stuck plugin holds at most [`STDIN_QUEUE_BYTES`] of our memory (or one frame, if a
//! single frame is larger) and holds up nobody but the requests sent to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::process::PluginGone;

/// Bytes of frames that may wait for one plugin's stdin. The largest frames we send carry a
/// 65,535-byte custom message as hex (about 131 KB, once as the `custommsg` notification and
/// once as the hook call), so this holds 15 such pairs, or thousands of ordinary
/// notifications of a few hundred bytes: more than any burst a plugin that reads at all
/// leaves behind, while ten stuck plugins cost at most 40 MiB.
pub const STDIN_QUEUE_BYTES: usize = 4 * 1024 * 1024;

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It is on its way to the plugin.
    Queued,
    /// The plugin's queue was full: dropped and counted.
    Dropped,
    /// The plugin is gone.
    Gone,
}

/// A frame and its share of the queue's room, given back once it is written.
struct Queued {
    frame: Vec<u8>,
    _room: OwnedSemaphorePermit,
}

/// The sending side of a plugin's stdin.
pub(crate) struct StdinQueue {
    /// To the writer task; bounded by `room`, not by the channel.
    frames: mpsc::UnboundedSender<Queued>,
    /// One permit per byte of [`STDIN_QUEUE_BYTES`]; closed once the plugin is gone.
    room: Arc<Semaphore>,
    /// Notifications dropped since the last one queued.
    dropped_in_burst: AtomicU64,
    /// Notifications dropped in all.
    dropped: AtomicU64,
    /// The log subsystem, `plugin-<name>`.
    subsystem: String,
}

/// The permits a frame of `len` bytes takes: a frame larger than the queue takes it all, so
/// it waits until the queue is empty rather than forever.
fn cost(len: usize) -> u32 {
    u32::try_from(len.clamp(1, STDIN_QUEUE_BYTES)).unwrap_or(u32::MAX)
}

impl StdinQueue {
    /// Starts the task that writes queued frames to `stdin`, in order.
    pub(crate) fn start(stdin: ChildStdin, subsystem: String) -> StdinQueue {
        let (frames, queue) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(STDIN_QUEUE_BYTES));
        tokio::spawn(write_stdin(stdin, queue, room.clone()));
        StdinQueue {
            frames,
            room,
            dropped_in_burst: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            subsystem,
        }
    }

    /// Queues a request's frame, waiting for room if the plugin is behind.
    ///
    /// # Errors
    /// The plugin is gone (before or while waiting).
    pub(crate) async fn send(&self, frame: Vec<u8>) -> Result<(), PluginGone> {
        let room = self
            .room
            .clone()
            .acquire_many_owned(cost(frame.len()))
            .await
            .map_err(|_| PluginGone)?;
        self.frames
            .send(Queued { frame, _room: room })
            .map_err(|_| PluginGone)
    }

    /// Queues a notification's frame if there is room; drops it otherwise.
    pub(crate) fn offer(&self, frame: Vec<u8>) -> Delivery {
        match self.room.clone().try_acquire_many_owned(cost(frame.len())) {
            Ok(room) => {
                let dropped = self.dropped_in_burst.swap(0, Ordering::Relaxed);
                if dropped > 0 {
                    tracing::info!(
                        subsystem = %self.subsystem,
                        "Plugin reads its stdin again; {dropped} notifications to it were dropped"
                    );
                }
                match self.frames.send(Queued { frame, _room: room }) {
                    Ok(()) => Delivery::Queued,
                    Err(_) => Delivery::Gone,
                }
            }
            Err(TryAcquireError::NoPermits) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                if self.dropped_in_burst.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(
                        subsystem = %self.subsystem,
                        "Plugin is not reading its stdin ({STDIN_QUEUE_BYTES} bytes waiting): \
                         dropping notifications to it"
                    );
                }
                Delivery::Dropped
            }
            Err(TryAcquireError::Closed) => Delivery::Gone,
        }
    }

    /// The plugin is gone: requests waiting for room fail, and later ones at once.
    pub(crate) fn close(&self) {
        self.room.close();
    }

    /// Notifications dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Bytes waiting to be written (a frame larger than the queue counts as the queue).
    pub(crate) fn queued_bytes(&self) -> usize {
        STDIN_QUEUE_BYTES.saturating_sub(self.room.available_permits())
    }
}

async fn write_stdin(
    mut stdin: ChildStdin,
    mut queue: mpsc::UnboundedReceiver<Queued>,
    room: Arc<Semaphore>,
) {
    while let Some(queued) = queue.recv().await {
        if stdin.write_all(&queued.frame).await.is_err() {
            break;
        }
        // `queued` drops here: its bytes are room again.
    }
    room.close();
}
