//! A rune's two text forms (ccan `coding.c`): base64url of `authcode ‖ restriction text`
//! (the one that travels), and `<64 hex>:<restriction text>` (for debugging and vectors).

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::authcode::AuthState;
use crate::error::DecodeError;
use crate::restriction::decode_restrictions;
use crate::rune::Rune;

/// base64url that writes `=` padding, as CLN does, and reads input with or without it.
/// Nonzero bits after the last byte are accepted: ccan's decoder ignores them, and CLN's own
/// tests use such a rune.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The bytes the secret and its padding take before the first restriction (ccan
/// `from_string` seeds its count with one block).
const SECRET_BLOCK: u64 = 64;

impl Rune {
    /// Decodes the base64url form: padded or not, URL-safe alphabet only, at least the
    /// 32-byte authcode, no NUL in the restriction text, which must be UTF-8 and well formed.
    ///
    /// # Errors
    ///
    /// Which of those does not hold.
    pub fn from_base64(s: &str) -> Result<Rune, DecodeError> {
        let bytes = BASE64.decode(s).map_err(|_| DecodeError::Base64)?;
        let (authcode, text) = bytes
            .split_first_chunk::<32>()
            .ok_or(DecodeError::TooShort)?;
        if text.contains(&0) {
            return Err(DecodeError::Nul);
        }
        let text = std::str::from_utf8(text).map_err(|_| DecodeError::NotUtf8)?;
        Rune::from_parts(authcode, text)
    }

    /// The base64url form, padded (what CLN emits).
    pub fn to_base64(&self) -> String {
        let mut bytes = self.authcode().to_vec();
        bytes.extend_from_slice(self.restriction_text().as_bytes());
        BASE64.encode(bytes)
    }

    /// Decodes the string form: 64 hex digits of authcode, `:`, the restriction text.
    ///
    /// # Errors
    ///
    /// If the form is wrong or the restrictions are malformed.
    pub fn from_string_form(s: &str) -> Result<Rune, DecodeError> {
        let (hex_code, text) = s.split_once(':').ok_or(DecodeError::StringForm)?;
        let mut authcode = [0u8; 32];
        hex::decode_to_slice(hex_code, &mut authcode).map_err(|_| DecodeError::StringForm)?;
        if text.contains('\0') {
            return Err(DecodeError::Nul);
        }
        Rune::from_parts(&authcode, text)
    }

    /// The string form, lowercase hex.
    pub fn to_string_form(&self) -> String {
        format!(
            "{}:{}",
            hex::encode(self.authcode()),
            self.restriction_text()
        )
    }

    /// The restriction text: restrictions joined by `&`.
    pub fn restriction_text(&self) -> String {
        let mut out = String::new();
        for (i, restriction) in self.restrictions.iter().enumerate() {
            if i != 0 {
                out.push('&');
            }
            restriction.encode_into(&mut out);
        }
        out
    }

    /// A rune from its claimed authcode and restriction text. The byte count is rebuilt
    /// from the restrictions as re-encoded, as ccan does, so appending continues correctly.
    fn from_parts(authcode: &[u8; 32], text: &str) -> Result<Rune, DecodeError> {
        let mut rune = Rune {
            state: AuthState::from_authcode(authcode, SECRET_BLOCK),
            restrictions: Vec::new(),
            unique_id: None,
            version: None,
        };
        for restriction in decode_restrictions(text)? {
            rune.push(restriction, false)?;
        }
        Ok(rune)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Alternative, Condition, DecodeError, Restriction, RestrictionError, Rune};

    const EMPTY: &str = "N0cI__dxndWXnsh11WzSKG9tPPfsMXo7JWMqqyjsN7s=";

    #[test]
    fn padding_is_written_and_optional_when_read() {
        let rune = Rune::from_base64(EMPTY).unwrap();
        assert_eq!(rune.to_base64(), EMPTY);
        assert_eq!(
            Rune::from_base64(EMPTY.trim_end_matches('=')).unwrap(),
            rune
        );
        assert_eq!(
            rune.to_string_form(),
            "374708fff7719dd5979ec875d56cd2286f6d3cf7ec317a3b25632aab28ec37bb:"
        );
    }

