//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz target bodies,
//! so the seeds and every input that once crashed keep passing under a plain `cargo test`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut replayed = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        body(&std::fs::read(&path).unwrap());
        replayed += 1;
    }
    assert!(replayed > 0, "{} holds no inputs", dir.display());
}

#[test]
fn noise_responder_handshake() {
    replay(
        "noise_responder_handshake",
        noise_transport::fuzzing::responder_handshake,
    );
}

#[test]
fn noise_frame_decryption() {
    replay(
        "noise_frame_decryption",
        noise_transport::fuzzing::frame_decryption,
    );
}

#[test]
fn wire_message_decoding() {
    replay("wire_message_decoding", wire::fuzzing::message_decoding);
}

#[test]
fn wire_tlv_decoding() {
    replay("wire_tlv_decoding", wire::fuzzing::tlv_decoding);
}

#[test]
fn rpc_request_parsing() {
    replay("rpc_request_parsing", rpc::fuzzing::request_parsing);
}

#[test]
fn plugin_manifest_parsing() {
    replay(
        "plugin_manifest_parsing",
        plugin_host::fuzzing::manifest_parsing,
    );
}

#[test]
fn runes_parsing() {
    replay("runes_parsing", runes::fuzzing::rune_parsing_and_checking);
}

#[test]
fn commando_chunks() {
    replay("commando_chunks", commando::fuzzing::chunk_reassembly);
}

#[test]
fn dev_disconnect_parsing() {
    replay(
        "dev_disconnect_parsing",
        peer_protocol::fuzzing::dev_disconnect_parsing,
    );
}

#[test]
fn lsps0_message() {
    replay("lsps0_message", lsps0::fuzzing::message);
}

#[test]
fn onion_message_decoding() {
    replay(
        "onion_message_decoding",
        onion_message::fuzzing::onion_message_decoding,
    );
}

#[test]
fn blinded_path_decoding() {
    replay(
        "blinded_path_decoding",
        onion_message::fuzzing::blinded_path_decoding,
    );
}
