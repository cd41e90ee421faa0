//! The per-peer outgoing side: messages are encrypted when they are sent, into one buffer
//! bounded in bytes, and written to the socket by whoever finds it free.
//!
//! Policy: a message is accepted only if the bytes already waiting plus its own frame stay
//! within the budget; otherwise the send fails at once with [`SendError::QueueFull`] (or, with
//! [`Outbox::send_waiting`], waits for room), and nothing is dropped silently. A peer that
//! stops reading can fill only its own buffer and can never stall the RPC caller, another
//! peer's reader, or anyone else. Control traffic (pongs, pings, warnings, errors) may use a
//! reserve on top of the custom budget, so custom traffic cannot starve liveness.
//!
//! Who writes: the connection's writer task, woken once for everything sent since it last
//! ran, so a burst of sends costs one socket write. A connection's reader instead collects
//! what is sent while it handles a batch of messages (its pongs, a handler's replies) with
//! [`Outbox::send_deferred`], and writes it itself when the batch is done: a request answered
//! inside the reader goes out with no task switch at all. Only one task writes at a time; a
//! task that finds the socket full leaves the rest to the writer task, which waits for room.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::stream::WriteHalf;
use noise_transport::{Encryptor, PublicKey, FRAME_OVERHEAD, MAX_MESSAGE_LEN, MIN_MESSAGE_LEN};
use peer_protocol::{DevDisconnect, DisconnectAction};
use tokio::sync::Notify;
use tokio::time::Instant;
use wire::MsgType;

/// Why a message could not be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The peer's queue holds `queued` bytes of its `limit`; this message of `len` would exceed it.
    QueueFull {
        /// Encrypted bytes waiting to be written.
        queued: usize,
        /// The message's length.
        len: usize,
        /// The queue's budget.
        limit: usize,
    },
    /// The message is shorter than its type or longer than BOLT 8 can carry.
    BadLength {
        /// The message's length.
        len: usize,
    },
    /// The connection is closing or closed.
    Closed,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::QueueFull { queued, len, limit } => write!(
                f,
                "outgoing queue full: {queued} bytes queued, a {len}-byte message would exceed the {limit}-byte limit"
            ),
            SendError::BadLength { len } => {
                write!(f, "a {len}-byte message cannot be sent (2 to 65535 bytes)")
            }
            SendError::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for SendError {}

/// Which budget a message is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Custom,
    Control,
}

/// Buffers above this are freed once everything in them is written, so an idle connection
/// does not keep the memory of its last burst.
const IDLE_BUFFER: usize = 16 * 1024;

/// A message sent when the queue is empty and nothing was written for this long is written
/// by its sender at once; one sent sooner is taken to be part of a burst and left to the
/// writer task, so that a burst costs one write rather than one per message. Bursts send
/// messages well under a microsecond apart; a request/response exchange on loopback takes
/// tens of microseconds per round.
const QUIET_BEFORE_DIRECT_WRITE: Duration = Duration::from_micros(10);

/// Only frames up to this size are written by their sender: next to a small write the task
/// switch it saves is most of the cost, while a large one is bound by the copy, and a stream
/// of them keeps a steadier pace when the writer task does all the writing.
const DIRECT_WRITE_MAX: usize = 4096;

/// The sending side of a connection; cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    socket: WriteHalf,
    /// Woken when the writer task has something to do: bytes to write, or a close.
    work: Notify,
    /// Woken when bytes have been written or the connection closed: senders waiting for room.
    room: Notify,
    /// `dev-peer-write-delay` in nanoseconds: only the writer task writes, and it waits this
    /// long before each write; zero (the default) is no delay. An atomic, so that the writer
    /// loop pays one load for it, not a lock.
    write_delay_nanos: AtomicU64,
    /// Woken when the write delay changes, so a writer sleeping on the old one starts over.
    delay_changed: Notify,
    custom_limit: usize,
    control_limit: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    Open,
    /// Write what is queued, then close; nothing more is accepted.
    Closing,
    Closed,
}

