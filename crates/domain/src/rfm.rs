//! RFM scoring and customer lifetime value (DOMAIN.md §3, seed 003 "客户价值分析模型"). This
//! module owns the quintile-style recency / frequency / monetary scores (1–5 each) **against
//! given cut points** ([`RfmCuts`]: four per measure, configuration or derived from a
//! population snapshot with [`RfmCuts::from_population`]), and the lifetime value
//! CLV = Σₜ (revenueₜ − product costₜ − retention costₜ) / (1 + d)ᵗ for t = 1 … T years,
//! computed in `Decimal` and rounded once to the fen with the crate's
//! [`ROUNDING`](crate::money::ROUNDING) rule.
//! Recency is in days (fewer is better: 5 = most recent); frequency is a count of transactions
//! and monetary an amount (more is better: 5 = most).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::exact::{self, Overflow};
use crate::money::{BasisPoints, Currency, Money, MoneyError};

/// The longest CLV horizon, in years.
pub const MAX_HORIZON_YEARS: usize = 100;

/// Errors of RFM and CLV inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RfmError {
    /// Cut points of a measure that are not non-decreasing.
    #[error("{measure} cut points must be non-decreasing")]
    CutOrder {
        /// `recency`, `frequency` or `monetary`.
        measure: &'static str,
    },
    /// Monetary amounts in another currency than the cuts'.
    #[error("monetary amount {amount} is not in {expected}")]
    Currency {
        /// The amount.
        amount: Money,
        /// The cuts' currency.
        expected: Currency,
    },
    /// A population without values for a measure.
    #[error("the population has no {0} values")]
    EmptyPopulation(&'static str),
    /// A discount rate outside 0% … 100%.
    #[error("discount rate {0} is outside 0bp..=10000bp")]
    DiscountRate(BasisPoints),
    /// A horizon of more than 100 years.
    #[error("CLV horizon of {0} years exceeds 100")]
    Horizon(usize),
    /// Money arithmetic failed (overflow or a currency mismatch between years).
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl From<Overflow> for RfmError {
    fn from(_: Overflow) -> Self {
        RfmError::Money(MoneyError::Overflow)
    }
}

/// The cut points of the three measures (four each, non-decreasing).
///
/// - recency score = 5 − #{cuts c < recency}: recency ≤ c₁ scores 5, above c₄ scores 1;
/// - frequency and monetary score = 1 + #{cuts c ≤ value}: below c₁ scores 1, ≥ c₄ scores 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RfmCuts {
    recency_days: [u32; 4],
    frequency: [u64; 4],
    monetary: [Money; 4],
}

fn non_decreasing<T: PartialOrd>(values: &[T]) -> bool {
    values.windows(2).all(|w| w[0] <= w[1])
}

impl RfmCuts {
    /// Validates cut points: each measure non-decreasing, monetary cuts in one currency.
    pub fn new(
        recency_days: [u32; 4],
        frequency: [u64; 4],
        monetary: [Money; 4],
    ) -> Result<Self, RfmError> {
        if !non_decreasing(&recency_days) {
            return Err(RfmError::CutOrder { measure: "recency" });
        }
        if !non_decreasing(&frequency) {
            return Err(RfmError::CutOrder {
                measure: "frequency",
            });
        }
        let currency = monetary[0].currency();
        if let Some(m) = monetary.iter().find(|m| m.currency() != currency) {
            return Err(RfmError::Currency {
                amount: *m,
                expected: currency,
            });
        }
        let minor: Vec<i64> = monetary.iter().map(Money::minor_units).collect();
        if !non_decreasing(&minor) {
            return Err(RfmError::CutOrder {
                measure: "monetary",
            });
        }
        Ok(Self {
            recency_days,
            frequency,
            monetary,
        })
    }

    /// Quintile cuts of a population (the customers scored in the same run), by nearest rank
    /// on the sorted values v₀ ≤ … ≤ v_{N−1}:
    ///
    /// - recency: cₖ = v[⌈kN/5⌉ − 1], so (without ties) the most recent ⌈N/5⌉ score 5;
    /// - frequency and monetary: cₖ = v[⌊kN/5⌋], so the lowest ⌊N/5⌋ score 1.
    ///
    /// Customers without any transaction are left out of `recency_days`.
    pub fn from_population(
        recency_days: &[u32],
        frequency: &[u64],
        monetary: &[Money],
    ) -> Result<Self, RfmError> {
        fn sorted<T: Ord + Copy>(v: &[T], name: &'static str) -> Result<Vec<T>, RfmError> {
            if v.is_empty() {
                return Err(RfmError::EmptyPopulation(name));
            }
            let mut s = v.to_vec();
            s.sort_unstable();
            Ok(s)
        }
        let r = sorted(recency_days, "recency")?;
        let f = sorted(frequency, "frequency")?;
        let currency = monetary
            .first()
            .map(Money::currency)
            .ok_or(RfmError::EmptyPopulation("monetary"))?;
        if let Some(m) = monetary.iter().find(|m| m.currency() != currency) {
            return Err(RfmError::Currency {
                amount: *m,
                expected: currency,
            });
        }
        let minor: Vec<i64> = monetary.iter().map(Money::minor_units).collect();
        let m = sorted(&minor, "monetary")?;
        let lower = |n: usize, k: usize| (k * n).div_ceil(5) - 1;
        let upper = |n: usize, k: usize| k * n / 5;
        let (nr, nf, nm) = (r.len(), f.len(), m.len());
        Self::new(
            [1, 2, 3, 4].map(|k| r[lower(nr, k)]),
            [1, 2, 3, 4].map(|k| f[upper(nf, k)]),
            [1, 2, 3, 4].map(|k| Money::from_minor(currency, m[upper(nm, k)])),
        )
    }

