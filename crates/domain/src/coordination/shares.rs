//! Units and shares of an opportunity (DOMAIN.md §5 "Opportunity", "Shares"): a unit is a
//! (branch, line) pair ([`UnitRef`]); an opportunity has one lead unit (牵头 / 主办) and co-units
//! (协办), each with a share of the benefit (利益分配) in whole basis points. This module owns the
//! validated set ([`ShareSet`]): at least one unit, no unit twice, exactly one lead, every share
//! 0 to 10,000 bp with the lead's above 0, and the shares summing to exactly 10,000 — every
//! problem reported with its proto field path (`units[2].share_bps`). A co-unit may hold 0 bp (a
//! supporting unit that takes no share of the benefit); the lead may not.

use std::collections::BTreeSet;
use std::fmt;

use super::{CoordinationError, Violations};
use crate::money::BasisPoints;
use crate::org::{BranchCode, BusinessLine};

/// The shares of an opportunity always sum to this: 10,000 bp = 100%.
pub const TOTAL_SHARE_BPS: i32 = 10_000;

/// The most units an opportunity may have.
pub const MAX_UNITS: usize = 50;

code_enum! {
    /// The role of a unit in an opportunity (proto `UnitRole`).
    pub enum UnitRole {
        /// The lead unit (牵头 / 主办); exactly one per opportunity.
        Lead => "lead",
        /// A co-unit (协办).
        Co => "co",
    }
}

/// An organisational unit: a branch and a business line (proto `UnitRef`). Two units are the same
/// unit when both the branch and the line are equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitRef {
    /// The branch.
    pub branch: BranchCode,
    /// The line.
    pub line: BusinessLine,
}

impl UnitRef {
    /// The unit of `line` at `branch`.
    pub fn new(branch: BranchCode, line: BusinessLine) -> Self {
        Self { branch, line }
    }
}

impl fmt::Display for UnitRef {
    /// `BJ01/corporate`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.branch, self.line)
    }
}

/// A unit of an opportunity with its role and share (proto `OpportunityUnit`, without the
/// storage id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnitShare {
    /// The unit.
    pub unit: UnitRef,
    /// Lead or co-unit.
    pub role: UnitRole,
    /// Share of the benefit.
    pub share: BasisPoints,
}

impl UnitShare {
    /// A unit share of `bps` basis points.
    pub fn new(unit: UnitRef, role: UnitRole, bps: i32) -> Self {
        Self {
            unit,
            role,
            share: BasisPoints::new(bps),
        }
    }
}

/// A valid set of units and shares: one lead, no duplicate unit, shares 0 to 10,000 bp (the
/// lead's above 0) summing to exactly 10,000 bp. The order given is kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShareSet {
    units: Vec<UnitShare>,
}

impl ShareSet {
    /// Validates `units`, naming fields under `list_field` (e.g. `units` or `proposed_units`):
    /// `units` for the whole list (empty, too long, no lead, wrong sum), `units[i].share_bps`,
    /// `units[i].unit` (a duplicate) and `units[i].role` (a second lead). Every problem is
    /// reported at once.
    pub fn parse(units: Vec<UnitShare>, list_field: &str) -> Result<Self, CoordinationError> {
        let mut v = Violations::default();
        if units.is_empty() {
            v.add(
                list_field,
                "needs one lead unit and any co-units; none were given",
            );
            return v.finish().map(|()| Self { units });
        }
        if units.len() > MAX_UNITS {
            v.add(
                list_field,
                format!("has {} units; at most {MAX_UNITS} are allowed", units.len()),
            );
        }
        let mut lead: Option<usize> = None;
        let mut sum: i64 = 0;
        for (i, u) in units.iter().enumerate() {
            let at = |name: &str| format!("{list_field}[{i}].{name}");
            let bps = u.share.value();
            sum += i64::from(bps);
            if bps < 0 {
                v.add(at("share_bps"), format!("must not be negative, not {bps}"));
            } else if bps > TOTAL_SHARE_BPS {
                v.add(
                    at("share_bps"),
                    format!("must be at most {TOTAL_SHARE_BPS}, not {bps}"),
                );
            }
            if let Some(j) = units[..i].iter().position(|o| o.unit == u.unit) {
                v.add(
                    at("unit"),
                    format!("repeats unit {} of {list_field}[{j}]", u.unit),
                );
            }
            if u.role == UnitRole::Lead {
                match lead {
                    Some(first) => v.add(
                        at("role"),
                        format!(
                            "is a second lead; {list_field}[{first}] is already the lead and \
                             there must be exactly one"
                        ),
                    ),
                    None => {
                        lead = Some(i);
                        if bps == 0 {
                            v.add(at("share_bps"), "the lead unit must hold a share above 0");
                        }
                    }
                }
            }
        }
        if lead.is_none() {
            v.add(
                list_field,
                "needs exactly one lead unit; none has the lead role",
            );
        }
        if sum != i64::from(TOTAL_SHARE_BPS) {
            v.add(
                list_field,
                format!("the shares sum to {sum} bp; they must sum to exactly {TOTAL_SHARE_BPS}"),
            );
        }
        v.finish().map(|()| Self { units })
    }

