//! The plugin's `getmanifest` reply and the typed option values sent back in `init`.
//!
//! # What it owns
//!
//! * [`parse_manifest`]: turns a `getmanifest` `result` into a [`Manifest`], enforcing the
//!   rules of Core Lightning's `plugin_parse_getmanifest_response` (`lightningd/plugin.c`)
//!   with its error texts, so a plugin rejected by CLN is rejected here with the same words.
//! * [`PluginOption::init_value`] and [`PluginOption::parse_value`]: the JSON value `init`
//!   carries for an option, typed the way CLN types it.
//! * The topic and hook tables ([`KNOWN_HOOKS`], [`FILTERABLE_HOOKS`], [`NATIVE_TOPICS`],
//!   [`EMITTED_TOPICS`]).
//!
//! # What it does not do
//!
//! Pure logic: no IO, no processes, no logging. Checks that need every plugin at once (an
//! option or method name already taken by another plugin, featurebits clashing with the
//! node's, subscriptions to topics another plugin declares) belong to the host; the helpers
//! here ([`Manifest::unknown_subscriptions`]) only compute answers.
//!
//! Error texts quote CLN (the CLN reference, `cln.md` §2.3, §2.4, §3.3). Where a JSON value
//! is echoed, CLN echoes the plugin's raw bytes; we echo the compact serialisation of the
//! parsed value, which is the same for the compact JSON pyln and cln-plugin emit.

use serde_json::{Map, Value};

use crate::option::typed_default;
pub use crate::option::{OptionKind, PluginOption};

/// Hooks lnpeer implements; any other name → `Err("Unknown hook name <name>")`.
pub const KNOWN_HOOKS: &[&str] = &[
    "custommsg",
    "peer_connected",
    "onion_message_recv",
    "onion_message_recv_secret",
];

/// Hooks that accept `filters` (others: `"Hook <name> does not allow filters"`).
pub const FILTERABLE_HOOKS: &[&str] = &["custommsg"];

/// Topics lightningd itself emits: a plugin may subscribe to them but may not declare them in
/// its `notifications` (CLN's `REGISTER_NOTIFICATION` set, `lightningd/notification.c`, plus
/// the schemas in `doc/schemas/notification/` that lightningd, not a plugin, sends).
pub const NATIVE_TOPICS: &[&str] = &[
    "balance_snapshot",
    "block_added",
    "channel_open_failed",
    "channel_opened",
    "channel_state_changed",
    "coin_movement",
    "connect",
    "custommsg",
    "deprecated_oneshot",
    "disconnect",
    "forward_event",
    "invoice_creation",
    "invoice_payment",
    "log",
    "onionmessage_forward_fail",
    "openchannel_peer_sigs",
    "plugin_started",
    "plugin_stopped",
    "sendpay_failure",
    "sendpay_success",
    "shutdown",
    "warning",
];

/// Topics lnpeer actually emits (a subset of [`NATIVE_TOPICS`]).
pub const EMITTED_TOPICS: &[&str] = &[
    "connect",
    "disconnect",
    "custommsg",
    "shutdown",
    "plugin_started",
    "plugin_stopped",
    "warning",
    "log",
    "onionmessage_forward_fail",
];

/// Feature places CLN accepts in `featurebits` (`common/features.c:feature_place_names`);
/// only the first four are kept, the rest are validated and then ignored.
const FEATURE_PLACES: &[&str] = &[
    "init",
    "node",
    "channel",
    "invoice",
    "bolt12_offer",
    "bolt12_invreq",
    "bolt12_invoice",
    "channel_type",
];

/// Whether lightningd itself emits `topic` (see [`NATIVE_TOPICS`]).
pub fn is_native_topic(topic: &str) -> bool {
    NATIVE_TOPICS.contains(&topic)
}

/// A parsed `getmanifest` reply.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    /// Options, in manifest order.
    pub options: Vec<PluginOption>,
    /// JSON-RPC methods the plugin serves, in manifest order.
    pub rpcmethods: Vec<RpcMethod>,
    /// Subscribed topics as given (`*` means every topic except `log`).
    pub subscriptions: Vec<String>,
    /// Hook registrations, in manifest order.
    pub hooks: Vec<HookRegistration>,
    /// Feature bits to OR into the node's.
    pub featurebits: FeatureBits,
    /// Declared custom topics the plugin may send.
    pub notifications: Vec<String>,
    /// Even message types the plugin wants to receive (§2.4), as given (not sorted, not
    /// de-duplicated).
    pub custommessages: Vec<u16>,
    /// Whether the plugin may be started and stopped at runtime.
    pub dynamic: bool,
    /// Whether the plugin declared `nonnumericids: true`. Ids sent to plugins are strings
    /// regardless (CLN v25.05+); this only records what was declared.
    pub nonnumericids: bool,
    /// Whether the `check` command is forwarded to the plugin.
    pub cancheck: bool,
    /// `Some(reason)`: the plugin disabled itself; the host kills it with
    /// `disabled itself: <reason>`. Every other field is then left empty, as CLN stops
    /// parsing there.
    pub disable: Option<String>,
    /// Non-fatal remarks to log at UNUSUAL, e.g. `topic 'foo' is not a known notification
    /// topic`.
    pub warnings: Vec<String>,
}

/// One method from the manifest's `rpcmethods`.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcMethod {
    /// The command name.
    pub name: String,
    /// The usage string, e.g. `"peer_id [msg]"`.
    pub usage: String,
    /// One-line description (optional since CLN v24.08; pyln still sends it).
    pub description: Option<String>,
    /// Long description, if given.
    pub long_description: Option<String>,
    /// Whether it is deprecated (`true`, or a version array).
    pub deprecated: bool,
}

/// One entry from the manifest's `hooks`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HookRegistration {
    /// The hook name, one of [`KNOWN_HOOKS`].
    pub name: String,
    /// Plugins (basename, or path if it contains `/`) this one must run before.
    pub before: Vec<String>,
    /// Plugins this one must run after.
    pub after: Vec<String>,
    /// `Some(types)`: call the hook only for these message types (an empty list matches
    /// nothing). `None`: call it for every message.
    pub filters: Option<Vec<u16>>,
}

/// The manifest's `featurebits`: big-endian bitmaps as given in hex. `None` when the key is
/// absent. Other CLN keys (`bolt12_*`, `channel_type`) are validated and then ignored, with a
/// warning when they carry bits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureBits {
    /// Bits for the `init` message.
    pub init: Option<Vec<u8>>,
    /// Bits for `node_announcement`.
    pub node: Option<Vec<u8>>,
    /// Bits for `channel_announcement`.
    pub channel: Option<Vec<u8>>,
    /// Bits for invoices.
    pub invoice: Option<Vec<u8>>,
}

