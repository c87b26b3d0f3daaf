//! Internal bidding (内部招标) for the lead of an opportunity (DOMAIN.md §5 "No internal
//! competition"): when several units want to lead, a bid is opened (in preparation or execution,
//! one at a time, closing in the future), each unit submits or replaces one proposal — the
//! complete set of units and shares it proposes, with itself as the lead — until the close time,
//! and the bid is awarded while open or closed. **Who may award**: a `pricing_committee` member
//! (the coordination committee arbitrates between lines bank-wide), or a `branch_head` whose
//! branch is the **awarding branch** or one of its ancestors, where the awarding branch is the
//! lowest branch whose subtree holds every proposing unit's branch (their lowest common
//! ancestor, [`crate::ownership::common_ancestor`]; the subtree test is
//! [`crate::ownership::may_check`]). An admin is not an awarder by role alone. The submitter of
//! the winning proposal never awards it (four eyes). The award sets the lead and the shares,
//! from the award date, and withdraws any pending amendment.

use chrono::{DateTime, Utc};

use super::shares::{ShareSet, UnitRef, UnitShare};
use super::stage::{OpportunityStage, check_open};
use super::{CoordinationError, Reason, Violations, check_reason};
use crate::branch_tree::BranchTree;
use crate::money::{Currency, Money};
use crate::org::{BranchCode, Role};
use crate::ownership::{ApprovalStatus, Decision, common_ancestor, decide, may_check};

/// The most characters of a bid's description.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The most characters of a proposal's plan.
pub const MAX_PLAN_CHARS: usize = 10_000;

code_enum! {
    /// The state of an internal bid (proto `BidStatus`, same order).
    pub enum BidStatus {
        /// Accepting proposals until the close time.
        Open => "open",
        /// Past the close time, waiting for the award.
        Closed => "closed",
        /// Awarded; the lead and shares were set.
        Awarded => "awarded",
        /// Cancelled without award.
        Cancelled => "cancelled",
    }
}

/// The status of a bid stored as `stored` at `now`: an open bid past its close time is closed.
pub fn effective_status(
    stored: BidStatus,
    close_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> BidStatus {
    if stored == BidStatus::Open && now >= close_time {
        BidStatus::Closed
    } else {
        stored
    }
}

/// Checks the opening of a bid on an opportunity in `stage` at `now` (fields relative to `bid`):
/// not in a terminal stage, only in preparation or execution ([`Reason::WrongStage`]); the
/// description at most 2,000 characters; the close time in the future (`close_time`); no other
/// open or closed-unawarded bid ([`Reason::BidAlreadyOpen`]).
pub fn check_open_bid(
    stage: OpportunityStage,
    unfinished_bid_exists: bool,
    description: &str,
    close_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), CoordinationError> {
    check_open(stage)?;
    if !matches!(
        stage,
        OpportunityStage::Preparation | OpportunityStage::Execution
    ) {
        return Err(CoordinationError::refused(
            Reason::WrongStage,
            format!("the lead is bid for in preparation or execution; the opportunity is {stage}"),
        ));
    }
    let mut v = Violations::default();
    v.text("description", description, false, MAX_DESCRIPTION_CHARS);
    match close_time {
        None => v.add("close_time", "is required"),
        Some(t) if t <= now => v.add("close_time", format!("must be in the future, after {now}")),
        Some(_) => {}
    }
    v.finish()?;
    if unfinished_bid_exists {
        return Err(CoordinationError::refused(
            Reason::BidAlreadyOpen,
            "a bid for the lead is already open or waiting for its award",
        ));
    }
    Ok(())
}

/// A unit's proposal to lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Stable id.
    pub proposal_id: String,
    /// The unit that would lead.
    pub unit: UnitRef,
    /// The complete set of units and shares it proposes, with itself as the lead.
    pub shares: ShareSet,
    /// Who submitted it.
    pub submitter: String,
}

/// A proposal as submitted.
#[derive(Clone, Debug)]
pub struct ProposalInput<'a> {
    /// The unit that would lead.
    pub unit: &'a UnitRef,
    /// Whether the submitter works in that unit.
    pub submitter_in_unit: bool,
    /// The complete set of units and shares proposed.
    pub proposed_units: Vec<UnitShare>,
    /// The plan.
    pub plan: &'a str,
    /// The expected annual revenue, in CNY.
    pub expected_revenue: Option<Money>,
}

