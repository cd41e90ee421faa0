//! The eleven conditions, what a field looks like to them, and CLN's words when one fails
//! (ccan `rune_alt_single`) or is described (`showrunes`).

use std::cmp::Ordering;
use std::fmt;

/// An alternative's operator: the one character between its field name and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `!`: the field is missing.
    Missing,
    /// `=`: the field equals the value, byte for byte.
    Equal,
    /// `/`: the field is present and does not equal the value.
    NotEqual,
    /// `^`: the field starts with the value.
    StartsWith,
    /// `$`: the field ends with the value.
    EndsWith,
    /// `~`: the field contains the value.
    Contains,
    /// `<`: the field is an integer less than the value.
    IntLess,
    /// `>`: the field is an integer greater than the value.
    IntGreater,
    /// `{`: the field sorts strictly before the value (bytewise).
    SortsBefore,
    /// `}`: the field sorts strictly after the value (bytewise).
    SortsAfter,
    /// `#`: a comment; always passes.
    Comment,
}

impl Condition {
    /// Every condition, in ccan's order.
    pub const ALL: [Condition; 11] = [
        Condition::Missing,
        Condition::Equal,
        Condition::NotEqual,
        Condition::StartsWith,
        Condition::EndsWith,
        Condition::Contains,
        Condition::IntLess,
        Condition::IntGreater,
        Condition::SortsBefore,
        Condition::SortsAfter,
        Condition::Comment,
    ];

    /// The condition written as `c`, if `c` is one.
    pub fn from_char(c: char) -> Option<Condition> {
        Condition::ALL.into_iter().find(|cond| cond.as_char() == c)
    }

    /// The character that writes this condition.
    pub fn as_char(self) -> char {
        match self {
            Condition::Missing => '!',
            Condition::Equal => '=',
            Condition::NotEqual => '/',
            Condition::StartsWith => '^',
            Condition::EndsWith => '$',
            Condition::Contains => '~',
            Condition::IntLess => '<',
            Condition::IntGreater => '>',
            Condition::SortsBefore => '{',
            Condition::SortsAfter => '}',
            Condition::Comment => '#',
        }
    }

    /// Tests a field against `value`; on failure, CLN's text naming `fieldname`.
    pub(crate) fn test(
        self,
        fieldname: &str,
        value: &str,
        field: FieldValue<'_>,
    ) -> Result<(), String> {
        let rendered;
        let text = match field {
            FieldValue::Missing => {
                return match self {
                    Condition::Missing | Condition::Comment => Ok(()),
                    _ => Err(format!("{fieldname} not present")),
                };
            }
            FieldValue::Str(s) => s,
            // ccan compares integers as their `%PRIi64` rendering for the string conditions.
            FieldValue::Int(i) => {
                rendered = i.to_string();
                rendered.as_str()
            }
        };
        let (passed, complaint) = match self {
            Condition::Missing => return Err(format!("{fieldname} is present")),
            Condition::Comment => return Ok(()),
            Condition::Equal => (text == value, "is not equal to"),
            Condition::NotEqual => (text != value, "is equal to"),
            Condition::StartsWith => (text.starts_with(value), "does not start with"),
            Condition::EndsWith => (text.ends_with(value), "does not end with"),
            Condition::Contains => (text.contains(value), "does not contain"),
            Condition::SortsBefore => (
                text.as_bytes().cmp(value.as_bytes()) == Ordering::Less,
                "is equal to or ordered after",
            ),
            Condition::SortsAfter => (
                text.as_bytes().cmp(value.as_bytes()) == Ordering::Greater,
                "is equal to or ordered before",
            ),
            Condition::IntLess | Condition::IntGreater => {
                let FieldValue::Int(field) = field else {
                    return Err(format!("{fieldname} is not an integer field"));
                };
                // The *value* is named here, not the field: CLN's wording.
                let limit =
                    parse_c_long(value).ok_or_else(|| format!("{value} is not a valid integer"))?;
                if self == Condition::IntLess {
                    (field < limit, "is greater or equal to")
                } else {
                    (field > limit, "is less or equal to")
                }
            }
        };
        if passed {
            Ok(())
        } else {
            Err(format!("{fieldname} {complaint} {value}"))
        }
    }

    /// How `showrunes` says an alternative with this condition.
    pub(crate) fn english(self, fieldname: &str, value: &str) -> String {
        let words = match self {
            Condition::Missing => return format!("{fieldname} is missing"),
            Condition::Comment => return format!("comment: {fieldname} {value}"),
            Condition::Equal => "equal to",
            Condition::NotEqual => "unequal to",
            Condition::StartsWith => "starts with",
            Condition::EndsWith => "ends with",
            Condition::Contains => "contains",
            Condition::IntLess => "<",
            Condition::IntGreater => ">",
            Condition::SortsBefore => "sorts before",
            Condition::SortsAfter => "sorts after",
        };
        format!("{fieldname} {words} {value}")
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

impl serde::Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_char(self.as_char())
    }
}

/// What a field is when a rune is checked: the checker decides each field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// The request has no such field.
    Missing,
    /// A string, compared byte for byte.
    Str(&'a str),
    /// An integer: the only kind `<` and `>` accept; the others see its decimal rendering.
    Int(i64),
}

