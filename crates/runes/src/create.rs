//! createrune's `restrictions` parameter (`lightningd/runes.c` `param_restrictions`) and
//! what its result says about an unrestricted rune.

use serde_json::value::RawValue;

use crate::condition::Condition;
use crate::error::RestrictionsParamError;
use crate::restriction::{is_field_byte, Alternative, Restriction};
use crate::rune::Rune;

/// createrune's warning when the new rune has at most one restriction (its unique id).
pub const WARNING_UNRESTRICTED_RUNE: &str = "WARNING: This rune has no restrictions! Anyone who has access to this rune could drain funds from your node. Be careful when giving this to apps that you don't trust. Consider using the restrictions parameter to only allow access to specific rpc methods.";

/// Whether createrune's result carries [`WARNING_UNRESTRICTED_RUNE`]: the rune has at most
/// one restriction, counting the unique id.
pub fn is_unrestricted(rune: &Rune) -> bool {
    rune.restrictions().len() <= 1
}

/// The restrictions `"readonly"` stands for: `method^list|method^get|method=summary` and
/// `method/listdatastore`.
pub fn readonly_restrictions() -> Vec<Restriction> {
    let alt = |condition, value: &str| Alternative::known_valid("method", condition, value);
    vec![
        Restriction::known_valid(vec![
            alt(Condition::StartsWith, "list"),
            alt(Condition::StartsWith, "get"),
            alt(Condition::Equal, "summary"),
        ]),
        Restriction::known_valid(vec![alt(Condition::NotEqual, "listdatastore")]),
    ]
}

/// Reads createrune's `restrictions`: the JSON string `"readonly"`, or an array of arrays
/// of strings, each string an alternative (`fieldname`, condition, value).
///
/// As CLN, each string is read from its raw JSON text with only the escapes `\n \b \f \t \r
/// \/ \\ \"` (a `\u` escape makes it invalid), and its field name must be non-empty. Unlike
/// CLN, an empty alternatives array (`[[]]`) is refused: CLN makes a rune no request can
/// pass, and reads uninitialised memory checking it.
///
/// # Errors
///
/// CLN's `not a valid restriction (should be array)` for anything else.
pub fn parse_restrictions(raw: &RawValue) -> Result<Vec<Restriction>, RestrictionsParamError> {
    let text = raw
        .get()
        .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    if text == "\"readonly\"" {
        return Ok(readonly_restrictions());
    }
    let outer: Vec<&RawValue> = serde_json::from_str(text).map_err(|_| RestrictionsParamError)?;
    outer.into_iter().map(parse_restriction).collect()
}

fn parse_restriction(raw: &RawValue) -> Result<Restriction, RestrictionsParamError> {
    let strings: Vec<&RawValue> =
        serde_json::from_str(raw.get()).map_err(|_| RestrictionsParamError)?;
    let alternatives = strings
        .into_iter()
        .map(|s| parse_alternative(s.get()).ok_or(RestrictionsParamError))
        .collect::<Result<Vec<_>, _>>()?;
    Restriction::new(alternatives).map_err(|_| RestrictionsParamError)
}

fn parse_alternative(token: &str) -> Option<Alternative> {
    let escaped = token.strip_prefix('"')?.strip_suffix('"')?;
    let text = unescape(escaped)?;
    let name_len = text.bytes().position(|b| !is_field_byte(b))?;
    let (fieldname, rest) = text.split_at_checked(name_len)?;
    let mut chars = rest.chars();
    let condition = Condition::from_char(chars.next()?)?;
    if fieldname.is_empty() {
        return None;
    }
    Alternative::new(fieldname, condition, chars.as_str()).ok()
}

/// ccan `json_escape_unescape`: the short escapes only ("By policy, we don't handle \u").
fn unescape(escaped: &str) -> Option<String> {
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            'b' => '\u{8}',
            'f' => '\u{c}',
            't' => '\t',
            'r' => '\r',
            c @ ('/' | '\\' | '"') => c,
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Vec<Restriction>, RestrictionsParamError> {
        parse_restrictions(&RawValue::from_string(json.to_owned()).unwrap())
    }

    fn text(rs: &[Restriction]) -> Vec<String> {
        rs.iter().map(Restriction::encode).collect()
    }

    #[test]
    fn readonly() {
        assert_eq!(
            text(&parse(r#""readonly""#).unwrap()),
            [
                "method^list|method^get|method=summary",
                "method/listdatastore"
            ]
        );
        assert_eq!(parse(r#" "readonly" "#).unwrap(), readonly_restrictions());
        assert_eq!(parse(r#""read\u006fnly""#), Err(RestrictionsParamError));
    }

    #[test]
    fn arrays_of_arrays_of_strings() {
        let rs = parse(r#"[["id^022d223620a359a47ff7"], ["method=listpeers"]]"#).unwrap();
        assert_eq!(text(&rs), ["id^022d223620a359a47ff7", "method=listpeers"]);
        let rs = parse(r#"[["pnamelevel!", "pnamelevel/io"]]"#).unwrap();
        assert_eq!(text(&rs), ["pnamelevel!|pnamelevel/io"]);
        // The value keeps `|`, `&` and `\` (escaped in the rune's text), and a JSON escape.
        let rs =
            parse(r#"[["pnamedescription=@tipjar|jb55@sendsats.lol"], ["f=a&b\\c\"d"]]"#).unwrap();
        assert_eq!(rs[1].alternatives()[0].value(), "a&b\\c\"d");
        assert_eq!(
            text(&rs),
            [
                "pnamedescription=@tipjar\\|jb55@sendsats.lol",
                "f=a\\&b\\\\c\"d"
            ]
        );
        assert_eq!(parse("[]").unwrap(), []);
    }

    #[test]
    fn everything_else_is_not_a_valid_restriction() {
        for bad in [
            r#""method=getinfo""#,
            r#"["method=getinfo"]"#,
            r#"[["method=getinfo"], "x"]"#,
            r#"[[]]"#,
            r#"[[1]]"#,
            r#"[[null]]"#,
            r#"[["method"]]"#,
            r#"[["method:x"]]"#,
            r#"[["=1"]]"#,
            r#"[["f=\u0041"]]"#,
            r#"{"a": ["b=1"]}"#,
            "5",
        ] {
            assert_eq!(parse(bad), Err(RestrictionsParamError), "{bad}");
        }
        // CLN's test: every condition followed by `method` has an empty field name.
        for c in "!=/^$~<>{}#,".chars() {
            assert_eq!(
                parse(&format!(r#"[["{c}method"]]"#)),
                Err(RestrictionsParamError),
                "{c}"
            );
        }
    }

    #[test]
    fn unrestricted_means_at_most_the_unique_id() {
        let master = Rune::master(&[0u8; 32]).unwrap();
        let mut rune = master.derive(0).unwrap();
        assert!(is_unrestricted(&rune));
        rune.append(readonly_restrictions().remove(1)).unwrap();
        assert!(!is_unrestricted(&rune));
    }
}