/// Checks a proposal to a bid stored as `status` closing at `close_time`, and returns its
/// validated shares. Checks, in order: the bid is open at `now` ([`Reason::BidNotOpen`]); the
/// submitter works in the unit ([`Reason::NotUnitMember`]); the input, relative to `proposal`:
/// `proposed_units` (a valid share set led by the proposing unit), `plan` (at most 10,000
/// characters), `expected_revenue` (CNY, not negative).
pub fn check_proposal(
    status: BidStatus,
    close_time: DateTime<Utc>,
    now: DateTime<Utc>,
    input: ProposalInput<'_>,
) -> Result<ShareSet, CoordinationError> {
    let ProposalInput {
        unit,
        submitter_in_unit,
        proposed_units,
        plan,
        expected_revenue,
    } = input;
    let current = effective_status(status, close_time, now);
    if current != BidStatus::Open {
        return Err(CoordinationError::refused(
            Reason::BidNotOpen,
            format!("the bid is {current} and takes no more proposals"),
        ));
    }
    if !submitter_in_unit {
        return Err(CoordinationError::refused(
            Reason::NotUnitMember,
            format!("only someone working in unit {unit} may propose it as the lead"),
        ));
    }
    let mut v = Violations::default();
    let shares = match ShareSet::parse(proposed_units, "proposed_units") {
        Ok(set) => {
            if set.lead().unit != *unit {
                v.add(
                    "proposed_units",
                    format!(
                        "must have the proposing unit {unit} as the lead, not {}",
                        set.lead().unit
                    ),
                );
            }
            Some(set)
        }
        Err(e) => {
            v.extend(e)?;
            None
        }
    };
    v.text("plan", plan, false, MAX_PLAN_CHARS);
    if let Some(m) = expected_revenue {
        if m.currency() != Currency::CNY {
            v.add(
                "expected_revenue",
                format!("must be in CNY, not {}", m.currency().as_str()),
            );
        }
        if m.is_negative() {
            v.add("expected_revenue", "must not be negative");
        }
    }
    v.finish()?;
    shares.ok_or_else(|| CoordinationError::invalid("proposed_units", "is required"))
}

/// The branch whose subtree holds every proposing unit's branch: awarders must be at or above
/// it. `None` without proposals or when a branch is unknown.
pub fn awarding_branch(tree: &BranchTree, proposals: &[Proposal]) -> Option<BranchCode> {
    let branches: Vec<BranchCode> = proposals.iter().map(|p| p.unit.branch.clone()).collect();
    common_ancestor(tree, &branches)
}

/// Who is awarding.
#[derive(Clone, Copy, Debug)]
pub struct Awarder<'a> {
    /// Employee id.
    pub employee_id: &'a str,
    /// Roles from the token.
    pub roles: &'a [Role],
    /// Branch from the token.
    pub branch: Option<&'a BranchCode>,
}

/// Whether `awarder` may award a bid with `proposals`: a pricing committee member, or a branch
/// head at or above the awarding branch (every proposing branch in the head's subtree).
pub fn may_award(awarder: Awarder<'_>, proposals: &[Proposal], tree: &BranchTree) -> bool {
    if awarder.roles.contains(&Role::PricingCommittee) {
        return true;
    }
    let heads: Vec<Role> = awarder
        .roles
        .iter()
        .copied()
        .filter(|r| *r == Role::BranchHead)
        .collect();
    let branches: Vec<BranchCode> = proposals.iter().map(|p| p.unit.branch.clone()).collect();
    may_check(&heads, awarder.branch, &branches, tree)
}

/// A decided award.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Award {
    /// The winning proposal.
    pub proposal_id: String,
    /// The new lead and shares (from the award date; see
    /// [`crate::coordination::ShareHistory::next_start`]).
    pub shares: ShareSet,
    /// The awarding branch.
    pub awarding_branch: Option<BranchCode>,
}

/// Awards a bid stored as `status` to `winner`, one of `proposals`, by `awarder` with a required
/// `reason`. Checks, in order: the bid is open or closed ([`Reason::BidNotAwardable`]); the
/// winner is a proposal of the bid (field `proposal_id`); the awarder's right
/// ([`Reason::NotPermittedToAward`], naming the awarding branch) and four eyes against the
/// winner's submitter ([`Reason::MakerChecker`]); the reason.
pub fn award(
    status: BidStatus,
    proposals: &[Proposal],
    winner_id: &str,
    awarder: Awarder<'_>,
    tree: &BranchTree,
    reason: &str,
) -> Result<Award, CoordinationError> {
    if !matches!(status, BidStatus::Open | BidStatus::Closed) {
        return Err(CoordinationError::refused(
            Reason::BidNotAwardable,
            format!("the bid is {status}; only an open or closed bid is awarded"),
        ));
    }
    let Some(winner) = proposals.iter().find(|p| p.proposal_id == winner_id) else {
        return Err(CoordinationError::invalid(
            "proposal_id",
            format!("{winner_id:?} is not a proposal of this bid"),
        ));
    };
    let branch = awarding_branch(tree, proposals);
    if !may_award(awarder, proposals, tree) {
        let at = branch
            .as_ref()
            .map_or_else(|| "an unknown branch".to_owned(), ToString::to_string);
        return Err(CoordinationError::refused(
            Reason::NotPermittedToAward,
            format!(
                "{} may not award this bid: a pricing_committee member or a branch_head at or \
                 above {at} awards it",
                awarder.employee_id
            ),
        ));
    }
    if decide(
        ApprovalStatus::Pending,
        Decision::Approve,
        &winner.submitter,
        awarder.employee_id,
    )
    .is_err()
    {
        return Err(CoordinationError::refused(
            Reason::MakerChecker,
            format!(
                "{} submitted the winning proposal and may not award it",
                winner.submitter
            ),
        ));
    }
    check_reason(reason, true)?;
    Ok(Award {
        proposal_id: winner.proposal_id.clone(),
        shares: winner.shares.clone(),
        awarding_branch: branch,
    })
}

