//! The Python venv that cross-process tests use: provisioned (or found) under the target
//! directory, with both pyln packages importable at their pinned versions.
#![allow(clippy::unwrap_used, missing_docs)]

use lnpeer_tests::python;

/// `26.6.9`, `v26.06.9` -> `[26, 6, 9]`: pyln's metadata spells its versions unnormalised.
fn release(version: &str) -> Vec<u64> {
    let version = version.trim().trim_start_matches('v');
    version.split('.').map(|n| n.parse().unwrap()).collect()
}

/// The pinned version of `dist` in `tests/python/requirements.txt`.
fn pinned(dist: &str) -> Vec<u64> {
    let requirements = std::fs::read_to_string(python::requirements_file()).unwrap();
    let pin = requirements
        .lines()
        .find_map(|line| line.strip_prefix(dist)?.strip_prefix("=="))
        .unwrap_or_else(|| panic!("{dist} is not pinned in requirements.txt"));
    release(pin)
}

#[test]
fn pyln_client_and_proto_import_at_pinned_versions() {
    let out = python::run_script("pyln_versions.py", &[]);
    print!("{out}");
    for dist in ["pyln-client", "pyln-proto"] {
        let installed = out
            .lines()
            .find_map(|line| line.strip_prefix(dist)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {dist} version in:\n{out}"));
        assert_eq!(release(installed), pinned(dist), "{dist}");
    }
}

#[test]
fn concurrent_callers_share_one_venv() {
    let paths: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| python::python().to_path_buf()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert!(paths.windows(2).all(|w| w[0] == w[1]));
    assert!(paths[0].starts_with(python::venv_dir()));
    assert!(paths[0].is_file(), "{}", paths[0].display());
}
