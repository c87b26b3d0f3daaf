//! The five-dimension customer value of DOMAIN.md §3 [seed 004]: dependence (依存度),
//! contribution (贡献度), growth (成长度), credit (信用度) and influence (影响度). This module
//! owns the [`ValueModel`] — per dimension a weighted list of factors (weights from an AHP
//! factor matrix), the dimensions' own weights (from the AHP dimension matrix), the grade bands
//! and the optional default grade for factors without data — and the scoring of one customer's
//! factor grades into five dimension scores, a total and a grade. Factor grades are on a
//! **0–100** scale; dimension scores and the total are therefore 0–100 too, each rounded once
//! to [`SCORE_DP`] places with the crate's [`ROUNDING`] rule (the total is computed from the
//! unrounded dimension scores, and the grade from the rounded total).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ahp::{AhpAnalysis, AhpError, WeightedFactor, validate_weighted_factors};
use crate::exact::{self, Overflow, clip};
use crate::money::ROUNDING;

code_enum! {
    /// One of the five value dimensions, in the order of the AHP dimension matrix.
    pub enum ValueDimension {
        /// Dependence (依存度): how much the customer relies on the bank.
        Dependence => "dependence",
        /// Contribution (贡献度): what the customer earns the bank.
        Contribution => "contribution",
        /// Growth (成长度): the customer's prospects.
        Growth => "growth",
        /// Credit (信用度): integrity and credit standing.
        Credit => "credit",
        /// Influence (影响度): the customer's pull on others (trading area, resources).
        Influence => "influence",
    }
}

/// The highest factor grade (the lowest is 0).
pub const MAX_GRADE: Decimal = Decimal::ONE_HUNDRED;

/// Decimal places of dimension scores and totals.
pub const SCORE_DP: u32 = 2;

/// Errors of value models and scoring.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    /// The factor list of a dimension is invalid.
    #[error("factors of dimension {dimension}: {source}")]
    Factors {
        /// The dimension.
        dimension: ValueDimension,
        /// What is wrong.
        source: AhpError,
    },
    /// The dimension weights are invalid (each 0..=1, summing to exactly 1).
    #[error("dimension weights: {0}")]
    DimensionWeights(AhpError),
    /// A dimension without a model.
    #[error("dimension {0} has no factors and weight")]
    MissingDimension(ValueDimension),
    /// A dimension given twice.
    #[error("dimension {0} is given twice")]
    DuplicateDimension(ValueDimension),
    /// The grade bands are invalid.
    #[error("invalid grade bands: {0}")]
    Bands(String),
    /// A grade outside 0..=100 (a factor grade or the default grade).
    #[error("grade {grade} of factor {code:?} is outside 0..=100")]
    GradeRange {
        /// The factor (`"default"` for the default grade).
        code: String,
        /// The grade.
        grade: Decimal,
    },
    /// A factor of the model without a grade, and no default grade is configured.
    #[error("factor {0:?} has no grade and no default grade is configured")]
    MissingGrade(String),
    /// A grade for a factor the model does not use (a typo, or grades for another model).
    #[error("factor {0:?} is not a factor of the value model")]
    UnknownFactor(String),
    /// A `Decimal` overflow (cannot happen with validated inputs; kept for safety).
    #[error("value score arithmetic overflow")]
    Overflow,
}

impl From<Overflow> for ValueError {
    fn from(_: Overflow) -> Self {
        ValueError::Overflow
    }
}

/// One dimension of the model: its weight in the total and its weighted factors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionModel {
    /// The dimension.
    pub dimension: ValueDimension,
    /// The dimension's weight in the total (0..=1; the five sum to exactly 1).
    pub weight: Decimal,
    /// The factors and their weights within the dimension (summing to exactly 1). A factor code
    /// may appear in several dimensions; it then has one grade used by each.
    pub factors: Vec<WeightedFactor>,
}

