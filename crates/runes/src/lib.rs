//! `runes`: Core Lightning's runes without IO, the bearer tokens that authorise commando and
//! the rune RPCs (`createrune`, `checkrune`, `showrunes`, `blacklistrune`).
//!
//! # What it owns
//!
//! - The rune format (ccan `rune`): [`Rune`], [`Restriction`], [`Alternative`],
//!   [`Condition`]; the unique id and version; base64url and `hex:restrictions` forms; the
//!   SHA-256 length-extension authcode, so that anyone can [`Rune::append`] a restriction and
//!   only the secret's holder can mint or [`Rune::check_derivation`].
//! - Evaluation with CLN's failure texts ([`Rune::evaluate`], [`Alternative::test`]) and CLN's
//!   request fields ([`RequestFields`]: `time`, `id`, `method`, `pnum`, `pname…`, `parr…`,
//!   `rate`, `per`).
//! - The commands' pure parts: [`checkrune`], [`parse_rune_param`], createrune's
//!   [`parse_restrictions`], showrunes' [`describe`], blacklistrune's [`Blacklist`], each with
//!   CLN's codes and texts.
//! - The master secret from the node's seed ([`master_secret`], [`master_rune`]).
//!
//! # What it must not touch
//!
//! No IO, no database, no clock, no randomness: `now` and a unique id's last use are
//! arguments, and the caller stores runes, last uses and the blacklist. No RPC framing either:
//! errors carry CLN's code and message, and the RPC layer wraps them.
//!
//! # Calling protocol
//!
//! ```text
//! start-up:   master_rune(seed) ─▶ keep; Blacklist::from_ranges(stored)
//! createrune: parse_rune_param(rune)? / master.derive(next_id) ─▶ append(parse_restrictions(..)?)
//!             ─▶ to_base64() (store it when minted from the master)
//! checkrune:  checkrune(&master, &blacklist, rune, &Request { node_id, method, params, now },
//!                       |unique_id| stored last use) ─▶ Ok(Authorized { unique_id }): store now
//! showrunes:  parse_rune_param / Rune::from_base64(stored) ─▶ describe(&rune)
//! blacklistrune: blacklist.apply(start, end, relist)? ─▶ store blacklist.ranges()
//! ```
//!
//! ```
//! use std::time::Duration;
//! use runes::{checkrune, parse_restrictions, Blacklist, Request, Rune};
//! use serde_json::value::RawValue;
//!
//! let master = Rune::master(&[7; 32]).expect("32 bytes fit a block");
//! let mut rune = master.derive(0).expect("the master has no restrictions");
//! let readonly = RawValue::from_string(r#""readonly""#.to_owned()).unwrap();
//! for restriction in parse_restrictions(&readonly).unwrap() {
//!     rune.append(restriction).unwrap();
//! }
//! let rune = rune.to_base64();
//!
//! let now = Duration::from_secs(1_700_000_000);
//! let getinfo = Request { node_id: None, method: Some("getinfo"), params: None, now };
//! let authorized = checkrune(&master, &Blacklist::new(), &rune, &getinfo, |_| None).unwrap();
//! assert_eq!(authorized.unique_id, 0); // the caller records `now` as id 0's last use
//!
//! let withdraw = Request { method: Some("withdraw"), ..getinfo };
//! let refused = checkrune(&master, &Blacklist::new(), &rune, &withdraw, |_| None).unwrap_err();
//! assert_eq!(refused.code(), 1502);
//! assert_eq!(
//!     refused.to_string(),
//!     "Not permitted: method does not start with list AND method does not start with get \
//!      AND method is not equal to summary"
//! );
//! ```
//!
//! # Where we differ from CLN
//!
//! - A unique id must be canonical decimal (CLN's `strtoull(…, 0)` also takes `0x10`, `010`,
//!   `+5`, leading spaces): [`parse_rune_param`].
//! - Restriction text must be UTF-8 (ccan does not check; no CLN-made rune can break this,
//!   as createrune takes JSON strings), and padding beyond the canonical (`xxxx====`) is
//!   refused where ccan's decoder skips it.
//! - createrune refuses an empty alternatives array (`[[]]`); blacklistrune refuses
//!   `start > end`.
//! - `pinv…` fields (invoices inside parameters) are not supported: they are missing.
//! - Authcodes are compared in constant time (ccan uses `memcmp`).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod authcode;
mod blacklist;
mod check;
mod condition;
mod create;
mod encoding;
mod english;
mod error;
mod fields;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod rate;
mod restriction;
mod rune;
mod secret;

// The public interface:
pub use blacklist::{Blacklist, BlacklistRange, MAX_BLACKLIST};
pub use check::{checkrune, parse_rune_param, Authorized};
pub use condition::{Condition, FieldValue};
pub use create::{
    is_unrestricted, parse_restrictions, readonly_restrictions, WARNING_UNRESTRICTED_RUNE,
};
pub use english::{describe, AlternativeEnglish, RestrictionEnglish, RuneEnglish};
pub use error::{
    code, BlacklistError, CheckRuneError, DecodeError, DerivationError, ParamsError,
    RestrictionError, RestrictionsParamError, RuneParamError, SecretTooLongError,
};
pub use fields::{Request, RequestFields};
pub use restriction::{Alternative, Restriction, Unmet};
pub use rune::Rune;
pub use secret::{derive_secret, derived_secret, master_rune, master_secret};
