//! The data-derived side of value scoring (DOMAIN.md §3, issue 3 item 8): which factor codes are
//! graded from data rather than from a manager's assessment, and how. This module owns the
//! catalogue of data factors ([`DATA_FACTORS`]: contribution, revenue, balance, balance growth,
//! product count, transaction activity, settlement volume, linked customers, credit rating), the
//! configurable [`FactorScales`] that turn each measure into a 0–100 grade (a [`LinearScale`]
//! from a floor to a cap, or the credit-rating table), the conversion of a 0–100 grade into a
//! GE-matrix score on the 1–5 scale, and the evaluation window of a quarterly (configurable)
//! evaluation — the months `first ..= last` ending with the evaluated month. Grades are rounded
//! once to [`GRADE_DP`] places with the crate's [`ROUNDING`] rule; nothing here does I/O.

use std::collections::BTreeMap;

pub use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::Period;
use crate::exact::{self, clip};
use crate::money::{Money, ROUNDING};

/// Decimal places of a data-derived grade.
pub const GRADE_DP: u32 = 2;

/// Factor code: after-risk contribution over the evaluation window (CNY).
pub const CONTRIBUTION_AFTER_RISK: &str = "contribution_after_risk";
/// Factor code: revenue (net interest margin plus fee income) over the window (CNY).
pub const REVENUE: &str = "revenue";
/// Factor code: mean monthly average daily balance over the window's months with holdings (CNY).
pub const AVERAGE_BALANCE: &str = "average_balance";
/// Factor code: growth of the average daily balance from the window's first month with holdings
/// to its last, as a ratio (0.10 = +10%).
pub const BALANCE_GROWTH: &str = "balance_growth";
/// Factor code: distinct products held in the window's last month with holdings.
pub const PRODUCT_COUNT: &str = "product_count";
/// Factor code: transactions in the window.
pub const TRANSACTION_ACTIVITY: &str = "transaction_activity";
/// Factor code: settlement, payroll, FX and POS volume over the window (CNY).
pub const SETTLEMENT_VOLUME: &str = "settlement_volume";
/// Factor code: relationships in force with other customers (either direction).
pub const LINKED_CUSTOMERS: &str = "linked_customers";
/// Factor code: the bank's internal credit rating of an organisation.
pub const CREDIT_RATING: &str = "credit_rating";

/// Every factor code with a data source, in a fixed order. Any other factor code is graded by a
/// manager's factor assessment (or falls back to the configured default).
pub const DATA_FACTORS: [&str; 9] = [
    CONTRIBUTION_AFTER_RISK,
    REVENUE,
    AVERAGE_BALANCE,
    BALANCE_GROWTH,
    PRODUCT_COUNT,
    TRANSACTION_ACTIVITY,
    SETTLEMENT_VOLUME,
    LINKED_CUSTOMERS,
    CREDIT_RATING,
];

/// Whether `code` is graded from data.
pub fn is_data_factor(code: &str) -> bool {
    DATA_FACTORS.contains(&code)
}

/// Errors of scoring configuration and windows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScoringError {
    /// A scale whose floor is not below its cap.
    #[error("scale {factor}: floor {floor} must be below cap {cap}")]
    Scale {
        /// The factor.
        factor: &'static str,
        /// The floor.
        floor: Decimal,
        /// The cap.
        cap: Decimal,
    },
    /// A credit-rating entry with an empty or over-long rating, a repeated rating, or a grade
    /// outside 0–100.
    #[error("credit rating table: {0}")]
    Ratings(String),
    /// An evaluation window of no months, more than 24, or before representable dates.
    #[error("an evaluation window of {months} months ending {last} is not possible")]
    Window {
        /// The last month.
        last: Period,
        /// The months asked for.
        months: u32,
    },
}

/// A linear grade: 0 at or below `floor`, 100 at or above `cap`, in proportion between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearScale {
    /// The measure that grades 0.
    pub floor: Decimal,
    /// The measure that grades 100.
    pub cap: Decimal,
}

