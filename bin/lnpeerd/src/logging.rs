//! Core Lightning's log line format, produced from `tracing` events.
//!
//! Tools that read `lightningd` logs (pyln-testing's `wait_for_log`, people's `grep`s) key on
//! the exact shape of CLN's lines (`lightningd/log.c:log_to_files`), so we reproduce it:
//!
//! ```text
//! 2026-11-21T11:59:11.123Z INFO    lightningd: Server started with public key 02ab…
//! 2026-11-21T11:59:11.123Z DEBUG   02ab…cd-connectd: peer_out WIRE_PING
//! 2026-11-21T11:59:11.123Z 02ab…cd-connectd: [OUT] 0012deadbeef
//! ```
//!
//! A normal line is `<timestamp> <LEVEL> [<node_id>-]<subsystem>: <message>`, where the level
//! word is padded to 7 columns (`IO     `, `DEBUG  `, `INFO   `, `UNUSUAL`) except
//! `**BROKEN**`, which is 10 wide and unpadded, exactly as CLN prints it. An IO line has no
//! level word at all. The timestamp is UTC with milliseconds (truncated, as CLN does).
//!
//! # Conventions for the rest of the node
//!
//! * **Levels.** `tracing` levels map onto CLN's: `TRACE` = io, `DEBUG` = debug,
//!   `INFO` = info, `WARN` = unusual, `ERROR` = broken. `--log-level` becomes a
//!   [`LevelFilter`] through [`LevelFilterOf::level_filter`].
//! * **Prefix fields.** An event's field [`NODE_ID_FIELD`] (`node_id`, recorded with `%`,
//!   i.e. `Display`, which for node ids is 66 hex digits) and [`SUBSYSTEM_FIELD`]
//!   (`subsystem`, a string such as `connectd` or `channeld-chan#1`, default
//!   [`DEFAULT_SUBSYSTEM`]) build the `[<node_id>-]<subsystem>` prefix. Either may instead
//!   be set on an enclosing span (e.g. one span per peer task); the innermost value wins,
//!   and the event's own field beats any span's.
//! * **IO records.** A `TRACE` event with field [`IO_FIELD`] (`io`) set to `"IN"` or
//!   `"OUT"` is an IO record; its message is the hex of the bytes:
//!   `tracing::trace!(node_id = %id, subsystem = "connectd", io = "OUT", "{}", hex)`.
//! * **Other fields** are appended to the message as ` name=value`, so nothing logged is lost.
//!
//! Like CLN, every character below a space or above `~` in the rendered text is replaced by
//! `?` (one per UTF-8 byte, as CLN's byte-wise loop does), so peer-supplied strings cannot
//! forge extra lines.

use std::collections::VecDeque;
use std::fmt;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;
use std::time::{SystemTime, UNIX_EPOCH};

use node_config::LogLevel;
use rpc::{IoDirection, LogEntry};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Event or span field naming the peer a line is about (`Display`, hex).
pub const NODE_ID_FIELD: &str = "node_id";
/// Event or span field naming the subsystem, e.g. `connectd` or `channeld-chan#1`.
pub const SUBSYSTEM_FIELD: &str = "subsystem";
/// Event field marking an IO record: `"IN"` or `"OUT"`.
pub const IO_FIELD: &str = "io";
/// The subsystem of lines that name none: CLN's main daemon logs under this prefix.
pub const DEFAULT_SUBSYSTEM: &str = "lightningd";

/// The `tracing` filter that shows a level and everything above it.
pub trait LevelFilterOf {
    /// The filter for this level.
    fn level_filter(self) -> LevelFilter;
}

impl LevelFilterOf for LogLevel {
    fn level_filter(self) -> LevelFilter {
        match self {
            LogLevel::Io | LogLevel::Trace => LevelFilter::TRACE,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Unusual => LevelFilter::WARN,
            LogLevel::Broken => LevelFilter::ERROR,
        }
    }
}

