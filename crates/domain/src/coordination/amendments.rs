//! Share amendments and the effective-dated share history (DOMAIN.md §5 "Shares", §1 "History is
//! effective-dated"). An amendment is proposed by a member of the lead unit as the complete new
//! set of units and shares from an effective date (not before the proposal date, nor before the
//! latest set in the history); one is pending at a time. **Who must accept**: every existing unit
//! whose share falls, including a unit that leaves (its share falls to 0); a unit whose share
//! stays or rises is not asked, and a **new unit is not asked either** — its share rises from
//! nothing, and its consent is its join request (or its members' wish to join). The proposer
//! never accepts (four eyes, [`crate::ownership::decide`]): when the lead's own share falls,
//! another member of the lead unit accepts for it. An amendment with no falling share is accepted
//! at once. One rejection closes it unapplied; a terminal stage or a bid award withdraws it. Once
//! accepted, its shares join the [`ShareHistory`] from the effective date, and
//! [`ShareHistory::as_of`] gives the shares in force on any date, so credit uses the shares in
//! force at a conversion's time.

use std::fmt;

use chrono::NaiveDate;

use super::shares::{ShareSet, UnitRef, UnitShare};
use super::stage::{OpportunityStage, check_open};
use super::{CoordinationError, Reason, Violations, check_reason};
use crate::money::BasisPoints;
use crate::ownership::{ApprovalStatus, Decision, DecisionRefused, decide};

code_enum! {
    /// The state of a share amendment (proto `AmendmentStatus`, same order).
    pub enum AmendmentStatus {
        /// Waiting for the units whose share falls.
        Proposed => "proposed",
        /// Accepted by every required unit; in force from its effective date.
        Accepted => "accepted",
        /// Rejected by a required unit.
        Rejected => "rejected",
        /// Overtaken: the opportunity reached a terminal stage or a bid award replaced the shares.
        Withdrawn => "withdrawn",
    }
}

code_enum! {
    /// One existing unit's position on an amendment (proto `AcceptanceState`, same order).
    pub enum AcceptanceState {
        /// Waiting.
        Pending => "pending",
        /// Accepted.
        Accepted => "accepted",
        /// Rejected.
        Rejected => "rejected",
        /// Not required: the unit's share does not fall.
        NotRequired => "not_required",
    }
}

/// One existing unit's position on an amendment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitAcceptance {
    /// The unit.
    pub unit: UnitRef,
    /// Its share before.
    pub from_share: BasisPoints,
    /// Its share after (0 when it leaves).
    pub to_share: BasisPoints,
    /// Its acceptance.
    pub state: AcceptanceState,
    /// Who decided for the unit; `None` while pending or not required.
    pub decided_by: Option<String>,
}

/// A proposed change of an opportunity's units and shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amendment {
    /// The complete new set of units and shares.
    pub proposed: ShareSet,
    /// The first day the new shares are in force.
    pub effective_from: NaiveDate,
    /// The state.
    pub status: AmendmentStatus,
    /// One entry per unit of the set it changes, in that set's order.
    pub acceptances: Vec<UnitAcceptance>,
    /// Who proposed it.
    pub proposer: String,
    /// Why (trimmed).
    pub reason: String,
}

/// What a proposal is checked against; the service loads it.
#[derive(Clone, Copy, Debug)]
pub struct ProposalContext<'a> {
    /// The opportunity's stage.
    pub stage: OpportunityStage,
    /// The opportunity's share history (the amendment changes its latest set).
    pub history: &'a ShareHistory,
    /// Whether another amendment is pending.
    pub pending_exists: bool,
    /// The proposer's employee id.
    pub proposer: &'a str,
    /// Whether the proposer is an active member of the lead unit.
    pub proposer_in_lead: bool,
    /// The business date of the proposal.
    pub today: NaiveDate,
}

