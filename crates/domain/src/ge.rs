//! GE-matrix classification of customers (DOMAIN.md §3, seed 000 篇4). This module owns the
//! [`GeModel`] — the weighted factors of the two axes and the band cuts — and the
//! classification of one customer: attractiveness A = Σ aᵢXᵢ and competitive strength
//! S = Σ bᵢYᵢ from factor scores on the **1–5** scale (weights of each axis summing to exactly
//! 1), each cut into low / medium / high ([`GeCuts`], default 2.33 and 3.67; a value equal to
//! a cut belongs to the band above it), giving one of 9 cells and a class. As in the seed's
//! figure, the **vertical axis is the customer's attractiveness** (大客户吸引力) and the
//! **horizontal axis is the bank's competitive strength** (竞争能力), so the top-right cell is
//! high/high: class A (invest) is the three top-right cells (high/high, high/medium,
//! medium/high), class B (maintain) the anti-diagonal (high/low, medium/medium, low/high) and
//! class C (watch) the other three. A and S are exact (no rounding).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ahp::{AhpError, WeightedFactor, validate_weighted_factors};
use crate::exact::{self, Overflow, clip};

code_enum! {
    /// An axis of the GE matrix.
    pub enum GeAxis {
        /// The customer's attractiveness A (vertical axis).
        Attractiveness => "attractiveness",
        /// The bank's competitive strength S for the customer (horizontal axis).
        Strength => "strength",
    }
}

code_enum! {
    /// The band of an axis value. `Ord`: low < medium < high.
    pub enum GeBand {
        /// Below the low cut.
        Low => "low",
        /// From the low cut up to (not including) the high cut.
        Medium => "medium",
        /// At or above the high cut.
        High => "high",
    }
}

code_enum! {
    /// The GE class of a customer.
    pub enum GeClass {
        /// Invest: high/high, high/medium, medium/high (attractiveness/strength).
        A => "a",
        /// Maintain: high/low, medium/medium, low/high.
        B => "b",
        /// Watch: medium/low, low/medium, low/low.
        C => "c",
    }
}

impl GeClass {
    /// The upper-case letter, as shown to users.
    pub const fn letter(self) -> char {
        match self {
            GeClass::A => 'A',
            GeClass::B => 'B',
            GeClass::C => 'C',
        }
    }
}

/// The lowest factor score.
pub const MIN_SCORE: Decimal = Decimal::ONE;
/// The highest factor score.
pub const MAX_SCORE: Decimal = Decimal::from_parts(5, 0, 0, false, 0);
/// The default low/medium cut, 2.33.
pub const DEFAULT_LOW_CUT: Decimal = Decimal::from_parts(233, 0, 0, false, 2);
/// The default medium/high cut, 3.67.
pub const DEFAULT_HIGH_CUT: Decimal = Decimal::from_parts(367, 0, 0, false, 2);

/// Errors of GE models and classification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GeError {
    /// The factor list of an axis is invalid.
    #[error("{axis} factors: {source}")]
    Factors {
        /// The axis.
        axis: GeAxis,
        /// What is wrong.
        source: AhpError,
    },
    /// Cuts that are not 1 ≤ low < high ≤ 5.
    #[error("GE cuts low {low} and high {high} must satisfy 1 <= low < high <= 5")]
    Cuts {
        /// The low cut given.
        low: Decimal,
        /// The high cut given.
        high: Decimal,
    },
    /// A score outside 1..=5.
    #[error("{axis} score {score} of factor {code:?} is outside 1..=5")]
    ScoreRange {
        /// The axis.
        axis: GeAxis,
        /// The factor.
        code: String,
        /// The score.
        score: Decimal,
    },
    /// A factor of the model without a score.
    #[error("{axis} factor {code:?} has no score")]
    MissingScore {
        /// The axis.
        axis: GeAxis,
        /// The factor.
        code: String,
    },
    /// A score for a factor that the axis does not use.
    #[error("{code:?} is not a {axis} factor of the GE weights")]
    UnknownFactor {
        /// The axis.
        axis: GeAxis,
        /// The factor.
        code: String,
    },
    /// A `Decimal` overflow (cannot happen with validated inputs; kept for safety).
    #[error("GE arithmetic overflow")]
    Overflow,
}

impl From<Overflow> for GeError {
    fn from(_: Overflow) -> Self {
        GeError::Overflow
    }
}

/// The two cuts of an axis (configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GeCuts {
    low: Decimal,
    high: Decimal,
}

impl GeCuts {
    /// Validates `1 ≤ low < high ≤ 5`.
    pub fn new(low: Decimal, high: Decimal) -> Result<Self, GeError> {
        if MIN_SCORE <= low && low < high && high <= MAX_SCORE {
            Ok(Self { low, high })
        } else {
            Err(GeError::Cuts { low, high })
        }
    }

