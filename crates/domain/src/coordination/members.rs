//! Members of an opportunity and the access they get (DOMAIN.md §5 "Access through membership",
//! "Five fixes": the people). A member belongs to one unit: the employee's branch must be in the
//! unit's branch subtree and the employee must work in the unit's line ([`fits`]); an employee
//! who fits no unit is refused, and so is one who is inactive in the staff directory on the day
//! ([`check_new_member`]). Memberships are effective-dated; while one is active and the
//! opportunity is not lost or closed, the member may read the 360 of every target customer, even
//! across branch subtrees ([`read_grants`]). A member who owns open tasks, or the last member of
//! the lead unit, cannot be removed ([`check_removal`]); members of a unit that an amendment or a
//! bid award drops leave with it ([`orphaned`]).

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::shares::{ShareSet, UnitRef};
use super::stage::{OpportunityStage, check_open};
use super::{CoordinationError, Reason};
use crate::branch_tree::BranchTree;
use crate::ids::CustomerId;
use crate::org::{BranchCode, BusinessLine};

code_enum! {
    /// A member's role in an opportunity (proto `MemberRole`, same order).
    pub enum MemberRole {
        /// Leads the unit's work.
        UnitLead => "unit_lead",
        /// Customer manager.
        CustomerManager => "customer_manager",
        /// Product specialist.
        ProductSpecialist => "product_specialist",
        /// Support (risk, operations, legal).
        Support => "support",
    }
}

/// An employee as the staff directory knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffFacts {
    /// The employee id.
    pub employee_id: String,
    /// The employee's branch.
    pub branch: BranchCode,
    /// The lines they work in.
    pub lines: Vec<BusinessLine>,
    /// First day active, inclusive.
    pub active_from: NaiveDate,
    /// First day no longer active, exclusive; `None` while employed.
    pub active_to: Option<NaiveDate>,
}

impl StaffFacts {
    /// Whether the employee is active on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.active_from <= date && self.active_to.is_none_or(|to| date < to)
    }
}

/// Whether `staff` fits `unit`: their branch is in the unit's branch subtree and they work in the
/// unit's line.
pub fn fits(staff: &StaffFacts, unit: &UnitRef, tree: &BranchTree) -> bool {
    staff.lines.contains(&unit.line) && tree.is_in_subtree(&staff.branch, &unit.branch)
}

/// The units of `units` that `staff` fits, in the order given.
pub fn fitting_units<'a>(
    staff: &StaffFacts,
    units: &'a [UnitRef],
    tree: &BranchTree,
) -> Vec<&'a UnitRef> {
    units.iter().filter(|u| fits(staff, u, tree)).collect()
}

/// A membership of an opportunity, effective-dated `[active_from, active_to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The employee.
    pub employee_id: String,
    /// The unit.
    pub unit: UnitRef,
    /// The role.
    pub role: MemberRole,
    /// First day a member, inclusive.
    pub active_from: NaiveDate,
    /// First day no longer a member, exclusive; `None` while a member.
    pub active_to: Option<NaiveDate>,
}

impl Membership {
    /// Whether the membership holds on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.active_from <= date && self.active_to.is_none_or(|to| date < to)
    }

    /// The membership ended on `date` (the first day no longer a member; never before its
    /// start).
    pub fn ended(&self, date: NaiveDate) -> Membership {
        Membership {
            active_to: Some(date.max(self.active_from)),
            ..self.clone()
        }
    }
}

/// Whether `employee` is an active member on `date` (of any unit).
pub fn is_member(memberships: &[Membership], employee: &str, date: NaiveDate) -> bool {
    memberships
        .iter()
        .any(|m| m.employee_id == employee && m.is_active_on(date))
}

/// Whether `employee` is an active member of `unit` on `date`.
pub fn is_member_of(
    memberships: &[Membership],
    employee: &str,
    unit: &UnitRef,
    date: NaiveDate,
) -> bool {
    memberships
        .iter()
        .any(|m| m.employee_id == employee && m.unit == *unit && m.is_active_on(date))
}

