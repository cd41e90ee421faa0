//! A JSON tree that keeps every token's text exactly as the daemon sent it.
//!
//! `lightning-cli` prints tokens straight out of the daemon's buffer: numbers are never
//! converted (a 30-digit amount stays 30 digits), strings keep their escapes, and members
//! stay in the daemon's order, duplicates included. `serde_json::Value` would change all
//! three, so responses are parsed into [`Json`] instead, which borrows the text.
//!
//! [`Json::parse`] expects text that is already known to be valid JSON (the reader in
//! [`crate::client`] checks each object with `serde_json` first); it still refuses, rather
//! than panics on, anything it cannot make sense of.

use std::fmt;

/// How deep arrays and objects may nest before [`Json::parse`] gives up, so that a hostile
/// response cannot exhaust the stack of this parser or of the printers in
/// [`crate::output`].
pub const MAX_DEPTH: usize = 512;

/// One JSON value and the exact text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json<'a> {
    /// The token's full text: strings include their quotes, objects their braces.
    pub text: &'a str,
    /// What kind of value it is, with the children of arrays and objects.
    pub value: Value<'a>,
}

/// The kinds of JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// An object's members in the order sent; keys are [`Value::String`] tokens.
    Object(Vec<(Json<'a>, Json<'a>)>),
    /// An array's elements.
    Array(Vec<Json<'a>>),
    /// A string; [`Json::text`] includes the quotes, [`Json::content`] does not.
    String,
    /// A number, `true`, `false` or `null`.
    Primitive,
}

/// Why [`Json::parse`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was wrong.
    pub problem: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.problem, self.offset)
    }
}

impl std::error::Error for ParseError {}

impl<'a> Json<'a> {
    /// Parses one JSON value; only whitespace may surround it.
    ///
    /// # Errors
    ///
    /// [`ParseError`] if the text is not one JSON value, or nests deeper than
    /// [`MAX_DEPTH`].
    pub fn parse(text: &'a str) -> Result<Json<'a>, ParseError> {
        let mut parser = Parser { text, pos: 0 };
        parser.skip_ws();
        let value = parser.value(0)?;
        parser.skip_ws();
        if parser.pos != text.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(value)
    }

    /// A string's text between its quotes, escapes untouched; any other value's full text.
    pub fn content(&self) -> &'a str {
        match self.value {
            Value::String => self
                .text
                .get(1..self.text.len().saturating_sub(1))
                .unwrap_or(""),
            _ => self.text,
        }
    }

    /// The first member called `key` (compared with the raw, unescaped key text, as
    /// `lightning-cli` does), if this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match &self.value {
            Value::Object(members) => members
                .iter()
                .find(|(k, _)| k.content() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Like [`Json::get`], for changing the member.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json<'a>> {
        match &mut self.value {
            Value::Object(members) => members
                .iter_mut()
                .find(|(k, _)| k.content() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes the first member called `key`; returns it if there was one.
    pub fn remove(&mut self, key: &str) -> Option<Json<'a>> {
        match &mut self.value {
            Value::Object(members) => {
                let index = members.iter().position(|(k, _)| k.content() == key)?;
                Some(members.remove(index).1)
            }
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self.value, Value::Object(_))
    }

    /// Whether this is the literal `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Primitive) && self.text == "null"
    }

    /// Whether this token's content is exactly `s` (a string's content without quotes, or
    /// a primitive's text), the comparison `lightning-cli` uses for ids and hints.
    pub fn content_eq(&self, s: &str) -> bool {
        matches!(self.value, Value::String | Value::Primitive) && self.content() == s
    }

    /// The value as a `u32`, if it is a plain non-negative integer that fits.
    pub fn as_u32(&self) -> Option<u32> {
        match self.value {
            Value::Primitive => self.text.parse().ok(),
            _ => None,
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, problem: &'static str) -> ParseError {
        ParseError {
            offset: self.pos,
            problem,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// The text from `start` to the current position. Both are at ASCII bytes or the
    /// end, so they are character boundaries; `get` keeps that an error, not a panic.
    fn since(&self, start: usize) -> Result<&'a str, ParseError> {
        self.text
            .get(start..self.pos)
            .ok_or_else(|| self.error("not at a character boundary"))
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let start = self.pos;
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => {
                self.string()?;
                Value::String
            }
            Some(_) => {
                self.primitive()?;
                Value::Primitive
            }
            None => return Err(self.error("expected a value")),
        };
        Ok(Json {
            text: self.since(start)?,
            value,
        })
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, ParseError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.value(depth + 1)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, ParseError> {
        self.pos += 1;
        let mut elements = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(elements));
        }
        loop {
            self.skip_ws();
            elements.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(elements));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<(), ParseError> {
        self.pos += 1;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(c) if c < 0x20 => return Err(self.error("control character in string")),
                Some(_) => self.pos += 1,
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn primitive(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.')
        ) {
            self.pos += 1;
        }
        let word = self.since(start)?;
        let is_number = word
            .bytes()
            .next()
            .is_some_and(|c| c == b'-' || c.is_ascii_digit());
        if matches!(word, "true" | "false" | "null") || is_number {
            Ok(())
        } else {
            self.pos = start;
            Err(self.error("expected a value"))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keeps_token_text_and_member_order() {
        let text =
            r#" {"b": 123456789012345678901234567890, "a":[1.50,"x\"y",true,null,{}], "b":"dup"} "#;
        let json = Json::parse(text).unwrap();
        assert_eq!(json.text, text.trim());
        let Value::Object(members) = &json.value else {
            panic!("not an object")
        };
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.text).collect();
        assert_eq!(keys, [r#""b""#, r#""a""#, r#""b""#]);
        assert_eq!(
            json.get("b").unwrap().text,
            "123456789012345678901234567890"
        );
        let Value::Array(elements) = &json.get("a").unwrap().value else {
            panic!("not an array")
        };
        let texts: Vec<&str> = elements.iter().map(|e| e.text).collect();
        assert_eq!(texts, ["1.50", r#""x\"y""#, "true", "null", "{}"]);
        assert_eq!(elements[1].content(), r#"x\"y"#);
        assert!(elements[3].is_null());
        assert!(!elements[2].is_null());
    }

    #[test]
    fn remove_and_lookup() {
        let mut json = Json::parse(r#"{"result":{"format-hint":"simple","x":1}}"#).unwrap();
        let result = json.get_mut("result").unwrap();
        assert!(result.remove("format-hint").unwrap().content_eq("simple"));
        assert!(result.remove("format-hint").is_none());
        assert_eq!(result.get("x").unwrap().as_u32(), Some(1));
        assert!(json.get("nope").is_none());
        assert!(Json::parse("[1]").unwrap().get("x").is_none());
        assert_eq!(Json::parse("-1").unwrap().as_u32(), None);
        assert_eq!(Json::parse("\"7\"").unwrap().as_u32(), None);
    }

    #[test]
    fn multibyte_strings() {
        let json = Json::parse(r#"{"ü":"⚡ é"}"#).unwrap();
        assert_eq!(json.get("ü").unwrap().content(), "⚡ é");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "{",
            "[1,",
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            "\"abc",
            "xyz",
            "{} {}",
            "[1 2]",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(Json::parse(&deep).unwrap_err().problem, "nested too deeply");
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(Json::parse(&ok).is_ok());
    }
}
