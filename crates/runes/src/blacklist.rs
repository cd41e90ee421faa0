//! The blacklist of unique ids (`lightningd/runes.c` `json_blacklistrune`): a set of ids
//! kept as sorted, merged, maximal inclusive ranges, which is also how CLN lists and stores it.

use serde::Serialize;

use crate::error::BlacklistError;

/// Ids from here up cannot be blacklisted (CLN's `MAX_BLACKLIST_NUM`, since v25.02: the
/// size of its bitmap).
pub const MAX_BLACKLIST: u64 = 100_000_000;

/// An inclusive range of unique ids; serializes as CLN lists it, `{"start": …, "end": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlacklistRange {
    /// The first id.
    pub start: u64,
    /// The last id (inclusive).
    pub end: u64,
}

/// Blacklisted unique ids. A rune whose id is in here fails checkrune with 1503.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blacklist {
    /// Sorted, disjoint and non-adjacent: every range is maximal.
    ranges: Vec<BlacklistRange>,
}

impl Blacklist {
    /// An empty blacklist.
    pub fn new() -> Self {
        Self::default()
    }

    /// A blacklist from stored ranges, in any order, possibly overlapping.
    ///
    /// # Errors
    ///
    /// If a range ends at or beyond [`MAX_BLACKLIST`] or starts after it ends.
    pub fn from_ranges(
        ranges: impl IntoIterator<Item = BlacklistRange>,
    ) -> Result<Self, BlacklistError> {
        let mut blacklist = Blacklist::new();
        for range in ranges {
            validate(range.start, range.end)?;
            blacklist.mark(range.start, range.end);
        }
        Ok(blacklist)
    }

    /// Runs blacklistrune's parameters: no `start` lists without change; otherwise every id
    /// in `start..=end` (`end` defaults to `start`) is blacklisted, or with `relist` taken
    /// off the list.
    ///
    /// # Errors
    ///
    /// CLN's `Can not specify end without start` and `Cannot blacklist beyond 100000000`,
    /// then our own refusal of `start > end` (CLN does not check). Nothing changes then.
    pub fn apply(
        &mut self,
        start: Option<u64>,
        end: Option<u64>,
        relist: bool,
    ) -> Result<(), BlacklistError> {
        let Some(start) = start else {
            return match end {
                Some(_) => Err(BlacklistError::EndWithoutStart),
                None => Ok(()),
            };
        };
        let end = end.unwrap_or(start);
        validate(start, end)?;
        if relist {
            self.unmark(start, end);
        } else {
            self.mark(start, end);
        }
        Ok(())
    }

    /// Whether `unique_id` is blacklisted.
    pub fn contains(&self, unique_id: u64) -> bool {
        let after = self.ranges.partition_point(|r| r.end < unique_id);
        self.ranges.get(after).is_some_and(|r| r.start <= unique_id)
    }

    /// The blacklist as merged, sorted, maximal ranges: blacklistrune's result and what
    /// CLN stores.
    pub fn ranges(&self) -> &[BlacklistRange] {
        &self.ranges
    }

    fn mark(&mut self, start: u64, end: u64) {
        let mut merged = BlacklistRange { start, end };
        // Ranges that overlap or touch the new one are absorbed into it.
        self.ranges.retain(|r| {
            let touches =
                r.start <= merged.end.saturating_add(1) && merged.start <= r.end.saturating_add(1);
            if touches {
                merged.start = merged.start.min(r.start);
                merged.end = merged.end.max(r.end);
            }
            !touches
        });
        let at = self.ranges.partition_point(|r| r.start < merged.start);
        self.ranges.insert(at, merged);
    }

    fn unmark(&mut self, start: u64, end: u64) {
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        for r in self.ranges.drain(..) {
            if r.end < start || r.start > end {
                kept.push(r);
                continue;
            }
            if r.start < start {
                kept.push(BlacklistRange {
                    start: r.start,
                    end: start - 1,
                });
            }
            if r.end > end {
                kept.push(BlacklistRange {
                    start: end + 1,
                    end: r.end,
                });
            }
        }
        self.ranges = kept;
    }
}

