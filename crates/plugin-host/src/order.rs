//! The order in which a chained hook's plugins are called.
//!
//! # What it owns
//!
//! [`order`]: CLN's `plugin_hook_make_ordered` (`lightningd/plugin_hook.c`, reference §3.5) as
//! pure logic. Each registration may ask to run before or after other plugins, named by
//! basename or by path; the result is a topological order of those constraints where, among
//! the plugins free to go next, the one registered first (lowest `index`) goes first. With no
//! constraints that is simply registration order.
//!
//! Paths are compared as given, without touching the filesystem: the host should pass the
//! canonical paths it registered the plugins under.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

/// One plugin's registration for a hook: its identity and its constraints.
#[derive(Debug, Clone, Copy)]
pub struct HookEntry<'a> {
    /// The plugin's path, as registered (canonical, absolute).
    pub plugin_path: &'a Path,
    /// Registration order of the plugin (command line, then config, then directories);
    /// breaks ties, lowest first.
    pub index: usize,
    /// Plugins this one must be called before.
    pub before: &'a [String],
    /// Plugins this one must be called after.
    pub after: &'a [String],
}

/// Whether the name `name`, as written in a `before`/`after` list, designates the plugin at
/// `path`: by full path when `name` contains a `/`, else by file name.
pub fn plugin_matches(path: &Path, name: &str) -> bool {
    if name.contains('/') {
        path == Path::new(name)
    } else {
        path.file_name().is_some_and(|base| base == name)
    }
}