    /// The units, in the order given.
    pub fn units(&self) -> &[UnitShare] {
        &self.units
    }

    /// The lead unit.
    pub fn lead(&self) -> &UnitShare {
        // A valid set always has exactly one lead.
        self.units
            .iter()
            .find(|u| u.role == UnitRole::Lead)
            .unwrap_or(&self.units[0])
    }

    /// The unit's share, if it is a unit of the set.
    pub fn share_of(&self, unit: &UnitRef) -> Option<BasisPoints> {
        self.get(unit).map(|u| u.share)
    }

    /// The unit's entry, if it is a unit of the set.
    pub fn get(&self, unit: &UnitRef) -> Option<&UnitShare> {
        self.units.iter().find(|u| u.unit == *unit)
    }

    /// Whether `unit` is a unit of the set.
    pub fn contains(&self, unit: &UnitRef) -> bool {
        self.get(unit).is_some()
    }

    /// The lines involved: every unit's line, once.
    pub fn lines(&self) -> BTreeSet<BusinessLine> {
        self.units.iter().map(|u| u.unit.line).collect()
    }

    /// The units, without shares.
    pub fn unit_refs(&self) -> Vec<UnitRef> {
        self.units.iter().map(|u| u.unit.clone()).collect()
    }

    /// Whether the two sets give every unit the same role and share, whatever the order.
    pub fn same_as(&self, other: &ShareSet) -> bool {
        self.units.len() == other.units.len()
            && self
                .units
                .iter()
                .all(|u| other.get(&u.unit).is_some_and(|o| o == u))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::coordination::ErrorKind;

    pub(crate) fn code(s: &str) -> BranchCode {
        BranchCode::parse(s).expect("code")
    }

    pub(crate) fn unit(branch: &str, line: BusinessLine) -> UnitRef {
        UnitRef::new(code(branch), line)
    }

    pub(crate) fn lead(branch: &str, line: BusinessLine, bps: i32) -> UnitShare {
        UnitShare::new(unit(branch, line), UnitRole::Lead, bps)
    }

    pub(crate) fn co(branch: &str, line: BusinessLine, bps: i32) -> UnitShare {
        UnitShare::new(unit(branch, line), UnitRole::Co, bps)
    }

    /// The walk-through's units: corporate leads with 5000, small business 3000, retail 2000.
    pub(crate) fn walkthrough_units() -> Vec<UnitShare> {
        vec![
            lead("BJ01", BusinessLine::Corporate, 5000),
            co("BJ01", BusinessLine::SmallBusiness, 3000),
            co("BJ01", BusinessLine::Retail, 2000),
        ]
    }

    fn fields(err: CoordinationError) -> Vec<String> {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        err.violations().iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn the_walkthrough_shares_are_valid() {
        let set = ShareSet::parse(walkthrough_units(), "units").unwrap();
        assert_eq!(set.lead().unit, unit("BJ01", BusinessLine::Corporate));
        assert_eq!(
            set.share_of(&unit("BJ01", BusinessLine::Retail)),
            Some(BasisPoints::new(2000))
        );
        assert_eq!(set.share_of(&unit("SH", BusinessLine::Retail)), None);
        assert_eq!(
            set.lines().into_iter().collect::<Vec<_>>(),
            [
                BusinessLine::Corporate,
                BusinessLine::SmallBusiness,
                BusinessLine::Retail
            ]
        );
        assert_eq!(set.unit_refs().len(), 3);
        assert_eq!(
            unit("BJ01", BusinessLine::Retail).to_string(),
            "BJ01/retail"
        );
    }

    #[test]
    fn the_sum_must_be_exactly_ten_thousand() {
        for (bps, sum) in [(1999, 9999), (2001, 10001)] {
            let mut units = walkthrough_units();
            units[2].share = BasisPoints::new(bps);
            let err = ShareSet::parse(units, "units").unwrap_err();
            assert_eq!(err.violations().len(), 1);
            assert_eq!(err.violations()[0].field, "units");
            assert!(
                err.violations()[0]
                    .message
                    .contains(&format!("sum to {sum} bp")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_negative_share_names_its_field() {
        let units = vec![
            lead("BJ01", BusinessLine::Corporate, 10500),
            co("BJ01", BusinessLine::SmallBusiness, 0),
            co("BJ01", BusinessLine::Retail, -500),
        ];
        let err = ShareSet::parse(units, "units").unwrap_err();
        assert_eq!(
            fields(err.clone()),
            ["units[0].share_bps", "units[2].share_bps"]
        );
        assert!(err.violations()[1].message.contains("negative"));
        assert!(err.violations()[0].message.contains("at most 10000"));
    }

    #[test]
    fn a_zero_co_share_is_allowed_but_not_a_zero_lead() {
        let ok = vec![
            lead("BJ01", BusinessLine::Corporate, 10000),
            co("BJ01", BusinessLine::Wealth, 0),
        ];
        assert!(ShareSet::parse(ok, "units").is_ok());
        let bad = vec![
            lead("BJ01", BusinessLine::Corporate, 0),
            co("BJ01", BusinessLine::Wealth, 10000),
        ];
        assert_eq!(
            fields(ShareSet::parse(bad, "proposed_units").unwrap_err()),
            ["proposed_units[0].share_bps"]
        );
    }

    #[test]
    fn exactly_one_lead_and_no_duplicate_unit() {
        let none = vec![
            co("BJ01", BusinessLine::Corporate, 5000),
            co("BJ01", BusinessLine::Retail, 5000),
        ];
        assert_eq!(
            fields(ShareSet::parse(none, "units").unwrap_err()),
            ["units"]
        );
        let two = vec![
            lead("BJ01", BusinessLine::Corporate, 5000),
            lead("BJ01", BusinessLine::Retail, 5000),
        ];
        assert_eq!(
            fields(ShareSet::parse(two, "units").unwrap_err()),
            ["units[1].role"]
        );
        let dup = vec![
            lead("BJ01", BusinessLine::Corporate, 5000),
            co("BJ01", BusinessLine::Corporate, 5000),
        ];
        let err = ShareSet::parse(dup, "units").unwrap_err();
        assert_eq!(fields(err.clone()), ["units[1].unit"]);
        assert!(err.violations()[0].message.contains("units[0]"));
        // The same line at another branch is another unit.
        let other_branch = vec![
            lead("BJ01", BusinessLine::Corporate, 5000),
            co("BJ02", BusinessLine::Corporate, 5000),
        ];
        assert!(ShareSet::parse(other_branch, "units").is_ok());
    }

    #[test]
    fn empty_and_oversized_lists() {
        assert_eq!(
            fields(ShareSet::parse(vec![], "units").unwrap_err()),
            ["units"]
        );
        let mut many = vec![lead("B0", BusinessLine::Corporate, 10000)];
        for i in 1..=MAX_UNITS {
            many.push(co(&format!("B{i}"), BusinessLine::Retail, 0));
        }
        let err = ShareSet::parse(many, "units").unwrap_err();
        assert_eq!(fields(err.clone()), ["units"]);
        assert!(err.violations()[0].message.contains("at most 50"));
    }

    #[test]
    fn same_as_ignores_order() {
        let a = ShareSet::parse(walkthrough_units(), "units").unwrap();
        let mut rev = walkthrough_units();
        rev.reverse();
        let b = ShareSet::parse(rev, "units").unwrap();
        assert!(a.same_as(&b));
        let mut changed = walkthrough_units();
        changed[1].share = BasisPoints::new(2500);
        changed[2].share = BasisPoints::new(2500);
        assert!(!a.same_as(&ShareSet::parse(changed, "units").unwrap()));
    }
}