#[derive(Debug)]
struct State {
    encryptor: Encryptor,
    /// Encrypted frames waiting for the socket, oldest first.
    queued: Vec<u8>,
    /// An empty buffer to swap in while a flush writes `queued` outside the lock.
    spare: Vec<u8>,
    /// Bytes accepted and not yet written: `queued` plus what a flush holds.
    unsent: usize,
    /// A task is writing; nobody else may, so frames keep their order.
    flushing: bool,
    /// When bytes last went to the socket: a send after a quiet spell writes at once.
    last_write: Option<Instant>,
    /// Bytes ever accepted, and ever written to the socket. Frames are written in the order
    /// they were accepted, so a frame that ended at `accepted == n` is written once
    /// `written >= n` ([`WriteReceipt`]).
    accepted: u64,
    written: u64,
    phase: Phase,
    /// `--dev-disconnect`: the node's script, consulted for every message sent.
    dev_disconnect: Option<DevDisconnectHook>,
    /// Why the connection closes once `Closing` is done, when it is not a warning's close.
    close_reason: Option<String>,
}

/// The node's `--dev-disconnect` script, shared by all connections (as CLN's connectd shares
/// one), and the peer this connection is to, for the log.
#[derive(Debug, Clone)]
pub(crate) struct DevDisconnectHook {
    pub(crate) script: Arc<Mutex<DevDisconnect>>,
    pub(crate) peer: PublicKey,
}

impl DevDisconnectHook {
    /// The point `message` fires, if any (consumed), logged as CLN logs it.
    pub(crate) fn on_send(&self, message: &[u8]) -> Option<(DisconnectAction, String)> {
        let ty = MsgType(u16::from_be_bytes([*message.first()?, *message.get(1)?]));
        let mut script = self.script.lock().unwrap_or_else(|e| e.into_inner());
        let point = script.on_send(ty)?;
        let reason = format!("dev_disconnect: {} ({})", point.line, ty.name());
        tracing::debug!(node_id = %self.peer, subsystem = "connectd", "{reason}");
        Some((point.action, reason))
    }
}

/// How a flush ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flushed {
    /// Everything queued is written.
    Drained,
    /// Another task is writing and will write what was queued too.
    Busy,
    /// The socket is full; the rest waits in the queue.
    WouldBlock,
    /// Writing failed; the connection is closed.
    Failed(io::ErrorKind),
    /// A write delay is set: only the writer task writes.
    Delayed,
}

/// An empty buffer to keep for later, or none if it grew past [`IDLE_BUFFER`].
fn parked(buffer: Vec<u8>) -> Vec<u8> {
    if buffer.capacity() > IDLE_BUFFER {
        Vec::new()
    } else {
        buffer
    }
}

/// What a send leaves to do once its frame is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterSend {
    /// Write it now, from the sender: a lone message after a quiet spell.
    WriteNow,
    /// Wake the writer task: part of a burst.
    WakeWriter,
    /// A write in progress takes it along.
    Nothing,
}