/// The employee ids of the active members on `date`, sorted, once each.
pub fn active_members(memberships: &[Membership], date: NaiveDate) -> Vec<String> {
    memberships
        .iter()
        .filter(|m| m.is_active_on(date))
        .map(|m| m.employee_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Checks that `staff` may join `unit` of an opportunity with `units` on `today`. Checks, in
/// order: a terminal stage; the employee active ([`Reason::EmployeeInactive`]); the employee
/// fits some unit ([`Reason::MemberFitsNoUnit`], "a member outside every unit") and this one
/// ([`Reason::MemberNotInUnit`], naming the units that fit); not already an active member
/// ([`Reason::AlreadyMember`]).
pub fn check_new_member(
    stage: OpportunityStage,
    staff: &StaffFacts,
    unit: &UnitRef,
    units: &[UnitRef],
    memberships: &[Membership],
    today: NaiveDate,
    tree: &BranchTree,
) -> Result<(), CoordinationError> {
    check_open(stage)?;
    let who = &staff.employee_id;
    if !staff.is_active_on(today) {
        return Err(CoordinationError::refused(
            Reason::EmployeeInactive,
            format!("employee {who} is not active on {today}"),
        ));
    }
    let fitting = fitting_units(staff, units, tree);
    if fitting.is_empty() {
        return Err(CoordinationError::refused(
            Reason::MemberFitsNoUnit,
            format!(
                "employee {who} of branch {} fits no unit of the opportunity: a member's branch \
                 must be in a unit's branch subtree and they must work in its line",
                staff.branch
            ),
        ));
    }
    if !fitting.contains(&unit) {
        let names: Vec<String> = fitting.iter().map(ToString::to_string).collect();
        return Err(CoordinationError::refused(
            Reason::MemberNotInUnit,
            format!(
                "employee {who} does not fit unit {unit}; they fit: {}",
                names.join(", ")
            ),
        ));
    }
    if is_member(memberships, who, today) {
        return Err(CoordinationError::refused(
            Reason::AlreadyMember,
            format!("employee {who} is already a member of the opportunity"),
        ));
    }
    Ok(())
}

/// Checks that `employee` may stop being a member on `today`: not while they own open tasks
/// ([`Reason::OwnerOfOpenTasks`]), and not when they are the last active member of the lead unit
/// ([`Reason::LastLeadMember`]).
pub fn check_removal(
    memberships: &[Membership],
    employee: &str,
    owns_open_tasks: bool,
    shares: &ShareSet,
    today: NaiveDate,
) -> Result<(), CoordinationError> {
    if owns_open_tasks {
        return Err(CoordinationError::refused(
            Reason::OwnerOfOpenTasks,
            format!("{employee} owns open tasks; reassign or finish them first"),
        ));
    }
    let lead = &shares.lead().unit;
    let in_lead = is_member_of(memberships, employee, lead, today);
    let others_in_lead = memberships
        .iter()
        .any(|m| m.employee_id != employee && m.unit == *lead && m.is_active_on(today));
    if in_lead && !others_in_lead {
        return Err(CoordinationError::refused(
            Reason::LastLeadMember,
            format!("{employee} is the last member of the lead unit {lead}"),
        ));
    }
    Ok(())
}

/// The active memberships on `date` whose unit is not a unit of `shares` (their unit left with
/// an amendment or a bid award): end them on the new shares' start.
pub fn orphaned<'a>(
    memberships: &'a [Membership],
    shares: &ShareSet,
    date: NaiveDate,
) -> Vec<&'a Membership> {
    memberships
        .iter()
        .filter(|m| m.is_active_on(date) && !shares.contains(&m.unit))
        .collect()
}

/// Whether `employee` may read the 360 of the targets on `date` through membership: an active
/// membership of an opportunity that is not lost or closed.
pub fn grants_read(
    stage: OpportunityStage,
    memberships: &[Membership],
    employee: &str,
    date: NaiveDate,
) -> bool {
    !stage.is_terminal() && is_member(memberships, employee, date)
}