    /// The low/medium cut.
    pub fn low(&self) -> Decimal {
        self.low
    }

    /// The medium/high cut.
    pub fn high(&self) -> Decimal {
        self.high
    }

    /// The band of an axis value: low below `low`, high at or above `high`, medium between.
    pub fn band(&self, value: Decimal) -> GeBand {
        if value >= self.high {
            GeBand::High
        } else if value >= self.low {
            GeBand::Medium
        } else {
            GeBand::Low
        }
    }
}

impl Default for GeCuts {
    /// 2.33 and 3.67.
    fn default() -> Self {
        Self {
            low: DEFAULT_LOW_CUT,
            high: DEFAULT_HIGH_CUT,
        }
    }
}

/// The class of a cell: A when the bands add up to at least high + medium (the three
/// top-right cells), B on the anti-diagonal (they add up to high + low), C otherwise.
pub fn ge_class(attractiveness: GeBand, strength: GeBand) -> GeClass {
    let rank = |b: GeBand| match b {
        GeBand::Low => 0,
        GeBand::Medium => 1,
        GeBand::High => 2,
    };
    match rank(attractiveness) + rank(strength) {
        3.. => GeClass::A,
        2 => GeClass::B,
        _ => GeClass::C,
    }
}

/// A validated GE model (a versioned rule in the registry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GeModel {
    attractiveness: Vec<WeightedFactor>,
    strength: Vec<WeightedFactor>,
    cuts: GeCuts,
}

impl GeModel {
    /// Validates the two factor lists (weights of each axis summing to exactly 1).
    pub fn new(
        attractiveness: Vec<WeightedFactor>,
        strength: Vec<WeightedFactor>,
        cuts: GeCuts,
    ) -> Result<Self, GeError> {
        validate_weighted_factors(&attractiveness).map_err(|source| GeError::Factors {
            axis: GeAxis::Attractiveness,
            source,
        })?;
        validate_weighted_factors(&strength).map_err(|source| GeError::Factors {
            axis: GeAxis::Strength,
            source,
        })?;
        Ok(Self {
            attractiveness,
            strength,
            cuts,
        })
    }

    /// The attractiveness factors aᵢ.
    pub fn attractiveness(&self) -> &[WeightedFactor] {
        &self.attractiveness
    }

    /// The strength factors bᵢ.
    pub fn strength(&self) -> &[WeightedFactor] {
        &self.strength
    }

    /// The cuts.
    pub fn cuts(&self) -> GeCuts {
        self.cuts
    }

    /// Classifies a customer from its factor scores (1–5) per axis, keyed by factor code. Every
    /// factor of an axis needs a score, and every score must belong to a factor of its axis.
    pub fn classify(
        &self,
        attractiveness_scores: &BTreeMap<String, Decimal>,
        strength_scores: &BTreeMap<String, Decimal>,
    ) -> Result<GeClassification, GeError> {
        let a = weighted(
            GeAxis::Attractiveness,
            &self.attractiveness,
            attractiveness_scores,
        )?;
        let s = weighted(GeAxis::Strength, &self.strength, strength_scores)?;
        let (ab, sb) = (self.cuts.band(a), self.cuts.band(s));
        Ok(GeClassification {
            attractiveness: a,
            strength: s,
            attractiveness_band: ab,
            strength_band: sb,
            class: ge_class(ab, sb),
        })
    }
}

fn weighted(
    axis: GeAxis,
    factors: &[WeightedFactor],
    scores: &BTreeMap<String, Decimal>,
) -> Result<Decimal, GeError> {
    for (code, &score) in scores {
        if !factors.iter().any(|f| &f.code == code) {
            return Err(GeError::UnknownFactor {
                axis,
                code: clip(code),
            });
        }
        if score < MIN_SCORE || score > MAX_SCORE {
            return Err(GeError::ScoreRange {
                axis,
                code: clip(code),
                score,
            });
        }
    }
    let mut total = Decimal::ZERO;
    for f in factors {
        let score = scores.get(&f.code).ok_or_else(|| GeError::MissingScore {
            axis,
            code: f.code.clone(),
        })?;
        total = exact::add(total, exact::mul(f.weight, *score)?)?;
    }
    Ok(total)
}

/// A customer's place in the GE matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeClassification {
    /// A = Σ aᵢXᵢ, exact, 1–5.
    pub attractiveness: Decimal,
    /// S = Σ bᵢYᵢ, exact, 1–5.
    pub strength: Decimal,
    /// The band of A.
    pub attractiveness_band: GeBand,
    /// The band of S.
    pub strength_band: GeBand,
    /// The class of the cell.
    pub class: GeClass,
}

#[cfg(test)]
mod tests {
    use super::*;
    use GeBand::*;
    use rust_decimal_macros::dec;