/// A grade band: totals at or above `min_total` (and below the next band up) get `grade`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeBand {
    /// The grade, e.g. `"A"`: 1–16 characters.
    pub grade: String,
    /// The lowest total of the band, 0–100.
    pub min_total: Decimal,
}

/// The grade bands (configuration): strictly decreasing minimums, the last one 0 so that
/// every total has a grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GradeBands {
    bands: Vec<GradeBand>,
}

impl GradeBands {
    /// Validates bands listed from the best grade down.
    pub fn new(bands: Vec<GradeBand>) -> Result<Self, ValueError> {
        let bad = |why: String| Err(ValueError::Bands(why));
        let Some(last) = bands.last() else {
            return bad("no bands".into());
        };
        if last.min_total != Decimal::ZERO {
            return bad(format!(
                "the last band {:?} starts at {}, not 0",
                clip(&last.grade),
                last.min_total
            ));
        }
        for (i, band) in bands.iter().enumerate() {
            let len = band.grade.chars().count();
            if len == 0 || len > 16 || band.grade.chars().any(char::is_control) {
                return bad(format!(
                    "grade {:?} must have 1 to 16 characters",
                    clip(&band.grade)
                ));
            }
            if bands[..i].iter().any(|b| b.grade == band.grade) {
                return bad(format!("grade {:?} is listed twice", band.grade));
            }
            if band.min_total < Decimal::ZERO || band.min_total > MAX_GRADE {
                return bad(format!(
                    "grade {:?} starts at {}, outside 0..=100",
                    band.grade, band.min_total
                ));
            }
            if i > 0 && band.min_total >= bands[i - 1].min_total {
                return bad(format!(
                    "grade {:?} starts at {}, not below grade {:?} at {}",
                    band.grade,
                    band.min_total,
                    bands[i - 1].grade,
                    bands[i - 1].min_total
                ));
            }
        }
        Ok(Self { bands })
    }

    /// The bands, best first.
    pub fn bands(&self) -> &[GradeBand] {
        &self.bands
    }

    /// The grade of a total: the first band whose minimum the total reaches.
    pub fn grade_for(&self, total: Decimal) -> &str {
        self.bands
            .iter()
            .find(|b| total >= b.min_total)
            .or(self.bands.last())
            .map_or("", |b| b.grade.as_str())
    }
}

impl Default for GradeBands {
    /// A ≥ 85, B ≥ 70, C ≥ 55, D ≥ 40, E below 40.
    fn default() -> Self {
        let band = |grade: &str, min: i64| GradeBand {
            grade: grade.into(),
            min_total: Decimal::from(min),
        };
        Self {
            bands: vec![
                band("A", 85),
                band("B", 70),
                band("C", 55),
                band("D", 40),
                band("E", 0),
            ],
        }
    }
}

/// A validated five-dimension value model (a versioned rule in the registry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueModel {
    dimensions: Vec<DimensionModel>,
    bands: GradeBands,
    default_grade: Option<Decimal>,
}

impl ValueModel {
    /// Validates a model: each of the five dimensions exactly once (any order; kept in
    /// [`ValueDimension::ALL`] order), dimension weights and each dimension's factor weights
    /// summing to exactly 1, and a default grade (used for factors without a grade) within
    /// 0..=100 when given. `None` makes a missing grade an error.
    pub fn new(
        dimensions: Vec<DimensionModel>,
        bands: GradeBands,
        default_grade: Option<Decimal>,
    ) -> Result<Self, ValueError> {
        let mut ordered = Vec::with_capacity(ValueDimension::ALL.len());
        for &dimension in ValueDimension::ALL {
            let mut matching = dimensions.iter().filter(|d| d.dimension == dimension);
            let model = matching
                .next()
                .ok_or(ValueError::MissingDimension(dimension))?;
            if matching.next().is_some() {
                return Err(ValueError::DuplicateDimension(dimension));
            }
            validate_weighted_factors(&model.factors)
                .map_err(|source| ValueError::Factors { dimension, source })?;
            ordered.push(model.clone());
        }
        let dimension_weights: Vec<WeightedFactor> = ordered
            .iter()
            .map(|d| WeightedFactor::new(d.dimension.as_str(), d.weight))
            .collect();
        validate_weighted_factors(&dimension_weights).map_err(ValueError::DimensionWeights)?;
        if let Some(grade) = default_grade {
            check_grade("default", grade)?;
        }
        Ok(Self {
            dimensions: ordered,
            bands,
            default_grade,
        })
    }

