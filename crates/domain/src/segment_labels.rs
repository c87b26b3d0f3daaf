//! The vocabulary of strategic segmentation (DOMAIN.md §3 "Segmentation", seed 000 篇6). This
//! module owns the features a customer is clustered on — value features (trailing-twelve-month
//! after-risk contribution, assets under management on the wealth-tier basis, the five-dimension
//! value total) and behaviour features (transactions in the last three months, products held,
//! days since the last transaction) — the default feature set, the parsing of a requested
//! feature list, and the label a segment gets from its standardised centroid, e.g.
//! `high value, low activity`. The label reads two axes: the mean z-score of the segment's value
//! features, and the mean z-score of its activity features (days since the last transaction
//! count negatively: more days is less activity). A mean at or above the high cut (default +0.5
//! standard deviations) is `high`, at or below the low cut (default −0.5) `low`, and `medium` in
//! between; an axis without features is left out of the label. The clustering itself is
//! [`crate::segmentation`].

use rust_decimal::Decimal;
use thiserror::Error;

code_enum! {
    /// A feature of the strategic segmentation.
    pub enum SegmentFeature {
        /// Trailing-twelve-month after-risk comprehensive contribution, in CNY.
        TtmContribution => "ttm_contribution",
        /// Assets under management: the day-weighted average daily balance of deposits and
        /// wealth products over the wealth-tier basis months, in CNY.
        Aum => "aum",
        /// The latest five-dimension value total, 0–100.
        ValueScore => "value_score",
        /// Transactions in the three months ending with the segmentation month.
        Transactions3m => "transactions_3m",
        /// Distinct products held in the segmentation month.
        ProductCount => "product_count",
        /// Days from the last transaction to the month's last day.
        RecencyDays => "recency_days",
    }
}

/// The axis of the label a feature speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureAxis {
    /// What the customer is worth to the bank.
    Value,
    /// How actively the customer uses the bank.
    Activity,
}

impl SegmentFeature {
    /// The axis the feature speaks to.
    pub const fn axis(self) -> FeatureAxis {
        match self {
            SegmentFeature::TtmContribution | SegmentFeature::Aum | SegmentFeature::ValueScore => {
                FeatureAxis::Value
            }
            SegmentFeature::Transactions3m
            | SegmentFeature::ProductCount
            | SegmentFeature::RecencyDays => FeatureAxis::Activity,
        }
    }

    /// Whether a higher value means less of its axis (days since the last transaction).
    pub const fn is_inverse(self) -> bool {
        matches!(self, SegmentFeature::RecencyDays)
    }
}

/// The default feature set: contribution, AUM, value total, transactions and products.
pub const DEFAULT_FEATURES: [SegmentFeature; 5] = [
    SegmentFeature::TtmContribution,
    SegmentFeature::Aum,
    SegmentFeature::ValueScore,
    SegmentFeature::Transactions3m,
    SegmentFeature::ProductCount,
];

/// The days counted for a customer without any transaction up to the month's last day, so that
/// "never" sorts after every real recency of the last year.
pub const NO_TRANSACTION_DAYS: u32 = 366;

/// A problem with one requested feature name.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FeatureProblem {
    /// Not a feature name.
    #[error("unknown feature {name:?}; known: {known}")]
    Unknown {
        /// Position in the request.
        index: usize,
        /// The name given (cut to 64 characters).
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A feature named twice.
    #[error("feature {feature} is listed twice")]
    Duplicate {
        /// Position of the second mention.
        index: usize,
        /// The feature.
        feature: SegmentFeature,
    },
}

impl FeatureProblem {
    /// The position in the request of the name at fault.
    pub fn index(&self) -> usize {
        match self {
            FeatureProblem::Unknown { index, .. } | FeatureProblem::Duplicate { index, .. } => {
                *index
            }
        }
    }
}