fn validate(start: u64, end: u64) -> Result<(), BlacklistError> {
    if end >= MAX_BLACKLIST {
        return Err(BlacklistError::BeyondMax);
    }
    if start > end {
        return Err(BlacklistError::StartAfterEnd { start, end });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(b: &Blacklist) -> Vec<(u64, u64)> {
        b.ranges().iter().map(|r| (r.start, r.end)).collect()
    }

    #[test]
    fn marks_merge_and_unmarks_split() {
        let mut b = Blacklist::new();
        b.apply(Some(10), Some(20), false).unwrap();
        b.apply(Some(22), Some(30), false).unwrap();
        assert_eq!(list(&b), [(10, 20), (22, 30)]);
        b.apply(Some(21), None, false).unwrap();
        assert_eq!(list(&b), [(10, 30)]);
        b.apply(Some(5), Some(40), false).unwrap();
        assert_eq!(list(&b), [(5, 40)]);
        b.apply(Some(10), Some(12), true).unwrap();
        assert_eq!(list(&b), [(5, 9), (13, 40)]);
        assert!(b.contains(5) && b.contains(9) && b.contains(13) && b.contains(40));
        assert!(!b.contains(4) && !b.contains(10) && !b.contains(12) && !b.contains(41));
        b.apply(Some(0), Some(MAX_BLACKLIST - 1), true).unwrap();
        assert_eq!(list(&b), []);
    }

    #[test]
    fn the_top_id_can_be_marked() {
        let mut b = Blacklist::new();
        b.apply(Some(MAX_BLACKLIST - 1), None, false).unwrap();
        b.apply(Some(MAX_BLACKLIST - 3), Some(MAX_BLACKLIST - 2), false)
            .unwrap();
        assert_eq!(list(&b), [(MAX_BLACKLIST - 3, MAX_BLACKLIST - 1)]);
        assert!(b.contains(MAX_BLACKLIST - 1));
        assert!(!b.contains(MAX_BLACKLIST));
    }

    #[test]
    fn refusals_leave_the_list_unchanged() {
        let mut b = Blacklist::new();
        b.apply(Some(1), None, false).unwrap();
        let before = b.clone();
        assert_eq!(
            b.apply(None, Some(3), false),
            Err(BlacklistError::EndWithoutStart)
        );
        assert_eq!(
            b.apply(None, Some(3), true),
            Err(BlacklistError::EndWithoutStart)
        );
        assert_eq!(
            b.apply(Some(MAX_BLACKLIST), None, false),
            Err(BlacklistError::BeyondMax)
        );
        assert_eq!(
            b.apply(Some(0), Some(MAX_BLACKLIST), true),
            Err(BlacklistError::BeyondMax)
        );
        assert_eq!(
            b.apply(Some(5), Some(3), false),
            Err(BlacklistError::StartAfterEnd { start: 5, end: 3 })
        );
        assert_eq!(b.apply(None, None, true), Ok(()));
        assert_eq!(b, before);
    }

    #[test]
    fn stored_ranges_load_merged() {
        let b = Blacklist::from_ranges([
            BlacklistRange { start: 6, end: 6 },
            BlacklistRange { start: 0, end: 3 },
            BlacklistRange { start: 4, end: 5 },
        ])
        .unwrap();
        assert_eq!(list(&b), [(0, 6)]);
        assert_eq!(
            Blacklist::from_ranges([BlacklistRange {
                start: 0,
                end: MAX_BLACKLIST
            }]),
            Err(BlacklistError::BeyondMax)
        );
        assert_eq!(
            serde_json::to_string(b.ranges()).unwrap(),
            r#"[{"start":0,"end":6}]"#
        );
    }
}
