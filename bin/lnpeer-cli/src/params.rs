//! Building the request text: literal detection, keyword or positional parameters, ids.
//!
//! The request is assembled as JSON text, never through `serde_json::Value`, so that what
//! the user typed reaches the daemon byte for byte: `77770012` goes out as the number token
//! `77770012` (the daemon reads its text, as lightningd does for `sendcustommsg`), and a
//! 40-digit number is not rounded to a float.

use serde_json::value::RawValue;

use crate::args::{CommandoTarget, Input, UsageError};

/// Whether `arg` is sent as typed rather than as a JSON string.
///
/// Literals are, as in `lightning-cli`'s `is_literal` (`cli/lightning-cli.c`):
///
/// * non-empty text made only of digits and dots (`42`, `0.5`, `77770012`), except that a
///   leading `0` followed by another digit (`0012`, `01.5`) stays a string, because JSON
///   numbers cannot start that way and `lightning-cli` (PR #8934) quotes them;
/// * `true`, `false` and `null`;
/// * anything that starts with `{` and ends with `}`, starts with `[` and ends with `]`,
///   or starts and ends with `"` (the user wrote the JSON).
///
/// Everything else is escaped and quoted by [`value_token`]. A literal that is not valid
/// JSON (`1.2.3`, `{x}`) is caught when the whole request is checked in [`request`].
pub fn is_literal(arg: &str) -> bool {
    let bytes = arg.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if bytes.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
        let leading_zero = first == b'0' && bytes.get(1).is_some_and(u8::is_ascii_digit);
        return !leading_zero;
    }
    matches!(arg, "true" | "false" | "null")
        || (first == b'{' && last == b'}')
        || (first == b'[' && last == b']')
        || (first == b'"' && last == b'"')
}

/// Whether `s` needs escaping inside a JSON string: control characters, DEL, `"` and `\`
/// (the same test as CLN's `json_escape_needed`).
pub fn escape_needed(s: &str) -> bool {
    s.bytes()
        .any(|c| c < 0x20 || c == 0x7f || c == b'"' || c == b'\\')
}

/// `s` escaped for use between JSON string quotes: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`,
/// `\f`, and `\uXXXX` for other control characters and DEL. Other characters, including
/// all non-ASCII ones, are kept as UTF-8.
pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The JSON text for one parameter value: the word itself if [`is_literal`], otherwise
/// the word escaped and quoted.
pub fn value_token(arg: &str) -> String {
    if is_literal(arg) {
        arg.to_owned()
    } else {
        format!("\"{}\"", json_escape(arg))
    }
}

/// Whether the words are sent as keywords: `-k` and `-o` decide; otherwise keywords when
/// the first parameter contains `=` (`lightning-cli`'s autodetection, which looks only at
/// the first one).
pub fn use_keywords(params: &[String], input: Option<Input>) -> bool {
    match input {
        Some(Input::Keywords) => true,
        Some(Input::Ordered) => false,
        None => params.first().is_some_and(|p| p.contains('=')),
    }
}

/// The `params` JSON text: `{"key":value,…}` in keyword mode (split at each word's first
/// `=`), else `[value,…]`.
///
/// # Errors
///
/// In keyword mode, a word without `=`: `Expected key=value in '<word>'`.
pub fn params(words: &[String], input: Option<Input>) -> Result<String, UsageError> {
    if use_keywords(words, input) {
        let members = words
            .iter()
            .map(|word| {
                let (key, value) = word
                    .split_once('=')
                    .ok_or_else(|| UsageError(format!("Expected key=value in '{word}'")))?;
                Ok(format!("\"{}\":{}", json_escape(key), value_token(value)))
            })
            .collect::<Result<Vec<_>, UsageError>>()?;
        Ok(format!("{{{}}}", members.join(",")))
    } else {
        let values: Vec<String> = words.iter().map(|w| value_token(w)).collect();
        Ok(format!("[{}]", values.join(",")))
    }
}

/// The request id: `cli:<method>#<pid>`, or `cli:weirdmethod!#<pid>` when the method would
/// need escaping (as `lightning-cli` does, so the id is always plain text).
pub fn request_id(method: &str, pid: u32) -> String {
    if escape_needed(method) {
        format!("cli:weirdmethod!#{pid}")
    } else {
        format!("cli:{method}#{pid}")
    }
}

/// The request that enables `message` and `progress` notifications on this connection,
/// byte for byte what `lightning-cli` sends.
pub fn notifications_request(pid: u32) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"notifications\",\"id\":\"cli:notifications#{pid}\",\
         \"params\":{{\"enable\":true}}}}"
    )
}

