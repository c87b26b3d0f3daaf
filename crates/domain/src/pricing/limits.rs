//! Reference rates and regulatory limits (DOMAIN.md §4 "Regulatory limits"): the effective-dated
//! LPR 1Y / 5Y series and the lookup of the point in force on a date, and the loan-rate floors
//! and deposit-rate caps per product kind (optionally restricted to a range of terms), each
//! expressed as a spread over a reference rate or as an absolute rate. No authority band
//! overrides a limit: a breach is an error ([`RegulatoryBreach`]) that names the limit, which a
//! service answers with `FAILED_PRECONDITION` of type `REGULATORY_LIMIT`. Bounds are inclusive: a
//! rate equal to a floor or a cap is allowed.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::catalogue::{ProductKind, rate_in_range};
use super::effective::EffectiveRange;
use super::{PricingError, PricingViolation, violations_result};
use crate::money::BasisPoints;

code_enum! {
    /// A reference-rate series.
    pub enum ReferenceRateKind {
        /// Loan prime rate, one year.
        Lpr1y => "lpr_1y",
        /// Loan prime rate, over five years.
        Lpr5y => "lpr_5y",
    }
}

impl ReferenceRateKind {
    /// The display name, `LPR 1Y` or `LPR 5Y`.
    pub fn label(self) -> &'static str {
        match self {
            ReferenceRateKind::Lpr1y => "LPR 1Y",
            ReferenceRateKind::Lpr5y => "LPR 5Y",
        }
    }
}

/// One point of a reference-rate series, in force from its date until the next point of the same
/// series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceRate {
    /// The series.
    pub kind: ReferenceRateKind,
    /// The first day the rate applies.
    pub effective_date: NaiveDate,
    /// The rate in basis points a year, e.g. 345 for 3.45%.
    pub rate: BasisPoints,
}

impl ReferenceRate {
    /// Checks the rate: 0 to 10,000 bp (`rate_bps`).
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        if (0..=10_000).contains(&self.rate.value()) {
            Ok(())
        } else {
            Err(vec![PricingViolation::new(
                "rate_bps",
                format!("{} is outside 0 to 10000 bp", self.rate.value()),
            )])
        }
    }
}

/// The rate of series `kind` in force on `date`: the point with the latest effective date on or
/// before `date` (the series need not be sorted; of two points on one date the first wins).
/// `None` when the series has no point yet.
pub fn rate_on(
    series: &[ReferenceRate],
    kind: ReferenceRateKind,
    date: NaiveDate,
) -> Option<BasisPoints> {
    let mut best: Option<&ReferenceRate> = None;
    for point in series {
        if point.kind == kind
            && point.effective_date <= date
            && best.is_none_or(|b| point.effective_date > b.effective_date)
        {
            best = Some(point);
        }
    }
    best.map(|p| p.rate)
}

code_enum! {
    /// The kind of a regulatory limit.
    pub enum RegulatoryLimitKind {
        /// A loan rate may not be below the bound (asset products).
        LoanRateFloor => "loan_rate_floor",
        /// A deposit rate may not be above the bound (liability products).
        DepositRateCap => "deposit_rate_cap",
    }
}

impl RegulatoryLimitKind {
    /// The product kind the limit applies to: asset for a floor, liability for a cap.
    pub const fn product_kind(self) -> ProductKind {
        match self {
            RegulatoryLimitKind::LoanRateFloor => ProductKind::Asset,
            RegulatoryLimitKind::DepositRateCap => ProductKind::Liability,
        }
    }
}

/// The bound of a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitBound {
    /// The reference rate in force on the quote date plus `spread` (which may be negative).
    ReferenceSpread {
        /// The reference series.
        reference: ReferenceRateKind,
        /// The spread over it in basis points.
        spread: BasisPoints,
    },
    /// An absolute rate in basis points.
    Absolute(BasisPoints),
}

impl fmt::Display for LimitBound {
    /// `LPR 1Y - 50bp`, `LPR 5Y + 10bp`, `LPR 1Y`, `150bp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitBound::ReferenceSpread { reference, spread } => match spread.value() {
                0 => f.write_str(reference.label()),
                s if s < 0 => write!(f, "{} - {}bp", reference.label(), -i64::from(s)),
                s => write!(f, "{} + {s}bp", reference.label()),
            },
            LimitBound::Absolute(rate) => write!(f, "{rate}"),
        }
    }
}