impl Outbox {
    /// The outbox of a connection whose handshake produced `encryptor`, writing to `socket`.
    pub(crate) fn new(
        socket: WriteHalf,
        encryptor: Encryptor,
        custom_limit: usize,
        control_limit: usize,
    ) -> Self {
        Outbox {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    encryptor,
                    queued: Vec::new(),
                    spare: Vec::new(),
                    unsent: 0,
                    flushing: false,
                    last_write: None,
                    accepted: 0,
                    written: 0,
                    phase: Phase::Open,
                    dev_disconnect: None,
                    close_reason: None,
                }),
                socket,
                work: Notify::new(),
                room: Notify::new(),
                write_delay_nanos: AtomicU64::new(0),
                delay_changed: Notify::new(),
                custom_limit,
                control_limit,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a message (type and payload) charged to the custom budget.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] if it does not fit in the budget, [`SendError::BadLength`] if
    /// BOLT 8 cannot carry it, [`SendError::Closed`] if the connection is closing.
    pub fn try_send(&self, message: &[u8]) -> Result<(), SendError> {
        self.send(message, Class::Custom)
    }

    /// Queues a message charged to the custom budget, waiting for room when the queue is full.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] only for a message larger than the whole budget (it would wait
    /// forever); [`SendError::Closed`] if the connection closes, also while waiting.
    pub async fn send_waiting(&self, message: &[u8]) -> Result<(), SendError> {
        loop {
            // Registered before trying, so bytes written in between are not missed.
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.send(message, Class::Custom) {
                Err(SendError::QueueFull { .. })
                    if FRAME_OVERHEAD + message.len() <= self.shared.custom_limit =>
                {
                    room.await
                }
                done => return done,
            }
        }
    }

    /// Queues a message like [`Outbox::try_send`], and returns a receipt that says when it has
    /// been written to the socket (see [`WriteReceipt::written`]).
    ///
    /// # Errors
    /// As [`Outbox::try_send`].
    pub fn send_tracked(&self, message: &[u8]) -> Result<WriteReceipt, SendError> {
        let end = self.send_ending(message, Class::Custom)?;
        Ok(WriteReceipt {
            outbox: self.clone(),
            end,
        })
    }

    /// Encrypts `message` onto the queue if its budget has room, then sees that it is written.
    pub(crate) fn send(&self, message: &[u8], class: Class) -> Result<(), SendError> {
        self.send_ending(message, class).map(|_| ())
    }

    /// [`Outbox::send`], returning where the message's frame ends in the connection's byte count.
    fn send_ending(&self, message: &[u8], class: Class) -> Result<u64, SendError> {
        let (after, end) = self.enqueue(message, class)?;
        match after {
            // A lone message after a quiet spell (a request, an echo): the sender writes it
            // itself rather than waking the writer task, which costs a task switch.
            AfterSend::WriteNow => {
                self.flush();
            }
            // Part of a burst: the writer task writes everything sent until it runs at once.
            AfterSend::WakeWriter => self.shared.work.notify_one(),
            AfterSend::Nothing => {}
        }
        Ok(end)
    }

    /// Encrypts `message` onto the queue like [`Outbox::send`], but leaves the write to the
    /// caller: the outbox joins `batch` (once), and the caller flushes every outbox in it when
    /// its batch of work is done, one write each.
    pub(crate) fn send_deferred(
        &self,
        message: &[u8],
        class: Class,
        batch: &mut Vec<Outbox>,
    ) -> Result<(), SendError> {
        self.enqueue(message, class)?;
        if !batch.iter().any(|o| Arc::ptr_eq(&o.shared, &self.shared)) {
            batch.push(self.clone());
        }
        Ok(())
    }

    /// Encrypts `message` onto the queue if its budget has room, and says who should write it
    /// and where its frame ends in the connection's byte count.
    fn enqueue(&self, message: &[u8], class: Class) -> Result<(AfterSend, u64), SendError> {
        if !(MIN_MESSAGE_LEN..=MAX_MESSAGE_LEN).contains(&message.len()) {
            return Err(SendError::BadLength { len: message.len() });
        }
        let frame = FRAME_OVERHEAD + message.len();
        let limit = match class {
            Class::Custom => self.shared.custom_limit,
            Class::Control => self.shared.custom_limit + self.shared.control_limit,
        };
        let mut state = self.state();
        if state.phase != Phase::Open {
            return Err(SendError::Closed);
        }
        if state.unsent + frame > limit {
            return Err(SendError::QueueFull {
                queued: state.unsent,
                len: message.len(),
                limit,
            });
        }
        let fired = state
            .dev_disconnect
            .as_ref()
            .and_then(|hook| hook.on_send(message));
        if let Some((action, reason)) = fired {
            let closes = matches!(
                action,
                DisconnectAction::Before | DisconnectAction::After | DisconnectAction::DropAndClose
            );
            if closes {
                // What was queued before still goes out; then the writer closes.
                state.phase = Phase::Closing;
                state.close_reason = Some(reason);
                self.shared.work.notify_one();
            }
            match action {
                DisconnectAction::Before => return Err(SendError::Closed),
                // Dropped as if sent: the sender cannot tell, as with a lost message.
                DisconnectAction::Drop | DisconnectAction::DropAndClose => {
                    return Ok((AfterSend::Nothing, state.accepted));
                }
                DisconnectAction::After | DisconnectAction::Pass => {}
            }
        }
        let State {
            encryptor, queued, ..
        } = &mut *state;
        encryptor
            .encrypt_into(message, queued)
            .map_err(|_| SendError::BadLength { len: message.len() })?;
        let alone = state.unsent == 0;
        state.unsent += frame;
        state.accepted += frame as u64;
        let end = state.accepted;
        if state.flushing {
            return Ok((AfterSend::Nothing, end));
        }
        // The clock is read only when it can decide: in a burst the queue is not empty.
        let write_now = alone
            && frame <= DIRECT_WRITE_MAX
            && self.write_delay().is_zero()
            && state
                .last_write
                .is_none_or(|at| at.elapsed() >= QUIET_BEFORE_DIRECT_WRITE);
        let after = if write_now {
            AfterSend::WriteNow
        } else {
            AfterSend::WakeWriter
        };
        Ok((after, end))
    }

    /// Writes what is queued without waiting: everything, or until the socket is full (then
    /// the writer task is woken to wait for room), or nothing if another task is writing.
    pub(crate) fn flush(&self) -> Flushed {
        let flushed = self.write_queued(false);
        // The writer task waits for room, or the write delay, or notices the failure and ends
        // the connection.
        if matches!(
            flushed,
            Flushed::WouldBlock | Flushed::Failed(_) | Flushed::Delayed
        ) {
            self.shared.work.notify_one();
        }
        flushed
    }

    /// Writes what is queued; a task other than the `writer` leaves it to the writer task
    /// while a write delay is set.
    fn write_queued(&self, writer: bool) -> Flushed {
        let mut batch = {
            let mut state = self.state();
            if state.flushing {
                return Flushed::Busy;
            }
            if !writer && !self.write_delay().is_zero() {
                return Flushed::Delayed;
            }
            if state.queued.is_empty() {
                return Flushed::Drained;
            }
            state.flushing = true;
            let spare = std::mem::take(&mut state.spare);
            std::mem::replace(&mut state.queued, spare)
        };
        let mut at = 0;
        let mut wrote_any = false;
        let flushed = loop {
            let result = self.shared.socket.try_write(&batch[at..]);
            let mut state = self.state();
            match result {
                Ok(n) => {
                    at += n;
                    state.unsent -= n;
                    state.written += n as u64;
                    wrote_any |= n > 0;
                    state.last_write = Some(Instant::now());
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    // The rest goes back in front of whatever was queued meanwhile.
                    batch.drain(..at);
                    batch.extend_from_slice(&state.queued);
                    state.queued.clear();
                    std::mem::swap(&mut state.queued, &mut batch);
                    state.spare = batch;
                    state.flushing = false;
                    break Flushed::WouldBlock;
                }
                Err(error) => {
                    state.phase = Phase::Closed;
                    state.flushing = false;
                    break Flushed::Failed(error.kind());
                }
            }
            if at == batch.len() {
                batch.clear();
                if state.queued.is_empty() {
                    // Idle now: keep no buffer a burst grew, in either place.
                    state.spare = parked(batch);
                    let queued = std::mem::take(&mut state.queued);
                    state.queued = parked(queued);
                    state.flushing = false;
                    break Flushed::Drained;
                }
                // Sent while we wrote: write it too, in order.
                std::mem::swap(&mut state.queued, &mut batch);
                at = 0;
            }
        };
        if wrote_any || matches!(flushed, Flushed::Failed(_)) {
            self.shared.room.notify_waiters();
        }
        flushed
    }

    /// Asks the writer task to close the connection once everything queued so far is written;
    /// later sends are refused.
    pub(crate) fn close_after_flush(&self) {
        let mut state = self.state();
        if state.phase == Phase::Open {
            state.phase = Phase::Closing;
        }
        drop(state);
        self.shared.work.notify_one();
    }

    /// Refuses all further sends and wakes everyone waiting for room: the connection is over.
    pub(crate) fn close(&self) {
        self.state().phase = Phase::Closed;
        self.shared.room.notify_waiters();
    }

    /// Consults `hook` for every message sent from now on (`--dev-disconnect`).
    pub(crate) fn set_dev_disconnect(&self, hook: DevDisconnectHook) {
        self.state().dev_disconnect = Some(hook);
    }

    /// Makes the writer task wait `delay` before each write from now on, and the only one to
    /// write (`dev-peer-write-delay`); zero writes without delay again.
    pub(crate) fn set_write_delay(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.shared
            .write_delay_nanos
            .store(nanos, Ordering::Release);
        self.shared.delay_changed.notify_waiters();
        self.shared.work.notify_one();
    }

    /// The write delay set by [`Outbox::set_write_delay`].
    fn write_delay(&self) -> Duration {
        Duration::from_nanos(self.shared.write_delay_nanos.load(Ordering::Acquire))
    }

    /// How long queued bytes wait before the writer task writes them, when they are there.
    fn pending_delay(&self) -> Duration {
        let delay = self.write_delay();
        if delay.is_zero() || self.state().queued.is_empty() {
            Duration::ZERO
        } else {
            delay
        }
    }

    /// Encrypted bytes waiting to be written.
    pub fn queued_bytes(&self) -> usize {
        self.state().unsent
    }

    /// Whether the frame ending at `end` is written; `None` while it may still be.
    fn written_through(&self, end: u64) -> Option<Result<(), NotWritten>> {
        let state = self.state();
        if state.written >= end {
            Some(Ok(()))
        } else if state.phase == Phase::Closed {
            Some(Err(NotWritten::Closed {
                written: state.written,
                accepted: state.accepted,
            }))
        } else {
            None
        }
    }

    /// The writer task's loop: writes whenever there is work and the socket has room, until
    /// the connection closes. Returns why it stopped.
    pub(crate) async fn run_writer(&self) -> String {
        loop {
            let work = self.shared.work.notified();
            tokio::pin!(work);
            work.as_mut().enable();
            // Without a delay (always, but when testing another node) this is one atomic load.
            if !self.write_delay().is_zero() {
                // Registered before the delay is read again, so a change in between is not
                // missed.
                let delay_changed = self.shared.delay_changed.notified();
                tokio::pin!(delay_changed);
                delay_changed.as_mut().enable();
                let delay = self.pending_delay();
                if !delay.is_zero() {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        // Cleared or changed: start over with the new delay.
                        () = delay_changed => continue,
                    }
                }
            }
            match self.write_queued(true) {
                Flushed::Drained => {
                    let closing = {
                        let mut state = self.state();
                        match state.phase {
                            Phase::Closing if state.queued.is_empty() && !state.flushing => {
                                state.phase = Phase::Closed;
                                Some(
                                    state
                                        .close_reason
                                        .take()
                                        .unwrap_or_else(|| "closed after warning".to_owned()),
                                )
                            }
                            Phase::Closed => Some("closed".to_owned()),
                            Phase::Open | Phase::Closing => None,
                        }
                    };
                    if let Some(reason) = closing {
                        self.shared.room.notify_waiters();
                        return reason;
                    }
                    work.await;
                }
                // Its flush finishes the job or hands back to us through `work`.
                Flushed::Busy => work.await,
                Flushed::WouldBlock => {
                    if let Err(error) = self.shared.socket.writable().await {
                        self.close();
                        return format!("write failed: {error}");
                    }
                }
                Flushed::Failed(kind) => {
                    return format!("write failed: {}", io::Error::from(kind));
                }
                // Only other tasks are sent away by the delay.
                Flushed::Delayed => work.await,
            }
        }
    }
}

