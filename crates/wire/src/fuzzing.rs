//! Fuzz target bodies, shared by `fuzz/fuzz_targets/*` and the corpus replay tests, so a crash
//! found once stays fixed under a plain `cargo test`. Only built with the `fuzzing` feature.

use crate::{decode_message, BigSize, Encode, Reader, TlvStream};

/// Message decoding: any input either fails with an error or decodes to a message that
/// re-encodes to exactly the input.
pub fn message_decoding(data: &[u8]) {
    if let Ok(message) = decode_message(data) {
        assert_eq!(message.to_bytes(), data, "re-encoding changed the message");
    }
}

/// TLV stream decoding. The first byte, if any, is a type the namespace knows (so known even
/// types are reachable); the rest is the stream. What decodes must re-encode to the input.
pub fn tlv_decoding(data: &[u8]) {
    let Some((&known, stream)) = data.split_first() else {
        return;
    };
    let mut reader = Reader::new(stream);
    if let Ok(tlvs) = TlvStream::decode(&mut reader, &[u64::from(known)], "fuzz") {
        assert!(
            reader.is_empty(),
            "a TLV stream runs to the end of its input"
        );
        assert_eq!(tlvs.to_bytes(), stream, "re-encoding changed the stream");
    }
    let mut reader = Reader::new(data);
    if let Ok(BigSize(value)) = crate::Decode::decode(&mut reader) {
        let consumed = data.len() - reader.remaining();
        assert_eq!(BigSize(value).to_bytes(), data[..consumed]);
    }
}