/// Why [`init`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoggingError {
    /// The log file could not be opened for appending.
    OpenLogFile {
        /// The file we tried to open.
        path: PathBuf,
        /// The operating system's reason.
        problem: String,
    },
    /// A global `tracing` subscriber was already installed (e.g. `init` called twice).
    AlreadyInstalled,
}

impl fmt::Display for LoggingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoggingError::OpenLogFile { path, problem } => {
                write!(f, "cannot open log file {}: {problem}", path.display())
            }
            LoggingError::AlreadyInstalled => {
                f.write_str("a global tracing subscriber is already installed")
            }
        }
    }
}

impl std::error::Error for LoggingError {}

/// Where rendered lines go; shared with [`LogGuard`] so it can flush at exit.
type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Takes the writer's lock even if a panicking thread poisoned it: losing the log after a
/// panic would hide exactly the lines that explain it.
fn lock(writer: &SharedWriter) -> MutexGuard<'_, Box<dyn Write + Send>> {
    writer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Installs the global subscriber: CLN-format lines at `level` and above, to stdout or,
/// when `log_file` is given, appended to that file (created with mode 0600, since logs
/// name peers and addresses).
///
/// Like `lightningd`, a non-empty existing log file gets four blank lines first, so each
/// run's start is easy to spot.
///
/// # Errors
///
/// [`LoggingError::OpenLogFile`] if the file cannot be opened or written;
/// [`LoggingError::AlreadyInstalled`] if a global subscriber exists already.
pub fn init(level: LogLevel, log_file: Option<&Path>) -> Result<LogGuard, LoggingError> {
    let writer: Box<dyn Write + Send> = match log_file {
        None => Box::new(io::stdout()),
        Some(path) => Box::new(open_log_file(path)?),
    };
    let book = Arc::new(LogBook::new(LOG_BOOK_BYTES));
    let layer = ClnLayer::new(writer).with_book(Arc::clone(&book), level.level_filter());
    let guard = LogGuard {
        writer: Arc::clone(&layer.writer),
    };
    // The book keeps debug lines about peers even when fewer are printed, as CLN's does.
    let filter = level.level_filter().max(LevelFilter::DEBUG);
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| LoggingError::AlreadyInstalled)?;
    let _ = BOOK.set(book);
    Ok(guard)
}

/// How much the log book remembers before it forgets its oldest entries.
pub const LOG_BOOK_BYTES: usize = 16 << 20;

static BOOK: OnceLock<Arc<LogBook>> = OnceLock::new();

/// The log book [`init`] installed, if it ran.
pub fn book() -> Option<Arc<LogBook>> {
    BOOK.get().cloned()
}

/// The recent log lines about peers, for `listpeers`' `level`: entries with a node id, at
/// debug and above (IO too under `--log-level=io`), oldest dropped first once the total
/// exceeds the budget.
#[derive(Debug)]
pub struct LogBook {
    started: Instant,
    budget: usize,
    entries: Mutex<(VecDeque<LogEntry>, usize)>,
}

impl LogBook {
    /// An empty book that keeps about `budget` bytes.
    pub fn new(budget: usize) -> Self {
        LogBook {
            started: Instant::now(),
            budget,
            entries: Mutex::new((VecDeque::new(), 0)),
        }
    }

