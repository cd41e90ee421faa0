//! Vectors from Core Lightning's own tests (`tests/test_runes.py`, `doc/schemas`), as
//! collected in the runes/commando spec (§9): master secrets, createrune's runes, appended
//! runes, checkrune's verdicts and texts, and the blacklistrune sequence.
#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions: a panic is a failed test.

use std::time::Duration;

use runes::{
    checkrune, describe, master_rune, parse_restrictions, parse_rune_param, readonly_restrictions,
    Authorized, Blacklist, CheckRuneError, DerivationError, Request, Rune, RuneParamError,
};
use serde_json::value::RawValue;

/// l1's master rune secret in CLN's tests ("l1's master rune secret is 4ac0…e595").
const L1_SECRET: &str = "4ac018131e70b044e17891e67960f59b9d602525d3aef9956e900189f456e595";
/// l1's node id in CLN's tests.
const L1_ID: &str = "022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59";

const RUNE_READONLY: &str =
    "s0IEnsikGDw76tdpAiMbqzigYhlkjqSVh0ZuvJ1Np1w9MSZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5Jm1ldGhvZC9saXN0ZGF0YXN0b3Jl";
const RUNE_ID_METHOD: &str =
    "ixuStVB4oewJtVNnim1P_qEL89ZU0G8Tnxg_JZgJTUk9MyZpZF4wMjJkMjIzNjIwYTM1OWE0N2ZmNyZtZXRob2Q9bGlzdHBlZXJz";
const RUNE_PNUM0: &str = "k6kQt9dkGMaz75f51-PEkPk8Qovbiqz2HXconizqa-w9NCZwbnVtPTA=";
const RUNE_LEVEL: &str = "NUPHrMs1TEdfWbRfO_KJ4rXhJSBjmSqbdcz-W0yH9J89MyZpZF4wMjJkMjIzNjIwYTM1OWE0N2ZmNyZtZXRob2Q9bGlzdHBlZXJzJnBuYW1lbGV2ZWwhfHBuYW1lbGV2ZWwvaW8=";
const RUNE_LEVEL_PARR1: &str = "sloBq0jn21v4LWhkswsHZgdtvQ0-jqgXXp_2jNNWLJA9MyZpZF4wMjJkMjIzNjIwYTM1OWE0N2ZmNyZtZXRob2Q9bGlzdHBlZXJzJnBuYW1lbGV2ZWwhfHBuYW1lbGV2ZWwvaW8mcGFycjEhfHBhcnIxL2lv";
const RUNE_RATE3: &str = "jHidm2_terhiOytrn8xgEWR1pvFkKuoIvKgvcEeLLQQ9NCZwbnVtPTAmcmF0ZT0z";
const RUNE_RATE3_RATE1: &str =
    "AWO9sW94iv7Y99h0b6kyQO5yePUXQOSIpSuTRp8XFTM9NCZwbnVtPTAmcmF0ZT0zJnJhdGU9MQ==";
const FOREIGN: &str =
    "VXY4AAkrPyH2vzSvOHnI7PDVfS6O04bRQLUCIUFJD5Y9NjQmbWV0aG9kPWludm9pY2UmcmF0ZT0yMZ==";

fn l1_master() -> Rune {
    Rune::master(&hex::decode(L1_SECRET).unwrap()).unwrap()
}

fn l1_id() -> [u8; 33] {
    hex::decode(L1_ID).unwrap().try_into().unwrap()
}

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).unwrap()
}

/// createrune: `unique_id` from the master, then `restrictions` (JSON) appended.
fn createrune(master: &Rune, unique_id: u64, restrictions: Option<&str>) -> Rune {
    let mut rune = master.derive(unique_id).unwrap();
    if let Some(json) = restrictions {
        for restriction in parse_restrictions(&raw(json)).unwrap() {
            rune.append(restriction).unwrap();
        }
    }
    rune
}