impl FeatureBits {
    /// True when no place carries any byte (absent and empty bitmaps alike).
    pub fn is_empty(&self) -> bool {
        [&self.init, &self.node, &self.channel, &self.invoice]
            .iter()
            .all(|bits| bits.as_ref().is_none_or(|b| b.is_empty()))
    }
}

impl Manifest {
    /// Subscriptions naming a topic that is neither native, nor declared by this plugin, nor
    /// in `declared_elsewhere` (the topics other plugins declare), as CLN's warning text
    /// `topic '<t>' is not a known notification topic`. `*` is always known.
    ///
    /// [`parse_manifest`] already puts these remarks in [`Manifest::warnings`] computed with
    /// no other plugin's topics; a host that knows every plugin's topics can use this instead
    /// to avoid warning about a topic another plugin declares.
    pub fn unknown_subscriptions(&self, declared_elsewhere: &[String]) -> Vec<String> {
        self.subscriptions
            .iter()
            .filter(|topic| {
                topic.as_str() != "*"
                    && !is_native_topic(topic)
                    && !self.notifications.contains(topic)
                    && !declared_elsewhere.contains(topic)
            })
            .map(|topic| unknown_topic_text(topic))
            .collect()
    }
}

fn unknown_topic_text(topic: &str) -> String {
    format!("topic '{topic}' is not a known notification topic")
}

/// Parses a getmanifest `result`. `Err(text)` is CLN's error text; the host kills the plugin
/// with `Killing plugin: <text>`.
///
/// The checks run in CLN's order: `disable`, `dynamic`, `featurebits`, `nonnumericids`,
/// `cancheck`, `custommessages`, `notifications`, `options`, `rpcmethods`, `subscriptions`,
/// `hooks`. Unknown fields are ignored.
pub fn parse_manifest(result: &Value) -> Result<Manifest, String> {
    let Some(obj) = result.as_object() else {
        return Err(format!("Invalid/missing result tok in '{result}'"));
    };
    let mut m = Manifest::default();

    // A plugin that disables itself may omit everything else, so stop here like CLN does.
    if let Some(reason) = obj.get("disable") {
        m.disable = Some(string_or_json(reason));
        return Ok(m);
    }

    if let Some(v) = obj.get("dynamic") {
        m.dynamic = v
            .as_bool()
            .ok_or_else(|| format!("getmanifest: invalid \"dynamic\" field {v}"))?;
    }

    if let Some(v) = obj.get("featurebits") {
        m.featurebits = parse_featurebits(v, m.dynamic, &mut m.warnings)?;
    }

    if let Some(v) = obj.get("nonnumericids") {
        let allowed = v
            .as_bool()
            .ok_or_else(|| format!("Invalid nonnumericids: {v}"))?;
        if !allowed {
            return Err("Plugin does not allow nonnumericids".to_owned());
        }
        m.nonnumericids = true;
    }

    if let Some(v) = obj.get("cancheck") {
        m.cancheck = v
            .as_bool()
            .ok_or_else(|| format!("Invalid cancheck: {v}"))?;
    }

    if let Some(v) = obj.get("custommessages") {
        m.custommessages = parse_custommessages(v)?;
    }

    if let Some(v) = obj.get("notifications") {
        m.notifications = parse_notifications(v)?;
    }

    m.options = parse_options(obj)?;
    m.rpcmethods = parse_rpcmethods(obj)?;

    if let Some(v) = obj.get("subscriptions") {
        m.subscriptions = parse_subscriptions(v)?;
    }
    let topic_warnings = m.unknown_subscriptions(&[]);
    m.warnings.extend(topic_warnings);

    m.hooks = parse_hooks(obj.get("hooks"))?;

    Ok(m)
}

/// A string's content, or any other value's JSON text (CLN `json_strdup`s whatever token it
/// finds).
fn string_or_json(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_featurebits(
    v: &Value,
    dynamic: bool,
    warnings: &mut Vec<String>,
) -> Result<FeatureBits, String> {
    let Some(obj) = v.as_object() else {
        return Err(format!("\"result.featurebits\" is not an object: {v}"));
    };
    let mut bits = FeatureBits::default();
    let mut have_bits = false;
    for &place in FEATURE_PLACES {
        let Some(tok) = obj.get(place) else { continue };
        let decoded = match tok {
            Value::String(s) => hex::decode(s).ok(),
            _ => None,
        };
        let Some(decoded) = decoded else {
            return Err(format!(
                "Featurebits returned by plugin is not a valid hexadecimal string: {}",
                string_or_json(tok)
            ));
        };
        have_bits |= !decoded.is_empty();
        match place {
            "init" => bits.init = Some(decoded),
            "node" => bits.node = Some(decoded),
            "channel" => bits.channel = Some(decoded),
            "invoice" => bits.invoice = Some(decoded),
            // lnpeer has no offers or channel types to advertise these in.
            _ if !decoded.is_empty() => {
                warnings.push(format!(
                    "featurebits '{place}' ignored: lnpeer does not advertise {place} features"
                ));
            }
            _ => {}
        }
    }
    // CLN checks after decoding every place, so a bad hex string wins over this.
    if dynamic && have_bits {
        return Err(format!(
            "Custom featurebits only allows for non-dynamic plugins: dynamic=1, featurebits={v}"
        ));
    }
    Ok(bits)
}

/// A JSON non-negative integer that fits in a `u16`. CLN parses with `json_to_u64` and then
/// narrows; we refuse strings and floats outright instead of guessing at `strtoull` quirks.
fn as_u16(v: &Value) -> Option<u16> {
    v.as_u64().and_then(|n| u16::try_from(n).ok())
}

fn parse_custommessages(v: &Value) -> Result<Vec<u16>, String> {
    let Some(arr) = v.as_array() else {
        return Err(format!("custommessages must be array, not '{v}'"));
    };
    arr.iter()
        .enumerate()
        .map(|(i, t)| as_u16(t).ok_or_else(|| format!("custommessages {i} not a u16: '{t}'")))
        .collect()
}

fn parse_notifications(v: &Value) -> Result<Vec<String>, String> {
    let Some(arr) = v.as_array() else {
        return Err("\"result.notifications\" is not an array".to_owned());
    };
    let mut topics = Vec::with_capacity(arr.len());
    for (i, obj) in arr.iter().enumerate() {
        let Some(obj) = obj.as_object() else {
            return Err(format!("\"result.notifications[{i}]\" is not an object"));
        };
        // CLN reads `method` but its error text says `.name`; we keep the text as CLN has it.
        let Some(method) = obj.get("method").and_then(Value::as_str) else {
            return Err(format!(
                "\"result.notifications[{i}].name\" missing or not a string."
            ));
        };
        if is_native_topic(method) {
            return Err(format!(
                "plugin attempted to register a native notification topic \"{method}\", \
                 these may however only be sent by lightningd"
            ));
        }
        topics.push(method.to_owned());
    }
    Ok(topics)
}

/// `deprecated` is `true`/`false` or a `[start]` / `[start, end]` array of version strings.
fn parse_deprecated(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Array(a) if (1..=2).contains(&a.len()) && a.iter().all(Value::is_string) => {
            Some(true)
        }
        _ => None,
    }
}

