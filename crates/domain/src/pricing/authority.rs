//! Pricing authority (授权, DOMAIN.md §4): the levels of authority from the customer manager up
//! to head office (mapped onto the branch tree's levels), the authority band of a level and
//! product kind (the largest concession it may grant: basis points of rate for balance products,
//! basis points of the relationship fee for fee products), the concession a proposal makes —
//! measured **in the customer's favour** from the relationship price (a lower loan rate, a higher
//! deposit rate, a lower fee; a move against the customer is no concession, 0) — the lowest level
//! whose band covers a concession, and the validation of a set of bands (not negative, and
//! non-decreasing up the tree). A fee concession is `(relationship − proposed) / relationship` in
//! basis points, rounded **up** to a whole basis point so that a concession is never understated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalogue::{Price, ProductKind};
use super::effective::EffectiveRange;
use super::{PricingError, PricingViolation, violations_result};
use crate::money::BasisPoints;
use crate::org::BranchLevel;
use crate::tiers::grouped;

code_enum! {
    /// A level of pricing authority, from least to most: `Ord` follows authority
    /// (`CustomerManager < Outlet < … < HeadOffice`).
    pub enum AuthorityLevel {
        /// The customer manager's own discretion: no approval needed.
        CustomerManager => "customer_manager",
        /// An approver at an outlet.
        Outlet => "outlet",
        /// An approver at a sub-branch.
        SubBranch => "sub_branch",
        /// An approver at a tier-2 branch.
        Tier2Branch => "tier2_branch",
        /// An approver at a tier-1 branch.
        Tier1Branch => "tier1_branch",
        /// An approver at head office; also needed for a strategic quote with negative EVA.
        HeadOffice => "head_office",
    }
}

impl AuthorityLevel {
    /// The authority of an approver whose branch is at `level` (an approver's authority is the
    /// level of their branch in the tree).
    pub const fn of_branch(level: BranchLevel) -> AuthorityLevel {
        match level {
            BranchLevel::HeadOffice => AuthorityLevel::HeadOffice,
            BranchLevel::Tier1Branch => AuthorityLevel::Tier1Branch,
            BranchLevel::Tier2Branch => AuthorityLevel::Tier2Branch,
            BranchLevel::SubBranch => AuthorityLevel::SubBranch,
            BranchLevel::Outlet => AuthorityLevel::Outlet,
        }
    }

    /// The branch level of an approver with this authority; `None` for the customer manager,
    /// whose discretion needs no approver.
    pub const fn branch_level(self) -> Option<BranchLevel> {
        match self {
            AuthorityLevel::CustomerManager => None,
            AuthorityLevel::Outlet => Some(BranchLevel::Outlet),
            AuthorityLevel::SubBranch => Some(BranchLevel::SubBranch),
            AuthorityLevel::Tier2Branch => Some(BranchLevel::Tier2Branch),
            AuthorityLevel::Tier1Branch => Some(BranchLevel::Tier1Branch),
            AuthorityLevel::HeadOffice => Some(BranchLevel::HeadOffice),
        }
    }

    /// Whether an approver at a branch of `level` has at least this authority.
    pub fn is_held_by(self, level: BranchLevel) -> bool {
        AuthorityLevel::of_branch(level) >= self
    }
}

/// The concession one level may grant for one product kind, from the relationship price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityBand {
    /// Stable id of the band series.
    pub band_id: String,
    /// The level.
    pub level: AuthorityLevel,
    /// The product kind.
    pub product_kind: ProductKind,
    /// Balance products: the largest rate concession, in basis points (0 to 10,000).
    pub max_rate_concession: BasisPoints,
    /// Fee products: the largest fee concession, in basis points of the relationship fee
    /// (0 to 10,000; 10,000 = the whole fee).
    pub max_fee_concession: BasisPoints,
    /// When it is in force.
    pub effective: EffectiveRange,
}

impl AuthorityBand {
    /// The band's limit for its product kind: the fee concession for fee products, the rate
    /// concession otherwise.
    pub fn max_concession(&self) -> BasisPoints {
        match self.product_kind {
            ProductKind::Fee => self.max_fee_concession,
            ProductKind::Asset | ProductKind::Liability => self.max_rate_concession,
        }
    }

