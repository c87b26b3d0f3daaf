//! Join requests (DOMAIN.md §5 "No internal competition": a second unit must join the existing
//! opportunity or ask for arbitration). A unit refused by a claim asks the holder to let it in
//! ([`check_join_request`]): someone working in the unit asks, the unit is not already a unit,
//! it has no other pending request there, and the opportunity is not lost or closed. The lead
//! answers: accepting means proposing a share amendment whose units include the joining unit
//! ([`check_join_acceptance`]; the unit joins when the amendment is accepted, see
//! [`crate::coordination::amendments`]), declining needs a reason ([`check_join_decline`]). Only
//! a member of the lead unit answers.

use super::shares::{ShareSet, TOTAL_SHARE_BPS, UnitRef};
use super::stage::{OpportunityStage, check_open};
use super::{CoordinationError, Reason, Violations, check_reason};

/// The most characters of a join request's message.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

code_enum! {
    /// The state of a join request (proto `JoinRequestStatus`, same order).
    pub enum JoinRequestStatus {
        /// Waiting for the lead.
        Pending => "pending",
        /// The lead proposed an amendment including the unit.
        Accepted => "accepted",
        /// Declined by the lead.
        Declined => "declined",
    }
}

/// A unit's request to join, as asked.
#[derive(Clone, Copy, Debug)]
pub struct JoinAsk<'a> {
    /// The unit asking to join.
    pub unit: &'a UnitRef,
    /// Whether the requester works in that unit (branch in its subtree, its line).
    pub requester_in_unit: bool,
    /// Whether the unit already has a pending request on the opportunity.
    pub pending_exists: bool,
    /// The share asked for, advisory: 0 to 10,000 bp.
    pub requested_share_bps: i32,
    /// The message to the lead, at most 2,000 characters.
    pub message: &'a str,
}

/// Checks a join request to an opportunity in `stage` with `shares` (latest set). Checks, in
/// order: a terminal stage; the requester in the unit ([`Reason::NotUnitMember`]); the input
/// (`requested_share_bps`, `message`); the unit not already a unit ([`Reason::AlreadyAUnit`]); no
/// other pending request of the unit ([`Reason::JoinRequestPending`], `ALREADY_EXISTS`).
pub fn check_join_request(
    stage: OpportunityStage,
    shares: &ShareSet,
    ask: JoinAsk<'_>,
) -> Result<(), CoordinationError> {
    check_open(stage)?;
    if !ask.requester_in_unit {
        return Err(CoordinationError::refused(
            Reason::NotUnitMember,
            format!(
                "only someone working in unit {} may ask for it to join",
                ask.unit
            ),
        ));
    }
    let mut v = Violations::default();
    if !(0..=TOTAL_SHARE_BPS).contains(&ask.requested_share_bps) {
        v.add(
            "requested_share_bps",
            format!(
                "must be 0 to {TOTAL_SHARE_BPS}, not {}",
                ask.requested_share_bps
            ),
        );
    }
    v.text("message", ask.message, false, MAX_MESSAGE_CHARS);
    v.finish()?;
    if shares.contains(ask.unit) {
        return Err(CoordinationError::refused(
            Reason::AlreadyAUnit,
            format!("unit {} is already a unit of the opportunity", ask.unit),
        ));
    }
    if ask.pending_exists {
        return Err(CoordinationError::refused(
            Reason::JoinRequestPending,
            format!("unit {} already has a pending join request here", ask.unit),
        ));
    }
    Ok(())
}

fn check_answer(status: JoinRequestStatus, decider_in_lead: bool) -> Result<(), CoordinationError> {
    if status != JoinRequestStatus::Pending {
        return Err(CoordinationError::refused(
            Reason::JoinRequestNotPending,
            format!("the join request is {status}, not pending"),
        ));
    }
    if !decider_in_lead {
        return Err(CoordinationError::refused(
            Reason::NotLeadMember,
            "only a member of the lead unit answers a join request",
        ));
    }
    Ok(())
}

