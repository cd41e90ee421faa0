//! BOLT 1 conformance of a real `lnpeerd` as lnprototest 0.0.7 checks it: pytest runs the
//! tests in `tests/python/lnprototest_tests` (written with lnprototest's events) through the
//! runner in `tests/python/lnpeer_lnprototest`, which starts this build's `lnpeerd` with
//! `--developer --dev-force-privkey=00..01` for each pass of a test.
//!
//! Checked: the `init` exchange (the node's comes first, is well formed and offers what the
//! runner reports), the node accepting its own `init` echoed back, pongs of exactly
//! `num_pong_bytes` below 65532 and none at or above; unknown odd feature bits ignored and
//! unknown even ones closing (in either bitmap), as a missing dependency does; unknown odd
//! messages ignored and unknown even ones closing after CLN's warning; a frame with a bad MAC
//! closing the connection after what came before it is handled; and the runner itself.
//!
//! Each test runs one Python file and fails with pytest's output. lnprototest needs Python 3.9
//! to 3.11 (see `lnpeer_tests::lnprototest`); on a machine without one, the tests say so on
//! stderr and pass without running.

use std::io::Write;

use lnpeer_tests::lnprototest::{self, Unavailable};

/// lnprototest's `TIMEOUT` for these runs: every wait for a message, a close or the node.
/// Nothing here should need more than a fraction of a second; this only bounds a failure.
const TIMEOUT_SECS: u32 = 20;

/// Runs pytest on `file` and requires every test in it to pass, none skipped.
#[track_caller]
fn run_python_tests(file: &str) {
    let venv = match lnprototest::venv() {
        Ok(venv) => venv,
        Err(Unavailable(why)) => {
            // Straight to stderr, past the test harness's capture, so it is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED lnprototest {file}: cannot run lnprototest here: {why}"
            );
            return;
        }
    };
    let run = lnprototest::pytest(venv, &lnprototest::tests_dir(), &[file], TIMEOUT_SECS);
    assert!(run.success, "pytest {file} failed:\n{}", run.output);
    // pytest's closing line, e.g. "===== 12 passed in 3.10s =====".
    let summary = run
        .output
        .lines()
        .rev()
        .find(|line| line.contains(" passed"))
        .unwrap_or_else(|| panic!("pytest {file} ran no test:\n{}", run.output));
    for word in ["failed", "error", "skipped", "xfail", "xpass", "deselected"] {
        assert!(
            !summary.contains(word),
            "pytest {file}: {summary}\n{}",
            run.output
        );
    }
    println!("{file}: {summary}");
}

#[test]
fn bolt1_init_features_and_ping() {
    run_python_tests("test_bolt1_init.py");
}

#[test]
fn bolt1_unknown_messages() {
    run_python_tests("test_bolt1_messages.py");
}

#[test]
fn bad_mac_closes_the_connection() {
    run_python_tests("test_bolt8_bad_mac.py");
}

#[test]
fn runner_forces_the_key_and_refuses_chain_methods() {
    run_python_tests("test_runner.py");
}
