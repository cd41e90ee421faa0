//! Alternatives and restrictions: their rules, their text (ccan `coding.c`) and how they
//! pass or fail.
//!
//! Text: an alternative is `fieldname` + condition + value, with `\`, `|` and `&` in the
//! value escaped by a `\`; alternatives are joined by `|`, restrictions by `&`. A field name
//! is every leading character that is not ASCII punctuation (`_` excepted).

use std::fmt;

use crate::condition::{Condition, FieldValue};
use crate::error::RestrictionError;

/// One test of one field: `fieldname`, a [`Condition`], a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Alternative {
    fieldname: String,
    condition: Condition,
    value: String,
}

impl Alternative {
    /// An alternative.
    ///
    /// # Errors
    ///
    /// [`RestrictionError::InvalidFieldname`] if `fieldname` has ASCII punctuation other than
    /// `_` (the text could not be read back), [`RestrictionError::Nul`] if the value has a NUL
    /// byte (ccan refuses such runes when decoding). An empty field name is allowed here: it
    /// marks the unique id, whose rules [`crate::Rune::append`] enforces.
    pub fn new(
        fieldname: &str,
        condition: Condition,
        value: &str,
    ) -> Result<Self, RestrictionError> {
        if !fieldname.bytes().all(is_field_byte) {
            return Err(RestrictionError::InvalidFieldname);
        }
        if value.contains('\0') {
            return Err(RestrictionError::Nul);
        }
        Ok(Alternative {
            fieldname: fieldname.to_owned(),
            condition,
            value: value.to_owned(),
        })
    }

    /// An alternative from constants this crate knows to be valid.
    pub(crate) fn known_valid(fieldname: &str, condition: Condition, value: &str) -> Self {
        debug_assert!(Alternative::new(fieldname, condition, value).is_ok());
        Alternative {
            fieldname: fieldname.to_owned(),
            condition,
            value: value.to_owned(),
        }
    }

    /// The field this alternative tests (empty for the unique id).
    pub fn fieldname(&self) -> &str {
        &self.fieldname
    }

    /// The condition.
    pub fn condition(&self) -> Condition {
        self.condition
    }

    /// The value, unescaped.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Tests `field` (this alternative's field in some request).
    ///
    /// # Errors
    ///
    /// CLN's text for the failure, e.g. `method is not equal to getinfo`.
    pub fn test(&self, field: FieldValue<'_>) -> Result<(), Unmet> {
        self.condition
            .test(&self.fieldname, &self.value, field)
            .map_err(Unmet)
    }

    /// How `showrunes` says this alternative, e.g. `method starts with list`.
    pub fn english(&self) -> String {
        self.condition.english(&self.fieldname, &self.value)
    }

    /// Whether this is the unique-id marker (an empty field name).
    pub(crate) fn is_unique_id(&self) -> bool {
        self.fieldname.is_empty()
    }

    fn encode_into(&self, out: &mut String) {
        out.push_str(&self.fieldname);
        out.push(self.condition.as_char());
        for c in self.value.chars() {
            if matches!(c, '\\' | '|' | '&') {
                out.push('\\');
            }
            out.push(c);
        }
    }
}

/// One or more alternatives, at least one of which must pass.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Restriction {
    alternatives: Vec<Alternative>,
}

impl Restriction {
    /// A restriction.
    ///
    /// # Errors
    ///
    /// [`RestrictionError::NoAlternatives`] if `alternatives` is empty.
    pub fn new(alternatives: Vec<Alternative>) -> Result<Self, RestrictionError> {
        if alternatives.is_empty() {
            return Err(RestrictionError::NoAlternatives);
        }
        Ok(Restriction { alternatives })
    }

    /// A restriction from constants this crate knows to be non-empty.
    pub(crate) fn known_valid(alternatives: Vec<Alternative>) -> Self {
        debug_assert!(!alternatives.is_empty());
        Restriction { alternatives }
    }

