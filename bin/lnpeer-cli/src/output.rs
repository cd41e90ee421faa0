//! Printing a result the way `lightning-cli` does: indented JSON, human-readable lines,
//! flat `path=value` lines, and the help list.
//!
//! Every printer works on [`Json`] tokens and prints their text as the daemon sent it:
//! numbers are not reformatted and string escapes are kept (the human format alone turns
//! `\n` and `\t` escapes into the characters).

use std::cmp::Ordering;

use crate::json::{Json, Value};

/// What `lightning-cli` indents each level of JSON output with.
pub const INDENT: &str = "   ";

/// The line after the help list.
pub const HELP_TRAILER: &str =
    "---\nrun `lnpeer-cli help <command>` for more information on a specific command\n";

/// `-J`: the value as indented JSON, with a final newline.
///
/// Layout, as `lightning-cli`'s `print_json`: each member or element on its own line,
/// indented three spaces per level, `"key": value`, closing brackets on their own line at
/// the parent's indentation, and `{}`/`[]` for empty containers.
pub fn json(value: &Json<'_>) -> String {
    let mut out = String::new();
    write_json(value, "", &mut out);
    out.push('\n');
    out
}

fn write_json(value: &Json<'_>, indent: &str, out: &mut String) {
    let inner = format!("{indent}{INDENT}");
    match &value.value {
        Value::String | Value::Primitive => out.push_str(value.text),
        Value::Array(elements) if elements.is_empty() => out.push_str("[]"),
        Value::Object(members) if members.is_empty() => out.push_str("{}"),
        Value::Array(elements) => {
            out.push('[');
            for (index, element) in elements.iter().enumerate() {
                out.push_str(if index == 0 { "\n" } else { ",\n" });
                out.push_str(&inner);
                write_json(element, &inner, out);
            }
            out.push('\n');
            out.push_str(indent);
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (index, (key, member)) in members.iter().enumerate() {
                out.push_str(if index == 0 { "\n" } else { ",\n" });
                out.push_str(&inner);
                out.push_str(key.text);
                out.push_str(": ");
                write_json(member, &inner, out);
            }
            out.push('\n');
            out.push_str(indent);
            out.push('}');
        }
    }
}

/// `-H`: `lightning-cli`'s human-readable format.
///
/// * A string or primitive prints its content (a string without quotes, with `\n` and `\t`
///   escapes turned into newline and tab), then a newline.
/// * An array prints each element in turn.
/// * An object with one member prints only that member's value: the key is elided.
/// * Any other object prints `key=` and then each member's value.
///
/// Like `lightning-cli`, a value that is itself an array or a multi-member object is
/// printed right after its `key=`, so `{"a":[1,2],"b":3}` gives `a=1\n2\nb=3\n`.
pub fn human(value: &Json<'_>) -> String {
    let mut out = String::new();
    write_human(value, '\n', &mut out);
    out
}

fn write_human(value: &Json<'_>, terminator: char, out: &mut String) {
    match &value.value {
        Value::String | Value::Primitive => {
            push_unescaped_nl_tab(value.content(), out);
            out.push(terminator);
        }
        Value::Array(elements) => {
            for element in elements {
                write_human(element, '\n', out);
            }
        }
        Value::Object(members) => match members.as_slice() {
            [(_, only)] => write_human(only, '\n', out),
            members => {
                for (key, member) in members {
                    write_human(key, '=', out);
                    write_human(member, '\n', out);
                }
            }
        },
    }
}

