//! Dormancy (沉默) scoring of a customer from its transaction history (DOMAIN.md §3, seed 003
//! "沉默用户激活方案"). This module owns the silence measures and the grade: the gaps Tᵢ
//! between consecutive transactions (in days), the recency Tr = today − last transaction, the
//! silence score S = Tr / max(Tᵢ) (S < 1 active, S ≥ 1 silent with depth S − 1), the rank ratio
//! TrF = rank of Tr among {Tᵢ} ∪ {Tr} ÷ the transaction count (1 = silent, near 0 = active), and
//! the [`DormancyGrade`] from configurable depth bands. Ranks are ascending and a tie ranks Tr
//! *last* among equals (Tr equal to the longest gap gives TrF = 1, matching S = 1 = silent).
//! Edge cases: no transaction → insufficient history with no measures; one transaction, or
//! several all on one day (no positive gap) → insufficient history with Tr and TrF (= 1) but no
//! S. S, its depth and TrF are rounded once to [`SCORE_DP`] places with the crate's
//! [`ROUNDING`] rule, and the grade is read from the rounded S.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;

use crate::money::ROUNDING;

code_enum! {
    /// A dormancy grade.
    pub enum DormancyGrade {
        /// S < 1: not silent.
        Active => "active",
        /// S ≥ 1 with depth S − 1 below the light band's end (default 1).
        Light => "light",
        /// Depth from the light band's end to below the medium band's end (default 3).
        Medium => "medium",
        /// Depth at or beyond the medium band's end.
        Deep => "deep",
        /// No positive gap to compare with: fewer than two transactions, or all on one day.
        InsufficientHistory => "insufficient_history",
    }
}

/// Decimal places of S, its depth and TrF.
pub const SCORE_DP: u32 = 6;

/// Errors of dormancy inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DormancyError {
    /// A transaction after `today`.
    #[error("transaction date {date} is after today {today}")]
    FutureTransaction {
        /// The transaction date.
        date: NaiveDate,
        /// Today.
        today: NaiveDate,
    },
    /// Depth bands that are not 0 < light < medium.
    #[error(
        "dormancy depth bands light {light} and medium {medium} must satisfy 0 < light < medium"
    )]
    Bands {
        /// The end of the light band.
        light: Decimal,
        /// The end of the medium band.
        medium: Decimal,
    },
}

/// The depth bands of the silent grades (configuration): depth = S − 1 below `light_max` is
/// light, below `medium_max` medium, and deep beyond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DormancyConfig {
    light_max: Decimal,
    medium_max: Decimal,
}

impl DormancyConfig {
    /// Validates `0 < light_max < medium_max`.
    pub fn new(light_max: Decimal, medium_max: Decimal) -> Result<Self, DormancyError> {
        if Decimal::ZERO < light_max && light_max < medium_max {
            Ok(Self {
                light_max,
                medium_max,
            })
        } else {
            Err(DormancyError::Bands {
                light: light_max,
                medium: medium_max,
            })
        }
    }

    /// The end of the light band (depth).
    pub fn light_max(&self) -> Decimal {
        self.light_max
    }

    /// The end of the medium band (depth).
    pub fn medium_max(&self) -> Decimal {
        self.medium_max
    }

    /// The grade of a silence score.
    pub fn grade(&self, silence: Decimal) -> DormancyGrade {
        if silence < Decimal::ONE {
            return DormancyGrade::Active;
        }
        // silence ≥ 1, so the subtraction cannot overflow.
        let depth = silence - Decimal::ONE;
        if depth < self.light_max {
            DormancyGrade::Light
        } else if depth < self.medium_max {
            DormancyGrade::Medium
        } else {
            DormancyGrade::Deep
        }
    }
}

impl Default for DormancyConfig {
    /// Light below depth 1 (S < 2), medium below depth 3 (S < 4), deep beyond.
    fn default() -> Self {
        Self {
            light_max: Decimal::ONE,
            medium_max: Decimal::from(3),
        }
    }
}

/// A customer's dormancy measures and grade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DormancyScore {
    /// The transactions counted (cF).
    pub transaction_count: u64,
    /// The last transaction date (when computed from dates).
    pub last_transaction: Option<NaiveDate>,
    /// Tr in days; `None` without transactions.
    pub recency_days: Option<u32>,
    /// max(Tᵢ) in days; `None` with fewer than two transactions.
    pub max_gap_days: Option<u32>,
    /// S = Tr / max(Tᵢ); `None` when there is no positive gap.
    pub silence_score: Option<Decimal>,
    /// S − 1 when S ≥ 1, else 0; `None` with S.
    pub silence_depth: Option<Decimal>,
    /// TrF; `None` without transactions.
    pub rank_ratio: Option<Decimal>,
    /// The grade.
    pub grade: DormancyGrade,
}