/// The features named in a request, in request order; the [`DEFAULT_FEATURES`] when none is
/// named. Every unknown or repeated name is reported.
pub fn parse_features(names: &[String]) -> Result<Vec<SegmentFeature>, Vec<FeatureProblem>> {
    if names.is_empty() {
        return Ok(DEFAULT_FEATURES.to_vec());
    }
    let mut features = Vec::with_capacity(names.len());
    let mut problems = Vec::new();
    for (index, name) in names.iter().enumerate() {
        match name.parse::<SegmentFeature>() {
            Ok(f) if features.contains(&f) => {
                problems.push(FeatureProblem::Duplicate { index, feature: f })
            }
            Ok(f) => features.push(f),
            Err(_) => problems.push(FeatureProblem::Unknown {
                index,
                name: name.chars().take(64).collect(),
                known: SegmentFeature::ALL
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
    if problems.is_empty() {
        Ok(features)
    } else {
        Err(problems)
    }
}

code_enum! {
    /// A level on one label axis.
    pub enum Level {
        /// At or below the low cut.
        Low => "low",
        /// Between the cuts.
        Medium => "medium",
        /// At or above the high cut.
        High => "high",
    }
}

/// Cut points of the label levels, in standard deviations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelCuts {
    low: Decimal,
    high: Decimal,
}

/// Label cuts that are not ordered.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("label cuts must satisfy low < high, got {low} and {high}")]
pub struct LabelCutsError {
    /// The low cut given.
    pub low: Decimal,
    /// The high cut given.
    pub high: Decimal,
}

impl LabelCuts {
    /// Cuts with `low < high`.
    pub fn new(low: Decimal, high: Decimal) -> Result<Self, LabelCutsError> {
        if low < high {
            Ok(Self { low, high })
        } else {
            Err(LabelCutsError { low, high })
        }
    }

    /// The level of a mean z-score.
    pub fn level(&self, z: Decimal) -> Level {
        if z >= self.high {
            Level::High
        } else if z <= self.low {
            Level::Low
        } else {
            Level::Medium
        }
    }
}

impl Default for LabelCuts {
    /// −0.5 and +0.5 standard deviations.
    fn default() -> Self {
        Self {
            low: Decimal::new(-5, 1),
            high: Decimal::new(5, 1),
        }
    }
}

/// The mean (sign-adjusted) z-score of the features on `axis`; `None` without such features.
fn axis_mean(
    features: &[SegmentFeature],
    centroid: &[Decimal],
    axis: FeatureAxis,
) -> Option<Decimal> {
    let mut sum = Decimal::ZERO;
    let mut count = 0u32;
    for (f, z) in features.iter().zip(centroid) {
        if f.axis() != axis {
            continue;
        }
        let z = if f.is_inverse() { -*z } else { *z };
        sum = sum.checked_add(z).unwrap_or(Decimal::MAX);
        count += 1;
    }
    (count > 0).then(|| sum.checked_div(Decimal::from(count)).unwrap_or(sum))
}

/// The label of a segment from its standardised centroid (one z-score per feature, in the order
/// of `features`), e.g. `high value, low activity`; `unlabelled` when no feature is given.
pub fn segment_label(
    features: &[SegmentFeature],
    standardized_centroid: &[Decimal],
    cuts: &LabelCuts,
) -> String {
    let mut parts = Vec::with_capacity(2);
    if let Some(z) = axis_mean(features, standardized_centroid, FeatureAxis::Value) {
        parts.push(format!("{} value", cuts.level(z)));
    }
    if let Some(z) = axis_mean(features, standardized_centroid, FeatureAxis::Activity) {
        parts.push(format!("{} activity", cuts.level(z)));
    }
    if parts.is_empty() {
        "unlabelled".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SegmentFeature::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn features_parse_with_every_problem_reported() {
        assert_eq!(parse_features(&[]).unwrap(), DEFAULT_FEATURES.to_vec());
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_features(&names(&["aum", "recency_days"])).unwrap(),
            vec![Aum, RecencyDays]
        );
        let problems = parse_features(&names(&["aum", "colour", "aum"])).unwrap_err();
        assert_eq!(
            problems
                .iter()
                .map(FeatureProblem::index)
                .collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(
            problems[0]
                .to_string()
                .starts_with("unknown feature \"colour\"")
        );
        assert_eq!(problems[1].to_string(), "feature aum is listed twice");
    }

    #[test]
    fn labels_read_the_value_and_activity_axes() {
        let cuts = LabelCuts::default();
        let features = [TtmContribution, Aum, Transactions3m, RecencyDays];
        // Value mean (1.2 + 0.8) / 2 = 1.0 → high; activity mean (−1.0 + −(0.4)) / 2 = −0.7 → low.
        let label = segment_label(&features, &[d("1.2"), d("0.8"), d("-1.0"), d("0.4")], &cuts);
        assert_eq!(label, "high value, low activity");
        // At the cuts exactly: +0.5 is high, −0.5 is low; in between medium.
        assert_eq!(
            segment_label(&[Aum, ProductCount], &[d("0.5"), d("-0.5")], &cuts),
            "high value, low activity"
        );
        assert_eq!(
            segment_label(&[ValueScore, ProductCount], &[d("0.49"), d("-0.49")], &cuts),
            "medium value, medium activity"
        );
        assert_eq!(segment_label(&[Aum], &[d("-2")], &cuts), "low value");
        assert_eq!(
            segment_label(&[RecencyDays], &[d("-2")], &cuts),
            "high activity"
        );
        assert_eq!(segment_label(&[], &[], &cuts), "unlabelled");
    }

    #[test]
    fn cuts_must_be_ordered() {
        assert!(LabelCuts::new(d("1"), d("1")).is_err());
        let cuts = LabelCuts::new(d("-1"), d("1")).unwrap();
        assert_eq!(cuts.level(d("0.9")), Level::Medium);
        assert_eq!(cuts.level(d("1")), Level::High);
    }
}
