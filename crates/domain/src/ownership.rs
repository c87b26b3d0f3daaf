//! Customer ownership and its four-eyes changes (DOMAIN.md §1 "Maker-checker" and "History is
//! effective-dated", §2 "Ownership"; issue 3 items 1 and 5). This module owns the pure rules: the
//! maker-checker state machine of a pending request ([`ApprovalStatus`], [`decide`]: the maker
//! never approves or rejects their own request, and only a pending request moves, once, to a
//! terminal state); who may act as checker ([`may_check`]); the owners of a customer ([`Owners`],
//! whose primary (A) and backup (B) managers must differ, [`check_managers`]); the effective-dated
//! history of half-open intervals and its as-of lookup ("who was the A manager on date D",
//! [`owner_on`], [`primary_manager_on`]); how a change closes the open interval and opens the next
//! one ([`plan_change`]: never starting in the past or before the open interval); and bulk
//! reassignment ([`ReassignmentSource`], [`check_targets`], [`reassign`]) of a leaving manager's
//! or a closing branch's customers, plus the branch that scopes such a request
//! ([`common_ancestor`]).

use chrono::NaiveDate;
use thiserror::Error;

use crate::branch_tree::BranchTree;
use crate::org::{BranchCode, Role};

code_enum! {
    /// The state of a maker-checker request. Pending is the only state that moves; every other
    /// state is terminal.
    pub enum ApprovalStatus {
        /// Submitted by the maker and waiting for a checker.
        Pending => "pending",
        /// Approved by a checker and applied.
        Approved => "approved",
        /// Rejected by a checker; nothing was applied.
        Rejected => "rejected",
        /// Withdrawn by the maker before a decision; nothing was applied.
        Cancelled => "cancelled",
        /// No longer applicable (expired or overtaken).
        Expired => "expired",
    }
}

impl ApprovalStatus {
    /// Whether no further transition is possible.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, ApprovalStatus::Pending)
    }

    /// Whether a request in `self` may move to `to`: only pending moves, and only to a terminal
    /// state.
    pub const fn can_move_to(self, to: ApprovalStatus) -> bool {
        matches!(self, ApprovalStatus::Pending) && to.is_terminal()
    }
}

code_enum! {
    /// What someone does to a pending request.
    pub enum Decision {
        /// A checker approves: the change is applied.
        Approve => "approve",
        /// A checker rejects: nothing is applied.
        Reject => "reject",
        /// The maker withdraws it.
        Cancel => "cancel",
        /// The system retires it (no actor rules apply).
        Expire => "expire",
    }
}

impl Decision {
    /// The state the request ends in.
    pub const fn outcome(self) -> ApprovalStatus {
        match self {
            Decision::Approve => ApprovalStatus::Approved,
            Decision::Reject => ApprovalStatus::Rejected,
            Decision::Cancel => ApprovalStatus::Cancelled,
            Decision::Expire => ApprovalStatus::Expired,
        }
    }
}

/// Why a decision on a request is refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecisionRefused {
    /// Four eyes: the maker may not approve or reject their own request.
    #[error("{maker} submitted this request and may not {decision} it; another person must")]
    MakerMayNotDecide {
        /// The maker.
        maker: String,
        /// The attempted decision.
        decision: Decision,
    },
    /// Only the maker may withdraw a request.
    #[error("only the maker {maker} may cancel this request")]
    OnlyMakerMayCancel {
        /// The maker.
        maker: String,
    },
    /// The request is no longer pending.
    #[error("the request is {status}, not pending")]
    NotPending {
        /// Its current state.
        status: ApprovalStatus,
    },
}

/// Checks `decision` by `actor` on a request in `status` submitted by `maker`, and returns the state
/// it ends in. The four-eyes rule is checked first (it holds whatever the state), then that the
/// request is pending.
pub fn decide(
    status: ApprovalStatus,
    decision: Decision,
    maker: &str,
    actor: &str,
) -> Result<ApprovalStatus, DecisionRefused> {
    match decision {
        Decision::Approve | Decision::Reject if actor == maker => {
            return Err(DecisionRefused::MakerMayNotDecide {
                maker: maker.to_owned(),
                decision,
            });
        }
        Decision::Cancel if actor != maker => {
            return Err(DecisionRefused::OnlyMakerMayCancel {
                maker: maker.to_owned(),
            });
        }
        _ => {}
    }
    let to = decision.outcome();
    if status.can_move_to(to) {
        Ok(to)
    } else {
        Err(DecisionRefused::NotPending { status })
    }
}