    /// The unique-id restriction: `=<unique_id>` or `=<unique_id>-<version>`.
    ///
    /// # Errors
    ///
    /// [`RestrictionError::UniqueIdDash`] if `unique_id` has a `-` (it would be read back
    /// as a version), [`RestrictionError::Nul`] for a NUL byte.
    pub fn unique_id(unique_id: &str, version: Option<&str>) -> Result<Self, RestrictionError> {
        if unique_id.contains('-') {
            return Err(RestrictionError::UniqueIdDash);
        }
        let value = match version {
            Some(version) => format!("{unique_id}-{version}"),
            None => unique_id.to_owned(),
        };
        Restriction::new(vec![Alternative::new("", Condition::Equal, &value)?])
    }

    /// The alternatives, in order.
    pub fn alternatives(&self) -> &[Alternative] {
        &self.alternatives
    }

    /// The encoded text: alternatives joined by `|`, values escaped. These bytes are what
    /// the authcode hashes.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }

    /// Tests each alternative with `check` until one passes.
    ///
    /// # Errors
    ///
    /// When none passes: their texts joined by `" AND "`, in order.
    pub fn test(
        &self,
        mut check: impl FnMut(&Alternative) -> Result<(), Unmet>,
    ) -> Result<(), Unmet> {
        let mut failures = Vec::with_capacity(self.alternatives.len());
        for alternative in &self.alternatives {
            match check(alternative) {
                Ok(()) => return Ok(()),
                Err(Unmet(text)) => failures.push(text),
            }
        }
        Err(Unmet(failures.join(" AND ")))
    }

    /// How `showrunes` says this restriction: its alternatives joined by `" OR "`.
    pub fn english(&self) -> String {
        let englishes: Vec<String> = self.alternatives.iter().map(Alternative::english).collect();
        englishes.join(" OR ")
    }

    pub(crate) fn encode_into(&self, out: &mut String) {
        for (i, alternative) in self.alternatives.iter().enumerate() {
            if i != 0 {
                out.push('|');
            }
            alternative.encode_into(out);
        }
    }
}

/// Why a restriction (or one alternative) was not met, in CLN's words, e.g.
/// `method is not equal to getinfo` or `too soon`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet(String);