impl LinearScale {
    /// A scale from `floor` to `cap` (validated by [`FactorScales::validate`]).
    pub const fn new(floor: Decimal, cap: Decimal) -> Self {
        Self { floor, cap }
    }

    /// The grade of `measure`: (measure − floor) / (cap − floor) × 100, clamped to 0–100 and
    /// rounded once to [`GRADE_DP`] places.
    pub fn grade(&self, measure: Decimal) -> Decimal {
        if measure <= self.floor {
            return Decimal::ZERO;
        }
        if measure >= self.cap {
            return Decimal::ONE_HUNDRED;
        }
        // floor < measure < cap, so both differences are positive and the ratio is below 1.
        let graded = exact::sub(measure, self.floor)
            .and_then(|num| exact::sub(self.cap, self.floor).map(|den| (num, den)))
            .and_then(|(num, den)| exact::div(num, den))
            .and_then(|ratio| exact::mul(ratio, Decimal::ONE_HUNDRED));
        match graded {
            Ok(g) => g
                .round_dp_with_strategy(GRADE_DP, ROUNDING)
                .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED),
            Err(_) => Decimal::ZERO,
        }
    }
}

/// One row of the credit-rating table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingGrade {
    /// The rating as the organisation details carry it, e.g. `"AA"` (upper case, 1–8 chars).
    pub rating: String,
    /// Its grade, 0–100.
    pub grade: Decimal,
}

/// How each data factor is graded (configuration, versioned with the value rules). Money scales
/// are in CNY major units and apply to the whole evaluation window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorScales {
    /// [`CONTRIBUTION_AFTER_RISK`], CNY.
    pub contribution_after_risk: LinearScale,
    /// [`REVENUE`], CNY.
    pub revenue: LinearScale,
    /// [`AVERAGE_BALANCE`], CNY.
    pub average_balance: LinearScale,
    /// [`BALANCE_GROWTH`], a ratio.
    pub balance_growth: LinearScale,
    /// [`PRODUCT_COUNT`], products.
    pub product_count: LinearScale,
    /// [`TRANSACTION_ACTIVITY`], transactions.
    pub transaction_activity: LinearScale,
    /// [`SETTLEMENT_VOLUME`], CNY.
    pub settlement_volume: LinearScale,
    /// [`LINKED_CUSTOMERS`], relationships.
    pub linked_customers: LinearScale,
    /// [`CREDIT_RATING`]: the grade of each rating; a rating not in the table has no data grade.
    pub credit_ratings: Vec<RatingGrade>,
}

fn dec(units: i64) -> Decimal {
    Decimal::from(units)
}

impl Default for FactorScales {
    /// Quarterly defaults: after-risk contribution 0 → RMB 500k, revenue 0 → RMB 1M, balance
    /// 0 → RMB 50M, growth −50% → +50% (no change grades 50), 0 → 8 products, 0 → 90
    /// transactions, volume 0 → RMB 100M, 0 → 20 linked customers; ratings AAA 100, AA 90, A 80,
    /// BBB 70, BB 55, B 40, CCC 25, CC 15, C 5, D 0.
    fn default() -> Self {
        let linear = |floor: i64, cap: i64| LinearScale::new(dec(floor), dec(cap));
        let half = Decimal::new(5, 1);
        let ratings = [
            ("AAA", 100),
            ("AA", 90),
            ("A", 80),
            ("BBB", 70),
            ("BB", 55),
            ("B", 40),
            ("CCC", 25),
            ("CC", 15),
            ("C", 5),
            ("D", 0),
        ];
        Self {
            contribution_after_risk: linear(0, 500_000),
            revenue: linear(0, 1_000_000),
            average_balance: linear(0, 50_000_000),
            balance_growth: LinearScale::new(-half, half),
            product_count: linear(0, 8),
            transaction_activity: linear(0, 90),
            settlement_volume: linear(0, 100_000_000),
            linked_customers: linear(0, 20),
            credit_ratings: ratings
                .iter()
                .map(|(rating, grade)| RatingGrade {
                    rating: (*rating).to_owned(),
                    grade: dec(*grade),
                })
                .collect(),
        }
    }
}

