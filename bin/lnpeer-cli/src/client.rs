//! Talking to the daemon: reading concatenated JSON objects, enabling and printing
//! notifications, and waiting for the response.
//!
//! The daemon writes each response or notification as a compact JSON object followed by
//! `"\n\n"`, but nothing here relies on the separator or on one read holding one object:
//! [`ObjectReader`] feeds the bytes as they arrive to the node's own splitter
//! (`jsonrpc::framing::ValueSplitter`), which hands out each top-level value once it is complete
//! and checked. Finding the end is linear in the response size, however it is split.

use std::fmt;
use std::io::{self, Read, Write};

use jsonrpc::framing::{Next, ValueSplitter};

use crate::args::Level;
use crate::json::Json;

/// Why talking to the daemon failed (exit code 2).
#[derive(Debug)]
pub enum ReadError {
    /// The daemon closed the connection before a complete object arrived.
    Closed,
    /// The socket failed.
    Io(io::Error),
    /// What arrived is not JSON; holds everything buffered from the start of the bad
    /// value on, lossily decoded.
    Malformed(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Closed => f.write_str("socket closed"),
            ReadError::Io(e) => f.write_str(&os_message(e)),
            ReadError::Malformed(text) => write!(f, "Malformed response '{text}'"),
        }
    }
}

impl std::error::Error for ReadError {}

/// An error's text without Rust's ` (os error N)` suffix, the way C's `err()` prints
/// `strerror`: `Connection refused`.
pub fn os_message(error: &io::Error) -> String {
    let text = error.to_string();
    match error.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .map_or_else(|| text.clone(), str::to_owned),
        None => text,
    }
}

/// The deepest response accepted: one less than serde_json's recursion limit, so whatever the
/// splitter hands out also parses.
const MAX_RESPONSE_DEPTH: usize = jsonrpc::framing::SERDE_JSON_DEPTH_LIMIT - 1;

/// Splits a byte stream into top-level JSON values, with the node's own splitter.
#[derive(Debug)]
pub struct ObjectReader<R> {
    inner: R,
    values: ValueSplitter,
}

impl<R: Read> ObjectReader<R> {
    /// Reads from `inner`.
    pub fn new(inner: R) -> Self {
        ObjectReader {
            inner,
            values: ValueSplitter::new(MAX_RESPONSE_DEPTH),
        }
    }