/// Proposes `proposed_units` (field `proposed_units`) from `effective` (today when `None`; field
/// `effective_date`) with a required `reason`. Checks, in order: a terminal stage
/// ([`Reason::TerminalStage`]); the proposer in the lead unit ([`Reason::NotLeadMember`]); the
/// input (shares as [`ShareSet::parse`], the date not before today nor before the latest set's
/// start, a change at all); no other pending amendment ([`Reason::AmendmentPending`]).
pub fn propose(
    ctx: ProposalContext<'_>,
    proposed_units: Vec<UnitShare>,
    effective: Option<NaiveDate>,
    reason: &str,
) -> Result<Amendment, CoordinationError> {
    check_open(ctx.stage)?;
    if !ctx.proposer_in_lead {
        return Err(CoordinationError::refused(
            Reason::NotLeadMember,
            format!(
                "{} is not a member of the lead unit; only the lead proposes share amendments",
                ctx.proposer
            ),
        ));
    }
    let mut v = Violations::default();
    let proposed = match ShareSet::parse(proposed_units, "proposed_units") {
        Ok(set) => Some(set),
        Err(e) => {
            v.extend(e)?;
            None
        }
    };
    let effective_from = effective.unwrap_or(ctx.today);
    let latest = ctx.history.latest();
    if effective_from < ctx.today {
        v.add(
            "effective_date",
            format!("must not be before the proposal date {}", ctx.today),
        );
    } else if effective_from < latest.effective_from {
        v.add(
            "effective_date",
            format!(
                "must not be before {}, when the latest shares take effect",
                latest.effective_from
            ),
        );
    }
    if let Err(e) = check_reason(reason, true) {
        v.extend(e)?;
    }
    if let Some(set) = &proposed
        && set.same_as(&latest.shares)
    {
        v.add(
            "proposed_units",
            "are the units, roles and shares already agreed; the amendment changes nothing",
        );
    }
    v.finish()?;
    if ctx.pending_exists {
        return Err(CoordinationError::refused(
            Reason::AmendmentPending,
            "another share amendment is pending; it must be accepted, rejected or withdrawn first",
        ));
    }
    let proposed = proposed.unwrap_or_else(|| latest.shares.clone());
    let acceptances: Vec<UnitAcceptance> = latest
        .shares
        .units()
        .iter()
        .map(|u| {
            let to_share = proposed.share_of(&u.unit).unwrap_or(BasisPoints::ZERO);
            UnitAcceptance {
                unit: u.unit.clone(),
                from_share: u.share,
                to_share,
                state: if to_share < u.share {
                    AcceptanceState::Pending
                } else {
                    AcceptanceState::NotRequired
                },
                decided_by: None,
            }
        })
        .collect();
    let status = if acceptances
        .iter()
        .any(|a| a.state == AcceptanceState::Pending)
    {
        AmendmentStatus::Proposed
    } else {
        AmendmentStatus::Accepted
    };
    Ok(Amendment {
        proposed,
        effective_from,
        status,
        acceptances,
        proposer: ctx.proposer.to_owned(),
        reason: reason.trim().to_owned(),
    })
}

impl Amendment {
    /// The units that still have to accept.
    pub fn pending_units(&self) -> Vec<&UnitRef> {
        self.acceptances
            .iter()
            .filter(|a| a.state == AcceptanceState::Pending)
            .map(|a| &a.unit)
            .collect()
    }

    /// The units of the proposal that are not units of the set it changes (joining units).
    pub fn new_units(&self) -> Vec<&UnitShare> {
        self.proposed
            .units()
            .iter()
            .filter(|u| !self.acceptances.iter().any(|a| a.unit == u.unit))
            .collect()
    }

    /// The units of the set it changes that the proposal drops.
    pub fn leaving_units(&self) -> Vec<&UnitRef> {
        self.acceptances
            .iter()
            .filter(|a| !self.proposed.contains(&a.unit))
            .map(|a| &a.unit)
            .collect()
    }

