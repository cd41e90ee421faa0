//! Fuzz target bodies, shared by `fuzz/fuzz_targets/*` and the corpus replay tests, so a crash
//! found once stays fixed under a plain `cargo test`. Only built with the `fuzzing` feature.
//!
//! * [`request_parsing`] feeds the bytes a socket client writes through the server's read
//!   path: [`ValueSplitter`] as `server.rs` loops over it, fed whole, byte by byte and in
//!   pieces of random sizes, and checked against serde_json (through [`split_value`]); then
//!   [`parse_request`], the response frame the server would write, the params bound to a few
//!   real commands' parameter lists and run through their `parse`, and the request's `filter`.
//!
//! The plugin manifest target is `plugin_host::fuzzing`'s.

use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::command::TypedCommand;
use crate::commands::{Connect, Disconnect, ListPeers, Ping, SendCustomMsg};
use crate::params::{self, RawParams};
use jsonrpc::error::RpcError;
use jsonrpc::filter;
use jsonrpc::framing::reference::{split_value, Split};
use jsonrpc::framing::{error_frame, result_frame, Next, ValueSplitter};
use jsonrpc::request::parse_request;

/// Prefix checks are quadratic in a value's length; past this many cuts they are spread out.
const MAX_CUTS_PER_VALUE: usize = 128;

/// The server's default (`node_config::Limits::rpc_max_nesting_depth`), so deep inputs reach
/// the refusal.
const MAX_DEPTH: usize = 64;

/// A client's byte stream. Whatever the bytes and however the socket cuts them, the splitter
/// finds the same values and stops the same way; each value is the one serde_json finds there,
/// and garbage is refused at the first byte serde_json refuses. Every response frame is one
/// JSON value followed by `"\n\n"` and no blank line before that (pyln-client and
/// lightning-cli split on it).
pub fn request_parsing(data: &[u8]) {
    let (whole, garbage_error) = split_in_pieces(data, &[data.len()]);
    assert_eq!(split_byte_by_byte(data), whole, "byte by byte");
    let sizes = piece_sizes(data);
    assert_eq!(
        split_in_pieces(data, &sizes).0,
        whole,
        "in pieces of {sizes:?}"
    );
    for value in &whole.values {
        request(value);
    }
    let refusal = match whole.end {
        End::NeedMore => return,
        End::Invalid => garbage_error,
        End::TooDeep => format!("Request nested deeper than {MAX_DEPTH} levels"),
    };
    check_frame(&error_frame(None, &RpcError::invalid_request(refusal)));
}

/// The values found in a stream and how the stream stopped.
#[derive(Debug, PartialEq)]
struct Outcome {
    values: Vec<String>,
    end: End,
}

#[derive(Debug, PartialEq)]
enum End {
    NeedMore,
    Invalid,
    TooDeep,
}

/// Feeds `data` in pieces of `sizes` (the last repeated), as reads would; also returns the
/// error's text as the server words it, if the stream is garbage.
fn split_in_pieces(data: &[u8], sizes: &[usize]) -> (Outcome, String) {
    let mut splitter = ValueSplitter::new(MAX_DEPTH);
    let mut values = Vec::new();
    let mut rest = data;
    let mut sizes = sizes.iter().copied();
    let mut size = 1;
    loop {
        size = sizes.next().unwrap_or(size).max(1);
        let (piece, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        splitter.push(piece);
        loop {
            let end = match splitter.next_value() {
                Next::Value(text) => {
                    values.push(text.to_owned());
                    continue;
                }
                Next::NeedMore if !rest.is_empty() => break,
                Next::NeedMore => End::NeedMore,
                Next::Invalid(error) => {
                    let shown = String::from_utf8_lossy(splitter.unconsumed());
                    let shown: String = shown.chars().take(200).collect();
                    return (
                        Outcome {
                            values,
                            end: End::Invalid,
                        },
                        format!("Failed to parse RPC JSON response '{shown}': {error}"),
                    );
                }
                Next::TooDeep => End::TooDeep,
            };
            return (Outcome { values, end }, String::new());
        }
    }
}

/// Random piece sizes, mostly small, drawn from a hash of the input so a run is repeatable.
fn piece_sizes(data: &[u8]) -> Vec<usize> {
    // FNV-1a, then xorshift64.
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    }) | 1;
    let mut sizes = Vec::new();
    let mut covered = 0;
    while covered < data.len() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let most = if state % 8 == 0 { 512 } else { 16 };
        let size = usize::try_from(state >> 32).unwrap_or(0) % most + 1;
        sizes.push(size);
        covered += size;
    }
    sizes
}