/// The whole request: `{"jsonrpc":"2.0","method":…,"id":…[,"filter":…],"params":…}`.
///
/// # Errors
///
/// If the result is not valid JSON (a literal the user typed was not, or the filter):
/// `Some parameters are malformed, cannot create a valid JSON-RPC request: <request>`, as
/// `lightning-cli` says.
pub fn request(
    method: &str,
    id: &str,
    filter: Option<&str>,
    params: &str,
) -> Result<String, UsageError> {
    let mut text = format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"{}\",\"id\":\"{}\",",
        json_escape(method),
        json_escape(id)
    );
    if let Some(filter) = filter {
        text.push_str(&format!("\"filter\":{filter},"));
    }
    text.push_str(&format!("\"params\":{params}}}"));
    // Only checks the syntax; RawValue keeps no parsed numbers, so nothing is rounded.
    if serde_json::from_str::<&RawValue>(&text).is_err() {
        return Err(UsageError(format!(
            "Some parameters are malformed, cannot create a valid JSON-RPC request: {text}"
        )));
    }
    Ok(text)
}

/// The `params` of the local `commando` call that runs `method` on `target`, as
/// `lightning-cli --commando` builds them: `{"peer_id":…,"method":…[,"filter":…][,"rune":…],
/// "params":…}`. The filter travels inside, so the peer applies it; the local request then
/// has none of its own.
pub fn commando_params(
    target: &CommandoTarget,
    method: &str,
    filter: Option<&str>,
    params: &str,
) -> String {
    let mut text = format!(
        "{{\"peer_id\":\"{}\",\"method\":\"{}\",",
        json_escape(&target.peer_id),
        json_escape(method)
    );
    if let Some(filter) = filter {
        text.push_str(&format!("\"filter\":{filter},"));
    }
    if let Some(rune) = &target.rune {
        text.push_str(&format!("\"rune\":\"{}\",", json_escape(rune)));
    }
    text.push_str(&format!("\"params\":{params}}}"));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|&s| s.to_owned()).collect()
    }

    #[test]
    fn literal_rule_table() {
        let table: &[(&str, bool)] = &[
            ("77770012", true),
            ("0", true),
            ("42", true),
            ("0.5", true),
            ("1.25", true),
            ("1.2.3", true), // as lightning-cli: the request check then refuses it
            (".", true),
            ("0012", false),
            ("00", false),
            ("01.5", false),
            ("-1", false), // lightning-cli sends negative numbers as strings
            ("1e5", false),
            ("12a", false),
            ("abc", false),
            ("", false),
            ("true", true),
            ("false", true),
            ("null", true),
            ("True", false),
            ("nul", false),
            ("{}", true),
            ("{\"a\":1}", true),
            ("{x}", true),
            ("[1,2]", true),
            ("[", false),
            ("{", false),
            ("{]", false),
            ("\"quoted\"", true),
            ("\"", true), // one quote both starts and ends it; the request check refuses it
            ("\"half", false),
            (
                "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
                false,
            ),
        ];
        for (arg, literal) in table {
            assert_eq!(is_literal(arg), *literal, "{arg:?}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(json_escape("plain"), "plain");
        assert_eq!(json_escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(json_escape("l1\nl2\r\t"), r"l1\nl2\r\t");
        assert_eq!(json_escape("\u{8}\u{c}"), r"\b\f");
        assert_eq!(json_escape("\u{0}\u{1f}\u{7f}"), r"\u0000\u001F\u007F");
        assert_eq!(json_escape("ünï ⚡ 😀"), "ünï ⚡ 😀");
        assert!(escape_needed("a\"b"));
        assert!(escape_needed("a\\b"));
        assert!(escape_needed("a\u{1}"));
        assert!(escape_needed("\u{7f}"));
        assert!(!escape_needed("ünï/⚡"));
        // Every escaped string parses back to itself.
        for s in ["a\"b\\c\n\u{0}\u{7f}ü", "", "\\\\\"\""] {
            let text = format!("\"{}\"", json_escape(s));
            assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
        }
    }

    #[test]
    fn value_tokens() {
        assert_eq!(value_token("77770012"), "77770012");
        assert_eq!(value_token("0012"), "\"0012\"");
        assert_eq!(value_token("abc"), "\"abc\"");
        assert_eq!(value_token("say \"hi\""), r#""say \"hi\"""#);
        assert_eq!(value_token("\"already\""), "\"already\"");
        assert_eq!(value_token("[1, \"x\"]"), "[1, \"x\"]");
        assert_eq!(value_token(""), "\"\"");
    }

    #[test]
    fn positional_by_default() {
        assert_eq!(params(&[], None).unwrap(), "[]");
        assert_eq!(
            params(&words(&["02aa", "77770012", "0012", "abc"]), None).unwrap(),
            r#"["02aa",77770012,"0012","abc"]"#
        );
        // Only the first word decides.
        assert_eq!(
            params(&words(&["abc", "k=v"]), None).unwrap(),
            r#"["abc","k=v"]"#
        );
    }

    #[test]
    fn keyword_autodetect() {
        assert_eq!(
            params(&words(&["id=02aa", "len=0012", "pongbytes=10"]), None).unwrap(),
            r#"{"id":"02aa","len":"0012","pongbytes":10}"#
        );
        // One keyword word is enough, as lightning-cli's argc > 2 test.
        assert_eq!(params(&words(&["id=x"]), None).unwrap(), r#"{"id":"x"}"#);
        // The value is split at the first '=' only.
        assert_eq!(
            params(&words(&["a=b=c", "e="]), None).unwrap(),
            r#"{"a":"b=c","e":""}"#
        );
        assert_eq!(
            params(&words(&["a=1", "oops"]), None).unwrap_err().0,
            "Expected key=value in 'oops'"
        );
    }

    #[test]
    fn forced_modes() {
        assert_eq!(
            params(&words(&["x=1", "y=2"]), Some(Input::Ordered)).unwrap(),
            r#"["x=1","y=2"]"#
        );
        assert_eq!(
            params(
                &words(&["msg=77770012", "q\"k=true"]),
                Some(Input::Keywords)
            )
            .unwrap(),
            r#"{"msg":77770012,"q\"k":true}"#
        );
        assert_eq!(params(&[], Some(Input::Keywords)).unwrap(), "{}");
        assert_eq!(
            params(&words(&["nokey"]), Some(Input::Keywords))
                .unwrap_err()
                .0,
            "Expected key=value in 'nokey'"
        );
    }

    #[test]
    fn ids() {
        assert_eq!(request_id("getinfo", 42), "cli:getinfo#42");
        assert_eq!(request_id("dev-x", 1), "cli:dev-x#1");
        assert_eq!(request_id("we\"ird", 7), "cli:weirdmethod!#7");
        assert_eq!(request_id("new\nline", 7), "cli:weirdmethod!#7");
        assert_eq!(request_id("ünï", 7), "cli:ünï#7");
        assert_eq!(
            notifications_request(99),
            r#"{"jsonrpc":"2.0","method":"notifications","id":"cli:notifications#99","params":{"enable":true}}"#
        );
    }

    #[test]
    fn whole_requests() {
        let text = request("getinfo", "cli:getinfo#1", None, "[]").unwrap();
        assert_eq!(
            text,
            r#"{"jsonrpc":"2.0","method":"getinfo","id":"cli:getinfo#1","params":[]}"#
        );
        let text = request(
            "listpeers",
            "cli:listpeers#1",
            Some(r#"{"peers":[{"id":true}]}"#),
            "{}",
        )
        .unwrap();
        assert_eq!(
            text,
            r#"{"jsonrpc":"2.0","method":"listpeers","id":"cli:listpeers#1","filter":{"peers":[{"id":true}]},"params":{}}"#
        );
        let text = request("we\"ird", "cli:weirdmethod!#1", None, "[]").unwrap();
        assert!(text.contains(r#""method":"we\"ird""#), "{text}");
        // Big numbers survive untouched.
        let big = "123456789012345678901234567890123456789";
        let text = request("x", "cli:x#1", None, &params(&words(&[big]), None).unwrap()).unwrap();
        assert!(text.ends_with(&format!("[{big}]}}")), "{text}");
    }

    #[test]
    fn malformed_requests_are_usage_errors() {
        for bad in [&["1.2.3"][..], &["{x}"], &["\""], &["[1,]"]] {
            let p = params(&words(bad), None).unwrap();
            let err = request("m", "cli:m#1", None, &p).unwrap_err();
            assert!(
                err.0.starts_with(
                    "Some parameters are malformed, cannot create a valid JSON-RPC request: {"
                ),
                "{bad:?}: {err}"
            );
        }
        assert!(request("m", "cli:m#1", Some("{nope"), "[]").is_err());
    }
}