    /// `actor`, a member of `unit` when `actor_in_unit`, accepts (`accept`) or rejects the
    /// amendment for `unit`, with a `reason` (required to reject). Checks, in order: the
    /// amendment is proposed ([`Reason::AmendmentNotPending`]); the unit's acceptance is pending
    /// ([`Reason::AcceptanceNotRequired`]); the actor is a member of the unit
    /// ([`Reason::NotUnitMember`]) and not the proposer ([`Reason::MakerChecker`]); the reason.
    /// Returns the amendment after the decision: accepted once no unit is pending, rejected on
    /// the first rejection.
    pub fn decide(
        &self,
        unit: &UnitRef,
        accept: bool,
        actor: &str,
        actor_in_unit: bool,
        reason: &str,
    ) -> Result<Amendment, CoordinationError> {
        if self.status != AmendmentStatus::Proposed {
            return Err(CoordinationError::refused(
                Reason::AmendmentNotPending,
                format!("the amendment is {}, not proposed", self.status),
            ));
        }
        let Some(index) = self
            .acceptances
            .iter()
            .position(|a| a.unit == *unit && a.state == AcceptanceState::Pending)
        else {
            let why = match self.acceptances.iter().find(|a| a.unit == *unit) {
                Some(a) if a.state == AcceptanceState::NotRequired => {
                    format!("unit {unit}'s share does not fall, so its acceptance is not required")
                }
                Some(a) => format!("unit {unit} has already {} the amendment", a.state),
                None => format!(
                    "unit {unit} is not an existing unit of the opportunity; only units whose \
                     share falls decide"
                ),
            };
            return Err(CoordinationError::refused(
                Reason::AcceptanceNotRequired,
                why,
            ));
        };
        if !actor_in_unit {
            return Err(CoordinationError::refused(
                Reason::NotUnitMember,
                format!("{actor} is not a member of unit {unit}"),
            ));
        }
        let decision = if accept {
            Decision::Approve
        } else {
            Decision::Reject
        };
        if let Err(DecisionRefused::MakerMayNotDecide { maker, .. }) =
            decide(ApprovalStatus::Pending, decision, &self.proposer, actor)
        {
            return Err(CoordinationError::refused(
                Reason::MakerChecker,
                format!(
                    "{maker} proposed this amendment and may not {} it; another member of unit \
                     {unit} must",
                    if accept { "accept" } else { "reject" }
                ),
            ));
        }
        check_reason(reason, !accept)?;
        let mut next = self.clone();
        let entry = &mut next.acceptances[index];
        entry.state = if accept {
            AcceptanceState::Accepted
        } else {
            AcceptanceState::Rejected
        };
        entry.decided_by = Some(actor.to_owned());
        next.status = if !accept {
            AmendmentStatus::Rejected
        } else if next.pending_units().is_empty() {
            AmendmentStatus::Accepted
        } else {
            AmendmentStatus::Proposed
        };
        Ok(next)
    }

    /// Withdraws a proposed amendment (a terminal stage, or a bid award replaced the shares);
    /// refused with [`Reason::AmendmentNotPending`] otherwise.
    pub fn withdraw(&self) -> Result<Amendment, CoordinationError> {
        if self.status != AmendmentStatus::Proposed {
            return Err(CoordinationError::refused(
                Reason::AmendmentNotPending,
                format!("the amendment is {}, not proposed", self.status),
            ));
        }
        Ok(Amendment {
            status: AmendmentStatus::Withdrawn,
            ..self.clone()
        })
    }

    /// The history entry of an accepted amendment stored under `amendment_id`; `None` unless
    /// accepted.
    pub fn to_version(&self, amendment_id: &str) -> Option<ShareVersion> {
        (self.status == AmendmentStatus::Accepted).then(|| ShareVersion {
            shares: self.proposed.clone(),
            effective_from: self.effective_from,
            source: ChangeSource::Amendment(amendment_id.to_owned()),
        })
    }
}