    /// A model from AHP results: `dimension_weights` is the analysis of the 5 × 5 dimension
    /// matrix with criteria in [`ValueDimension::ALL`] order, and `factors` gives each
    /// dimension's factor list (build it with [`WeightedFactor::from_ahp`]).
    pub fn from_ahp(
        dimension_weights: &AhpAnalysis,
        factors: Vec<(ValueDimension, Vec<WeightedFactor>)>,
        bands: GradeBands,
        default_grade: Option<Decimal>,
    ) -> Result<Self, ValueError> {
        if dimension_weights.weights.len() != ValueDimension::ALL.len() {
            return Err(ValueError::DimensionWeights(AhpError::NamesAndWeights {
                names: ValueDimension::ALL.len(),
                weights: dimension_weights.weights.len(),
            }));
        }
        let mut dimensions = Vec::with_capacity(factors.len());
        for (dimension, list) in factors {
            let index = ValueDimension::ALL
                .iter()
                .position(|d| *d == dimension)
                .unwrap_or(0);
            dimensions.push(DimensionModel {
                dimension,
                weight: dimension_weights.weights[index],
                factors: list,
            });
        }
        Self::new(dimensions, bands, default_grade)
    }

    /// The dimensions, in [`ValueDimension::ALL`] order.
    pub fn dimensions(&self) -> &[DimensionModel] {
        &self.dimensions
    }

    /// The grade bands.
    pub fn bands(&self) -> &GradeBands {
        &self.bands
    }

    /// The grade used for a factor without one, if configured.
    pub fn default_grade(&self) -> Option<Decimal> {
        self.default_grade
    }

    /// Scores one customer from factor grades (0–100) keyed by factor code:
    /// dimension score = Σ factor weight × grade, total = Σ dimension weight × dimension score.
    /// A factor without a grade takes the default grade (marked `defaulted`) or fails; a grade
    /// for a factor that the model does not use fails.
    pub fn score(&self, grades: &BTreeMap<String, Decimal>) -> Result<ValueScore, ValueError> {
        for (code, grade) in grades {
            let known = self
                .dimensions
                .iter()
                .any(|d| d.factors.iter().any(|f| &f.code == code));
            if !known {
                return Err(ValueError::UnknownFactor(clip(code)));
            }
            check_grade(code, *grade)?;
        }
        let mut factors = Vec::new();
        let mut dimensions = Vec::with_capacity(self.dimensions.len());
        let mut total = Decimal::ZERO;
        for model in &self.dimensions {
            let mut score = Decimal::ZERO;
            for f in &model.factors {
                let (grade, defaulted) = match (grades.get(&f.code), self.default_grade) {
                    (Some(g), _) => (*g, false),
                    (None, Some(d)) => (d, true),
                    (None, None) => return Err(ValueError::MissingGrade(f.code.clone())),
                };
                score = exact::add(score, exact::mul(f.weight, grade)?)?;
                factors.push(FactorScore {
                    dimension: model.dimension,
                    code: f.code.clone(),
                    weight: f.weight,
                    grade,
                    defaulted,
                });
            }
            total = exact::add(total, exact::mul(model.weight, score)?)?;
            dimensions.push(DimensionScore {
                dimension: model.dimension,
                weight: model.weight,
                score: score.round_dp_with_strategy(SCORE_DP, ROUNDING),
            });
        }
        let total = total.round_dp_with_strategy(SCORE_DP, ROUNDING);
        Ok(ValueScore {
            dimensions,
            total,
            grade: self.bands.grade_for(total).to_owned(),
            factors,
        })
    }
}

