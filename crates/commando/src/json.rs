//! Reading and writing commando's JSON: objects are written with `jsonrpc::compact`, whose
//! pieces are always escaped or checked tokens (CLN's `commando_error` pastes text, notes
//! §7.11); members are looked up as CLN looks them up.

use serde_json::value::RawValue;

pub(crate) use jsonrpc::compact::{object, Member};

/// The first member named `name` (CLN's `json_get_member`: later duplicates are ignored).
pub(crate) fn member<'a>(members: &[(String, &'a RawValue)], name: &str) -> Option<&'a RawValue> {
    members
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| *value)
}