/// Says when one message has been written to the socket ([`Outbox::send_tracked`]).
#[derive(Debug)]
pub struct WriteReceipt {
    outbox: Outbox,
    end: u64,
}

/// Why a tracked message was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotWritten {
    /// The connection closed first; `written` of the `accepted` bytes had been written (the
    /// message itself was among the rest).
    Closed {
        /// Bytes written to the socket over the connection's life.
        written: u64,
        /// Bytes accepted for writing over the connection's life.
        accepted: u64,
    },
}

impl std::fmt::Display for NotWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotWritten::Closed { written, accepted } => write!(
                f,
                "the connection closed before the message was written ({} bytes were still unwritten)",
                accepted - written
            ),
        }
    }
}

impl std::error::Error for NotWritten {}

impl WriteReceipt {
    /// Resolves once the message's whole frame has been handed to the socket (the kernel's
    /// send buffer): not that the peer has read it, nor even that it left this machine. Fails
    /// if the connection closes first. A caller bounds the wait with a timeout of its own.
    ///
    /// # Errors
    /// [`NotWritten::Closed`] when the connection closed before the frame was written.
    pub async fn written(self) -> Result<(), NotWritten> {
        loop {
            // Registered before checking, so a write in between is not missed: writes and
            // closes both wake `room`'s waiters.
            let room = self.outbox.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if let Some(outcome) = self.outbox.written_through(self.end) {
                return outcome;
            }
            room.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use noise_transport::{Decryptor, InitiatorHandshake, ResponderHandshake, SecretKey};
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_slice(&[byte; 32]).expect("a valid key")
    }

    /// An outbox writing to a loopback socket, the decryptor of its messages, and the far end.
    async fn outbox(custom: usize, control: usize) -> (Outbox, Decryptor, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (far, _) = listener.accept().await.unwrap();
        let responder_key = key(2);
        let responder_id = noise_transport::PublicKey::from_secret_key_global(&responder_key);
        let (initiator, act_one) = InitiatorHandshake::new(&key(1), &responder_id);
        let (responder, act_two) = ResponderHandshake::new(&responder_key)
            .read_act_one(&act_one)
            .unwrap();
        let (act_three, ours) = initiator.read_act_two(&act_two).unwrap();
        let theirs = responder.read_act_three(&act_three).unwrap();
        let (encryptor, _) = ours.split();
        let (_, decryptor) = theirs.split();
        let (_, write_half) = near.into_split();
        (
            Outbox::new(WriteHalf::Tcp(write_half), encryptor, custom, control),
            decryptor,
            far,
        )
    }

    async fn receive(far: &mut TcpStream, decryptor: &mut Decryptor, count: usize) -> Vec<Vec<u8>> {
        let mut messages = Vec::new();
        while messages.len() < count {
            while let Some(message) = decryptor.next_message().unwrap() {
                messages.push(message.to_vec());
            }
            if messages.len() < count {
                let n = far.read(decryptor.read_buffer()).await.unwrap();
                assert!(n > 0, "the connection closed early");
                decryptor.commit(n);
            }
        }
        messages
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_growing_and_control_has_a_reserve() {
        let (outbox, _, _far) = outbox(100, 40).await;
        let frame = |len: usize| FRAME_OVERHEAD + len;
        // Held in the queue: a lone first message would otherwise be written at once.
        let mut touched = Vec::new();
        outbox
            .send_deferred(&[0; 30], Class::Custom, &mut touched)
            .unwrap();
        assert_eq!(
            outbox.try_send(&[0; 40]),
            Err(SendError::QueueFull {
                queued: frame(30),
                len: 40,
                limit: 100
            })
        );
        outbox.try_send(&[0; 2]).unwrap();
        assert_eq!(outbox.queued_bytes(), frame(30) + frame(2));
        // Control traffic may go beyond the custom budget, up to its reserve.
        outbox.send(&[0; 2], Class::Control).unwrap();
        assert!(outbox.send(&[0; 30], Class::Control).is_err());
        assert_eq!(
            outbox.try_send(&[0; 1]),
            Err(SendError::BadLength { len: 1 })
        );
    }

    #[tokio::test]
    async fn a_flush_writes_everything_in_order_and_frees_the_budget() {
        let (outbox, mut decryptor, mut far) = outbox(1 << 20, 1 << 16).await;
        let sent: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 2 + usize::from(i)]).collect();
        for message in &sent {
            outbox.try_send(message).unwrap();
        }
        assert_eq!(outbox.flush(), Flushed::Drained);
        assert_eq!(outbox.queued_bytes(), 0);
        assert_eq!(receive(&mut far, &mut decryptor, 100).await, sent);
    }