    fn record(&self, level: Level, fields: &EventFields) {
        let Some(node_id) = &fields.prefix.node_id else {
            return;
        };
        let io = match fields.io.as_deref() {
            Some("IN") => Some(IoDirection::In),
            Some("OUT") => Some(IoDirection::Out),
            _ => None,
        };
        let (level, log, data) = match (io, level) {
            (Some(_), _) => (LogLevel::Io, String::new(), Some(fields.message.clone())),
            (None, Level::TRACE) => (LogLevel::Trace, fields.message.clone(), None),
            (None, Level::DEBUG) => (LogLevel::Debug, fields.message.clone(), None),
            (None, Level::INFO) => (LogLevel::Info, fields.message.clone(), None),
            (None, Level::WARN) => (LogLevel::Unusual, fields.message.clone(), None),
            (None, Level::ERROR) => (LogLevel::Broken, fields.message.clone(), None),
        };
        let entry = LogEntry {
            level,
            io,
            time: self.started.elapsed(),
            node_id: node_id.clone(),
            source: fields
                .prefix
                .subsystem
                .clone()
                .unwrap_or_else(|| DEFAULT_SUBSYSTEM.to_owned()),
            log,
            data,
        };
        let size = entry_size(&entry);
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, bytes) = &mut *guard;
        entries.push_back(entry);
        *bytes += size;
        while *bytes > self.budget {
            match entries.pop_front() {
                Some(old) => *bytes -= entry_size(&old),
                None => break,
            }
        }
    }

    /// The entries about `node_id` (hex) at `level` or above, oldest first.
    pub fn entries(&self, node_id: &str, level: LogLevel) -> Vec<LogEntry> {
        let guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .0
            .iter()
            .filter(|entry| entry.node_id == node_id && entry.level >= level)
            .cloned()
            .collect()
    }
}

fn entry_size(entry: &LogEntry) -> usize {
    std::mem::size_of::<LogEntry>()
        + entry.node_id.len()
        + entry.source.len()
        + entry.log.len()
        + entry.data.as_ref().map_or(0, String::len)
}

fn open_log_file(path: &Path) -> Result<std::fs::File, LoggingError> {
    let err = |e: io::Error| LoggingError::OpenLogFile {
        path: path.to_owned(),
        problem: e.to_string(),
    };
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    if file.metadata().map_err(err)?.len() > 0 {
        file.write_all(b"\n\n\n\n").map_err(err)?;
    }
    Ok(file)
}

/// Returned by [`init`]; flushes the log when dropped, so keep it alive until exit.
#[must_use = "dropping the guard early only flushes; keep it until the process exits"]
pub struct LogGuard {
    writer: SharedWriter,
}

impl fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogGuard").finish_non_exhaustive()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        // Nothing useful can be done with a failed flush at exit.
        let _ = lock(&self.writer).flush();
    }
}

/// A `tracing_subscriber` layer that writes each event as one CLN log line.
///
/// [`init`] installs it globally; build one directly to log somewhere else (tests render
/// into a buffer). It does no level filtering itself: wrap it with
/// [`Layer::with_filter`] and [`LevelFilterOf::level_filter`].
pub struct ClnLayer {
    writer: SharedWriter,
    clock: fn() -> SystemTime,
    /// With a book: the book gets every event the layer sees, lines only those at or above
    /// this level.
    book: Option<(Arc<LogBook>, LevelFilter)>,
}

impl fmt::Debug for ClnLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClnLayer").finish_non_exhaustive()
    }
}

impl ClnLayer {
    /// A layer writing lines to `writer`, stamped with the system clock.
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        let writer: Box<dyn Write + Send> = Box::new(writer);
        ClnLayer {
            writer: Arc::new(Mutex::new(writer)),
            clock: SystemTime::now,
            book: None,
        }
    }

    /// Also records events about peers in `book`; only events at `print` or above become
    /// lines.
    pub fn with_book(mut self, book: Arc<LogBook>, print: LevelFilter) -> Self {
        self.book = Some((book, print));
        self
    }

    /// Replaces the clock, so tests get fixed timestamps.
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }
}

/// The `[<node_id>-]<subsystem>` parts a span carries, kept in its extensions.
#[derive(Debug, Default, Clone)]
struct Prefix {
    node_id: Option<String>,
    subsystem: Option<String>,
}

