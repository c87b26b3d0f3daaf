//! Playbooks: versioned task templates per opportunity type (issue 5, "five fixes"), e.g. a
//! supply-chain finance campaign, payroll plus cards, or a market batch. A playbook version has
//! 1 to 100 steps, each with a title, the stage it belongs to, the line and member role that
//! owns it, and a due offset in working days from the playbook's start date ([`Playbook`]).
//! Applying a playbook ([`instantiate`]) checks that it is active and of the opportunity's type,
//! then turns each step into a task plan: the due date is the offset counted on the business
//! calendar from the start date (today when unset); a step that would fall due before today is
//! refused (field `start_date`), and an SLA rule that times the step caps it (see
//! [`crate::coordination::tasks::cap_by_sla`]). **The owner** is resolved deterministically: among
//! the units of the step's line (the lead unit's line when unset) — the lead first, then by share,
//! then as listed — an active member with the step's role (unit lead when unset), else any active
//! member of those units; failing both (e.g. a co-unit with no member yet), the lead unit's unit
//! lead, else any lead-unit member; with nobody at all, [`Reason::OwnerNotResolvable`]. Ties go
//! to the smallest employee id.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::members::{MemberRole, Membership};
use super::rules::{PLAYBOOK_KIND, RuleRef, SlaRule, task_sla};
use super::shares::{ShareSet, UnitRef, UnitRole};
use super::stage::{OpportunityStage, OpportunityType, check_open};
use super::tasks::{
    MAX_DESCRIPTION_CHARS, MAX_DUE_OFFSET_WORKING_DAYS, MAX_TITLE_CHARS, cap_by_sla,
};
use super::{CoordinationError, Reason, Violations};
use crate::calendar::BusinessCalendar;
use crate::org::BusinessLine;

/// The most characters of a playbook's name.
pub const MAX_NAME_CHARS: usize = 200;
/// The most steps of a playbook.
pub const MAX_STEPS: usize = 100;
/// The most characters of a step id.
pub const MAX_STEP_ID_CHARS: usize = 64;

/// One step of a playbook: a task template (proto `PlaybookStep`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaybookStep {
    /// Id unique within the playbook.
    pub step_id: String,
    /// Task title.
    pub title: String,
    /// Task description.
    pub description: String,
    /// The stage the step belongs to; any when `None`. Never lost or closed.
    pub stage: Option<OpportunityStage>,
    /// The line whose unit owns the task; the lead unit's line when `None`.
    pub owner_line: Option<BusinessLine>,
    /// The member role that owns the task; unit lead when `None`.
    pub owner_role: Option<MemberRole>,
    /// Due this many working days after the playbook's start date; 0 to 1,000.
    pub due_offset_working_days: i32,
}

/// A playbook version (proto `Playbook`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Playbook {
    /// Stable id of the series.
    pub playbook_id: String,
    /// The version number.
    pub version: i64,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// The type it serves; `None` when unset (invalid).
    pub opportunity_type: Option<OpportunityType>,
    /// The steps, 1 to 100.
    pub steps: Vec<PlaybookStep>,
    /// Whether it can be applied.
    pub active: bool,
}

