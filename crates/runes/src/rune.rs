//! The rune: an authcode and the restrictions it was computed over (ccan `rune.c`).

use std::fmt;

use crate::authcode::AuthState;
use crate::error::{DerivationError, RestrictionError, SecretTooLongError};
use crate::restriction::{Alternative, Restriction, Unmet};

/// A rune: an authcode and an ordered list of restrictions, all of which must pass.
///
/// The first restriction may be the unique id (an empty field name, `=`, value `<id>` or
/// `<id>-<version>`); it is hashed like the others but never tested. A master rune is as
/// secret as the secret it came from (anyone holding it can mint runes), so `Debug` does not
/// show authcodes.
#[derive(Clone, PartialEq, Eq)]
pub struct Rune {
    pub(crate) state: AuthState,
    pub(crate) restrictions: Vec<Restriction>,
    pub(crate) unique_id: Option<String>,
    pub(crate) version: Option<String>,
}

impl Rune {
    /// The master rune of `secret`, without restrictions or version (as CLN makes it).
    ///
    /// # Errors
    ///
    /// If the secret is longer than 55 bytes.
    pub fn master(secret: &[u8]) -> Result<Rune, SecretTooLongError> {
        let state =
            AuthState::from_secret(secret).ok_or(SecretTooLongError { len: secret.len() })?;
        Ok(Rune {
            state,
            restrictions: Vec::new(),
            unique_id: None,
            version: None,
        })
    }

    /// A master rune whose derived runes carry `version` (ccan allows it; CLN never uses it).
    ///
    /// # Errors
    ///
    /// If the secret is longer than 55 bytes.
    pub fn master_with_version(secret: &[u8], version: &str) -> Result<Rune, SecretTooLongError> {
        let mut rune = Rune::master(secret)?;
        rune.version = Some(version.to_owned());
        Ok(rune)
    }

    /// A new rune with unique id `unique_id` (and this rune's version, if any): what
    /// createrune mints from the master before adding restrictions.
    ///
    /// # Errors
    ///
    /// [`RestrictionError::UniqueIdNotFirst`] if this rune already has restrictions.
    pub fn derive(&self, unique_id: u64) -> Result<Rune, RestrictionError> {
        let restriction = Restriction::unique_id(&unique_id.to_string(), self.version.as_deref())?;
        let mut rune = self.clone();
        rune.append(restriction)?;
        Ok(rune)
    }

    /// Appends a restriction, extending the authcode from its current state: no secret is
    /// needed, which is how anyone can narrow a rune they hold.
    ///
    /// # Errors
    ///
    /// If the restriction breaks the unique-id rules (an empty field name must be the only
    /// alternative of the first restriction and use `=`). The rune is then unchanged.
    pub fn append(&mut self, restriction: Restriction) -> Result<(), RestrictionError> {
        self.push(restriction, true)
    }

    /// Adds a restriction, hashing it (`hash`) or only counting its bytes (when decoding,
    /// where the state came with the authcode).
    pub(crate) fn push(
        &mut self,
        restriction: Restriction,
        hash: bool,
    ) -> Result<(), RestrictionError> {
        let mut id = None;
        for alternative in restriction.alternatives() {
            if !alternative.is_unique_id() {
                continue;
            }
            if restriction.alternatives().len() != 1 {
                return Err(RestrictionError::UniqueIdNotAlone);
            }
            if !self.restrictions.is_empty() {
                return Err(RestrictionError::UniqueIdNotFirst);
            }
            id = Some(split_unique_id(alternative)?);
        }
        let encoded = restriction.encode();
        if hash {
            self.state.append(encoded.as_bytes());
        } else {
            self.state.count(encoded.len());
        }
        if let Some((unique_id, version)) = id {
            self.unique_id = Some(unique_id);
            self.version = version;
        }
        self.restrictions.push(restriction);
        Ok(())
    }

    /// The authcode: 32 bytes, the first part of the base64 form.
    pub fn authcode(&self) -> [u8; 32] {
        self.state.authcode()
    }

    /// All restrictions, the unique-id one included.
    pub fn restrictions(&self) -> &[Restriction] {
        &self.restrictions
    }

    /// The restrictions that are tested: all but the unique-id one.
    pub fn tested_restrictions(&self) -> &[Restriction] {
        let skip = usize::from(self.unique_id.is_some());
        self.restrictions.get(skip..).unwrap_or_default()
    }

    /// The unique id, if the rune has one (text: numeric checks are [`crate::parse_rune_param`]'s).
    pub fn unique_id(&self) -> Option<&str> {
        self.unique_id.as_deref()
    }

    /// The version, if the unique id carries one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Checks that this rune is `master` plus more restrictions (ccan `rune_is_derived`):
    /// same version, the master's restrictions first, and the authcode the master's state
    /// extended by the rest. The comparison takes the same time wherever the authcodes differ.
    ///
    /// # Errors
    ///
    /// Which of those does not hold, with ccan's text.
    pub fn check_derivation(&self, master: &Rune) -> Result<(), DerivationError> {
        if self.version != master.version {
            return Err(DerivationError::VersionMismatch);
        }
        let Some(extra) = self.restrictions.get(master.restrictions.len()..) else {
            return Err(DerivationError::FewerRestrictions);
        };
        if self.restrictions.get(..master.restrictions.len()) != Some(&master.restrictions[..]) {
            return Err(DerivationError::DoesNotMatchMaster);
        }
        let mut state = master.state.clone();
        for restriction in extra {
            state.append(restriction.encode().as_bytes());
        }
        if state.same_authcode(&self.state) {
            Ok(())
        } else {
            Err(DerivationError::NotDerived)
        }
    }