impl Visit for Prefix {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            NODE_ID_FIELD => self.node_id = Some(value.to_owned()),
            SUBSYSTEM_FIELD => self.subsystem = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            NODE_ID_FIELD => self.node_id = Some(format!("{value:?}")),
            SUBSYSTEM_FIELD => self.subsystem = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

/// Everything an event says, sorted into the parts of a line.
#[derive(Debug, Default)]
struct EventFields {
    prefix: Prefix,
    io: Option<String>,
    message: String,
    /// ` name=value` for every field we have no slot for.
    rest: String,
}

impl EventFields {
    fn record(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" => self.message = value,
            NODE_ID_FIELD => self.prefix.node_id = Some(value),
            SUBSYSTEM_FIELD => self.prefix.subsystem = Some(value),
            IO_FIELD => self.io = Some(value),
            name => {
                // Writing to a String cannot fail.
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl<S> Layer<S> for ClnLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut prefix = Prefix::default();
        attrs.record(&mut prefix);
        if prefix.node_id.is_none() && prefix.subsystem.is_none() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(prefix);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<Prefix>() {
            Some(prefix) => values.record(prefix),
            None => {
                let mut prefix = Prefix::default();
                values.record(&mut prefix);
                extensions.insert(prefix);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = EventFields::default();
        event.record(&mut fields);
        // Fill what the event left out from its spans, innermost first.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if fields.prefix.node_id.is_some() && fields.prefix.subsystem.is_some() {
                    break;
                }
                if let Some(prefix) = span.extensions().get::<Prefix>() {
                    if fields.prefix.node_id.is_none() {
                        fields.prefix.node_id.clone_from(&prefix.node_id);
                    }
                    if fields.prefix.subsystem.is_none() {
                        fields.prefix.subsystem.clone_from(&prefix.subsystem);
                    }
                }
            }
        }
        if fields.io.is_some() {
            redact_secret_bearing(&mut fields.message);
        }
        let level = *event.metadata().level();
        if let Some((book, print)) = &self.book {
            book.record(level, &fields);
            if *print < level {
                return;
            }
        }
        let line = render_line((self.clock)(), level, &fields);
        let mut writer = lock(&self.writer);
        // One write per line keeps lines whole in an append-mode file; a failed log write
        // has nowhere better to be reported.
        let _ = writer.write_all(line.as_bytes());
        let _ = writer.flush();
    }
}

/// Message types whose bytes carry a secret: commando requests carry a rune (a bearer token),
/// so their IO records keep only the type and request id (`commando`'s 10-byte header).
const SECRET_BEARING_TYPES: [u16; 2] = [
    commando::ChunkKind::CommandContinues.msg_type(),
    commando::ChunkKind::CommandTerminal.msg_type(),
];

/// Cuts an IO record's hex after the header when the message is of a
/// [`SECRET_BEARING_TYPES`] type, saying how much was left out.
fn redact_secret_bearing(hex: &mut String) {
    const KEPT_HEX: usize = 2 * commando::chunk::HEADER_LEN;
    let secret_bearing = hex
        .get(..4)
        .and_then(|ty| u16::from_str_radix(ty, 16).ok())
        .is_some_and(|ty| SECRET_BEARING_TYPES.contains(&ty));
    if secret_bearing && hex.len() > KEPT_HEX {
        let hidden = (hex.len() - KEPT_HEX) / 2;
        hex.truncate(KEPT_HEX);
        hex.push_str(&format!(
            "... ({hidden} bytes not logged: a commando request carries a rune)"
        ));
    }
}

/// CLN's level column, padded as `log.c:level_prefix` pads it.
fn level_word(level: Level) -> &'static str {
    match level {
        Level::TRACE => "IO     ",
        Level::DEBUG => "DEBUG  ",
        Level::INFO => "INFO   ",
        Level::WARN => "UNUSUAL",
        Level::ERROR => "**BROKEN**",
    }
}

