//! The errors of this crate, grouped by whose input is wrong: a rune's text (a remote
//! peer's, usually), the RPC caller's parameters, or a derivation that does not hold. The
//! `Display` texts that CLN also produces are CLN's, verbatim.

use std::fmt;

/// CLN's JSON-RPC error codes for the rune commands (`common/jsonrpc_errors.h`).
pub mod code {
    /// A parameter is malformed (JSON-RPC 2.0).
    pub const INVALID_PARAMS: i32 = -32602;
    /// The rune is not ours (`RUNE_NOT_AUTHORIZED`).
    pub const RUNE_NOT_AUTHORIZED: i32 = 1501;
    /// The rune is ours but a restriction is not met (`RUNE_NOT_PERMITTED`).
    pub const RUNE_NOT_PERMITTED: i32 = 1502;
    /// The rune's unique id is blacklisted (`RUNE_BLACKLISTED`).
    pub const RUNE_BLACKLISTED: i32 = 1503;
}

/// Why a restriction cannot be built, read, or added to a rune.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestrictionError {
    /// A field name with ASCII punctuation other than `_`.
    InvalidFieldname,
    /// A NUL byte (ccan refuses rune text that has one).
    Nul,
    /// A restriction with no alternative.
    NoAlternatives,
    /// A unique id with a `-` (everything after the first `-` is the version).
    UniqueIdDash,
    /// The text ends after a field name: no condition.
    NoCondition,
    /// The character after a field name is not one of the eleven conditions.
    InvalidCondition(char),
    /// The text ends with a lone `\`.
    TrailingBackslash,
    /// The unique id (an empty field name) shares its restriction with other alternatives.
    UniqueIdNotAlone,
    /// The unique id is not the first restriction.
    UniqueIdNotFirst,
    /// The unique id uses a condition other than `=`.
    UniqueIdCondition,
}

impl fmt::Display for RestrictionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFieldname => f.write_str("field name has punctuation other than _"),
            Self::Nul => f.write_str("restriction has a NUL byte"),
            Self::NoAlternatives => f.write_str("restriction has no alternatives"),
            Self::UniqueIdDash => f.write_str("unique id has a -"),
            Self::NoCondition => f.write_str("field name without a condition"),
            Self::InvalidCondition(c) => write!(f, "invalid condition {c:?}"),
            Self::TrailingBackslash => f.write_str("value ends with a lone \\"),
            Self::UniqueIdNotAlone => f.write_str("unique id must be the only alternative"),
            Self::UniqueIdNotFirst => f.write_str("unique id must be the first restriction"),
            Self::UniqueIdCondition => f.write_str("unique id must use ="),
        }
    }
}

impl std::error::Error for RestrictionError {}

/// Why a rune string did not decode (CLN: the rune is malformed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not base64url (RFC 4648 §5 alphabet, optional `=` padding).
    Base64,
    /// Fewer than 32 bytes: no room for the authcode.
    TooShort,
    /// The restriction text has a NUL byte.
    Nul,
    /// The restriction text is not UTF-8 (ccan does not check; see the crate docs).
    NotUtf8,
    /// The string form is not 64 hex digits, `:`, then the restrictions.
    StringForm,
    /// The restriction text is malformed or breaks the unique-id rules.
    Restriction(RestrictionError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Base64 => f.write_str("rune is not base64url"),
            Self::TooShort => f.write_str("rune is shorter than its 32-byte authcode"),
            Self::Nul => f.write_str("rune has a NUL byte"),
            Self::NotUtf8 => f.write_str("rune restrictions are not UTF-8"),
            Self::StringForm => f.write_str("rune string form is not <64 hex>:<restrictions>"),
            Self::Restriction(e) => write!(f, "malformed rune: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Restriction(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RestrictionError> for DecodeError {
    fn from(e: RestrictionError) -> Self {
        DecodeError::Restriction(e)
    }
}

/// A rune secret longer than 55 bytes: it and its padding must fit one SHA-256 block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretTooLongError {
    /// The secret's length.
    pub len: usize,
}

impl fmt::Display for SecretTooLongError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rune secret is {} bytes, at most 55 fit", self.len)
    }
}

impl std::error::Error for SecretTooLongError {}

/// Why a rune is not derived from a master (ccan `rune_is_derived`; texts are ccan's).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DerivationError {
    /// The rune's version differs from the master's.
    VersionMismatch,
    /// The rune has fewer restrictions than the master (never with CLN's bare master).
    FewerRestrictions,
    /// The rune's first restrictions are not the master's (never with CLN's bare master).
    DoesNotMatchMaster,
    /// The authcode is not the master's with the rune's restrictions appended.
    NotDerived,
}

impl fmt::Display for DerivationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::VersionMismatch => "Version mismatch",
            Self::FewerRestrictions => "Fewer restrictions than master",
            Self::DoesNotMatchMaster => "Does not match master restrictions",
            Self::NotDerived => "Not derived from master",
        })
    }
}

impl std::error::Error for DerivationError {}