/// C's `strtol(s, &end, 10)` accepting only a whole string: leading C whitespace and one
/// sign allowed, at least one digit, nothing after, no overflow (ccan
/// `integer_compare_valid`; `long` is 64 bits on CLN's platforms).
pub(crate) fn parse_c_long(s: &str) -> Option<i64> {
    let trimmed = s.trim_start_matches(is_c_space);
    // Rust accepts a leading `+` or `-` too, and rejects empty digits and overflow.
    trimmed.parse().ok()
}

/// C's `isspace` in the C locale.
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(cond: char, value: &str, field: FieldValue<'_>) -> Result<(), String> {
        Condition::from_char(cond).unwrap().test("f1", value, field)
    }

    #[test]
    fn chars_round_trip() {
        for cond in Condition::ALL {
            assert_eq!(Condition::from_char(cond.as_char()), Some(cond));
        }
        for c in [
            '"', '&', '\'', '(', ')', '*', '+', '-', '.', ':', ';', '?', '[', '\\', ']', '`', '|',
            'a',
        ] {
            assert_eq!(Condition::from_char(c), None, "{c}");
        }
    }

    #[test]
    fn missing_fields() {
        assert_eq!(test('!', "", FieldValue::Missing), Ok(()));
        assert_eq!(test('#', "x", FieldValue::Missing), Ok(()));
        for cond in ['=', '/', '^', '$', '~', '<', '>', '{', '}'] {
            assert_eq!(
                test(cond, "v", FieldValue::Missing),
                Err("f1 not present".into())
            );
        }
        assert_eq!(
            test('!', "", FieldValue::Str("")),
            Err("f1 is present".into())
        );
    }

    #[test]
    fn failure_texts_are_clns() {
        let s = FieldValue::Str("abc");
        assert_eq!(test('=', "v1", s), Err("f1 is not equal to v1".into()));
        assert_eq!(test('/', "abc", s), Err("f1 is equal to abc".into()));
        assert_eq!(test('^', "b", s), Err("f1 does not start with b".into()));
        assert_eq!(test('$', "b", s), Err("f1 does not end with b".into()));
        assert_eq!(test('~', "x", s), Err("f1 does not contain x".into()));
        assert_eq!(
            test('{', "abc", s),
            Err("f1 is equal to or ordered after abc".into())
        );
        assert_eq!(
            test('}', "abd", s),
            Err("f1 is equal to or ordered before abd".into())
        );
        assert_eq!(test('<', "5", s), Err("f1 is not an integer field".into()));
        assert_eq!(
            test('<', "x", FieldValue::Int(1)),
            Err("x is not a valid integer".into())
        );
        assert_eq!(
            test('<', "1", FieldValue::Int(1)),
            Err("f1 is greater or equal to 1".into())
        );
        assert_eq!(
            test('>', "1", FieldValue::Int(1)),
            Err("f1 is less or equal to 1".into())
        );
    }

    #[test]
    fn integers_compare_as_their_decimal_rendering() {
        assert_eq!(test('=', "-5", FieldValue::Int(-5)), Ok(()));
        assert_eq!(test('^', "12", FieldValue::Int(123)), Ok(()));
        assert!(test('=', "05", FieldValue::Int(5)).is_err());
        // A numeric-looking string is still a string to `<`.
        assert!(test('>', "1", FieldValue::Str("5")).is_err());
    }

    #[test]
    fn empty_values_match_any_present_field() {
        for cond in ['^', '$', '~'] {
            assert_eq!(test(cond, "", FieldValue::Str("")), Ok(()));
            assert_eq!(test(cond, "", FieldValue::Str("x")), Ok(()));
        }
    }

    #[test]
    fn ordering_is_bytewise_with_prefixes_first() {
        assert_eq!(test('{', "11", FieldValue::Str("1")), Ok(()));
        assert!(test('{', "11", FieldValue::Str("111")).is_err());
        assert_eq!(test('}', "11", FieldValue::Str("111")), Ok(()));
        assert_eq!(test('}', "a", FieldValue::Str("\u{e9}")), Ok(()));
    }

    #[test]
    fn rune_integers_parse_like_strtol() {
        assert_eq!(parse_c_long(" \t+42"), Some(42));
        assert_eq!(parse_c_long("-0"), Some(0));
        assert_eq!(parse_c_long("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_c_long("-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            " ",
            "+",
            "-",
            "1 ",
            "1x",
            "0x10",
            "9223372036854775808",
            "- 1",
            "+-1",
        ] {
            assert_eq!(parse_c_long(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn english_is_showrunes() {
        let cases = [
            ('!', "f is missing"),
            ('=', "f equal to v"),
            ('/', "f unequal to v"),
            ('^', "f starts with v"),
            ('$', "f ends with v"),
            ('~', "f contains v"),
            ('<', "f < v"),
            ('>', "f > v"),
            ('{', "f sorts before v"),
            ('}', "f sorts after v"),
            ('#', "comment: f v"),
        ];
        for (c, english) in cases {
            assert_eq!(Condition::from_char(c).unwrap().english("f", "v"), english);
        }
    }
}
