//! serde_json's own reading of a buffer, the oracle [`super::ValueSplitter`] is checked against
//! by tests and the fuzz target. It re-parses its whole input on every call, so it is no
//! splitter for a socket.

use serde_json::value::RawValue;

/// What the front of a buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Split {
    /// A whole JSON value at `start..end`; the caller consumes `..end`.
    Value {
        /// Where the value starts (after any whitespace).
        start: usize,
        /// One past its last byte.
        end: usize,
    },
    /// Only whitespace or the start of a value: read more. `skip` bytes of leading whitespace
    /// may be dropped already.
    Incomplete {
        /// Leading whitespace that can be dropped.
        skip: usize,
    },
    /// Not JSON; the connection cannot be resynchronised.
    Invalid(String),
}

/// Looks for one complete JSON value at the front of `buf`.
pub fn split_value(buf: &[u8]) -> Split {
    let skip = buf
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        .count();
    if skip == buf.len() {
        return Split::Incomplete { skip };
    }
    let mut values = serde_json::Deserializer::from_slice(&buf[skip..]).into_iter::<&RawValue>();
    match values.next() {
        Some(Ok(value)) => {
            let end = skip + values.byte_offset();
            Split::Value {
                start: end - value.get().len(),
                end,
            }
        }
        Some(Err(error)) if error.is_eof() || cut_inside_number(&buf[skip..]) => {
            Split::Incomplete { skip }
        }
        Some(Err(error)) => Split::Invalid(error.to_string()),
        None => Split::Incomplete { skip },
    }
}

/// serde_json reports a number cut right after `.`, `e`, `E` or an exponent sign as an invalid
/// number, not as the end of the input, so a request the socket cuts there would kill the
/// connection. One more digit tells the two apart: a cut number then reads on.
fn cut_inside_number(buf: &[u8]) -> bool {
    if !matches!(buf.last(), Some(b'.' | b'e' | b'E' | b'+' | b'-')) {
        return false;
    }
    let mut longer = Vec::with_capacity(buf.len() + 1);
    longer.extend_from_slice(buf);
    longer.push(b'0');
    let mut values = serde_json::Deserializer::from_slice(&longer).into_iter::<&RawValue>();
    match values.next() {
        Some(Ok(_)) => true,
        Some(Err(error)) => error.is_eof(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(mut input: &[u8]) -> (Vec<String>, Split) {
        let mut found = Vec::new();
        loop {
            match split_value(input) {
                Split::Value { start, end } => {
                    found.push(String::from_utf8(input[start..end].to_vec()).unwrap());
                    input = &input[end..];
                }
                other => return (found, other),
            }
        }
    }

    #[test]
    fn concatenated_objects_split_without_delimiters() {
        let (found, rest) = values(b"{\"a\":1}{\"b\":\"}\"}\n\n  {\"c\":[1,{}]}");
        assert_eq!(found, ["{\"a\":1}", "{\"b\":\"}\"}", "{\"c\":[1,{}]}"]);
        assert_eq!(rest, Split::Incomplete { skip: 0 });
    }

    #[test]
    fn a_value_cut_anywhere_is_incomplete_until_whole() {
        let whole = br#"{"jsonrpc":"2.0","id":"x\"y","method":"getinfo","params":{}}"#;
        for cut in 1..whole.len() {
            assert!(
                matches!(split_value(&whole[..cut]), Split::Incomplete { .. }),
                "cut at {cut}"
            );
        }
        assert_eq!(
            split_value(whole),
            Split::Value {
                start: 0,
                end: whole.len()
            }
        );
    }

    #[test]
    fn a_number_cut_at_its_point_or_exponent_is_incomplete() {
        // Found by the rpc_request_parsing fuzz target (regression-cut-number-*).
        let whole = br#"{"jsonrpc":"2.0","id":-1.5e+3,"method":"ping","params":[1E-2]}"#;
        for cut in 1..whole.len() {
            assert_eq!(
                split_value(&whole[..cut]),
                Split::Incomplete { skip: 0 },
                "cut at {cut}"
            );
        }
        assert_eq!(split_value(b" 1."), Split::Incomplete { skip: 1 });
        // Still garbage when the next byte arrives, or when the number was never the problem.
        assert!(matches!(split_value(b"{\"a\":1.x"), Split::Invalid(_)));
        assert!(matches!(split_value(b"{\"a\":1.}"), Split::Invalid(_)));
        assert!(matches!(split_value(b"{\"a\" -"), Split::Invalid(_)));
        assert!(matches!(split_value(b"{\"a\":}1e"), Split::Invalid(_)));
    }

    #[test]
    fn whitespace_only_is_skippable_and_garbage_is_invalid() {
        assert_eq!(split_value(b" \n\t"), Split::Incomplete { skip: 3 });
        assert!(matches!(
            split_value(b"  {\"a\""),
            Split::Incomplete { skip: 2 }
        ));
        assert!(matches!(split_value(b"{\"a\":}"), Split::Invalid(_)));
        assert!(matches!(split_value(b"}"), Split::Invalid(_)));
    }
}
