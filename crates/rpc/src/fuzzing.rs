//! Fuzz target bodies, shared by `fuzz/fuzz_targets/*` and the corpus replay tests, so a crash
//! found once stays fixed under a plain `cargo test`. Only built with the `fuzzing` feature.
//!
//! * [`request_parsing`] feeds the bytes a socket client writes through the server's read
//!   path: [`split_value`] as `server.rs` loops over it, [`parse_request`], the response frame
//!   the server would write, the params bound to a few real commands' parameter lists with
//!   their typed parsers, and the request's `filter`.
//! * [`manifest_parsing`] feeds a plugin's `getmanifest` result (the bytes as JSON) to
//!   [`parse_manifest`], then what the host does with a parsed manifest: option values for
//!   `init`, hook ordering and the `init` feature bits.

use std::path::Path;

use serde::de::IgnoredAny;
use serde_json::Value;
use wire::{Features, MsgType};

use crate::commands;
use crate::error::RpcError;
use crate::filter;
use crate::framing::{error_frame, result_frame, split_value, Split};
use crate::params::{self, Params, RawParams};
use crate::plugin::manifest::{parse_manifest, OptionKind, PluginOption};
use crate::plugin::order::{order, HookEntry};
use crate::request::parse_request;

/// Prefix checks are quadratic in a value's length; past this many cuts they are spread out.
const MAX_CUTS_PER_VALUE: usize = 128;

/// A client's byte stream. Whatever the bytes, splitting makes progress and stays in bounds,
/// a value found whole is never reported invalid (or found) when the socket delivers only part
/// of it, and every response frame is one JSON value followed by `"\n\n"` and no blank line
/// before that (pyln-client and lightning-cli split on it).
pub fn request_parsing(data: &[u8]) {
    let mut consumed = 0;
    while consumed < data.len() {
        let rest = &data[consumed..];
        match split_value(rest) {
            Split::Value { start, end } => {
                assert!(
                    start < end && end <= rest.len(),
                    "value {start}..{end} out of bounds"
                );
                check_cuts(rest, start, end);
                consumed += end;
                request(&rest[start..end]);
            }
            Split::Incomplete { skip } => {
                assert!(skip <= rest.len(), "skip {skip} past {}", rest.len());
                return;
            }
            Split::Invalid(_) => {
                // The server answers this with a null-id error and stops reading.
                return;
            }
        }
    }
}

/// The socket may cut a request anywhere. A cut inside an object, array or string must read
/// as "need more" (with the same whitespace to skip), never as a value or as garbage.
fn check_cuts(rest: &[u8], start: usize, end: usize) {
    // A bare number or literal has no closing delimiter, so a cut one can read as a shorter
    // value; the server refuses top-level non-objects anyway.
    if !matches!(rest[start], b'{' | b'[' | b'"') {
        return;
    }
    let step = (end - start).div_ceil(MAX_CUTS_PER_VALUE);
    let cuts = (start + 1..end).step_by(step).chain([end - 1]);
    for cut in cuts.filter(|&cut| cut > start) {
        match split_value(&rest[..cut]) {
            Split::Incomplete { skip } => assert_eq!(skip, start, "cut at {cut}"),
            other => panic!("a value cut at {cut} of {start}..{end} gave {other:?}"),
        }
    }
}

