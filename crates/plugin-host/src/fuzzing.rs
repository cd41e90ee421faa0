//! The fuzz target body for plugin manifests, shared by `fuzz/fuzz_targets/*` and the corpus
//! replay tests, so a crash found once stays fixed under a plain `cargo test`. Only built with
//! the `fuzzing` feature.
//!
//! [`manifest_parsing`] feeds a plugin's `getmanifest` result (the bytes as JSON) to
//! [`parse_manifest`], then what the host does with a parsed manifest: option values for
//! `init`, hook ordering and the `init` feature bits.

use std::path::Path;

use serde_json::Value;
use wire::Features;

use crate::manifest::{parse_manifest, OptionKind, PluginOption};
use crate::order::{order, HookEntry};

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
