//! A connection's reader task: a small driver for its [`Session`]. Each wake-up reads the
//! clock once, feeds the session what happened (bytes read, each decrypted message, the
//! timer), and carries out what it decides: replies and pings go to the outbox, custom
//! messages to their consumer, and a close ends the connection.
//!
//! What the reader sends while it handles a batch (its pongs, a handler's replies to any peer)
//! is written once the batch is done, one write per connection, with no task switch.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;

use noise_transport::Decryptor;
use peer_protocol::{Received, Session, SessionConfig, Timer, HANG_UP_REASON};
use tokio::time::Instant;

use crate::connection::{teardown, Link};
use crate::custom::{flush, Delivery, DeliveryFailure};
use crate::establish::FLUSH_ON_CLOSE;
use crate::io_log::log_io;
use crate::manager::Activation;
use crate::manager::Inner;
use crate::outbox::{Class, Outbox};
use crate::registry::PongWaiter;
use crate::stream::ReadHalf;
use crate::tasks::stopped;

/// The session's settings, from the manager's.
fn session_config(inner: &Inner) -> SessionConfig {
    let config = &inner.config;
    SessionConfig {
        keepalive_idle: config.keepalive_idle,
        keepalive_tick_min: config.keepalive_tick_min,
        keepalive_tick_jitter: config.keepalive_tick_jitter,
        ping_burst: config.limits.ping_burst,
        pings_per_second: config.limits.pings_per_second,
        inbound_bytes_per_second: config.limits.peer_inbound_rate,
        inbound_burst_bytes: config.limits.peer_inbound_burst,
        onion_messages: config
            .features
            .offers(wire::feature_bits::OPTION_ONION_MESSAGES),
        onion_message_burst: config.limits.onion_message_burst,
        onion_messages_per_second: config.limits.onion_messages_per_second,
    }
}

