//! Linked-marketing coordination (DOMAIN.md §5; issue 5), as pure rules: the opportunity's stages
//! and their transitions ([`stage`]); its header, linked targets, needs statement and solution
//! quote ([`opportunity`]); units and shares ([`shares`]); share amendments and the effective-dated
//! share history with its as-of lookup ([`amendments`]); claims against internal competition, their
//! conflicts, release and take-over ([`claims`]); internal bidding for the lead ([`bidding`]); join
//! requests of refused units ([`joins`]); referrals between lines ([`referrals`]); members and the
//! 360 read they grant ([`members`]); tasks ([`tasks`]) and playbooks ([`playbooks`]); the
//! versioned cadence and SLA rules ([`rules`]) and what is overdue under them ([`overdue`]);
//! activities and their per-channel contact-consent check ([`activities`], [`contact`]). This
//! module owns the one error type of coordination, [`CoordinationError`], whose validation entries
//! ([`Violation`]) name the offending field by its proto path relative to the value validated (e.g.
//! `units[2].share_bps`), and whose refusals carry a stable [`Reason`] that decides the gRPC code
//! ([`ErrorKind`]). Nothing here reads the clock: callers pass `now` and `today`.

use std::fmt;

use thiserror::Error;

pub mod activities;
pub mod amendments;
pub mod bidding;
pub mod claims;
pub mod contact;
pub mod joins;
pub mod members;
pub mod opportunity;
pub mod overdue;
pub mod playbooks;
pub mod referrals;
pub mod rules;
pub mod shares;
pub mod stage;
pub mod tasks;

#[cfg(test)]
mod walkthrough;

pub use activities::{ActivityDraft, ActivityPolicy, ActivityType, Participant};
pub use amendments::{
    AcceptanceState, Amendment, AmendmentStatus, ChangeSource, ShareHistory, ShareSnapshot,
    ShareVersion, UnitAcceptance,
};
pub use bidding::{Award, BidStatus, Proposal};
pub use claims::{ClaimConflict, ClaimKey, ClaimState, HeldClaim, Takeover};
pub use contact::ConsentProblem;
pub use joins::JoinRequestStatus;
pub use members::{MemberRole, Membership, StaffFacts};
pub use opportunity::{NeedsStatement, OpportunityDraft, QuoteStatus};
pub use overdue::{OverdueInputs, OverdueItem, OverdueKind};
pub use playbooks::{Playbook, PlaybookStep, TaskPlan};
pub use referrals::{ReferralOutcome, ReferralStatus, ReferrerScore};
pub use rules::{CadenceRule, RuleRef, SlaRule, SlaSubject};
pub use shares::{ShareSet, UnitRef, UnitRole, UnitShare};
pub use stage::{AfterSales, OpportunityStage, OpportunityType, StageChange};
pub use tasks::{DueSpec, TaskStatus};

/// The most characters of a free-text reason (lost, reject, decline, award, …).
pub const MAX_REASON_CHARS: usize = 500;

/// One thing wrong with an input, naming the field: `field` is the proto field path relative to
/// the value that was validated (e.g. `units[2].share_bps`, `due_date`); a service prefixes it
/// with the path of that value in its request (e.g. `opportunity.`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field path, e.g. `proposed_units[0].share_bps`.
    pub field: String,
    /// What is wrong, e.g. `must not be negative`.
    pub message: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same violation with `prefix.` in front of its field path (or `prefix` alone when the
    /// path is empty; no dot before an index).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') || prefix.is_empty() {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The gRPC code family an error maps to; the service's `From<Error> for Status` uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `INVALID_ARGUMENT`, with one field violation per [`Violation`].
    InvalidArgument,
    /// `FAILED_PRECONDITION`: the state of things forbids it.
    FailedPrecondition,
    /// `PERMISSION_DENIED`: the caller may not do it.
    PermissionDenied,
    /// `ALREADY_EXISTS`: a claim, a member or a request is already there.
    AlreadyExists,
}

