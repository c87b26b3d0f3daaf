//! Products, pricing and bundles (DOMAIN.md §4), as pure rules: the catalogue's kinds,
//! categories, list prices and fee schedules ([`catalogue`]); effective-dated ranges
//! ([`effective`]); reference rates and the regulatory limits no band overrides ([`limits`]);
//! FX rates to the reporting currency ([`fx`]); pricing authority — concessions and the level
//! whose band covers them ([`authority`]); quote economics ([`economics`]); relationship pricing
//! rules ([`rules`]); bundles and their eligibility and prerequisites ([`bundles`]); the whole
//! quote as one function ([`quote`]); side-by-side simulation ([`simulation`]); and sales-funds
//! return covenants ([`covenant`]); and the maker-checker approval of quotes ([`approval`]). This
//! module owns the one error type of pricing,
//! [`PricingError`], whose validation entries ([`PricingViolation`]) each name the offending
//! field by its proto field path relative to the value validated (e.g.
//! `fee_schedule.tiers[1].volume_from`), so a service can map them to `INVALID_ARGUMENT` with
//! field paths, and the [`UnmetCondition`] that explains why a rule or bundle does not apply.

use std::fmt;

use chrono::NaiveDate;
use thiserror::Error;

use crate::money::{Currency, MoneyError};

pub mod approval;
pub mod authority;
pub mod bundles;
pub mod catalogue;
pub mod covenant;
pub mod economics;
pub mod effective;
pub mod fx;
pub mod limits;
pub mod quote;
pub mod rules;
pub mod simulation;

#[cfg(test)]
mod worked_examples;

pub use approval::{
    ApprovalRefused, Decider, Pending, QuoteDecisionOutcome, QuoteStatus, decide, submit,
};
pub use authority::{
    AuthorityBand, AuthorityLevel, concession, covering_band, required_level, validate_bands,
};
pub use bundles::{
    Bundle, BundleComponent, BundleEligibility, Prerequisite, Requirement, eligibility,
};
pub use catalogue::{
    FeeSchedule, FeeTier, ListPrice, Price, PriceTerms, Product, ProductCategory, ProductKind,
};
pub use covenant::{Covenant, CovenantOutcome, observe};
pub use economics::{
    Economics, EconomicsBasis, EconomicsConfig, ExactEconomics, Term, YearFraction, item_economics,
};
pub use effective::{EffectiveRange, first_overlap};
pub use fx::{FxRate, cny_per_unit};
pub use limits::{
    LimitBound, ReferenceRate, ReferenceRateKind, RegulatoryBreach, RegulatoryLimit,
    RegulatoryLimitKind, rate_on,
};
pub use quote::{
    AppliedBenefit, CovenantStepUp, PricingContext, QuoteConfig, QuoteItemInput, QuoteItemResult,
    QuoteRequest, QuoteResult, QuoteVerdict, RestateItem, Restated, price_quote, restate, verdict,
};
pub use rules::{
    Benefit, CustomerCondition, CustomerFacts, PricingRule, RelationshipPrice, RuleExplanation,
    RuleTarget, relationship_price,
};
pub use simulation::{Scenario, SimulationResult, simulate};

/// One thing wrong with an input, naming the field: `field` is the proto field path relative to
/// the value that was validated (e.g. `tiers[2].rate_bps`, `operating_cost_ratio`); a service
/// prefixes it with the path of that value in its request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricingViolation {
    /// The field path, e.g. `fee_schedule.tiers[0].volume_from`.
    pub field: String,
    /// What is wrong, e.g. `the first tier must start at 0`.
    pub message: String,
}

impl PricingViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same violation with `prefix.` in front of its field path (or `prefix` alone when the
    /// path is empty), for a value nested in a larger one.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for PricingViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Adds `prefix` to every violation of a validation result.
pub(crate) fn prefix_all(
    result: Result<(), Vec<PricingViolation>>,
    prefix: &str,
) -> Vec<PricingViolation> {
    match result {
        Ok(()) => Vec::new(),
        Err(v) => v.into_iter().map(|v| v.prefixed(prefix)).collect(),
    }
}

/// `Ok(())` when `violations` is empty, else `Err(violations)`.
pub(crate) fn violations_result(
    violations: Vec<PricingViolation>,
) -> Result<(), Vec<PricingViolation>> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// A customer condition (of a pricing rule or a bundle's eligibility) that is not met, with what
/// the customer has and what is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmetCondition {
    /// The condition's proto field name, e.g. `min_ttm_contribution`, `corporate_tiers`.
    pub condition: String,
    /// What the customer has, e.g. `CNY 180,000.00`, or `none`.
    pub actual: String,
    /// What is needed, e.g. `CNY 200,000.00`, or `one of: vip, platinum`.
    pub required: String,
    /// A sentence for the manager, e.g. `contribution RMB 180,000.00, rule needs 200,000.00`.
    pub message: String,
}