    /// Checks one band: both limits 0 to 10,000 bp and a valid range, named by proto field.
    pub fn validate(&self) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        for (field, value) in [
            ("max_rate_concession_bps", self.max_rate_concession),
            ("max_fee_concession_bps", self.max_fee_concession),
        ] {
            if !(0..=10_000).contains(&value.value()) {
                v.push(PricingViolation::new(
                    field,
                    format!("{} is outside 0 to 10000 bp", value.value()),
                ));
            }
        }
        if let Err(e) = self.effective.validate() {
            v.push(e.prefixed("effective"));
        }
        violations_result(v)
    }
}

fn max_field(kind: ProductKind) -> &'static str {
    match kind {
        ProductKind::Fee => "max_fee_concession_bps",
        ProductKind::Asset | ProductKind::Liability => "max_rate_concession_bps",
    }
}

/// Checks a set of bands that are in force together (e.g. those in force on a date plus a new
/// one): each band valid, at most one band per level and product kind, and per product kind the
/// limits non-decreasing up the tree (a band narrower than a lower level's is refused, naming the
/// higher band). Field paths are `[i].field`, `i` the position in `bands`.
pub fn validate_bands(bands: &[AuthorityBand]) -> Result<(), Vec<PricingViolation>> {
    let mut v = Vec::new();
    let mut by_slot: BTreeMap<(ProductKind, AuthorityLevel), usize> = BTreeMap::new();
    for (i, band) in bands.iter().enumerate() {
        if let Err(errs) = band.validate() {
            v.extend(errs.into_iter().map(|e| e.prefixed(&format!("[{i}]"))));
        }
        if let Some(first) = by_slot.insert((band.product_kind, band.level), i) {
            v.push(PricingViolation::new(
                format!("[{i}].level"),
                format!(
                    "a {} band for {} products is already given at [{first}]",
                    band.level, band.product_kind
                ),
            ));
            by_slot.insert((band.product_kind, band.level), first);
        }
    }
    let mut previous: Option<(ProductKind, AuthorityLevel, BasisPoints)> = None;
    for (&(kind, level), &i) in &by_slot {
        let max = bands[i].max_concession();
        if let Some((prev_kind, prev_level, prev_max)) = previous
            && prev_kind == kind
            && max < prev_max
        {
            v.push(PricingViolation::new(
                format!("[{i}].{}", max_field(kind)),
                format!(
                    "the {level} band ({max}) is narrower than the lower {prev_level} band \
                     ({prev_max}); bands must not narrow up the tree"
                ),
            ));
            continue;
        }
        previous = Some((kind, level, max));
    }
    violations_result(v)
}

/// The concession a `proposed` price makes from the `relationship` price of a product of `kind`,
/// in the customer's favour: for an asset `relationship − proposed` bp, for a liability
/// `proposed − relationship` bp, for a fee product `(relationship − proposed) / relationship` in
/// bp of the relationship fee, rounded up; 0 when the proposal is not in the customer's favour
/// (or the relationship fee is already 0). Fails (naming `proposed_rate_bps` or
/// `proposed_annual_fee`) when a price is not of the kind's form, a fee is negative or the
/// currencies differ.
pub fn concession(
    kind: ProductKind,
    relationship: &Price,
    proposed: &Price,
) -> Result<BasisPoints, PricingError> {
    match (kind, relationship, proposed) {
        (ProductKind::Asset, Price::Rate(rel), Price::Rate(prop)) => {
            Ok(rel.checked_sub(*prop)?.max(BasisPoints::ZERO))
        }
        (ProductKind::Liability, Price::Rate(rel), Price::Rate(prop)) => {
            Ok(prop.checked_sub(*rel)?.max(BasisPoints::ZERO))
        }
        (ProductKind::Fee, Price::AnnualFee(rel), Price::AnnualFee(prop)) => {
            if prop.currency() != rel.currency() {
                return Err(PricingError::invalid(
                    "proposed_annual_fee",
                    format!(
                        "is in {}, the product is in {}",
                        prop.currency(),
                        rel.currency()
                    ),
                ));
            }
            if prop.is_negative() {
                return Err(PricingError::invalid(
                    "proposed_annual_fee",
                    format!("{} {} is negative", prop.currency(), grouped(*prop)),
                ));
            }
            let (rel, prop) = (
                i128::from(rel.minor_units()),
                i128::from(prop.minor_units()),
            );
            if prop >= rel || rel <= 0 {
                return Ok(BasisPoints::ZERO);
            }
            let cut = (rel - prop) * 10_000;
            // Ceiling division of positive numbers; the result is 1 to 10,000.
            let bp = (cut + rel - 1) / rel;
            Ok(BasisPoints::new(i32::try_from(bp).unwrap_or(10_000)))
        }
        (ProductKind::Fee, _, _) => Err(PricingError::invalid(
            "proposed_annual_fee",
            "a fee product is priced by an annual fee, not a rate",
        )),
        (_, _, _) => Err(PricingError::invalid(
            "proposed_rate_bps",
            format!("a {kind} product is priced by a rate, not an annual fee"),
        )),
    }
}

