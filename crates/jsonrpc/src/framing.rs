//! Splitting a byte stream into JSON values, and the response frames going back.
//!
//! Requests arrive as JSON objects one after another with no delimiter (CLN's reader is an
//! incremental parser), and may be cut anywhere by the socket. Responses are compact JSON
//! objects each followed by `"\n\n"`, which pyln-client and lightning-cli split on.
//!
//! [`ValueSplitter`] is the one splitter: the RPC socket's, the plugin reader's and the command-line
//! client's. It keeps its place between reads, so a value arriving in many reads is scanned
//! once. [`reference`] (tests and fuzzing only) is serde_json's answer for the same bytes, the
//! oracle the splitter is checked against.

use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::RpcError;

/// serde_json refuses a `Value` nested this deep (its recursion limit), so a splitter that lets
/// values this deep through hands out text that cannot be parsed into a `Value`.
pub const SERDE_JSON_DEPTH_LIMIT: usize = 128;

#[cfg(any(test, feature = "fuzzing"))]
pub mod reference;

/// What [`ValueSplitter::next_value`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole top-level value: well-formed JSON and UTF-8. Ask again for the one after it.
    Value(&'a str),
    /// The buffer ends inside a value or between values: read more.
    NeedMore,
    /// Not JSON, with serde_json's description. The stream cannot be resynchronised: asking
    /// again gives this again.
    Invalid(String),
    /// A value opened more nested arrays and objects than allowed; asking again gives this
    /// again.
    TooDeep,
}

/// A byte stream of JSON values, split as the bytes arrive.
///
/// Each byte is scanned once, whatever the reads' sizes: the scanner keeps its place and its
/// state (the open containers, whether it is inside a string or an escape, which part of a
/// number or literal it is in) between calls. It checks the grammar as it goes, so garbage is
/// reported at the byte that makes it garbage, and nesting beyond the limit at the bracket that
/// crosses it, without waiting for the rest of the value.
///
/// A top-level number ends at the byte after it (which must be whitespace or one of
/// `"[]{},:`, as serde_json's stream reader requires), since a cut number cannot be told from
/// a whole one; every other value ends at its own last byte.
#[derive(Debug)]
pub struct ValueSplitter {
    buf: Vec<u8>,
    /// Values handed out and whitespace skipped: `buf[..consumed]` is dropped at the next
    /// compaction. An unfinished value starts at `consumed`.
    consumed: usize,
    /// `buf[..scanned]` has been through the scanner.
    scanned: usize,
    expect: Expect,
    open: Vec<Container>,
    max_depth: usize,
    failure: Option<Failure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Object,
    Array,
}

/// What the next byte may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Whitespace, or the first byte of the next top-level value.
    TopLevel,
    /// A value, or `]` right after `[`.
    FirstElement,
    /// A value, after `:` or an array's `,`.
    Element,
    /// A key, or `}` right after `{`.
    FirstKey,
    /// A key, after an object's `,`.
    Key,
    /// The `:` after a key.
    Colon,
    /// `,` or the end of the innermost container.
    CommaOrClose,
    /// Inside a string; a key's string is followed by `:`.
    Text {
        key: bool,
        escape: Escape,
    },
    Number(NumberPart),
    /// The letters of `true`, `false` or `null` still to come.
    Literal(&'static [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// Right after `\`.
    Backslash,
    /// Inside `\uXXXX`, with this many hex digits to come.
    Hex(u8),
}

/// Where a number is, after the bytes seen so far (JSON's number grammar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberPart {
    /// `-`
    Minus,
    /// A leading `0`, which no digit may follow.
    Zero,
    Integer,
    /// `.`
    Point,
    Fraction,
    /// `e` or `E`
    Exponent,
    /// The exponent's `+` or `-`.
    ExponentSign,
    ExponentDigits,
}

