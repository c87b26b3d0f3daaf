//! Effective-dated ranges of pricing data (price versions, rules, bands, limits, bundles). A
//! range is **half-open**, as `EffectiveRange` in `common.proto`: `from` is the first day in
//! force (inclusive), `to` the first day no longer in force (exclusive), and `None` means
//! open-ended. This module owns the range, its `contains` and `overlaps` tests, and the search for
//! the existing range a new one overlaps ("overlapping periods are refused").

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::PricingViolation;

/// A half-open range of business dates `[from, to)`; `to = None` is open-ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EffectiveRange {
    /// The first day in force (inclusive).
    pub from: NaiveDate,
    /// The first day no longer in force (exclusive); `None` for open-ended. After `from`.
    pub to: Option<NaiveDate>,
}

impl EffectiveRange {
    /// A range from `from` (inclusive) to `to` (exclusive); fails naming `end_date` unless `to`
    /// is after `from`.
    pub fn new(from: NaiveDate, to: Option<NaiveDate>) -> Result<Self, PricingViolation> {
        let range = Self { from, to };
        range.validate()?;
        Ok(range)
    }

    /// The open-ended range starting on `from`.
    pub const fn starting(from: NaiveDate) -> Self {
        Self { from, to: None }
    }

    /// Checks that `to`, when set, is after `from` (the field is `end_date`, as in the proto).
    pub fn validate(&self) -> Result<(), PricingViolation> {
        match self.to {
            Some(to) if to <= self.from => Err(PricingViolation::new(
                "end_date",
                format!(
                    "must be after the start date {} (the end date is exclusive)",
                    self.from
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether `date` is in force: `from <= date < to`.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date < to)
    }

    /// Whether the two ranges share at least one day. Ranges that only touch (one's `to` is the
    /// other's `from`) do not overlap.
    pub fn overlaps(&self, other: &EffectiveRange) -> bool {
        self.to.is_none_or(|to| other.from < to) && other.to.is_none_or(|to| self.from < to)
    }
}

impl std::fmt::Display for EffectiveRange {
    /// `[2025-01-01, 2026-01-01)` or `[2025-01-01, open)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to {
            Some(to) => write!(f, "[{}, {})", self.from, to),
            None => write!(f, "[{}, open)", self.from),
        }
    }
}

/// The key of the first existing range that `new` overlaps, or `None` when it overlaps none.
/// `existing` pairs a key (e.g. a price-version id) with its range; a service refuses the new
/// range with `FAILED_PRECONDITION` naming the returned key.
pub fn first_overlap<'a, K, I>(existing: I, new: &EffectiveRange) -> Option<K>
where
    I: IntoIterator<Item = (K, &'a EffectiveRange)>,
{
    existing
        .into_iter()
        .find(|(_, range)| range.overlaps(new))
        .map(|(key, _)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn r(from: NaiveDate, to: Option<NaiveDate>) -> EffectiveRange {
        EffectiveRange::new(from, to).unwrap()
    }

    #[test]
    fn the_end_is_exclusive_and_must_follow_the_start() {
        let range = r(d(2025, 1, 1), Some(d(2025, 7, 1)));
        assert!(range.contains(d(2025, 1, 1)));
        assert!(range.contains(d(2025, 6, 30)));
        assert!(!range.contains(d(2025, 7, 1)));
        assert!(!range.contains(d(2024, 12, 31)));
        assert!(EffectiveRange::starting(d(2025, 1, 1)).contains(d(9999, 1, 1)));
        let err = EffectiveRange::new(d(2025, 1, 1), Some(d(2025, 1, 1))).unwrap_err();
        assert_eq!(err.field, "end_date");
        assert!(EffectiveRange::new(d(2025, 1, 2), Some(d(2025, 1, 1))).is_err());
        assert_eq!(range.to_string(), "[2025-01-01, 2025-07-01)");
        assert_eq!(
            EffectiveRange::starting(d(2025, 1, 1)).to_string(),
            "[2025-01-01, open)"
        );
    }

    #[test]
    fn overlaps_share_a_day_touching_does_not() {
        let h1 = r(d(2025, 1, 1), Some(d(2025, 7, 1)));
        let h2 = r(d(2025, 7, 1), Some(d(2026, 1, 1)));
        let open = EffectiveRange::starting(d(2025, 12, 31));
        let later = EffectiveRange::starting(d(2026, 1, 1));
        assert!(!h1.overlaps(&h2) && !h2.overlaps(&h1));
        assert!(h2.overlaps(&open) && open.overlaps(&h2));
        assert!(!h2.overlaps(&later));
        assert!(
            open.overlaps(&later),
            "two open-ended ranges always overlap"
        );
        assert!(h1.overlaps(&h1));
        let inner = r(d(2025, 3, 1), Some(d(2025, 4, 1)));
        assert!(h1.overlaps(&inner) && inner.overlaps(&h1));
    }

    #[test]
    fn first_overlap_names_the_existing_range() {
        let existing = [
            ("v1", r(d(2025, 1, 1), Some(d(2025, 7, 1)))),
            ("v2", r(d(2025, 7, 1), Some(d(2026, 1, 1)))),
        ];
        let iter = || existing.iter().map(|(k, range)| (*k, range));
        assert_eq!(
            first_overlap(iter(), &EffectiveRange::starting(d(2026, 1, 1))),
            None
        );
        assert_eq!(
            first_overlap(iter(), &EffectiveRange::starting(d(2025, 12, 1))),
            Some("v2")
        );
        assert_eq!(
            first_overlap(iter(), &r(d(2024, 1, 1), Some(d(2025, 1, 2)))),
            Some("v1")
        );
        assert_eq!(
            first_overlap(iter(), &r(d(2024, 1, 1), Some(d(2025, 1, 1)))),
            None
        );
    }
}