/// A regulatory limit that no authority band can override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegulatoryLimit {
    /// Stable id of the limit series; a breach names it.
    pub limit_id: String,
    /// Display name used in messages, e.g. `loan floor: LPR 1Y - 50 bp`.
    pub name: String,
    /// Floor or cap.
    pub kind: RegulatoryLimitKind,
    /// The product kind it applies to: asset for a floor, liability for a cap.
    pub product_kind: ProductKind,
    /// The bound.
    pub bound: LimitBound,
    /// Applies to items with a term of at least this many months; `None` for no lower bound.
    pub min_term_months: Option<u32>,
    /// Applies to items with a term of at most this many months; `None` for no upper bound.
    pub max_term_months: Option<u32>,
    /// When it is in force.
    pub effective: EffectiveRange,
}

impl RegulatoryLimit {
    /// Checks the limit: a name of 1 to 200 characters, the product kind the limit kind needs, a
    /// bound within ±10,000 bp, term bounds of at least 1 month with min ≤ max, and a valid
    /// range. Every problem is returned, named by its proto field.
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        let len = self.name.chars().count();
        if self.name.trim().is_empty() || len > 200 {
            v.push(PricingViolation::new("name", "must be 1 to 200 characters"));
        }
        if self.product_kind != self.kind.product_kind() {
            v.push(PricingViolation::new(
                "product_kind",
                format!(
                    "a {} applies to {} products, not {}",
                    self.kind,
                    self.kind.product_kind(),
                    self.product_kind
                ),
            ));
        }
        match self.bound {
            LimitBound::ReferenceSpread { spread, .. } if !rate_in_range(spread) => {
                v.push(PricingViolation::new(
                    "reference_spread.spread_bps",
                    format!("{} is outside -10000 to 10000 bp", spread.value()),
                ));
            }
            LimitBound::Absolute(rate) if !(0..=10_000).contains(&rate.value()) => {
                v.push(PricingViolation::new(
                    "absolute_rate_bps",
                    format!("{} is outside 0 to 10000 bp", rate.value()),
                ));
            }
            _ => {}
        }
        for (field, months) in [
            ("min_term_months", self.min_term_months),
            ("max_term_months", self.max_term_months),
        ] {
            if months == Some(0) {
                v.push(PricingViolation::new(field, "must be at least 1 when set"));
            }
        }
        if let (Some(min), Some(max)) = (self.min_term_months, self.max_term_months)
            && min > max
        {
            v.push(PricingViolation::new(
                "max_term_months",
                format!("{max} is below min_term_months {min}"),
            ));
        }
        if let Err(e) = self.effective.validate() {
            v.push(e.prefixed("effective"));
        }
        violations_result(v)
    }

    /// Whether the limit applies to an item of `kind` and `term_months` priced on `date`.
    pub fn applies_to(&self, kind: ProductKind, term_months: u32, date: NaiveDate) -> bool {
        self.product_kind == kind
            && self.effective.contains(date)
            && self.min_term_months.is_none_or(|min| term_months >= min)
            && self.max_term_months.is_none_or(|max| term_months <= max)
    }

    /// The bound in force on `date`: the reference rate in force then plus the spread, or the
    /// absolute rate. Fails when the reference series has no point on or before `date`.
    pub fn bound_on(
        &self,
        series: &[ReferenceRate],
        date: NaiveDate,
    ) -> Result<BasisPoints, PricingError> {
        match self.bound {
            LimitBound::Absolute(rate) => Ok(rate),
            LimitBound::ReferenceSpread { reference, spread } => {
                let base =
                    rate_on(series, reference, date).ok_or(PricingError::NoReferenceRate {
                        kind: reference,
                        date,
                    })?;
                Ok(base.checked_add(spread)?)
            }
        }
    }

    /// Checks `rate` against a bound already resolved (see [`RegulatoryLimit::bound_on`]): a
    /// floor is breached by a rate below it, a cap by a rate above it.
    pub fn check_bound(
        &self,
        bound: BasisPoints,
        rate: BasisPoints,
    ) -> Result<(), RegulatoryBreach> {
        let breached = match self.kind {
            RegulatoryLimitKind::LoanRateFloor => rate < bound,
            RegulatoryLimitKind::DepositRateCap => rate > bound,
        };
        if breached {
            Err(RegulatoryBreach {
                limit_id: self.limit_id.clone(),
                limit_name: self.name.clone(),
                kind: self.kind,
                bound,
                rate,
            })
        } else {
            Ok(())
        }
    }
}