code_enum! {
    /// Why a request is refused (every error except bad input, claims and consent). The code is
    /// stable and suitable as the `ErrorInfo` reason (upper-cased); [`Reason::kind`] gives the
    /// gRPC code.
    pub enum Reason {
        /// The stage transition is not one DOMAIN.md §5 allows.
        StageTransition => "stage_transition",
        /// The opportunity is lost or closed and can no longer change.
        TerminalStage => "terminal_stage",
        /// The operation needs another stage (e.g. a solution quote outside preparation or
        /// execution, a follow-on outside follow-up).
        WrongStage => "wrong_stage",
        /// Won needs a solution quote and none is set.
        NoSolutionQuote => "no_solution_quote",
        /// Won needs the solution quote to be approved.
        QuoteNotApproved => "quote_not_approved",
        /// The quote is rejected, expired or superseded.
        QuoteNotUsable => "quote_not_usable",
        /// The quote is of another customer than the opportunity's main target.
        QuoteOfAnotherCustomer => "quote_of_another_customer",
        /// The parent already opened its follow-on.
        FollowOnExists => "follow_on_exists",
        /// An after-sales owner is not a member of the opportunity.
        AfterSalesNotMember => "after_sales_not_member",
        /// Another share amendment is already pending.
        AmendmentPending => "amendment_pending",
        /// The amendment is no longer proposed.
        AmendmentNotPending => "amendment_not_pending",
        /// The unit's acceptance is not required (its share does not fall) or already given.
        AcceptanceNotRequired => "acceptance_not_required",
        /// Only a member of the lead unit may propose an amendment or decide a join request.
        NotLeadMember => "not_lead_member",
        /// The caller is not a member of the unit they act for.
        NotUnitMember => "not_unit_member",
        /// Four eyes: the maker of a change may not decide it.
        MakerChecker => "maker_checker",
        /// A bid is already open on the opportunity.
        BidAlreadyOpen => "bid_already_open",
        /// The bid no longer takes proposals.
        BidNotOpen => "bid_not_open",
        /// The bid is awarded or cancelled.
        BidNotAwardable => "bid_not_awardable",
        /// The caller may not award this bid.
        NotPermittedToAward => "not_permitted_to_award",
        /// The referral is not pending.
        ReferralNotPending => "referral_not_pending",
        /// The referral was not accepted, so it has no outcome.
        ReferralNotAccepted => "referral_not_accepted",
        /// A different outcome is already recorded.
        OutcomeAlreadyRecorded => "outcome_already_recorded",
        /// No branch on the customer's owning chain has staff in the receiving line.
        NoReceivingBranch => "no_receiving_branch",
        /// The caller is not of the receiving line and branch.
        NotReceiver => "not_receiver",
        /// The employee's branch and lines fit no unit of the opportunity.
        MemberFitsNoUnit => "member_fits_no_unit",
        /// The employee fits other units of the opportunity, but not the one named.
        MemberNotInUnit => "member_not_in_unit",
        /// The employee is not active on the day.
        EmployeeInactive => "employee_inactive",
        /// The employee is already an active member.
        AlreadyMember => "already_member",
        /// The member still owns open tasks.
        OwnerOfOpenTasks => "owner_of_open_tasks",
        /// The member is the last member of the lead unit.
        LastLeadMember => "last_lead_member",
        /// A task owner must be an active member.
        OwnerNotMember => "owner_not_member",
        /// The task status change is not allowed (done and cancelled are final).
        TaskTransition => "task_transition",
        /// The playbook serves another opportunity type.
        PlaybookTypeMismatch => "playbook_type_mismatch",
        /// The playbook is inactive.
        PlaybookInactive => "playbook_inactive",
        /// No member can own a playbook step's task.
        OwnerNotResolvable => "owner_not_resolvable",
        /// A rule of the same scope is in force over an overlapping range.
        RuleOverlap => "rule_overlap",
        /// The unit asking to join is already a unit of the opportunity.
        AlreadyAUnit => "already_a_unit",
        /// The unit already has a pending join request on the opportunity.
        JoinRequestPending => "join_request_pending",
        /// The join request is no longer pending.
        JoinRequestNotPending => "join_request_not_pending",
    }
}

impl Reason {
    /// The gRPC code family of the refusal.
    pub const fn kind(self) -> ErrorKind {
        match self {
            Reason::NotLeadMember
            | Reason::NotUnitMember
            | Reason::MakerChecker
            | Reason::NotPermittedToAward
            | Reason::NotReceiver => ErrorKind::PermissionDenied,
            Reason::AlreadyMember | Reason::JoinRequestPending => ErrorKind::AlreadyExists,
            _ => ErrorKind::FailedPrecondition,
        }
    }
}

/// Everything a coordination rule can fail with.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CoordinationError {
    /// Bad input: every violation, each naming its field (`INVALID_ARGUMENT`).
    #[error("invalid input: {}", join(.0))]
    Invalid(Vec<Violation>),
    /// Refused for a stated reason; the reason decides the code.
    #[error("{message}")]
    Refused {
        /// The stable reason.
        reason: Reason,
        /// A sentence for the caller.
        message: String,
    },
    /// One or more (customer, line) pairs are claimed by other opportunities (`ALREADY_EXISTS`,
    /// with the holder's opportunity id).
    #[error("{}", claims::describe_conflicts(.0))]
    Claimed(Vec<ClaimConflict>),
    /// Individuals whose consent forbids the contact or the cross-line use
    /// (`FAILED_PRECONDITION`).
    #[error("{}", contact::describe_problems(.0))]
    Consent(Vec<ConsentProblem>),
}

