//! LDK's log records, labelled with the node they come from, written to stderr (which the test
//! harness captures per test) at or above a chosen level.

use lightning::util::logger::{Level, Logger, Record};

/// Where every part of one node logs.
pub(crate) struct NodeLogger {
    label: String,
    level: Option<Level>,
}

impl NodeLogger {
    /// Records at `level` or above are printed with `label`; `None` prints nothing.
    pub(crate) fn new(label: String, level: Option<Level>) -> Self {
        NodeLogger { label, level }
    }
}

impl Logger for NodeLogger {
    fn log(&self, record: Record) {
        let Some(level) = self.level else {
            return;
        };
        if record.level < level {
            return;
        }
        let peer = record
            .peer_id
            .map(|id| format!(" peer={id}"))
            .unwrap_or_default();
        eprintln!(
            "[{}] {} {}{peer}: {}",
            self.label, record.level, record.module_path, record.args
        );
    }
}