/// Everything a pricing rule can fail with. The service maps [`PricingError::Invalid`] to
/// `INVALID_ARGUMENT` (one field violation per entry), [`PricingError::RegulatoryBreach`] to
/// `FAILED_PRECONDITION` of type `REGULATORY_LIMIT` with the limit id as subject, the missing
/// reference or FX rate and an ineligible bundle to `FAILED_PRECONDITION`, and
/// [`PricingError::Money`] (an overflow on absurd amounts) to `INVALID_ARGUMENT`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PricingError {
    /// Bad input: every violation, each naming its field.
    #[error("invalid pricing input: {}", join(.0))]
    Invalid(Vec<PricingViolation>),
    /// A rate breaches a regulatory limit.
    #[error(transparent)]
    RegulatoryBreach(RegulatoryBreach),
    /// A limit is expressed against a reference rate that has no point in force on the date.
    #[error("no {kind} reference rate is in force on {date}")]
    NoReferenceRate {
        /// The series.
        kind: ReferenceRateKind,
        /// The date priced.
        date: NaiveDate,
    },
    /// No FX rate of the currency to CNY is in force on the date.
    #[error("no {currency} to CNY FX rate is in force on {date}")]
    NoFxRate {
        /// The currency.
        currency: Currency,
        /// The date priced.
        date: NaiveDate,
    },
    /// A quote under a bundle the customer is not eligible for.
    #[error("the customer is not eligible for bundle {bundle_id}: {}", unmet_messages(.unmet))]
    BundleNotEligible {
        /// The bundle.
        bundle_id: String,
        /// The eligibility conditions that fail.
        unmet: Vec<UnmetCondition>,
    },
    /// Money arithmetic failed: an overflow on absurd amounts, or mixed currencies.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl PricingError {
    /// A single violation.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        PricingError::Invalid(vec![PricingViolation::new(field, message)])
    }

    /// The same error with `prefix` in front of every violation's field path (other errors are
    /// returned unchanged).
    pub fn prefixed(self, prefix: &str) -> Self {
        match self {
            PricingError::Invalid(v) => {
                PricingError::Invalid(v.into_iter().map(|v| v.prefixed(prefix)).collect())
            }
            other => other,
        }
    }
}

impl From<Vec<PricingViolation>> for PricingError {
    fn from(v: Vec<PricingViolation>) -> Self {
        PricingError::Invalid(v)
    }
}

impl From<RegulatoryBreach> for PricingError {
    fn from(b: RegulatoryBreach) -> Self {
        PricingError::RegulatoryBreach(b)
    }
}

impl From<crate::exact::Overflow> for PricingError {
    fn from(_: crate::exact::Overflow) -> Self {
        PricingError::Money(MoneyError::Overflow)
    }
}

fn join(v: &[PricingViolation]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn unmet_messages(v: &[UnmetCondition]) -> String {
    v.iter()
        .map(|u| u.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_prefix_and_display() {
        let v = PricingViolation::new("tiers[0].rate_bps", "must be 0 to 10000");
        assert_eq!(
            v.clone().prefixed("fee_schedule").field,
            "fee_schedule.tiers[0].rate_bps"
        );
        assert_eq!(
            PricingViolation::new("[2]", "x").prefixed("items").field,
            "items[2]"
        );
        assert_eq!(
            PricingViolation::new("", "x").prefixed("items").field,
            "items"
        );
        assert_eq!(v.to_string(), "tiers[0].rate_bps: must be 0 to 10000");
        let e = PricingError::Invalid(vec![v.clone(), PricingViolation::new("a", "b")]);
        assert_eq!(
            e.to_string(),
            "invalid pricing input: tiers[0].rate_bps: must be 0 to 10000; a: b"
        );
        match e.prefixed("price_version") {
            PricingError::Invalid(v) => assert_eq!(v[1].field, "price_version.a"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