fn join(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl CoordinationError {
    /// The gRPC code family.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoordinationError::Invalid(_) => ErrorKind::InvalidArgument,
            CoordinationError::Refused { reason, .. } => reason.kind(),
            CoordinationError::Claimed(_) => ErrorKind::AlreadyExists,
            CoordinationError::Consent(_) => ErrorKind::FailedPrecondition,
        }
    }

    /// The refusal reason, for a [`CoordinationError::Refused`].
    pub fn reason(&self) -> Option<Reason> {
        match self {
            CoordinationError::Refused { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// The violations, for a [`CoordinationError::Invalid`] (empty otherwise).
    pub fn violations(&self) -> &[Violation] {
        match self {
            CoordinationError::Invalid(v) => v,
            _ => &[],
        }
    }

    /// The same error with `prefix` in front of every violation's field path.
    pub fn prefixed(self, prefix: &str) -> Self {
        match self {
            CoordinationError::Invalid(v) => {
                CoordinationError::Invalid(v.into_iter().map(|v| v.prefixed(prefix)).collect())
            }
            other => other,
        }
    }

    /// A refusal.
    pub fn refused(reason: Reason, message: impl Into<String>) -> Self {
        CoordinationError::Refused {
            reason,
            message: message.into(),
        }
    }

    /// A single violation.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoordinationError::Invalid(vec![Violation::new(field, message)])
    }
}

/// Collects violations; `finish` turns them into a result.
#[derive(Debug, Default)]
struct Violations(Vec<Violation>);

impl Violations {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation::new(field, message));
    }

    /// Checks free text: when `required`, not empty or blank; at most `max` characters.
    fn text(&mut self, field: &str, value: &str, required: bool, max: usize) {
        if required && value.trim().is_empty() {
            self.add(field, "is required");
        } else {
            let len = value.chars().count();
            if len > max {
                self.add(
                    field,
                    format!("must be at most {max} characters, not {len}"),
                );
            }
        }
    }

    fn extend(&mut self, error: CoordinationError) -> Result<(), CoordinationError> {
        match error {
            CoordinationError::Invalid(v) => {
                self.0.extend(v);
                Ok(())
            }
            other => Err(other),
        }
    }

    fn finish(self) -> Result<(), CoordinationError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CoordinationError::Invalid(self.0))
        }
    }
}

/// Checks a reason of at most [`MAX_REASON_CHARS`] characters, required or not; the field is
/// `reason`.
pub fn check_reason(reason: &str, required: bool) -> Result<(), CoordinationError> {
    let mut v = Violations::default();
    v.text("reason", reason, required, MAX_REASON_CHARS);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_prefix_like_proto_paths() {
        let v = Violation::new("units[2].share_bps", "must not be negative");
        assert_eq!(
            v.clone().prefixed("opportunity").field,
            "opportunity.units[2].share_bps"
        );
        assert_eq!(
            Violation::new("[1]", "x").prefixed("units").field,
            "units[1]"
        );
        assert_eq!(Violation::new("", "x").prefixed("reason").field, "reason");
        assert_eq!(v.to_string(), "units[2].share_bps: must not be negative");
        let err = CoordinationError::Invalid(vec![v]).prefixed("request");
        assert_eq!(err.violations()[0].field, "request.units[2].share_bps");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            err.to_string(),
            "invalid input: request.units[2].share_bps: must not be negative"
        );
    }

    #[test]
    fn reasons_decide_the_code() {
        assert_eq!(
            CoordinationError::refused(Reason::MakerChecker, "x").kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            CoordinationError::refused(Reason::AlreadyMember, "x").kind(),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            CoordinationError::refused(Reason::StageTransition, "x").kind(),
            ErrorKind::FailedPrecondition
        );
        assert_eq!(
            CoordinationError::refused(Reason::TerminalStage, "x").reason(),
            Some(Reason::TerminalStage)
        );
        assert_eq!(
            CoordinationError::Claimed(vec![]).kind(),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            CoordinationError::Consent(vec![]).kind(),
            ErrorKind::FailedPrecondition
        );
        for r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>(), Ok(*r));
        }
    }

    #[test]
    fn reasons_are_checked_for_presence_and_length() {
        assert!(check_reason("", false).is_ok());
        assert_eq!(
            check_reason("  ", true).unwrap_err().violations()[0].field,
            "reason"
        );
        assert!(check_reason(&"理".repeat(500), true).is_ok());
        let err = check_reason(&"理".repeat(501), false).unwrap_err();
        assert!(err.violations()[0].message.contains("at most 500"));
    }
}
