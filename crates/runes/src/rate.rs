//! `rate` and `per`: at most one successful check per interval for a unique id
//! (`lightningd/runes.c` `rate_limit_check`, `per_time_check`, `last_time_check`).
//!
//! The interval is measured from the id's last successful checkrune, which the caller stores
//! and passes in. An id with no stored rune passes: CLN's FIXME, kept for compatibility.

use std::time::Duration;

use crate::condition::{is_c_space, Condition};
use crate::restriction::Alternative;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// `rate=N`: N successes per minute, so one every `60 s / N` (integer nanoseconds).
pub(crate) fn rate_interval(alternative: &Alternative) -> Result<u64, &'static str> {
    if alternative.condition() != Condition::Equal {
        return Err("rate operator must be =");
    }
    match parse_c_ulong(alternative.value()) {
        Some((n, "")) if valid_count(n) => Ok(60 * NSEC_PER_SEC / n),
        _ => Err("malformed rate"),
    }
}

/// `per=N<suffix>`: one success per N units (`""`/`sec`, `nsec`, `usec`, `msec`, `min`,
/// `hour`, `day`).
pub(crate) fn per_interval(alternative: &Alternative) -> Result<u64, &'static str> {
    if alternative.condition() != Condition::Equal {
        return Err("per operator must be =");
    }
    let Some((n, suffix)) = parse_c_ulong(alternative.value()).filter(|(n, _)| valid_count(*n))
    else {
        return Err("malformed per");
    };
    let unit = match suffix {
        "" | "sec" => NSEC_PER_SEC,
        "nsec" => 1,
        "usec" => 1_000,
        "msec" => 1_000_000,
        "min" => 60 * NSEC_PER_SEC,
        "hour" => 60 * 60 * NSEC_PER_SEC,
        "day" => 24 * 60 * 60 * NSEC_PER_SEC,
        _ => return Err("malformed suffix"),
    };
    n.checked_mul(unit).ok_or("per overflow")
}

/// Whether `interval` nanoseconds have passed since `last_used` (a last use in the future
/// counts as now, as in CLN).
pub(crate) fn check_interval(
    now: Duration,
    last_used: Option<Duration>,
    interval: u64,
) -> Result<(), &'static str> {
    let Some(last_used) = last_used else {
        return Ok(());
    };
    let elapsed = now.saturating_sub(last_used).as_nanos();
    if elapsed < u128::from(interval) {
        Err("too soon")
    } else {
        Ok(())
    }
}

/// CLN refuses 0 and anything from `UINT32_MAX` up.
fn valid_count(n: u64) -> bool {
    n != 0 && n < u64::from(u32::MAX)
}

/// C's `strtoul(s, &end, 10)`: leading whitespace, an optional sign (a `-` negates modulo
/// 2^64), at least one digit. Returns the value and the rest; `None` when there is no digit.
/// Overflow gives `ULONG_MAX`, as in C.
fn parse_c_ulong(s: &str) -> Option<(u64, &str)> {
    let s = s.trim_start_matches(is_c_space);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, rest) = s.split_at_checked(digits)?;
    if digits.is_empty() {
        return None;
    }
    let value = match digits.parse::<u64>() {
        Ok(v) if negative => v.wrapping_neg(),
        Ok(v) => v,
        Err(_) => u64::MAX,
    };
    Some((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alt(field: &str, cond: char, value: &str) -> Alternative {
        Alternative::new(field, Condition::from_char(cond).unwrap(), value).unwrap()
    }

    #[test]
    fn rates() {
        assert_eq!(rate_interval(&alt("rate", '=', "1")), Ok(60 * NSEC_PER_SEC));
        assert_eq!(rate_interval(&alt("rate", '=', "3")), Ok(20 * NSEC_PER_SEC));
        assert_eq!(
            rate_interval(&alt("rate", '=', " +7")),
            Ok(60 * NSEC_PER_SEC / 7)
        );
        assert_eq!(
            rate_interval(&alt("rate", '<', "1")),
            Err("rate operator must be =")
        );
        for bad in [
            "",
            "0",
            "x",
            "1x",
            "1 ",
            "-1",
            "4294967295",
            "99999999999999999999999",
        ] {
            assert_eq!(
                rate_interval(&alt("rate", '=', bad)),
                Err("malformed rate"),
                "{bad:?}"
            );
        }
        assert_eq!(rate_interval(&alt("rate", '=', "4294967294")), Ok(13));
    }

    #[test]
    fn pers() {
        let per = |v: &str| per_interval(&alt("per", '=', v));
        assert_eq!(per("2"), Ok(2 * NSEC_PER_SEC));
        assert_eq!(per("2sec"), Ok(2 * NSEC_PER_SEC));
        assert_eq!(per("2000000000nsec"), Ok(2 * NSEC_PER_SEC));
        assert_eq!(per("2000000usec"), Ok(2 * NSEC_PER_SEC));
        assert_eq!(per("2000msec"), Ok(2 * NSEC_PER_SEC));
        assert_eq!(per("1min"), Ok(60 * NSEC_PER_SEC));
        assert_eq!(per("1hour"), Ok(3600 * NSEC_PER_SEC));
        assert_eq!(per("1day"), Ok(86400 * NSEC_PER_SEC));
        assert_eq!(per("5m"), Err("malformed suffix"));
        assert_eq!(per("5s"), Err("malformed suffix"));
        assert_eq!(per("5 sec"), Err("malformed suffix"));
        assert_eq!(per("0sec"), Err("malformed per"));
        assert_eq!(per("min"), Err("malformed per"));
        assert_eq!(per("5000000000day"), Err("malformed per"));
        assert_eq!(per("4000000000day"), Err("per overflow"));
        assert_eq!(per("4000000day"), Err("per overflow"));
        assert_eq!(
            per_interval(&alt("per", '!', "")),
            Err("per operator must be =")
        );
    }

    #[test]
    fn negative_counts_wrap_as_in_c() {
        // strtoul("-18446744073709551615") is 1: absurd, but what CLN computes.
        assert_eq!(parse_c_ulong("-18446744073709551615"), Some((1, "")));
        assert_eq!(parse_c_ulong("-0"), Some((0, "")));
        assert_eq!(parse_c_ulong(" 12ab"), Some((12, "ab")));
        assert_eq!(parse_c_ulong("ab"), None);
    }

    #[test]
    fn intervals() {
        let s = Duration::from_secs;
        assert_eq!(check_interval(s(100), None, 10 * NSEC_PER_SEC), Ok(()));
        assert_eq!(
            check_interval(s(100), Some(s(95)), 10 * NSEC_PER_SEC),
            Err("too soon")
        );
        assert_eq!(
            check_interval(s(100), Some(s(90)), 10 * NSEC_PER_SEC),
            Ok(())
        );
        // A last use in the future is "now": too soon for any nonzero interval.
        assert_eq!(check_interval(s(100), Some(s(200)), 1), Err("too soon"));
    }
}