impl FactorScales {
    /// Checks every scale (floor below cap) and the rating table (distinct ratings of 1–8
    /// characters, grades 0–100).
    pub fn validate(&self) -> Result<(), ScoringError> {
        for (factor, s) in [
            (CONTRIBUTION_AFTER_RISK, self.contribution_after_risk),
            (REVENUE, self.revenue),
            (AVERAGE_BALANCE, self.average_balance),
            (BALANCE_GROWTH, self.balance_growth),
            (PRODUCT_COUNT, self.product_count),
            (TRANSACTION_ACTIVITY, self.transaction_activity),
            (SETTLEMENT_VOLUME, self.settlement_volume),
            (LINKED_CUSTOMERS, self.linked_customers),
        ] {
            if s.floor >= s.cap {
                return Err(ScoringError::Scale {
                    factor,
                    floor: s.floor,
                    cap: s.cap,
                });
            }
        }
        for (i, r) in self.credit_ratings.iter().enumerate() {
            let len = r.rating.chars().count();
            if len == 0 || len > 8 {
                return Err(ScoringError::Ratings(format!(
                    "rating {:?} must have 1 to 8 characters",
                    clip(&r.rating)
                )));
            }
            if self.credit_ratings[..i]
                .iter()
                .any(|o| o.rating == r.rating)
            {
                return Err(ScoringError::Ratings(format!(
                    "rating {:?} is listed twice",
                    r.rating
                )));
            }
            if r.grade < Decimal::ZERO || r.grade > Decimal::ONE_HUNDRED {
                return Err(ScoringError::Ratings(format!(
                    "grade {} of rating {:?} is outside 0..=100",
                    r.grade, r.rating
                )));
            }
        }
        Ok(())
    }

    /// The grade of a credit rating: the table entry for the rating (trimmed, upper case), else
    /// the entry without a trailing `+` or `-` (`"AA-"` grades as `"AA"`); `None` when unknown.
    pub fn rating_grade(&self, rating: &str) -> Option<Decimal> {
        let wanted = rating.trim().to_ascii_uppercase();
        let find = |r: &str| {
            self.credit_ratings
                .iter()
                .find(|g| g.rating == r)
                .map(|g| g.grade)
        };
        find(&wanted).or_else(|| {
            wanted
                .strip_suffix(['+', '-'])
                .filter(|s| !s.is_empty())
                .and_then(find)
        })
    }
}

/// The measures of one customer over an evaluation window, as the registry reads them from
/// holdings, transactions, relationships and the organisation details. `None` means "no data",
/// and the factor is then graded by assessment or by the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataFactorInputs {
    /// Sum of the window's monthly after-risk contributions.
    pub after_risk: Option<Money>,
    /// Sum of the window's monthly net interest margins plus fee income.
    pub revenue: Option<Money>,
    /// Mean of the monthly total average daily balances over the months with holdings.
    pub average_balance: Option<Money>,
    /// Total average daily balance of the first month with holdings.
    pub first_balance: Option<Money>,
    /// Total average daily balance of the last month with holdings.
    pub last_balance: Option<Money>,
    /// Distinct products of the last month with holdings.
    pub product_count: Option<u32>,
    /// Transactions in the window.
    pub transaction_count: Option<u64>,
    /// Settlement + payroll + FX + POS volume over the window.
    pub settlement_volume: Option<Money>,
    /// Relationships in force at the window's end, either direction.
    pub linked_customers: Option<u32>,
    /// The organisation's credit rating; `None` or empty for none.
    pub credit_rating: Option<String>,
}

