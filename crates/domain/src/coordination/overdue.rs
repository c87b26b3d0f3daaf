//! What is overdue on a business date (DOMAIN.md §5 "Cadence rules … raise overdue alerts";
//! proto `ListOverdue`). Given the cadence and SLA rules, the customers with their kind, tiers,
//! A manager, owning branch and the day they entered the book, their activities, the open tasks
//! and the pending referrals, [`overdue`] returns:
//!
//! - **cadence breaches**: for each cadence rule in force today and each customer it selects,
//!   a breach when fewer than the minimum counted activities fall in the window. An activity on
//!   business date `d` is in the window while `d + window months ≥ today`. The due date is the
//!   k-th most recent counted activity's date plus the window (k the minimum), but never before
//!   the **anchor** plus the window, where the anchor is the later of the customer's entry into
//!   the book and the rule's start — a grace window for new customers and new rules. A
//!   qualifying customer with **no activity at all** is in breach once the anchor plus the window
//!   has passed. The A manager of the owning branch is responsible;
//! - **overdue tasks**: open or in progress past their due date, the owner responsible;
//! - **overdue referrals**: pending past the referral-response SLA in force on their creation
//!   date (working days from the creation date), the assignee (if any) at the receiving branch
//!   responsible.
//!
//! An item is overdue when today is after its due date; `working_days_overdue` counts the working
//! days after the due date up to today (0 on a weekend right after a Friday due date). Items come
//! most overdue first, then by kind and id. [`in_subtree`], [`count_by_responsible`] and
//! [`count_by_branch`] group them per manager and branch subtree.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Months, NaiveDate, Utc};

use super::activities::ActivityType;
use super::referrals::ReferralStatus;
use super::rules::{CadenceRule, RuleRef, SlaRule, in_force, referral_sla};
use super::tasks::{TaskStatus, is_overdue};
use crate::branch_tree::BranchTree;
use crate::calendar::BusinessCalendar;
use crate::customer::{CorporateTier, CustomerKind, WealthTier};
use crate::ids::{CustomerId, OpportunityId, ReferralId, TaskId};
use crate::org::{BranchCode, BusinessLine};

code_enum! {
    /// The kind of an overdue item (proto `OverdueKind`, same order).
    pub enum OverdueKind {
        /// A qualifying customer with too few activities in the window (possibly none ever).
        Cadence => "cadence",
        /// A task open or in progress past its due date.
        Task => "task",
        /// A pending referral past its response SLA.
        Referral => "referral",
    }
}

/// A customer as the cadence rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerFacts {
    /// The customer.
    pub customer: CustomerId,
    /// Its kind.
    pub kind: CustomerKind,
    /// Its corporate tier, if any.
    pub corporate_tier: Option<CorporateTier>,
    /// Its wealth tier, if any.
    pub wealth_tier: Option<WealthTier>,
    /// The primary (A) manager, responsible for its cadence.
    pub primary_manager: String,
    /// The owning branch.
    pub branch: BranchCode,
    /// The day it entered the book (creation or onboarding): the cadence anchor.
    pub since: NaiveDate,
}

/// An activity with a customer. Pass at least every activity within the longest cadence window
/// and the latest activity of each type per customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityFact {
    /// The customer.
    pub customer: CustomerId,
    /// The type.
    pub activity_type: ActivityType,
    /// When it started.
    pub start_time: DateTime<Utc>,
}

/// A task of an opportunity that may be overdue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskFact {
    /// The task.
    pub task: TaskId,
    /// Its opportunity.
    pub opportunity: OpportunityId,
    /// The owner, responsible.
    pub owner: String,
    /// The owner's branch.
    pub owner_branch: BranchCode,
    /// The opportunity's main target, if known.
    pub customer: Option<CustomerId>,
    /// The status.
    pub status: TaskStatus,
    /// The due date.
    pub due_date: NaiveDate,
    /// The SLA rule that set the due date, if any.
    pub sla_rule: Option<RuleRef>,
}

/// A referral that may be overdue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralFact {
    /// The referral.
    pub referral: ReferralId,
    /// The customer referred.
    pub customer: CustomerId,
    /// The status.
    pub status: ReferralStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The receiving branch.
    pub to_branch: BranchCode,
    /// The receiving line.
    pub to_line: BusinessLine,
    /// The assignee, if any.
    pub assignee: Option<String>,
}