/// Checks the lead's acceptance of a join request by `unit` with the `proposed` set of the
/// amendment it proposes (validated by [`crate::coordination::amendments::propose`]): the
/// request is pending ([`Reason::JoinRequestNotPending`]), the decider is in the lead unit
/// ([`Reason::NotLeadMember`]), and the proposal includes the joining unit (field
/// `proposed_units`).
pub fn check_join_acceptance(
    status: JoinRequestStatus,
    decider_in_lead: bool,
    unit: &UnitRef,
    proposed: &ShareSet,
) -> Result<(), CoordinationError> {
    check_answer(status, decider_in_lead)?;
    if !proposed.contains(unit) {
        return Err(CoordinationError::invalid(
            "proposed_units",
            format!("must include the joining unit {unit}"),
        ));
    }
    Ok(())
}

/// Checks the lead's refusal of a join request: pending, a lead member, a required reason.
pub fn check_join_decline(
    status: JoinRequestStatus,
    decider_in_lead: bool,
    reason: &str,
) -> Result<(), CoordinationError> {
    check_answer(status, decider_in_lead)?;
    check_reason(reason, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::shares::tests::{co, lead, unit, walkthrough_units};
    use crate::org::BusinessLine::*;

    fn shares() -> ShareSet {
        ShareSet::parse(walkthrough_units(), "units").unwrap()
    }

    #[test]
    fn a_refused_unit_asks_to_join() {
        let bj02 = unit("BJ02", Corporate);
        let ask = JoinAsk {
            unit: &bj02,
            requester_in_unit: true,
            pending_exists: false,
            requested_share_bps: 1500,
            message: "we bank three of its suppliers",
        };
        let stage = OpportunityStage::Preparation;
        assert!(check_join_request(stage, &shares(), ask).is_ok());
        let err = check_join_request(
            stage,
            &shares(),
            JoinAsk {
                pending_exists: true,
                ..ask
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        let err = check_join_request(
            stage,
            &shares(),
            JoinAsk {
                requester_in_unit: false,
                ..ask
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        let own = unit("BJ01", Retail);
        assert_eq!(
            check_join_request(stage, &shares(), JoinAsk { unit: &own, ..ask })
                .unwrap_err()
                .reason(),
            Some(Reason::AlreadyAUnit)
        );
        let long = "m".repeat(2001);
        let err = check_join_request(
            stage,
            &shares(),
            JoinAsk {
                requested_share_bps: -1,
                message: &long,
                ..ask
            },
        )
        .unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["requested_share_bps", "message"]);
        assert_eq!(
            check_join_request(OpportunityStage::Closed, &shares(), ask)
                .unwrap_err()
                .reason(),
            Some(Reason::TerminalStage)
        );
    }

    #[test]
    fn the_lead_answers() {
        let bj02 = unit("BJ02", Corporate);
        let with = ShareSet::parse(
            vec![
                lead("BJ01", Corporate, 4000),
                co("BJ01", SmallBusiness, 3000),
                co("BJ01", Retail, 2000),
                co("BJ02", Corporate, 1000),
            ],
            "units",
        )
        .unwrap();
        use JoinRequestStatus::*;
        assert!(check_join_acceptance(Pending, true, &bj02, &with).is_ok());
        assert_eq!(
            check_join_acceptance(Pending, true, &bj02, &shares())
                .unwrap_err()
                .violations()[0]
                .field,
            "proposed_units"
        );
        assert_eq!(
            check_join_acceptance(Pending, false, &bj02, &with)
                .unwrap_err()
                .reason(),
            Some(Reason::NotLeadMember)
        );
        assert_eq!(
            check_join_acceptance(Declined, true, &bj02, &with)
                .unwrap_err()
                .reason(),
            Some(Reason::JoinRequestNotPending)
        );
        assert!(check_join_decline(Pending, true, "we lead alone").is_ok());
        assert_eq!(
            check_join_decline(Pending, true, "")
                .unwrap_err()
                .violations()[0]
                .field,
            "reason"
        );
        assert!(check_join_decline(Accepted, true, "x").is_err());
    }
}