/// The 0–100 grades of the data factors that have data, keyed by factor code. Balance growth
/// needs a positive first balance; a rating must be in the table.
pub fn data_grades(inputs: &DataFactorInputs, scales: &FactorScales) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    let mut put = |code: &str, grade: Option<Decimal>| {
        if let Some(g) = grade {
            out.insert(code.to_owned(), g);
        }
    };
    let money = |m: Option<Money>, s: &LinearScale| m.map(|m| s.grade(m.to_decimal()));
    put(
        CONTRIBUTION_AFTER_RISK,
        money(inputs.after_risk, &scales.contribution_after_risk),
    );
    put(REVENUE, money(inputs.revenue, &scales.revenue));
    put(
        AVERAGE_BALANCE,
        money(inputs.average_balance, &scales.average_balance),
    );
    let growth = match (inputs.first_balance, inputs.last_balance) {
        (Some(first), Some(last)) if first.minor_units() > 0 => {
            let first = first.to_decimal();
            exact::sub(last.to_decimal(), first)
                .and_then(|d| exact::div(d, first))
                .ok()
                .map(|ratio| scales.balance_growth.grade(ratio))
        }
        _ => None,
    };
    put(BALANCE_GROWTH, growth);
    put(
        PRODUCT_COUNT,
        inputs
            .product_count
            .map(|n| scales.product_count.grade(Decimal::from(n))),
    );
    put(
        TRANSACTION_ACTIVITY,
        inputs
            .transaction_count
            .map(|n| scales.transaction_activity.grade(Decimal::from(n))),
    );
    put(
        SETTLEMENT_VOLUME,
        money(inputs.settlement_volume, &scales.settlement_volume),
    );
    put(
        LINKED_CUSTOMERS,
        inputs
            .linked_customers
            .map(|n| scales.linked_customers.grade(Decimal::from(n))),
    );
    put(
        CREDIT_RATING,
        inputs
            .credit_rating
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .and_then(|r| scales.rating_grade(r)),
    );
    out
}

/// A 0–100 grade on the GE matrix's 1–5 scale: 1 + grade × 4 / 100 (exact; grade 0 → 1,
/// 50 → 3, 100 → 5). Grades outside 0–100 are clamped first.
pub fn ge_score_from_grade(grade: Decimal) -> Decimal {
    let g = grade.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
    // g ≤ 100 with few places: no overflow.
    Decimal::ONE + g * Decimal::new(4, 2)
}

/// The longest evaluation window, in months.
pub const MAX_WINDOW_MONTHS: u32 = 24;