/// Everything [`overdue`] looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct OverdueInputs<'a> {
    /// Cadence rules (every version; those in force today apply).
    pub cadence_rules: &'a [CadenceRule],
    /// SLA rules (every version; the referral rule in force on a referral's creation applies).
    pub sla_rules: &'a [SlaRule],
    /// The customers to check.
    pub customers: &'a [CustomerFacts],
    /// Their activities.
    pub activities: &'a [ActivityFact],
    /// Tasks (any status; only open ones can be overdue).
    pub tasks: &'a [TaskFact],
    /// Referrals (any status; only pending ones can be overdue).
    pub referrals: &'a [ReferralFact],
}

/// One overdue item (proto `OverdueItem`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueItem {
    /// The kind.
    pub kind: OverdueKind,
    /// The employee responsible: the A manager, the task owner or the referral's assignee
    /// (`None` for an unassigned queue).
    pub responsible: Option<String>,
    /// The responsible branch.
    pub branch: BranchCode,
    /// The customer concerned, if any.
    pub customer: Option<CustomerId>,
    /// TASK: the task.
    pub task: Option<TaskId>,
    /// REFERRAL: the referral.
    pub referral: Option<ReferralId>,
    /// TASK: the opportunity.
    pub opportunity: Option<OpportunityId>,
    /// The rule breached, if any.
    pub rule: Option<RuleRef>,
    /// The day it fell due.
    pub due_date: NaiveDate,
    /// Working days past due.
    pub working_days_overdue: i64,
    /// CADENCE: the last counted activity; `None` when there never was one.
    pub last_activity: Option<DateTime<Utc>>,
    /// CADENCE: counted activities in the window.
    pub activities_in_window: u32,
    /// CADENCE: the minimum required.
    pub required_activities: u32,
    /// A sentence for the manager.
    pub description: String,
}