fn render_line(now: SystemTime, level: Level, fields: &EventFields) -> String {
    let mut line = cln_timestamp(now);
    line.push(' ');
    let io_dir = match fields.io.as_deref() {
        Some("IN") => Some("[IN]"),
        Some("OUT") => Some("[OUT]"),
        _ => None,
    };
    if io_dir.is_none() {
        line.push_str(level_word(level));
        line.push(' ');
    }
    let mut text = String::new();
    if let Some(node_id) = &fields.prefix.node_id {
        text.push_str(node_id);
        text.push('-');
    }
    text.push_str(
        fields
            .prefix
            .subsystem
            .as_deref()
            .unwrap_or(DEFAULT_SUBSYSTEM),
    );
    text.push_str(": ");
    match io_dir {
        Some(dir) => {
            text.push_str(dir);
            text.push(' ');
            text.push_str(&fields.message);
        }
        None => {
            text.push_str(&fields.message);
            text.push_str(&fields.rest);
            if let Some(io) = &fields.io {
                // An `io` value we don't understand is shown, not dropped.
                let _ = write!(text, " io={io}");
            }
        }
    }
    sanitize_into(&text, &mut line);
    line.push('\n');
    line
}

/// Copies `text`, replacing what CLN's `logv` replaces (bytes below `' '` or from 0x7f up)
/// with `?`, one per byte.
fn sanitize_into(text: &str, out: &mut String) {
    for c in text.chars() {
        if !(' '..'\u{7f}').contains(&c) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
}

/// Formats `t` as CLN's log timestamp: `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, milliseconds
/// truncated. Times before 1970 print as the epoch.
pub fn cln_timestamp(t: SystemTime) -> String {
    let since_epoch = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let millis = since_epoch.subsec_millis();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let secs_of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs_of_day / 3600,
        secs_of_day % 3600 / 60,
        secs_of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// restricted to non-negative days so it needs no signed arithmetic).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01, so leap days fall at the end of each year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March: 0 = March … 11 = February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn timestamps_match_known_dates() {
        let cases = [
            (at(0, 0), "1970-01-01T00:00:00.000Z"),
            (at(951_782_400, 0), "2000-02-29T00:00:00.000Z"),
            (at(951_868_800 - 1, 999), "2000-02-29T23:59:59.999Z"),
            (at(951_868_800, 0), "2000-03-01T00:00:00.000Z"),
            (at(94_694_399, 5), "1972-12-31T23:59:59.005Z"),
            (at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z"),
            (at(1_795_262_351, 123), "2026-11-21T11:59:11.123Z"),
        ];
        for (time, want) in cases {
            assert_eq!(cln_timestamp(time), want);
        }
        // Milliseconds are truncated, not rounded.
        let almost = at(0, 0) + Duration::from_micros(1_999);
        assert_eq!(cln_timestamp(almost), "1970-01-01T00:00:00.001Z");
        // Before the epoch clamps rather than panicking.
        assert_eq!(
            cln_timestamp(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn civil_dates_round_every_day_for_four_centuries() {
        // Walk day by day from 1970 and check each step is the calendar's next day.
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..146_097 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > month_len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn log_levels_parse_and_map() {
        for level in LogLevel::ALL {
            assert_eq!(level.name().parse::<LogLevel>(), Ok(level));
        }
        assert_eq!(
            "trace".parse::<LogLevel>().map_err(|e| e.to_string()),
            Err("unknown log level 'trace' (expected io, debug, info, unusual, broken)".to_owned())
        );
        assert_eq!(LogLevel::default(), LogLevel::Info);
        assert_eq!(LogLevel::Io.level_filter(), LevelFilter::TRACE);
        assert_eq!(LogLevel::Unusual.level_filter(), LevelFilter::WARN);
        assert_eq!(LogLevel::Broken.level_filter(), LevelFilter::ERROR);
    }

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn fixed_clock() -> SystemTime {
        at(1_795_262_351, 123)
    }

    const NODE: &str = "02ab5b7d4b2eee1e4a6f1d3e0e1c0a3b0f9e8d7c6b5a4938271605f4e3d2c1b0a9";

    /// Runs `f` under a subscriber with our layer at `level`, returning what it wrote.
    fn render(level: LogLevel, f: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let layer = ClnLayer::new(buffer.clone()).with_clock(fixed_clock);
        let subscriber =
            tracing_subscriber::registry().with(layer.with_filter(level.level_filter()));
        tracing::subscriber::with_default(subscriber, f);
        buffer.text()
    }

    #[test]
    fn normal_line_without_node_id() {
        let out = render(LogLevel::Info, || {
            tracing::info!(
                "Server started with public key {NODE}, alias LNPEER (color #02ab12) and lightningd v0.1.0"
            );
        });
        assert_eq!(
            out,
            format!(
                "2026-11-21T11:59:11.123Z INFO    lightningd: Server started with public key \
                 {NODE}, alias LNPEER (color #02ab12) and lightningd v0.1.0\n"
            )
        );
    }

    #[test]
    fn normal_line_with_node_id_and_subsystem() {
        let out = render(LogLevel::Debug, || {
            let id = NODE.to_owned();
            tracing::debug!(node_id = %id, subsystem = "connectd", "peer_out WIRE_PING");
        });
        assert_eq!(
            out,
            format!("2026-11-21T11:59:11.123Z DEBUG   {NODE}-connectd: peer_out WIRE_PING\n")
        );
    }

    #[test]
    fn io_lines_have_no_level() {
        let out = render(LogLevel::Io, || {
            tracing::trace!(
                node_id = NODE,
                subsystem = "connectd",
                io = "OUT",
                "0012deadbeef"
            );
            tracing::trace!(node_id = NODE, subsystem = "connectd", io = "IN", "0013");
            tracing::trace!(subsystem = "jsonrpc#12", io = "IN", "7b7d");
        });
        assert_eq!(
            out,
            format!(
                "2026-11-21T11:59:11.123Z {NODE}-connectd: [OUT] 0012deadbeef\n\
                 2026-11-21T11:59:11.123Z {NODE}-connectd: [IN] 0013\n\
                 2026-11-21T11:59:11.123Z jsonrpc#12: [IN] 7b7d\n"
            )
        );
    }

    #[test]
    fn every_level_word() {
        let out = render(LogLevel::Io, || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });
        let ts = "2026-11-21T11:59:11.123Z";
        assert_eq!(
            out,
            format!(
                "{ts} IO      lightningd: t\n\
                 {ts} DEBUG   lightningd: d\n\
                 {ts} INFO    lightningd: i\n\
                 {ts} UNUSUAL lightningd: w\n\
                 {ts} **BROKEN** lightningd: e\n"
            )
        );
    }

    #[test]
    fn level_filter_drops_lower_levels() {
        let out = render(LogLevel::Unusual, || {
            tracing::trace!(io = "IN", "00");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
        });
        assert_eq!(out, "2026-11-21T11:59:11.123Z UNUSUAL lightningd: w\n");
    }

    #[test]
    fn spans_supply_prefix_and_events_override() {
        let out = render(LogLevel::Debug, || {
            let peer = tracing::info_span!("peer", node_id = NODE, subsystem = "connectd");
            let _entered = peer.enter();
            tracing::info!("from span");
            tracing::info!(subsystem = "channeld-chan#1", "event wins");
            let inner = tracing::info_span!("inner", subsystem = "openingd-chan#3");
            let _inner = inner.enter();
            tracing::info!("innermost span wins");
        });
        let ts = "2026-11-21T11:59:11.123Z";
        assert_eq!(
            out,
            format!(
                "{ts} INFO    {NODE}-connectd: from span\n\
                 {ts} INFO    {NODE}-channeld-chan#1: event wins\n\
                 {ts} INFO    {NODE}-openingd-chan#3: innermost span wins\n"
            )
        );
    }

    #[test]
    fn span_fields_recorded_later_are_used() {
        let out = render(LogLevel::Info, || {
            let span = tracing::info_span!(
                "peer",
                node_id = tracing::field::Empty,
                subsystem = "connectd"
            );
            span.record("node_id", NODE);
            let _entered = span.enter();
            tracing::info!("hello");
        });
        assert_eq!(
            out,
            format!("2026-11-21T11:59:11.123Z INFO    {NODE}-connectd: hello\n")
        );
    }

    #[test]
    fn extra_fields_are_kept_and_control_characters_replaced() {
        let out = render(LogLevel::Info, || {
            tracing::info!(peer_count = 3, "evil\nline é");
        });
        assert_eq!(
            out,
            "2026-11-21T11:59:11.123Z INFO    lightningd: evil?line ?? peer_count=3\n"
        );
    }

    #[test]
    fn the_book_keeps_peer_lines_below_the_print_level_and_forgets_the_oldest() {
        let buffer = Buffer::default();
        let book = Arc::new(LogBook::new(2_000));
        let layer = ClnLayer::new(buffer.clone())
            .with_clock(fixed_clock)
            .with_book(Arc::clone(&book), LevelFilter::INFO);
        let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::TRACE));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(node_id = NODE, subsystem = "connectd", "quiet detail");
            tracing::info!(node_id = NODE, subsystem = "connectd", "Connected");
            tracing::trace!(
                node_id = NODE,
                subsystem = "channeld-chan#1",
                io = "OUT",
                "7777"
            );
            tracing::info!("about no peer");
        });
        // Only the info lines are printed...
        assert_eq!(buffer.text().lines().count(), 2);
        // ...but the book has every line about the peer.
        let all = book.entries(NODE, LogLevel::Io);
        let kinds: Vec<_> = all.iter().map(LogEntry::type_name).collect();
        assert_eq!(kinds, ["DEBUG", "INFO", "IO_OUT"]);
        assert_eq!(all[2].source, "channeld-chan#1");
        assert_eq!(all[2].data.as_deref(), Some("7777"));
        assert_eq!(all[1].log, "Connected");
        let info_up: Vec<_> = book
            .entries(NODE, LogLevel::Info)
            .into_iter()
            .map(|e| e.log)
            .collect();
        assert_eq!(info_up, ["Connected"]);
        assert!(book.entries("02ff", LogLevel::Io).is_empty());

        tracing::subscriber::with_default(
            tracing_subscriber::registry().with(
                ClnLayer::new(Buffer::default())
                    .with_book(Arc::clone(&book), LevelFilter::INFO)
                    .with_filter(LevelFilter::TRACE),
            ),
            || {
                for i in 0..100 {
                    tracing::info!(node_id = NODE, "line {i}");
                }
            },
        );
        let kept = book.entries(NODE, LogLevel::Io);
        assert!(
            kept.len() < 20,
            "the budget bounds the book: {}",
            kept.len()
        );
        assert_eq!(kept.last().map(|e| e.log.as_str()), Some("line 99"));
    }

    /// The only test that installs the global subscriber; the others use `with_default`,
    /// which overrides it on their own thread.
    #[test]
    fn init_installs_once_and_writes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let guard = init(LogLevel::Info, Some(&path)).unwrap();
        // Log from a thread of our own: no test-local default can intercept it there.
        std::thread::spawn(|| {
            tracing::debug!("filtered out");
            tracing::warn!(subsystem = "connectd", "global works");
        })
        .join()
        .unwrap();
        drop(guard);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with(" UNUSUAL connectd: global works\n") && text.lines().count() == 1,
            "{text:?}"
        );
        assert_eq!(
            init(LogLevel::Info, None).unwrap_err(),
            LoggingError::AlreadyInstalled
        );
    }

    #[test]
    fn log_file_is_created_private_and_appended() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut file = open_log_file(&path).unwrap();
        file.write_all(b"first\n").unwrap();
        drop(file);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut file = open_log_file(&path).unwrap();
        file.write_all(b"second\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "first\n\n\n\n\nsecond\n"
        );
        let missing = dir.path().join("no/such/dir/log");
        assert!(matches!(
            open_log_file(&missing),
            Err(LoggingError::OpenLogFile { .. })
        ));
    }
}