/// The months `first ..= last` of an evaluation window of `months` months ending with `last`
/// (3 for the default quarterly cadence), oldest first.
pub fn evaluation_window(last: Period, months: u32) -> Result<Vec<Period>, ScoringError> {
    if months == 0 || months > MAX_WINDOW_MONTHS {
        return Err(ScoringError::Window { last, months });
    }
    let mut out = vec![last];
    for _ in 1..months {
        let prev = out
            .last()
            .and_then(Period::prev)
            .ok_or(ScoringError::Window { last, months })?;
        out.push(prev);
    }
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use rust_decimal_macros::dec;

    fn cny(fen: i64) -> Option<Money> {
        Some(Money::from_minor(Currency::CNY, fen))
    }

    #[test]
    fn linear_scales_clamp_and_round_once() {
        let s = LinearScale::new(dec!(0), dec!(500000));
        assert_eq!(s.grade(dec!(-1)), dec!(0));
        assert_eq!(s.grade(dec!(0)), dec!(0));
        assert_eq!(s.grade(dec!(250000)), dec!(50));
        // 17,320.55 / 500,000 × 100 = 3.46411 → 3.46.
        assert_eq!(s.grade(dec!(17320.55)), dec!(3.46));
        assert_eq!(s.grade(dec!(500000)), dec!(100));
        assert_eq!(s.grade(dec!(9e20)), dec!(100));
        let growth = LinearScale::new(dec!(-0.5), dec!(0.5));
        assert_eq!(growth.grade(dec!(0)), dec!(50));
        assert_eq!(growth.grade(dec!(0.1)), dec!(60));
        // Half a hundredth rounds away from zero: 1/3 of the way → 33.333… → 33.33.
        let thirds = LinearScale::new(dec!(0), dec!(3));
        assert_eq!(thirds.grade(dec!(1)), dec!(33.33));
        assert_eq!(
            LinearScale::new(dec!(0), dec!(8)).grade(dec!(3)),
            dec!(37.5)
        );
    }

    #[test]
    fn data_grades_cover_only_factors_with_data() {
        let scales = FactorScales::default();
        assert_eq!(scales.validate(), Ok(()));
        assert!(data_grades(&DataFactorInputs::default(), &scales).is_empty());
        let inputs = DataFactorInputs {
            // RMB 17,320.55 after risk, RMB 33,897.26 revenue.
            after_risk: cny(1_732_055),
            revenue: cny(3_389_726),
            // RMB 10M average, growing from 10M to 12M: +20%.
            average_balance: cny(1_000_000_000),
            first_balance: cny(1_000_000_000),
            last_balance: cny(1_200_000_000),
            product_count: Some(3),
            transaction_count: Some(9),
            settlement_volume: cny(0),
            linked_customers: Some(1),
            credit_rating: Some(" aa- ".into()),
        };
        let g = data_grades(&inputs, &scales);
        assert_eq!(g[CONTRIBUTION_AFTER_RISK], dec!(3.46));
        assert_eq!(g[REVENUE], dec!(3.39));
        assert_eq!(g[AVERAGE_BALANCE], dec!(20));
        assert_eq!(g[BALANCE_GROWTH], dec!(70));
        assert_eq!(g[PRODUCT_COUNT], dec!(37.5));
        assert_eq!(g[TRANSACTION_ACTIVITY], dec!(10));
        assert_eq!(g[SETTLEMENT_VOLUME], dec!(0));
        assert_eq!(g[LINKED_CUSTOMERS], dec!(5));
        assert_eq!(g[CREDIT_RATING], dec!(90));
        assert_eq!(g.len(), DATA_FACTORS.len());
        // No growth without a positive first balance; unknown ratings have no grade.
        let sparse = DataFactorInputs {
            first_balance: cny(0),
            last_balance: cny(5),
            credit_rating: Some("Z".into()),
            ..Default::default()
        };
        assert!(data_grades(&sparse, &scales).is_empty());
        assert!(DATA_FACTORS.iter().all(|c| is_data_factor(c)));
        assert!(!is_data_factor("management_quality"));
    }

    #[test]
    fn bad_scales_are_refused() {
        let s = FactorScales {
            revenue: LinearScale::new(dec!(5), dec!(5)),
            ..Default::default()
        };
        assert!(matches!(
            s.validate(),
            Err(ScoringError::Scale {
                factor: REVENUE,
                ..
            })
        ));
        let mut r = FactorScales::default();
        r.credit_ratings.push(RatingGrade {
            rating: "AA".into(),
            grade: dec!(1),
        });
        assert!(matches!(r.validate(), Err(ScoringError::Ratings(_))));
        let mut g = FactorScales::default();
        g.credit_ratings[0].grade = dec!(101);
        assert!(matches!(g.validate(), Err(ScoringError::Ratings(_))));
    }

    #[test]
    fn ge_scores_and_windows() {
        assert_eq!(ge_score_from_grade(dec!(0)), dec!(1));
        assert_eq!(ge_score_from_grade(dec!(50)), dec!(3));
        assert_eq!(ge_score_from_grade(dec!(3.46)), dec!(1.1384));
        assert_eq!(ge_score_from_grade(dec!(150)), dec!(5));
        let p = |y, m| Period::new(y, m).unwrap();
        assert_eq!(
            evaluation_window(p(2025, 2), 3).unwrap(),
            vec![p(2024, 12), p(2025, 1), p(2025, 2)]
        );
        assert_eq!(evaluation_window(p(2025, 2), 1).unwrap(), vec![p(2025, 2)]);
        assert!(evaluation_window(p(2025, 2), 0).is_err());
        assert!(evaluation_window(p(2025, 2), 25).is_err());
    }
}
