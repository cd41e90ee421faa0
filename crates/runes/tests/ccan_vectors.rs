//! CLN's ccan rune test vectors (`ccan/ccan/rune/test/test_vectors.csv`, secret = 16 zero
//! bytes), run the way ccan's `test/run.c` runs them. Row kinds:
//!
//! - `VALID,desc,string,base64[,unique_id[,version]]`: both forms decode to the same rune,
//!   re-encode exactly, and derive from the master.
//! - `PASS[,f=v…]` / `FAIL[,f=v…]`: the latest rune against those fields (a whole base-10
//!   integer is an integer field, anything else a string).
//! - `DERIVE,desc,from,to,field,cond,value[,…]`: appending that restriction to `from` is `to`.
//! - `MALFORMED,desc,string,base64`: neither decodes.
//! - `BAD DERIVATION,desc,string,base64`: decodes, but is not derived from the master.
#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions: a panic is a failed test.

use runes::{Alternative, Condition, DecodeError, FieldValue, Restriction, RestrictionError, Rune};

const VECTORS: &str = include_str!("data/test_vectors.csv");

/// The master a rune must derive from, ignoring versions as ccan's
/// `rune_is_derived_anyversion` does (the master's authcode does not depend on its version).
fn master_for(rune: &Rune) -> Rune {
    match rune.version() {
        Some(version) => Rune::master_with_version(&[0; 16], version).unwrap(),
        None => Rune::master(&[0; 16]).unwrap(),
    }
}

/// run.c's field lookup: the last `name=value` part for the field, typed by `strtol`.
fn field<'a>(parts: &[&'a str], name: &str) -> FieldValue<'a> {
    let mut found = FieldValue::Missing;
    for part in parts {
        if let Some(value) = part.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            found = match value
                .trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}'])
                .parse()
            {
                Ok(i) => FieldValue::Int(i),
                Err(_) => FieldValue::Str(value),
            };
        }
    }
    found
}

/// Why each MALFORMED row is malformed, from its description.
fn malformed_reason(description: &str) -> DecodeError {
    let reason = if description.starts_with("unique id must use = not") {
        RestrictionError::UniqueIdCondition
    } else if description.ends_with("cannot be overridden") {
        RestrictionError::UniqueIdNotFirst
    } else if let Some(c) = description.strip_prefix("Bad condition ") {
        RestrictionError::InvalidCondition(c.chars().next().unwrap())
    } else {
        panic!("unexpected MALFORMED row {description}")
    };
    DecodeError::Restriction(reason)
}

#[derive(Default, Debug)]
struct Counts {
    valid: usize,
    pass: usize,
    fail: usize,
    derive: usize,
    malformed: usize,
    bad_derivation: usize,
}

#[test]
fn ccan_test_vectors() {
    let mut counts = Counts::default();
    let mut current: Option<Rune> = None;
    for (n, line) in VECTORS.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let line_no = n + 1;
        let parts: Vec<&str> = line.split(',').collect();
        match parts[0] {
            "VALID" => {
                let from_string = Rune::from_string_form(parts[2]).unwrap();
                let from_base64 = Rune::from_base64(parts[3]).unwrap();
                assert_eq!(from_string, from_base64, "line {line_no}");
                assert_eq!(from_base64.to_string_form(), parts[2], "line {line_no}");
                assert_eq!(from_string.to_base64(), parts[3], "line {line_no}");
                assert_eq!(
                    from_string.check_derivation(&master_for(&from_string)),
                    Ok(()),
                    "line {line_no}"
                );
                assert_eq!(
                    from_string.unique_id(),
                    parts.get(4).copied(),
                    "line {line_no}"
                );
                assert_eq!(
                    from_string.version(),
                    parts.get(5).copied(),
                    "line {line_no}"
                );
                current = Some(from_string);
                counts.valid += 1;
            }
            "DERIVE" => {
                let mut from = Rune::from_base64(parts[2]).unwrap();
                let to = Rune::from_base64(parts[3]).unwrap();
                assert_eq!(
                    from.check_derivation(&master_for(&from)),
                    Ok(()),
                    "line {line_no}"
                );
                assert_eq!(
                    to.check_derivation(&master_for(&to)),
                    Ok(()),
                    "line {line_no}"
                );
                if from.version() == to.version() {
                    assert_eq!(to.check_derivation(&from), Ok(()), "line {line_no}");
                }
                let alternatives = parts[4..]
                    .chunks(3)
                    .map(|alt| {
                        let condition =
                            Condition::from_char(alt[1].chars().next().unwrap()).unwrap();
                        Alternative::new(alt[0], condition, alt[2]).unwrap()
                    })
                    .collect();
                from.append(Restriction::new(alternatives).unwrap())
                    .unwrap();
                assert_eq!(from, to, "line {line_no}");
                assert_eq!(from.to_base64(), parts[3], "line {line_no}");
                current = Some(from);
                counts.derive += 1;
            }
            "MALFORMED" => {
                let expected = malformed_reason(parts[1]);
                assert_eq!(
                    Rune::from_string_form(parts[2]),
                    Err(expected.clone()),
                    "line {line_no}"
                );
                assert_eq!(Rune::from_base64(parts[3]), Err(expected), "line {line_no}");
                counts.malformed += 1;
            }
            "BAD DERIVATION" => {
                let from_string = Rune::from_string_form(parts[2]).unwrap();
                let from_base64 = Rune::from_base64(parts[3]).unwrap();
                assert_eq!(from_string, from_base64, "line {line_no}");
                let master = Rune::master(&[0; 16]).unwrap();
                assert!(
                    from_string.check_derivation(&master).is_err(),
                    "line {line_no}"
                );
                counts.bad_derivation += 1;
            }
            verdict @ ("PASS" | "FAIL") => {
                let rune = current.as_ref().unwrap();
                let master = Rune::master(&[0; 16]).unwrap();
                let result = rune
                    .check_derivation(&master)
                    .map_err(|e| e.to_string())
                    .and_then(|()| {
                        rune.evaluate(|alt| alt.test(field(&parts[1..], alt.fieldname())))
                            .map_err(|e| e.to_string())
                    });
                if verdict == "PASS" {
                    assert_eq!(result, Ok(()), "line {line_no}: {line}");
                    counts.pass += 1;
                } else {
                    assert!(result.is_err(), "line {line_no}: {line}");
                    counts.fail += 1;
                }
            }
            other => panic!("line {line_no}: unknown row kind {other}"),
        }
    }
    // Every row was run: 156 lines in the file.
    let total = counts.valid
        + counts.pass
        + counts.fail
        + counts.derive
        + counts.malformed
        + counts.bad_derivation;
    assert_eq!(total, 156, "{counts:?}");
    assert_eq!(
        [
            counts.valid,
            counts.pass,
            counts.fail,
            counts.derive,
            counts.malformed,
            counts.bad_derivation
        ],
        [18, 46, 58, 4, 28, 2]
    );
}