/// Roles that may act as checker of an ownership change.
pub const CHECKER_ROLES: [Role; 2] = [Role::BranchHead, Role::Admin];

/// Whether a caller with `roles` at `caller_branch` may check a change touching every branch of
/// `branches`: an admin may check any; a branch head only when every branch is in the head's own
/// subtree. An empty `branches` gives false for a branch head.
pub fn may_check(
    roles: &[Role],
    caller_branch: Option<&BranchCode>,
    branches: &[BranchCode],
    tree: &BranchTree,
) -> bool {
    if roles.contains(&Role::Admin) {
        return true;
    }
    roles.contains(&Role::BranchHead)
        && !branches.is_empty()
        && caller_branch.is_some_and(|own| branches.iter().all(|b| tree.is_in_subtree(b, own)))
}

/// The owning branch (管户行) and the primary (A岗) and backup (B岗) managers of a customer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owners {
    /// The owning branch.
    pub branch: BranchCode,
    /// The primary (A) manager's employee id.
    pub primary_manager: String,
    /// The backup (B) manager's employee id.
    pub backup_manager: String,
}

/// The primary and backup manager are the same person.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("the primary and backup manager must be different people ({0} is both)")]
pub struct SameManager(pub String);

/// Checks that the A and B managers differ (empty ids are the caller's to report as missing).
pub fn check_managers(primary: &str, backup: &str) -> Result<(), SameManager> {
    if !primary.is_empty() && primary == backup {
        Err(SameManager(primary.to_owned()))
    } else {
        Ok(())
    }
}

impl Owners {
    /// Checks the A/B rule.
    pub fn check(&self) -> Result<(), SameManager> {
        check_managers(&self.primary_manager, &self.backup_manager)
    }

    /// Whether `employee_id` holds either post.
    pub fn is_managed_by(&self, employee_id: &str) -> bool {
        self.primary_manager == employee_id || self.backup_manager == employee_id
    }
}

/// Who owned a customer during `[valid_from, valid_to)`, in business dates. `valid_to == None`
/// is the open (current or latest) interval; `valid_to == Some(valid_from)` is an interval that
/// was superseded on the day it started: it stays in the history but holds on no date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipInterval {
    /// The owners.
    pub owners: Owners,
    /// First day in force, inclusive.
    pub valid_from: NaiveDate,
    /// First day no longer in force, exclusive; `None` while open.
    pub valid_to: Option<NaiveDate>,
}

impl OwnershipInterval {
    /// Whether this interval is in force on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date < to)
    }

    /// Whether it holds on no date at all.
    pub fn is_empty(&self) -> bool {
        self.valid_to.is_some_and(|to| to <= self.valid_from)
    }
}

/// The index of the interval in force on `date`, if any. Should stored intervals ever overlap,
/// the one that started last wins (and, on a tie, the later in the list).
pub fn position_on(intervals: &[OwnershipInterval], date: NaiveDate) -> Option<usize> {
    intervals
        .iter()
        .enumerate()
        .filter(|(_, i)| i.holds_on(date))
        .max_by_key(|(index, i)| (i.valid_from, *index))
        .map(|(index, _)| index)
}

/// The interval in force on `date`, if any (see [`position_on`]).
pub fn owner_on(intervals: &[OwnershipInterval], date: NaiveDate) -> Option<&OwnershipInterval> {
    position_on(intervals, date).map(|i| &intervals[i])
}

/// Who was the primary (A) manager on `date`, if anyone.
pub fn primary_manager_on(intervals: &[OwnershipInterval], date: NaiveDate) -> Option<&str> {
    owner_on(intervals, date).map(|i| i.owners.primary_manager.as_str())
}

/// The first interval of a customer that has no history yet: its owners since the day it was
/// created, open-ended.
pub fn seed_interval(owners: Owners, created_on: NaiveDate) -> OwnershipInterval {
    OwnershipInterval {
        owners,
        valid_from: created_on,
        valid_to: None,
    }
}

/// An ownership change that cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ChangeRefused {
    /// The new owners are the current owners.
    #[error("the change leaves the owning branch and both managers as they are")]
    Unchanged,
    /// The new owners break the A/B rule.
    #[error(transparent)]
    SameManager(#[from] SameManager),
    /// The interval to close is not open.
    #[error("the ownership interval starting {valid_from} is already closed")]
    NotOpen {
        /// Its first day.
        valid_from: NaiveDate,
    },
}