impl Playbook {
    /// Checks the playbook (paths relative to `playbook`): `name`, `opportunity_type`, `steps`
    /// (1 to 100), `steps[i].step_id` (required, unique, at most 64 characters),
    /// `steps[i].title`, `steps[i].description`, `steps[i].stage` (not lost or closed),
    /// `steps[i].due_offset_working_days` (0 to 1,000).
    pub fn validate(&self) -> Result<(), CoordinationError> {
        let mut v = Violations::default();
        v.text("name", &self.name, true, MAX_NAME_CHARS);
        if self.opportunity_type.is_none() {
            v.add("opportunity_type", "is required");
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            v.add(
                "steps",
                format!("must have 1 to {MAX_STEPS} steps, not {}", self.steps.len()),
            );
        }
        let mut ids = BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = |name: &str| format!("steps[{i}].{name}");
            if step.step_id.trim().is_empty() {
                v.add(at("step_id"), "is required");
            } else if !ids.insert(step.step_id.as_str()) {
                v.add(at("step_id"), format!("repeats {:?}", step.step_id));
            } else {
                v.text(&at("step_id"), &step.step_id, true, MAX_STEP_ID_CHARS);
            }
            v.text(&at("title"), &step.title, true, MAX_TITLE_CHARS);
            v.text(
                &at("description"),
                &step.description,
                false,
                MAX_DESCRIPTION_CHARS,
            );
            if let Some(stage) = step.stage.filter(|s| s.is_terminal()) {
                v.add(at("stage"), format!("a step cannot belong to {stage}"));
            }
            if !(0..=MAX_DUE_OFFSET_WORKING_DAYS).contains(&step.due_offset_working_days) {
                v.add(
                    at("due_offset_working_days"),
                    format!(
                        "must be 0 to {MAX_DUE_OFFSET_WORKING_DAYS}, not {}",
                        step.due_offset_working_days
                    ),
                );
            }
        }
        v.finish()
    }

    /// The reference a task records.
    pub fn rule_ref(&self) -> RuleRef {
        RuleRef {
            rule_kind: PLAYBOOK_KIND,
            rule_id: self.playbook_id.clone(),
            version: self.version,
        }
    }
}

/// A task to create from a playbook step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPlan {
    /// The step.
    pub step_id: String,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The owner, an active member.
    pub owner: String,
    /// The due date.
    pub due_date: NaiveDate,
    /// The SLA rule that set the due date, if its timer did.
    pub sla_rule: Option<RuleRef>,
}

/// The opportunity a playbook is applied to.
#[derive(Clone, Copy, Debug)]
pub struct ApplyContext<'a> {
    /// Its stage.
    pub stage: OpportunityStage,
    /// Its type.
    pub opportunity_type: OpportunityType,
    /// Its shares in force.
    pub shares: &'a ShareSet,
    /// Its memberships.
    pub memberships: &'a [Membership],
    /// The day offsets count from (today when the request leaves it unset).
    pub start: NaiveDate,
    /// The business date of the application (the tasks' creation date).
    pub today: NaiveDate,
    /// The business calendar.
    pub calendar: &'a BusinessCalendar,
    /// The SLA rules (every version; those in force today apply).
    pub sla_rules: &'a [SlaRule],
}

/// The tasks a playbook creates on an opportunity, in step order. Checks: a terminal stage; the
/// playbook active ([`Reason::PlaybookInactive`]) and of the opportunity's type
/// ([`Reason::PlaybookTypeMismatch`]); no step due before today (field `start_date`); an owner
/// for every step ([`Reason::OwnerNotResolvable`]).
pub fn instantiate(
    playbook: &Playbook,
    ctx: ApplyContext<'_>,
) -> Result<Vec<TaskPlan>, CoordinationError> {
    check_open(ctx.stage)?;
    if !playbook.active {
        return Err(CoordinationError::refused(
            Reason::PlaybookInactive,
            format!("playbook {} is inactive", playbook.playbook_id),
        ));
    }
    if playbook.opportunity_type != Some(ctx.opportunity_type) {
        let served = playbook.opportunity_type.map_or("no type", |t| t.as_str());
        return Err(CoordinationError::refused(
            Reason::PlaybookTypeMismatch,
            format!(
                "playbook {} serves {served}, not {}",
                playbook.playbook_id, ctx.opportunity_type
            ),
        ));
    }
    let mut tasks = Vec::with_capacity(playbook.steps.len());
    for step in &playbook.steps {
        let offset = u32::try_from(step.due_offset_working_days.max(0)).unwrap_or(0);
        let due = ctx
            .calendar
            .add_working_days(ctx.start, offset)
            .map_err(|e| CoordinationError::invalid("start_date", e.to_string()))?;
        if due < ctx.today {
            return Err(CoordinationError::invalid(
                "start_date",
                format!(
                    "step {} would fall due on {due}, before today {}; start later",
                    step.step_id, ctx.today
                ),
            ));
        }
        let sla = task_sla(
            ctx.sla_rules,
            ctx.opportunity_type,
            Some(&step.step_id),
            ctx.today,
        );
        let due = cap_by_sla(due, ctx.today, ctx.calendar, sla)?;
        let owner =
            resolve_owner(step, ctx.shares, ctx.memberships, ctx.today).ok_or_else(|| {
                CoordinationError::refused(
                    Reason::OwnerNotResolvable,
                    format!(
                        "no active member can own step {}: the lead unit has no member",
                        step.step_id
                    ),
                )
            })?;
        tasks.push(TaskPlan {
            step_id: step.step_id.clone(),
            title: step.title.clone(),
            description: step.description.clone(),
            owner,
            due_date: due.date,
            sla_rule: due.sla_rule,
        });
    }
    Ok(tasks)
}