/// Every (employee, customer) read grant the opportunity gives on `date`: each active member ×
/// each target (main and linked); none once it is lost or closed. The service keeps the
/// registry's grants in step with this set.
pub fn read_grants(
    stage: OpportunityStage,
    memberships: &[Membership],
    targets: &[CustomerId],
    date: NaiveDate,
) -> BTreeSet<(String, CustomerId)> {
    if stage.is_terminal() {
        return BTreeSet::new();
    }
    active_members(memberships, date)
        .into_iter()
        .flat_map(|e| targets.iter().map(move |c| (e.clone(), *c)))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::branch_tree::BranchNode;
    use crate::coordination::ErrorKind;
    use crate::coordination::shares::tests::{code, unit, walkthrough_units};
    use crate::org::BranchLevel;
    use crate::org::BusinessLine::*;

    pub(crate) fn tree() -> BranchTree {
        let node = |id: &str, parent: Option<&str>, level| BranchNode {
            id: code(id),
            parent: parent.map(code),
            level,
        };
        BranchTree::new([
            node("HQ", None, BranchLevel::HeadOffice),
            node("BJ", Some("HQ"), BranchLevel::Tier1Branch),
            node("BJ01", Some("BJ"), BranchLevel::Tier2Branch),
            node("BJ0101", Some("BJ01"), BranchLevel::SubBranch),
            node("BJ02", Some("BJ"), BranchLevel::Tier2Branch),
            node("SH", Some("HQ"), BranchLevel::Tier1Branch),
            node("SH01", Some("SH"), BranchLevel::Tier2Branch),
        ])
        .expect("tree")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    pub(crate) fn staff(id: &str, branch: &str, lines: &[BusinessLine]) -> StaffFacts {
        StaffFacts {
            employee_id: id.to_owned(),
            branch: code(branch),
            lines: lines.to_vec(),
            active_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            active_to: None,
        }
    }

    pub(crate) fn member(id: &str, u: UnitRef, role: MemberRole, from: NaiveDate) -> Membership {
        Membership {
            employee_id: id.to_owned(),
            unit: u,
            role,
            active_from: from,
            active_to: None,
        }
    }

    fn units() -> Vec<UnitRef> {
        ShareSet::parse(walkthrough_units(), "units")
            .unwrap()
            .unit_refs()
    }

    #[test]
    fn a_member_must_fit_a_unit_by_branch_subtree_and_line() {
        let t = tree();
        let corp = unit("BJ01", Corporate);
        assert!(fits(&staff("a", "BJ01", &[Corporate]), &corp, &t));
        assert!(fits(&staff("a", "BJ0101", &[Corporate, Retail]), &corp, &t));
        assert!(!fits(&staff("a", "BJ", &[Corporate]), &corp, &t), "above");
        assert!(
            !fits(&staff("a", "BJ02", &[Corporate]), &corp, &t),
            "sibling"
        );
        assert!(!fits(&staff("a", "BJ01", &[Wealth]), &corp, &t), "line");
        let u = units();
        assert_eq!(
            fitting_units(&staff("a", "BJ0101", &[Retail, Corporate]), &u, &t),
            [&u[0], &u[2]]
        );
    }

    #[test]
    fn joining_checks() {
        let t = tree();
        let u = units();
        let stage = OpportunityStage::Execution;
        let ok = staff("rita", "BJ0101", &[Retail]);
        assert!(check_new_member(stage, &ok, &u[2], &u, &[], day(10), &t).is_ok());
        let outsider = staff("sam", "SH01", &[Retail]);
        let err = check_new_member(stage, &outsider, &u[2], &u, &[], day(10), &t).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::MemberFitsNoUnit));
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
        let err = check_new_member(stage, &ok, &u[0], &u, &[], day(10), &t).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::MemberNotInUnit));
        assert!(err.to_string().contains("BJ01/retail"), "{err}");
        let mut gone = ok.clone();
        gone.active_to = Some(day(10));
        assert_eq!(
            check_new_member(stage, &gone, &u[2], &u, &[], day(10), &t)
                .unwrap_err()
                .reason(),
            Some(Reason::EmployeeInactive)
        );
        let existing = [member(
            "rita",
            u[2].clone(),
            MemberRole::CustomerManager,
            day(3),
        )];
        let err = check_new_member(stage, &ok, &u[2], &u, &existing, day(10), &t).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        // A past membership does not block rejoining.
        let past = [existing[0].ended(day(5))];
        assert!(check_new_member(stage, &ok, &u[2], &u, &past, day(10), &t).is_ok());
        assert_eq!(
            check_new_member(OpportunityStage::Lost, &ok, &u[2], &u, &[], day(10), &t)
                .unwrap_err()
                .reason(),
            Some(Reason::TerminalStage)
        );
    }

    #[test]
    fn removal_checks() {
        let u = units();
        let shares = ShareSet::parse(walkthrough_units(), "units").unwrap();
        let ms = vec![
            member("alice", u[0].clone(), MemberRole::UnitLead, day(3)),
            member("sam", u[1].clone(), MemberRole::UnitLead, day(3)),
        ];
        assert_eq!(
            check_removal(&ms, "sam", true, &shares, day(10))
                .unwrap_err()
                .reason(),
            Some(Reason::OwnerOfOpenTasks)
        );
        assert!(check_removal(&ms, "sam", false, &shares, day(10)).is_ok());
        assert_eq!(
            check_removal(&ms, "alice", false, &shares, day(10))
                .unwrap_err()
                .reason(),
            Some(Reason::LastLeadMember)
        );
        let mut more = ms.clone();
        more.push(member(
            "carl",
            u[0].clone(),
            MemberRole::CustomerManager,
            day(4),
        ));
        assert!(check_removal(&more, "alice", false, &shares, day(10)).is_ok());
        // carl's membership ended: alice is the last again.
        more[2] = more[2].ended(day(8));
        assert!(check_removal(&more, "alice", false, &shares, day(10)).is_err());
    }

    #[test]
    fn membership_grants_read_while_active_and_open() {
        let u = units();
        let c1 = CustomerId::new();
        let c2 = CustomerId::new();
        let ms = vec![
            member("alice", u[0].clone(), MemberRole::UnitLead, day(3)),
            member("rita", u[2].clone(), MemberRole::CustomerManager, day(5)).ended(day(20)),
        ];
        let stage = OpportunityStage::Won;
        assert!(grants_read(stage, &ms, "rita", day(5)));
        assert!(!grants_read(stage, &ms, "rita", day(4)));
        assert!(!grants_read(stage, &ms, "rita", day(20)));
        assert!(!grants_read(
            OpportunityStage::Closed,
            &ms,
            "alice",
            day(10)
        ));
        let grants = read_grants(stage, &ms, &[c1, c2], day(10));
        assert_eq!(grants.len(), 4);
        assert!(grants.contains(&("rita".to_owned(), c2)));
        assert_eq!(read_grants(stage, &ms, &[c1, c2], day(25)).len(), 2);
        assert!(read_grants(OpportunityStage::Lost, &ms, &[c1], day(10)).is_empty());
        assert_eq!(active_members(&ms, day(10)), ["alice", "rita"]);
        assert!(is_member_of(&ms, "rita", &u[2], day(10)));
        assert!(!is_member_of(&ms, "rita", &u[0], day(10)));
        // ended() never ends before the start.
        assert_eq!(ms[1].ended(day(1)).active_to, Some(day(5)));
    }

    #[test]
    fn members_of_a_dropped_unit_are_orphaned() {
        let u = units();
        let ms = vec![
            member("alice", u[0].clone(), MemberRole::UnitLead, day(3)),
            member("rita", u[2].clone(), MemberRole::CustomerManager, day(3)),
        ];
        let without_retail = ShareSet::parse(
            vec![
                crate::coordination::shares::tests::lead("BJ01", Corporate, 6000),
                crate::coordination::shares::tests::co("BJ01", SmallBusiness, 4000),
            ],
            "units",
        )
        .unwrap();
        let gone = orphaned(&ms, &without_retail, day(10));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].employee_id, "rita");
    }
}