/// A rate that breaches a regulatory limit.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct RegulatoryBreach {
    /// The limit's id (the subject of the `REGULATORY_LIMIT` precondition violation).
    pub limit_id: String,
    /// The limit's display name.
    pub limit_name: String,
    /// Floor or cap.
    pub kind: RegulatoryLimitKind,
    /// The bound in force.
    pub bound: BasisPoints,
    /// The rate that breaches it.
    pub rate: BasisPoints,
}

impl fmt::Display for RegulatoryBreach {
    /// `rate 300bp is below the floor 305bp of regulatory limit "loan floor: LPR 1Y - 40 bp"
    /// (floor-1y)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (side, what) = match self.kind {
            RegulatoryLimitKind::LoanRateFloor => ("below", "floor"),
            RegulatoryLimitKind::DepositRateCap => ("above", "cap"),
        };
        write!(
            f,
            "rate {} is {side} the {what} {} of regulatory limit {:?} ({})",
            self.rate, self.bound, self.limit_name, self.limit_id
        )
    }
}

/// Checks `rate` against `limit` on `date`, resolving the bound from the reference `series`.
/// Fails with [`PricingError::RegulatoryBreach`] naming the limit, or
/// [`PricingError::NoReferenceRate`].
pub fn check(
    limit: &RegulatoryLimit,
    series: &[ReferenceRate],
    date: NaiveDate,
    rate: BasisPoints,
) -> Result<(), PricingError> {
    let bound = limit.bound_on(series, date)?;
    limit.check_bound(bound, rate)?;
    Ok(())
}