/// A change of ownership, ready to store: the open interval closed, and the next one opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChange {
    /// The previously open interval, now ending where `opened` starts (empty when it started the
    /// same day).
    pub closed: OwnershipInterval,
    /// The new open interval.
    pub opened: OwnershipInterval,
}

/// The first day of a change requested from `requested` and applied on `today` while the open
/// interval started on `open_from`: the latest of the three, so a change never rewrites the past
/// (an approval after the requested day starts on the approval day) and never starts before the
/// interval it closes.
pub fn change_start(requested: NaiveDate, today: NaiveDate, open_from: NaiveDate) -> NaiveDate {
    requested.max(today).max(open_from)
}

/// Plans the move of `open` to `owners` from the requested day, applied on `today`.
pub fn plan_change(
    open: &OwnershipInterval,
    owners: Owners,
    requested: NaiveDate,
    today: NaiveDate,
) -> Result<PlannedChange, ChangeRefused> {
    if open.valid_to.is_some() {
        return Err(ChangeRefused::NotOpen {
            valid_from: open.valid_from,
        });
    }
    if owners == open.owners {
        return Err(ChangeRefused::Unchanged);
    }
    owners.check()?;
    let start = change_start(requested, today, open.valid_from);
    Ok(PlannedChange {
        closed: OwnershipInterval {
            valid_to: Some(start),
            ..open.clone()
        },
        opened: OwnershipInterval {
            owners,
            valid_from: start,
            valid_to: None,
        },
    })
}

code_enum! {
    /// Which manager posts a reassignment of a leaving manager moves.
    pub enum ManagerSlot {
        /// The primary (A) post.
        Primary => "primary",
        /// The backup (B) post.
        Backup => "backup",
        /// Both posts, wherever the leaving manager holds them.
        Both => "both",
    }
}

impl ManagerSlot {
    /// Whether the slot moves the primary post.
    pub const fn moves_primary(self) -> bool {
        matches!(self, ManagerSlot::Primary | ManagerSlot::Both)
    }

    /// Whether the slot moves the backup post.
    pub const fn moves_backup(self) -> bool {
        matches!(self, ManagerSlot::Backup | ManagerSlot::Both)
    }
}

/// Whose customers a bulk reassignment moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReassignmentSource {
    /// A leaving manager: the customers where they hold a post that `slot` moves.
    Employee {
        /// The leaving manager.
        employee_id: String,
        /// The posts that move.
        slot: ManagerSlot,
    },
    /// A closing branch: every customer it owns.
    Branch(BranchCode),
}

impl ReassignmentSource {
    /// A stable key of the source, for "one pending reassignment per source".
    pub fn key(&self) -> String {
        match self {
            ReassignmentSource::Employee { employee_id, .. } => format!("employee:{employee_id}"),
            ReassignmentSource::Branch(b) => format!("branch:{b}"),
        }
    }

    /// Whether a customer with `owners` belongs to this source.
    pub fn holds(&self, owners: &Owners) -> bool {
        match self {
            ReassignmentSource::Employee { employee_id, slot } => {
                (slot.moves_primary() && owners.primary_manager == *employee_id)
                    || (slot.moves_backup() && owners.backup_manager == *employee_id)
            }
            ReassignmentSource::Branch(b) => owners.branch == *b,
        }
    }
}

/// The new owners a reassignment proposes; `None` where it proposes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReassignmentTargets {
    /// The new owning branch (for a leaving manager, `None` keeps each customer's branch).
    pub branch: Option<BranchCode>,
    /// The new primary manager.
    pub primary_manager: Option<String>,
    /// The new backup manager.
    pub backup_manager: Option<String>,
}

/// A target field of a reassignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetField {
    /// The new owning branch.
    Branch,
    /// The new primary manager.
    PrimaryManager,
    /// The new backup manager.
    BackupManager,
}

/// Something wrong with the targets of a reassignment, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetProblem {
    /// The field at fault.
    pub field: TargetField,
    /// What is wrong with it.
    pub message: String,
}