fn check_grade(code: &str, grade: Decimal) -> Result<(), ValueError> {
    if grade < Decimal::ZERO || grade > MAX_GRADE {
        Err(ValueError::GradeRange {
            code: clip(code),
            grade,
        })
    } else {
        Ok(())
    }
}

/// One dimension's score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// The dimension.
    pub dimension: ValueDimension,
    /// Its weight in the total.
    pub weight: Decimal,
    /// The score, 0–100, rounded to [`SCORE_DP`] places.
    pub score: Decimal,
}

/// A factor grade as used in a score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorScore {
    /// The dimension the factor counted in.
    pub dimension: ValueDimension,
    /// The factor code.
    pub code: String,
    /// The factor's weight within the dimension.
    pub weight: Decimal,
    /// The grade used, 0–100.
    pub grade: Decimal,
    /// Whether the grade is the model's default (no grade was given).
    pub defaulted: bool,
}

/// A customer's five-dimension value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueScore {
    /// The five dimension scores, in [`ValueDimension::ALL`] order.
    pub dimensions: Vec<DimensionScore>,
    /// The weighted total, 0–100, rounded to [`SCORE_DP`] places.
    pub total: Decimal,
    /// The grade of the (rounded) total.
    pub grade: String,
    /// Every factor grade used, dimension by dimension, in model order.
    pub factors: Vec<FactorScore>,
}