    fn model() -> GeModel {
        GeModel::new(
            vec![
                WeightedFactor::new("market_size", dec!(0.5)),
                WeightedFactor::new("market_growth", dec!(0.3)),
                WeightedFactor::new("profitability", dec!(0.2)),
            ],
            vec![
                WeightedFactor::new("relationship", dec!(0.6)),
                WeightedFactor::new("product_fit", dec!(0.4)),
            ],
            GeCuts::default(),
        )
        .unwrap()
    }

    fn scores(list: &[(&str, Decimal)]) -> BTreeMap<String, Decimal> {
        list.iter().map(|(c, s)| ((*c).to_owned(), *s)).collect()
    }

    #[test]
    fn all_nine_cells() {
        // attractiveness band (vertical) × strength band (horizontal) → class
        let expected = [
            ((High, High), GeClass::A),
            ((High, Medium), GeClass::A),
            ((Medium, High), GeClass::A),
            ((High, Low), GeClass::B),
            ((Medium, Medium), GeClass::B),
            ((Low, High), GeClass::B),
            ((Medium, Low), GeClass::C),
            ((Low, Medium), GeClass::C),
            ((Low, Low), GeClass::C),
        ];
        for ((a, s), class) in expected {
            assert_eq!(ge_class(a, s), class, "{a}/{s}");
        }
        // Each cell reached through scores: band representatives 1, 3, 5.
        let m = model();
        let value = |b: GeBand| match b {
            Low => dec!(1),
            Medium => dec!(3),
            High => dec!(5),
        };
        for ((a, s), class) in expected {
            let x = value(a);
            let y = value(s);
            let c = m
                .classify(
                    &scores(&[
                        ("market_size", x),
                        ("market_growth", x),
                        ("profitability", x),
                    ]),
                    &scores(&[("relationship", y), ("product_fit", y)]),
                )
                .unwrap();
            assert_eq!(
                (c.attractiveness_band, c.strength_band, c.class),
                (a, s, class)
            );
            assert_eq!(c.class.letter().to_string(), class.as_str().to_uppercase());
        }
    }

    #[test]
    fn weighted_sums_and_cut_boundaries() {
        let m = model();
        // A = 0.5×4 + 0.3×5 + 0.2×2 = 2 + 1.5 + 0.4 = 3.9 → high;
        // S = 0.6×2 + 0.4×3 = 1.2 + 1.2 = 2.4 → medium; high/medium → A.
        let c = m
            .classify(
                &scores(&[
                    ("market_size", dec!(4)),
                    ("market_growth", dec!(5)),
                    ("profitability", dec!(2)),
                ]),
                &scores(&[("relationship", dec!(2)), ("product_fit", dec!(3))]),
            )
            .unwrap();
        assert_eq!(c.attractiveness, dec!(3.9));
        assert_eq!(c.strength, dec!(2.4));
        assert_eq!(c.class, GeClass::A);
        let cuts = GeCuts::default();
        assert_eq!(cuts.band(dec!(2.3299)), Low);
        assert_eq!(
            cuts.band(dec!(2.33)),
            Medium,
            "a cut belongs to the band above"
        );
        assert_eq!(cuts.band(dec!(3.6699)), Medium);
        assert_eq!(cuts.band(dec!(3.67)), High);
        let custom = GeCuts::new(dec!(2), dec!(4)).unwrap();
        assert_eq!(custom.band(dec!(3.9)), Medium);
        assert_eq!(
            GeCuts::new(dec!(3), dec!(3)),
            Err(GeError::Cuts {
                low: dec!(3),
                high: dec!(3)
            })
        );
        assert!(GeCuts::new(dec!(0.5), dec!(3)).is_err());
        assert!(GeCuts::new(dec!(2), dec!(5.5)).is_err());
    }

    #[test]
    fn bad_scores_and_weights_name_the_factor() {
        let m = model();
        let a = scores(&[
            ("market_size", dec!(4)),
            ("market_growth", dec!(5)),
            ("profitability", dec!(2)),
        ]);
        let err = m
            .classify(
                &a,
                &scores(&[("relationship", dec!(6)), ("product_fit", dec!(3))]),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "strength score 6 of factor \"relationship\" is outside 1..=5"
        );
        assert_eq!(
            m.classify(&a, &scores(&[("relationship", dec!(2))])),
            Err(GeError::MissingScore {
                axis: GeAxis::Strength,
                code: "product_fit".into()
            })
        );
        assert_eq!(
            m.classify(&scores(&[("relationship", dec!(2))]), &scores(&[])),
            Err(GeError::UnknownFactor {
                axis: GeAxis::Attractiveness,
                code: "relationship".into()
            })
        );
        let err = GeModel::new(
            vec![WeightedFactor::new("market_size", dec!(0.5))],
            vec![WeightedFactor::new("relationship", dec!(1))],
            GeCuts::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "attractiveness factors: factor weights sum to 0.5, not exactly 1"
        );
    }
}