    /// The recency cuts, in days.
    pub fn recency_days(&self) -> [u32; 4] {
        self.recency_days
    }

    /// The frequency cuts.
    pub fn frequency(&self) -> [u64; 4] {
        self.frequency
    }

    /// The monetary cuts.
    pub fn monetary(&self) -> [Money; 4] {
        self.monetary
    }

    /// The RFM scores of one customer. `recency_days = None` (never transacted) scores 1.
    pub fn score(
        &self,
        recency_days: Option<u32>,
        frequency: u64,
        monetary: Money,
    ) -> Result<RfmScore, RfmError> {
        let expected = self.monetary[0].currency();
        if monetary.currency() != expected {
            return Err(RfmError::Currency {
                amount: monetary,
                expected,
            });
        }
        let count = |n: usize| u8::try_from(n).unwrap_or(4);
        let recency = match recency_days {
            None => 1,
            Some(days) => 5 - count(self.recency_days.iter().filter(|c| **c < days).count()),
        };
        let frequency = 1 + count(self.frequency.iter().filter(|c| **c <= frequency).count());
        let monetary = 1 + count(
            self.monetary
                .iter()
                .filter(|c| c.minor_units() <= monetary.minor_units())
                .count(),
        );
        Ok(RfmScore {
            recency,
            frequency,
            monetary,
        })
    }
}

/// A customer's RFM scores, 1–5 each (5 best).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmScore {
    /// Recency score: 5 = most recent.
    pub recency: u8,
    /// Frequency score: 5 = most frequent.
    pub frequency: u8,
    /// Monetary score: 5 = most.
    pub monetary: u8,
}

impl RfmScore {
    /// The three digits, e.g. `"545"`.
    pub fn code(&self) -> String {
        format!("{}{}{}", self.recency, self.frequency, self.monetary)
    }
}

/// One year of a lifetime-value projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClvYear {
    /// Revenue of the year.
    pub revenue: Money,
    /// Product cost of the year.
    pub product_cost: Money,
    /// Retention cost of the year.
    pub retention_cost: Money,
}