/// Scores a customer from its transaction dates (any order, repeats allowed) as of `today`.
/// A date after `today` is an error.
pub fn dormancy_from_dates(
    dates: &[NaiveDate],
    today: NaiveDate,
    config: &DormancyConfig,
) -> Result<DormancyScore, DormancyError> {
    if let Some(date) = dates.iter().find(|d| **d > today) {
        return Err(DormancyError::FutureTransaction { date: *date, today });
    }
    let mut sorted = dates.to_vec();
    sorted.sort_unstable();
    let Some(&last) = sorted.last() else {
        return Ok(DormancyScore {
            transaction_count: 0,
            last_transaction: None,
            recency_days: None,
            max_gap_days: None,
            silence_score: None,
            silence_depth: None,
            rank_ratio: None,
            grade: DormancyGrade::InsufficientHistory,
        });
    };
    let days = |a: NaiveDate, b: NaiveDate| {
        // Dates span less than 2^32 days, and b ≥ a here.
        u32::try_from(b.signed_duration_since(a).num_days()).unwrap_or(u32::MAX)
    };
    let gaps: Vec<u32> = sorted.windows(2).map(|w| days(w[0], w[1])).collect();
    let mut score = dormancy_from_gaps(&gaps, days(last, today), config);
    score.last_transaction = Some(last);
    Ok(score)
}

/// Scores a customer from its gaps Tᵢ (in days, any order) and recency Tr: the transaction
/// count is `gaps.len() + 1`.
pub fn dormancy_from_gaps(
    gaps: &[u32],
    recency_days: u32,
    config: &DormancyConfig,
) -> DormancyScore {
    let count = gaps.len() as u64 + 1;
    let rank = 1 + gaps.iter().filter(|g| **g <= recency_days).count() as u64;
    let rank_ratio = ratio(Decimal::from(rank), Decimal::from(count));
    let max_gap = gaps.iter().copied().max();
    let silence = max_gap
        .filter(|m| *m > 0)
        .map(|m| ratio(Decimal::from(recency_days), Decimal::from(m)));
    DormancyScore {
        transaction_count: count,
        last_transaction: None,
        recency_days: Some(recency_days),
        max_gap_days: max_gap,
        silence_score: silence,
        silence_depth: silence.map(|s| (s - Decimal::ONE).max(Decimal::ZERO)),
        rank_ratio: Some(rank_ratio),
        grade: silence.map_or(DormancyGrade::InsufficientHistory, |s| config.grade(s)),
    }
}