    /// Tests every restriction but the unique id, in order, each alternative with `check`
    /// (ccan `rune_meets_criteria`). This checks restrictions only, not the authcode.
    ///
    /// # Errors
    ///
    /// The first restriction that fails, with its alternatives' texts joined by `" AND "`.
    pub fn evaluate(
        &self,
        mut check: impl FnMut(&Alternative) -> Result<(), Unmet>,
    ) -> Result<(), Unmet> {
        for restriction in self.tested_restrictions() {
            restriction.test(&mut check)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Rune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rune")
            .field("authcode", &"<hidden>")
            .field("unique_id", &self.unique_id)
            .field("version", &self.version)
            .field("restrictions", &self.restrictions)
            .finish()
    }
}

/// Splits the unique-id alternative's value at the first `-` into id and version.
fn split_unique_id(
    alternative: &Alternative,
) -> Result<(String, Option<String>), RestrictionError> {
    if alternative.condition() != crate::Condition::Equal {
        return Err(RestrictionError::UniqueIdCondition);
    }
    Ok(match alternative.value().split_once('-') {
        Some((id, version)) => (id.to_owned(), Some(version.to_owned())),
        None => (alternative.value().to_owned(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Condition, FieldValue};

    fn restriction(f: &str, c: char, v: &str) -> Restriction {
        Restriction::new(vec![Alternative::new(
            f,
            Condition::from_char(c).unwrap(),
            v,
        )
        .unwrap()])
        .unwrap()
    }

    #[test]
    fn derived_runes_check_against_their_master() {
        let master = Rune::master(&[0u8; 16]).unwrap();
        let mut rune = master.derive(1).unwrap();
        assert_eq!(rune.unique_id(), Some("1"));
        assert_eq!(rune.version(), None);
        assert_eq!(rune.check_derivation(&master), Ok(()));
        rune.append(restriction("method", '=', "getinfo")).unwrap();
        assert_eq!(rune.check_derivation(&master), Ok(()));
        // A restriction swapped for a laxer one no longer matches the authcode.
        rune.restrictions[1] = restriction("method", '^', "get");
        assert_eq!(
            rune.check_derivation(&master),
            Err(DerivationError::NotDerived)
        );
        let other = Rune::master(&[1u8; 16]).unwrap();
        assert_eq!(
            master.derive(1).unwrap().check_derivation(&other),
            Err(DerivationError::NotDerived)
        );
    }

    #[test]
    fn versions_must_match() {
        let master = Rune::master(&[0u8; 16]).unwrap();
        let versioned = Rune::master_with_version(&[0u8; 16], "1").unwrap();
        let rune = versioned.derive(2).unwrap();
        assert_eq!(rune.unique_id(), Some("2"));
        assert_eq!(rune.version(), Some("1"));
        assert_eq!(rune.restrictions()[0].encode(), "=2-1");
        assert_eq!(rune.check_derivation(&versioned), Ok(()));
        assert_eq!(
            rune.check_derivation(&master),
            Err(DerivationError::VersionMismatch)
        );
    }

    #[test]
    fn derivation_from_a_restricted_source() {
        let master = Rune::master(&[0u8; 16]).unwrap();
        let source = master.derive(3).unwrap();
        let mut rune = source.clone();
        rune.append(restriction("f", '=', "1")).unwrap();
        assert_eq!(rune.check_derivation(&source), Ok(()));
        assert_eq!(
            source.check_derivation(&rune),
            Err(DerivationError::FewerRestrictions)
        );
        let sibling = master.derive(4).unwrap();
        assert_eq!(
            rune.check_derivation(&sibling),
            Err(DerivationError::DoesNotMatchMaster)
        );
    }

    #[test]
    fn unique_id_rules() {
        let master = Rune::master(&[0u8; 16]).unwrap();
        let mut rune = master.derive(1).unwrap();
        assert_eq!(rune.derive(2), Err(RestrictionError::UniqueIdNotFirst));
        assert_eq!(
            rune.append(restriction("", '=', "3")),
            Err(RestrictionError::UniqueIdNotFirst)
        );
        let mut fresh = master.clone();
        assert_eq!(
            fresh.append(restriction("", '!', "1")),
            Err(RestrictionError::UniqueIdCondition)
        );
        let two = Restriction::new(vec![
            Alternative::new("", Condition::Equal, "1").unwrap(),
            Alternative::new("f", Condition::Equal, "1").unwrap(),
        ])
        .unwrap();
        assert_eq!(fresh.append(two), Err(RestrictionError::UniqueIdNotAlone));
        assert_eq!(
            fresh, master,
            "a refused restriction leaves the rune unchanged"
        );
        rune.append(restriction("f", '=', "1")).unwrap();
        assert_eq!(rune.restrictions().len(), 2);
    }

    #[test]
    fn evaluation_skips_the_unique_id_and_stops_at_the_first_failure() {
        let master = Rune::master(&[0u8; 16]).unwrap();
        let mut rune = master.derive(7).unwrap();
        rune.append(restriction("a", '=', "1")).unwrap();
        rune.append(restriction("b", '=', "2")).unwrap();
        let mut seen = Vec::new();
        let err = rune
            .evaluate(|alt| {
                seen.push(alt.fieldname().to_owned());
                alt.test(FieldValue::Int(9))
            })
            .unwrap_err();
        assert_eq!(err.text(), "a is not equal to 1");
        assert_eq!(seen, ["a"]);
        assert_eq!(rune.tested_restrictions().len(), 2);
    }

    #[test]
    fn debug_hides_the_authcode() {
        let master = Rune::master(b"secret").unwrap();
        let debug = format!("{master:?}");
        assert!(!debug.contains(&hex::encode(master.authcode())));
        assert!(debug.contains("<hidden>"));
    }
}