/// A `rune` parameter CLN's `param_rune` refuses (createrune, checkrune, showrunes).
/// `Display` gives `rune: <message>`; the RPC layer adds CLN's bad-parameter suffix
/// (`: invalid token …`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuneParamError {
    /// The string does not decode.
    NotBase64(DecodeError),
    /// The rune has no unique id, or one that is not canonical decimal up to 2^63 - 1.
    NoNumericUniqueId,
}

impl RuneParamError {
    /// CLN's message, without the parameter name.
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotBase64(_) => "should be base64 string",
            Self::NoNumericUniqueId => "should have valid numeric unique_id",
        }
    }
}

impl fmt::Display for RuneParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rune: {}", self.message())
    }
}

impl std::error::Error for RuneParamError {}

/// A checkrune `params` that is neither an object nor an array (or not JSON at all).
/// `Display` gives CLN's `params: must be object or array`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsError;

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("params: must be object or array")
    }
}

impl std::error::Error for ParamsError {}

/// A createrune `restrictions` that is not `"readonly"` nor an array of non-empty arrays of
/// valid alternative strings. `Display` gives CLN's
/// `restrictions: not a valid restriction (should be array)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictionsParamError;

impl fmt::Display for RestrictionsParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("restrictions: not a valid restriction (should be array)")
    }
}

impl std::error::Error for RestrictionsParamError {}

/// Why checkrune refused, with CLN's code ([`CheckRuneError::code`]) and message
/// (`Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckRuneError {
    /// The `rune` parameter is malformed (-32602).
    InvalidRune(RuneParamError),
    /// The `params` parameter is malformed (-32602).
    InvalidParams(ParamsError),
    /// The unique id is blacklisted: 1503 `Not authorized: Blacklisted rune`.
    Blacklisted,
    /// Not derived from our master: 1501 `Not authorized: <reason>`.
    NotAuthorized(DerivationError),
    /// A restriction is not met: 1502 `Not permitted: <text>`. The text is CLN's: JSON
    /// escaped, with its leading `pname`/`parr`/`pnum` spelt out.
    NotPermitted(String),
}

impl CheckRuneError {
    /// CLN's JSON-RPC error code.
    pub fn code(&self) -> i32 {
        match self {
            Self::InvalidRune(_) | Self::InvalidParams(_) => code::INVALID_PARAMS,
            Self::Blacklisted => code::RUNE_BLACKLISTED,
            Self::NotAuthorized(_) => code::RUNE_NOT_AUTHORIZED,
            Self::NotPermitted(_) => code::RUNE_NOT_PERMITTED,
        }
    }
}

impl fmt::Display for CheckRuneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRune(e) => e.fmt(f),
            Self::InvalidParams(e) => e.fmt(f),
            Self::Blacklisted => f.write_str("Not authorized: Blacklisted rune"),
            Self::NotAuthorized(e) => write!(f, "Not authorized: {e}"),
            Self::NotPermitted(text) => write!(f, "Not permitted: {text}"),
        }
    }
}

impl std::error::Error for CheckRuneError {}

/// A blacklistrune request CLN (or we) refuse; all are -32602 ([`code::INVALID_PARAMS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlacklistError {
    /// `end` without `start`.
    EndWithoutStart,
    /// An id at or beyond [`crate::MAX_BLACKLIST`].
    BeyondMax,
    /// `start` after `end` (CLN does not check; we refuse).
    StartAfterEnd {
        /// The first id.
        start: u64,
        /// The last id.
        end: u64,
    },
}

impl fmt::Display for BlacklistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndWithoutStart => f.write_str("Can not specify end without start"),
            Self::BeyondMax => write!(f, "Cannot blacklist beyond {}", crate::MAX_BLACKLIST),
            Self::StartAfterEnd { start, end } => {
                write!(f, "Can not specify start {start} greater than end {end}")
            }
        }
    }
}

impl std::error::Error for BlacklistError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_errors_carry_clns_codes_and_texts() {
        let cases = [
            (
                CheckRuneError::InvalidRune(RuneParamError::NotBase64(DecodeError::Base64)),
                -32602,
                "rune: should be base64 string",
            ),
            (
                CheckRuneError::InvalidRune(RuneParamError::NoNumericUniqueId),
                -32602,
                "rune: should have valid numeric unique_id",
            ),
            (
                CheckRuneError::InvalidParams(ParamsError),
                -32602,
                "params: must be object or array",
            ),
            (
                CheckRuneError::Blacklisted,
                1503,
                "Not authorized: Blacklisted rune",
            ),
            (
                CheckRuneError::NotAuthorized(DerivationError::NotDerived),
                1501,
                "Not authorized: Not derived from master",
            ),
            (
                CheckRuneError::NotAuthorized(DerivationError::VersionMismatch),
                1501,
                "Not authorized: Version mismatch",
            ),
            (
                CheckRuneError::NotPermitted("too soon".into()),
                1502,
                "Not permitted: too soon",
            ),
        ];
        for (error, code, text) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn param_errors_are_clns() {
        assert_eq!(
            RestrictionsParamError.to_string(),
            "restrictions: not a valid restriction (should be array)"
        );
        assert_eq!(
            BlacklistError::EndWithoutStart.to_string(),
            "Can not specify end without start"
        );
        assert_eq!(
            BlacklistError::BeyondMax.to_string(),
            "Cannot blacklist beyond 100000000"
        );
    }
}