/// The owner of a step's task (see the module documentation), or `None` when the opportunity
/// has no active member in the step's line nor in the lead unit.
pub fn resolve_owner(
    step: &PlaybookStep,
    shares: &ShareSet,
    memberships: &[Membership],
    today: NaiveDate,
) -> Option<String> {
    let lead = shares.lead();
    let line = step.owner_line.unwrap_or(lead.unit.line);
    let role = step.owner_role.unwrap_or(MemberRole::UnitLead);
    let mut units: Vec<(usize, &super::shares::UnitShare)> = shares
        .units()
        .iter()
        .enumerate()
        .filter(|(_, u)| u.unit.line == line)
        .collect();
    units.sort_by_key(|(i, u)| (u.role != UnitRole::Lead, std::cmp::Reverse(u.share), *i));
    let pick = |units: &[&UnitRef], role: Option<MemberRole>| -> Option<String> {
        units.iter().find_map(|unit| {
            memberships
                .iter()
                .filter(|m| {
                    m.unit == **unit && m.is_active_on(today) && role.is_none_or(|r| m.role == r)
                })
                .map(|m| m.employee_id.clone())
                .min()
        })
    };
    let line_units: Vec<&UnitRef> = units.iter().map(|(_, u)| &u.unit).collect();
    let lead_unit = [&lead.unit];
    pick(&line_units, Some(role))
        .or_else(|| pick(&line_units, None))
        .or_else(|| pick(&lead_unit, Some(MemberRole::UnitLead)))
        .or_else(|| pick(&lead_unit, None))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::coordination::ErrorKind;
    use crate::coordination::members::tests::member;
    use crate::coordination::rules::SlaSubject;
    use crate::coordination::rules::tests::{d, sla};
    use crate::coordination::shares::tests::{co, lead, unit, walkthrough_units};
    use crate::coordination::tasks::tests::calendar;
    use crate::org::BusinessLine::*;

    fn step(
        id: &str,
        line: Option<BusinessLine>,
        role: Option<MemberRole>,
        offset: i32,
    ) -> PlaybookStep {
        PlaybookStep {
            step_id: id.to_owned(),
            title: format!("step {id}"),
            description: String::new(),
            stage: Some(OpportunityStage::Preparation),
            owner_line: line,
            owner_role: role,
            due_offset_working_days: offset,
        }
    }

    /// A supply-chain finance playbook: visit the core enterprise (lead), screen suppliers
    /// (small business, 3 working days), payroll and cards for executives (retail, 5 days).
    pub(crate) fn scf_playbook() -> Playbook {
        Playbook {
            playbook_id: "scf".to_owned(),
            version: 2,
            name: "Supply-chain finance campaign".to_owned(),
            opportunity_type: Some(OpportunityType::SupplyChainFinance),
            steps: vec![
                step("visit-core", None, None, 0),
                step("screen-suppliers", Some(SmallBusiness), None, 3),
                step(
                    "executives-cards",
                    Some(Retail),
                    Some(MemberRole::CustomerManager),
                    5,
                ),
            ],
            active: true,
        }
    }

    #[test]
    fn playbook_validation() {
        scf_playbook().validate().unwrap();
        assert_eq!(scf_playbook().rule_ref().rule_kind, "playbook");
        let mut bad = scf_playbook();
        bad.name.clear();
        bad.opportunity_type = None;
        bad.steps[1].step_id = "visit-core".to_owned();
        bad.steps[2].title.clear();
        bad.steps[2].stage = Some(OpportunityStage::Lost);
        bad.steps[0].due_offset_working_days = -1;
        let err = bad.validate().unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "opportunity_type",
                "steps[0].due_offset_working_days",
                "steps[1].step_id",
                "steps[2].title",
                "steps[2].stage",
            ]
        );
        let mut empty = scf_playbook();
        empty.steps.clear();
        assert_eq!(empty.validate().unwrap_err().violations()[0].field, "steps");
    }

    fn shares() -> ShareSet {
        ShareSet::parse(walkthrough_units(), "units").unwrap()
    }

    #[test]
    fn instantiating_counts_working_days_from_the_start() {
        let cal = calendar();
        let s = shares();
        let ms = vec![
            member(
                "alice",
                unit("BJ01", Corporate),
                MemberRole::UnitLead,
                d(2025, 9, 1),
            ),
            member(
                "sam",
                unit("BJ01", SmallBusiness),
                MemberRole::UnitLead,
                d(2025, 9, 1),
            ),
            member(
                "rita",
                unit("BJ01", Retail),
                MemberRole::CustomerManager,
                d(2025, 9, 1),
            ),
            member(
                "ray",
                unit("BJ01", Retail),
                MemberRole::UnitLead,
                d(2025, 9, 1),
            ),
        ];
        let ctx = ApplyContext {
            stage: OpportunityStage::Preparation,
            opportunity_type: OpportunityType::SupplyChainFinance,
            shares: &s,
            memberships: &ms,
            start: d(2025, 9, 30),
            today: d(2025, 9, 30),
            calendar: &cal,
            sla_rules: &[],
        };
        let tasks = instantiate(&scf_playbook(), ctx).unwrap();
        let got: Vec<_> = tasks
            .iter()
            .map(|t| (t.step_id.as_str(), t.owner.as_str(), t.due_date))
            .collect();
        assert_eq!(
            got,
            [
                ("visit-core", "alice", d(2025, 9, 30)),
                // Oct 1–8 are holidays; Oct 11 is a make-up Saturday.
                ("screen-suppliers", "sam", d(2025, 10, 11)),
                ("executives-cards", "rita", d(2025, 10, 14)),
            ]
        );
        assert!(tasks.iter().all(|t| t.sla_rule.is_none()));
    }

    #[test]
    fn sla_rules_cap_steps_and_past_starts_are_refused() {
        let cal = calendar();
        let s = shares();
        let ms = vec![member(
            "alice",
            unit("BJ01", Corporate),
            MemberRole::UnitLead,
            d(2025, 9, 1),
        )];
        let rule = SlaRule {
            playbook_step_id: Some("executives-cards".to_owned()),
            ..sla("cards-green", SlaSubject::Task, 2)
        };
        let rules = [rule];
        let ctx = ApplyContext {
            stage: OpportunityStage::Execution,
            opportunity_type: OpportunityType::SupplyChainFinance,
            shares: &s,
            memberships: &ms,
            start: d(2025, 9, 30),
            today: d(2025, 9, 30),
            calendar: &cal,
            sla_rules: &rules,
        };
        let tasks = instantiate(&scf_playbook(), ctx).unwrap();
        // The retail step falls to the lead's unit lead (no retail member yet) and its
        // SLA of 2 working days from Sep 30 gives Oct 10.
        assert_eq!(tasks[2].owner, "alice");
        assert_eq!(tasks[2].due_date, d(2025, 10, 10));
        assert_eq!(tasks[2].sla_rule.as_ref().unwrap().rule_id, "cards-green");
        assert_eq!(tasks[1].sla_rule, None);
        let past = ApplyContext {
            start: d(2025, 9, 1),
            ..ctx
        };
        let err = instantiate(&scf_playbook(), past).unwrap_err();
        assert_eq!(err.violations()[0].field, "start_date");
        assert!(err.violations()[0].message.contains("visit-core"));
        // A start in the past is fine when every step still falls due today or later.
        let mut late = scf_playbook();
        late.steps.remove(0);
        let ok = ApplyContext {
            start: d(2025, 9, 29),
            ..ctx
        };
        assert!(instantiate(&late, ok).is_ok());
    }

    #[test]
    fn inactive_mismatched_terminal_and_ownerless() {
        let cal = calendar();
        let s = shares();
        let ms = vec![member(
            "alice",
            unit("BJ01", Corporate),
            MemberRole::UnitLead,
            d(2025, 9, 1),
        )];
        let ctx = ApplyContext {
            stage: OpportunityStage::Preparation,
            opportunity_type: OpportunityType::SupplyChainFinance,
            shares: &s,
            memberships: &ms,
            start: d(2025, 9, 30),
            today: d(2025, 9, 30),
            calendar: &cal,
            sla_rules: &[],
        };
        let mut off = scf_playbook();
        off.active = false;
        assert_eq!(
            instantiate(&off, ctx).unwrap_err().reason(),
            Some(Reason::PlaybookInactive)
        );
        let wrong = ApplyContext {
            opportunity_type: OpportunityType::MarketBatch,
            ..ctx
        };
        let err = instantiate(&scf_playbook(), wrong).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::PlaybookTypeMismatch));
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
        let closed = ApplyContext {
            stage: OpportunityStage::Closed,
            ..ctx
        };
        assert_eq!(
            instantiate(&scf_playbook(), closed).unwrap_err().reason(),
            Some(Reason::TerminalStage)
        );
        let nobody = ApplyContext {
            memberships: &[],
            ..ctx
        };
        assert_eq!(
            instantiate(&scf_playbook(), nobody).unwrap_err().reason(),
            Some(Reason::OwnerNotResolvable)
        );
    }

    #[test]
    fn owner_resolution_order() {
        let today = d(2025, 9, 30);
        let s = ShareSet::parse(
            vec![
                lead("BJ01", Corporate, 4000),
                co("BJ02", Retail, 2000),
                co("BJ01", Retail, 4000),
            ],
            "units",
        )
        .unwrap();
        let retail = step("r", Some(Retail), None, 0);
        let ms = vec![
            member(
                "zed",
                unit("BJ02", Retail),
                MemberRole::UnitLead,
                d(2025, 9, 1),
            ),
            member(
                "bea",
                unit("BJ01", Retail),
                MemberRole::Support,
                d(2025, 9, 1),
            ),
            member(
                "amy",
                unit("BJ01", Retail),
                MemberRole::UnitLead,
                d(2025, 9, 1),
            )
            .ended(d(2025, 9, 15)),
            member(
                "lee",
                unit("BJ01", Corporate),
                MemberRole::CustomerManager,
                d(2025, 9, 1),
            ),
        ];
        // Unit leads first across the line's units: BJ01/retail (4000) has none active, so the
        // BJ02/retail unit lead.
        assert_eq!(
            resolve_owner(&retail, &s, &ms, today).as_deref(),
            Some("zed")
        );
        // Without a unit lead anywhere in the line: any member of the bigger unit first.
        let no_leads: Vec<_> = ms[1..].to_vec();
        assert_eq!(
            resolve_owner(&retail, &s, &no_leads, today).as_deref(),
            Some("bea")
        );
        // A line with no unit: the lead unit's members.
        let wealth = step("w", Some(Wealth), None, 0);
        assert_eq!(
            resolve_owner(&wealth, &s, &ms, today).as_deref(),
            Some("lee")
        );
        assert_eq!(resolve_owner(&wealth, &s, &[], today), None);
    }
}