impl OverdueItem {
    /// A stable id of the item within its kind, for ordering and paging.
    pub fn sort_id(&self) -> String {
        match self.kind {
            OverdueKind::Cadence => format!(
                "{}:{}",
                self.customer.map(|c| c.to_string()).unwrap_or_default(),
                self.rule.as_ref().map_or("", |r| r.rule_id.as_str())
            ),
            OverdueKind::Task => self.task.map(|t| t.to_string()).unwrap_or_default(),
            OverdueKind::Referral => self.referral.map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

/// Everything overdue on `today`, most overdue first (working days, then calendar days), then by
/// kind and id.
pub fn overdue(
    inputs: &OverdueInputs<'_>,
    today: NaiveDate,
    calendar: &BusinessCalendar,
) -> Vec<OverdueItem> {
    let mut items = cadence_breaches(inputs, today, calendar);
    items.extend(overdue_tasks(inputs.tasks, today, calendar));
    items.extend(overdue_referrals(
        inputs.referrals,
        inputs.sla_rules,
        today,
        calendar,
    ));
    items.sort_by_cached_key(|i| {
        (
            Reverse(i.working_days_overdue),
            i.due_date,
            i.kind,
            i.sort_id(),
        )
    });
    items
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The cadence breaches on `today` (see the module documentation).
pub fn cadence_breaches(
    inputs: &OverdueInputs<'_>,
    today: NaiveDate,
    calendar: &BusinessCalendar,
) -> Vec<OverdueItem> {
    let rules = in_force(inputs.cadence_rules, today);
    if rules.is_empty() {
        return Vec::new();
    }
    let mut by_customer: BTreeMap<CustomerId, Vec<(NaiveDate, DateTime<Utc>, ActivityType)>> =
        BTreeMap::new();
    for a in inputs.activities {
        let day = calendar.business_date(a.start_time);
        if day <= today {
            by_customer
                .entry(a.customer)
                .or_default()
                .push((day, a.start_time, a.activity_type));
        }
    }
    for list in by_customer.values_mut() {
        list.sort_by_key(|(_, at, _)| Reverse(*at));
    }
    let mut items = Vec::new();
    for c in inputs.customers {
        let history = by_customer.get(&c.customer).map_or(&[][..], Vec::as_slice);
        for rule in rules
            .iter()
            .filter(|r| r.applies_to(c.kind, c.corporate_tier, c.wealth_tier))
        {
            let window = Months::new(rule.window());
            let required = rule.required();
            let counted: Vec<&(NaiveDate, DateTime<Utc>, ActivityType)> =
                history.iter().filter(|(_, _, t)| rule.counts(*t)).collect();
            let in_window = counted
                .iter()
                .filter(|(d, _, _)| d.checked_add_months(window).is_none_or(|end| end >= today))
                .count();
            let in_window = u32::try_from(in_window).unwrap_or(u32::MAX);
            let anchor = c.since.max(rule.effective.from);
            let kth = usize::try_from(required - 1)
                .ok()
                .and_then(|k| counted.get(k))
                .map(|(d, _, _)| *d);
            let base = kth.map_or(anchor, |d| d.max(anchor));
            let Some(due) = base.checked_add_months(window) else {
                continue;
            };
            if today <= due {
                continue;
            }
            let last = counted.first().map(|(_, at, _)| *at);
            let last_text = last.map_or_else(
                || "never had one".to_owned(),
                |at| format!("last on {}", calendar.business_date(at)),
            );
            let kinds = if rule.counted_types.is_empty() {
                "visit".to_owned()
            } else {
                rule.counted_types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join("/")
            };
            items.push(OverdueItem {
                kind: OverdueKind::Cadence,
                responsible: Some(c.primary_manager.clone()),
                branch: c.branch.clone(),
                customer: Some(c.customer),
                task: None,
                referral: None,
                opportunity: None,
                rule: Some(rule.rule_ref()),
                due_date: due,
                working_days_overdue: calendar.working_days_between(due, today),
                last_activity: last,
                activities_in_window: in_window,
                required_activities: required,
                description: format!(
                    "customer {} had {} in the last {} (at least {} required by \"{}\"); {}",
                    c.customer,
                    plural(
                        in_window,
                        &format!("{kinds} activity"),
                        &format!("{kinds} activities")
                    ),
                    plural(rule.window(), "month", "months"),
                    required,
                    rule.name,
                    last_text
                ),
            });
        }
    }
    items
}

/// The tasks overdue on `today`.
pub fn overdue_tasks(
    tasks: &[TaskFact],
    today: NaiveDate,
    calendar: &BusinessCalendar,
) -> Vec<OverdueItem> {
    tasks
        .iter()
        .filter(|t| is_overdue(t.status, t.due_date, today))
        .map(|t| OverdueItem {
            kind: OverdueKind::Task,
            responsible: Some(t.owner.clone()),
            branch: t.owner_branch.clone(),
            customer: t.customer,
            task: Some(t.task),
            referral: None,
            opportunity: Some(t.opportunity),
            rule: t.sla_rule.clone(),
            due_date: t.due_date,
            working_days_overdue: calendar.working_days_between(t.due_date, today),
            last_activity: None,
            activities_in_window: 0,
            required_activities: 0,
            description: format!(
                "task {} of opportunity {} was due on {} and is still {}",
                t.task, t.opportunity, t.due_date, t.status
            ),
        })
        .collect()
}

/// The pending referrals past their response SLA on `today`.
pub fn overdue_referrals(
    referrals: &[ReferralFact],
    sla_rules: &[SlaRule],
    today: NaiveDate,
    calendar: &BusinessCalendar,
) -> Vec<OverdueItem> {
    referrals
        .iter()
        .filter(|r| r.status == ReferralStatus::Pending)
        .filter_map(|r| {
            let created = calendar.business_date(r.created_at);
            let rule = referral_sla(sla_rules, created)?;
            let due = calendar.add_working_days(created, rule.days()).ok()?;
            (today > due).then(|| OverdueItem {
                kind: OverdueKind::Referral,
                responsible: r.assignee.clone(),
                branch: r.to_branch.clone(),
                customer: Some(r.customer),
                task: None,
                referral: Some(r.referral),
                opportunity: None,
                rule: Some(rule.rule_ref()),
                due_date: due,
                working_days_overdue: calendar.working_days_between(due, today),
                last_activity: None,
                activities_in_window: 0,
                required_activities: 0,
                description: format!(
                    "referral {} to {} at {} should have been answered by {} ({} working days)",
                    r.referral,
                    r.to_line,
                    r.to_branch,
                    due,
                    rule.days()
                ),
            })
        })
        .collect()
}

/// The items whose responsible branch is in `root`'s subtree.
pub fn in_subtree<'a>(
    items: &'a [OverdueItem],
    tree: &BranchTree,
    root: &BranchCode,
) -> Vec<&'a OverdueItem> {
    items
        .iter()
        .filter(|i| tree.is_in_subtree(&i.branch, root))
        .collect()
}

/// The number of items per responsible employee (`""` for an unassigned queue).
pub fn count_by_responsible(items: &[OverdueItem]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for i in items {
        *counts
            .entry(i.responsible.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    counts
}

/// The number of items per branch subtree: each item counts at its branch and at every ancestor
/// up to head office (branches unknown to the tree count only at themselves).
pub fn count_by_branch(items: &[OverdueItem], tree: &BranchTree) -> BTreeMap<BranchCode, usize> {
    let mut counts = BTreeMap::new();
    for i in items {
        let chain = tree
            .chain(&i.branch)
            .unwrap_or_else(|_| vec![i.branch.clone()]);
        for b in chain.into_iter().collect::<BTreeSet<_>>() {
            *counts.entry(b).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::members::tests::tree;
    use crate::coordination::rules::SlaSubject;
    use crate::coordination::rules::tests::{d, monthly_visits, sla};
    use crate::coordination::shares::tests::code;
    use crate::coordination::tasks::tests::calendar;
    use crate::pricing::EffectiveRange;
    use chrono::TimeZone;

    /// 10:00 in Shanghai on the day.
    fn at(day: NaiveDate) -> DateTime<Utc> {
        Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap())
    }

    fn large(since: NaiveDate) -> CustomerFacts {
        CustomerFacts {
            customer: CustomerId::new(),
            kind: CustomerKind::Corporate,
            corporate_tier: Some(CorporateTier::Tier1Branch),
            wealth_tier: None,
            primary_manager: "alice".to_owned(),
            branch: code("BJ01"),
            since,
        }
    }

    fn visit(c: &CustomerFacts, day: NaiveDate) -> ActivityFact {
        ActivityFact {
            customer: c.customer,
            activity_type: ActivityType::Visit,
            start_time: at(day),
        }
    }

    #[test]
    fn a_qualifying_customer_with_no_activity_at_all_is_a_breach() {
        let cal = calendar();
        let rules = [monthly_visits()];
        let never = large(d(2025, 1, 15));
        let customers = [never.clone()];
        let inputs = OverdueInputs {
            cadence_rules: &rules,
            customers: &customers,
            ..OverdueInputs::default()
        };
        // Anchor Jan 15 + 1 month = Feb 15: due that day, overdue from Feb 16.
        assert!(overdue(&inputs, d(2025, 2, 15), &cal).is_empty());
        let items = overdue(&inputs, d(2025, 2, 17), &cal);
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.kind, OverdueKind::Cadence);
        assert_eq!(item.customer, Some(never.customer));
        assert_eq!(item.responsible.as_deref(), Some("alice"));
        assert_eq!(item.branch, code("BJ01"));
        assert_eq!(item.due_date, d(2025, 2, 15));
        assert_eq!(item.working_days_overdue, 1, "Sat 15 → Mon 17");
        assert_eq!(item.last_activity, None);
        assert_eq!(
            (item.activities_in_window, item.required_activities),
            (0, 1)
        );
        assert_eq!(item.rule.as_ref().unwrap().rule_id, "large-monthly");
        assert!(
            item.description.contains("never had one"),
            "{}",
            item.description
        );
        assert!(
            item.description
                .contains("0 visit activities in the last 1 month")
        );
    }

    #[test]
    fn a_visit_in_the_window_keeps_the_customer_in_cadence() {
        let cal = calendar();
        let rules = [monthly_visits()];
        let c = large(d(2024, 6, 1));
        let customers = [c.clone()];
        let activities = [visit(&c, d(2025, 3, 5))];
        let inputs = OverdueInputs {
            cadence_rules: &rules,
            customers: &customers,
            activities: &activities,
            ..OverdueInputs::default()
        };
        assert!(overdue(&inputs, d(2025, 4, 5), &cal).is_empty());
        let items = overdue(&inputs, d(2025, 4, 7), &cal);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due_date, d(2025, 4, 5));
        assert_eq!(items[0].last_activity, Some(at(d(2025, 3, 5))));
        assert!(items[0].description.contains("last on 2025-03-05"));
        // Calls do not count for a visit rule; a future-dated visit does not either.
        let calls = [
            ActivityFact {
                activity_type: ActivityType::Call,
                ..visit(&c, d(2025, 4, 6))
            },
            visit(&c, d(2025, 4, 20)),
        ];
        let with_calls = OverdueInputs {
            activities: &calls,
            ..inputs
        };
        let items = overdue(&with_calls, d(2025, 4, 7), &cal);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].last_activity, None);
    }

    #[test]
    fn the_minimum_counts_the_kth_most_recent_activity() {
        let cal = calendar();
        let rule = CadenceRule {
            min_activities: 2,
            window_months: 3,
            counted_types: vec![ActivityType::Visit, ActivityType::Call],
            ..monthly_visits()
        };
        let rules = [rule];
        let c = large(d(2024, 1, 1));
        let customers = [c.clone()];
        let activities = [
            visit(&c, d(2025, 1, 10)),
            ActivityFact {
                activity_type: ActivityType::Call,
                ..visit(&c, d(2025, 2, 20))
            },
        ];
        let inputs = OverdueInputs {
            cadence_rules: &rules,
            customers: &customers,
            activities: &activities,
            ..OverdueInputs::default()
        };
        // The 2nd most recent (Jan 10) leaves the 3-month window after Apr 10.
        assert!(overdue(&inputs, d(2025, 4, 10), &cal).is_empty());
        let items = overdue(&inputs, d(2025, 4, 11), &cal);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due_date, d(2025, 4, 10));
        assert_eq!(
            (items[0].activities_in_window, items[0].required_activities),
            (1, 2)
        );
        assert_eq!(items[0].last_activity, Some(at(d(2025, 2, 20))));
    }