/// The call order for `hook`: indices into `entries`, a topological order of the before/after
/// constraints with ties broken by `index` (lowest first, then position in `entries`).
///
/// A name matches a plugin by file name or, if it contains `/`, by full path; a name matching
/// several plugins constrains them all. Names matching no plugin are ignored and reported in
/// the second vector as `hook <hook> before unknown plugin <name>` (or `after`), which CLN
/// logs at DEBUG.
///
/// Unsatisfiable constraints (a cycle, including a plugin naming itself) give
/// `Err("Cannot meet required hook dependencies")`.
pub fn order(hook: &str, entries: &[HookEntry<'_>]) -> Result<(Vec<usize>, Vec<String>), String> {
    let n = entries.len();
    // successors[i]: entries that must come after entry i.
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending_preds = vec![0usize; n];
    let mut remarks = Vec::new();

    for (i, entry) in entries.iter().enumerate() {
        for (names, is_before) in [(entry.before, true), (entry.after, false)] {
            for name in names {
                let mut matched = false;
                for (j, other) in entries.iter().enumerate() {
                    if !plugin_matches(other.plugin_path, name) {
                        continue;
                    }
                    matched = true;
                    let (first, then) = if is_before { (i, j) } else { (j, i) };
                    successors[first].push(then);
                    pending_preds[then] += 1;
                }
                if !matched {
                    let side = if is_before { "before" } else { "after" };
                    remarks.push(format!("hook {hook} {side} unknown plugin {name}"));
                }
            }
        }
    }

    // Kahn's algorithm; the min-heap makes the choice among ready entries deterministic.
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> = pending_preds
        .iter()
        .enumerate()
        .filter(|(_, &preds)| preds == 0)
        .map(|(i, _)| Reverse((entries[i].index, i)))
        .collect();
    let mut out = Vec::with_capacity(n);
    while let Some(Reverse((_, i))) = ready.pop() {
        out.push(i);
        for &next in &successors[i] {
            pending_preds[next] -= 1;
            if pending_preds[next] == 0 {
                ready.push(Reverse((entries[next].index, next)));
            }
        }
    }
    if out.len() != n {
        return Err("Cannot meet required hook dependencies".to_owned());
    }
    Ok((out, remarks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    struct Reg {
        path: PathBuf,
        index: usize,
        before: Vec<String>,
        after: Vec<String>,
    }

    fn reg(path: &str, index: usize, before: &[&str], after: &[&str]) -> Reg {
        Reg {
            path: PathBuf::from(path),
            index,
            before: before.iter().map(|s| s.to_string()).collect(),
            after: after.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run(regs: &[Reg]) -> Result<(Vec<usize>, Vec<String>), String> {
        let entries: Vec<HookEntry<'_>> = regs
            .iter()
            .map(|r| HookEntry {
                plugin_path: &r.path,
                index: r.index,
                before: &r.before,
                after: &r.after,
            })
            .collect();
        order("custommsg", &entries)
    }

    fn ordered(regs: &[Reg]) -> Vec<usize> {
        let (o, remarks) = run(regs).unwrap();
        assert!(remarks.is_empty(), "{remarks:?}");
        o
    }

    #[test]
    fn empty() {
        assert_eq!(run(&[]).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn no_constraints_is_registration_order() {
        let regs = [
            reg("/p/c", 2, &[], &[]),
            reg("/p/a", 0, &[], &[]),
            reg("/p/b", 1, &[], &[]),
        ];
        assert_eq!(ordered(&regs), vec![1, 2, 0]);
    }

    #[test]
    fn equal_index_falls_back_to_position() {
        let regs = [reg("/p/a", 0, &[], &[]), reg("/p/b", 0, &[], &[])];
        assert_eq!(ordered(&regs), vec![0, 1]);
    }

    #[test]
    fn before_moves_a_later_plugin_first() {
        let regs = [reg("/p/a", 0, &[], &[]), reg("/p/b", 1, &["a"], &[])];
        assert_eq!(ordered(&regs), vec![1, 0]);
    }

    #[test]
    fn after_moves_an_earlier_plugin_last() {
        let regs = [
            reg("/p/a", 0, &[], &["c"]),
            reg("/p/b", 1, &[], &[]),
            reg("/p/c", 2, &[], &[]),
        ];
        // a waits for c; b is free and registered before c.
        assert_eq!(ordered(&regs), vec![1, 2, 0]);
    }

    #[test]
    fn ties_among_ready_go_by_index() {
        // d must precede a; once d is out, a (index 0) beats b and c.
        let regs = [
            reg("/p/a", 0, &[], &[]),
            reg("/p/b", 1, &[], &[]),
            reg("/p/c", 2, &[], &[]),
            reg("/p/d", 3, &["a"], &[]),
        ];
        assert_eq!(ordered(&regs), vec![1, 2, 3, 0]);
    }

    #[test]
    fn chain_and_diamond() {
        // c before b, b before a; d after c only.
        let regs = [
            reg("/p/a", 0, &[], &["b"]),
            reg("/p/b", 1, &[], &["c"]),
            reg("/p/c", 2, &[], &[]),
            reg("/p/d", 3, &[], &["c"]),
        ];
        assert_eq!(ordered(&regs), vec![2, 1, 0, 3]);
        let diamond = [
            reg("/p/top", 3, &["l", "r"], &[]),
            reg("/p/l", 1, &["bottom"], &[]),
            reg("/p/r", 0, &["bottom"], &[]),
            reg("/p/bottom", 2, &[], &[]),
        ];
        assert_eq!(ordered(&diamond), vec![0, 2, 1, 3]);
    }

    #[test]
    fn redundant_constraints_agree() {
        // a says before b, b says after a: the same edge twice.
        let regs = [reg("/p/b", 0, &[], &["a"]), reg("/p/a", 1, &["b"], &[])];
        assert_eq!(ordered(&regs), vec![1, 0]);
    }

    #[test]
    fn names_match_basename_or_full_path() {
        let regs = [
            reg("/opt/x/first.py", 0, &[], &[]),
            reg("/opt/y/second", 1, &["/opt/x/first.py"], &[]),
        ];
        assert_eq!(ordered(&regs), vec![1, 0]);

        // A name with '/' never matches by basename.
        let regs = [
            reg("/opt/x/first.py", 0, &[], &[]),
            reg("/opt/y/second", 1, &["x/first.py", "/other/first.py"], &[]),
        ];
        let (o, remarks) = run(&regs).unwrap();
        assert_eq!(o, vec![0, 1]);
        assert_eq!(
            remarks,
            vec![
                "hook custommsg before unknown plugin x/first.py",
                "hook custommsg before unknown plugin /other/first.py",
            ]
        );

        assert!(plugin_matches(Path::new("/a/b.py"), "b.py"));
        assert!(!plugin_matches(Path::new("/a/b.py"), "b"));
        assert!(plugin_matches(Path::new("/a/b.py"), "/a/b.py"));
        assert!(!plugin_matches(Path::new("/a/b.py"), "/a"));
    }

    #[test]
    fn a_basename_constrains_every_plugin_sharing_it() {
        let regs = [
            reg("/one/dup", 0, &[], &[]),
            reg("/two/dup", 1, &[], &[]),
            reg("/p/lead", 2, &["dup"], &[]),
        ];
        assert_eq!(ordered(&regs), vec![2, 0, 1]);
    }

    #[test]
    fn unknown_names_are_reported_and_ignored() {
        let regs = [
            reg("/p/a", 0, &["ghost"], &["phantom"]),
            reg("/p/b", 1, &[], &[]),
        ];
        let (o, remarks) = run(&regs).unwrap();
        assert_eq!(o, vec![0, 1]);
        assert_eq!(
            remarks,
            vec![
                "hook custommsg before unknown plugin ghost",
                "hook custommsg after unknown plugin phantom",
            ]
        );
    }

    #[test]
    fn cycles_are_refused() {
        let cycle = "Cannot meet required hook dependencies";
        let two = [reg("/p/a", 0, &["b"], &[]), reg("/p/b", 1, &["a"], &[])];
        assert_eq!(run(&two).unwrap_err(), cycle);
        let also_two = [reg("/p/a", 0, &["b"], &["b"]), reg("/p/b", 1, &[], &[])];
        assert_eq!(run(&also_two).unwrap_err(), cycle);
        let three = [
            reg("/p/a", 0, &[], &["c"]),
            reg("/p/b", 1, &[], &["a"]),
            reg("/p/c", 2, &[], &["b"]),
            reg("/p/free", 3, &[], &[]),
        ];
        assert_eq!(run(&three).unwrap_err(), cycle);
        let myself = [reg("/p/a", 0, &["a"], &[])];
        assert_eq!(run(&myself).unwrap_err(), cycle);
    }
}