fn parse_options(obj: &Map<String, Value>) -> Result<Vec<PluginOption>, String> {
    let Some(options) = obj.get("options") else {
        return Err("\"result.options\" was not found in the manifest".to_owned());
    };
    let Some(options) = options.as_array() else {
        return Err("\"result.options\" is not an array".to_owned());
    };
    let mut parsed: Vec<PluginOption> = Vec::with_capacity(options.len());
    for opt in options {
        let opt = parse_option(opt)?;
        // CLN makes this fatal at startup ("error starting plugin '<path>': option name
        // '--<name>' is already taken"); across plugins that check is the host's.
        if parsed.iter().any(|o| o.name == opt.name) {
            return Err(format!("option name '--{}' is already taken", opt.name));
        }
        parsed.push(opt);
    }
    Ok(parsed)
}

fn option_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'_' || b == b'-')
}

fn parse_option(opt: &Value) -> Result<PluginOption, String> {
    const MISSING: &str = "An option is missing either \"name\", \"description\" or \"type\"";
    let Some(obj) = opt.as_object() else {
        return Err(MISSING.to_owned());
    };
    let (Some(name), Some(typ), Some(desc)) =
        (obj.get("name"), obj.get("type"), obj.get("description"))
    else {
        return Err(MISSING.to_owned());
    };
    let Some(name) = name.as_str() else {
        return Err(MISSING.to_owned());
    };
    // CLN messages name the option as registered, with its `--`.
    let dashed = format!("--{name}");

    // A `|` would register an alias and dodge the duplicate-name check, hence its own text.
    if name.contains('|') {
        return Err("Option \"name\" may not contain '|'".to_owned());
    }
    if !option_name_ok(name) {
        return Err(format!(
            "Option \"name\" must contain only lowercase letters, digits, '_' and '-': '{name}'"
        ));
    }

    let deprecated = match obj.get("deprecated") {
        None => false,
        Some(v) => parse_deprecated(v)
            .ok_or_else(|| format!("{dashed}: invalid \"deprecated\" field {v}"))?,
    };
    let multi = match obj.get("multi") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| format!("{dashed}: invalid \"multi\" field {v}"))?,
    };
    let dynamic = match obj.get("dynamic") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| format!("{dashed}: invalid \"dynamic\" field {v}"))?,
    };

    let Some(kind) = typ.as_str().and_then(OptionKind::from_manifest) else {
        return Err(
            "Only \"string\", \"int\", \"bool\", and \"flag\" options are supported".to_owned(),
        );
    };
    if multi && matches!(kind, OptionKind::Bool | OptionKind::Flag) {
        return Err(format!(
            "{dashed} type \"{}\" cannot have multi",
            kind.as_str()
        ));
    }

    let default = match obj.get("default") {
        None | Some(Value::Null) => None,
        Some(v) if kind == OptionKind::Flag => {
            // A flag is either given or not: a true default could never be turned off.
            if *v != Value::Bool(false) {
                return Err(format!(
                    "{dashed} type flag default must be 'false' not {v}"
                ));
            }
            None
        }
        Some(v) => Some(typed_default(kind, multi, v)?),
    };

    Ok(PluginOption {
        name: name.to_owned(),
        kind,
        description: string_or_json(desc),
        default,
        multi,
        dynamic,
        deprecated,
    })
}

fn parse_rpcmethods(obj: &Map<String, Value>) -> Result<Vec<RpcMethod>, String> {
    let Some(methods) = obj.get("rpcmethods") else {
        return Err("\"result.rpcmethods\" missing".to_owned());
    };
    let Some(methods) = methods.as_array() else {
        return Err("\"result.rpcmethods\" is not an array".to_owned());
    };
    methods.iter().map(parse_rpcmethod).collect()
}

fn parse_rpcmethod(meth: &Value) -> Result<RpcMethod, String> {
    let no_name = || format!("rpcmethod does not have a string \"name\": {meth}");
    let Some(obj) = meth.as_object() else {
        return Err(no_name());
    };
    // An empty name would register a command nobody can call; treat it as no name.
    let name = match obj.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => return Err(no_name()),
    };
    let description = match obj.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(format!(
                "rpcmethod does not have a string \"description\": {meth}"
            ))
        }
    };
    let long_description = match obj.get("long_description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(format!("\"long_description\" is not a string: {meth}")),
    };
    let usage = match obj.get("usage") {
        None => return Err("\"usage\" not provided by plugin".to_owned()),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(format!("\"usage\" is not a string: {meth}")),
    };
    let deprecated = match obj.get("deprecated") {
        None => false,
        Some(v) => parse_deprecated(v)
            .ok_or_else(|| format!("{name}: invalid \"deprecated\" field {v}"))?,
    };
    Ok(RpcMethod {
        name,
        usage,
        description,
        long_description,
        deprecated,
    })
}

fn parse_subscriptions(v: &Value) -> Result<Vec<String>, String> {
    let Some(arr) = v.as_array() else {
        return Err("\"result.subscriptions\" is not an array".to_owned());
    };
    arr.iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("result.subscriptions[{i}] is not a string: '{s}'"))
        })
        .collect()
}

fn parse_hooks(v: Option<&Value>) -> Result<Vec<HookRegistration>, String> {
    let arr = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(arr)) => arr,
        Some(_) => return Err("\"result.hooks\" is not an array".to_owned()),
    };
    let mut hooks: Vec<HookRegistration> = Vec::with_capacity(arr.len());
    for t in arr {
        let hook = parse_hook(t)?;
        if hooks.iter().any(|h| h.name == hook.name) {
            return Err(format!("Registered for hook {} multiple times", hook.name));
        }
        hooks.push(hook);
    }
    Ok(hooks)
}

fn parse_hook(t: &Value) -> Result<HookRegistration, String> {
    let obj = match t {
        // The pre-v0.9.2 form: just the name, no constraints.
        Value::String(name) => {
            check_hook_name(name)?;
            return Ok(HookRegistration {
                name: name.clone(),
                ..HookRegistration::default()
            });
        }
        Value::Object(obj) => obj,
        // CLN takes any other token's text as the name, which then names no hook.
        other => return Err(format!("Unknown hook name {other}")),
    };
    let Some(name) = obj.get("name").and_then(Value::as_str) else {
        return Err(format!("no name in hook obj {t}"));
    };
    check_hook_name(name)?;
    let before = plugin_names(name, "before", obj.get("before"))?;
    let after = plugin_names(name, "after", obj.get("after"))?;
    let filters = match obj.get("filters") {
        None | Some(Value::Null) => None,
        Some(f) => Some(parse_filters(name, f)?),
    };
    Ok(HookRegistration {
        name: name.to_owned(),
        before,
        after,
        filters,
    })
}