impl ValueScore {
    /// The score of one dimension.
    pub fn dimension(&self, dimension: ValueDimension) -> Option<Decimal> {
        self.dimensions
            .iter()
            .find(|d| d.dimension == dimension)
            .map(|d| d.score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ahp::{Judgement, PairwiseMatrix};
    use ValueDimension::*;
    use rust_decimal_macros::dec;

    fn factors(list: &[(&str, Decimal)]) -> Vec<WeightedFactor> {
        list.iter()
            .map(|(c, w)| WeightedFactor::new(*c, *w))
            .collect()
    }

    fn model(default_grade: Option<Decimal>) -> ValueModel {
        let dim = |dimension, weight, list: &[(&str, Decimal)]| DimensionModel {
            dimension,
            weight,
            factors: factors(list),
        };
        ValueModel::new(
            vec![
                // Any order is accepted.
                dim(
                    Influence,
                    dec!(0.1),
                    &[("trading_area", dec!(0.25)), ("resources", dec!(0.75))],
                ),
                dim(
                    Dependence,
                    dec!(0.2),
                    &[("cooperation", dec!(0.6)), ("product_count", dec!(0.4))],
                ),
                dim(
                    Contribution,
                    dec!(0.3),
                    &[
                        ("revenue", dec!(0.5)),
                        ("average_balance", dec!(0.3)),
                        ("margin", dec!(0.2)),
                    ],
                ),
                dim(Growth, dec!(0.2), &[("revenue_growth", dec!(1))]),
                dim(
                    Credit,
                    dec!(0.2),
                    &[("integrity", dec!(0.5)), ("management_quality", dec!(0.5))],
                ),
            ],
            GradeBands::default(),
            default_grade,
        )
        .unwrap()
    }

    fn grades(list: &[(&str, Decimal)]) -> BTreeMap<String, Decimal> {
        list.iter().map(|(c, g)| ((*c).to_owned(), *g)).collect()
    }

    fn full_grades() -> BTreeMap<String, Decimal> {
        grades(&[
            ("cooperation", dec!(80)),
            ("product_count", dec!(70)),
            ("revenue", dec!(90)),
            ("average_balance", dec!(85)),
            ("margin", dec!(60)),
            ("revenue_growth", dec!(55)),
            ("integrity", dec!(95)),
            ("management_quality", dec!(88)),
            ("trading_area", dec!(40)),
            ("resources", dec!(60)),
        ])
    }

    #[test]
    fn five_dimensions_total_and_grade() {
        let s = model(None).score(&full_grades()).unwrap();
        // dependence   0.6×80 + 0.4×70          = 48 + 28          = 76.00
        // contribution 0.5×90 + 0.3×85 + 0.2×60 = 45 + 25.5 + 12   = 82.50
        // growth       1×55                                         = 55.00
        // credit       0.5×95 + 0.5×88          = 47.5 + 44        = 91.50
        // influence    0.25×40 + 0.75×60        = 10 + 45          = 55.00
        let dims: Vec<(ValueDimension, Decimal)> = s
            .dimensions
            .iter()
            .map(|d| (d.dimension, d.score))
            .collect();
        assert_eq!(
            dims,
            vec![
                (Dependence, dec!(76.00)),
                (Contribution, dec!(82.50)),
                (Growth, dec!(55.00)),
                (Credit, dec!(91.50)),
                (Influence, dec!(55.00)),
            ]
        );
        // total = 0.2×76 + 0.3×82.5 + 0.2×55 + 0.2×91.5 + 0.1×55
        //       = 15.2 + 24.75 + 11 + 18.3 + 5.5 = 74.75 → B (70 ≤ 74.75 < 85)
        assert_eq!(s.total, dec!(74.75));
        assert_eq!(s.grade, "B");
        assert_eq!(s.dimension(Credit), Some(dec!(91.50)));
        assert_eq!(s.factors.len(), 10);
        assert!(s.factors.iter().all(|f| !f.defaulted));
        assert_eq!(s.factors[0].code, "cooperation");
    }

    #[test]
    fn missing_and_unknown_grades() {
        let mut g = full_grades();
        g.remove("resources");
        assert_eq!(
            model(None).score(&g),
            Err(ValueError::MissingGrade("resources".into()))
        );
        // With a default grade of 50: influence = 0.25×40 + 0.75×50 = 47.50,
        // total = 74.75 − 0.1×(55 − 47.5) = 74.00.
        let s = model(Some(dec!(50))).score(&g).unwrap();
        assert_eq!(s.dimension(Influence), Some(dec!(47.50)));
        assert_eq!(s.total, dec!(74.00));
        let used = s.factors.iter().find(|f| f.code == "resources").unwrap();
        assert!(used.defaulted && used.grade == dec!(50));
        g.insert("colour".into(), dec!(10));
        assert_eq!(
            model(Some(dec!(50))).score(&g),
            Err(ValueError::UnknownFactor("colour".into()))
        );
        let mut high = full_grades();
        high.insert("revenue".into(), dec!(100.5));
        assert_eq!(
            model(None).score(&high).unwrap_err().to_string(),
            "grade 100.5 of factor \"revenue\" is outside 0..=100"
        );
    }

    #[test]
    fn grade_bands() {
        let b = GradeBands::default();
        assert_eq!(b.grade_for(dec!(100)), "A");
        assert_eq!(b.grade_for(dec!(85)), "A");
        assert_eq!(b.grade_for(dec!(84.99)), "B");
        assert_eq!(b.grade_for(dec!(40)), "D");
        assert_eq!(b.grade_for(dec!(0)), "E");
        let band = |g: &str, m: Decimal| GradeBand {
            grade: g.into(),
            min_total: m,
        };
        assert!(GradeBands::new(vec![]).is_err());
        assert!(
            GradeBands::new(vec![band("A", dec!(50))]).is_err(),
            "no floor"
        );
        assert!(
            GradeBands::new(vec![
                band("A", dec!(50)),
                band("B", dec!(60)),
                band("C", dec!(0))
            ])
            .is_err()
        );
        assert!(GradeBands::new(vec![band("A", dec!(150)), band("B", dec!(0))]).is_err());
        assert!(GradeBands::new(vec![band("A", dec!(50)), band("A", dec!(0))]).is_err());
        assert!(GradeBands::new(vec![band("", dec!(0))]).is_err());
        let two = GradeBands::new(vec![band("core", dec!(60)), band("other", dec!(0))]).unwrap();
        assert_eq!(two.grade_for(dec!(59.99)), "other");
    }

    #[test]
    fn model_validation_names_the_dimension() {
        let m = model(None);
        let mut dims = m.dimensions().to_vec();
        dims[2].factors[0].weight = dec!(0.4); // growth sums to 0.4
        assert_eq!(
            ValueModel::new(dims.clone(), GradeBands::default(), None)
                .unwrap_err()
                .to_string(),
            "factors of dimension growth: factor weights sum to 0.4, not exactly 1"
        );
        dims.remove(2);
        assert_eq!(
            ValueModel::new(dims.clone(), GradeBands::default(), None),
            Err(ValueError::MissingDimension(Growth))
        );
        let mut twice = m.dimensions().to_vec();
        twice.push(twice[0].clone());
        assert_eq!(
            ValueModel::new(twice, GradeBands::default(), None),
            Err(ValueError::DuplicateDimension(Dependence))
        );
        let mut heavy = m.dimensions().to_vec();
        heavy[0].weight = dec!(0.3);
        assert!(matches!(
            ValueModel::new(heavy, GradeBands::default(), None),
            Err(ValueError::DimensionWeights(AhpError::WeightSum(_)))
        ));
        assert!(matches!(
            ValueModel::new(
                m.dimensions().to_vec(),
                GradeBands::default(),
                Some(dec!(-1))
            ),
            Err(ValueError::GradeRange { .. })
        ));
    }

    #[test]
    fn model_from_ahp_matrices() {
        // Dimensions all equal: 0.2 each. Each dimension: three equal factors, weights
        // 0.333333333334 (first, takes the residual), 0.333333333333, 0.333333333333.
        let equal = |n: usize| {
            let mut js = Vec::new();
            for row in 0..n {
                for column in row + 1..n {
                    js.push(Judgement {
                        row,
                        column,
                        numerator: 1,
                        denominator: 1,
                    });
                }
            }
            PairwiseMatrix::from_judgements(n, &js)
                .unwrap()
                .priorities()
                .unwrap()
        };
        let dims = equal(5);
        let three = equal(3);
        let lists = ValueDimension::ALL
            .iter()
            .map(|d| {
                let codes = [
                    format!("{}_a", d.as_str()),
                    format!("{}_b", d.as_str()),
                    format!("{}_c", d.as_str()),
                ];
                let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
                (*d, WeightedFactor::from_ahp(&refs, &three).unwrap())
            })
            .collect();
        let m = ValueModel::from_ahp(&dims, lists, GradeBands::default(), None).unwrap();
        let mut g = BTreeMap::new();
        for d in ValueDimension::ALL {
            g.insert(format!("{}_a", d.as_str()), dec!(100));
            g.insert(format!("{}_b", d.as_str()), dec!(0));
            g.insert(format!("{}_c", d.as_str()), dec!(0));
        }
        let s = m.score(&g).unwrap();
        // Each dimension: 0.333333333334 × 100 = 33.3333333334 → 33.33.
        assert!(s.dimensions.iter().all(|d| d.score == dec!(33.33)));
        // Total from the unrounded scores: 5 × 0.2 × 33.3333333334 = 33.3333333334 → 33.33, E.
        assert_eq!(s.total, dec!(33.33));
        assert_eq!(s.grade, "E");
        let wrong = equal(3);
        assert!(matches!(
            ValueModel::from_ahp(&wrong, vec![], GradeBands::default(), None),
            Err(ValueError::DimensionWeights(
                AhpError::NamesAndWeights { .. }
            ))
        ));
    }
}