/// One value the splitter found, as `server.rs`'s `handle` treats it.
fn request(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
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

/// Binds the params to the named command's parameter list and runs the typed parsers its
/// handler runs first, in the same order.
fn bind_and_parse(name: &str, raw: &serde_json::value::RawValue) -> Result<(), RpcError> {
    let Some(command) = commands::find(name) else {
        return Ok(());
    };
    let p: Params<'_> = RawParams::parse(raw)?.bind(command.params)?;
    match name {
        "sendcustommsg" => {
            p.required(0, params::node_id)?;
            let message = p.required(1, params::message_hex)?;
            assert!((params::MIN_MESSAGE_LEN..=params::MAX_MESSAGE_LEN).contains(&message.len()));
            let ty = MsgType(u16::from_be_bytes([message[0], message[1]]));
            let _ = (ty.is_cln_internal(), ty.is_odd(), ty.name());
        }
        "connect" => {
            let id = p.required(0, params::string)?;
            let id = id.split_once('@').map_or(id.as_str(), |(id, _)| id);
            let _ = params::parse_node_id(id);
            p.optional(1, params::string)?;
            if let Some(port) = p.optional(2, params::port)? {
                assert_ne!(port, 0);
            }
        }
        "ping" => {
            p.required(0, params::node_id)?;
            p.optional(1, params::u32_number)?;
            p.optional(2, params::u32_number)?;
        }
        "disconnect" => {
            p.required(0, params::node_id)?;
            p.optional(1, params::boolean)?;
        }
        _ => {
            p.optional(0, params::node_id)?;
            p.optional(1, params::string)?;
        }
    }
    Ok(())
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

/// Texts tried as option values (command line, config or `plugin start name=value`), next to
/// each option's description, which puts the fuzzer's own texts through the same parsers.
const OPTION_TEXTS: &[&str] = &[
    "",
    "0",
    "-1",
    "+7",
    "0x1F",
    "-0X8000000000000000",
    "017",
    "09",
    " 12",
    "9223372036854775808",
    "true",
    "False",
    "1",
    "yes",
];

/// A `getmanifest` result. Whatever parses obeys the manifest rules (unique, well-formed
/// option names; known, unique hooks) and the host's follow-ups never panic: each option's
/// `init` value from its default and from given texts, the order of each hook against a second
/// plugin, and the feature bits.
pub fn manifest_parsing(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(manifest) = parse_manifest(&value) else {
        return;
    };
    for (i, option) in manifest.options.iter().enumerate() {
        assert!(!manifest.options[..i].iter().any(|o| o.name == option.name));
        assert!(!option.name.is_empty() && !option.name.contains('|'));
        option_values(option);
    }
    let other = Path::new("/plugins/other.py");
    let this = Path::new("/plugins/fuzz.py");
    for (i, hook) in manifest.hooks.iter().enumerate() {
        assert!(!manifest.hooks[..i].iter().any(|h| h.name == hook.name));
        let entries = [
            HookEntry {
                plugin_path: other,
                index: 0,
                before: &[],
                after: &[],
            },
            HookEntry {
                plugin_path: this,
                index: 1,
                before: &hook.before,
                after: &hook.after,
            },
        ];
        if let Ok((mut ordered, _)) = order(&hook.name, &entries) {
            ordered.sort_unstable();
            assert_eq!(ordered, [0, 1], "an order is a permutation");
        }
    }
    let bits = &manifest.featurebits;
    for place in [&bits.init, &bits.node, &bits.channel, &bits.invoice]
        .into_iter()
        .flatten()
    {
        let features = Features::from_wire(place);
        assert!(features.iter_set_bits().all(|bit| features.is_set(bit)));
    }
}

fn option_values(option: &PluginOption) {
    assert_eq!(option.init_value(&[]), Ok(option.default.clone()));
    let description = option.description.as_str();
    for text in OPTION_TEXTS.iter().copied().chain([description]) {
        let given = [Some(text.to_owned())];
        let _ = option.init_value(&given);
        let _ = option.init_value(&[Some(text.to_owned()), None]);
        match (option.kind, option.parse_value(text)) {
            (OptionKind::Int, Ok(value)) => {
                // Whatever reads as an int reads back the same from its decimal text.
                let decimal = value.to_string();
                assert_eq!(option.parse_value(&decimal), Ok(value), "{text:?}");
            }
            (OptionKind::String | OptionKind::StringConceal | OptionKind::Flag, parsed) => {
                assert!(parsed.is_ok(), "{text:?}");
            }
            _ => {}
        }
    }
    let _ = option.init_value(&[None]);
    let _ = option.init_value(&[Some(description.to_owned()), Some("1".to_owned())]);
}