    #[test]
    fn trailing_bits_are_ignored_as_by_ccan() {
        // CLN's test_runes.py uses this foreign rune; its last group has nonzero spare bits.
        let foreign =
            "VXY4AAkrPyH2vzSvOHnI7PDVfS6O04bRQLUCIUFJD5Y9NjQmbWV0aG9kPWludm9pY2UmcmF0ZT0yMZ==";
        let rune = Rune::from_base64(foreign).unwrap();
        assert_eq!(rune.unique_id(), Some("64"));
        assert_eq!(rune.restriction_text(), "=64&method=invoice&rate=21");
    }

    #[test]
    fn malformed_base64_is_refused() {
        for bad in [
            "N0cI__dxndWXnsh11WzSKG9tPPfsMXo7JWMqqyjsN7s=x", // junk after padding
            "N0cI+/dxndWXnsh11WzSKG9tPPfsMXo7JWMqqyjsN7s=",  // standard alphabet
            "N0cI__dx ndWXnsh11WzSKG9tPPfsMXo7JWMqqyjsN7s=", // whitespace
            "N0cI__dxndWXnsh11WzSKG9tPPfsMXo7JWMqqyjsN7sAB", // one leftover character
            "N0cI=_dxndWXnsh11WzSKG9tPPfsMXo7JWMqqyjsN7s=",  // padding inside
        ] {
            assert_eq!(Rune::from_base64(bad), Err(DecodeError::Base64), "{bad}");
        }
        assert_eq!(Rune::from_base64(""), Err(DecodeError::TooShort));
        assert_eq!(Rune::from_base64("AAAA"), Err(DecodeError::TooShort));
    }

    #[test]
    fn restriction_text_must_be_nul_free_utf8() {
        use base64::Engine;
        let encode = |text: &[u8]| {
            let mut bytes = vec![0u8; 32];
            bytes.extend_from_slice(text);
            super::BASE64.encode(bytes)
        };
        assert_eq!(Rune::from_base64(&encode(b"f=a\0")), Err(DecodeError::Nul));
        assert_eq!(
            Rune::from_base64(&encode(b"f=\xff")),
            Err(DecodeError::NotUtf8)
        );
        assert_eq!(
            Rune::from_base64(&encode(b"f")),
            Err(DecodeError::Restriction(RestrictionError::NoCondition))
        );
        assert!(Rune::from_base64(&encode("f=\u{e9}".as_bytes())).is_ok());
    }

    #[test]
    fn string_form_errors() {
        let hex64 = "374708fff7719dd5979ec875d56cd2286f6d3cf7ec317a3b25632aab28ec37bb";
        assert_eq!(Rune::from_string_form(hex64), Err(DecodeError::StringForm));
        assert_eq!(
            Rune::from_string_form(&format!("{}:", &hex64[2..])),
            Err(DecodeError::StringForm)
        );
        assert_eq!(
            Rune::from_string_form(&format!("{}zz:", &hex64[2..])),
            Err(DecodeError::StringForm)
        );
        assert_eq!(
            Rune::from_string_form(&format!("{hex64}:f=\0")),
            Err(DecodeError::Nul)
        );
        assert_eq!(
            Rune::from_string_form(&format!("{hex64}:=1&=2")),
            Err(DecodeError::Restriction(RestrictionError::UniqueIdNotFirst))
        );
    }

    #[test]
    fn decoded_runes_extend_like_fresh_ones() {
        // Restriction lengths that put the padding on both sides of the 55/56-byte edge
        // (where pyrunes 0.6 gets the count wrong).
        let master = Rune::master(&[0u8; 32]).unwrap();
        for len in [0usize, 40, 50, 51, 52, 53, 54, 55, 56, 60, 61, 62, 120] {
            let mut fresh = master.derive(1).unwrap();
            let value = "v".repeat(len);
            let alt = Alternative::new("f", Condition::Equal, &value).unwrap();
            fresh.append(Restriction::new(vec![alt]).unwrap()).unwrap();
            let mut decoded = Rune::from_base64(&fresh.to_base64()).unwrap();
            assert_eq!(decoded, fresh, "len {len}");
            let extra =
                Restriction::new(vec![Alternative::new("g", Condition::Missing, "").unwrap()])
                    .unwrap();
            fresh.append(extra.clone()).unwrap();
            decoded.append(extra).unwrap();
            assert_eq!(decoded.authcode(), fresh.authcode(), "len {len}");
            assert_eq!(decoded.check_derivation(&master), Ok(()));
        }
    }
}