/// What set a version of the shares (proto `ShareSnapshot.change_source`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChangeSource {
    /// The opportunity's creation: `create`.
    Create,
    /// An accepted amendment: `amendment:ID`.
    Amendment(String),
    /// A bid award: `bid:ID`.
    Bid(String),
}

impl ChangeSource {
    /// Parses `create`, `amendment:ID` or `bid:ID` (a non-empty id).
    pub fn parse(s: &str) -> Option<ChangeSource> {
        if s == "create" {
            return Some(ChangeSource::Create);
        }
        let (kind, id) = s.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        match kind {
            "amendment" => Some(ChangeSource::Amendment(id.to_owned())),
            "bid" => Some(ChangeSource::Bid(id.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for ChangeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeSource::Create => f.write_str("create"),
            ChangeSource::Amendment(id) => write!(f, "amendment:{id}"),
            ChangeSource::Bid(id) => write!(f, "bid:{id}"),
        }
    }
}

/// One version of an opportunity's shares, in force from `effective_from` until the next
/// version's start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareVersion {
    /// The units and shares.
    pub shares: ShareSet,
    /// The first day in force.
    pub effective_from: NaiveDate,
    /// What set them.
    pub source: ChangeSource,
}

/// The shares in force on a date, with the range of days they hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareSnapshot<'a> {
    /// The date asked about.
    pub as_of: NaiveDate,
    /// The version in force.
    pub version: &'a ShareVersion,
    /// The first day it no longer holds (the next version's start); `None` while it is the
    /// latest.
    pub effective_to: Option<NaiveDate>,
}

/// The history of an opportunity's shares: versions in the order they were set, their starts
/// never decreasing. A version that starts on the same day as the next one never holds (the later
/// one wins); it stays in the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareHistory {
    versions: Vec<ShareVersion>,
}

impl ShareHistory {
    /// The history of a new opportunity: its units from the creation date.
    pub fn new(initial: ShareSet, created_on: NaiveDate) -> Self {
        Self {
            versions: vec![ShareVersion {
                shares: initial,
                effective_from: created_on,
                source: ChangeSource::Create,
            }],
        }
    }

    /// A history read back from storage, in the order the versions were set. Fails (field
    /// `versions`) when empty or when a start goes backwards.
    pub fn from_versions(versions: Vec<ShareVersion>) -> Result<Self, CoordinationError> {
        if versions.is_empty() {
            return Err(CoordinationError::invalid(
                "versions",
                "a share history has at least the version of its creation",
            ));
        }
        if let Some(w) = versions
            .windows(2)
            .find(|w| w[1].effective_from < w[0].effective_from)
        {
            return Err(CoordinationError::invalid(
                "versions",
                format!(
                    "version {} starts on {}, before the previous one's start {}",
                    w[1].source, w[1].effective_from, w[0].effective_from
                ),
            ));
        }
        Ok(Self { versions })
    }

    /// Every version, in the order set.
    pub fn versions(&self) -> &[ShareVersion] {
        &self.versions
    }

    /// The latest version (possibly not yet in force).
    pub fn latest(&self) -> &ShareVersion {
        // Never empty by construction.
        &self.versions[self.versions.len() - 1]
    }

    /// The first day any shares are in force (the creation date).
    pub fn first_day(&self) -> NaiveDate {
        self.versions[0].effective_from
    }

    /// The start of a version set on `today` that should apply as soon as possible (a bid
    /// award): today, or the latest version's start when that is later.
    pub fn next_start(&self, today: NaiveDate) -> NaiveDate {
        today.max(self.latest().effective_from)
    }

    /// Appends a version; refused (field `effective_date`) when it starts before the latest.
    pub fn push(&mut self, version: ShareVersion) -> Result<(), CoordinationError> {
        let latest = self.latest().effective_from;
        if version.effective_from < latest {
            return Err(CoordinationError::invalid(
                "effective_date",
                format!(
                    "{} must not start before {latest}, when the latest shares take effect",
                    version.source
                ),
            ));
        }
        self.versions.push(version);
        Ok(())
    }