/// Feeds `data` one byte at a time, so every value's end and every refusal is at a known byte,
/// and checks each against serde_json there.
fn split_byte_by_byte(data: &[u8]) -> Outcome {
    let mut splitter = ValueSplitter::new(MAX_DEPTH);
    let mut values = Vec::new();
    for (at, &byte) in data.iter().enumerate() {
        splitter.push(&[byte]);
        loop {
            match splitter.next_value() {
                Next::Value(text) => {
                    // A number ends at the byte after it, never a digit, while its own last
                    // byte is one; any other value ends with the byte just pushed.
                    let end = if text.as_bytes().last() == Some(&byte) {
                        at + 1
                    } else {
                        at
                    };
                    check_value(data, end - text.len(), end);
                    values.push(text.to_owned());
                }
                Next::NeedMore => break,
                Next::Invalid(_) => {
                    check_invalid(data, at + 1 - splitter.unconsumed().len(), at);
                    return Outcome {
                        values,
                        end: End::Invalid,
                    };
                }
                Next::TooDeep => {
                    let start = at + 1 - splitter.unconsumed().len();
                    assert_eq!(
                        split_value(&data[start..=at]),
                        Split::Incomplete { skip: 0 },
                        "refused as too deep, but not a well-formed start"
                    );
                    return Outcome {
                        values,
                        end: End::TooDeep,
                    };
                }
            }
        }
    }
    let start = data.len() - splitter.unconsumed().len();
    if start < data.len() {
        // Unfinished for serde_json too, but for a top-level number, whole only to it.
        let rest = &data[start..];
        match split_value(rest) {
            Split::Incomplete { skip: 0 } => {}
            Split::Value { start: 0, end } if end == rest.len() && is_number_start(rest[0]) => {}
            other => panic!("unfinished value at {start} is {other:?} to serde_json"),
        }
    }
    Outcome {
        values,
        end: End::NeedMore,
    }
}

fn is_number_start(byte: u8) -> bool {
    byte == b'-' || byte.is_ascii_digit()
}

/// serde_json finds the same value at `start..end`. A literal is checked on its own, since
/// the splitter takes it whole at its last letter whatever follows.
fn check_value(data: &[u8], start: usize, end: usize) {
    let (value, scope) = match data[start] {
        b't' | b'f' | b'n' => (&data[start..end], &data[start..end]),
        _ => (&data[start..end], &data[start..]),
    };
    assert_eq!(
        split_value(scope),
        Split::Value {
            start: 0,
            end: value.len()
        },
        "the splitter found {:?}",
        String::from_utf8_lossy(value)
    );
    check_cuts(value);
}

/// serde_json accepts the bytes before `at` and refuses them with the byte at `at`. Spaces
/// after it let serde_json see a whole `\uXXXX` escape, which it wants before judging one.
fn check_invalid(data: &[u8], start: usize, at: usize) {
    let before = split_value(&data[start..at]);
    assert!(
        !matches!(before, Split::Invalid(_)),
        "refused at {at}, but serde_json already refuses before: {before:?}"
    );
    let mut through = data[start..=at].to_vec();
    through.extend_from_slice(b"    ");
    let through = split_value(&through);
    assert!(
        matches!(through, Split::Invalid(_)),
        "refused at {at}, but serde_json gives {through:?}"
    );
}