    #[test]
    fn new_customers_new_rules_and_unselected_customers() {
        let cal = calendar();
        let rules = [CadenceRule {
            effective: EffectiveRange::starting(d(2025, 3, 1)),
            ..monthly_visits()
        }];
        let old = large(d(2020, 1, 1));
        let small = CustomerFacts {
            corporate_tier: Some(CorporateTier::SubBranch),
            ..large(d(2020, 1, 1))
        };
        let individual = CustomerFacts {
            kind: CustomerKind::Individual,
            corporate_tier: None,
            wealth_tier: Some(WealthTier::PrivateBanking),
            ..large(d(2020, 1, 1))
        };
        let customers = [old, small, individual];
        let inputs = OverdueInputs {
            cadence_rules: &rules,
            customers: &customers,
            ..OverdueInputs::default()
        };
        // The rule started Mar 1: grace until Apr 1, whatever the history.
        assert!(overdue(&inputs, d(2025, 4, 1), &cal).is_empty());
        let items = overdue(&inputs, d(2025, 4, 2), &cal);
        assert_eq!(
            items.len(),
            1,
            "only the large corporate customer qualifies"
        );
        assert_eq!(items[0].customer, Some(customers[0].customer));
        // No rule in force: nothing.
        assert!(overdue(&inputs, d(2025, 2, 1), &cal).is_empty());
    }