fn check_hook_name(name: &str) -> Result<(), String> {
    if KNOWN_HOOKS.contains(&name) {
        Ok(())
    } else {
        Err(format!("Unknown hook name {name}"))
    }
}

fn plugin_names(hook: &str, field: &str, v: Option<&Value>) -> Result<Vec<String>, String> {
    let arr = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(arr)) => arr,
        Some(other) => {
            return Err(format!(
                "hook {hook}: \"{field}\" must be an array of plugin names, not {other}"
            ))
        }
    };
    arr.iter()
        .map(|n| {
            n.as_str().map(str::to_owned).ok_or_else(|| {
                format!("hook {hook}: \"{field}\" must be an array of plugin names, not {n}")
            })
        })
        .collect()
}

fn parse_filters(hook: &str, f: &Value) -> Result<Vec<u16>, String> {
    if !FILTERABLE_HOOKS.contains(&hook) {
        return Err(format!("Hook {hook} does not allow filters"));
    }
    let Some(arr) = f.as_array() else {
        return Err("filters token must be an array".to_owned());
    };
    // CLN parses u64s; custommsg types are u16, so a larger value could never match and is
    // refused with the same text.
    arr.iter()
        .map(|t| {
            as_u16(t)
                .ok_or_else(|| format!("filters must be array of unsigned integers, not '{t}'"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What pyln-client 26.x's `Plugin._getmanifest` sends for a plugin with options of each
    /// kind, two methods, two hooks as objects, subscriptions, a custom topic, featurebits and
    /// custommessages (plus a `long_description`, which older pyln sent).
    fn pyln_manifest() -> Value {
        json!({
            "options": [
                {"name": "greeting", "description": "What to say", "type": "string",
                 "multi": false, "deprecated": false, "dynamic": true, "default": "hello"},
                {"name": "secret-key", "description": "Hidden", "type": "string-conceal",
                 "multi": false, "deprecated": false, "dynamic": false},
                {"name": "count", "description": "How many", "type": "int",
                 "multi": false, "deprecated": false, "dynamic": false, "default": 3},
                {"name": "verbose", "description": "Talk more", "type": "bool",
                 "multi": false, "deprecated": ["v24.02", "v25.02"], "dynamic": false,
                 "default": true},
                {"name": "shout", "description": "Flag", "type": "flag",
                 "multi": false, "deprecated": false, "dynamic": false, "default": false},
                {"name": "peer", "description": "Many", "type": "string",
                 "multi": true, "deprecated": false, "dynamic": false}
            ],
            "rpcmethods": [
                {"name": "hello", "usage": "[name]", "description": "Say hello",
                 "long_description": "Say hello to someone"},
                {"name": "bye", "usage": "", "description": ""}
            ],
            "subscriptions": ["connect", "disconnect", "custommsg", "*"],
            "hooks": [
                {"name": "custommsg", "before": ["other.py"], "after": ["/opt/p/first"],
                 "filters": [32769, 65535]},
                {"name": "peer_connected", "before": [], "after": []}
            ],
            "dynamic": false,
            "nonnumericids": true,
            "notifications": [{"method": "my_event"}],
            "featurebits": {"init": "0200000000", "node": "0200000000",
                            "invoice": "0200000000"},
            "custommessages": [32768, 32770]
        })
    }

    fn err(v: Value) -> String {
        match parse_manifest(&v) {
            Err(e) => e,
            Ok(m) => panic!("expected an error, parsed {m:?}"),
        }
    }

    /// A minimal valid manifest with `extra` merged over it.
    fn with(extra: Value) -> Value {
        let mut base = json!({"options": [], "rpcmethods": []});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        base
    }

    fn opt(extra: Value) -> Value {
        let mut o = json!({"name": "o", "description": "d", "type": "string"});
        if let (Some(b), Some(e)) = (o.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        with(json!({"options": [o]}))
    }

    fn one_option(extra: Value) -> PluginOption {
        parse_manifest(&opt(extra)).unwrap().options.remove(0)
    }

    #[test]
    fn pyln_manifest_parses_fully() {
        let m = parse_manifest(&pyln_manifest()).unwrap();
        assert_eq!(m.options.len(), 6);
        assert_eq!(
            m.options[0],
            PluginOption {
                name: "greeting".into(),
                kind: OptionKind::String,
                description: "What to say".into(),
                default: Some(json!("hello")),
                multi: false,
                dynamic: true,
                deprecated: false,
            }
        );
        assert_eq!(m.options[1].kind, OptionKind::StringConceal);
        assert_eq!(m.options[1].default, None);
        assert_eq!(m.options[2].kind, OptionKind::Int);
        assert_eq!(m.options[2].default, Some(json!(3)));
        assert_eq!(m.options[3].kind, OptionKind::Bool);
        assert_eq!(m.options[3].default, Some(json!(true)));
        assert!(m.options[3].deprecated);
        assert_eq!(m.options[4].kind, OptionKind::Flag);
        assert_eq!(m.options[4].default, None);
        assert!(m.options[5].multi);

        assert_eq!(
            m.rpcmethods,
            vec![
                RpcMethod {
                    name: "hello".into(),
                    usage: "[name]".into(),
                    description: Some("Say hello".into()),
                    long_description: Some("Say hello to someone".into()),
                    deprecated: false,
                },
                RpcMethod {
                    name: "bye".into(),
                    usage: "".into(),
                    description: Some("".into()),
                    long_description: None,
                    deprecated: false,
                },
            ]
        );
        assert_eq!(
            m.subscriptions,
            vec!["connect", "disconnect", "custommsg", "*"]
        );
        assert_eq!(
            m.hooks,
            vec![
                HookRegistration {
                    name: "custommsg".into(),
                    before: vec!["other.py".into()],
                    after: vec!["/opt/p/first".into()],
                    filters: Some(vec![32769, 65535]),
                },
                HookRegistration {
                    name: "peer_connected".into(),
                    ..HookRegistration::default()
                },
            ]
        );
        assert_eq!(
            m.featurebits,
            FeatureBits {
                init: Some(vec![2, 0, 0, 0, 0]),
                node: Some(vec![2, 0, 0, 0, 0]),
                channel: None,
                invoice: Some(vec![2, 0, 0, 0, 0]),
            }
        );
        assert!(!m.featurebits.is_empty());
        assert_eq!(m.notifications, vec!["my_event"]);
        assert_eq!(m.custommessages, vec![32768, 32770]);
        assert!(!m.dynamic);
        assert!(m.nonnumericids);
        assert!(!m.cancheck);
        assert_eq!(m.disable, None);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn minimal_manifest_has_defaults() {
        let m = parse_manifest(&with(json!({}))).unwrap();
        assert_eq!(m, Manifest::default());
        assert!(m.featurebits.is_empty());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let m = parse_manifest(&with(json!({"future": {"x": 1}, "category": 5}))).unwrap();
        assert_eq!(m, Manifest::default());
    }

    #[test]
    fn disable_stops_parsing() {
        let m = parse_manifest(&json!({"disable": "no bitcoind"})).unwrap();
        assert_eq!(m.disable.as_deref(), Some("no bitcoind"));
        assert!(m.options.is_empty());
        // Even a broken rest of the manifest is not looked at.
        let m = parse_manifest(&json!({"disable": "x", "options": 5, "hooks": ["nope"]})).unwrap();
        assert_eq!(m.disable.as_deref(), Some("x"));
        // Non-string reasons are echoed as JSON, as CLN strdups the token.
        let m = parse_manifest(&json!({"disable": 7})).unwrap();
        assert_eq!(m.disable.as_deref(), Some("7"));
    }

    #[test]
    fn result_must_be_object() {
        assert_eq!(err(json!([1])), "Invalid/missing result tok in '[1]'");
        assert_eq!(err(json!(null)), "Invalid/missing result tok in 'null'");
    }

    #[test]
    fn dynamic_and_cancheck_and_nonnumericids() {
        let m = parse_manifest(&with(json!({"dynamic": true, "cancheck": true}))).unwrap();
        assert!(m.dynamic && m.cancheck && !m.nonnumericids);
        assert_eq!(
            err(with(json!({"dynamic": "yes"}))),
            "getmanifest: invalid \"dynamic\" field \"yes\""
        );
        assert_eq!(err(with(json!({"cancheck": 1}))), "Invalid cancheck: 1");
        assert_eq!(
            err(with(json!({"nonnumericids": false}))),
            "Plugin does not allow nonnumericids"
        );
        assert_eq!(
            err(with(json!({"nonnumericids": "true"}))),
            "Invalid nonnumericids: \"true\""
        );
    }

    #[test]
    fn options_required_and_array() {
        assert_eq!(
            err(json!({"rpcmethods": []})),
            "\"result.options\" was not found in the manifest"
        );
        assert_eq!(
            err(json!({"options": {}, "rpcmethods": []})),
            "\"result.options\" is not an array"
        );
    }

    #[test]
    fn option_fields_required() {
        let missing = "An option is missing either \"name\", \"description\" or \"type\"";
        for o in [
            json!({"description": "d", "type": "string"}),
            json!({"name": "o", "type": "string"}),
            json!({"name": "o", "description": "d"}),
            json!({"name": 5, "description": "d", "type": "string"}),
            json!("o"),
        ] {
            assert_eq!(err(with(json!({"options": [o]}))), missing);
        }
    }

    #[test]
    fn option_types() {
        let only = "Only \"string\", \"int\", \"bool\", and \"flag\" options are supported";
        assert_eq!(err(opt(json!({"type": "float"}))), only);
        assert_eq!(err(opt(json!({"type": 1}))), only);
        assert_eq!(err(opt(json!({"type": "String"}))), only);
        for (t, k) in [
            ("string", OptionKind::String),
            ("string-conceal", OptionKind::StringConceal),
            ("int", OptionKind::Int),
            ("bool", OptionKind::Bool),
            ("flag", OptionKind::Flag),
        ] {
            assert_eq!(one_option(json!({"type": t})).kind, k);
            assert_eq!(k.as_str(), t);
        }
    }

    #[test]
    fn option_names() {
        assert_eq!(one_option(json!({"name": "a-b_c9"})).name, "a-b_c9");
        assert_eq!(
            err(opt(json!({"name": "a|b"}))),
            "Option \"name\" may not contain '|'"
        );
        for bad in ["Upper", "dot.ted", "sp ace", "", "ünï"] {
            assert_eq!(
                err(opt(json!({"name": bad}))),
                format!(
                    "Option \"name\" must contain only lowercase letters, digits, '_' and '-': '{bad}'"
                )
            );
        }
    }

    #[test]
    fn option_duplicate_name() {
        let o = json!({"name": "o", "description": "d", "type": "string"});
        assert_eq!(
            err(with(json!({"options": [o.clone(), o]}))),
            "option name '--o' is already taken"
        );
    }

    #[test]
    fn option_multi_rules() {
        assert!(one_option(json!({"multi": true})).multi);
        assert!(one_option(json!({"type": "int", "multi": true})).multi);
        assert_eq!(
            err(opt(json!({"type": "bool", "multi": true}))),
            "--o type \"bool\" cannot have multi"
        );
        assert_eq!(
            err(opt(json!({"type": "flag", "multi": true}))),
            "--o type \"flag\" cannot have multi"
        );
        assert_eq!(
            err(opt(json!({"multi": "yes"}))),
            "--o: invalid \"multi\" field \"yes\""
        );
        // multi: false is fine on any kind.
        assert!(!one_option(json!({"type": "flag", "multi": false})).multi);
    }

    #[test]
    fn option_dynamic_and_deprecated() {
        assert!(one_option(json!({"dynamic": true})).dynamic);
        assert_eq!(
            err(opt(json!({"dynamic": 1}))),
            "--o: invalid \"dynamic\" field 1"
        );
        assert!(one_option(json!({"deprecated": true})).deprecated);
        assert!(!one_option(json!({"deprecated": false})).deprecated);
        assert!(one_option(json!({"deprecated": ["v23.08"]})).deprecated);
        assert!(one_option(json!({"deprecated": ["v23.08", "v24.08"]})).deprecated);
        for bad in [json!("yes"), json!([]), json!([1]), json!(["a", "b", "c"])] {
            assert_eq!(
                err(opt(json!({"deprecated": bad.clone()}))),
                format!("--o: invalid \"deprecated\" field {bad}")
            );
        }
    }

    #[test]
    fn option_description_is_kept() {
        assert_eq!(one_option(json!({})).description, "d");
        // CLN strdups a non-string token; so do we.
        assert_eq!(one_option(json!({"description": null})).description, "null");
    }

    #[test]
    fn flag_default_must_be_false() {
        assert_eq!(
            one_option(json!({"type": "flag", "default": false})).default,
            None
        );
        assert_eq!(
            one_option(json!({"type": "flag", "default": null})).default,
            None
        );
        assert_eq!(one_option(json!({"type": "flag"})).default, None);
        assert_eq!(
            err(opt(json!({"type": "flag", "default": true}))),
            "--o type flag default must be 'false' not true"
        );
        assert_eq!(
            err(opt(json!({"type": "flag", "default": "false"}))),
            "--o type flag default must be 'false' not \"false\""
        );
    }

    #[test]
    fn defaults_are_typed() {
        let d = |t: &str, v: Value| one_option(json!({"type": t, "default": v})).default;
        assert_eq!(d("int", json!(42)), Some(json!(42)));
        assert_eq!(d("int", json!("42")), Some(json!(42)));
        assert_eq!(d("int", json!(-7)), Some(json!(-7)));
        assert_eq!(d("int", json!("0x10")), Some(json!(16)));
        assert_eq!(d("bool", json!(false)), Some(json!(false)));
        assert_eq!(d("bool", json!("True")), Some(json!(true)));
        assert_eq!(d("bool", json!(0)), Some(json!(false)));
        assert_eq!(d("string", json!(5)), Some(json!("5")));
        assert_eq!(d("string", json!(true)), Some(json!("true")));
        assert_eq!(d("string-conceal", json!("s")), Some(json!("s")));
        assert_eq!(d("string", json!(null)), None);
        // Multi defaults are arrays, from a scalar or an array.
        let m =
            |t: &str, v: Value| one_option(json!({"type": t, "multi": true, "default": v})).default;
        assert_eq!(m("string", json!("a")), Some(json!(["a"])));
        assert_eq!(m("string", json!(["a", "b"])), Some(json!(["a", "b"])));
        assert_eq!(m("int", json!(["1", 2])), Some(json!([1, 2])));
        assert_eq!(m("int", json!(3)), Some(json!([3])));
    }

    #[test]
    fn bad_defaults() {
        let e = |t: &str, v: Value| err(opt(json!({"type": t, "default": v})));
        assert_eq!(e("int", json!("abc")), "default \"abc\" is not a valid int");
        assert_eq!(e("int", json!(4.5)), "default 4.5 is not a valid int");
        assert_eq!(
            e("int", json!(u64::MAX)),
            "default 18446744073709551615 is not a valid int"
        );
        assert_eq!(
            e("bool", json!("yes")),
            "default \"yes\" is not a valid bool"
        );
        assert_eq!(e("bool", json!(2)), "default 2 is not a valid bool");
        assert_eq!(
            e("string", json!({"a": 1})),
            "default {\"a\":1} is not a valid string"
        );
        assert_eq!(
            e("string", json!(["a"])),
            "default [\"a\"] is not a valid string"
        );
        assert_eq!(
            err(opt(
                json!({"type": "int", "multi": true, "default": [1, "x"]})
            )),
            "default [1,\"x\"] is not a valid int"
        );
    }

    #[test]
    fn rpcmethods_rules() {
        assert_eq!(err(json!({"options": []})), "\"result.rpcmethods\" missing");
        assert_eq!(
            err(json!({"options": [], "rpcmethods": {}})),
            "\"result.rpcmethods\" is not an array"
        );
        let meth = |m: Value| err(with(json!({"rpcmethods": [m]})));
        assert_eq!(
            meth(json!({"usage": ""})),
            "rpcmethod does not have a string \"name\": {\"usage\":\"\"}"
        );
        assert_eq!(
            meth(json!({"name": "", "usage": ""})),
            "rpcmethod does not have a string \"name\": {\"name\":\"\",\"usage\":\"\"}"
        );
        assert_eq!(
            meth(json!({"name": 3, "usage": ""})),
            "rpcmethod does not have a string \"name\": {\"name\":3,\"usage\":\"\"}"
        );
        assert_eq!(
            meth(json!("hello")),
            "rpcmethod does not have a string \"name\": \"hello\""
        );
        assert_eq!(
            meth(json!({"name": "m"})),
            "\"usage\" not provided by plugin"
        );
        assert_eq!(
            meth(json!({"name": "m", "usage": 1})),
            "\"usage\" is not a string: {\"name\":\"m\",\"usage\":1}"
        );
        assert_eq!(
            meth(json!({"name": "m", "usage": "", "description": 1})),
            "rpcmethod does not have a string \"description\": {\"name\":\"m\",\"usage\":\"\",\"description\":1}"
        );
        assert_eq!(
            meth(json!({"name": "m", "usage": "", "long_description": 1})),
            "\"long_description\" is not a string: {\"name\":\"m\",\"usage\":\"\",\"long_description\":1}"
        );
        assert_eq!(
            meth(json!({"name": "m", "usage": "", "deprecated": "soon"})),
            "m: invalid \"deprecated\" field \"soon\""
        );
        let ok = |m: Value| {
            parse_manifest(&with(json!({"rpcmethods": [m]})))
                .unwrap()
                .rpcmethods
        };
        let m = ok(json!({"name": "m", "usage": "a b", "deprecated": ["v24.11"]}));
        assert_eq!(
            m,
            vec![RpcMethod {
                name: "m".into(),
                usage: "a b".into(),
                description: None,
                long_description: None,
                deprecated: true,
            }]
        );
        assert_eq!(
            ok(json!({"name": "m", "usage": "", "description": null}))[0].description,
            None
        );
    }

    #[test]
    fn subscriptions_rules() {
        assert_eq!(
            err(with(json!({"subscriptions": "connect"}))),
            "\"result.subscriptions\" is not an array"
        );
        assert_eq!(
            err(with(json!({"subscriptions": ["connect", 5]}))),
            "result.subscriptions[1] is not a string: '5'"
        );
        let m = parse_manifest(&with(json!({
            "subscriptions": ["*", "log", "block_added", "foo", "mine"],
            "notifications": [{"method": "mine"}]
        })))
        .unwrap();
        assert_eq!(
            m.subscriptions,
            vec!["*", "log", "block_added", "foo", "mine"]
        );
        assert_eq!(
            m.warnings,
            vec!["topic 'foo' is not a known notification topic"]
        );
        assert!(m.unknown_subscriptions(&["foo".to_owned()]).is_empty());
        assert_eq!(
            m.unknown_subscriptions(&["bar".to_owned()]),
            vec!["topic 'foo' is not a known notification topic"]
        );
    }

    #[test]
    fn notifications_rules() {
        assert_eq!(
            err(with(json!({"notifications": {}}))),
            "\"result.notifications\" is not an array"
        );
        assert_eq!(
            err(with(json!({"notifications": [{"method": "a"}, "b"]}))),
            "\"result.notifications[1]\" is not an object"
        );
        assert_eq!(
            err(with(json!({"notifications": [{"name": "a"}]}))),
            "\"result.notifications[0].name\" missing or not a string."
        );
        assert_eq!(
            err(with(json!({"notifications": [{"method": 1}]}))),
            "\"result.notifications[0].name\" missing or not a string."
        );
        for native in NATIVE_TOPICS {
            assert_eq!(
                err(with(json!({"notifications": [{"method": native}]}))),
                format!(
                    "plugin attempted to register a native notification topic \"{native}\", \
                     these may however only be sent by lightningd"
                )
            );
        }
    }

    #[test]
    fn topic_tables() {
        for t in EMITTED_TOPICS {
            assert!(is_native_topic(t), "{t}");
        }
        assert!(!is_native_topic("pay_part_start"));
        assert!(!is_native_topic("*"));
    }

    #[test]
    fn custommessages_rules() {
        assert_eq!(
            err(with(json!({"custommessages": 32768}))),
            "custommessages must be array, not '32768'"
        );
        assert_eq!(
            err(with(json!({"custommessages": [1, 65536]}))),
            "custommessages 1 not a u16: '65536'"
        );
        assert_eq!(
            err(with(json!({"custommessages": [-1]}))),
            "custommessages 0 not a u16: '-1'"
        );
        assert_eq!(
            err(with(json!({"custommessages": ["5"]}))),
            "custommessages 0 not a u16: '\"5\"'"
        );
        let m = parse_manifest(&with(json!({"custommessages": [0, 65535, 0]}))).unwrap();
        assert_eq!(m.custommessages, vec![0, 65535, 0]);
    }

    #[test]
    fn featurebits_rules() {
        let m = parse_manifest(&with(json!({"featurebits": {
            "channel": "0A", "init": "", "bolt12_offer": "", "future_place": "zz"
        }})))
        .unwrap();
        assert_eq!(m.featurebits.channel, Some(vec![10]));
        assert_eq!(m.featurebits.init, Some(vec![]));
        assert!(m.warnings.is_empty());
        assert!(!m.featurebits.is_empty());
        assert!(FeatureBits {
            init: Some(vec![]),
            ..FeatureBits::default()
        }
        .is_empty());

        let bad = "Featurebits returned by plugin is not a valid hexadecimal string: ";
        assert_eq!(
            err(with(json!({"featurebits": {"init": "xyz"}}))),
            format!("{bad}xyz")
        );
        assert_eq!(
            err(with(json!({"featurebits": {"node": "123"}}))),
            format!("{bad}123")
        );
        assert_eq!(
            err(with(json!({"featurebits": {"node": 12}}))),
            format!("{bad}12")
        );
        assert_eq!(
            err(with(json!({"featurebits": {"channel_type": "q"}}))),
            format!("{bad}q")
        );
        assert_eq!(
            err(with(json!({"featurebits": "02"}))),
            "\"result.featurebits\" is not an object: \"02\""
        );

        // Ignored places are still validated, and warned about when they carry bits.
        let m = parse_manifest(&with(json!({"featurebits": {"bolt12_offer": "01"}}))).unwrap();
        assert!(m.featurebits.is_empty());
        assert_eq!(
            m.warnings,
            vec!["featurebits 'bolt12_offer' ignored: lnpeer does not advertise bolt12_offer features"]
        );
    }

    #[test]
    fn dynamic_plugins_cannot_set_featurebits() {
        assert_eq!(
            err(with(json!({"dynamic": true, "featurebits": {"init": "02"}}))),
            "Custom featurebits only allows for non-dynamic plugins: dynamic=1, featurebits={\"init\":\"02\"}"
        );
        // Empty bitmaps are no featurebits at all.
        let m =
            parse_manifest(&with(json!({"dynamic": true, "featurebits": {"init": ""}}))).unwrap();
        assert!(m.dynamic && m.featurebits.is_empty());
        // Bits in an ignored place still count, as they do in CLN.
        assert!(parse_manifest(&with(
            json!({"dynamic": true, "featurebits": {"bolt12_offer": "01"}})
        ))
        .is_err());
    }

    #[test]
    fn hooks_as_strings_and_objects() {
        let m = parse_manifest(&with(json!({"hooks": ["peer_connected",
            {"name": "custommsg"}]})))
        .unwrap();
        assert_eq!(m.hooks[0].name, "peer_connected");
        assert_eq!(
            m.hooks[1],
            HookRegistration {
                name: "custommsg".into(),
                ..HookRegistration::default()
            }
        );
        let m = parse_manifest(&with(json!({"hooks": null}))).unwrap();
        assert!(m.hooks.is_empty());
        let m = parse_manifest(&with(json!({"hooks": [{"name": "custommsg",
            "before": null, "after": null, "filters": null}]})))
        .unwrap();
        assert_eq!(m.hooks[0].filters, None);
        let m = parse_manifest(&with(
            json!({"hooks": [{"name": "custommsg", "filters": []}]}),
        ))
        .unwrap();
        assert_eq!(m.hooks[0].filters, Some(vec![]));
    }

    #[test]
    fn hook_errors() {
        let h = |hooks: Value| err(with(json!({ "hooks": hooks })));
        assert_eq!(h(json!("custommsg")), "\"result.hooks\" is not an array");
        assert_eq!(
            h(json!(["htlc_accepted"])),
            "Unknown hook name htlc_accepted"
        );
        assert_eq!(
            h(json!([{"name": "db_write", "filters": [1]}])),
            "Unknown hook name db_write"
        );
        assert_eq!(h(json!([5])), "Unknown hook name 5");
        assert_eq!(
            h(json!([{"before": []}])),
            "no name in hook obj {\"before\":[]}"
        );
        assert_eq!(
            h(json!(["custommsg", {"name": "custommsg"}])),
            "Registered for hook custommsg multiple times"
        );
        assert_eq!(
            h(json!([{"name": "peer_connected", "filters": [1]}])),
            "Hook peer_connected does not allow filters"
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "filters": 1}])),
            "filters token must be an array"
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "filters": [1, "2"]}])),
            "filters must be array of unsigned integers, not '\"2\"'"
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "filters": [-1]}])),
            "filters must be array of unsigned integers, not '-1'"
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "filters": [65536]}])),
            "filters must be array of unsigned integers, not '65536'"
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "filters": [1.5]}])),
            "filters must be array of unsigned integers, not '1.5'"
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "before": "x"}])),
            "hook custommsg: \"before\" must be an array of plugin names, not \"x\""
        );
        assert_eq!(
            h(json!([{"name": "custommsg", "after": [1]}])),
            "hook custommsg: \"after\" must be an array of plugin names, not 1"
        );
    }

    #[test]
    fn error_order_follows_cln() {
        // Featurebits come before options, notifications before options.
        assert!(err(json!({"featurebits": {"init": "x"}})).starts_with("Featurebits"));
        assert!(err(json!({"notifications": 1})).starts_with("\"result.notifications\""));
        // Options before rpcmethods before hooks.
        assert_eq!(
            err(json!({"hooks": ["nope"]})),
            "\"result.options\" was not found in the manifest"
        );
        assert_eq!(
            err(json!({"options": [], "hooks": ["nope"]})),
            "\"result.rpcmethods\" missing"
        );
    }

    fn option(kind: OptionKind, multi: bool, default: Option<Value>) -> PluginOption {
        PluginOption {
            name: "o".into(),
            kind,
            description: String::new(),
            default,
            multi,
            dynamic: false,
            deprecated: false,
        }
    }

    fn some(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn init_value_int() {
        let o = option(OptionKind::Int, false, None);
        assert_eq!(o.init_value(&[]).unwrap(), None);
        assert_eq!(o.init_value(&[some("42")]).unwrap(), Some(json!(42)));
        assert_eq!(o.init_value(&[some("-42")]).unwrap(), Some(json!(-42)));
        assert_eq!(o.init_value(&[some("0x1F")]).unwrap(), Some(json!(31)));
        assert_eq!(o.init_value(&[some("010")]).unwrap(), Some(json!(8)));
        assert_eq!(o.init_value(&[some("0")]).unwrap(), Some(json!(0)));
        assert_eq!(o.init_value(&[some(" 7")]).unwrap(), Some(json!(7)));
        assert_eq!(
            o.init_value(&[some("-9223372036854775808")]).unwrap(),
            Some(json!(i64::MIN))
        );
        for bad in [
            "abc",
            "",
            "7 ",
            "1.5",
            "9223372036854775808",
            "08",
            "0x",
            "--1",
            "+-1",
        ] {
            assert_eq!(
                o.init_value(&[some(bad)]).unwrap_err(),
                format!("--o: {bad} does not parse as type int"),
            );
        }
        let d = option(OptionKind::Int, false, Some(json!(5)));
        assert_eq!(d.init_value(&[]).unwrap(), Some(json!(5)));
        assert_eq!(d.init_value(&[some("6")]).unwrap(), Some(json!(6)));
    }

    #[test]
    fn init_value_bool() {
        let o = option(OptionKind::Bool, false, Some(json!(true)));
        assert_eq!(o.init_value(&[]).unwrap(), Some(json!(true)));
        for (raw, want) in [
            ("true", true),
            ("True", true),
            ("1", true),
            ("false", false),
            ("False", false),
            ("0", false),
        ] {
            assert_eq!(o.init_value(&[some(raw)]).unwrap(), Some(json!(want)));
        }
        assert_eq!(
            o.init_value(&[some("yes")]).unwrap_err(),
            "--o: yes does not parse as type bool"
        );
        assert_eq!(
            o.init_value(&[None]).unwrap_err(),
            "--o: requires an argument"
        );
    }

    #[test]
    fn init_value_flag() {
        let o = option(OptionKind::Flag, false, None);
        assert_eq!(o.init_value(&[]).unwrap(), None);
        assert_eq!(o.init_value(&[None]).unwrap(), Some(json!(true)));
        assert_eq!(o.init_value(&[None, None]).unwrap(), Some(json!(true)));
        assert_eq!(
            o.init_value(&[some("true")]).unwrap_err(),
            "--o: doesn't allow an argument"
        );
        assert_eq!(o.parse_value("anything").unwrap(), json!(true));
    }

    #[test]
    fn init_value_strings() {
        let o = option(OptionKind::String, false, Some(json!("dflt")));
        assert_eq!(o.init_value(&[]).unwrap(), Some(json!("dflt")));
        assert_eq!(o.init_value(&[some("")]).unwrap(), Some(json!("")));
        assert_eq!(o.init_value(&[some("a b")]).unwrap(), Some(json!("a b")));
        assert_eq!(
            o.init_value(&[some("a"), some("b")]).unwrap_err(),
            "--o: given more than once, but it is not a multi option"
        );
        assert_eq!(
            o.init_value(&[None]).unwrap_err(),
            "--o: requires an argument"
        );
        let c = option(OptionKind::StringConceal, false, None);
        assert_eq!(c.init_value(&[]).unwrap(), None);
        assert_eq!(
            c.init_value(&[some("s3cret")]).unwrap(),
            Some(json!("s3cret"))
        );
    }

    #[test]
    fn init_value_multi() {
        let o = option(OptionKind::Int, true, None);
        assert_eq!(o.init_value(&[]).unwrap(), None);
        assert_eq!(o.init_value(&[some("1")]).unwrap(), Some(json!([1])));
        assert_eq!(
            o.init_value(&[some("1"), some("0x2"), some("-3")]).unwrap(),
            Some(json!([1, 2, -3]))
        );
        assert_eq!(
            o.init_value(&[some("1"), some("x")]).unwrap_err(),
            "--o: x does not parse as type int"
        );
        let s = option(OptionKind::String, true, Some(json!(["a"])));
        assert_eq!(s.init_value(&[]).unwrap(), Some(json!(["a"])));
        assert_eq!(
            s.init_value(&[some("b"), some("c")]).unwrap(),
            Some(json!(["b", "c"]))
        );
    }

    #[test]
    fn init_value_from_parsed_defaults() {
        // End to end: what a pyln manifest's defaults turn into in `init`.
        let m = parse_manifest(&pyln_manifest()).unwrap();
        let values: Vec<_> = m
            .options
            .iter()
            .map(|o| o.init_value(&[]).unwrap())
            .collect();
        assert_eq!(
            values,
            vec![
                Some(json!("hello")),
                None,
                Some(json!(3)),
                Some(json!(true)),
                None,
                None
            ]
        );
        let multi = one_option(json!({"multi": true, "default": "x"}));
        assert_eq!(multi.init_value(&[]).unwrap(), Some(json!(["x"])));
    }

    #[test]
    fn parse_value_bare_texts() {
        let o = option(OptionKind::Int, false, None);
        assert_eq!(o.parse_value("12").unwrap(), json!(12));
        assert_eq!(
            o.parse_value("z").unwrap_err(),
            "z does not parse as type int"
        );
        let s = option(OptionKind::StringConceal, false, None);
        assert_eq!(s.parse_value("z").unwrap(), json!("z"));
    }

    #[test]
    fn option_kind_round_trip() {
        for k in [
            OptionKind::String,
            OptionKind::StringConceal,
            OptionKind::Int,
            OptionKind::Bool,
            OptionKind::Flag,
        ] {
            assert_eq!(OptionKind::from_manifest(k.as_str()), Some(k));
        }
        assert_eq!(OptionKind::from_manifest("float"), None);
    }
}
