//! A plugin option's declared type, and the values `init` sends for it: a default from the
//! manifest, or what the user gave on the command line, in a config file or to
//! `plugin start`, typed the way CLN types them (`plugin_opt_value`, `strtoll`).
//!
//! Pure logic, like the manifest parser that builds these.

use serde_json::Value;

/// An option's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// `string`.
    String,
    /// `string-conceal`: a string that listconfigs and logs must not show.
    StringConceal,
    /// `int`: a signed 64-bit integer.
    Int,
    /// `bool`.
    Bool,
    /// `flag`: no value; present (as `true`) in `init` only when set.
    Flag,
}

impl OptionKind {
    /// The manifest spelling of this type.
    pub fn as_str(self) -> &'static str {
        match self {
            OptionKind::String => "string",
            OptionKind::StringConceal => "string-conceal",
            OptionKind::Int => "int",
            OptionKind::Bool => "bool",
            OptionKind::Flag => "flag",
        }
    }

    /// The type named `name` in a manifest, if it is one CLN supports.
    pub fn from_manifest(name: &str) -> Option<Self> {
        match name {
            "string" => Some(OptionKind::String),
            "string-conceal" => Some(OptionKind::StringConceal),
            "int" => Some(OptionKind::Int),
            "bool" => Some(OptionKind::Bool),
            "flag" => Some(OptionKind::Flag),
            _ => None,
        }
    }
}

/// One option from the manifest's `options`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginOption {
    /// The name, without the leading `--`.
    pub name: String,
    /// The declared type.
    pub kind: OptionKind,
    /// Help text.
    pub description: String,
    /// The default, already typed as `init` sends it: a number for `int`, a bool for `bool`,
    /// a string for the string kinds, and for `multi` options always an array. Always `None`
    /// for a flag, whose only legal default is "not set".
    pub default: Option<Value>,
    /// Whether the option may be given several times (`init` then sends an array).
    pub multi: bool,
    /// Whether `setconfig` may change it at runtime.
    pub dynamic: bool,
    /// Whether it is deprecated (`true`, or a `[start]` / `[start, end]` version array).
    pub deprecated: bool,
}

/// Types a manifest default the way CLN does: it takes the token's text (a string's content,
/// a number's or bool's literal) and parses it as a command-line value would be. A multi
/// option's default may also be an array of such values (pyln passes lists through).
pub(crate) fn typed_default(kind: OptionKind, multi: bool, v: &Value) -> Result<Value, String> {
    let invalid = || format!("default {v} is not a valid {}", kind.as_str());
    let one = |item: &Value| -> Result<Value, String> {
        let text = match item {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => item.to_string(),
            _ => return Err(invalid()),
        };
        typed_value(kind, &text).ok_or_else(invalid)
    };
    match v {
        Value::Array(items) if multi => items
            .iter()
            .map(one)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        _ if multi => Ok(Value::Array(vec![one(v)?])),
        _ => one(v),
    }
}

/// The typed value of `raw` for `kind`, or `None` when it does not parse.
fn typed_value(kind: OptionKind, raw: &str) -> Option<Value> {
    match kind {
        OptionKind::String | OptionKind::StringConceal => Some(Value::String(raw.to_owned())),
        OptionKind::Int => parse_c_int(raw).map(Value::from),
        OptionKind::Bool => parse_c_bool(raw).map(Value::Bool),
        // CLN sets a flag to true whatever text reaches it (e.g. `plugin start … flag=x`).
        OptionKind::Flag => Some(Value::Bool(true)),
    }
}

/// CLN's bool spellings (`plugin_opt_value`): `true`, `True`, `1`, `false`, `False`, `0`.
fn parse_c_bool(raw: &str) -> Option<bool> {
    match raw {
        "true" | "True" | "1" => Some(true),
        "false" | "False" | "0" => Some(false),
        _ => None,
    }
}

/// `strtoll(raw, &end, 0)` with CLN's "whole string, no overflow" checks: leading whitespace,
/// an optional sign, then `0x` hex, `0` octal or decimal. The empty string is refused (C would
/// read it as 0, which no user means).
fn parse_c_int(raw: &str) -> Option<i64> {
    let s = raw.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, hex)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    // from_str_radix would accept its own sign here, which strtoll would not.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from(u64::from_str_radix(digits, radix).ok()?);
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

impl PluginOption {
    /// The JSON value `init` sends for this option given the values the user wrote (command
    /// line, then config, in order; `None` is an option given without `=value`; an empty
    /// slice means not given).
    ///
    /// * int → number, bool → `true`/`false` (CLN also accepts `True`, `1`, `False`, `0`),
    ///   string and string-conceal → string, multi → array of typed values;
    /// * flag → `true`; a flag given several times is still just set;
    /// * not given → the typed default if any, else `None` (the key is omitted). A flag that
    ///   is not given is always omitted.
    ///
    /// Errors read `--<name>: <problem>`, the problem being CLN's text where it has one
    /// (`abc does not parse as type int`).
    pub fn init_value(&self, given: &[Option<String>]) -> Result<Option<Value>, String> {
        if given.is_empty() {
            return Ok(self.default.clone());
        }
        let err = |problem: String| format!("--{}: {problem}", self.name);
        if self.kind == OptionKind::Flag {
            if given.iter().any(Option::is_some) {
                return Err(err("doesn't allow an argument".to_owned()));
            }
            return Ok(Some(Value::Bool(true)));
        }
        if !self.multi && given.len() > 1 {
            return Err(err(
                "given more than once, but it is not a multi option".to_owned()
            ));
        }
        let mut values = Vec::with_capacity(given.len());
        for raw in given {
            let Some(raw) = raw else {
                return Err(err("requires an argument".to_owned()));
            };
            values.push(self.parse_value(raw).map_err(err)?);
        }
        if self.multi {
            Ok(Some(Value::Array(values)))
        } else {
            Ok(values.pop())
        }
    }

    /// One value typed for this option, with CLN's bare error text
    /// (`<raw> does not parse as type <type>`). This is what `plugin start <path> name=value`
    /// needs, where CLN reports the text without option context. A flag accepts anything
    /// and is `true`.
    pub fn parse_value(&self, raw: &str) -> Result<Value, String> {
        typed_value(self.kind, raw)
            .ok_or_else(|| format!("{raw} does not parse as type {}", self.kind.as_str()))
    }
}