/// Checks `rate` of an item of `kind` and `term_months` against every limit that applies to it
/// on `date`, in the order given, and returns the ids of the limits checked (all passed). The
/// first breach fails the call.
pub fn check_all(
    limits: &[RegulatoryLimit],
    series: &[ReferenceRate],
    kind: ProductKind,
    term_months: u32,
    date: NaiveDate,
    rate: BasisPoints,
) -> Result<Vec<String>, PricingError> {
    let mut checked = Vec::new();
    for limit in limits
        .iter()
        .filter(|l| l.applies_to(kind, term_months, date))
    {
        check(limit, series, date, rate)?;
        checked.push(limit.limit_id.clone());
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn bp(v: i32) -> BasisPoints {
        BasisPoints::new(v)
    }

    fn series() -> Vec<ReferenceRate> {
        vec![
            ReferenceRate {
                kind: ReferenceRateKind::Lpr1y,
                effective_date: d(2025, 5, 20),
                rate: bp(300),
            },
            ReferenceRate {
                kind: ReferenceRateKind::Lpr1y,
                effective_date: d(2024, 10, 21),
                rate: bp(310),
            },
            ReferenceRate {
                kind: ReferenceRateKind::Lpr5y,
                effective_date: d(2025, 5, 20),
                rate: bp(350),
            },
        ]
    }

    fn floor() -> RegulatoryLimit {
        RegulatoryLimit {
            limit_id: "floor-1y".into(),
            name: "loan floor: LPR 1Y - 50 bp".into(),
            kind: RegulatoryLimitKind::LoanRateFloor,
            product_kind: ProductKind::Asset,
            bound: LimitBound::ReferenceSpread {
                reference: ReferenceRateKind::Lpr1y,
                spread: bp(-50),
            },
            min_term_months: None,
            max_term_months: Some(12),
            effective: EffectiveRange::starting(d(2024, 1, 1)),
        }
    }

    fn cap() -> RegulatoryLimit {
        RegulatoryLimit {
            limit_id: "cap-demand".into(),
            name: "deposit cap: 1.50%".into(),
            kind: RegulatoryLimitKind::DepositRateCap,
            product_kind: ProductKind::Liability,
            bound: LimitBound::Absolute(bp(150)),
            min_term_months: None,
            max_term_months: None,
            effective: EffectiveRange::starting(d(2024, 1, 1)),
        }
    }

    #[test]
    fn reference_rate_in_force_on_a_date() {
        let s = series();
        assert_eq!(
            rate_on(&s, ReferenceRateKind::Lpr1y, d(2025, 5, 19)),
            Some(bp(310))
        );
        assert_eq!(
            rate_on(&s, ReferenceRateKind::Lpr1y, d(2025, 5, 20)),
            Some(bp(300))
        );
        assert_eq!(
            rate_on(&s, ReferenceRateKind::Lpr5y, d(2025, 6, 1)),
            Some(bp(350))
        );
        assert_eq!(rate_on(&s, ReferenceRateKind::Lpr5y, d(2025, 5, 19)), None);
        assert_eq!(rate_on(&[], ReferenceRateKind::Lpr1y, d(2025, 5, 19)), None);
        assert!(s[0].validate().is_ok());
        let bad = ReferenceRate {
            rate: bp(-1),
            ..s[0]
        };
        assert_eq!(bad.validate().unwrap_err()[0].field, "rate_bps");
    }

    #[test]
    fn floors_and_caps_name_the_limit() {
        let s = series();
        // LPR 1Y 3.00% − 50 bp = 2.50%; at the floor is allowed.
        assert_eq!(check(&floor(), &s, d(2025, 6, 1), bp(250)), Ok(()));
        let err = check(&floor(), &s, d(2025, 6, 1), bp(249)).unwrap_err();
        let PricingError::RegulatoryBreach(breach) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(breach.limit_id, "floor-1y");
        assert_eq!(breach.bound, bp(250));
        assert_eq!(
            err.to_string(),
            "rate 249bp is below the floor 250bp of regulatory limit \"loan floor: LPR 1Y - 50 bp\" (floor-1y)"
        );
        // Before the May cut the floor was 3.10% − 50 bp = 2.60%.
        assert!(check(&floor(), &s, d(2025, 5, 1), bp(255)).is_err());
        assert_eq!(check(&cap(), &s, d(2025, 6, 1), bp(150)), Ok(()));
        let err = check(&cap(), &s, d(2025, 6, 1), bp(151)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("rate 151bp is above the cap 150bp")
        );
        assert_eq!(
            check(&floor(), &s, d(2024, 1, 1), bp(500)),
            Err(PricingError::NoReferenceRate {
                kind: ReferenceRateKind::Lpr1y,
                date: d(2024, 1, 1)
            })
        );
    }

    #[test]
    fn limits_apply_by_kind_term_and_date() {
        let s = series();
        let limits = [floor(), cap()];
        let date = d(2025, 6, 1);
        assert_eq!(
            check_all(&limits, &s, ProductKind::Asset, 12, date, bp(300)),
            Ok(vec!["floor-1y".to_owned()])
        );
        // A 24-month loan is outside the floor's term range.
        assert_eq!(
            check_all(&limits, &s, ProductKind::Asset, 24, date, bp(100)),
            Ok(vec![])
        );
        assert_eq!(
            check_all(&limits, &s, ProductKind::Fee, 12, date, bp(0)),
            Ok(vec![])
        );
        assert!(check_all(&limits, &s, ProductKind::Liability, 3, date, bp(200)).is_err());
        assert!(!floor().applies_to(ProductKind::Asset, 12, d(2023, 12, 31)));
        let mut min = floor();
        min.min_term_months = Some(6);
        assert!(!min.applies_to(ProductKind::Asset, 5, date));
        assert!(min.applies_to(ProductKind::Asset, 6, date));
    }

    #[test]
    fn limit_validation() {
        assert_eq!(floor().validate(), Ok(()));
        assert_eq!(cap().validate(), Ok(()));
        let bad = RegulatoryLimit {
            name: String::new(),
            product_kind: ProductKind::Liability,
            bound: LimitBound::ReferenceSpread {
                reference: ReferenceRateKind::Lpr5y,
                spread: bp(-10_001),
            },
            min_term_months: Some(13),
            max_term_months: Some(12),
            effective: EffectiveRange {
                from: d(2025, 1, 1),
                to: Some(d(2025, 1, 1)),
            },
            ..floor()
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "product_kind",
                "reference_spread.spread_bps",
                "max_term_months",
                "effective.end_date"
            ]
        );
        let bad = RegulatoryLimit {
            bound: LimitBound::Absolute(bp(-1)),
            min_term_months: Some(0),
            ..cap()
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["absolute_rate_bps", "min_term_months"]);
        assert_eq!(floor().bound.to_string(), "LPR 1Y - 50bp");
        assert_eq!(
            LimitBound::ReferenceSpread {
                reference: ReferenceRateKind::Lpr5y,
                spread: bp(10)
            }
            .to_string(),
            "LPR 5Y + 10bp"
        );
        assert_eq!(cap().bound.to_string(), "150bp");
    }
}