/// Copies raw string content, turning the two-character escapes `\n` and `\t` into the
/// characters and leaving every other byte, other escapes included, as it is.
fn push_unescaped_nl_tab(content: &str, out: &mut String) {
    let mut rest = content;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('n') {
            out.push('\n');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('t') {
            out.push('\t');
            rest = tail;
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
}

/// `-F`: one `path=content` line per string or primitive, where the path joins object keys
/// with `.` and array indexes as `[i]` (`peers[0].id=02…`); a string's content is printed
/// without quotes, escapes kept. Empty arrays and objects print nothing.
pub fn flat(value: &Json<'_>) -> String {
    let mut out = String::new();
    write_flat(value, "", &mut out);
    out
}

fn write_flat(value: &Json<'_>, prefix: &str, out: &mut String) {
    match &value.value {
        Value::String | Value::Primitive => {
            out.push_str(prefix);
            out.push('=');
            out.push_str(value.content());
            out.push('\n');
        }
        Value::Array(elements) => {
            for (index, element) in elements.iter().enumerate() {
                write_flat(element, &format!("{prefix}[{index}]"), out);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                let path = if prefix.is_empty() {
                    key.content().to_owned()
                } else {
                    format!("{prefix}.{}", key.content())
                };
                write_flat(member, &path, out);
            }
        }
    }
}

/// The `help` list: each entry's `command` (name and usage) followed by a blank line,
/// ordered by `category` (alphabetically, with `developer` last; absent in newer CLN
/// results) and then by command, then [`HELP_TRAILER`].
///
/// Returns `None` if the result has no `help` array, so the caller can fall back to
/// [`human`].
pub fn help_list(result: &Json<'_>) -> Option<String> {
    let Value::Array(entries) = &result.get("help")?.value else {
        return None;
    };
    let mut entries: Vec<&Json<'_>> = entries.iter().collect();
    entries.sort_by(|a, b| compare_help(a, b));
    let mut out = String::new();
    for entry in entries {
        if let Some(command) = entry.get("command") {
            out.push_str(command.content());
            out.push_str("\n\n");
        }
    }
    out.push_str(HELP_TRAILER);
    Some(out)
}

fn compare_help<'a>(a: &Json<'a>, b: &Json<'a>) -> Ordering {
    fn category<'a>(entry: &Json<'a>) -> Option<&'a str> {
        entry.get("category").map(Json::content)
    }
    fn command<'a>(entry: &Json<'a>) -> &'a str {
        entry.get("command").map_or("", Json::content)
    }
    let by_category = match (category(a), category(b)) {
        (Some(x), Some(y)) => (x == "developer")
            .cmp(&(y == "developer"))
            .then_with(|| x.cmp(y)),
        _ => Ordering::Equal,
    };
    by_category.then_with(|| command(a).cmp(command(b)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse(text: &str) -> Json<'_> {
        Json::parse(text).unwrap()
    }

    #[test]
    fn json_layout_matches_lightning_cli() {
        let value = parse(
            r#"{"id":"02ab","num":123456789012345678901234567890,"empty":{},"none":[],"list":[1,{"a":true,"b":null}],"s":"x\"y\n"}"#,
        );
        assert_eq!(
            json(&value),
            "{\n   \"id\": \"02ab\",\n   \"num\": 123456789012345678901234567890,\n   \
             \"empty\": {},\n   \"none\": [],\n   \"list\": [\n      1,\n      {\n         \
             \"a\": true,\n         \"b\": null\n      }\n   ],\n   \"s\": \"x\\\"y\\n\"\n}\n"
        );
        assert_eq!(json(&parse("{}")), "{}\n");
        assert_eq!(
            json(&parse("\"Shutdown complete\"")),
            "\"Shutdown complete\"\n"
        );
        assert_eq!(json(&parse("[[]]")), "[\n   []\n]\n");
    }

    #[test]
    fn human_format() {
        // Single-member objects are elided, all the way down.
        assert_eq!(human(&parse(r#"{"totlen":132}"#)), "132\n");
        assert_eq!(human(&parse(r#"{"a":{"b":{"c":"deep"}}}"#)), "deep\n");
        assert_eq!(
            human(&parse(r#"{"id":"02ab","num_peers":0,"ok":true}"#)),
            "id=02ab\nnum_peers=0\nok=true\n"
        );
        // Arrays: element by element.
        assert_eq!(
            human(&parse(
                r#"{"peers":[{"id":"a","connected":true},{"id":"b","connected":false}]}"#
            )),
            "id=a\nconnected=true\nid=b\nconnected=false\n"
        );
        assert_eq!(human(&parse(r#"{"peers":[]}"#)), "");
        assert_eq!(human(&parse("{}")), "");
        // lightning-cli's quirk: nested containers start right after "key=".
        assert_eq!(human(&parse(r#"{"a":[1,2],"b":3}"#)), "a=1\n2\nb=3\n");
        assert_eq!(
            human(&parse(r#"{"a":{"x":1,"y":2},"b":3}"#)),
            "a=x=1\ny=2\nb=3\n"
        );
        assert_eq!(human(&parse(r#"{"a":{"x":1},"b":3}"#)), "a=1\nb=3\n");
        // Only \n and \t are translated.
        assert_eq!(
            human(&parse(r#"{"m":"l1\nl2\tt \"q\" \\ \u00e9"}"#)),
            "l1\nl2\tt \\\"q\\\" \\\\ \\u00e9\n"
        );
        assert_eq!(
            human(&parse("\"Shutdown complete\"")),
            "Shutdown complete\n"
        );
    }

    #[test]
    fn flat_format() {
        let value = parse(
            r#"{"help":[{"command":"check"}],"peers":[{"id":"a","netaddr":["1.2.3.4:9735"]}],"n":5,"e":[],"o":{},"s":"q\"x"}"#,
        );
        assert_eq!(
            flat(&value),
            "help[0].command=check\npeers[0].id=a\npeers[0].netaddr[0]=1.2.3.4:9735\nn=5\ns=q\\\"x\n"
        );
        assert_eq!(flat(&parse("[1,[2]]")), "[0]=1\n[1][0]=2\n");
        assert_eq!(flat(&parse("\"x\"")), "=x\n");
    }

    #[test]
    fn help_list_is_sorted_with_trailer() {
        let result = parse(
            r#"{"help":[{"command":"stop"},{"command":"connect id [host] [port]"},{"command":"getinfo"}],"format-hint":"simple"}"#,
        );
        assert_eq!(
            help_list(&result).unwrap(),
            "connect id [host] [port]\n\ngetinfo\n\nstop\n\n---\n\
             run `lnpeer-cli help <command>` for more information on a specific command\n"
        );
        // Older results carry a category: by category, developer last, then by command.
        let result = parse(
            r#"{"help":[{"command":"dev-x","category":"developer"},{"command":"b","category":"network"},{"command":"a","category":"utility"},{"command":"c","category":"network"}]}"#,
        );
        assert_eq!(
            help_list(&result).unwrap(),
            format!("b\n\nc\n\na\n\ndev-x\n\n{HELP_TRAILER}")
        );
        assert_eq!(help_list(&parse(r#"{"x":1}"#)), None);
        assert_eq!(help_list(&parse(r#"{"help":5}"#)), None);
        assert_eq!(help_list(&parse(r#"{"help":[]}"#)).unwrap(), HELP_TRAILER);
    }
}
