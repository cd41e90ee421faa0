//! A connection's writer task: it writes what senders queue on the connection's [`Outbox`]
//! until the connection closes, then tears the connection down.

use crate::connection::{teardown, Link};
use crate::outbox::Outbox;
use crate::tasks::stopped;

/// Writes what senders queue until the connection closes (see [`Outbox::run_writer`]).
pub(crate) async fn writer(link: Link, outbox: Outbox) {
    let Link {
        inner,
        id,
        connection_id,
        mut closed,
    } = link;
    let reason = tokio::select! {
        reason = outbox.run_writer() => reason,
        _ = stopped(&mut closed) => "closed".to_owned(),
    };
    outbox.close();
    teardown(&inner, id, connection_id, &reason);
}
