//! Reference data that prices and approvals rest on: the LPR reference-rate series
//! ([`rates`]), regulatory limits that no band overrides ([`limits`]), FX rates to CNY ([`fx`])
//! and the authority bands of each level ([`bands`]). This module owns their tables
//! ([`entity`]) and the rule by which a versioned series is read on a date.
//!
//! Limits and bands are **versioned series**: an update stores a new version (quotes keep the
//! version they used) with its own effective range. The version of a series **in force on a
//! date** is its highest version whose range contains the date, so a new version that starts
//! in the future leaves the current one governing until then. Two series of the same slot (a
//! band's level and product kind; a limit's kind, product kind and term bounds) may never cover
//! the same day: a write whose range overlaps any version of another series of its slot is
//! refused with `FAILED_PRECONDITION` naming that series (the domain's `first_overlap`).

pub mod bands;
pub mod entity;
pub mod fx;
pub mod limits;
pub mod rates;

use bankmkt_domain::pricing::EffectiveRange;
use chrono::NaiveDate;

/// From `rows` grouped by series with versions descending, the version of each series in force on
/// `date`: the first (highest) one whose range contains it. Series order is kept.
pub fn in_force<T>(
    rows: &[T],
    series: impl Fn(&T) -> &str,
    range: impl Fn(&T) -> EffectiveRange,
    date: NaiveDate,
) -> Vec<&T> {
    let mut out: Vec<&T> = Vec::new();
    let mut current: Option<&str> = None;
    let mut found = false;
    for row in rows {
        let id = series(row);
        if current != Some(id) {
            current = Some(id);
            found = false;
        }
        if !found && range(row).contains(date) {
            out.push(row);
            found = true;
        }
    }
    out
}

/// The series (other than `own`) whose versions in `rows` overlap `range`: the first such
/// series id, by the domain's overlap rule.
pub fn overlapping_series<'a, T>(
    rows: &'a [T],
    own: Option<&str>,
    series: impl Fn(&'a T) -> &'a str,
    range_of: impl Fn(&T) -> EffectiveRange,
    range: &EffectiveRange,
) -> Option<&'a str> {
    let ranges: Vec<(&'a str, EffectiveRange)> = rows
        .iter()
        .filter(|r| Some(series(r)) != own)
        .map(|r| (series(r), range_of(r)))
        .collect();
    bankmkt_domain::pricing::first_overlap(ranges.iter().map(|(id, r)| (*id, r)), range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn the_highest_version_covering_the_date_is_in_force() {
        // (series, version, range), grouped by series, versions descending.
        let rows = [
            ("a", 2, EffectiveRange::starting(d(2026, 1, 1))),
            ("a", 1, EffectiveRange::starting(d(2025, 1, 1))),
            (
                "b",
                1,
                EffectiveRange {
                    from: d(2024, 1, 1),
                    to: Some(d(2025, 1, 1)),
                },
            ),
        ];
        let on = |date| {
            in_force(&rows, |r| r.0, |r| r.2, date)
                .iter()
                .map(|r| (r.0, r.1))
                .collect::<Vec<_>>()
        };
        assert_eq!(on(d(2025, 6, 1)), [("a", 1)]);
        assert_eq!(on(d(2026, 6, 1)), [("a", 2)]);
        assert_eq!(on(d(2024, 6, 1)), [("b", 1)]);
        let new = EffectiveRange::starting(d(2024, 12, 1));
        assert_eq!(
            overlapping_series(&rows, None, |r| r.0, |r| r.2, &new),
            Some("a")
        );
        assert_eq!(
            overlapping_series(&rows, Some("a"), |r| r.0, |r| r.2, &new),
            Some("b")
        );
        let later = EffectiveRange {
            from: d(2023, 1, 1),
            to: Some(d(2024, 1, 1)),
        };
        assert_eq!(
            overlapping_series(&rows, Some("a"), |r| r.0, |r| r.2, &later),
            None
        );
    }
}