    /// The underlying reader, e.g. to write a request on the same socket.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The next complete top-level value's text, reading as much as it takes. Whitespace
    /// (the `"\n\n"` separators) between values is skipped.
    ///
    /// # Errors
    ///
    /// [`ReadError`] if the stream ends or fails first, or the value is not valid JSON.
    pub fn next_value(&mut self) -> Result<String, ReadError> {
        loop {
            match self.values.next_value() {
                Next::Value(text) => return Ok(text.to_owned()),
                Next::NeedMore => {}
                Next::Invalid(_) | Next::TooDeep => {
                    let received = self.values.unconsumed();
                    return Err(ReadError::Malformed(
                        String::from_utf8_lossy(received).into_owned(),
                    ));
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.inner.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => self.values.push(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }
}

/// Whether `value` is a notification: an object with `method` and `params` but no `id`
/// (`lightning-cli`'s test). Anything else is taken as a response.
pub fn is_notification(value: &Json<'_>) -> bool {
    value.is_object()
        && value.get("id").is_none()
        && value.get("method").is_some()
        && value.get("params").is_some()
}

/// Prints `message` and `progress` notifications as `lightning-cli` does: to standard
/// output, each `message` at or above the level as `# <message>`, progress as a
/// redrawn `# [Stage s/S ]n/N |====    |` bar.
#[derive(Debug)]
pub struct Notifier<W> {
    out: W,
    level: Option<Level>,
    last_was_progress: bool,
}

/// Width of the progress bar, between its `|`s.
const BAR_WIDTH: usize = 60;

impl<W: Write> Notifier<W> {
    /// Prints notifications at `level` or above to `out`; `None` prints none.
    pub fn new(out: W, level: Option<Level>) -> Self {
        Notifier {
            out,
            level,
            last_was_progress: false,
        }
    }

    /// The output, e.g. to inspect it in tests.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Prints one notification (see [`is_notification`]). Malformed or unknown ones, and
    /// messages below the level, are skipped silently; write errors are ignored, as
    /// `lightning-cli` ignores `printf`'s.
    pub fn handle(&mut self, notification: &Json<'_>) {
        let Some(threshold) = self.level else {
            return;
        };
        let (Some(method), Some(params)) = (notification.get("method"), notification.get("params"))
        else {
            return;
        };
        let mut text = String::new();
        if method.content_eq("message") {
            let level = params
                .get("level")
                .and_then(|l| l.content().parse::<Level>().ok());
            if level.is_none_or(|level| level < threshold) {
                return;
            }
            if self.last_was_progress {
                text.push('\n');
            }
            self.last_was_progress = false;
            if let Some(message) = params.get("message") {
                text.push_str(&format!("# {}\n", message.content()));
            }
        } else if method.content_eq("progress") {
            let (Some(num), Some(total)) = (
                params.get("num").and_then(Json::as_u32),
                params.get("total").and_then(Json::as_u32),
            ) else {
                return;
            };
            text.push_str(&progress_line(num, total, params.get("stage")));
            if num.saturating_add(1) == total {
                text.push('\n');
                self.last_was_progress = false;
            } else {
                self.last_was_progress = true;
            }
        } else {
            return;
        }
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    /// Ends a progress bar's line before the result is printed.
    pub fn finish(&mut self) {
        if self.last_was_progress {
            let _ = self.out.write_all(b"\n");
            let _ = self.out.flush();
            self.last_was_progress = false;
        }
    }
}

/// `\r# [Stage s/S ]n/N |bar|`, with 1-based `s` and `n` right-aligned to the totals' width.
fn progress_line(num: u32, total: u32, stage: Option<&Json<'_>>) -> String {
    let mut line = String::from("\r# ");
    if let Some(stage) = stage {
        if let (Some(s), Some(t)) = (
            stage.get("num").and_then(Json::as_u32),
            stage.get("total").and_then(Json::as_u32),
        ) {
            let t = t.to_string();
            line.push_str(&format!("Stage {:>w$}/{t} ", u64::from(s) + 1, w = t.len()));
        }
    }
    let total_text = total.to_string();
    line.push_str(&format!(
        "{:>w$}/{total_text} ",
        u64::from(num) + 1,
        w = total_text.len()
    ));
    let filled = if total <= 1 {
        BAR_WIDTH
    } else {
        (BAR_WIDTH as u64 * u64::from(num) / u64::from(total - 1)).min(BAR_WIDTH as u64) as usize
    };
    line.push('|');
    line.push_str(&"=".repeat(filled));
    line.push_str(&" ".repeat(BAR_WIDTH - filled));
    line.push('|');
    line
}

/// A failure while talking to the daemon: the message for stderr (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkError(pub String);

impl fmt::Display for TalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TalkError {}

/// One exchange with the daemon over `stream`: if `enable` is given, sends it (the
/// notifications request) and waits for its reply; then sends `request` and returns the
/// text of the first value that is not a notification. Notifications arriving meanwhile
/// go to `notifier`.
///
/// The reply to `enable` is not checked: a daemon that refuses it still gets the request,
/// as with `lightning-cli`.
///
/// # Errors
///
/// [`TalkError`] with `lightning-cli`'s wording (`Writing command: …`,
/// `reading response: socket closed`, `Malformed response '…'`, …).
pub fn exchange<S: Read + Write, W: Write>(
    stream: S,
    enable: Option<&str>,
    request: &str,
    notifier: &mut Notifier<W>,
) -> Result<String, TalkError> {
    let mut reader = ObjectReader::new(stream);
    if let Some(enable) = enable {
        send(reader.get_mut(), enable)
            .map_err(|e| TalkError(format!("Writing enable command: {}", os_message(&e))))?;
        next_response(&mut reader, notifier)
            .map_err(|e| TalkError(format!("Reading enable response: {e}")))?;
    }
    send(reader.get_mut(), request)
        .map_err(|e| TalkError(format!("Writing command: {}", os_message(&e))))?;
    next_response(&mut reader, notifier).map_err(|e| match e {
        ReadError::Malformed(_) => TalkError(e.to_string()),
        e => TalkError(format!("reading response: {e}")),
    })
}

fn send<S: Write>(stream: &mut S, text: &str) -> io::Result<()> {
    stream.write_all(text.as_bytes())?;
    stream.flush()
}

/// Reads values, printing and skipping notifications, until one that is not.
fn next_response<R: Read, W: Write>(
    reader: &mut ObjectReader<R>,
    notifier: &mut Notifier<W>,
) -> Result<String, ReadError> {
    loop {
        let text = reader.next_value()?;
        match Json::parse(&text) {
            Ok(value) if is_notification(&value) => notifier.handle(&value),
            _ => return Ok(text),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::collections::VecDeque;

    /// A stream that returns its chunks one read at a time and records what is written.
    struct Chunked {
        chunks: VecDeque<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Chunked {
        fn new(chunks: &[&[u8]]) -> Self {
            Chunked {
                chunks: chunks.iter().map(|c| c.to_vec()).collect(),
                written: Vec::new(),
            }
        }
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(mut chunk) = self.chunks.pop_front() else {
                return Ok(0);
            };
            if chunk.len() > buf.len() {
                let rest = chunk.split_off(buf.len());
                self.chunks.push_front(rest);
            }
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
    }

    impl Write for Chunked {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn values(chunks: &[&[u8]]) -> (Vec<String>, ReadError) {
        let mut reader = ObjectReader::new(Chunked::new(chunks));
        let mut out = Vec::new();
        loop {
            match reader.next_value() {
                Ok(v) => out.push(v),
                Err(e) => return (out, e),
            }
        }
    }

    #[test]
    fn splits_values_however_the_reads_fall() {
        let stream = concat!(
            r#"{"jsonrpc":"2.0","method":"message","params":{"level":"info","message":"a } \" ]"}}"#,
            "\n\n",
            r#"{"jsonrpc":"2.0","id":"cli:x#1","result":{"s":"{[\\","n":[1,{"e":[]}]}}"#,
            "\n\n"
        )
        .as_bytes();
        let want = [
            r#"{"jsonrpc":"2.0","method":"message","params":{"level":"info","message":"a } \" ]"}}"#,
            r#"{"jsonrpc":"2.0","id":"cli:x#1","result":{"s":"{[\\","n":[1,{"e":[]}]}}"#,
        ];
        // All at once, byte by byte, and split at every position.
        let (got, end) = values(&[stream]);
        assert_eq!(got, want);
        assert!(matches!(end, ReadError::Closed));
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(values(&bytes).0, want);
        // (An empty read means end of stream, so every piece is non-empty.)
        for cut in 1..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(values(&[a, b]).0, want, "cut at {cut}");
        }
    }

    #[test]
    fn no_separator_needed_and_multibyte_split() {
        let stream = "{\"a\":\"⚡\"}{\"b\":2}[3] \"s\" 42\n\n".as_bytes();
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        let (got, end) = values(&bytes);
        assert_eq!(got, [r#"{"a":"⚡"}"#, r#"{"b":2}"#, "[3]", "\"s\"", "42"]);
        assert!(matches!(end, ReadError::Closed));
    }

    #[test]
    fn a_big_value_in_many_reads() {
        let body: Vec<String> = (0..20_000).map(|i| format!("{{\"n\":{i}}}")).collect();
        let text = format!("{{\"result\":[{}]}}\n\n", body.join(","));
        let chunks: Vec<&[u8]> = text.as_bytes().chunks(1000).collect();
        let (got, _) = values(&chunks);
        assert_eq!(got, [text.trim_end()]);
    }

    #[test]
    fn malformed_and_truncated() {
        let (got, end) = values(&[b"{\"a\":1]\n\n"]);
        assert!(got.is_empty());
        assert!(
            matches!(&end, ReadError::Malformed(t) if t == "{\"a\":1]\n\n"),
            "{end:?}"
        );
        assert_eq!(end.to_string(), "Malformed response '{\"a\":1]\n\n'");
        let (got, end) = values(&[b"{\"a\":\xff}"]);
        assert!(got.is_empty());
        assert!(matches!(end, ReadError::Malformed(_)));
        let (got, end) = values(&[b"{\"a\":", b"1"]);
        assert!(got.is_empty());
        assert!(matches!(end, ReadError::Closed));
        let (got, end) = values(&[b"   \n\n  "]);
        assert!(got.is_empty());
        assert!(matches!(end, ReadError::Closed));
    }

    #[test]
    fn notification_detection() {
        let yes = Json::parse(r#"{"method":"message","params":{}}"#).unwrap();
        assert!(is_notification(&yes));
        for no in [
            r#"{"id":"x","method":"message","params":{}}"#,
            r#"{"id":null,"method":"message","params":{}}"#,
            r#"{"method":"message"}"#,
            r#"{"params":{}}"#,
            r#"["method","params"]"#,
        ] {
            assert!(!is_notification(&Json::parse(no).unwrap()), "{no}");
        }
    }

    fn notify(level: Option<Level>, list: &[&str]) -> String {
        let mut notifier = Notifier::new(Vec::new(), level);
        for text in list {
            notifier.handle(&Json::parse(text).unwrap());
        }
        notifier.finish();
        String::from_utf8(notifier.into_inner()).unwrap()
    }

    #[test]
    fn messages_by_level() {
        let list = [
            r#"{"method":"message","params":{"id":"x","level":"debug","message":"dbg"}}"#,
            r#"{"method":"message","params":{"id":"x","level":"info","message":"hello \"you\""}}"#,
            r#"{"method":"message","params":{"id":"x","level":"broken","message":"bad"}}"#,
            r#"{"method":"message","params":{"level":"loud","message":"unknown level"}}"#,
            r#"{"method":"message","params":{"message":"no level"}}"#,
            r#"{"method":"message","params":{"level":"info"}}"#,
            r#"{"method":"other","params":{"level":"info","message":"other"}}"#,
        ];
        assert_eq!(
            notify(Some(Level::Info), &list),
            "# hello \\\"you\\\"\n# bad\n"
        );
        assert_eq!(
            notify(Some(Level::Io), &list),
            "# dbg\n# hello \\\"you\\\"\n# bad\n"
        );
        assert_eq!(notify(Some(Level::Broken), &list), "# bad\n");
        assert_eq!(notify(None, &list), "");
    }

    #[test]
    fn progress_bars() {
        let out = notify(
            Some(Level::Info),
            &[
                r#"{"method":"progress","params":{"num":0,"total":3}}"#,
                r#"{"method":"progress","params":{"num":1,"total":3}}"#,
                r#"{"method":"message","params":{"level":"info","message":"m"}}"#,
                r#"{"method":"progress","params":{"num":2,"total":3}}"#,
                r#"{"method":"progress","params":{"num":0,"total":1}}"#,
                r#"{"method":"progress","params":{"num":9,"total":10,"stage":{"num":0,"total":12}}}"#,
                r#"{"method":"progress","params":{"num":"x","total":3}}"#,
            ],
        );
        let bar = |n: usize| format!("|{}{}|", "=".repeat(n), " ".repeat(BAR_WIDTH - n));
        assert_eq!(
            out,
            format!(
                "\r# 1/3 {}\r# 2/3 {}\n# m\n\r# 3/3 {}\n\r# 1/1 {}\n\r# Stage  1/12 10/10 {}\n",
                bar(0),
                bar(30),
                bar(60),
                bar(60),
                bar(60)
            )
        );
        // An unfinished bar gets its line ended before the result.
        let out = notify(
            Some(Level::Info),
            &[r#"{"method":"progress","params":{"num":0,"total":2}}"#],
        );
        assert!(out.ends_with("|\n"), "{out:?}");
    }

    #[test]
    fn exchange_sends_enable_then_request() {
        let stream = Chunked::new(&[
            b"{\"jsonrpc\":\"2.0\",\"id\":\"cli:notifications#1\",\"result\":{}}\n",
            b"\n{\"jsonrpc\":\"2.0\",\"method\":\"message\",\"params\":{\"level\":\"info\",\"message\":\"hi\"}}\n\n{\"jsonrpc\":\"2.0\",\"id\":\"cli:x#1\",",
            b"\"result\":{}}\n\n",
        ]);
        let mut notifier = Notifier::new(Vec::new(), Some(Level::Info));
        let mut stream = stream;
        let response = exchange(&mut stream, Some("ENABLE"), "REQUEST", &mut notifier).unwrap();
        assert_eq!(response, r#"{"jsonrpc":"2.0","id":"cli:x#1","result":{}}"#);
        assert_eq!(stream.written, b"ENABLEREQUEST");
        assert_eq!(notifier.into_inner(), b"# hi\n");
    }

    #[test]
    fn exchange_errors() {
        let mut notifier = Notifier::new(Vec::new(), None);
        let err = exchange(Chunked::new(&[]), Some("E"), "R", &mut notifier).unwrap_err();
        assert_eq!(err.0, "Reading enable response: socket closed");
        let err = exchange(Chunked::new(&[]), None, "R", &mut notifier).unwrap_err();
        assert_eq!(err.0, "reading response: socket closed");
        let err = exchange(Chunked::new(&[b"{]"]), None, "R", &mut notifier).unwrap_err();
        assert_eq!(err.0, "Malformed response '{]'");
    }

    #[test]
    fn os_messages_look_like_strerror() {
        let e = io::Error::from_raw_os_error(111);
        assert_eq!(os_message(&e), "Connection refused");
        let e = io::Error::other("custom");
        assert_eq!(os_message(&e), "custom");
    }
}
