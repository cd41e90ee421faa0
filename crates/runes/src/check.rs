//! checkrune without IO (`lightningd/runes.c` `json_checkrune`): parse, blacklist,
//! derivation, restrictions, in CLN's order and with CLN's codes and texts.

use std::time::Duration;

use crate::blacklist::Blacklist;
use crate::error::{CheckRuneError, RuneParamError};
use crate::fields::{Request, RequestFields};
use crate::rune::Rune;

/// A rune that passed checkrune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized {
    /// Its unique id. CLN records the check's time as this id's last use (for `rate` and
    /// `per`); the caller does that.
    pub unique_id: u64,
}

/// Reads a `rune` parameter as CLN's `param_rune` does (createrune, checkrune, showrunes):
/// the rune, and its unique id as a number.
///
/// The unique id must be canonical decimal (`0` or `[1-9][0-9]*`) up to 2^63 - 1 (SQLite's
/// integers are signed). CLN uses `strtoull(…, 0)`, which also takes `0x10`, `010`, `+5` and
/// leading spaces, while its rate and blacklist code reads the same id with `atol`; we refuse
/// those forms so that one id has one number.
///
/// # Errors
///
/// [`RuneParamError::NotBase64`] if the rune does not decode,
/// [`RuneParamError::NoNumericUniqueId`] if its unique id is absent or not such a number.
pub fn parse_rune_param(rune: &str) -> Result<(Rune, u64), RuneParamError> {
    let rune = Rune::from_base64(rune).map_err(RuneParamError::NotBase64)?;
    let unique_id = rune
        .unique_id()
        .and_then(parse_unique_id)
        .ok_or(RuneParamError::NoNumericUniqueId)?;
    Ok((rune, unique_id))
}

/// Checks `rune` (base64) for `request`, as CLN's checkrune: the rune parameter, then
/// `params`, then the blacklist (1503), then derivation from `master` (1501), then the
/// restrictions (1502, the first failing one).
///
/// `last_used` gives the time of the last successful check of a unique id (`None`: no
/// stored rune has that id, and `rate`/`per` pass, as in CLN). It is called at most once,
/// and only when a `rate` or `per` alternative is tested.
///
/// # Errors
///
/// The first check that fails, with CLN's code and message.
pub fn checkrune(
    master: &Rune,
    blacklist: &Blacklist,
    rune: &str,
    request: &Request<'_>,
    last_used: impl FnOnce(u64) -> Option<Duration>,
) -> Result<Authorized, CheckRuneError> {
    let (rune, unique_id) = parse_rune_param(rune).map_err(CheckRuneError::InvalidRune)?;
    let fields = RequestFields::new(request).map_err(CheckRuneError::InvalidParams)?;
    if blacklist.contains(unique_id) {
        return Err(CheckRuneError::Blacklisted);
    }
    rune.check_derivation(master)
        .map_err(CheckRuneError::NotAuthorized)?;

    let mut lookup = Some(last_used);
    let mut last = None;
    let result = rune.evaluate(|alternative| {
        fields.check(alternative, || {
            *last.get_or_insert_with(|| lookup.take().and_then(|f| f(unique_id)))
        })
    });
    match result {
        Ok(()) => Ok(Authorized { unique_id }),
        Err(unmet) => Err(CheckRuneError::NotPermitted(clarify(json_escape(
            unmet.text(),
        )))),
    }
}

/// `0` or `[1-9][0-9]*`, at most `i64::MAX`.
fn parse_unique_id(id: &str) -> Option<u64> {
    let canonical = id == "0"
        || (id.starts_with(|c: char| matches!(c, '1'..='9'))
            && id.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return None;
    }
    id.parse::<u64>().ok().filter(|n| i64::try_from(*n).is_ok())
}

/// CLN's `json_escape`: what checkrune does to a failure text before anything else, so the
/// message a client decodes still has the escapes ("Just in case they manage to make us
/// speak non-JSON").
fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// CLN's "runespeak into english": only the text's leading field name is spelt out, so in
/// `pnamea … AND pnameb …` the second stays as it is.
fn clarify(text: String) -> String {
    const PREFIXES: [(&str, &str); 4] = [
        ("pname", "parameter "),
        ("parr", "parameter #"),
        ("pnum", "number of parameters"),
        ("pinv", "invoice parameter "),
    ];
    for (prefix, english) in PREFIXES {
        if let Some(rest) = text.strip_prefix(prefix) {
            return format!("{english}{rest}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_canonical_decimal() {
        assert_eq!(parse_unique_id("0"), Some(0));
        assert_eq!(parse_unique_id("42"), Some(42));
        assert_eq!(
            parse_unique_id("9223372036854775807"),
            Some(i64::MAX as u64)
        );
        for bad in [
            "",
            "00",
            "010",
            "0x10",
            "+5",
            " 5",
            "5 ",
            "-1",
            "zero",
            "0andstr",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert_eq!(parse_unique_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn failure_texts_are_escaped_then_clarified() {
        assert_eq!(
            json_escape("a\"b\\c\nd\u{1}\u{7f}é/"),
            "a\\\"b\\\\c\\nd\\u0001\\u007Fé/"
        );
        assert_eq!(
            clarify("pnamea is present AND pnameb is present".into()),
            "parameter a is present AND pnameb is present"
        );
        assert_eq!(
            clarify("parr1 not present".into()),
            "parameter #1 not present"
        );
        assert_eq!(
            clarify("pnum is not equal to 1".into()),
            "number of parameters is not equal to 1"
        );
        assert_eq!(
            clarify("pinvbolt11_amount not present".into()),
            "invoice parameter bolt11_amount not present"
        );
        assert_eq!(clarify("too soon".into()), "too soon");
    }
}