/// createrune with `rune`: restrictions appended to someone's rune, no secret involved.
fn append(rune: &str, restrictions: &str) -> String {
    let (mut rune, _) = parse_rune_param(rune).unwrap();
    for restriction in parse_restrictions(&raw(restrictions)).unwrap() {
        rune.append(restriction).unwrap();
    }
    rune.to_base64()
}

/// checkrune at 1700000000 s with `params`, the id's last use `ago` seconds earlier (None:
/// not stored).
fn check(
    rune: &str,
    node_id: Option<&[u8; 33]>,
    method: Option<&str>,
    params: Option<&str>,
    ago: Option<u64>,
) -> Result<Authorized, CheckRuneError> {
    check_with(&Blacklist::new(), rune, node_id, method, params, ago)
}

fn check_with(
    blacklist: &Blacklist,
    rune: &str,
    node_id: Option<&[u8; 33]>,
    method: Option<&str>,
    params: Option<&str>,
    ago: Option<u64>,
) -> Result<Authorized, CheckRuneError> {
    let params = params.map(raw);
    let now = Duration::from_secs(1_700_000_000);
    let request = Request {
        node_id,
        method,
        params: params.as_deref(),
        now,
    };
    checkrune(&l1_master(), blacklist, rune, &request, |_| {
        ago.map(|s| now - Duration::from_secs(s))
    })
}

fn not_permitted(result: Result<Authorized, CheckRuneError>) -> String {
    match result {
        Err(e @ CheckRuneError::NotPermitted(_)) => {
            assert_eq!(e.code(), 1502);
            e.to_string()
        }
        other => panic!("expected Not permitted, got {other:?}"),
    }
}

/// §9.1: the legacy `hsm_secret` of l1 and the runes CLN minted from it (`test_showrunes[old]`).
#[test]
fn legacy_hsm_secret_runes() {
    let mut seed = [0u8; 32];
    seed[..11].copy_from_slice(b"lightning-1");
    let master = master_rune(&seed);
    for (uid, rune) in [
        (0, "OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA=="),
        (1, "geZmO6U7yqpHn-moaX93FVMVWrDRfSNY4AXx9ypLcqg9MQ=="),
        (9, "lI6iPwM1R9OkcRW25SH0a06PscPDinTfLFAjzSGFGE09OQ=="),
    ] {
        assert_eq!(master.derive(uid).unwrap().to_base64(), rune, "uid {uid}");
    }
}

