//! Fuzz target bodies, shared by `fuzz/fuzz_targets/lsps0_message.rs` and the corpus replay
//! test, so a crash found once stays fixed under a plain `cargo test`. Only built with the
//! `fuzzing` feature.

use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use crate::client::{Client, ClientEvent};
use crate::error::{code, BadMessage};
use crate::list_protocols;
use crate::message::Id;
use crate::parse::{parse_for_client, parse_for_service, LspMessage, RequestRejected};
use crate::service::{Service, ServiceAction, ServiceConfig};
use crate::MAX_PAYLOAD_BYTES;

/// The entropy of the client's pending request, so its id (32 zeros) is one the fuzzer can
/// find and answer.
const ENTROPY: [u8; 16] = [0; 16];

/// One payload of message 37913, read by both sides and fed to a [`Service`] and a
/// [`Client`].
///
/// * Both parsers agree with serde_json: whatever either accepts is exactly one JSON object
///   with JSON whitespace around it; a payload with a 0 byte, or that serde_json does not
///   read as one object, is a bad message format on both sides.
/// * What a parser accepts is written back as a payload that parses to the same message and
///   holds no 0 byte.
/// * Every answer the service gives itself is a response a client accepts, with `-32700`
///   and a null id exactly for bad message formats; a forwarded request completed with its
///   own params comes back as a response to its id carrying them.
/// * The client mutes the peer exactly on a bad message format, and finishes its pending
///   request only on a response with its id.
pub fn message(data: &[u8]) {
    let one_object = std::str::from_utf8(data)
        .ok()
        .and_then(|text| serde_json::from_str::<&RawValue>(text).ok())
        .is_some_and(|raw| raw.get().starts_with('{'));
    let has_nul = data.contains(&0);

    let as_service = parse_for_service(data);
    let as_client = parse_for_client(data);
    if has_nul {
        assert!(matches!(
            as_service,
            Err(RequestRejected::BadMessage(BadMessage::NulByte { .. }))
        ));
        assert!(matches!(as_client, Err(BadMessage::NulByte { .. })));
    }
    if !one_object {
        assert!(matches!(as_service, Err(RequestRejected::BadMessage(_))));
        assert!(as_client.is_err());
    }
    if let Ok(request) = &as_service {
        assert!(one_object && !has_nul);
        let payload = request.to_payload();
        assert!(!payload.contains(&0));
        assert_eq!(parse_for_service(&payload).as_ref(), Ok(request));
    }
    if let Ok(message) = &as_client {
        assert!(one_object && !has_nul);
        let payload = match message {
            LspMessage::Response(response) => response.to_payload(),
            LspMessage::Notification(notification) => notification.to_payload(),
        };
        assert!(!payload.contains(&0));
        assert_eq!(parse_for_client(&payload).as_ref(), Ok(message));
        if let LspMessage::Response(response) = message {
            if let Ok(result) = &response.outcome {
                let _ = list_protocols::parse_result(result);
            }
        }
    }

    let now = Instant::now();
    check_service(data, &as_service, ServiceConfig::default(), now);
    let small = ServiceConfig {
        max_request_bytes: 64,
        ..ServiceConfig::default()
    };
    check_service(data, &as_service, small, now);
    check_client(data, &as_client, now);
}

fn check_service(
    data: &[u8],
    parsed: &Result<crate::Request, RequestRejected>,
    config: ServiceConfig,
    now: Instant,
) {
    let max_request_bytes = config.max_request_bytes;
    let mut service: Service<u8, u8> = Service::new(config);
    for (method, protocol) in [("lsps2.get_info", 2), ("lsps2.buy", 2), ("m", 7)] {
        if service.register(method, 0, protocol).is_err() {
            panic!("registering {method}");
        }
    }
    let action = service.receive(&1, data, now);
    let payload = match &action {
        ServiceAction::Answer(payload) | ServiceAction::Refuse { payload, .. } => payload,
        ServiceAction::Forward(forward) => {
            assert!(data.len() <= max_request_bytes);
            assert_eq!(parsed.as_ref().ok(), Some(&forward.request));
            let params = forward.request.params().to_owned();
            let Ok(reply) = service.complete(forward.handle, Ok(&params)) else {
                panic!("a forwarded request is pending");
            };
            assert_eq!(&reply.id, forward.request.id());
            let Ok(LspMessage::Response(response)) = parse_for_client(&reply.payload) else {
                panic!("the reply is not a response");
            };
            assert_eq!(response.id.as_ref(), Some(forward.request.id()));
            if reply.fault.is_none() {
                let result = response.outcome.as_ref().map(|r| r.get());
                assert_eq!(result, Ok(params.get()));
            }
            assert_eq!(service.pending_for(&1), 0);
            return;
        }
    };
    assert!(payload.len() <= MAX_PAYLOAD_BYTES);
    let Ok(LspMessage::Response(response)) = parse_for_client(payload) else {
        panic!("the service's answer is not a response");
    };
    let bad_message = matches!(parsed, Err(RequestRejected::BadMessage(_)))
        && data.len() <= MAX_PAYLOAD_BYTES.max(max_request_bytes);
    let code = response.outcome.as_ref().err().map(|error| error.code);
    assert_eq!(code == Some(code::PARSE_ERROR), bad_message);
    if bad_message {
        assert_eq!(response.id, None);
    }
    if let Ok(request) = parsed {
        if data.len() <= max_request_bytes {
            assert_eq!(response.id.as_ref(), Some(request.id()));
        }
    }
}

