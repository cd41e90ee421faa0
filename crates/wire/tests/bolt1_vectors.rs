#![allow(clippy::unwrap_used)]
//! BOLT 1 Appendices A (BigSize), B (TLV) and C (message extension), verbatim from
//! lightning/bolts `01-messaging.md`. Vectors keep the spec's names and reasons; the spec's
//! `exp_error` strings are lnd's Go errors, so we assert on the error kind instead.

use secp256k1::PublicKey;
use wire::{
    decode_message, decode_tu32, decode_tu64, BigSize, Decode, DecodeError, Encode, Init, Message,
    Reader, TlvRecord, TlvStream,
};

/// Hex as the spec writes it: optional `0x`, spaces between fields.
fn bytes(spec_hex: &str) -> Vec<u8> {
    let digits: String = spec_hex
        .trim_start_matches("0x")
        .split_whitespace()
        .collect();
    hex::decode(digits).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Appendix A: BigSize
// ---------------------------------------------------------------------------------------------

/// The outcome a vector expects, as a function of the field name the decoder reports.
type Expected<T> = Result<T, fn(&'static str) -> DecodeError>;

fn non_canonical(field: &'static str) -> DecodeError {
    DecodeError::NonCanonicalBigSize { field }
}
fn truncated(field: &'static str) -> DecodeError {
    DecodeError::Truncated { field }
}
fn empty(field: &'static str) -> DecodeError {
    DecodeError::Empty { field }
}
fn trailing(field: &'static str) -> DecodeError {
    DecodeError::TrailingBytes { field }
}

#[test]
fn bigsize_decoding() {
    let vectors: [(&str, &str, Expected<u64>); 18] = [
        ("zero", "00", Ok(0)),
        ("one byte high", "fc", Ok(252)),
        ("two byte low", "fd00fd", Ok(253)),
        ("two byte high", "fdffff", Ok(65535)),
        ("four byte low", "fe00010000", Ok(65536)),
        ("four byte high", "feffffffff", Ok(4294967295)),
        ("eight byte low", "ff0000000100000000", Ok(4294967296)),
        (
            "eight byte high",
            "ffffffffffffffffff",
            Ok(18446744073709551615),
        ),
        ("two byte not canonical", "fd00fc", Err(non_canonical)),
        ("four byte not canonical", "fe0000ffff", Err(non_canonical)),
        (
            "eight byte not canonical",
            "ff00000000ffffffff",
            Err(non_canonical),
        ),
        ("two byte short read", "fd00", Err(truncated)),
        ("four byte short read", "feffff", Err(truncated)),
        ("eight byte short read", "ffffffffff", Err(truncated)),
        ("one byte no read", "", Err(empty)),
        ("two byte no read", "fd", Err(truncated)),
        ("four byte no read", "fe", Err(truncated)),
        ("eight byte no read", "ff", Err(truncated)),
    ];
    for (name, hex, expected) in vectors {
        let input = bytes(hex);
        let mut r = Reader::new(&input);
        let decoded = BigSize::decode(&mut r).map(|value| value.0);
        assert_eq!(decoded, expected.map_err(|kind| kind("bigsize")), "{name}");
        if decoded.is_ok() {
            assert!(r.is_empty(), "{name}: bytes left over");
        }
    }
}

#[test]
fn bigsize_encoding() {
    let vectors: [(&str, u64, &str); 8] = [
        ("zero", 0, "00"),
        ("one byte high", 252, "fc"),
        ("two byte low", 253, "fd00fd"),
        ("two byte high", 65535, "fdffff"),
        ("four byte low", 65536, "fe00010000"),
        ("four byte high", 4294967295, "feffffffff"),
        ("eight byte low", 4294967296, "ff0000000100000000"),
        (
            "eight byte high",
            18446744073709551615,
            "ffffffffffffffffff",
        ),
    ];
    for (name, value, hex) in vectors {
        assert_eq!(BigSize(value).to_bytes(), bytes(hex), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Appendix B: TLV, with the spec's two test namespaces
// ---------------------------------------------------------------------------------------------

/// `short_channel_id` (BOLT 7): block height, transaction index, output index.
#[derive(Debug, PartialEq, Eq)]
struct ShortChannelId {
    block: u32,
    tx: u32,
    output: u16,
}

/// Namespace `n1`: 1 `tlv1` (tu64), 2 `tlv2` (scid), 3 `tlv3` (point, u64, u64),
/// 254 `tlv4` (u16).
#[derive(Debug, Default, PartialEq, Eq)]
struct N1 {
    tlv1_amount_msat: Option<u64>,
    tlv2_scid: Option<ShortChannelId>,
    tlv3: Option<(PublicKey, u64, u64)>,
    tlv4_cltv_delta: Option<u16>,
}

fn decode_n1(input: &[u8]) -> Result<N1, DecodeError> {
    let stream = TlvStream::decode(&mut Reader::new(input), &[1, 2, 3, 254], "n1")?;
    assert_eq!(
        stream.to_bytes(),
        input,
        "a decoded stream re-encodes exactly"
    );
    let mut n1 = N1::default();
    if let Some(value) = stream.get(1) {
        n1.tlv1_amount_msat = Some(decode_tu64(value, "n1.tlv1")?);
    }
    if let Some(value) = stream.get(2) {
        let mut r = Reader::new(value);
        let scid = r.read_u64("n1.tlv2")?;
        r.finish("n1.tlv2")?;
        n1.tlv2_scid = Some(ShortChannelId {
            block: (scid >> 40) as u32,
            tx: ((scid >> 16) & 0xff_ffff) as u32,
            output: scid as u16,
        });
    }
    if let Some(value) = stream.get(3) {
        let mut r = Reader::new(value);
        let point = r.read_array::<33>("n1.tlv3.node_id")?;
        let node_id = PublicKey::from_slice(&point).map_err(|_| DecodeError::InvalidValue {
            field: "n1.tlv3.node_id",
        })?;
        let amount_msat_1 = r.read_u64("n1.tlv3.amount_msat_1")?;
        let amount_msat_2 = r.read_u64("n1.tlv3.amount_msat_2")?;
        r.finish("n1.tlv3")?;
        n1.tlv3 = Some((node_id, amount_msat_1, amount_msat_2));
    }
    if let Some(value) = stream.get(254) {
        let mut r = Reader::new(value);
        let cltv_delta = r.read_u16("n1.tlv4")?;
        r.finish("n1.tlv4")?;
        n1.tlv4_cltv_delta = Some(cltv_delta);
    }
    Ok(n1)
}

/// Namespace `n2`: 0 `tlv1` (tu64), 11 `tlv2` (tu32).
#[derive(Debug, Default, PartialEq, Eq)]
struct N2 {
    tlv1_amount_msat: Option<u64>,
    tlv2_cltv_expiry: Option<u32>,
}

fn decode_n2(input: &[u8]) -> Result<N2, DecodeError> {
    let stream = TlvStream::decode(&mut Reader::new(input), &[0, 11], "n2")?;
    assert_eq!(
        stream.to_bytes(),
        input,
        "a decoded stream re-encodes exactly"
    );
    Ok(N2 {
        tlv1_amount_msat: stream
            .get(0)
            .map(|v| decode_tu64(v, "n2.tlv1"))
            .transpose()?,
        tlv2_cltv_expiry: stream
            .get(11)
            .map(|v| decode_tu32(v, "n2.tlv2"))
            .transpose()?,
    })
}

/// A failure vector: spec hex, spec reason, and the error we expect (given the namespace's
/// stream name, for the errors that report it).
type Failure = (String, &'static str, fn(&'static str) -> DecodeError);

fn failure(hex: &str, reason: &'static str, error: fn(&'static str) -> DecodeError) -> Failure {
    (hex.to_owned(), reason, error)
}

/// "The following TLV streams in any namespace should trigger a decoding failure".
fn any_namespace_failures() -> Vec<Failure> {
    vec![
        failure("0xfd", "type truncated", truncated),
        failure("0xfd01", "type truncated", truncated),
        failure("0xfd0001 00", "not minimally encoded type", non_canonical),
        failure("0xfd0101", "missing length", truncated),
        failure("0x0f fd", "(length truncated)", truncated),
        failure("0x0f fd26", "(length truncated)", truncated),
        failure("0x0f fd2602", "missing value", truncated),
        failure(
            "0x0f fd0001 00",
            "not minimally encoded length",
            non_canonical,
        ),
        // The spec's vector: a length of 513 followed by 258 zero bytes.
        failure(
            &format!("0x0f fd0201 {}", "00".repeat(258)),
            "value truncated",
            truncated,
        ),
    ]
}

/// "The following TLV streams in either namespace should trigger a decoding failure".
fn either_namespace_failures() -> Vec<Failure> {
    vec![
        failure("0x12 00", "unknown even type.", |field| {
            DecodeError::UnknownEvenTlv { field, ty: 0x12 }
        }),
        failure("0xfd0102 00", "unknown even type.", |field| {
            DecodeError::UnknownEvenTlv { field, ty: 0x0102 }
        }),
        failure("0xfe01000002 00", "unknown even type.", |field| {
            DecodeError::UnknownEvenTlv {
                field,
                ty: 0x0100_0002,
            }
        }),
        failure("0xff0100000000000002 00", "unknown even type.", |field| {
            DecodeError::UnknownEvenTlv {
                field,
                ty: 0x0100_0000_0000_0002,
            }
        }),
    ]
}

/// "The following TLV streams in namespace `n1` should trigger a decoding failure". The
/// error names the field our `n1` decoder was reading.
fn n1_failures() -> Vec<Failure> {
    let tlv1_not_minimal = |_| DecodeError::NonMinimalInteger { field: "n1.tlv1" };
    let mut failures = vec![failure(
        "0x01 09 ffffffffffffffffff",
        "greater than encoding length for `n1`s `tlv1`.",
        |_| DecodeError::InvalidLength { field: "n1.tlv1" },
    )];
    for hex in [
        "0x01 01 00",
        "0x01 02 0001",
        "0x01 03 000100",
        "0x01 04 00010000",
        "0x01 05 0001000000",
        "0x01 06 000100000000",
        "0x01 07 00010000000000",
        "0x01 08 0001000000000000",
    ] {
        failures.push(failure(
            hex,
            "encoding for `n1`s `tlv1`s `amount_msat` is not minimal",
            tlv1_not_minimal,
        ));
    }
    let point = "023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb";
    failures.extend([
        failure(
            "0x02 07 01010101010101",
            "less than encoding length for `n1`s `tlv2`.",
            |_| truncated("n1.tlv2"),
        ),
        failure(
            "0x02 09 010101010101010101",
            "greater than encoding length for `n1`s `tlv2`.",
            |_| trailing("n1.tlv2"),
        ),
        failure(
            &format!("0x03 21 {point}"),
            "less than encoding length for `n1`s `tlv3`.",
            |_| truncated("n1.tlv3.amount_msat_1"),
        ),
        failure(
            &format!("0x03 29 {point}0000000000000001"),
            "less than encoding length for `n1`s `tlv3`.",
            |_| truncated("n1.tlv3.amount_msat_2"),
        ),
        failure(
            &format!("0x03 30 {point}000000000000000100000000000001"),
            "less than encoding length for `n1`s `tlv3`.",
            |_| truncated("n1.tlv3.amount_msat_2"),
        ),
        failure(
            "0x03 31 043da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb00000000000000010000000000000002",
            "`n1`s `node_id` is not a valid point.",
            |_| DecodeError::InvalidValue {
                field: "n1.tlv3.node_id",
            },
        ),
        failure(
            &format!("0x03 32 {point}0000000000000001000000000000000001"),
            "greater than encoding length for `n1`s `tlv3`.",
            |_| trailing("n1.tlv3"),
        ),
        failure(
            "0xfd00fe 00",
            "less than encoding length for `n1`s `tlv4`.",
            |_| truncated("n1.tlv4"),
        ),
        failure(
            "0xfd00fe 01 01",
            "less than encoding length for `n1`s `tlv4`.",
            |_| truncated("n1.tlv4"),
        ),
        failure(
            "0xfd00fe 03 010101",
            "greater than encoding length for `n1`s `tlv4`.",
            |_| trailing("n1.tlv4"),
        ),
        failure(
            "0x00 00",
            "unknown even field for `n1`s namespace.",
            |field| DecodeError::UnknownEvenTlv { field, ty: 0 },
        ),
    ]);
    failures
}

/// "TLV Stream Decoding Failure" for `n1`.
fn n1_stream_failures() -> Vec<Failure> {
    vec![
        failure(
            "0x02 08 0000000000000226 01 01 2a",
            "valid TLV records but invalid ordering",
            |field| DecodeError::TlvNotIncreasing {
                field,
                previous: 2,
                ty: 1,
            },
        ),
        failure(
            "0x02 08 0000000000000231 02 08 0000000000000451",
            "duplicate TLV type",
            |field| DecodeError::TlvNotIncreasing {
                field,
                previous: 2,
                ty: 2,
            },
        ),
        failure(
            "0x1f 00 0f 01 2a",
            "valid (ignored) TLV records but invalid ordering",
            |field| DecodeError::TlvNotIncreasing {
                field,
                previous: 0x1f,
                ty: 0x0f,
            },
        ),
        failure(
            "0x1f 00 1f 01 2a",
            "duplicate TLV type (ignored)",
            |field| DecodeError::TlvNotIncreasing {
                field,
                previous: 0x1f,
                ty: 0x1f,
            },
        ),
    ]
}

/// "TLV Stream Decoding Failure" for `n2`.
fn n2_stream_failures() -> Vec<Failure> {
    vec![failure(
        "0xffffffffffffffffff 00 00 00",
        "valid TLV records but invalid ordering",
        |field| DecodeError::TlvNotIncreasing {
            field,
            previous: u64::MAX,
            ty: 0,
        },
    )]
}

/// "The following TLV streams in either namespace should correctly decode, and be ignored".
const IGNORED_IN_EITHER_NAMESPACE: [(&str, &str); 7] = [
    ("0x", "empty message"),
    ("0x21 00", "Unknown odd type."),
    ("0xfd0201 00", "Unknown odd type."),
    ("0xfd00fd 00", "Unknown odd type."),
    ("0xfd00ff 00", "Unknown odd type."),
    ("0xfe02000001 00", "Unknown odd type."),
    ("0xff0200000000000001 00", "Unknown odd type."),
];

/// "The following TLV streams in `n1` namespace should correctly decode, with the values
/// given here".
fn n1_successes() -> Vec<(&'static str, N1)> {
    let amount = |amount_msat| N1 {
        tlv1_amount_msat: Some(amount_msat),
        ..N1::default()
    };
    let node_id = bytes("023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb");
    vec![
        ("0x01 00", amount(0)),
        ("0x01 01 01", amount(1)),
        ("0x01 02 0100", amount(256)),
        ("0x01 03 010000", amount(65536)),
        ("0x01 04 01000000", amount(16777216)),
        ("0x01 05 0100000000", amount(4294967296)),
        ("0x01 06 010000000000", amount(1099511627776)),
        ("0x01 07 01000000000000", amount(281474976710656)),
        ("0x01 08 0100000000000000", amount(72057594037927936)),
        (
            "0x02 08 0000000000000226",
            N1 {
                tlv2_scid: Some(ShortChannelId {
                    block: 0,
                    tx: 0,
                    output: 550,
                }),
                ..N1::default()
            },
        ),
        (
            "0x03 31 023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb00000000000000010000000000000002",
            N1 {
                tlv3: Some((PublicKey::from_slice(&node_id).unwrap(), 1, 2)),
                ..N1::default()
            },
        ),
        (
            "0xfd00fe 02 0226",
            N1 {
                tlv4_cltv_delta: Some(550),
                ..N1::default()
            },
        ),
    ]
}

/// The spec's "any namespace" and "either namespace" failure lists both hold in n1 and n2.
#[test]
fn tlv_decoding_failures_in_any_or_either_namespace() {
    for (hex, reason, error) in any_namespace_failures()
        .into_iter()
        .chain(either_namespace_failures())
    {
        assert_eq!(
            decode_n1(&bytes(&hex)).unwrap_err(),
            error("n1"),
            "n1 {hex}: {reason}"
        );
        assert_eq!(
            decode_n2(&bytes(&hex)).unwrap_err(),
            error("n2"),
            "n2 {hex}: {reason}"
        );
    }
}

#[test]
fn tlv_decoding_failures_in_n1() {
    for (hex, reason, error) in n1_failures() {
        assert_eq!(
            decode_n1(&bytes(&hex)).unwrap_err(),
            error("n1"),
            "{hex}: {reason}"
        );
    }
}

/// `0x00 00` fails in `n1` only because `n1` does not define type 0; `n2` does (a `tu64`
/// of zero).
#[test]
fn tlv_type_zero_is_known_in_n2() {
    let n2 = decode_n2(&bytes("0x00 00")).unwrap();
    assert_eq!(n2.tlv1_amount_msat, Some(0));
}

#[test]
fn tlv_decoding_successes_ignored_in_either_namespace() {
    for (hex, explanation) in IGNORED_IN_EITHER_NAMESPACE {
        assert_eq!(
            decode_n1(&bytes(hex)),
            Ok(N1::default()),
            "n1 {hex}: {explanation}"
        );
        assert_eq!(
            decode_n2(&bytes(hex)),
            Ok(N2::default()),
            "n2 {hex}: {explanation}"
        );
    }
}

#[test]
fn tlv_decoding_successes_in_n1() {
    for (hex, values) in n1_successes() {
        assert_eq!(decode_n1(&bytes(hex)), Ok(values), "{hex}");
    }
}

#[test]
fn tlv_stream_decoding_failures() {
    for (hex, reason, error) in n1_stream_failures() {
        assert_eq!(
            decode_n1(&bytes(&hex)).unwrap_err(),
            error("n1"),
            "n1 {hex}: {reason}"
        );
    }
    for (hex, reason, error) in n2_stream_failures() {
        assert_eq!(
            decode_n2(&bytes(&hex)).unwrap_err(),
            error("n2"),
            "n2 {hex}: {reason}"
        );
    }
}

/// The types a valid stream holds, in order.
fn types_of(stream: &[u8]) -> Vec<u64> {
    TlvStream::decode(&mut Reader::new(stream), &[0, 1, 2, 3, 11, 254], "types")
        .unwrap()
        .records()
        .iter()
        .map(|record| record.ty)
        .collect()
}

/// "Any appending of an invalid stream to a valid stream should trigger a decoding failure.
/// Any appending of a higher-numbered valid stream to a lower-numbered valid stream should
/// not trigger a decoding failure." (Appending a lower- or equal-numbered one must fail.)
#[test]
fn tlv_stream_appending_in_n1() {
    let valid: Vec<Vec<u8>> = IGNORED_IN_EITHER_NAMESPACE
        .iter()
        .map(|(hex, _)| bytes(hex))
        .chain(n1_successes().iter().map(|(hex, _)| bytes(hex)))
        .collect();
    let invalid: Vec<Failure> = [
        any_namespace_failures(),
        either_namespace_failures(),
        n1_failures(),
        n1_stream_failures(),
    ]
    .concat();

    for first in &valid {
        for (hex, reason, _) in &invalid {
            let stream = [first.clone(), bytes(hex)].concat();
            assert!(
                decode_n1(&stream).is_err(),
                "{first:02x?} + {hex}: {reason}"
            );
        }
        for second in &valid {
            let (Some(last), Some(next)) =
                (types_of(first).pop(), types_of(second).first().copied())
            else {
                continue;
            };
            let stream = [first.as_slice(), second].concat();
            if last < next {
                assert!(decode_n1(&stream).is_ok(), "{stream:02x?} is in order");
            } else {
                assert_eq!(
                    decode_n1(&stream).unwrap_err(),
                    DecodeError::TlvNotIncreasing {
                        field: "n1",
                        previous: last,
                        ty: next
                    }
                );
            }
        }
    }
}

#[test]
fn tlv_stream_appending_in_n2() {
    let valid: Vec<Vec<u8>> = IGNORED_IN_EITHER_NAMESPACE
        .iter()
        .map(|(hex, _)| bytes(hex))
        .chain(["0x00 01 2a", "0x0b 02 0102"].map(bytes))
        .collect();
    let invalid: Vec<Failure> = [
        any_namespace_failures(),
        either_namespace_failures(),
        n2_stream_failures(),
    ]
    .concat();
    for first in &valid {
        for (hex, reason, _) in &invalid {
            let stream = [first.clone(), bytes(hex)].concat();
            assert!(
                decode_n2(&stream).is_err(),
                "{first:02x?} + {hex}: {reason}"
            );
        }
    }
    let n2 = decode_n2(&bytes("0x00 01 2a 0b 02 0102 21 00")).unwrap();
    assert_eq!(
        n2,
        N2 {
            tlv1_amount_msat: Some(42),
            tlv2_cltv_expiry: Some(0x0102),
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Appendix C: message extension, on `init`
// ---------------------------------------------------------------------------------------------

#[test]
fn init_no_extension_provided() {
    let input = bytes("0x001000000000");
    let message = decode_message(&input).unwrap();
    assert_eq!(message, Message::Init(Init::default()));
    assert_eq!(message.to_bytes(), input);
}

#[test]
fn init_extension_with_two_unknown_odd_tlv_records() {
    let input = bytes("0x001000000000c9012acb0104");
    let Message::Init(init) = decode_message(&input).unwrap() else {
        panic!("not an init");
    };
    assert_eq!(
        init.unknown_tlvs.records(),
        [
            TlvRecord {
                ty: 0xc9,
                value: vec![0x2a]
            },
            TlvRecord {
                ty: 0xcb,
                value: vec![0x04]
            },
        ]
    );
    assert_eq!(Message::Init(init).to_bytes(), input);
}

#[test]
fn init_extension_present_but_truncated() {
    assert_eq!(
        decode_message(&bytes("0x00100000000001")),
        Err(DecodeError::Truncated { field: "init.tlvs" })
    );
}

#[test]
fn init_extension_with_unknown_even_tlv_record() {
    assert_eq!(
        decode_message(&bytes("0x001000000000ca012a")),
        Err(DecodeError::UnknownEvenTlv {
            field: "init.tlvs",
            ty: 0xca
        })
    );
}

#[test]
fn init_extension_with_duplicate_tlv_record() {
    assert_eq!(
        decode_message(&bytes("0x001000000000c90101c90102")),
        Err(DecodeError::TlvNotIncreasing {
            field: "init.tlvs",
            previous: 0xc9,
            ty: 0xc9
        })
    );
}