    /// The shares in force on `date`; `None` before the opportunity's first day.
    pub fn as_of(&self, date: NaiveDate) -> Option<ShareSnapshot<'_>> {
        let index = self
            .versions
            .iter()
            .rposition(|v| v.effective_from <= date)?;
        Some(ShareSnapshot {
            as_of: date,
            version: &self.versions[index],
            effective_to: self.versions.get(index + 1).map(|v| v.effective_from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::shares::tests::{co, lead, unit, walkthrough_units};
    use crate::org::BusinessLine::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    fn history() -> ShareHistory {
        ShareHistory::new(
            ShareSet::parse(walkthrough_units(), "units").unwrap(),
            day(3),
        )
    }

    fn ctx(history: &ShareHistory) -> ProposalContext<'_> {
        ProposalContext {
            stage: OpportunityStage::Preparation,
            history,
            pending_exists: false,
            proposer: "lead-alice",
            proposer_in_lead: true,
            today: day(10),
        }
    }

    /// The second branch's corporate unit joins with 1000 bp taken from the lead.
    fn joining() -> Vec<UnitShare> {
        vec![
            lead("BJ01", Corporate, 4000),
            co("BJ01", SmallBusiness, 3000),
            co("BJ01", Retail, 2000),
            co("BJ02", Corporate, 1000),
        ]
    }

    #[test]
    fn only_units_whose_share_falls_must_accept_and_a_new_unit_is_not_asked() {
        let h = history();
        let a = propose(ctx(&h), joining(), None, "BJ02 joins").unwrap();
        assert_eq!(a.status, AmendmentStatus::Proposed);
        assert_eq!(a.effective_from, day(10));
        assert_eq!(a.pending_units(), [&unit("BJ01", Corporate)]);
        let states: Vec<_> = a.acceptances.iter().map(|x| x.state).collect();
        assert_eq!(
            states,
            [
                AcceptanceState::Pending,
                AcceptanceState::NotRequired,
                AcceptanceState::NotRequired
            ]
        );
        assert_eq!(a.acceptances[0].from_share, BasisPoints::new(5000));
        assert_eq!(a.acceptances[0].to_share, BasisPoints::new(4000));
        assert_eq!(a.new_units().len(), 1);
        assert_eq!(a.new_units()[0].unit, unit("BJ02", Corporate));
        assert!(a.leaving_units().is_empty());
        assert_eq!(a.reason, "BJ02 joins");
    }

    #[test]
    fn a_leaving_unit_falls_to_zero_and_must_accept() {
        let h = history();
        let a = propose(
            ctx(&h),
            vec![
                lead("BJ01", Corporate, 6000),
                co("BJ01", SmallBusiness, 4000),
            ],
            Some(day(20)),
            "retail steps out",
        )
        .unwrap();
        assert_eq!(a.pending_units(), [&unit("BJ01", Retail)]);
        assert_eq!(a.acceptances[2].to_share, BasisPoints::ZERO);
        assert_eq!(a.leaving_units(), [&unit("BJ01", Retail)]);
    }

    #[test]
    fn no_falling_share_is_accepted_at_once() {
        // Swapping roles only: no share falls.
        let h = history();
        let a = propose(
            ctx(&h),
            vec![
                co("BJ01", Corporate, 5000),
                lead("BJ01", SmallBusiness, 3000),
                co("BJ01", Retail, 2000),
            ],
            None,
            "small business leads",
        )
        .unwrap();
        assert_eq!(a.status, AmendmentStatus::Accepted);
        assert!(a.to_version("A1").is_some());
    }

    #[test]
    fn proposal_checks() {
        let h = history();
        let mut c = ctx(&h);
        c.proposer_in_lead = false;
        assert_eq!(
            propose(c, joining(), None, "x").unwrap_err().reason(),
            Some(Reason::NotLeadMember)
        );
        let mut c = ctx(&h);
        c.stage = OpportunityStage::Closed;
        assert_eq!(
            propose(c, joining(), None, "x").unwrap_err().reason(),
            Some(Reason::TerminalStage)
        );
        let mut c = ctx(&h);
        c.pending_exists = true;
        assert_eq!(
            propose(c, joining(), None, "x").unwrap_err().reason(),
            Some(Reason::AmendmentPending)
        );
        let mut bad = joining();
        bad[3].share = BasisPoints::new(999);
        let err = propose(ctx(&h), bad, Some(day(9)), "").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["proposed_units", "effective_date", "reason"]);
        let err = propose(ctx(&h), walkthrough_units(), None, "same").unwrap_err();
        assert!(err.violations()[0].message.contains("changes nothing"));
    }

    #[test]
    fn the_effective_date_follows_the_latest_version() {
        let mut h = history();
        h.push(ShareVersion {
            shares: ShareSet::parse(joining(), "units").unwrap(),
            effective_from: day(25),
            source: ChangeSource::Amendment("A1".to_owned()),
        })
        .unwrap();
        let err = propose(
            ctx(&h),
            vec![lead("BJ01", Corporate, 10000)],
            Some(day(20)),
            "x",
        )
        .unwrap_err();
        assert!(err.violations()[0].message.contains("2025-03-25"));
        // Compared against the latest set: the three units that leave must accept, BJ02 among
        // them; the lead's share rises.
        let a = propose(
            ctx(&h),
            vec![lead("BJ01", Corporate, 10000)],
            Some(day(25)),
            "x",
        )
        .unwrap();
        assert_eq!(a.pending_units().len(), 3);
        assert!(a.pending_units().contains(&&unit("BJ02", Corporate)));
        assert_eq!(a.leaving_units().len(), 3);
        assert_eq!(h.next_start(day(10)), day(25));
        assert_eq!(h.next_start(day(28)), day(28));
    }

    #[test]
    fn acceptance_is_four_eyes_and_member_only() {
        let h = history();
        let a = propose(ctx(&h), joining(), None, "BJ02 joins").unwrap();
        let corp = unit("BJ01", Corporate);
        let err = a.decide(&corp, true, "lead-alice", true, "").unwrap_err();
        assert_eq!(err.reason(), Some(Reason::MakerChecker));
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        let err = a.decide(&corp, true, "eve", false, "").unwrap_err();
        assert_eq!(err.reason(), Some(Reason::NotUnitMember));
        let err = a
            .decide(&unit("BJ01", Retail), true, "rita", true, "")
            .unwrap_err();
        assert_eq!(err.reason(), Some(Reason::AcceptanceNotRequired));
        let err = a
            .decide(&unit("BJ02", Corporate), true, "bo", true, "")
            .unwrap_err();
        assert_eq!(err.reason(), Some(Reason::AcceptanceNotRequired));
        let err = a.decide(&corp, false, "carl", true, " ").unwrap_err();
        assert_eq!(err.violations()[0].field, "reason");
        let done = a.decide(&corp, true, "carl", true, "fine").unwrap();
        assert_eq!(done.status, AmendmentStatus::Accepted);
        assert_eq!(done.acceptances[0].decided_by.as_deref(), Some("carl"));
        let err = done.decide(&corp, true, "carl", true, "").unwrap_err();
        assert_eq!(err.reason(), Some(Reason::AmendmentNotPending));
        assert_eq!(
            done.withdraw().unwrap_err().reason(),
            Some(Reason::AmendmentNotPending)
        );
        let v = done.to_version("A7").unwrap();
        assert_eq!(v.source.to_string(), "amendment:A7");
        assert_eq!(v.effective_from, day(10));
    }

    #[test]
    fn every_falling_unit_must_accept_and_one_rejection_closes_it() {
        let h = history();
        let proposal = vec![
            lead("BJ01", Corporate, 4000),
            co("BJ01", SmallBusiness, 2000),
            co("BJ01", Retail, 2000),
            co("BJ02", Corporate, 2000),
        ];
        let a = propose(ctx(&h), proposal, None, "BJ02 joins").unwrap();
        assert_eq!(a.pending_units().len(), 2);
        let once = a
            .decide(&unit("BJ01", Corporate), true, "carl", true, "")
            .unwrap();
        assert_eq!(once.status, AmendmentStatus::Proposed);
        assert!(once.to_version("A1").is_none());
        let rejected = once
            .decide(&unit("BJ01", SmallBusiness), false, "sam", true, "too much")
            .unwrap();
        assert_eq!(rejected.status, AmendmentStatus::Rejected);
        assert_eq!(rejected.acceptances[1].state, AcceptanceState::Rejected);
        assert!(rejected.to_version("A1").is_none());
        let withdrawn = a.withdraw().unwrap();
        assert_eq!(withdrawn.status, AmendmentStatus::Withdrawn);
    }

    #[test]
    fn shares_as_of_a_date() {
        let mut h = history();
        assert!(h.as_of(day(2)).is_none(), "before the opportunity");
        let first = h.as_of(day(3)).unwrap();
        assert_eq!(first.version.source, ChangeSource::Create);
        assert_eq!(first.effective_to, None);
        let joined = ShareSet::parse(joining(), "units").unwrap();
        h.push(ShareVersion {
            shares: joined.clone(),
            effective_from: day(10),
            source: ChangeSource::Amendment("A1".to_owned()),
        })
        .unwrap();
        let before = h.as_of(day(9)).unwrap();
        assert_eq!(before.version.source, ChangeSource::Create);
        assert_eq!(before.effective_to, Some(day(10)));
        assert_eq!(
            before
                .version
                .shares
                .share_of(&unit("BJ01", Corporate))
                .unwrap()
                .value(),
            5000
        );
        let after = h.as_of(day(10)).unwrap();
        assert_eq!(after.version.shares, joined);
        assert_eq!(after.effective_to, None);
        // A bid award on the same day supersedes the amendment's version, which never holds.
        h.push(ShareVersion {
            shares: ShareSet::parse(vec![lead("BJ02", Corporate, 10000)], "units").unwrap(),
            effective_from: day(10),
            source: ChangeSource::Bid("B1".to_owned()),
        })
        .unwrap();
        assert_eq!(
            h.as_of(day(10)).unwrap().version.source,
            ChangeSource::Bid("B1".to_owned())
        );
        assert_eq!(h.as_of(day(9)).unwrap().effective_to, Some(day(10)));
        assert_eq!(h.versions().len(), 3);
        assert_eq!(h.first_day(), day(3));
        let err = h
            .push(ShareVersion {
                shares: joined,
                effective_from: day(9),
                source: ChangeSource::Amendment("A2".to_owned()),
            })
            .unwrap_err();
        assert_eq!(err.violations()[0].field, "effective_date");
    }

    #[test]
    fn histories_from_storage_and_change_sources() {
        let h = history();
        let v = h.versions().to_vec();
        assert_eq!(ShareHistory::from_versions(v.clone()).unwrap(), h);
        assert!(ShareHistory::from_versions(vec![]).is_err());
        let mut later = v[0].clone();
        later.effective_from = day(1);
        assert!(ShareHistory::from_versions(vec![v[0].clone(), later]).is_err());
        for s in ["create", "amendment:A1", "bid:B-9"] {
            assert_eq!(ChangeSource::parse(s).unwrap().to_string(), s);
        }
        for bad in ["", "amendment:", "bid", "award:1", "Create"] {
            assert_eq!(ChangeSource::parse(bad), None, "{bad}");
        }
    }
}