/// Checks that the targets fit the source: a leaving manager's slot needs exactly the posts it
/// moves, a closing branch needs a different branch and both managers, no target is the source
/// itself, and the two new managers differ. Every problem is returned, each naming its field.
pub fn check_targets(
    source: &ReassignmentSource,
    targets: &ReassignmentTargets,
) -> Vec<TargetProblem> {
    let mut problems = Vec::new();
    let mut add = |field, message: String| problems.push(TargetProblem { field, message });
    let (need_primary, need_backup) = match source {
        ReassignmentSource::Employee { employee_id, slot } => {
            for (field, target) in [
                (TargetField::PrimaryManager, &targets.primary_manager),
                (TargetField::BackupManager, &targets.backup_manager),
            ] {
                if target.as_deref() == Some(employee_id.as_str()) {
                    add(
                        field,
                        format!("is the leaving manager {employee_id}; name someone else"),
                    );
                }
            }
            (slot.moves_primary(), slot.moves_backup())
        }
        ReassignmentSource::Branch(from) => {
            match &targets.branch {
                None => add(
                    TargetField::Branch,
                    "is required when a branch's customers move".to_owned(),
                ),
                Some(to) if to == from => add(
                    TargetField::Branch,
                    format!("is the closing branch {from}; name another branch"),
                ),
                Some(_) => {}
            }
            (true, true)
        }
    };
    let slot_name = match source {
        ReassignmentSource::Employee { slot, .. } => format!("slot {slot}"),
        ReassignmentSource::Branch(_) => "a branch source".to_owned(),
    };
    for (field, needed, target) in [
        (
            TargetField::PrimaryManager,
            need_primary,
            &targets.primary_manager,
        ),
        (
            TargetField::BackupManager,
            need_backup,
            &targets.backup_manager,
        ),
    ] {
        match (needed, target) {
            (true, None) => add(field, format!("is required for {slot_name}")),
            (false, Some(_)) => add(
                field,
                format!("must be empty for {slot_name}, which does not move that post"),
            ),
            _ => {}
        }
    }
    if let (Some(a), Some(b)) = (&targets.primary_manager, &targets.backup_manager)
        && let Err(e) = check_managers(a, b)
    {
        add(TargetField::BackupManager, e.to_string());
    }
    problems
}

/// A customer whose new owners would break a rule.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ReassignRefused {
    /// The target field that causes it.
    pub field: TargetField,
    /// Why.
    pub message: String,
}

/// The new owners of a customer with `current` owners under a reassignment, or `None` when the
/// customer does not belong to the source. Targets are assumed checked by [`check_targets`].
pub fn reassign(
    source: &ReassignmentSource,
    targets: &ReassignmentTargets,
    current: &Owners,
) -> Result<Option<Owners>, ReassignRefused> {
    if !source.holds(current) {
        return Ok(None);
    }
    let mut next = current.clone();
    if let Some(branch) = &targets.branch {
        next.branch = branch.clone();
    }
    let (moves_primary, moves_backup) = match source {
        ReassignmentSource::Employee { employee_id, slot } => (
            slot.moves_primary() && current.primary_manager == *employee_id,
            slot.moves_backup() && current.backup_manager == *employee_id,
        ),
        ReassignmentSource::Branch(_) => (true, true),
    };
    if moves_primary && let Some(a) = &targets.primary_manager {
        next.primary_manager = a.clone();
    }
    if moves_backup && let Some(b) = &targets.backup_manager {
        next.backup_manager = b.clone();
    }
    if next.primary_manager == next.backup_manager {
        let (field, post, other) = if moves_primary {
            (TargetField::PrimaryManager, "primary", "backup")
        } else {
            (TargetField::BackupManager, "backup", "primary")
        };
        return Err(ReassignRefused {
            field,
            message: format!(
                "the new {post} manager {} is already the customer's {other} manager",
                next.primary_manager
            ),
        });
    }
    Ok(Some(next))
}

