//! FX rates to the reporting currency (DOMAIN.md §4: "other currencies are converted at
//! effective-dated FX rates, kept as data like the reference rates"). This module owns the rate
//! point (CNY per one unit of a foreign currency, in force from its date until the next point of
//! the currency), the lookup of the rate in force on a date (CNY itself is always 1), and exact
//! conversion: an unrounded amount times the rate, rounded once, to the fen, by the caller or by
//! [`money_to_cny`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{PricingError, PricingViolation, violations_result};
use crate::exact;
use crate::money::{Currency, Money};

/// One point of a currency's FX series to CNY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    /// The foreign currency; not CNY.
    pub currency: Currency,
    /// The first day the rate applies; in force until the currency's next point.
    pub effective_date: NaiveDate,
    /// CNY per one unit of the currency, e.g. 7.1234; positive.
    pub cny_per_unit: Decimal,
}

impl FxRate {
    /// Checks the point: not CNY (`currency`), a positive rate (`cny_per_unit`).
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        if self.currency == Currency::CNY {
            v.push(PricingViolation::new(
                "currency",
                "CNY is the reporting currency; its rate is always 1",
            ));
        }
        if self.cny_per_unit <= Decimal::ZERO {
            v.push(PricingViolation::new("cny_per_unit", "must be positive"));
        }
        violations_result(v)
    }
}

/// CNY per one unit of `currency` on `date`: 1 for CNY, else the point of the currency with the
/// latest effective date on or before `date` (of two points on one date the first wins). Fails
/// with [`PricingError::NoFxRate`] when there is none.
pub fn cny_per_unit(
    series: &[FxRate],
    currency: Currency,
    date: NaiveDate,
) -> Result<Decimal, PricingError> {
    if currency == Currency::CNY {
        return Ok(Decimal::ONE);
    }
    let mut best: Option<&FxRate> = None;
    for point in series {
        if point.currency == currency
            && point.effective_date <= date
            && best.is_none_or(|b| point.effective_date > b.effective_date)
        {
            best = Some(point);
        }
    }
    best.map(|p| p.cny_per_unit)
        .ok_or(PricingError::NoFxRate { currency, date })
}

/// An exact amount in major units of a currency, in CNY major units at `rate`: unrounded.
pub fn to_cny(amount: Decimal, rate: Decimal) -> Result<Decimal, PricingError> {
    Ok(exact::mul(amount, rate)?)
}

/// `amount` in CNY at the rate in force on `date`, rounded once to the fen.
pub fn money_to_cny(
    amount: Money,
    series: &[FxRate],
    date: NaiveDate,
) -> Result<Money, PricingError> {
    let rate = cny_per_unit(series, amount.currency(), date)?;
    let cny = to_cny(amount.to_decimal(), rate)?;
    Ok(Money::from_decimal(Currency::CNY, cny)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn series() -> Vec<FxRate> {
        vec![
            FxRate {
                currency: Currency::USD,
                effective_date: d(2025, 6, 1),
                cny_per_unit: dec!(7.1834),
            },
            FxRate {
                currency: Currency::USD,
                effective_date: d(2025, 1, 1),
                cny_per_unit: dec!(7.2993),
            },
        ]
    }

    #[test]
    fn rate_in_force_and_cny_is_one() {
        let s = series();
        assert_eq!(
            cny_per_unit(&s, Currency::CNY, d(2000, 1, 1)),
            Ok(Decimal::ONE)
        );
        assert_eq!(
            cny_per_unit(&s, Currency::USD, d(2025, 5, 31)),
            Ok(dec!(7.2993))
        );
        assert_eq!(
            cny_per_unit(&s, Currency::USD, d(2025, 6, 1)),
            Ok(dec!(7.1834))
        );
        assert_eq!(
            cny_per_unit(&s, Currency::USD, d(2024, 12, 31)),
            Err(PricingError::NoFxRate {
                currency: Currency::USD,
                date: d(2024, 12, 31)
            })
        );
        assert!(cny_per_unit(&s, Currency::EUR, d(2025, 6, 1)).is_err());
    }

    #[test]
    fn conversion_is_exact_and_rounded_once() {
        let s = series();
        // USD 1,234.57 × 7.1834 = 8,868.410138 → CNY 8,868.41.
        let usd = Money::from_minor(Currency::USD, 123_457);
        assert_eq!(
            money_to_cny(usd, &s, d(2025, 6, 2)),
            Ok(Money::from_minor(Currency::CNY, 886_841))
        );
        assert_eq!(to_cny(dec!(0.005), dec!(7.1834)), Ok(dec!(0.0359170)));
        let cny = Money::from_minor(Currency::CNY, 42);
        assert_eq!(money_to_cny(cny, &[], d(2025, 6, 2)), Ok(cny));
    }

    #[test]
    fn validation() {
        assert_eq!(series()[0].validate(), Ok(()));
        let bad = FxRate {
            currency: Currency::CNY,
            effective_date: d(2025, 1, 1),
            cny_per_unit: Decimal::ZERO,
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["currency", "cny_per_unit"]);
    }
}