/// `a / b` for `b > 0` (both below 2^64, so the quotient is below 2^64 and exact to
/// `Decimal`'s 28 digits), rounded to [`SCORE_DP`] places.
fn ratio(a: Decimal, b: Decimal) -> Decimal {
    a.checked_div(b)
        .unwrap_or(Decimal::ZERO)
        .round_dp_with_strategy(SCORE_DP, ROUNDING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DormancyGrade::*;
    use rust_decimal_macros::dec;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    /// Jan 1, Jan 11, Jan 31, Feb 15: gaps 10, 20, 15 days; max 20; four transactions.
    fn history() -> Vec<NaiveDate> {
        vec![d(1, 31), d(1, 1), d(2, 15), d(1, 11)]
    }

    fn score(today: NaiveDate) -> DormancyScore {
        dormancy_from_dates(&history(), today, &DormancyConfig::default()).unwrap()
    }

    #[test]
    fn silence_score_rank_ratio_and_grades() {
        // Today Feb 25: Tr = 10, S = 10/20 = 0.5 (active); Tr ranks 2nd in {10, 20, 15, 10}
        // (ties rank Tr last) → TrF = 2/4 = 0.5.
        let s = score(d(2, 25));
        assert_eq!(s.transaction_count, 4);
        assert_eq!(s.last_transaction, Some(d(2, 15)));
        assert_eq!(s.recency_days, Some(10));
        assert_eq!(s.max_gap_days, Some(20));
        assert_eq!(s.silence_score, Some(dec!(0.5)));
        assert_eq!(s.silence_depth, Some(dec!(0)));
        assert_eq!(s.rank_ratio, Some(dec!(0.5)));
        assert_eq!(s.grade, Active);
        // Mar 7: Tr = 20 = max gap → S = 1 (silent, depth 0, light); TrF = 4/4 = 1.
        let s = score(d(3, 7));
        assert_eq!(
            (s.recency_days, s.silence_score, s.rank_ratio),
            (Some(20), Some(dec!(1)), Some(dec!(1)))
        );
        assert_eq!(s.grade, Light);
        // Mar 17: Tr = 30 (13 days of February + 17) → S = 1.5, depth 0.5 → light.
        let s = score(d(3, 17));
        assert_eq!(
            (s.silence_score, s.silence_depth, s.grade),
            (Some(dec!(1.5)), Some(dec!(0.5)), Light)
        );
        // Apr 6: Tr = 50 → S = 2.5, depth 1.5 → medium (1 ≤ 1.5 < 3).
        let s = score(d(4, 6));
        assert_eq!(
            (s.silence_score, s.silence_depth, s.grade),
            (Some(dec!(2.5)), Some(dec!(1.5)), Medium)
        );
        // May 6: Tr = 80 → S = 4, depth 3 → deep (a band's end belongs to the next band).
        let s = score(d(5, 6));
        assert_eq!(
            (s.silence_score, s.silence_depth, s.grade),
            (Some(dec!(4)), Some(dec!(3)), Deep)
        );
        // Feb 15 itself: Tr = 0 → S = 0; TrF = 1/4 = 0.25.
        let s = score(d(2, 15));
        assert_eq!(
            (s.silence_score, s.rank_ratio, s.grade),
            (Some(dec!(0)), Some(dec!(0.25)), Active)
        );
        // Rounding: one gap of 3 days, Tr = 2 → S = 0.666667; TrF = 1/2.
        let s = dormancy_from_gaps(&[3], 2, &DormancyConfig::default());
        assert_eq!(s.silence_score, Some(dec!(0.666667)));
        assert_eq!(s.rank_ratio, Some(dec!(0.5)));
        assert_eq!(s.transaction_count, 2);
    }

    #[test]
    fn edge_cases() {
        let config = DormancyConfig::default();
        // No transaction: nothing to measure.
        let none = dormancy_from_dates(&[], d(3, 1), &config).unwrap();
        assert_eq!(none.transaction_count, 0);
        assert_eq!(none.grade, InsufficientHistory);
        assert_eq!(
            (none.recency_days, none.rank_ratio, none.silence_score),
            (None, None, None)
        );
        // One transaction: recency and TrF = 1/1, but no gap.
        let one = dormancy_from_dates(&[d(1, 1)], d(3, 1), &config).unwrap();
        assert_eq!(one.recency_days, Some(59));
        assert_eq!(one.rank_ratio, Some(dec!(1)));
        assert_eq!(
            (one.max_gap_days, one.silence_score, one.silence_depth),
            (None, None, None)
        );
        assert_eq!(one.grade, InsufficientHistory);
        // Three transactions on one day: gaps 0 and 0, no positive gap.
        let same = dormancy_from_dates(&[d(1, 5), d(1, 5), d(1, 5)], d(1, 20), &config).unwrap();
        assert_eq!(same.transaction_count, 3);
        assert_eq!(same.max_gap_days, Some(0));
        assert_eq!(same.silence_score, None);
        assert_eq!(same.rank_ratio, Some(dec!(1)));
        assert_eq!(same.grade, InsufficientHistory);
        // Repeats next to real gaps count as zero gaps: Jan 1, Jan 1, Jan 11 → gaps 0, 10.
        let rep = dormancy_from_dates(&[d(1, 1), d(1, 11), d(1, 1)], d(1, 16), &config).unwrap();
        assert_eq!(rep.silence_score, Some(dec!(0.5)));
        // TrF: Tr = 5 ranks 2nd in {0, 10, 5} → 2/3.
        assert_eq!(rep.rank_ratio, Some(dec!(0.666667)));
        // A future date is refused, naming it.
        assert_eq!(
            dormancy_from_dates(&[d(1, 1), d(4, 1)], d(3, 1), &config)
                .unwrap_err()
                .to_string(),
            "transaction date 2025-04-01 is after today 2025-03-01"
        );
    }

    #[test]
    fn configurable_bands() {
        let c = DormancyConfig::new(dec!(0.5), dec!(2)).unwrap();
        assert_eq!(c.grade(dec!(1.4)), Light);
        assert_eq!(c.grade(dec!(1.5)), Medium);
        assert_eq!(c.grade(dec!(3)), Deep);
        assert_eq!(c.grade(dec!(0.999999)), Active);
        assert!(DormancyConfig::new(dec!(0), dec!(2)).is_err());
        assert_eq!(
            DormancyConfig::new(dec!(2), dec!(2)),
            Err(DormancyError::Bands {
                light: dec!(2),
                medium: dec!(2)
            })
        );
        assert_eq!(
            DormancyGrade::InsufficientHistory.as_str(),
            "insufficient_history"
        );
    }
}