/// [`split_value`] (the reference splitter) reads a value cut anywhere as "need more",
/// never as a value or as garbage.
fn check_cuts(value: &[u8]) {
    // A bare number or literal has no closing delimiter, so a cut one can read as a shorter
    // value; the server refuses top-level non-objects anyway.
    if !matches!(value[0], b'{' | b'[' | b'"') {
        return;
    }
    let step = value.len().div_ceil(MAX_CUTS_PER_VALUE);
    for cut in (1..value.len()).step_by(step).chain([value.len() - 1]) {
        match split_value(&value[..cut]) {
            Split::Incomplete { skip: 0 } => {}
            other => panic!("a value cut at {cut} of {} gave {other:?}", value.len()),
        }
    }
}

/// One value the splitter found, as `server.rs`'s `handle` treats it.
fn request(text: &str) {
    let request = match parse_request(text) {
        Ok(request) => request,
        Err(rejected) => {
            check_frame(&error_frame(rejected.id, &rejected.error));
            return;
        }
    };
    for name in [
        "sendcustommsg",
        "connect",
        "ping",
        "disconnect",
        "listpeers",
    ] {
        if let Err(error) = bind_and_parse(name, request.params) {
            check_frame(&error_frame(Some(request.id), &error));
        }
    }
    // `filter` applies to whatever the command returns; the params, parsed, stand in for a
    // result the fuzzer shapes.
    let filter: Option<Value> = request
        .filter
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    let result: Value = serde_json::from_str(request.params.get()).unwrap_or(Value::Null);
    let result = match &filter {
        Some(filter) => {
            let filtered = filter::apply(result.clone(), filter);
            if let (Value::Object(before), Value::Object(after)) = (&result, &filtered) {
                assert!(after.keys().all(|key| before.contains_key(key)));
            }
            filtered
        }
        None => result,
    };
    check_frame(&result_frame(request.id, &result));
}

/// Binds the params to the named command's parameter list and runs its pure `parse`, as
/// `check` and the dispatcher do.
fn bind_and_parse(name: &str, raw: &RawValue) -> Result<(), RpcError> {
    match name {
        "sendcustommsg" => {
            let args = parse(&SendCustomMsg::PUBLIC, raw)?;
            let len = args.message.len();
            assert!((params::MIN_MESSAGE_LEN..=params::MAX_MESSAGE_LEN).contains(&len));
            assert_eq!(args.ty.0.to_be_bytes(), args.message[..2]);
            let _ = (args.ty.is_odd(), args.ty.name());
        }
        "connect" => {
            let args = parse(&Connect, raw)?;
            assert_ne!(args.port, Some(0));
            assert!(args.host.is_some() || args.port.is_none());
        }
        "ping" => {
            let args = parse(&Ping, raw)?;
            let _ = (args.id, args.len, args.pong_bytes);
        }
        "disconnect" => {
            let args = parse(&Disconnect, raw)?;
            let _ = (args.id, args.force);
        }
        _ => {
            let args = parse(&ListPeers, raw)?;
            let _ = (args.id, args.level);
        }
    }
    Ok(())
}

fn parse<C: TypedCommand>(command: &C, raw: &RawValue) -> Result<C::Args, RpcError> {
    let params = RawParams::parse(raw)?.bind(command.signature().params)?;
    command.parse(&params)
}

/// A response frame is exactly one JSON value and its `"\n\n"`.
fn check_frame(frame: &[u8]) {
    let body = frame
        .strip_suffix(b"\n\n")
        .unwrap_or_else(|| panic!("frame without \\n\\n: {frame:?}"));
    assert!(
        !body.windows(2).any(|w| w == b"\n\n"),
        "blank line inside a frame"
    );
    if let Err(error) = serde_json::from_slice::<IgnoredAny>(body) {
        panic!(
            "frame is not JSON ({error}): {}",
            String::from_utf8_lossy(body)
        );
    }
}
