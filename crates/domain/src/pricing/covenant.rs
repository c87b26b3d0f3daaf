//! Sales-funds return-ratio covenants (销售资金归行率, DOMAIN.md §4 "Covenants", seed 000 篇2): a
//! loan priced on an agreed share of the customer's sales proceeds flowing back through the bank.
//! This module owns the covenant (the agreed ratio and the configured step-up spread), its
//! validation, and the rule for an observation: a ratio **below** the agreed one steps the loan
//! rate up by the spread, giving the new rate; a ratio at or above it changes nothing. Each
//! breached observation steps up the rate it is given once: the caller passes the rate of the
//! quote version in force, and a new version with the stepped-up rate supersedes it.

use serde::{Deserialize, Serialize};

use super::{PricingError, PricingViolation, violations_result};
use crate::money::BasisPoints;

/// The default step-up of a breached covenant: 50 bp (configuration).
pub const DEFAULT_COVENANT_STEP_UP: BasisPoints = BasisPoints::new(50);

/// A sales-funds return-ratio covenant on a loan item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Covenant {
    /// The agreed ratio, 1 to 10,000 bp (6,000 = 60%).
    pub agreed_ratio: BasisPoints,
    /// The rate step-up when an observed ratio is below the agreed one, 0 to 10,000 bp (taken
    /// from configuration when the quote is created).
    pub step_up: BasisPoints,
}

impl Covenant {
    /// Checks the covenant: `agreed_ratio_bps` 1 to 10,000, `step_up_bps` 0 to 10,000.
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        if !(1..=10_000).contains(&self.agreed_ratio.value()) {
            v.push(PricingViolation::new(
                "agreed_ratio_bps",
                format!("{} is outside 1 to 10000 bp", self.agreed_ratio.value()),
            ));
        }
        if !(0..=10_000).contains(&self.step_up.value()) {
            v.push(PricingViolation::new(
                "step_up_bps",
                format!("{} is outside 0 to 10000 bp", self.step_up.value()),
            ));
        }
        violations_result(v)
    }
}

/// The outcome of one covenant observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CovenantOutcome {
    /// True when the observed ratio is below the agreed one.
    pub breached: bool,
    /// The step-up applied: the covenant's spread when breached, else 0.
    pub step_up: BasisPoints,
    /// The loan rate after the observation: stepped up when breached, else unchanged.
    pub new_rate: BasisPoints,
}

/// Applies an observed sales-funds return ratio (0 to 10,000 bp, `observed_ratio_bps`) to a loan
/// at `current_rate` under `covenant`.
pub fn observe(
    covenant: &Covenant,
    current_rate: BasisPoints,
    observed_ratio: BasisPoints,
) -> Result<CovenantOutcome, PricingError> {
    let mut v = covenant
        .validate()
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.prefixed("covenant"))
        .collect::<Vec<_>>();
    if !(0..=10_000).contains(&observed_ratio.value()) {
        v.push(PricingViolation::new(
            "observed_ratio_bps",
            format!("{} is outside 0 to 10000 bp", observed_ratio.value()),
        ));
    }
    violations_result(v)?;
    if observed_ratio < covenant.agreed_ratio {
        Ok(CovenantOutcome {
            breached: true,
            step_up: covenant.step_up,
            new_rate: current_rate.checked_add(covenant.step_up)?,
        })
    } else {
        Ok(CovenantOutcome {
            breached: false,
            step_up: BasisPoints::ZERO,
            new_rate: current_rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(v: i32) -> BasisPoints {
        BasisPoints::new(v)
    }

    fn covenant() -> Covenant {
        Covenant {
            agreed_ratio: bp(6_000),
            step_up: bp(30),
        }
    }

    #[test]
    fn below_the_agreed_ratio_steps_the_rate_up() {
        assert_eq!(
            observe(&covenant(), bp(385), bp(5_999)),
            Ok(CovenantOutcome {
                breached: true,
                step_up: bp(30),
                new_rate: bp(415)
            })
        );
        // A second breach steps up the rate it is given again.
        assert_eq!(
            observe(&covenant(), bp(415), bp(0)).unwrap().new_rate,
            bp(445)
        );
    }

    #[test]
    fn at_or_above_the_agreed_ratio_changes_nothing() {
        for observed in [6_000, 8_000, 10_000] {
            assert_eq!(
                observe(&covenant(), bp(385), bp(observed)),
                Ok(CovenantOutcome {
                    breached: false,
                    step_up: bp(0),
                    new_rate: bp(385)
                })
            );
        }
    }

    #[test]
    fn bad_inputs_name_their_fields() {
        let bad = Covenant {
            agreed_ratio: bp(0),
            step_up: bp(-1),
        };
        let err = observe(&bad, bp(385), bp(10_001)).unwrap_err();
        let PricingError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = v.into_iter().map(|v| v.field).collect();
        assert_eq!(
            fields,
            [
                "covenant.agreed_ratio_bps",
                "covenant.step_up_bps",
                "observed_ratio_bps"
            ]
        );
        assert!(matches!(
            observe(&covenant(), bp(i32::MAX), bp(0)),
            Err(PricingError::Money(_))
        ));
    }
}
