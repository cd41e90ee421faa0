//! showrunes' description of a rune's restrictions (`lightningd/runes.c` `json_add_rune`).
//!
//! These are the entry's last two members, `restrictions` and `restrictions_as_english`; the
//! RPC layer writes `rune`, `stored`, `blacklisted`, `our_rune`, `last_used` and `unique_id`
//! before them. Serialized with serde, the field order is CLN's.

use serde::Serialize;

use crate::condition::Condition;
use crate::restriction::{Alternative, Restriction};
use crate::rune::Rune;

/// A rune's restrictions as showrunes lists them: the unique id left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuneEnglish<'a> {
    /// One entry per restriction.
    pub restrictions: Vec<RestrictionEnglish<'a>>,
    /// The restrictions' englishes joined by `" AND "` (empty without restrictions).
    pub restrictions_as_english: String,
}

/// One restriction as showrunes lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestrictionEnglish<'a> {
    /// One entry per alternative.
    pub alternatives: Vec<AlternativeEnglish<'a>>,
    /// The alternatives' englishes joined by `" OR "`.
    pub english: String,
}

/// One alternative as showrunes lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlternativeEnglish<'a> {
    /// The field name.
    pub fieldname: &'a str,
    /// The value, unescaped.
    pub value: &'a str,
    /// The condition, serialized as its one-character string.
    pub condition: Condition,
    /// E.g. `method starts with list`.
    pub english: String,
}

/// Describes `rune`'s restrictions, the unique id excepted.
pub fn describe(rune: &Rune) -> RuneEnglish<'_> {
    let restrictions: Vec<_> = rune
        .tested_restrictions()
        .iter()
        .map(describe_restriction)
        .collect();
    let englishes: Vec<&str> = restrictions.iter().map(|r| r.english.as_str()).collect();
    RuneEnglish {
        restrictions_as_english: englishes.join(" AND "),
        restrictions,
    }
}

fn describe_restriction(restriction: &Restriction) -> RestrictionEnglish<'_> {
    RestrictionEnglish {
        alternatives: restriction
            .alternatives()
            .iter()
            .map(describe_alternative)
            .collect(),
        english: restriction.english(),
    }
}

fn describe_alternative(alternative: &Alternative) -> AlternativeEnglish<'_> {
    AlternativeEnglish {
        fieldname: alternative.fieldname(),
        value: alternative.value(),
        condition: alternative.condition(),
        english: alternative.english(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_example() {
        // The restrictions of doc/schemas/showrunes.json's example.
        let master = Rune::master(&[0u8; 32]).unwrap();
        let mut rune = master.derive(2).unwrap();
        for text in ["id^038194b5f32bdf0aa598", "method=listpeers"] {
            let restriction = crate::restriction::decode_restrictions(text).unwrap();
            for r in restriction {
                rune.append(r).unwrap();
            }
        }
        let english = describe(&rune);
        assert_eq!(
            english.restrictions_as_english,
            "id starts with 038194b5f32bdf0aa598 AND method equal to listpeers"
        );
        assert_eq!(
            serde_json::to_value(&english).unwrap(),
            serde_json::json!({
                "restrictions": [
                    {"alternatives": [{"fieldname": "id", "value": "038194b5f32bdf0aa598",
                                       "condition": "^", "english": "id starts with 038194b5f32bdf0aa598"}],
                     "english": "id starts with 038194b5f32bdf0aa598"},
                    {"alternatives": [{"fieldname": "method", "value": "listpeers",
                                       "condition": "=", "english": "method equal to listpeers"}],
                     "english": "method equal to listpeers"}
                ],
                "restrictions_as_english": "id starts with 038194b5f32bdf0aa598 AND method equal to listpeers"
            })
        );
        // Member order is CLN's.
        let text = serde_json::to_string(&english.restrictions[0].alternatives[0]).unwrap();
        assert!(text.starts_with(
            r#"{"fieldname":"id","value":"038194b5f32bdf0aa598","condition":"^","english""#
        ));
    }

    #[test]
    fn an_unrestricted_rune_has_empty_english() {
        let rune = Rune::master(&[0u8; 32]).unwrap().derive(0).unwrap();
        let english = describe(&rune);
        assert!(english.restrictions.is_empty());
        assert_eq!(english.restrictions_as_english, "");
    }

    #[test]
    fn alternatives_join_with_or() {
        let mut rune = Rune::master(&[0u8; 32]).unwrap().derive(1).unwrap();
        for r in crate::readonly_restrictions() {
            rune.append(r).unwrap();
        }
        assert_eq!(
            describe(&rune).restrictions_as_english,
            "method starts with list OR method starts with get OR method equal to summary AND method unequal to listdatastore"
        );
    }
}