    fn task(status: TaskStatus, due: NaiveDate, owner: &str, branch: &str) -> TaskFact {
        TaskFact {
            task: TaskId::new(),
            opportunity: OpportunityId::new(),
            owner: owner.to_owned(),
            owner_branch: code(branch),
            customer: None,
            status,
            due_date: due,
            sla_rule: None,
        }
    }

    #[test]
    fn tasks_appear_once_today_passes_their_due_date() {
        let cal = calendar();
        let tasks = [
            task(TaskStatus::Open, d(2025, 9, 30), "sam", "BJ01"),
            task(TaskStatus::InProgress, d(2025, 9, 29), "rita", "BJ0101"),
            task(TaskStatus::Done, d(2025, 9, 1), "sam", "BJ01"),
        ];
        let inputs = OverdueInputs {
            tasks: &tasks,
            ..OverdueInputs::default()
        };
        assert_eq!(overdue(&inputs, d(2025, 9, 29), &cal).len(), 0);
        let items = overdue(&inputs, d(2025, 9, 30), &cal);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].responsible.as_deref(), Some("rita"));
        assert_eq!(items[0].working_days_overdue, 1);
        // Over the National Day holidays the working days stand still.
        let items = overdue(&inputs, d(2025, 10, 8), &cal);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].task, Some(tasks[1].task), "most overdue first");
        assert_eq!(items[0].working_days_overdue, 1);
        assert_eq!(items[1].working_days_overdue, 0);
        let items = overdue(&inputs, d(2025, 10, 9), &cal);
        assert_eq!(
            items
                .iter()
                .map(|i| i.working_days_overdue)
                .collect::<Vec<_>>(),
            [2, 1]
        );
        assert!(items[0].description.contains("in_progress"));
    }

    #[test]
    fn referrals_past_their_response_sla() {
        let cal = calendar();
        let rules = [sla("answer", SlaSubject::ReferralResponse, 2)];
        let pending = ReferralFact {
            referral: ReferralId::new(),
            customer: CustomerId::new(),
            status: ReferralStatus::Pending,
            created_at: at(d(2025, 9, 26)),
            to_branch: code("BJ01"),
            to_line: BusinessLine::Retail,
            assignee: None,
        };
        let accepted = ReferralFact {
            referral: ReferralId::new(),
            status: ReferralStatus::Accepted,
            ..pending.clone()
        };
        let referrals = [pending.clone(), accepted];
        let inputs = OverdueInputs {
            sla_rules: &rules,
            referrals: &referrals,
            ..OverdueInputs::default()
        };
        // Fri Sep 26 + 2 working days = Mon Sep 29 (Sun 28 is a make-up day): due Sep 29.
        assert!(overdue(&inputs, d(2025, 9, 29), &cal).is_empty());
        let items = overdue(&inputs, d(2025, 9, 30), &cal);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].kind, OverdueKind::Referral);
        assert_eq!(items[0].due_date, d(2025, 9, 29));
        assert_eq!(items[0].responsible, None);
        assert_eq!(items[0].referral, Some(pending.referral));
        assert_eq!(items[0].rule.as_ref().unwrap().rule_kind, "sla_rule");
        // Without a rule there is no SLA.
        let none = OverdueInputs {
            sla_rules: &[],
            ..inputs
        };
        assert!(overdue(&none, d(2025, 12, 1), &cal).is_empty());
    }

    #[test]
    fn grouping_per_manager_and_branch_subtree() {
        let cal = calendar();
        let tasks = [
            task(TaskStatus::Open, d(2025, 9, 1), "sam", "BJ01"),
            task(TaskStatus::Open, d(2025, 9, 2), "rita", "BJ0101"),
            task(TaskStatus::Open, d(2025, 9, 3), "sue", "SH01"),
        ];
        let inputs = OverdueInputs {
            tasks: &tasks,
            ..OverdueInputs::default()
        };
        let items = overdue(&inputs, d(2025, 9, 30), &cal);
        let t = tree();
        assert_eq!(in_subtree(&items, &t, &code("BJ01")).len(), 2);
        assert_eq!(in_subtree(&items, &t, &code("BJ0101")).len(), 1);
        assert_eq!(in_subtree(&items, &t, &code("HQ")).len(), 3);
        let per = count_by_responsible(&items);
        assert_eq!(per.get("rita"), Some(&1));
        let by_branch = count_by_branch(&items, &t);
        assert_eq!(by_branch.get(&code("HQ")), Some(&3));
        assert_eq!(by_branch.get(&code("BJ")), Some(&2));
        assert_eq!(by_branch.get(&code("BJ01")), Some(&2));
        assert_eq!(by_branch.get(&code("BJ0101")), Some(&1));
        assert_eq!(by_branch.get(&code("SH")), Some(&1));
        assert_eq!(by_branch.get(&code("BJ02")), None);
    }

    #[test]
    fn ordering_is_most_overdue_then_kind_then_id() {
        let cal = calendar();
        let rules = [monthly_visits()];
        let c = large(d(2025, 8, 29));
        let customers = [c];
        let tasks = [task(TaskStatus::Open, d(2025, 9, 29), "sam", "BJ01")];
        let inputs = OverdueInputs {
            cadence_rules: &rules,
            customers: &customers,
            tasks: &tasks,
            ..OverdueInputs::default()
        };
        // Both fall due Sep 29 (Aug 29 + 1 month): same lateness, cadence before task.
        let items = overdue(&inputs, d(2025, 9, 30), &cal);
        let kinds: Vec<_> = items.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, [OverdueKind::Cadence, OverdueKind::Task]);
        assert_eq!(items[0].working_days_overdue, items[1].working_days_overdue);
    }
}