fn check_client(data: &[u8], parsed: &Result<LspMessage, BadMessage>, now: Instant) {
    let mut client: Client<u8> = Client::new();
    let params = list_protocols::params();
    let Ok(started) = client.start(
        1,
        list_protocols::METHOD,
        &params,
        now,
        Duration::from_secs(60),
        ENTROPY,
    ) else {
        panic!("starting a request");
    };
    let ours = |id: &Option<Id>| id.as_ref() == Some(&started.id);
    let event = client.receive(&1, data, now);
    assert_eq!(client.is_muted(&1), parsed.is_err());
    match (event, parsed) {
        (ClientEvent::BadMessage(bad), Err(expected)) => assert_eq!(&bad, expected),
        (ClientEvent::Answered { request, .. }, Ok(LspMessage::Response(response))) => {
            assert!(ours(&response.id));
            assert_eq!(request.id, started.id);
            assert!(!client.is_pending(&started.id));
        }
        (ClientEvent::Ignored(_), Ok(LspMessage::Response(response))) => {
            assert!(!ours(&response.id));
            assert!(client.is_pending(&started.id));
        }
        (ClientEvent::Notification(got), Ok(LspMessage::Notification(expected))) => {
            assert_eq!(&got, expected);
        }
        (event, parsed) => panic!("{event:?} for {parsed:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blips_examples_and_typical_payloads_run_clean() {
        let payloads: [&[u8]; 12] = [
            b" { } ",
            b"{",
            b" [ ] ",
            b" { } { ",
            b" { } { }",
            b"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"m\"}\0",
            br#"{"jsonrpc":"2.0","id":"a","method":"lsps0.list_protocols","params":{}}"#,
            br#"{"jsonrpc":"2.0","id":"a","method":"lsps0.list_protocols","params":{"x":1}}"#,
            br#"{"jsonrpc":"2.0","id":"a","method":"lsps2.get_info","params":{"token":"t"}}"#,
            br#"{"jsonrpc":"2.0","id":"00000000000000000000000000000000","result":{"protocols":[2]}}"#,
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error","data":null}}"#,
            br#"{"jsonrpc":"2.0","method":"lsps5.webhook_registered","params":{}}"#,
        ];
        for payload in payloads {
            message(payload);
            for len in 0..payload.len() {
                message(&payload[..len]);
            }
        }
    }

    #[test]
    fn pseudo_random_mutations_run_clean() {
        // A stand-in for the fuzzer on stable (xorshift): valid messages with bytes changed,
        // inserted and removed.
        let seeds: [&[u8]; 3] = [
            br#"{"jsonrpc":"2.0","id":"a","method":"lsps2.buy","params":{"k":[1,{"x":null}]}}"#,
            br#"{"jsonrpc":"2.0","id":"00000000000000000000000000000000","error":{"code":1,"message":"Client rejected","data":{"message":"no"}}}"#,
            br#"{"jsonrpc":"2.0","method":"n","params":{}}"#,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b" \t\r\n{}[]\",:0-1\\ua\0\xff";
        for _ in 0..3000 {
            let seed = seeds[(next() % 3) as usize];
            let mut input = seed.to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % (input.len() + 1);
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if at < input.len() => input[at] = byte,
                    1 => input.insert(at, byte),
                    _ if at < input.len() => {
                        input.remove(at);
                    }
                    _ => {}
                }
            }
            message(&input);
        }
    }
}