/// The lowest branch whose subtree holds every branch of `branches`: the scope of a request that
/// touches them all. `None` when `branches` is empty or a branch is unknown.
pub fn common_ancestor(tree: &BranchTree, branches: &[BranchCode]) -> Option<BranchCode> {
    let (first, rest) = branches.split_first()?;
    let mut chain = tree.chain(first).ok()?;
    for branch in rest {
        let other = tree.chain(branch).ok()?;
        chain.retain(|b| other.contains(b));
    }
    chain.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch_tree::BranchNode;
    use crate::org::BranchLevel;

    fn code(s: &str) -> BranchCode {
        BranchCode::parse(s).expect("code")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).expect("date")
    }

    fn owners(branch: &str, a: &str, b: &str) -> Owners {
        Owners {
            branch: code(branch),
            primary_manager: a.to_owned(),
            backup_manager: b.to_owned(),
        }
    }

    fn tree() -> BranchTree {
        let node = |id: &str, parent: Option<&str>, level| BranchNode {
            id: code(id),
            parent: parent.map(code),
            level,
        };
        BranchTree::new([
            node("HQ", None, BranchLevel::HeadOffice),
            node("BJ", Some("HQ"), BranchLevel::Tier1Branch),
            node("BJ01", Some("BJ"), BranchLevel::Tier2Branch),
            node("BJ02", Some("BJ"), BranchLevel::Tier2Branch),
            node("SH", Some("HQ"), BranchLevel::Tier1Branch),
        ])
        .expect("tree")
    }

    #[test]
    fn the_maker_never_decides_and_only_pending_moves() {
        use ApprovalStatus::*;
        assert_eq!(decide(Pending, Decision::Approve, "m", "c"), Ok(Approved));
        assert_eq!(decide(Pending, Decision::Reject, "m", "c"), Ok(Rejected));
        assert_eq!(decide(Pending, Decision::Cancel, "m", "m"), Ok(Cancelled));
        assert_eq!(decide(Pending, Decision::Expire, "m", ""), Ok(Expired));
        for decision in [Decision::Approve, Decision::Reject] {
            assert_eq!(
                decide(Pending, decision, "m", "m"),
                Err(DecisionRefused::MakerMayNotDecide {
                    maker: "m".into(),
                    decision
                })
            );
            // Four eyes is checked before the state.
            assert!(matches!(
                decide(Approved, decision, "m", "m"),
                Err(DecisionRefused::MakerMayNotDecide { .. })
            ));
        }
        assert_eq!(
            decide(Pending, Decision::Cancel, "m", "c"),
            Err(DecisionRefused::OnlyMakerMayCancel { maker: "m".into() })
        );
        for status in [Approved, Rejected, Cancelled, Expired] {
            assert!(status.is_terminal());
            assert_eq!(
                decide(status, Decision::Approve, "m", "c"),
                Err(DecisionRefused::NotPending { status })
            );
            for to in ApprovalStatus::ALL {
                assert!(!status.can_move_to(*to));
            }
        }
        assert!(!Pending.is_terminal());
        assert!(!Pending.can_move_to(Pending));
        let refused = decide(Approved, Decision::Reject, "m", "c").expect_err("refused");
        assert_eq!(refused.to_string(), "the request is approved, not pending");
    }

    #[test]
    fn checkers_are_admins_or_heads_over_every_branch_touched() {
        let t = tree();
        let head = [Role::BranchHead];
        assert!(may_check(&head, Some(&code("BJ")), &[code("BJ01")], &t));
        assert!(may_check(
            &head,
            Some(&code("BJ")),
            &[code("BJ01"), code("BJ02")],
            &t
        ));
        assert!(!may_check(
            &head,
            Some(&code("BJ")),
            &[code("BJ01"), code("SH")],
            &t
        ));
        assert!(!may_check(&head, Some(&code("BJ01")), &[code("BJ")], &t));
        assert!(!may_check(&head, None, &[code("BJ01")], &t));
        assert!(!may_check(&head, Some(&code("BJ")), &[], &t));
        assert!(!may_check(
            &[Role::Approver, Role::CustomerManager],
            Some(&code("HQ")),
            &[code("BJ01")],
            &t
        ));
        assert!(may_check(&[Role::Admin], None, &[code("SH")], &t));
    }

    #[test]
    fn a_and_b_must_differ() {
        assert_eq!(check_managers("e1", "e2"), Ok(()));
        assert_eq!(check_managers("e1", "e1"), Err(SameManager("e1".into())));
        assert_eq!(
            check_managers("", ""),
            Ok(()),
            "missing is reported elsewhere"
        );
        assert!(owners("BJ01", "e1", "e1").check().is_err());
        assert!(owners("BJ01", "e1", "e2").is_managed_by("e2"));
        assert!(!owners("BJ01", "e1", "e2").is_managed_by("e3"));
    }

    #[test]
    fn as_of_lookups_use_half_open_intervals() {
        let history = vec![
            OwnershipInterval {
                owners: owners("BJ01", "e1", "e2"),
                valid_from: day(1),
                valid_to: Some(day(10)),
            },
            // Superseded on the day it started: holds on no date.
            OwnershipInterval {
                owners: owners("BJ01", "e9", "e2"),
                valid_from: day(10),
                valid_to: Some(day(10)),
            },
            OwnershipInterval {
                owners: owners("BJ01", "e3", "e2"),
                valid_from: day(10),
                valid_to: Some(day(20)),
            },
            OwnershipInterval {
                owners: owners("BJ02", "e4", "e5"),
                valid_from: day(20),
                valid_to: None,
            },
        ];
        assert!(history[1].is_empty());
        assert!(!history[3].is_empty());
        assert_eq!(primary_manager_on(&history, day(1)), Some("e1"));
        assert_eq!(primary_manager_on(&history, day(9)), Some("e1"));
        assert_eq!(primary_manager_on(&history, day(10)), Some("e3"));
        assert_eq!(primary_manager_on(&history, day(19)), Some("e3"));
        assert_eq!(primary_manager_on(&history, day(20)), Some("e4"));
        assert_eq!(primary_manager_on(&history, day(31)), Some("e4"));
        assert_eq!(
            primary_manager_on(&history, NaiveDate::from_ymd_opt(2025, 2, 28).expect("d")),
            None,
            "before the customer existed"
        );
        assert_eq!(position_on(&history, day(15)), Some(2));
        assert_eq!(owner_on(&[], day(1)), None);
        // Overlapping rows (never written, but tolerated): the later start wins.
        let overlapping = vec![
            seed_interval(owners("BJ01", "e1", "e2"), day(1)),
            seed_interval(owners("BJ01", "e7", "e2"), day(5)),
        ];
        assert_eq!(primary_manager_on(&overlapping, day(4)), Some("e1"));
        assert_eq!(primary_manager_on(&overlapping, day(6)), Some("e7"));
    }

    #[test]
    fn a_change_closes_the_open_interval_and_never_starts_in_the_past() {
        let open = seed_interval(owners("BJ01", "e1", "e2"), day(1));
        let planned =
            plan_change(&open, owners("BJ01", "e3", "e2"), day(5), day(3)).expect("planned");
        assert_eq!(planned.closed.valid_to, Some(day(5)));
        assert_eq!(planned.closed.owners, open.owners);
        assert_eq!(planned.opened.valid_from, day(5));
        assert_eq!(planned.opened.valid_to, None);
        // Approved after the requested day: starts on the approval day.
        let late = plan_change(&open, owners("BJ01", "e3", "e2"), day(2), day(8)).expect("late");
        assert_eq!(late.opened.valid_from, day(8));
        // Never before the open interval; on its first day it supersedes it.
        let open_later = seed_interval(owners("BJ01", "e1", "e2"), day(9));
        let same_day =
            plan_change(&open_later, owners("BJ01", "e1", "e3"), day(4), day(4)).expect("same");
        assert_eq!(same_day.opened.valid_from, day(9));
        assert!(same_day.closed.is_empty());
        assert_eq!(change_start(day(3), day(4), day(5)), day(5));
        assert_eq!(
            plan_change(&open, owners("BJ01", "e1", "e2"), day(5), day(5)),
            Err(ChangeRefused::Unchanged)
        );
        assert_eq!(
            plan_change(&open, owners("BJ01", "e2", "e2"), day(5), day(5)),
            Err(ChangeRefused::SameManager(SameManager("e2".into())))
        );
        assert_eq!(
            plan_change(&planned.closed, owners("BJ01", "e5", "e2"), day(6), day(6)),
            Err(ChangeRefused::NotOpen { valid_from: day(1) })
        );
        // A swap of A and B is a change.
        assert!(plan_change(&open, owners("BJ01", "e2", "e1"), day(5), day(5)).is_ok());
    }

    fn leaving(slot: ManagerSlot) -> ReassignmentSource {
        ReassignmentSource::Employee {
            employee_id: "e1".into(),
            slot,
        }
    }

    fn targets(branch: Option<&str>, a: Option<&str>, b: Option<&str>) -> ReassignmentTargets {
        ReassignmentTargets {
            branch: branch.map(code),
            primary_manager: a.map(str::to_owned),
            backup_manager: b.map(str::to_owned),
        }
    }

    fn fields(problems: &[TargetProblem]) -> Vec<TargetField> {
        problems.iter().map(|p| p.field).collect()
    }

    #[test]
    fn targets_must_fit_the_source() {
        use TargetField::*;
        assert!(
            check_targets(
                &leaving(ManagerSlot::Primary),
                &targets(None, Some("e5"), None)
            )
            .is_empty()
        );
        assert!(
            check_targets(
                &leaving(ManagerSlot::Both),
                &targets(Some("BJ02"), Some("e5"), Some("e6"))
            )
            .is_empty()
        );
        assert_eq!(
            fields(&check_targets(
                &leaving(ManagerSlot::Primary),
                &targets(None, None, Some("e6"))
            )),
            [PrimaryManager, BackupManager]
        );
        assert_eq!(
            fields(&check_targets(
                &leaving(ManagerSlot::Backup),
                &targets(None, None, Some("e1"))
            )),
            [BackupManager],
            "the leaving manager is no target"
        );
        assert_eq!(
            fields(&check_targets(
                &leaving(ManagerSlot::Both),
                &targets(None, Some("e5"), Some("e5"))
            )),
            [BackupManager]
        );
        let closing = ReassignmentSource::Branch(code("BJ01"));
        assert!(check_targets(&closing, &targets(Some("BJ02"), Some("e5"), Some("e6"))).is_empty());
        assert_eq!(
            fields(&check_targets(&closing, &targets(None, None, Some("e6")))),
            [Branch, PrimaryManager]
        );
        let same = check_targets(&closing, &targets(Some("BJ01"), Some("e5"), Some("e6")));
        assert_eq!(fields(&same), [Branch]);
        assert!(same[0].message.contains("closing branch"));
    }

    #[test]
    fn reassign_moves_only_the_posts_the_source_holds() {
        let source = leaving(ManagerSlot::Both);
        let to = targets(None, Some("e5"), Some("e6"));
        assert_eq!(
            reassign(&source, &to, &owners("BJ01", "e1", "e2")),
            Ok(Some(owners("BJ01", "e5", "e2")))
        );
        assert_eq!(
            reassign(&source, &to, &owners("BJ01", "e2", "e1")),
            Ok(Some(owners("BJ01", "e2", "e6")))
        );
        assert_eq!(
            reassign(&source, &to, &owners("BJ01", "e2", "e3")),
            Ok(None)
        );
        // Only the primary post moves under slot primary.
        let primary = leaving(ManagerSlot::Primary);
        let to_a = targets(Some("BJ02"), Some("e5"), None);
        assert_eq!(
            reassign(&primary, &to_a, &owners("BJ01", "e2", "e1")),
            Ok(None)
        );
        assert_eq!(
            reassign(&primary, &to_a, &owners("BJ01", "e1", "e2")),
            Ok(Some(owners("BJ02", "e5", "e2")))
        );
        // The new A would be the customer's B already.
        let clash = reassign(&primary, &to_a, &owners("BJ01", "e1", "e5")).expect_err("clash");
        assert_eq!(clash.field, TargetField::PrimaryManager);
        assert!(clash.message.contains("already the customer's backup"));
        // A closing branch moves everything.
        let closing = ReassignmentSource::Branch(code("BJ01"));
        let to_branch = targets(Some("BJ02"), Some("e5"), Some("e6"));
        assert_eq!(
            reassign(&closing, &to_branch, &owners("BJ01", "e1", "e2")),
            Ok(Some(owners("BJ02", "e5", "e6")))
        );
        assert_eq!(
            reassign(&closing, &to_branch, &owners("BJ02", "e1", "e2")),
            Ok(None)
        );
        assert_eq!(source.key(), "employee:e1");
        assert_eq!(closing.key(), "branch:BJ01");
    }

    #[test]
    fn the_scope_is_the_lowest_common_ancestor() {
        let t = tree();
        assert_eq!(common_ancestor(&t, &[code("BJ01")]), Some(code("BJ01")));
        assert_eq!(
            common_ancestor(&t, &[code("BJ01"), code("BJ02")]),
            Some(code("BJ"))
        );
        assert_eq!(
            common_ancestor(&t, &[code("BJ01"), code("BJ"), code("BJ01")]),
            Some(code("BJ"))
        );
        assert_eq!(
            common_ancestor(&t, &[code("BJ01"), code("SH")]),
            Some(code("HQ"))
        );
        assert_eq!(common_ancestor(&t, &[]), None);
        assert_eq!(common_ancestor(&t, &[code("XX")]), None);
    }
}