impl NumberPart {
    /// The part `byte` continues the number into, if it does.
    fn after(self, byte: u8) -> Option<NumberPart> {
        use NumberPart::*;
        match (self, byte) {
            (Minus, b'0') => Some(Zero),
            (Minus | Integer, b'0'..=b'9') => Some(Integer),
            (Zero | Integer, b'.') => Some(Point),
            (Point | Fraction, b'0'..=b'9') => Some(Fraction),
            (Zero | Integer | Fraction, b'e' | b'E') => Some(Exponent),
            (Exponent, b'+' | b'-') => Some(ExponentSign),
            (Exponent | ExponentSign | ExponentDigits, b'0'..=b'9') => Some(ExponentDigits),
            _ => None,
        }
    }

    /// Whether the number is whole if it stops here.
    fn is_whole(self) -> bool {
        matches!(
            self,
            NumberPart::Zero
                | NumberPart::Integer
                | NumberPart::Fraction
                | NumberPart::ExponentDigits
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    Invalid(String),
    TooDeep,
}

/// What one byte did.
enum Step {
    /// It belongs to an unfinished value, or is whitespace between values.
    Continue,
    /// The top-level value ends with this byte (`includes_byte`) or just before it (a number,
    /// whose end is only known from the byte after it).
    Complete {
        includes_byte: bool,
    },
    Invalid,
    TooDeep,
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// The buffer keeps this much room for the next read, so a large request is not read in
/// slivers.
const MIN_READ_ROOM: usize = 8 << 10;

/// An emptied buffer larger than this is given back, so one large request does not pin its
/// memory for the connection's lifetime.
const MAX_IDLE_CAPACITY: usize = 1 << 20;

impl ValueSplitter {
    /// A splitter that refuses values with more than `max_depth` arrays and objects open at
    /// once.
    pub fn new(max_depth: usize) -> Self {
        ValueSplitter {
            buf: Vec::with_capacity(MIN_READ_ROOM),
            consumed: 0,
            scanned: 0,
            expect: Expect::TopLevel,
            open: Vec::new(),
            max_depth,
            failure: None,
        }
    }

    /// Appends bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer to read the stream's next bytes into, with room for a read of at least 8 KiB.
    /// Callers only append to it (`read_buf` does), and then call [`ValueSplitter::next_value`].
    pub fn read_buffer(&mut self) -> &mut Vec<u8> {
        if self.buf.capacity() - self.buf.len() < MIN_READ_ROOM {
            self.buf.reserve(MIN_READ_ROOM);
        }
        &mut self.buf
    }

    /// The bytes kept for the unfinished value: after [`Next::NeedMore`], its bytes so far
    /// (what the size limit applies to); after a failure, the value that failed and whatever
    /// was read after it.
    pub fn unconsumed(&self) -> &[u8] {
        &self.buf[self.consumed..]
    }

    /// The next whole value, scanning only bytes not scanned before.
    pub fn next_value(&mut self) -> Next<'_> {
        match &self.failure {
            Some(Failure::Invalid(message)) => return Next::Invalid(message.clone()),
            Some(Failure::TooDeep) => return Next::TooDeep,
            None => {}
        }
        while self.scanned < self.buf.len() {
            if let Expect::Text {
                escape: Escape::None,
                ..
            } = self.expect
            {
                // Most of a request is plain string bytes: skip them without the state machine.
                let rest = &self.buf[self.scanned..];
                self.scanned += rest
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                    .unwrap_or(rest.len());
                if self.scanned == self.buf.len() {
                    break;
                }
            }
            let at = self.scanned;
            let byte = self.buf[at];
            if self.expect == Expect::TopLevel && is_whitespace(byte) {
                self.scanned += 1;
                self.consumed = self.scanned;
                continue;
            }
            match self.step(byte) {
                Step::Continue => self.scanned += 1,
                Step::Complete { includes_byte } => {
                    let start = self.consumed;
                    let end = if includes_byte { at + 1 } else { at };
                    self.consumed = end;
                    self.scanned = end;
                    self.expect = Expect::TopLevel;
                    return self.complete(start, end);
                }
                Step::Invalid => return self.fail_syntax(at),
                Step::TooDeep => {
                    self.failure = Some(Failure::TooDeep);
                    return Next::TooDeep;
                }
            }
        }
        self.compact();
        Next::NeedMore
    }

    /// Moves the unfinished value to the front of the buffer.
    fn compact(&mut self) {
        if self.consumed == 0 {
            return;
        }
        self.buf.drain(..self.consumed);
        self.scanned -= self.consumed;
        self.consumed = 0;
        if self.buf.is_empty() && self.buf.capacity() > MAX_IDLE_CAPACITY {
            self.buf = Vec::with_capacity(MIN_READ_ROOM);
        }
    }

    fn step(&mut self, byte: u8) -> Step {
        match self.expect {
            _ if is_whitespace(byte) && self.between_tokens() => Step::Continue,
            Expect::TopLevel | Expect::Element => self.begin_value(byte),
            Expect::FirstElement if byte == b']' => self.close(),
            Expect::FirstElement => self.begin_value(byte),
            Expect::FirstKey if byte == b'}' => self.close(),
            Expect::FirstKey | Expect::Key if byte == b'"' => {
                self.expect = Expect::Text {
                    key: true,
                    escape: Escape::None,
                };
                Step::Continue
            }
            Expect::Colon if byte == b':' => {
                self.expect = Expect::Element;
                Step::Continue
            }
            Expect::CommaOrClose => match (self.open.last(), byte) {
                (Some(Container::Object), b',') => {
                    self.expect = Expect::Key;
                    Step::Continue
                }
                (Some(Container::Array), b',') => {
                    self.expect = Expect::Element;
                    Step::Continue
                }
                (Some(Container::Object), b'}') | (Some(Container::Array), b']') => self.close(),
                _ => Step::Invalid,
            },
            Expect::Text { key, escape } => self.text(key, escape, byte),
            Expect::Number(part) => match part.after(byte) {
                Some(next) => {
                    self.expect = Expect::Number(next);
                    Step::Continue
                }
                None if !part.is_whole() => Step::Invalid,
                None if self.open.is_empty() => match byte {
                    // serde_json's stream reader accepts these after a top-level number.
                    b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'[' | b']' | b'{' | b'}' | b','
                    | b':' => Step::Complete {
                        includes_byte: false,
                    },
                    _ => Step::Invalid,
                },
                None => {
                    // The number ended before this byte, which belongs to its container.
                    self.expect = Expect::CommaOrClose;
                    self.step(byte)
                }
            },
            Expect::Literal(rest) => match rest.split_first() {
                Some((&expected, [])) if expected == byte => self.value_done(),
                Some((&expected, more)) if expected == byte => {
                    self.expect = Expect::Literal(more);
                    Step::Continue
                }
                _ => Step::Invalid,
            },
            Expect::FirstKey | Expect::Key | Expect::Colon => Step::Invalid,
        }
    }

    /// Whether whitespace may come next: between tokens, not inside one.
    fn between_tokens(&self) -> bool {
        !matches!(
            self.expect,
            Expect::Text { .. } | Expect::Number(_) | Expect::Literal(_)
        )
    }

    fn begin_value(&mut self, byte: u8) -> Step {
        let (expect, opens) = match byte {
            b'{' => (Expect::FirstKey, Some(Container::Object)),
            b'[' => (Expect::FirstElement, Some(Container::Array)),
            b'"' => (
                Expect::Text {
                    key: false,
                    escape: Escape::None,
                },
                None,
            ),
            b'-' => (Expect::Number(NumberPart::Minus), None),
            b'0' => (Expect::Number(NumberPart::Zero), None),
            b'1'..=b'9' => (Expect::Number(NumberPart::Integer), None),
            b't' => (Expect::Literal(b"rue"), None),
            b'f' => (Expect::Literal(b"alse"), None),
            b'n' => (Expect::Literal(b"ull"), None),
            _ => return Step::Invalid,
        };
        if let Some(container) = opens {
            if self.open.len() >= self.max_depth {
                return Step::TooDeep;
            }
            self.open.push(container);
        }
        self.expect = expect;
        Step::Continue
    }

    fn text(&mut self, key: bool, escape: Escape, byte: u8) -> Step {
        let escape = match (escape, byte) {
            (Escape::None, b'"') if key => {
                self.expect = Expect::Colon;
                return Step::Continue;
            }
            (Escape::None, b'"') => return self.value_done(),
            (Escape::None, b'\\') => Escape::Backslash,
            // serde_json refuses raw control characters in strings, as JSON does.
            (Escape::None, 0..=0x1f) => return Step::Invalid,
            (Escape::None, _) => Escape::None,
            (Escape::Backslash, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                Escape::None
            }
            (Escape::Backslash, b'u') => Escape::Hex(4),
            (Escape::Hex(1), _) if byte.is_ascii_hexdigit() => Escape::None,
            (Escape::Hex(left), _) if byte.is_ascii_hexdigit() => Escape::Hex(left - 1),
            (Escape::Backslash | Escape::Hex(_), _) => return Step::Invalid,
        };
        self.expect = Expect::Text { key, escape };
        Step::Continue
    }

    /// Closes the innermost container, which `step` checked matches the byte.
    fn close(&mut self) -> Step {
        self.open.pop();
        self.value_done()
    }

    /// A value ended with the current byte.
    fn value_done(&mut self) -> Step {
        if self.open.is_empty() {
            Step::Complete {
                includes_byte: true,
            }
        } else {
            self.expect = Expect::CommaOrClose;
            Step::Continue
        }
    }

    /// `buf[start..end]` is a whole value by the grammar; strings may still hold invalid UTF-8,
    /// which serde_json (and so the old splitter) only checks once the value is whole.
    fn complete(&mut self, start: usize, end: usize) -> Next<'_> {
        if let Err(error) = std::str::from_utf8(&self.buf[start..end]) {
            // Kept in place for the error's text.
            self.consumed = start;
            let fallback = describe_at(
                &self.buf[start..end],
                error.valid_up_to(),
                "invalid unicode code point",
            );
            return self.fail(fallback);
        }
        // Checked just above; the second pass costs little next to parsing the request.
        match std::str::from_utf8(&self.buf[start..end]) {
            Ok(text) => Next::Value(text),
            Err(error) => Next::Invalid(error.to_string()),
        }
    }

    fn fail_syntax(&mut self, at: usize) -> Next<'_> {
        let value = &self.buf[self.consumed..=at];
        let fallback = describe_at(value, value.len() - 1, "unexpected character");
        self.fail(fallback)
    }