/// Cancels a bid stored as `status`: only an open or closed one ([`Reason::BidNotAwardable`]).
pub fn cancel(status: BidStatus) -> Result<BidStatus, CoordinationError> {
    match status {
        BidStatus::Open | BidStatus::Closed => Ok(BidStatus::Cancelled),
        other => Err(CoordinationError::refused(
            Reason::BidNotAwardable,
            format!("the bid is {other} and cannot be cancelled"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::members::tests::tree;
    use crate::coordination::shares::tests::{co, code, lead, unit};
    use crate::org::BusinessLine::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, h, 0, 0).unwrap()
    }

    fn proposal(id: &str, branch: &str, submitter: &str) -> Proposal {
        let shares = ShareSet::parse(
            vec![lead(branch, Corporate, 7000), co("BJ01", Retail, 3000)],
            "units",
        )
        .unwrap();
        Proposal {
            proposal_id: id.to_owned(),
            unit: unit(branch, Corporate),
            shares,
            submitter: submitter.to_owned(),
        }
    }

    #[test]
    fn opening_a_bid() {
        use OpportunityStage::*;
        assert!(check_open_bid(Preparation, false, "who leads?", Some(at(12)), at(9)).is_ok());
        let err = check_open_bid(Execution, false, "", Some(at(9)), at(9)).unwrap_err();
        assert_eq!(err.violations()[0].field, "close_time");
        let err = check_open_bid(Execution, false, "", None, at(9)).unwrap_err();
        assert_eq!(err.violations()[0].field, "close_time");
        assert_eq!(
            check_open_bid(Execution, true, "", Some(at(12)), at(9))
                .unwrap_err()
                .reason(),
            Some(Reason::BidAlreadyOpen)
        );
        assert_eq!(
            check_open_bid(Won, false, "", Some(at(12)), at(9))
                .unwrap_err()
                .reason(),
            Some(Reason::WrongStage)
        );
        assert_eq!(
            check_open_bid(Lost, false, "", Some(at(12)), at(9))
                .unwrap_err()
                .reason(),
            Some(Reason::TerminalStage)
        );
    }

    #[test]
    fn an_open_bid_closes_at_its_close_time() {
        assert_eq!(
            effective_status(BidStatus::Open, at(12), at(11)),
            BidStatus::Open
        );
        assert_eq!(
            effective_status(BidStatus::Open, at(12), at(12)),
            BidStatus::Closed
        );
        assert_eq!(
            effective_status(BidStatus::Awarded, at(12), at(13)),
            BidStatus::Awarded
        );
    }

    #[test]
    fn proposals_are_led_by_the_proposing_unit() {
        let me = unit("BJ02", Corporate);
        let retail = unit("BJ01", Retail);
        let units = vec![lead("BJ02", Corporate, 7000), co("BJ01", Retail, 3000)];
        let input = |u: &'static str, units: Vec<UnitShare>| ProposalInput {
            unit: if u == "me" { &me } else { &retail },
            submitter_in_unit: true,
            proposed_units: units,
            plan: "plan",
            expected_revenue: None,
        };
        let set =
            check_proposal(BidStatus::Open, at(12), at(10), input("me", units.clone())).unwrap();
        assert_eq!(set.lead().unit, me);
        let mut wrong = input("retail", units.clone());
        wrong.expected_revenue = Some(Money::from_minor(Currency::USD, -1));
        let err = check_proposal(BidStatus::Open, at(12), at(10), wrong).unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["proposed_units", "expected_revenue", "expected_revenue"]
        );
        let err = check_proposal(
            BidStatus::Open,
            at(12),
            at(10),
            input("me", vec![lead("BJ02", Corporate, 7000)]),
        )
        .unwrap_err();
        assert_eq!(err.violations()[0].field, "proposed_units");
        assert_eq!(
            check_proposal(BidStatus::Open, at(12), at(12), input("me", units.clone()))
                .unwrap_err()
                .reason(),
            Some(Reason::BidNotOpen)
        );
        let mut outsider = input("me", units);
        outsider.submitter_in_unit = false;
        assert_eq!(
            check_proposal(BidStatus::Open, at(12), at(10), outsider)
                .unwrap_err()
                .kind(),
            ErrorKind::PermissionDenied
        );
    }

    #[test]
    fn the_awarding_branch_is_the_lowest_common_ancestor() {
        let t = tree();
        let two = [proposal("p1", "BJ01", "a"), proposal("p2", "BJ02", "b")];
        assert_eq!(awarding_branch(&t, &two), Some(code("BJ")));
        let cross = [proposal("p1", "BJ0101", "a"), proposal("p2", "SH01", "b")];
        assert_eq!(awarding_branch(&t, &cross), Some(code("HQ")));
        let one = [proposal("p1", "BJ0101", "a")];
        assert_eq!(awarding_branch(&t, &one), Some(code("BJ0101")));
        assert_eq!(awarding_branch(&t, &[]), None);
    }

    #[test]
    fn who_may_award() {
        let t = tree();
        let props = [proposal("p1", "BJ01", "a"), proposal("p2", "BJ02", "b")];
        let head = |branch: &'static str| -> (Vec<Role>, BranchCode) {
            (vec![Role::BranchHead], code(branch))
        };
        for (branch, ok) in [("BJ", true), ("HQ", true), ("BJ01", false), ("SH", false)] {
            let (roles, b) = head(branch);
            let awarder = Awarder {
                employee_id: "h",
                roles: &roles,
                branch: Some(&b),
            };
            assert_eq!(may_award(awarder, &props, &t), ok, "{branch}");
        }
        let committee = [Role::PricingCommittee];
        let b = code("SH01");
        assert!(may_award(
            Awarder {
                employee_id: "c",
                roles: &committee,
                branch: Some(&b),
            },
            &props,
            &t
        ));
        let admin = [Role::Admin, Role::Approver];
        let hq = code("HQ");
        assert!(!may_award(
            Awarder {
                employee_id: "x",
                roles: &admin,
                branch: Some(&hq),
            },
            &props,
            &t
        ));
    }

    #[test]
    fn awarding() {
        let t = tree();
        let props = [
            proposal("p1", "BJ01", "alice"),
            proposal("p2", "BJ02", "bob"),
        ];
        let roles = [Role::BranchHead];
        let bj = code("BJ");
        let head = Awarder {
            employee_id: "henry",
            roles: &roles,
            branch: Some(&bj),
        };
        let award_ok = award(BidStatus::Closed, &props, "p2", head, &t, "stronger plan").unwrap();
        assert_eq!(award_ok.shares.lead().unit, unit("BJ02", Corporate));
        assert_eq!(award_ok.awarding_branch, Some(code("BJ")));
        assert!(award(BidStatus::Open, &props, "p1", head, &t, "early").is_ok());
        assert_eq!(
            award(BidStatus::Awarded, &props, "p1", head, &t, "x")
                .unwrap_err()
                .reason(),
            Some(Reason::BidNotAwardable)
        );
        assert_eq!(
            award(BidStatus::Closed, &props, "p9", head, &t, "x")
                .unwrap_err()
                .violations()[0]
                .field,
            "proposal_id"
        );
        assert_eq!(
            award(BidStatus::Closed, &props, "p1", head, &t, "")
                .unwrap_err()
                .violations()[0]
                .field,
            "reason"
        );
        let low = code("BJ01");
        let err = award(
            BidStatus::Closed,
            &props,
            "p1",
            Awarder {
                employee_id: "lo",
                roles: &roles,
                branch: Some(&low),
            },
            &t,
            "x",
        )
        .unwrap_err();
        assert_eq!(err.reason(), Some(Reason::NotPermittedToAward));
        assert!(err.to_string().contains("at or above BJ"), "{err}");
        // The committee member who submitted the winning proposal may not award it.
        let committee = [Role::PricingCommittee];
        let err = award(
            BidStatus::Closed,
            &props,
            "p2",
            Awarder {
                employee_id: "bob",
                roles: &committee,
                branch: Some(&bj),
            },
            &t,
            "mine",
        )
        .unwrap_err();
        assert_eq!(err.reason(), Some(Reason::MakerChecker));
        assert_eq!(cancel(BidStatus::Open), Ok(BidStatus::Cancelled));
        assert!(cancel(BidStatus::Awarded).is_err());
    }
}
