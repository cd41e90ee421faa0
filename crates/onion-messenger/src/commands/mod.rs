//! The onion message commands, one file each.

pub(crate) mod createonionreplypath;
pub(crate) mod decryptencrypteddata;
pub(crate) mod injectonionmessage;
mod params;
pub(crate) mod sendonionmessage;