    /// Fails with serde_json's description of the bytes from the failing value's start (as
    /// the old splitter reported it), or `fallback` should serde_json not see an error there.
    fn fail(&mut self, fallback: String) -> Next<'_> {
        let mut values = serde_json::Deserializer::from_slice(&self.buf[self.consumed..])
            .into_iter::<&RawValue>();
        let message = match values.next() {
            Some(Err(error)) if !error.is_eof() => error.to_string(),
            _ => fallback,
        };
        self.failure = Some(Failure::Invalid(message.clone()));
        Next::Invalid(message)
    }
}

/// `what` at byte `index` of `bytes`, with serde_json's line and (1-based) column.
fn describe_at(bytes: &[u8], index: usize, what: &str) -> String {
    let before = &bytes[..index.min(bytes.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let column = index - line_start + 1;
    format!("{what} at line {line} column {column}")
}

/// A success response frame. `id` is the request's id token, copied byte for byte.
pub fn result_frame(id: &str, result: &Value) -> Vec<u8> {
    let result = serde_json::to_string(result).unwrap_or_else(|_| "null".into());
    let mut frame = Vec::with_capacity(id.len() + result.len() + 40);
    frame.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    frame.extend_from_slice(id.as_bytes());
    frame.extend_from_slice(b",\"result\":");
    frame.extend_from_slice(result.as_bytes());
    frame.extend_from_slice(b"}\n\n");
    frame
}

/// An error response frame; `id` is `None` when the request's id could not be found.
pub fn error_frame(id: Option<&str>, error: &RpcError) -> Vec<u8> {
    let error = serde_json::to_string(&error.to_json()).unwrap_or_else(|_| "null".into());
    let id = id.unwrap_or("null");
    let mut frame = Vec::with_capacity(id.len() + error.len() + 40);
    frame.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    frame.extend_from_slice(id.as_bytes());
    frame.extend_from_slice(b",\"error\":");
    frame.extend_from_slice(error.as_bytes());
    frame.extend_from_slice(b"}\n\n");
    frame
}

#[cfg(test)]
mod tests {
    use super::reference::{split_value, Split};
    use super::*;

    /// Feeds `stream` in pieces of the given sizes (cycled), collecting each value until the
    /// splitter needs more at the end or fails.
    fn split_in_pieces(
        stream: &[u8],
        sizes: &[usize],
        max_depth: usize,
    ) -> (Vec<String>, Next<'static>) {
        let mut splitter = ValueSplitter::new(max_depth);
        let mut found = Vec::new();
        let mut rest = stream;
        let mut sizes = sizes.iter().copied().cycle();
        loop {
            let size = sizes
                .next()
                .unwrap_or(rest.len())
                .clamp(1, rest.len().max(1));
            let (piece, after) = rest.split_at(size.min(rest.len()));
            rest = after;
            splitter.push(piece);
            loop {
                match splitter.next_value() {
                    Next::Value(text) => found.push(text.to_owned()),
                    Next::NeedMore if rest.is_empty() => return (found, Next::NeedMore),
                    Next::NeedMore => break,
                    Next::Invalid(error) => return (found, Next::Invalid(error)),
                    Next::TooDeep => return (found, Next::TooDeep),
                }
            }
        }
    }

    fn split_whole(stream: &[u8]) -> (Vec<String>, Next<'static>) {
        split_in_pieces(stream, &[stream.len()], 64)
    }

    /// Requests with strings holding brackets, braces and escaped quotes and backslashes,
    /// numbers of every shape and whitespace of every kind between them.
    const TRICKY_STREAM: &[u8] = br#" {"jsonrpc":"2.0","id":"a\"}b","method":"x","params":["}{][","\\",{"k\"}":"\\\""}]}
{"id":-0.5e+3,"params":{"n":[0,1.25,-7E-2,10e9,[],{}],"s":"\u00e9\/\b\f\n\r\t"}}	{"a":[true,false,null]}{"b":"}"}
 ["not an object"] "a string" null  17 {"c":{"d":{"e":"\\"}}}"#;

    #[test]
    fn the_splitter_finds_the_same_values_however_the_stream_is_cut() {
        let (whole, end) = split_whole(TRICKY_STREAM);
        assert_eq!(end, Next::NeedMore);
        assert_eq!(
            whole,
            [
                r#"{"jsonrpc":"2.0","id":"a\"}b","method":"x","params":["}{][","\\",{"k\"}":"\\\""}]}"#,
                r#"{"id":-0.5e+3,"params":{"n":[0,1.25,-7E-2,10e9,[],{}],"s":"\u00e9\/\b\f\n\r\t"}}"#,
                r#"{"a":[true,false,null]}"#,
                r#"{"b":"}"}"#,
                r#"["not an object"]"#,
                r#""a string""#,
                "null",
                "17",
                r#"{"c":{"d":{"e":"\\"}}}"#,
            ]
        );
        // Each value is exactly what serde_json's stream reader finds.
        let reference: Vec<String> = serde_json::Deserializer::from_slice(TRICKY_STREAM)
            .into_iter::<&RawValue>()
            .map(|value| value.unwrap().get().to_owned())
            .collect();
        assert_eq!(whole, reference);
        for size in 1..=TRICKY_STREAM.len() {
            assert_eq!(
                split_in_pieces(TRICKY_STREAM, &[size], 64),
                (whole.clone(), Next::NeedMore),
                "pieces of {size}"
            );
        }
        for sizes in [&[1, 7, 2, 30][..], &[13, 1, 1, 5, 64], &[3, 200, 1]] {
            assert_eq!(
                split_in_pieces(TRICKY_STREAM, sizes, 64),
                (whole.clone(), Next::NeedMore),
                "pieces of {sizes:?}"
            );
        }
    }

    #[test]
    fn whitespace_between_values_is_dropped_and_is_no_value() {
        let mut splitter = ValueSplitter::new(64);
        splitter.push(b" \n\t\r ");
        assert_eq!(splitter.next_value(), Next::NeedMore);
        assert!(splitter.unconsumed().is_empty());
        splitter.push(b"  {\"a\"");
        assert_eq!(splitter.next_value(), Next::NeedMore);
        assert_eq!(splitter.unconsumed(), b"{\"a\"");
        splitter.push(b":1}\n\n{}\r\n");
        assert_eq!(splitter.next_value(), Next::Value("{\"a\":1}"));
        assert_eq!(splitter.next_value(), Next::Value("{}"));
        assert_eq!(splitter.next_value(), Next::NeedMore);
        assert!(splitter.unconsumed().is_empty());
    }

    #[test]
    fn a_4_mib_request_in_4_kib_reads_is_found_whole() {
        let mut request = br#"{"jsonrpc":"2.0","id":1,"method":"x","params":[""#.to_vec();
        // Brackets, quotes and escapes all through it, so no stretch is trivially plain.
        while request.len() < 4 << 20 {
            request.extend_from_slice(br#"{[abc\"\\]}"#);
        }
        request.extend_from_slice(br#""]}"#);
        let mut splitter = ValueSplitter::new(64);
        let mut found = None;
        for piece in request.chunks(4 << 10) {
            assert!(found.is_none(), "found before the last piece");
            splitter.push(piece);
            match splitter.next_value() {
                Next::Value(text) => found = Some(text.len()),
                Next::NeedMore => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(found, Some(request.len()));
        assert_eq!(splitter.next_value(), Next::NeedMore);
    }

    #[test]
    fn nesting_past_the_limit_is_refused_at_the_bracket_that_crosses_it() {
        let deep = |levels: usize| {
            let mut text = "{\"a\":".to_owned();
            text.push_str(&"[".repeat(levels - 1));
            text.push_str(&"]".repeat(levels - 1));
            text.push('}');
            text
        };
        assert_eq!(
            split_whole(deep(64).as_bytes()),
            (vec![deep(64)], Next::NeedMore)
        );
        // Only the brackets so far: refused without waiting for the rest.
        let mut splitter = ValueSplitter::new(64);
        splitter.push(b"{\"a\":");
        splitter.push("[".repeat(63).as_bytes());
        assert_eq!(splitter.next_value(), Next::NeedMore);
        splitter.push(b"{");
        assert_eq!(splitter.next_value(), Next::TooDeep);
        assert_eq!(splitter.next_value(), Next::TooDeep, "a failure stays");
        // Depth counts open containers, not how many came before.
        let wide = format!("[{}]", "[[]],".repeat(100) + "[]");
        assert_eq!(
            split_in_pieces(wide.as_bytes(), &[1], 3),
            (vec![wide.clone()], Next::NeedMore)
        );
        // Brackets in strings do not count.
        let quoted = format!("[\"{}\"]", "[{".repeat(100));
        assert_eq!(
            split_in_pieces(quoted.as_bytes(), &[1], 1),
            (vec![quoted.clone()], Next::NeedMore)
        );
        assert_eq!(split_in_pieces(b"[[]]", &[1], 1), (vec![], Next::TooDeep));
    }

    #[test]
    fn a_value_cut_anywhere_needs_more_until_whole() {
        let whole =
            br#"{"jsonrpc":"2.0","id":-1.5e+3,"method":"x\"y","params":[1E-2,0.0,true,"\u00e9"]}"#;
        for cut in 1..whole.len() {
            let mut splitter = ValueSplitter::new(64);
            splitter.push(&whole[..cut]);
            assert_eq!(splitter.next_value(), Next::NeedMore, "cut at {cut}");
            assert_eq!(splitter.unconsumed(), &whole[..cut]);
            splitter.push(&whole[cut..]);
            assert_eq!(
                splitter.next_value(),
                Next::Value(std::str::from_utf8(whole).unwrap())
            );
        }
    }

    #[test]
    fn top_level_scalars_are_values_and_a_number_ends_at_the_byte_after_it() {
        assert_eq!(
            split_whole(br#"[1] "getinfo" null true false 17 -0.5e3{}"#).0,
            [
                "[1]",
                "\"getinfo\"",
                "null",
                "true",
                "false",
                "17",
                "-0.5e3",
                "{}"
            ]
        );
        // A number at the end may go on in the next read.
        assert_eq!(split_whole(b"17"), (vec![], Next::NeedMore));
        assert_eq!(split_in_pieces(b"17 ", &[1], 64).0, ["17"]);
        assert_eq!(split_in_pieces(b"1", &[1], 64), (vec![], Next::NeedMore));
    }

    #[test]
    fn garbage_is_invalid_at_once_with_serde_jsons_description() {
        let invalid = |stream: &[u8]| match split_whole(stream) {
            (_, Next::Invalid(message)) => message,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(stream)),
        };
        assert_eq!(invalid(b"hello, node"), "expected value at line 1 column 1");
        assert_eq!(
            invalid(br#"{"jsonrpc":"2.0","id":2,:"#),
            "key must be a string at line 1 column 25"
        );
        // Invalid UTF-8 is found once the value is whole, as serde_json finds it.
        assert_eq!(
            invalid(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get\xffinfo\",\"params\":[]}"),
            "invalid unicode code point at line 1 column 38"
        );
        for garbage in [
            &b"}"[..],
            b"]",
            b"{\"a\":}",
            b"{\"a\":1.x",
            b"{\"a\":1.}",
            b"{\"a\" -",
            b"{\"a\":}1e",
            b"{\"a\":01}",
            b"[1,]",
            b"[1 2]",
            b"{,}",
            b"{\"a\":tru}",
            b"[-]",
            b"[1e+]",
            b"\"\\x\"",
            b"\"\\u12G4\"",
            b"\"tab\there\"",
            b"17x",
            b"\xef\xbb\xbf{}",
            b"{'a':1}",
        ] {
            let message = invalid(garbage);
            assert!(
                matches!(split_value(garbage), Split::Invalid(_)),
                "{message}"
            );
            // Byte by byte too, at the byte that makes it garbage, though serde_json's
            // description may then differ: it wants all four digits of a `\u` escape.
            let (_, bytewise) = split_in_pieces(garbage, &[1], 64);
            assert!(matches!(bytewise, Next::Invalid(_)), "{bytewise:?}");
        }
        // The good values before the garbage are still found; the garbage stays for the error.
        let mut splitter = ValueSplitter::new(64);
        splitter.push(b"{}  {\"a\" 1}");
        assert_eq!(splitter.next_value(), Next::Value("{}"));
        assert!(matches!(splitter.next_value(), Next::Invalid(_)));
        assert_eq!(splitter.unconsumed(), b"{\"a\" 1}");
    }

    #[test]
    fn frames_echo_the_id_token_and_end_with_two_newlines() {
        let frame = result_frame("\"cli:getinfo#12\"", &serde_json::json!({"a": 1}));
        assert_eq!(
            frame,
            b"{\"jsonrpc\":\"2.0\",\"id\":\"cli:getinfo#12\",\"result\":{\"a\":1}}\n\n"
        );
        let frame = error_frame(None, &RpcError::invalid_request("No id"));
        assert_eq!(
            frame,
            b"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"No id\"}}\n\n"
        );
        // Numeric ids are echoed as numbers, exactly as written.
        let frame = result_frame("1.50", &serde_json::json!({}));
        assert!(frame.starts_with(b"{\"jsonrpc\":\"2.0\",\"id\":1.50,"));
    }
}