    #[tokio::test]
    async fn the_writer_task_writes_what_is_sent_and_waits_for_a_slow_reader() {
        let (outbox, mut decryptor, mut far) = outbox(1 << 20, 1 << 16).await;
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.run_writer().await }
        });
        // Far more than the socket buffers hold: the writer must wait for room, in order.
        let sender = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                for i in 0..400u32 {
                    let mut message = vec![0x5a; 60_000];
                    message[..4].copy_from_slice(&i.to_be_bytes());
                    outbox.send_waiting(&message).await.unwrap();
                }
            }
        });
        let received = receive(&mut far, &mut decryptor, 400).await;
        // Once all is written, the buffers the burst grew are gone.
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while outbox.queued_bytes() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        // The write that emptied the queue parked the buffers under the same lock.
        {
            let state = outbox.state();
            assert!(!state.flushing);
            assert!(state.queued.capacity() <= IDLE_BUFFER);
            assert!(state.spare.capacity() <= IDLE_BUFFER);
        }
        for (i, message) in received.iter().enumerate() {
            assert_eq!(message[..4], (i as u32).to_be_bytes());
        }
        sender.await.unwrap();
        outbox.close_after_flush();
        assert_eq!(writer.await.unwrap(), "closed after warning");
        assert_eq!(outbox.try_send(&[0; 2]), Err(SendError::Closed));
    }

    #[tokio::test]
    async fn a_receipt_resolves_once_its_frame_is_written() {
        let (outbox, mut decryptor, mut far) = outbox(32 << 20, 1 << 16).await;
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.run_writer().await }
        });
        // Far more than loopback's socket buffers hold (a few MiB), while the far end does not
        // read: the last receipt cannot resolve until the far end reads.
        let mut receipts = Vec::new();
        for _ in 0..400 {
            receipts.push(outbox.send_tracked(&[0x33; 60_000]).unwrap());
        }
        let last = receipts.pop().unwrap();
        let first = receipts.swap_remove(0);
        tokio::time::timeout(std::time::Duration::from_secs(10), first.written())
            .await
            .expect("the first frame fits in the socket buffers")
            .unwrap();
        let last = tokio::spawn(last.written());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!last.is_finished(), "written before the far end read it");
        receive(&mut far, &mut decryptor, 400).await;
        last.await.unwrap().unwrap();
        outbox.close_after_flush();
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn a_receipt_fails_when_the_connection_closes_first() {
        let (outbox, _decryptor, _far) = outbox(32 << 20, 1 << 16).await;
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.run_writer().await }
        });
        let mut receipts = Vec::new();
        for _ in 0..400 {
            receipts.push(outbox.send_tracked(&[0x44; 60_000]).unwrap());
        }
        let last = tokio::spawn(receipts.pop().unwrap().written());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        outbox.close();
        writer.abort();
        let failure = last.await.unwrap().unwrap_err();
        let NotWritten::Closed { written, accepted } = failure.clone();
        assert!(written < accepted, "{failure}");
        assert_eq!(accepted, 400 * (FRAME_OVERHEAD as u64 + 60_000));
        assert!(failure
            .to_string()
            .starts_with("the connection closed before"));
        // A later receipt of a closed outbox cannot be had at all.
        assert_eq!(outbox.send_tracked(&[0; 2]).unwrap_err(), SendError::Closed);
    }

    #[tokio::test]
    async fn a_waiting_send_ends_when_the_connection_closes() {
        let (outbox, _decryptor, _far) = outbox(100, 10).await;
        let mut touched = Vec::new();
        outbox
            .send_deferred(&[0; 60], Class::Custom, &mut touched)
            .unwrap();
        let blocked = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.send_waiting(&[0; 40]).await }
        });
        tokio::task::yield_now().await;
        assert!(!blocked.is_finished(), "no room yet: it must wait");
        outbox.close();
        assert_eq!(blocked.await.unwrap(), Err(SendError::Closed));
        // Larger than the whole budget: refused at once rather than waiting forever.
        let (outbox, _decryptor, _far) = self::outbox(100, 10).await;
        assert!(matches!(
            outbox.send_waiting(&[0; 101]).await,
            Err(SendError::QueueFull { .. })
        ));
    }

    #[tokio::test]
    async fn a_lone_message_is_written_by_its_sender() {
        let (outbox, mut decryptor, mut far) = outbox(1 << 20, 1 << 16).await;
        outbox.try_send(&[1; 10]).unwrap();
        assert_eq!(outbox.queued_bytes(), 0, "written at once");
        // Whether these count as a burst depends on the clock; either way they arrive in order
        // once flushed (no writer task runs here).
        outbox.try_send(&[2; 10]).unwrap();
        outbox.try_send(&[3; 10]).unwrap();
        assert_eq!(outbox.flush(), Flushed::Drained);
        let received = receive(&mut far, &mut decryptor, 3).await;
        assert_eq!(received, vec![vec![1; 10], vec![2; 10], vec![3; 10]]);
    }

    #[tokio::test]
    async fn deferred_sends_wait_for_the_explicit_flush() {
        let (outbox, mut decryptor, mut far) = outbox(1 << 20, 1 << 16).await;
        let mut touched = Vec::new();
        outbox
            .send_deferred(&[1; 10], Class::Custom, &mut touched)
            .unwrap();
        outbox
            .send_deferred(&[2; 10], Class::Custom, &mut touched)
            .unwrap();
        assert_eq!(touched.len(), 1, "one entry per outbox");
        assert_eq!(outbox.queued_bytes(), 2 * (FRAME_OVERHEAD + 10));
        for touched in touched.drain(..) {
            assert_eq!(touched.flush(), Flushed::Drained);
        }
        let received = receive(&mut far, &mut decryptor, 2).await;
        assert_eq!(received, vec![vec![1; 10], vec![2; 10]]);
    }
}