/// CLV = Σₜ (revenueₜ − product costₜ − retention costₜ) / (1 + d)ᵗ, with `years[0]` as t = 1
/// (every year is discounted, the first once) and d the annual `discount_rate` (0% … 100%).
/// Computed by Horner's rule from the last year back, acc ← (acc + netₜ) / (1 + d), in
/// `Decimal` (28 significant digits, far below a fen), and rounded once to the fen. An empty
/// projection is worth zero.
pub fn lifetime_value(
    years: &[ClvYear],
    discount_rate: BasisPoints,
    currency: Currency,
) -> Result<Money, RfmError> {
    if discount_rate < BasisPoints::ZERO || discount_rate > BasisPoints::ONE_HUNDRED_PERCENT {
        return Err(RfmError::DiscountRate(discount_rate));
    }
    if years.len() > MAX_HORIZON_YEARS {
        return Err(RfmError::Horizon(years.len()));
    }
    let factor = exact::add(Decimal::ONE, discount_rate.to_rate())?;
    let mut acc = Decimal::ZERO;
    for y in years.iter().rev() {
        let net = y
            .revenue
            .checked_sub(y.product_cost)?
            .checked_sub(y.retention_cost)?;
        if net.currency() != currency {
            return Err(RfmError::Currency {
                amount: net,
                expected: currency,
            });
        }
        acc = exact::div(exact::add(acc, net.to_decimal())?, factor)?;
    }
    Ok(Money::from_decimal(currency, acc)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(yuan: i64) -> Money {
        Money::from_minor(Currency::CNY, yuan * 100)
    }

    fn cuts() -> RfmCuts {
        RfmCuts::new(
            [30, 60, 90, 180],
            [2, 4, 8, 16],
            [cny(1_000), cny(10_000), cny(50_000), cny(200_000)],
        )
        .unwrap()
    }

    #[test]
    fn scores_against_cut_points() {
        let c = cuts();
        let s = c.score(Some(10), 20, cny(300_000)).unwrap();
        assert_eq!((s.recency, s.frequency, s.monetary), (5, 5, 5));
        assert_eq!(s.code(), "555");
        // Boundaries: recency ≤ cut stays in the better band; frequency/monetary ≥ cut moves up.
        assert_eq!(c.score(Some(30), 2, cny(1_000)).unwrap().code(), "522");
        assert_eq!(c.score(Some(31), 1, cny(999)).unwrap().code(), "411");
        assert_eq!(c.score(Some(180), 15, cny(199_999)).unwrap().code(), "244");
        assert_eq!(c.score(Some(181), 0, cny(-5)).unwrap().code(), "111");
        assert_eq!(c.score(None, 4, cny(10_000)).unwrap().code(), "133");
        assert!(matches!(
            c.score(Some(1), 1, Money::from_minor(Currency::USD, 1)),
            Err(RfmError::Currency { .. })
        ));
        assert_eq!(
            RfmCuts::new([30, 20, 90, 180], [2, 4, 8, 16], c.monetary()),
            Err(RfmError::CutOrder { measure: "recency" })
        );
        assert!(
            RfmCuts::new(
                [1, 2, 3, 4],
                [2, 4, 8, 16],
                [cny(3), cny(2), cny(4), cny(5)]
            )
            .is_err()
        );
    }

    #[test]
    fn population_quintiles() {
        // Ten customers: recency 1..=10 days, frequency 1..=10, monetary 100..=1000 yuan.
        let r: Vec<u32> = (1..=10).rev().collect();
        let f: Vec<u64> = (1..=10).collect();
        let m: Vec<Money> = (1..=10).map(|i| cny(i * 100)).collect();
        let c = RfmCuts::from_population(&r, &f, &m).unwrap();
        // recency cuts v[⌈k·10/5⌉ − 1] = v[1], v[3], v[5], v[7] = 2, 4, 6, 8
        assert_eq!(c.recency_days(), [2, 4, 6, 8]);
        // frequency cuts v[⌊k·10/5⌋] = v[2], v[4], v[6], v[8] = 3, 5, 7, 9
        assert_eq!(c.frequency(), [3, 5, 7, 9]);
        assert_eq!(c.monetary(), [cny(300), cny(500), cny(700), cny(900)]);
        // Each quintile holds two customers.
        let recency: Vec<u8> = (1..=10)
            .map(|d| c.score(Some(d), 0, cny(0)).unwrap().recency)
            .collect();
        assert_eq!(recency, [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
        let freq: Vec<u8> = (1..=10)
            .map(|x| c.score(None, x, cny(0)).unwrap().frequency)
            .collect();
        assert_eq!(freq, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        // One customer: every cut is its value; it scores 5/5/5.
        let one = RfmCuts::from_population(&[7], &[3], &[cny(50)]).unwrap();
        assert_eq!(one.score(Some(7), 3, cny(50)).unwrap().code(), "555");
        assert_eq!(
            RfmCuts::from_population(&[], &[1], &[cny(1)]),
            Err(RfmError::EmptyPopulation("recency"))
        );
    }

    #[test]
    fn lifetime_value_to_the_fen() {
        let year = |revenue: i64, product: i64, retention: i64| ClvYear {
            revenue: cny(revenue),
            product_cost: cny(product),
            retention_cost: cny(retention),
        };
        let years = [
            year(100_000, 40_000, 10_000), // net 50,000
            year(120_000, 45_000, 15_000), // net 60,000
            year(150_000, 60_000, 20_000), // net 70,000
        ];
        // d = 10%: 50,000/1.1 + 60,000/1.21 + 70,000/1.331
        //        = 45,454.5454… + 49,586.7768… + 52,592.0360… = 147,633.3583… → 147,633.36
        // (exactly 196,500,000/1,331 = 147,633.35837716…)
        let v = lifetime_value(&years, BasisPoints::new(1_000), Currency::CNY).unwrap();
        assert_eq!(v, Money::from_minor(Currency::CNY, 14_763_336));
        // d = 0: the plain sum.
        assert_eq!(
            lifetime_value(&years, BasisPoints::ZERO, Currency::CNY).unwrap(),
            cny(180_000)
        );
        // A loss-making year counts negatively: −10,000 / 1.05 = −9,523.8095… → −9,523.81.
        assert_eq!(
            lifetime_value(
                &[year(0, 5_000, 5_000)],
                BasisPoints::new(500),
                Currency::CNY
            )
            .unwrap(),
            Money::from_minor(Currency::CNY, -952_381)
        );
        assert_eq!(
            lifetime_value(&[], BasisPoints::new(500), Currency::CNY).unwrap(),
            cny(0)
        );
        assert_eq!(
            lifetime_value(&years, BasisPoints::new(-1), Currency::CNY),
            Err(RfmError::DiscountRate(BasisPoints::new(-1)))
        );
        assert_eq!(
            lifetime_value(&vec![years[0]; 101], BasisPoints::new(500), Currency::CNY),
            Err(RfmError::Horizon(101))
        );
        assert!(lifetime_value(&years, BasisPoints::new(500), Currency::USD).is_err());
    }
}
