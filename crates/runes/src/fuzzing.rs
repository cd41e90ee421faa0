//! Fuzz target bodies, shared by `fuzz/fuzz_targets/runes_parsing.rs` and the corpus replay
//! test, so a crash found once stays fixed under a plain `cargo test`. Only built with the
//! `fuzzing` feature.

use std::time::Duration;

use serde_json::value::RawValue;

use crate::{
    checkrune, describe, parse_restrictions, parse_rune_param, Alternative, Blacklist,
    CheckRuneError, Condition, Request, Restriction, Rune,
};

/// The input, split at its first three newlines: a rune string (tried as base64 and as the
/// string form), a method, params JSON (for checkrune and, as createrune's `restrictions`,
/// for minting), and the rest (time, node id, last use, blacklist operations).
///
/// Asserts: decoding never panics; what decodes re-encodes to a string that decodes to the
/// same rune (both forms); appending keeps a rune's derivation verdict; a rune minted from
/// the master with any restrictions passes derivation and round-trips; checkrune's verdict
/// is consistent with its parts; the blacklist matches a naive model.
pub fn rune_parsing_and_checking(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let rune_text = parts.next().unwrap_or_default();
    let method = parts.next();
    let params = parts
        .next()
        .and_then(|p| RawValue::from_string(p.to_owned()).ok());
    let rest = parts.next().unwrap_or_default().as_bytes();

    // The CSV vectors' secret, so their runes are ours.
    let master = Rune::master(&[0u8; 16]).expect("16 bytes is within the 55-byte limit");
    let now = Duration::from_secs(1_700_000_000 + u64::from(rest.first().copied().unwrap_or(0)));
    let node_id = [2u8; 33];
    let request = Request {
        node_id: (rest.len() % 2 == 0).then_some(&node_id),
        method,
        params: params.as_deref(),
        now,
    };

    for decoded in [
        Rune::from_base64(rune_text),
        Rune::from_string_form(rune_text),
    ] {
        let Ok(rune) = decoded else { continue };
        round_trip(&rune);
        let verdict = rune.check_derivation(&master);
        if let Some(value) = method {
            if let Ok(alt) = Alternative::new("method", Condition::Equal, value) {
                let mut longer = rune.clone();
                longer
                    .append(Restriction::new(vec![alt]).expect("one alternative"))
                    .expect("not a unique id");
                assert_eq!(
                    longer.check_derivation(&master),
                    verdict,
                    "appending changed derivation"
                );
                round_trip(&longer);
            }
        }
        // The same restrictions minted from the master pass derivation.
        let mut minted = master.derive(1).expect("the master has no restrictions");
        for restriction in rune.tested_restrictions() {
            minted.append(restriction.clone()).expect("not a unique id");
        }
        assert_eq!(minted.check_derivation(&master), Ok(()));
        round_trip(&minted);
        let english = describe(&rune);
        assert_eq!(english.restrictions.len(), rune.tested_restrictions().len());
    }

    if let Some(Ok(restrictions)) = params.as_deref().map(parse_restrictions) {
        let mut minted = master.derive(2).expect("the master has no restrictions");
        for restriction in restrictions {
            minted
                .append(restriction)
                .expect("createrune makes no unique id");
        }
        round_trip(&minted);
        // Ours, and id 2 is not blacklisted: only a restriction can refuse it.
        let result = checkrune(
            &master,
            &Blacklist::new(),
            &minted.to_base64(),
            &request,
            |_| None,
        );
        assert!(
            matches!(
                result,
                Ok(_) | Err(CheckRuneError::NotPermitted(_) | CheckRuneError::InvalidParams(_))
            ),
            "{result:?}"
        );
    }

    let mut blacklist = Blacklist::new();
    blacklist
        .apply(Some(5), Some(9), false)
        .expect("a valid range");
    let last_used = now.saturating_sub(Duration::from_secs(u64::from(
        rest.get(1).copied().unwrap_or(0),
    )));
    let result = checkrune(&master, &blacklist, rune_text, &request, |_| {
        Some(last_used)
    });
    match &result {
        Ok(authorized) => {
            let (rune, id) = parse_rune_param(rune_text).expect("checkrune parsed it");
            assert_eq!(id, authorized.unique_id);
            assert!(!blacklist.contains(id));
            assert_eq!(rune.check_derivation(&master), Ok(()));
        }
        Err(CheckRuneError::NotPermitted(text)) => {
            assert!(!text.is_empty());
            assert!(result.as_ref().is_err_and(|e| e.code() == 1502));
        }
        Err(e) => assert!([-32602, 1501, 1503].contains(&e.code()), "{e:?}"),
    }

    blacklist_model(rest);
}

/// Both forms re-encode to strings that decode to the same rune, and base64 re-encoding is a
/// fixed point.
fn round_trip(rune: &Rune) {
    let base64 = rune.to_base64();
    let again = Rune::from_base64(&base64).expect("our base64 decodes");
    assert_eq!(&again, rune, "base64 round trip changed the rune");
    assert_eq!(again.to_base64(), base64);
    let string = rune.to_string_form();
    assert_eq!(
        &Rune::from_string_form(&string).expect("our string form decodes"),
        rune
    );
}

/// Blacklist operations from triples of bytes (start, length, relist) on ids below 300,
/// against a plain set.
fn blacklist_model(ops: &[u8]) {
    let mut blacklist = Blacklist::new();
    let mut model = [false; 300];
    for op in ops.chunks_exact(3) {
        let (start, len, relist) = (u64::from(op[0]), u64::from(op[1] % 32), op[2] % 2 == 1);
        blacklist
            .apply(Some(start), Some(start + len), relist)
            .expect("ids below the cap");
        for id in start..=start + len {
            model[id as usize] = !relist;
        }
    }
    let mut previous_end: Option<u64> = None;
    for range in blacklist.ranges() {
        assert!(range.start <= range.end);
        if let Some(end) = previous_end {
            assert!(range.start > end + 1, "ranges must be sorted and maximal");
        }
        previous_end = Some(range.end);
    }
    for (id, &listed) in model.iter().enumerate() {
        assert_eq!(blacklist.contains(id as u64), listed, "id {id}");
    }
}