/// The lowest level whose band (among `bands`, those in force) for `kind` covers `concession`;
/// a concession of 0 (or less) needs no band and gives the customer manager. `None` when no band
/// covers it: no one may grant it.
pub fn required_level<'a>(
    bands: impl IntoIterator<Item = &'a AuthorityBand>,
    kind: ProductKind,
    concession: BasisPoints,
) -> Option<AuthorityLevel> {
    if concession <= BasisPoints::ZERO {
        return Some(AuthorityLevel::CustomerManager);
    }
    covering_band(bands, kind, concession).map(|b| b.level)
}

/// The band of the lowest level (among `bands`, those in force) for `kind` that covers a
/// positive `concession`; `None` when none does (or the concession is 0, which needs no band).
pub fn covering_band<'a>(
    bands: impl IntoIterator<Item = &'a AuthorityBand>,
    kind: ProductKind,
    concession: BasisPoints,
) -> Option<&'a AuthorityBand> {
    if concession <= BasisPoints::ZERO {
        return None;
    }
    bands
        .into_iter()
        .filter(|b| b.product_kind == kind && b.max_concession() >= concession)
        .min_by_key(|b| b.level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use chrono::NaiveDate;

    fn bp(v: i32) -> BasisPoints {
        BasisPoints::new(v)
    }

    fn band(level: AuthorityLevel, kind: ProductKind, rate: i32, fee: i32) -> AuthorityBand {
        AuthorityBand {
            band_id: format!("{kind}-{level}"),
            level,
            product_kind: kind,
            max_rate_concession: bp(rate),
            max_fee_concession: bp(fee),
            effective: EffectiveRange::starting(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
        }
    }

    fn bands() -> Vec<AuthorityBand> {
        use AuthorityLevel::*;
        use ProductKind::*;
        vec![
            band(CustomerManager, Asset, 5, 0),
            band(SubBranch, Asset, 15, 0),
            band(Tier1Branch, Asset, 40, 0),
            band(HeadOffice, Asset, 100, 0),
            band(CustomerManager, Fee, 0, 500),
            band(Tier2Branch, Fee, 0, 2_000),
            band(HeadOffice, Fee, 0, 10_000),
        ]
    }

    fn cny(fen: i64) -> Money {
        Money::from_minor(Currency::CNY, fen)
    }

    #[test]
    fn concessions_are_measured_in_the_customers_favour() {
        let rate = |v| Price::Rate(bp(v));
        assert_eq!(
            concession(ProductKind::Asset, &rate(400), &rate(380)),
            Ok(bp(20))
        );
        assert_eq!(
            concession(ProductKind::Asset, &rate(400), &rate(420)),
            Ok(bp(0))
        );
        assert_eq!(
            concession(ProductKind::Liability, &rate(130), &rate(140)),
            Ok(bp(10))
        );
        assert_eq!(
            concession(ProductKind::Liability, &rate(130), &rate(120)),
            Ok(bp(0))
        );
        let fee = |fen| Price::AnnualFee(cny(fen));
        // 120,000 → 96,000 is 20% off.
        assert_eq!(
            concession(ProductKind::Fee, &fee(12_000_000), &fee(9_600_000)),
            Ok(bp(2_000))
        );
        // 0.01 off 3.00 is 33.3 bp: rounded up to 34.
        assert_eq!(
            concession(ProductKind::Fee, &fee(300), &fee(299)),
            Ok(bp(34))
        );
        assert_eq!(
            concession(ProductKind::Fee, &fee(300), &fee(0)),
            Ok(bp(10_000))
        );
        assert_eq!(
            concession(ProductKind::Fee, &fee(300), &fee(400)),
            Ok(bp(0))
        );
        assert_eq!(concession(ProductKind::Fee, &fee(0), &fee(0)), Ok(bp(0)));
    }

    #[test]
    fn concession_inputs_are_checked() {
        let field = |r: Result<BasisPoints, PricingError>| match r {
            Err(PricingError::Invalid(v)) => v[0].field.clone(),
            other => panic!("{other:?}"),
        };
        let fee = Price::AnnualFee(cny(100));
        let rate = Price::Rate(bp(100));
        assert_eq!(
            field(concession(ProductKind::Fee, &fee, &rate)),
            "proposed_annual_fee"
        );
        assert_eq!(
            field(concession(ProductKind::Asset, &rate, &fee)),
            "proposed_rate_bps"
        );
        assert_eq!(
            field(concession(
                ProductKind::Fee,
                &fee,
                &Price::AnnualFee(cny(-1))
            )),
            "proposed_annual_fee"
        );
        let usd = Price::AnnualFee(Money::from_minor(Currency::USD, 1));
        assert_eq!(
            field(concession(ProductKind::Fee, &fee, &usd)),
            "proposed_annual_fee"
        );
        assert!(matches!(
            concession(
                ProductKind::Asset,
                &Price::Rate(bp(i32::MIN)),
                &Price::Rate(bp(1))
            ),
            Err(PricingError::Money(_))
        ));
    }

    #[test]
    fn the_lowest_covering_level_is_required() {
        use AuthorityLevel::*;
        let b = bands();
        assert_eq!(
            required_level(&b, ProductKind::Asset, bp(0)),
            Some(CustomerManager)
        );
        assert_eq!(
            required_level(&b, ProductKind::Asset, bp(5)),
            Some(CustomerManager)
        );
        assert_eq!(
            required_level(&b, ProductKind::Asset, bp(6)),
            Some(SubBranch)
        );
        assert_eq!(
            required_level(&b, ProductKind::Asset, bp(40)),
            Some(Tier1Branch)
        );
        assert_eq!(
            required_level(&b, ProductKind::Asset, bp(41)),
            Some(HeadOffice)
        );
        assert_eq!(required_level(&b, ProductKind::Asset, bp(101)), None);
        assert_eq!(
            required_level(&b, ProductKind::Fee, bp(501)),
            Some(Tier2Branch)
        );
        assert_eq!(
            required_level(&b, ProductKind::Fee, bp(10_000)),
            Some(HeadOffice)
        );
        // No liability bands: any concession is beyond everyone's authority.
        assert_eq!(required_level(&b, ProductKind::Liability, bp(1)), None);
        assert_eq!(
            required_level(&b, ProductKind::Liability, bp(0)),
            Some(CustomerManager)
        );
    }

    #[test]
    fn band_sets_are_non_negative_unique_and_monotone() {
        use AuthorityLevel::*;
        assert_eq!(validate_bands(&bands()), Ok(()));
        let mut b = bands();
        b[2].max_rate_concession = bp(10); // tier-1 below sub-branch's 15
        b[5].max_fee_concession = bp(-1);
        b.push(band(SubBranch, ProductKind::Asset, 20, 0));
        let errs = validate_bands(&b).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "[5].max_fee_concession_bps",
                "[7].level",
                "[2].max_rate_concession_bps",
                "[5].max_fee_concession_bps"
            ]
        );
        assert_eq!(
            errs[2].message,
            "the tier1_branch band (10bp) is narrower than the lower sub_branch band (15bp); \
             bands must not narrow up the tree"
        );
        let mut one = band(Outlet, ProductKind::Liability, 10_001, 0);
        one.effective.to = Some(one.effective.from);
        let fields: Vec<_> = one
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["max_rate_concession_bps", "effective.end_date"]);
    }

    #[test]
    fn levels_map_onto_the_branch_tree() {
        use AuthorityLevel::*;
        assert!(CustomerManager < Outlet && Tier1Branch < HeadOffice);
        for level in BranchLevel::ALL {
            assert_eq!(
                AuthorityLevel::of_branch(*level).branch_level(),
                Some(*level)
            );
        }
        assert_eq!(CustomerManager.branch_level(), None);
        assert!(Tier2Branch.is_held_by(BranchLevel::Tier1Branch));
        assert!(Tier2Branch.is_held_by(BranchLevel::Tier2Branch));
        assert!(!Tier2Branch.is_held_by(BranchLevel::SubBranch));
        assert_eq!("tier2_branch".parse(), Ok(Tier2Branch));
    }
}
