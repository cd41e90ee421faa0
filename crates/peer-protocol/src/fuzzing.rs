//! Fuzz target bodies, shared by `fuzz/fuzz_targets/dev_disconnect_parsing.rs` and the corpus
//! replay test, so a crash found once stays fixed under a plain `cargo test`. Only built with
//! the `fuzzing` feature.

use wire::MsgType;

use crate::dev_disconnect::DevDisconnect;

/// A `--dev-disconnect` file: the input up to the first 0 byte is the file's text; the bytes
/// after it, two at a time, are the types of the messages then sent.
///
/// * Parsing never panics; an error names a line that exists, and its text.
/// * What parses fires each point exactly once, in file order, on the `count`th message of
///   its type while it is first; nothing fires once every point has.
pub fn dev_disconnect_parsing(data: &[u8]) {
    let (file, sends) = match data.iter().position(|&byte| byte == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(file) else {
        return;
    };
    let mut script = match DevDisconnect::parse(text) {
        Ok(script) => script,
        Err(error) => {
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(error.line >= 1 && error.line <= lines.len());
            assert_eq!(lines[error.line - 1].trim_end(), error.text);
            return;
        }
    };
    let points = script.points().to_vec();
    let mut next = 0;
    let mut seen = 0u32;
    for pair in sends.chunks_exact(2) {
        let ty = MsgType(u16::from_be_bytes([pair[0], pair[1]]));
        let expected = match points.get(next) {
            Some(point) if point.ty == ty => {
                seen += 1;
                (seen == point.count).then_some(point)
            }
            _ => None,
        };
        assert_eq!(script.on_send(ty), expected);
        if expected.is_some() {
            next += 1;
            seen = 0;
        }
        assert_eq!(script.is_finished(), next == points.len());
    }
    for point in &points {
        assert!(point.count >= 1);
        assert!(point.line.len() >= 2);
    }
}