pub(crate) async fn reader(
    link: Link,
    socket: ReadHalf,
    mut decryptor: Decryptor,
    outbox: Outbox,
    pong_waiter: PongWaiter,
) {
    let Link {
        inner,
        id,
        connection_id,
        mut closed,
    } = link;
    let jitter_seed = RandomState::new().hash_one(connection_id);
    let mut session = Session::new(
        &session_config(&inner),
        jitter_seed,
        Instant::now().into_std(),
    );
    let mut wake_at = session.poll_timeout();
    let tick = tokio::time::sleep_until(Instant::from_std(wake_at));
    tokio::pin!(tick);
    let mut delivery = Delivery::new(id);
    // Connections sent to while handling this batch (ours, for pongs; any, for a handler's
    // replies): written once the batch is done, one write each.
    let mut touched: Vec<Outbox> = Vec::new();
    // True at the start: the buffer that carried `init` is freed unless a frame is half in.
    let mut drained = true;
    // Bytes the last wake-up read, charged with this wake-up's clock.
    let mut just_read = 0;
    let reason = 'run: loop {
        // The one clock read of this wake-up.
        let now = Instant::now().into_std();
        if just_read > 0 {
            session.handle_read(just_read, now);
            just_read = 0;
        }
        // Frames already buffered go first: those that came in the same read as the peer's
        // `init`, then whatever the last read completed.
        loop {
            let message = match decryptor.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(error) => break 'run error.to_string(),
            };
            log_io(&inner.registry, &id, "IN", message);
            // The lock is taken only for an unknown even type.
            match session.handle_message(message, now, |ty| inner.allows_even(ty.0)) {
                Received::Nothing => {}
                Received::Reply(reply) => {
                    log_io(&inner.registry, &id, "OUT", &reply);
                    let _ = outbox.send_deferred(&reply, Class::Control, &mut touched);
                }
                Received::PingRefused => {
                    tracing::debug!(node_id = %id, subsystem = "connectd", "Ping rate exceeded: not answering");
                }
                Received::Pong { len } => {
                    let waiter = pong_waiter.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(len);
                    }
                }
                Received::Custom(_) => {
                    // Before activation a consumer may still be coming: hold this peer's
                    // messages (backpressure on it alone) rather than drop them.
                    if inner.custom.get().is_none() && !inner.activation.borrow().is_active() {
                        flush(&mut touched);
                        let mut activation = inner.activation.subscribe();
                        tokio::select! {
                            _ = activation.wait_for(Activation::is_active) => {}
                            _ = stopped(&mut closed) => break 'run "closed".to_owned(),
                        }
                    }
                    let delivered = delivery
                        .deliver(
                            inner.custom.get(),
                            &inner.registry,
                            message,
                            &mut touched,
                            &mut closed,
                        )
                        .await;
                    match delivered {
                        Ok(()) => {}
                        Err(DeliveryFailure::Closed) => break 'run "closed".to_owned(),
                        Err(DeliveryFailure::HandlerPanicked) => {
                            tracing::error!(node_id = %id, subsystem = "connectd", "custom message handler panicked: closing the connection");
                            break 'run "custom message handler panicked".to_owned();
                        }
                    }
                }
                Received::OnionMessage => {
                    let Some(handler) = inner.onion.get() else {
                        continue;
                    };
                    // A bug in the handler must not leave the connection without its reader.
                    let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        handler.handle(&id, message)
                    }));
                    match handled {
                        Ok(None) => {}
                        Ok(Some(text)) => {
                            let warning = peer_protocol::warning(&text);
                            log_io(&inner.registry, &id, "OUT", &warning);
                            let _ = outbox.send_deferred(&warning, Class::Control, &mut touched);
                        }
                        Err(_) => {
                            tracing::error!(node_id = %id, subsystem = "connectd", "onion message handler panicked: closing the connection");
                            break 'run "onion message handler panicked".to_owned();
                        }
                    }
                }
                Received::OnionMessageDropped(warning) => {
                    tracing::debug!(node_id = %id, subsystem = "connectd", "onion message over the peer's rate: dropped");
                    if let Some(warning) = warning {
                        log_io(&inner.registry, &id, "OUT", &warning);
                        let _ = outbox.send_deferred(&warning, Class::Control, &mut touched);
                    }
                }
                Received::Warning(text) => {
                    tracing::info!(node_id = %id, subsystem = "connectd", "Received WIRE_WARNING: {text}");
                }
                Received::Error(text) => {
                    tracing::info!(node_id = %id, subsystem = "connectd", "Received WIRE_ERROR: {text}");
                    break 'run format!("peer sent error: {text}");
                }
                Received::WarnAndClose(text) => {
                    tracing::info!(node_id = %id, subsystem = "connectd", "Sending warning and closing: {text}");
                    let warning = peer_protocol::warning(&text);
                    log_io(&inner.registry, &id, "OUT", &warning);
                    let _ = outbox.send(&warning, Class::Control);
                    flush(&mut touched);
                    // The writer closes once the warning is out; if the peer does not take it
                    // in time, we close anyway.
                    outbox.close_after_flush();
                    let _ = tokio::time::timeout(FLUSH_ON_CLOSE, stopped(&mut closed)).await;
                    break 'run text;
                }
            }
        }
        flush(&mut touched);
        // The socket had no more to give: free the buffer until it has.
        if drained {
            decryptor.release_idle_buffer();
            drained = false;
        }
        match session.handle_timeout(now) {
            Timer::Nothing => {}
            Timer::SendPing(ping) => {
                log_io(&inner.registry, &id, "OUT", &ping);
                let _ = outbox.send(&ping, Class::Control);
            }
            Timer::HangUp => break 'run HANG_UP_REASON.to_owned(),
        }
        if session.poll_timeout() != wake_at {
            wake_at = session.poll_timeout();
            tick.as_mut().reset(Instant::from_std(wake_at));
        }
        // Over its byte rate, the peer's socket goes unread for a while and TCP holds it back.
        let throttle = session.read_delay(now);
        tokio::select! {
            _ = stopped(&mut closed) => break 'run "closed".to_owned(),
            // The next wake-up's handle_timeout decides what the tick means.
            _ = &mut tick => {}
            // An async block, so that no timer is made unless the reader is throttled.
            _ = async {
                if let Some(wait) = throttle {
                    tokio::time::sleep(wait).await;
                }
            }, if throttle.is_some() => {}
            // Waiting for readiness rather than in a read lets an idle connection hold no read
            // buffer (see `release_idle_buffer` above).
            ready = socket.readable(), if throttle.is_none() => {
                if let Err(error) = ready {
                    break 'run format!("read failed: {error}");
                }
                let buffer = decryptor.read_buffer();
                let room = buffer.len();
                match socket.try_read(buffer) {
                    Ok(0) => break 'run match decryptor.finish() {
                        Ok(()) => "peer closed the connection".to_owned(),
                        Err(error) => error.to_string(),
                    },
                    Ok(n) => {
                        decryptor.commit(n);
                        drained = n < room;
                        just_read = n;
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => break 'run format!("read failed: {error}"),
                }
            }
        }
    };
    // What a handler sent to other peers before this one failed must still go out.
    flush(&mut touched);
    teardown(&inner, id, connection_id, &reason);
}