/// §9.2: createrune with l1's secret (`test_createrune`, `test_createrune_per_restriction`,
/// `test_showrunes`), plus two computed with the same secret.
#[test]
fn createrune_vectors() {
    let master = l1_master();
    let cases = [
        (0, None, "I9TZsYEWiAwThQye-gYhpWIe1h15szWEN_qNyMSBOdE9MA=="),
        (1, Some(r#""readonly""#), RUNE_READONLY),
        (2, Some(r#"[["time>1656675211"]]"#), "K0c0pWvBWb3y9HF1GMy33Zx2KRg1zcEvQLr2vtWwMew9MiZ0aW1lPjE2NTY2NzUyMTE="),
        (3, Some(r#"[["id^022d223620a359a47ff7"],["method=listpeers"]]"#), RUNE_ID_METHOD),
        (4, Some(r#"[["pnum=0"]]"#), RUNE_PNUM0),
        (1, None, "uJXLfjDwNvh3KLkiCHc-wE2eBM7-AT7IT9oprKL1EtY9MQ=="),
        (9, None, "j6bX7Q4L3jcVnMp56cRKRROWQevIVyIHExNKsL9iqCg9OQ=="),
        (0, Some(r#"[["per=2000000000nsec"]]"#), "IUhHCEYyQOTSbBjJ09MNiPZMrV_tHFX0JG2U5yCUmIU9MCZwZXI9MjAwMDAwMDAwMG5zZWM="),
        (1, Some(r#"[["per=2000000usec"]]"#), "7ugvfMdjxoW6rKq__8d2gB7me5PL2KZOttq83mGuPvU9MSZwZXI9MjAwMDAwMHVzZWM="),
        (2, Some(r#"[["per=2000msec"]]"#), "uC5mTQfEmhbcFiUDMYIErTJcmaKZYMCUogncByZhMbk9MiZwZXI9MjAwMG1zZWM="),
        (3, Some(r#"[["per=2sec"]]"#), "jjk21GQ-MeO2FWD0uo6lYplwadKHe3q9q38FP_ol3_M9MyZwZXI9MnNlYw=="),
        (4, Some(r#"[["per=2"]]"#), "RQwZdN5OeWxIR2zPJ55mOkJ8s0SPmdFmwuNAp8TATlI9NCZwZXI9Mg=="),
        (5, Some(r#"[["per=1min"]]"#), "gDyB_VRT5IKmpmjr4GnplGMlp-7_g8VVCR2KCjcC0Gk9NSZwZXI9MW1pbg=="),
        (
            5,
            Some(r#"[["method=invoice"],["pnamedescription=@tipjar|jb55@sendsats.lol"]]"#),
            "JzjsslXc7m0M2acjmP_MiJdJJAR6JnG63ZmoSLsN7GQ9NSZtZXRob2Q9aW52b2ljZSZwbmFtZWRlc2NyaXB0aW9uPUB0aXBqYXJcfGpiNTVAc2VuZHNhdHMubG9s",
        ),
        (6, Some(r#"[["f=a&b\\c|d"]]"#), "PIZKEJq1HGeozT360ZZmSaBSECQOjrdsZMoGnblVCzk9NiZmPWFcJmJcXGNcfGQ="),
    ];
    for (uid, restrictions, expected) in cases {
        let rune = createrune(&master, uid, restrictions);
        assert_eq!(rune.to_base64(), expected, "uid {uid} {restrictions:?}");
        assert_eq!(rune.unique_id(), Some(uid.to_string().as_str()));
    }
    assert_eq!(
        createrune(&master, 5, Some(r#"[["method=invoice"],["pnamedescription=@tipjar|jb55@sendsats.lol"]]"#))
            .to_string_form(),
        "2738ecb255dcee6d0cd9a72398ffcc88974924047a2671badd99a848bb0dec64:=5&method=invoice&pnamedescription=@tipjar\\|jb55@sendsats.lol"
    );
    assert_eq!(
        createrune(&master, 6, Some(r#"[["f=a&b\\c|d"]]"#)).to_string_form(),
        "3c864a109ab51c67a8cd3dfad1966649a05210240e8eb76c64ca069db9550b39:=6&f=a\\&b\\\\c\\|d"
    );
}

/// §9.3: restrictions appended to existing runes, without the secret.
#[test]
fn append_vectors() {
    let level = append(RUNE_ID_METHOD, r#"[["pnamelevel!","pnamelevel/io"]]"#);
    assert_eq!(level, RUNE_LEVEL);
    assert_eq!(
        append(&level, r#"[["parr1!","parr1/io"]]"#),
        RUNE_LEVEL_PARR1
    );
    let rate3 = append(RUNE_PNUM0, r#"[["rate=3"]]"#);
    assert_eq!(rate3, RUNE_RATE3);
    assert_eq!(append(&rate3, r#"[["rate=1"]]"#), RUNE_RATE3_RATE1);
    // doc/schemas/createrune.json: a rune of an unknown secret, made read-only.
    let schema = "7cKJyALVY0_LLVV-AB9oetXjipOdyt0EhOuYrSS42fM9MA==";
    let readonly = "0VIVf0M4jMlGNIwNM3sTpBextINe4_VBGZnBMM82kR49MCZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5Jm1ldGhvZC9saXN0ZGF0YXN0b3Jl";
    assert_eq!(append(schema, r#""readonly""#), readonly);
    assert_eq!(
        append(
            schema,
            r#"[["method^list","method^get","method=summary"],["method/listdatastore"]]"#
        ),
        readonly
    );
    let (mut rune, _) = parse_rune_param(schema).unwrap();
    for restriction in readonly_restrictions() {
        rune.append(restriction).unwrap();
    }
    assert_eq!(rune.to_base64(), readonly);
    // Appended runes are still l1's.
    for rune in [RUNE_LEVEL, RUNE_LEVEL_PARR1, RUNE_RATE3, RUNE_RATE3_RATE1] {
        assert_eq!(
            Rune::from_base64(rune)
                .unwrap()
                .check_derivation(&l1_master()),
            Ok(())
        );
    }
}

/// §9.4: the uid-4 rune allows no parameters.
#[test]
fn pnum_verdicts() {
    let l1 = format!("\"{L1_ID}\"");
    assert_eq!(
        check(RUNE_PNUM0, None, Some("listpeers"), Some("[]"), None),
        Ok(Authorized { unique_id: 4 })
    );
    assert_eq!(
        check(RUNE_PNUM0, None, Some("getinfo"), Some("{}"), None),
        Ok(Authorized { unique_id: 4 })
    );
    assert_eq!(
        check(RUNE_PNUM0, None, Some("getinfo"), None, None),
        Ok(Authorized { unique_id: 4 })
    );
    for params in [format!("[{l1}]"), format!("{{\"id\": {l1}}}")] {
        assert_eq!(
            not_permitted(check(
                RUNE_PNUM0,
                None,
                Some("listpeers"),
                Some(&params),
                None
            )),
            "Not permitted: number of parameters is not equal to 0"
        );
    }
}

/// §9.4: the read-only rune.
#[test]
fn readonly_verdicts() {
    for method in ["listpeers", "getinfo", "summary"] {
        assert!(
            check(RUNE_READONLY, None, Some(method), Some("{}"), None).is_ok(),
            "{method}"
        );
    }
    for (method, params) in [
        ("withdraw", "{}"),
        ("plugin", r#"{"subcommand":"list"}"#),
        ("invoice", r#"{"amount_msat": 1}"#),
    ] {
        assert_eq!(
            not_permitted(check(RUNE_READONLY, None, Some(method), Some(params), None)),
            "Not permitted: method does not start with list AND method does not start with get AND method is not equal to summary"
        );
    }
    assert_eq!(
        not_permitted(check(
            RUNE_READONLY,
            None,
            Some("listdatastore"),
            None,
            None
        )),
        "Not permitted: method is equal to listdatastore"
    );
    assert_eq!(
        not_permitted(check(RUNE_READONLY, None, None, None, None)),
        "Not permitted: method not present AND method not present AND method not present"
    );
}

/// §9.4: node id prefix, method and parameter restrictions; only the leading field name of
/// a failure is spelt out.
#[test]
fn id_method_and_parameter_verdicts() {
    let l1 = l1_id();
    let other = [3u8; 33];
    assert!(check(RUNE_ID_METHOD, Some(&l1), Some("listpeers"), None, None).is_ok());
    assert_eq!(
        not_permitted(check(
            RUNE_ID_METHOD,
            Some(&l1),
            Some("listnodes"),
            None,
            None
        )),
        "Not permitted: method is not equal to listpeers"
    );
    assert_eq!(
        not_permitted(check(
            RUNE_ID_METHOD,
            Some(&other),
            Some("listpeers"),
            None,
            None
        )),
        "Not permitted: id does not start with 022d223620a359a47ff7"
    );
    assert_eq!(
        not_permitted(check(RUNE_ID_METHOD, None, Some("listpeers"), None, None)),
        "Not permitted: id not present"
    );

    let with_level =
        |params: &str| check(RUNE_LEVEL, Some(&l1), Some("listpeers"), Some(params), None);
    assert!(with_level(&format!(r#"{{"id": "{L1_ID}"}}"#)).is_ok());
    assert!(with_level(r#"{"level": "debug"}"#).is_ok());
    assert_eq!(
        not_permitted(with_level(&format!(
            r#"{{"id": "{L1_ID}", "level": "io"}}"#
        ))),
        "Not permitted: parameter level is present AND pnamelevel is equal to io"
    );
    assert_eq!(
        not_permitted(check(
            RUNE_LEVEL_PARR1,
            Some(&l1),
            Some("listpeers"),
            Some(&format!(r#"["{L1_ID}", "io"]"#)),
            None
        )),
        "Not permitted: parameter #1 is present AND parr1 is equal to io"
    );
}

/// The texts of `tests/test_runes.py` for each kind of field, on runes minted for the test.
#[test]
fn failure_texts_of_cln_tests() {
    let master = l1_master();
    let mint = |uid, restrictions| createrune(&master, uid, Some(restrictions)).to_base64();
    let cases: [(&str, Option<&str>, Option<&str>, &str); 12] = [
        (
            r#"[["pnum=1"]]"#,
            Some("listpeers"),
            Some("[1, 2]"),
            "number of parameters is not equal to 1",
        ),
        (
            r#"[["parr1=17"]]"#,
            Some("f"),
            Some("[0, 18]"),
            "parameter #1 is not equal to 17",
        ),
        (
            r#"[["parr1=17"]]"#,
            Some("f"),
            Some("[0]"),
            "parameter #1 not present",
        ),
        (
            r#"[["pnamebolt11=xxx"]]"#,
            Some("pay"),
            Some(r#"{"bolt11": "lnbc1"}"#),
            "parameter bolt11 is not equal to xxx",
        ),
        (
            r#"[["pnameamount_msat<10000"]]"#,
            Some("pay"),
            Some("{}"),
            "parameter amount_msat not present",
        ),
        (
            r#"[["pnameamount_msat<10000"]]"#,
            Some("pay"),
            Some(r#"{"amount_msat": "9999"}"#),
            "parameter amount_msat is not an integer field",
        ),
        (
            r#"[["pnameamount_msat<10000"]]"#,
            Some("pay"),
            Some(r#"{"amount_msat": 10000}"#),
            "parameter amount_msat is greater or equal to 10000",
        ),
        (r#"[["method=getinfo"]]"#, None, None, "method not present"),
        (
            r#"[["method!"]]"#,
            Some("getinfo"),
            None,
            "method is present",
        ),
        (
            r#"[["method/getinfo"]]"#,
            Some("getinfo"),
            None,
            "method is equal to getinfo",
        ),
        (
            r#"[["pinvbolt11_amount<1000"]]"#,
            Some("pay"),
            Some(r#"{"bolt11": "lnbc1"}"#),
            "invoice parameter bolt11_amount not present",
        ),
        (
            r#"[["time>1700000000"]]"#,
            None,
            None,
            "time is less or equal to 1700000000",
        ),
    ];
    for (uid, (restrictions, method, params, text)) in (10..).zip(cases) {
        let rune = mint(uid, restrictions);
        assert_eq!(
            not_permitted(check(&rune, None, method, params, None)),
            format!("Not permitted: {text}")
        );
    }
    assert_eq!(
        not_permitted(check(
            &mint(30, r#"[["id!"]]"#),
            Some(&l1_id()),
            None,
            None,
            None
        )),
        "Not permitted: id is present"
    );
    assert!(check(
        &mint(31, r#"[["pnameamount_msat<10000"]]"#),
        None,
        None,
        Some(r#"{"amount_msat": 9999}"#),
        None
    )
    .is_ok());
    assert!(check(
        &mint(32, r#"[["time>1699999999"]]"#),
        None,
        None,
        None,
        None
    )
    .is_ok());
}

/// Parameter strings are compared still JSON-escaped, and failure texts come back escaped.
#[test]
fn escaping_quirks() {
    let rune = createrune(
        &l1_master(),
        5,
        Some(r#"[["method=invoice"],["pnamedescription=@tipjar|jb55@sendsats.lol"]]"#),
    )
    .to_base64();
    let invoice = |params: &str| check(&rune, None, Some("invoice"), Some(params), None);
    assert!(invoice(r#"{"description": "@tipjar|jb55@sendsats.lol"}"#).is_ok());
    assert_eq!(
        not_permitted(invoice(r#"{"description": "@tipjar\\|jb55@sendsats.lol"}"#)),
        "Not permitted: parameter description is not equal to @tipjar|jb55@sendsats.lol"
    );
    let quoted = createrune(&l1_master(), 7, Some(r#"[["pnamelabel=a\"b\\c"]]"#)).to_base64();
    assert_eq!(
        not_permitted(check(&quoted, None, None, Some(r#"{"label": "x"}"#), None)),
        r#"Not permitted: parameter label is not equal to a\"b\\c"#
    );
    // The raw text `a\"b\\c` is what the rune value must equal.
    assert!(check(&quoted, None, None, Some(r#"{"label": "a\"b\\c"}"#), None).is_err());
}

/// §9.4: `rate` (and its last use shared by every rune of the id); `per` alike.
#[test]
fn rate_verdicts() {
    let get = |rune, ago| check(rune, None, Some("getinfo"), None, ago);
    assert!(
        get(RUNE_RATE3, None).is_ok(),
        "no stored rune: passes, as in CLN"
    );
    assert_eq!(
        not_permitted(get(RUNE_RATE3, Some(10))),
        "Not permitted: too soon"
    );
    assert_eq!(
        not_permitted(get(RUNE_RATE3, Some(19))),
        "Not permitted: too soon"
    );
    assert!(get(RUNE_RATE3, Some(20)).is_ok());
    assert_eq!(
        not_permitted(get(RUNE_RATE3_RATE1, Some(30))),
        "Not permitted: too soon"
    );
    assert!(get(RUNE_RATE3_RATE1, Some(60)).is_ok());

    let per = createrune(&l1_master(), 5, Some(r#"[["per=1min"]]"#)).to_base64();
    assert_eq!(
        not_permitted(get(&per, Some(59))),
        "Not permitted: too soon"
    );
    assert!(get(&per, Some(60)).is_ok());
    let bad = createrune(&l1_master(), 6, Some(r#"[["per=5m"], ["rate<1"]]"#)).to_base64();
    assert_eq!(
        not_permitted(get(&bad, None)),
        "Not permitted: malformed suffix"
    );

    // The last use is looked up by the rune's unique id, and only when needed.
    let mut asked = Vec::new();
    let request = Request {
        node_id: None,
        method: Some("getinfo"),
        params: None,
        now: Duration::from_secs(1_700_000_000),
    };
    let result = checkrune(
        &l1_master(),
        &Blacklist::new(),
        RUNE_RATE3_RATE1,
        &request,
        |id| {
            asked.push(id);
            None
        },
    );
    assert!(result.is_ok());
    assert_eq!(asked, [4]);
    let result = checkrune(
        &l1_master(),
        &Blacklist::new(),
        RUNE_PNUM0,
        &request,
        |_| panic!("not needed"),
    );
    assert!(result.is_ok());
}

/// §9.4: refusals before the restrictions, in CLN's order.
#[test]
fn authorization_verdicts() {
    let mut blacklist = Blacklist::new();
    blacklist.apply(Some(4), None, false).unwrap();
    let refused =
        check_with(&blacklist, RUNE_PNUM0, None, Some("getinfo"), None, None).unwrap_err();
    assert_eq!(
        (refused.code(), refused.to_string()),
        (1503, "Not authorized: Blacklisted rune".to_owned())
    );

    let foreign = check(FOREIGN, None, Some("invoice"), None, None).unwrap_err();
    assert_eq!(
        foreign,
        CheckRuneError::NotAuthorized(DerivationError::NotDerived)
    );
    assert_eq!(
        (foreign.code(), foreign.to_string()),
        (1501, "Not authorized: Not derived from master".to_owned())
    );

    // The blacklist comes before derivation.
    blacklist.apply(Some(64), None, false).unwrap();
    assert_eq!(
        check_with(&blacklist, FOREIGN, None, None, None, None),
        Err(CheckRuneError::Blacklisted)
    );

    for rune in [
        "pX1h8z05kg0WZqe0ogo_8MHOa7-8gVZNXTckyyLKuLk9emVybw==",
        "1dYYAIxmjRDHbXUIpztpwDA0q7RrHKbXJd9Yhj50Dfc9MGFuZHN0cmluZw==",
        "cr7eQmdhPVqH3-M2g67JymP2zVKyZ_n5hhFk3IMSg5o9OTIyMzM3MjAzNjg1NDc3NTgwOQ==",
        "SaQlgbzu6SGAhANReucs7P8GLuVbSlPg30QG78UzNcY=",
    ] {
        let err = check(rune, None, None, None, None).unwrap_err();
        assert_eq!(
            err,
            CheckRuneError::InvalidRune(RuneParamError::NoNumericUniqueId),
            "{rune}"
        );
        assert_eq!(
            (err.code(), err.to_string()),
            (
                -32602,
                "rune: should have valid numeric unique_id".to_owned()
            )
        );
    }
    let err = check("not a rune", None, None, Some("5"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rune: should be base64 string",
        "the rune is checked before params"
    );
    let err = check(RUNE_PNUM0, None, None, Some(r#""x""#), None).unwrap_err();
    assert_eq!(
        (err.code(), err.to_string()),
        (-32602, "params: must be object or array".to_owned())
    );
}

/// showrunes' english of the uid-3 rune.
#[test]
fn showrunes_english() {
    let (rune, uid) = parse_rune_param(RUNE_ID_METHOD).unwrap();
    assert_eq!(uid, 3);
    let english = describe(&rune);
    assert_eq!(
        english.restrictions_as_english,
        "id starts with 022d223620a359a47ff7 AND method equal to listpeers"
    );
    assert_eq!(english.restrictions.len(), 2);
    // Not ours: showrunes says `our_rune: false`.
    let (foreign, _) =
        parse_rune_param("oNJAqigqDrHBGzsm7gV3z87oGpzq-KqFlOxx2O9iEQk9MA==").unwrap();
    assert_eq!(
        foreign.check_derivation(&l1_master()),
        Err(DerivationError::NotDerived)
    );
}

/// §9.6: `test_blacklistrune`'s sequence.
#[test]
fn blacklistrune_sequence() {
    let mut b = Blacklist::new();
    let mut step = |start: Option<u64>, end: Option<u64>, relist: bool, expected: &[(u64, u64)]| {
        b.apply(start, end, relist).unwrap();
        let got: Vec<_> = b.ranges().iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(got, expected, "start={start:?} end={end:?} relist={relist}");
        b.clone()
    };
    step(Some(1), None, false, &[(1, 1)]);
    step(Some(2), None, false, &[(1, 2)]);
    step(Some(6), None, false, &[(1, 2), (6, 6)]);
    step(Some(3), Some(5), false, &[(1, 6)]);
    step(Some(9), None, false, &[(1, 6), (9, 9)]);
    step(Some(0), None, false, &[(0, 6), (9, 9)]);
    step(None, None, false, &[(0, 6), (9, 9)]);
    step(Some(10), None, true, &[(0, 6), (9, 9)]);
    let mut b2 = step(Some(9), Some(9), true, &[(0, 6)]);
    assert_eq!(
        b2.apply(Some(100_000_000), None, true)
            .unwrap_err()
            .to_string(),
        "Cannot blacklist beyond 100000000"
    );
    step(Some(1), Some(2), true, &[(0, 0), (3, 6)]);
    step(Some(4), None, true, &[(0, 0), (3, 3), (5, 6)]);
    let saved = step(Some(0), Some(3), true, &[(5, 6)]);
    // "Persist across restart": reload from the stored ranges.
    let mut b = Blacklist::from_ranges(saved.ranges().iter().copied()).unwrap();
    assert_eq!(b, saved);
    b.apply(Some(0), Some(99_999_999), true).unwrap();
    assert!(b.ranges().is_empty());
}