impl Unmet {
    /// A failure with this text (for checks of fields outside [`FieldValue`], such as rates).
    pub fn new(text: impl Into<String>) -> Self {
        Unmet(text.into())
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `b` may be part of a field name: anything but ASCII punctuation, except `_`
/// (C `ispunct`; bytes of multi-byte characters count as name bytes, as in ccan).
pub(crate) fn is_field_byte(b: u8) -> bool {
    b == b'_' || !b.is_ascii_punctuation()
}

/// Reads restriction text (everything after the authcode) into restrictions.
pub(crate) fn decode_restrictions(mut text: &str) -> Result<Vec<Restriction>, RestrictionError> {
    let mut restrictions = Vec::new();
    // A trailing `&` ends the last restriction and leaves nothing: ccan accepts that too.
    while !text.is_empty() {
        let mut alternatives = Vec::new();
        loop {
            let (alternative, more, rest) = decode_alternative(text)?;
            alternatives.push(alternative);
            text = rest;
            if !more {
                break;
            }
        }
        restrictions.push(Restriction { alternatives });
    }
    Ok(restrictions)
}

/// Reads one alternative. Returns it, whether another alternative of the same restriction
/// follows (`|`), and the rest of the text.
fn decode_alternative(text: &str) -> Result<(Alternative, bool, &str), RestrictionError> {
    let name_len = text
        .bytes()
        .position(|b| !is_field_byte(b))
        .unwrap_or(text.len());
    // The name ends before an ASCII byte or at the end, so this is a char boundary.
    let (fieldname, rest) = text
        .split_at_checked(name_len)
        .ok_or(RestrictionError::NoCondition)?;
    let mut chars = rest.chars();
    let condition = match chars.next() {
        None => return Err(RestrictionError::NoCondition),
        Some(c) => Condition::from_char(c).ok_or(RestrictionError::InvalidCondition(c))?,
    };
    let mut value = String::new();
    let mut more = false;
    while let Some(c) = chars.next() {
        match c {
            '|' => {
                more = true;
                break;
            }
            '&' => break,
            // Any character may be escaped, not only the three that must be.
            '\\' => value.push(chars.next().ok_or(RestrictionError::TrailingBackslash)?),
            c => value.push(c),
        }
    }
    let alternative = Alternative {
        fieldname: fieldname.to_owned(),
        condition,
        value,
    };
    Ok((alternative, more, chars.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alt(f: &str, c: char, v: &str) -> Alternative {
        Alternative::new(f, Condition::from_char(c).unwrap(), v).unwrap()
    }

    #[test]
    fn values_escape_backslash_bar_and_ampersand_only() {
        let r = Restriction::new(vec![alt("f3", '~', "&|\\"), alt("f_4", '=', "a=b^c")]).unwrap();
        assert_eq!(r.encode(), "f3~\\&\\|\\\\|f_4=a=b^c");
        assert_eq!(decode_restrictions(&r.encode()).unwrap(), vec![r]);
    }

    #[test]
    fn text_decodes_into_restrictions() {
        let rs = decode_restrictions("=1&f1=1|f2=3&f3~\\&\\|\\\\").unwrap();
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[0].alternatives(), [alt("", '=', "1")]);
        assert_eq!(
            rs[1].alternatives(),
            [alt("f1", '=', "1"), alt("f2", '=', "3")]
        );
        assert_eq!(rs[2].alternatives(), [alt("f3", '~', "&|\\")]);
        assert_eq!(decode_restrictions("").unwrap(), []);
    }

    #[test]
    fn odd_but_accepted_text() {
        // Needless escapes and a trailing `&` decode, and re-encode canonically.
        let rs = decode_restrictions("f1=\\a\\b&").unwrap();
        assert_eq!(rs, [Restriction::new(vec![alt("f1", '=', "ab")]).unwrap()]);
        // Spaces, controls and non-ASCII are field-name characters.
        let rs = decode_restrictions("f 1\u{e9}=x").unwrap();
        assert_eq!(rs[0].alternatives()[0].fieldname(), "f 1\u{e9}");
        // Empty values.
        let rs = decode_restrictions("a=|b!").unwrap();
        assert_eq!(rs[0].alternatives(), [alt("a", '=', ""), alt("b", '!', "")]);
    }

    #[test]
    fn malformed_text() {
        assert_eq!(
            decode_restrictions("f1"),
            Err(RestrictionError::NoCondition)
        );
        assert_eq!(
            decode_restrictions("f1=1|"),
            Err(RestrictionError::NoCondition)
        );
        assert_eq!(
            decode_restrictions("f1:1"),
            Err(RestrictionError::InvalidCondition(':'))
        );
        assert_eq!(
            decode_restrictions("f1=1&&f2=2"),
            Err(RestrictionError::InvalidCondition('&'))
        );
        assert_eq!(
            decode_restrictions("f1=1\\"),
            Err(RestrictionError::TrailingBackslash)
        );
    }

    #[test]
    fn constructors_keep_text_readable() {
        assert_eq!(
            Alternative::new("a.b", Condition::Equal, "x"),
            Err(RestrictionError::InvalidFieldname)
        );
        assert_eq!(
            Alternative::new("ab", Condition::Equal, "x\0"),
            Err(RestrictionError::Nul)
        );
        assert_eq!(
            Restriction::new(vec![]),
            Err(RestrictionError::NoAlternatives)
        );
        assert_eq!(
            Restriction::unique_id("1-2", None),
            Err(RestrictionError::UniqueIdDash)
        );
        assert_eq!(
            Restriction::unique_id("2", Some("1")).unwrap().encode(),
            "=2-1"
        );
    }

    #[test]
    fn restriction_failures_join_with_and() {
        let r = Restriction::new(vec![alt("pnamea", '=', "1"), alt("pnameb", '!', "")]).unwrap();
        let err = r.test(|a| a.test(FieldValue::Int(2))).unwrap_err();
        assert_eq!(err.text(), "pnamea is not equal to 1 AND pnameb is present");
        assert_eq!(r.test(|a| a.test(FieldValue::Int(1))), Ok(()));
        assert_eq!(r.english(), "pnamea equal to 1 OR pnameb is missing");
    }
}
