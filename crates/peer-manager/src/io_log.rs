//! IO log records: every message in and out, at the `io` level, under its peer's owner
//! (`<node_id>-openingd: [OUT] 7777…`), as CLN logs them.

use noise_transport::PublicKey;
use subdaemon_state::{Owner, PeerState};

use crate::registry::Registry;

/// Logs a message under its peer's owner, looked up in the registry (so not to be called
/// while holding the peer's entry: use [`log_io_as`] there). Costs nothing unless `io` is on.
pub(crate) fn log_io(registry: &Registry, id: &PublicKey, direction: &'static str, message: &[u8]) {
    if tracing::enabled!(tracing::Level::TRACE) {
        let prefix = registry
            .log_prefix(id)
            .unwrap_or_else(|| Owner::Openingd.name().to_owned());
        trace_io(&prefix, id, direction, message);
    }
}

/// [`log_io`] for a caller that holds the peer's entry.
pub(crate) fn log_io_as(
    state: &PeerState,
    id: &PublicKey,
    direction: &'static str,
    message: &[u8],
) {
    if tracing::enabled!(tracing::Level::TRACE) {
        trace_io(&state.log_prefix(), id, direction, message);
    }
}

fn trace_io(prefix: &str, id: &PublicKey, direction: &'static str, message: &[u8]) {
    tracing::trace!(node_id = %id, subsystem = %prefix, io = direction, "{}", hex::encode(message));
}