/// The failing rows fail with CLN's words (spot checks of ccan's texts on the CSV runes).
#[test]
fn failure_texts_on_vector_runes() {
    let cases = [
        (
            "hcNkPcEC8KDW8g7rjClAkhUWiPrkHvfI7HJyqyORg3ZmMT0xfGYyPTM=",
            vec![],
            "f1 not present AND f2 not present",
        ),
        (
            "hcNkPcEC8KDW8g7rjClAkhUWiPrkHvfI7HJyqyORg3ZmMT0xfGYyPTM=",
            vec!["f1=2", "f2=f1"],
            "f1 is not equal to 1 AND f2 is not equal to 3",
        ),
        (
            "yv9SztuSQdwArqfO_CuJsKdEWxpONMSKWiuR0v520x9mMTx2MQ==",
            vec!["f1=1"],
            "v1 is not a valid integer",
        ),
        (
            "yv9SztuSQdwArqfO_CuJsKdEWxpONMSKWiuR0v520x9mMTx2MQ==",
            vec!["f1=v1"],
            "f1 is not an integer field",
        ),
        (
            "-XdttU-1TI3WryCmWg8hCnUqDuTRsKDn_Z1-9lr3b4RmMTwx",
            vec!["f1=1"],
            "f1 is greater or equal to 1",
        ),
        (
            "hOmZHdlBusl8xoHu_sXdesNmikSQymsPGfDnnSu5x0ZmMT4x",
            vec!["f1=0"],
            "f1 is less or equal to 1",
        ),
        (
            "ZKkmtxhdfPmOEKB9_E6D0qgmiW69sRKslkVm-i1QtGRmMSE=",
            vec!["f1=1"],
            "f1 is present",
        ),
        (
            "uWU60Nytfl7Rg_mM3X5has0HqYzGahB6Z2JikL8AAjZmMXsxMQ==",
            vec!["f1=11"],
            "f1 is equal to or ordered after 11",
        ),
        (
            "jB9sfDm63F3qhQGSoKTG6d2WvzPUEK3FoI_DdbIqGlJmMX0xMQ==",
            vec!["f1=/"],
            "f1 is equal to or ordered before 11",
        ),
        (
            "S253BW1Lragb1CpCSLXYGt9AdrE4iFMlXmnO0alV5vlmMT0xfGYyPTMmZjN-XCZcfFxc",
            vec!["f1=1", "f3=&|"],
            "f3 does not contain &|\\",
        ),
    ];
    for (rune, parts, text) in cases {
        let rune = Rune::from_base64(rune).unwrap();
        let err = rune
            .evaluate(|alt| alt.test(field(&parts, alt.fieldname())))
            .unwrap_err();
        assert_eq!(err.text(), text);
    }
}
