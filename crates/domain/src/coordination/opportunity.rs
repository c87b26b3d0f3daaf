//! The "five fixes" (五定) content of an opportunity (DOMAIN.md §5): its header — name, type, main
//! target, goal, plan and schedule ([`OpportunityDraft`]) —, its linked targets (not the main
//! target, no duplicates, bounded; [`check_new_linked_targets`], [`check_removal`]), the customer
//! needs statement (客户需求说明书, [`NeedsStatement`]) and the solution quote, which must be of the
//! main target, usable (not rejected, expired or superseded) and set in preparation or execution
//! ([`check_solution_quote`]). Field paths are relative to the `Opportunity` message.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::stage::{OpportunityStage, OpportunityType};
use super::{CoordinationError, Reason, Violations};
use crate::ids::CustomerId;
use crate::money::{Currency, Money};
use crate::org::BusinessLine;
pub use crate::pricing::QuoteStatus;

/// The most characters of an opportunity's name.
pub const MAX_NAME_CHARS: usize = 200;
/// The most characters of a plan.
pub const MAX_PLAN_CHARS: usize = 10_000;
/// The most characters of a goal's description.
pub const MAX_GOAL_DESCRIPTION_CHARS: usize = 2_000;
/// The most product goals.
pub const MAX_GOAL_ITEMS: usize = 100;
/// The most linked targets added in one call (AddLinkedTargets).
pub const MAX_LINKED_TARGETS_PER_CALL: usize = 200;
/// The most linked targets of one opportunity.
pub const MAX_LINKED_TARGETS: usize = 1_000;
/// The most characters of a needs statement's summary.
pub const MAX_SUMMARY_CHARS: usize = 5_000;
/// The most characters of one need's description.
pub const MAX_NEED_DESCRIPTION_CHARS: usize = 2_000;
/// The most needs in a statement.
pub const MAX_NEEDS: usize = 100;

/// Whether a quote in `status` may become (or stay) the solution: not rejected, expired or
/// superseded. (The status is pricing's [`QuoteStatus`], read from the pricing service; apply
/// [`QuoteStatus::effective`] for a quote past its expiry first.)
pub const fn quote_usable(status: QuoteStatus) -> bool {
    matches!(
        status,
        QuoteStatus::Draft | QuoteStatus::PendingApproval | QuoteStatus::Approved
    )
}

/// One product goal (proto `GoalItem`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalItem {
    /// The product. Required.
    pub product_id: String,
    /// The line that sells it.
    pub line: Option<BusinessLine>,
    /// Expected volume or balance; not negative.
    pub expected_volume: Option<Money>,
    /// Expected annual revenue; not negative.
    pub expected_revenue: Option<Money>,
}

/// The goal (proto `Goal`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Goal {
    /// Product goals, at most [`MAX_GOAL_ITEMS`].
    pub items: Vec<GoalItem>,
    /// Total expected annual revenue, in CNY; not negative.
    pub expected_revenue: Option<Money>,
    /// Free text, at most [`MAX_GOAL_DESCRIPTION_CHARS`].
    pub description: String,
}

/// The header of an opportunity as created or updated (after a field mask is applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpportunityDraft {
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// The type. Required.
    pub opportunity_type: Option<OpportunityType>,
    /// The main target.
    pub target: CustomerId,
    /// The linked targets (at creation).
    pub linked_targets: Vec<CustomerId>,
    /// The goal.
    pub goal: Goal,
    /// The plan, at most 10,000 characters.
    pub plan: String,
    /// Planned start.
    pub start_date: Option<NaiveDate>,
    /// Planned close; not before the start.
    pub target_close_date: Option<NaiveDate>,
}

impl OpportunityDraft {
    /// Checks every field: `name`, `opportunity_type`, `linked_targets[i].customer_id`,
    /// `goal.items[i].…`, `goal.expected_revenue`, `goal.description`, `plan`,
    /// `target_close_date`.
    pub fn validate(&self) -> Result<(), CoordinationError> {
        let mut v = Violations::default();
        v.text("name", &self.name, true, MAX_NAME_CHARS);
        if self.opportunity_type.is_none() {
            v.add("opportunity_type", "is required");
        }
        linked_targets(
            &mut v,
            "linked_targets",
            self.target,
            &[],
            &self.linked_targets,
            MAX_LINKED_TARGETS,
        );
        goal(&mut v, &self.goal);
        v.text("plan", &self.plan, false, MAX_PLAN_CHARS);
        if let (Some(start), Some(close)) = (self.start_date, self.target_close_date)
            && close < start
        {
            v.add(
                "target_close_date",
                format!("must not be before the start date {start}"),
            );
        }
        v.finish()
    }
}

fn goal(v: &mut Violations, goal: &Goal) {
    if goal.items.len() > MAX_GOAL_ITEMS {
        v.add(
            "goal.items",
            format!("has {} items; at most {MAX_GOAL_ITEMS}", goal.items.len()),
        );
    }
    for (i, item) in goal.items.iter().enumerate() {
        if item.product_id.trim().is_empty() {
            v.add(format!("goal.items[{i}].product_id"), "is required");
        }
        for (name, amount) in [
            ("expected_volume", item.expected_volume),
            ("expected_revenue", item.expected_revenue),
        ] {
            if amount.is_some_and(|m| m.is_negative()) {
                v.add(format!("goal.items[{i}].{name}"), "must not be negative");
            }
        }
    }
    if let Some(total) = goal.expected_revenue {
        if total.currency() != Currency::CNY {
            v.add(
                "goal.expected_revenue",
                format!("must be in CNY, not {}", total.currency().as_str()),
            );
        }
        if total.is_negative() {
            v.add("goal.expected_revenue", "must not be negative");
        }
    }
    v.text(
        "goal.description",
        &goal.description,
        false,
        MAX_GOAL_DESCRIPTION_CHARS,
    );
}

fn linked_targets(
    v: &mut Violations,
    list: &str,
    main: CustomerId,
    existing: &[CustomerId],
    new: &[CustomerId],
    max_new: usize,
) {
    if new.len() > max_new {
        v.add(
            list,
            format!("has {} targets; at most {max_new}", new.len()),
        );
    }
    if existing.len() + new.len() > MAX_LINKED_TARGETS {
        v.add(
            list,
            format!(
                "would give the opportunity {} linked targets; at most {MAX_LINKED_TARGETS}",
                existing.len() + new.len()
            ),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, c) in new.iter().enumerate() {
        let field = format!("{list}[{i}].customer_id");
        if *c == main {
            v.add(
                field,
                "is the main target; it cannot also be a linked target",
            );
        } else if existing.contains(c) {
            v.add(field, format!("{c} is already a linked target"));
        } else if !seen.insert(*c) {
            v.add(field, format!("repeats {c}"));
        }
    }
}

/// Checks linked targets to add to an opportunity (AddLinkedTargets, field `targets`): 1 to 200,
/// none the main target, none already linked, none twice.
pub fn check_new_linked_targets(
    main: CustomerId,
    existing: &[CustomerId],
    new: &[CustomerId],
) -> Result<(), CoordinationError> {
    let mut v = Violations::default();
    if new.is_empty() {
        v.add("targets", "name at least one customer to add");
    }
    linked_targets(
        &mut v,
        "targets",
        main,
        existing,
        new,
        MAX_LINKED_TARGETS_PER_CALL,
    );
    v.finish()
}

/// Checks that `customer` may be removed as a linked target: never the main target (field
/// `customer_id`). Whether it is a linked target at all is the service's `NOT_FOUND`.
pub fn check_removal(main: CustomerId, customer: CustomerId) -> Result<(), CoordinationError> {
    if customer == main {
        Err(CoordinationError::invalid(
            "customer_id",
            "is the main target, which cannot be removed",
        ))
    } else {
        Ok(())
    }
}

/// One need of the customer (proto `CustomerNeed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerNeed {
    /// Id unique within the statement. Required.
    pub need_id: String,
    /// Category, e.g. "financing". Required, at most 64 characters.
    pub category: String,
    /// The need in the customer's words. Required, at most 2,000 characters.
    pub description: String,
    /// Priority, 1 (highest) to 5.
    pub priority: i32,
    /// Products that could meet it.
    pub product_ids: Vec<String>,
}

/// The customer needs statement (客户需求说明书).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeedsStatement {
    /// Summary, at most 5,000 characters.
    pub summary: String,
    /// The needs, at most 100.
    pub needs: Vec<CustomerNeed>,
}

impl NeedsStatement {
    /// Checks the statement (paths relative to `needs_statement`): `summary`, `needs`,
    /// `needs[i].need_id` (required, unique), `needs[i].category`, `needs[i].description`,
    /// `needs[i].priority` (1 to 5), `needs[i].product_ids[j]` (not blank).
    pub fn validate(&self) -> Result<(), CoordinationError> {
        let mut v = Violations::default();
        v.text("summary", &self.summary, false, MAX_SUMMARY_CHARS);
        if self.needs.len() > MAX_NEEDS {
            v.add(
                "needs",
                format!("has {} needs; at most {MAX_NEEDS}", self.needs.len()),
            );
        }
        let mut ids = BTreeSet::new();
        for (i, need) in self.needs.iter().enumerate() {
            let at = |name: &str| format!("needs[{i}].{name}");
            if need.need_id.trim().is_empty() {
                v.add(at("need_id"), "is required");
            } else if !ids.insert(need.need_id.as_str()) {
                v.add(at("need_id"), format!("repeats {:?}", need.need_id));
            }
            v.text(&at("category"), &need.category, true, 64);
            v.text(
                &at("description"),
                &need.description,
                true,
                MAX_NEED_DESCRIPTION_CHARS,
            );
            if !(1..=5).contains(&need.priority) {
                v.add(
                    at("priority"),
                    format!("must be 1 (highest) to 5, not {}", need.priority),
                );
            }
            for (j, p) in need.product_ids.iter().enumerate() {
                if p.trim().is_empty() {
                    v.add(format!("needs[{i}].product_ids[{j}]"), "is blank");
                }
            }
        }
        v.finish()
    }

    /// Whether the statement says anything (a summary or at least one need).
    pub fn is_empty(&self) -> bool {
        self.summary.trim().is_empty() && self.needs.is_empty()
    }
}

/// Checks a quote as the opportunity's solution: the stage must be preparation or execution
/// ([`Reason::WrongStage`], or [`Reason::TerminalStage`]), the quote must be of the main target
/// ([`Reason::QuoteOfAnotherCustomer`]) and usable ([`Reason::QuoteNotUsable`]).
pub fn check_solution_quote(
    stage: OpportunityStage,
    target: CustomerId,
    quote_customer: CustomerId,
    status: QuoteStatus,
) -> Result<(), CoordinationError> {
    super::stage::check_open(stage)?;
    if !matches!(
        stage,
        OpportunityStage::Preparation | OpportunityStage::Execution
    ) {
        return Err(CoordinationError::refused(
            Reason::WrongStage,
            format!("the solution is set in preparation or execution; the opportunity is {stage}"),
        ));
    }
    if quote_customer != target {
        return Err(CoordinationError::refused(
            Reason::QuoteOfAnotherCustomer,
            format!(
                "the quote is of customer {quote_customer}, not the opportunity's main target \
                 {target}"
            ),
        ));
    }
    if !quote_usable(status) {
        return Err(CoordinationError::refused(
            Reason::QuoteNotUsable,
            format!("the quote is {status} and cannot be the solution"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::ErrorKind;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    fn draft() -> OpportunityDraft {
        OpportunityDraft {
            name: "Supply chain of Huaxin Steel".to_owned(),
            opportunity_type: Some(OpportunityType::SupplyChainFinance),
            target: CustomerId::new(),
            linked_targets: vec![CustomerId::new(), CustomerId::new()],
            goal: Goal {
                items: vec![GoalItem {
                    product_id: "P-SCF".to_owned(),
                    line: Some(BusinessLine::SmallBusiness),
                    expected_volume: Some(Money::from_minor(Currency::CNY, 100_000_000)),
                    expected_revenue: Some(Money::from_minor(Currency::CNY, 1_000_000)),
                }],
                expected_revenue: Some(Money::from_minor(Currency::CNY, 1_000_000)),
                description: "supplier financing".to_owned(),
            },
            plan: "visit the core enterprise".to_owned(),
            start_date: Some(day(3)),
            target_close_date: Some(day(31)),
        }
    }

    fn fields(err: CoordinationError) -> Vec<String> {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err:?}");
        err.violations().iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn a_good_draft_passes() {
        draft().validate().unwrap();
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut d = draft();
        d.name = " ".to_owned();
        d.opportunity_type = None;
        d.linked_targets.push(d.target);
        d.linked_targets.push(d.linked_targets[0]);
        d.goal.items[0].product_id.clear();
        d.goal.items[0].expected_revenue = Some(Money::from_minor(Currency::CNY, -1));
        d.goal.expected_revenue = Some(Money::from_minor(Currency::USD, 5));
        d.plan = "p".repeat(MAX_PLAN_CHARS + 1);
        d.target_close_date = Some(day(2));
        assert_eq!(
            fields(d.validate().unwrap_err()),
            [
                "name",
                "opportunity_type",
                "linked_targets[2].customer_id",
                "linked_targets[3].customer_id",
                "goal.items[0].product_id",
                "goal.items[0].expected_revenue",
                "goal.expected_revenue",
                "plan",
                "target_close_date",
            ]
        );
        let mut long = draft();
        long.name = "名".repeat(201);
        assert_eq!(fields(long.validate().unwrap_err()), ["name"]);
    }

    #[test]
    fn linked_targets_added_later() {
        let main = CustomerId::new();
        let a = CustomerId::new();
        let b = CustomerId::new();
        assert!(check_new_linked_targets(main, &[a], &[b]).is_ok());
        assert_eq!(
            fields(check_new_linked_targets(main, &[a], &[]).unwrap_err()),
            ["targets"]
        );
        assert_eq!(
            fields(check_new_linked_targets(main, &[a], &[b, a, main, b]).unwrap_err()),
            [
                "targets[1].customer_id",
                "targets[2].customer_id",
                "targets[3].customer_id"
            ]
        );
        let many: Vec<_> = (0..201).map(|_| CustomerId::new()).collect();
        assert_eq!(
            fields(check_new_linked_targets(main, &[], &many).unwrap_err()),
            ["targets"]
        );
        assert_eq!(
            fields(check_removal(main, main).unwrap_err()),
            ["customer_id"]
        );
        assert!(check_removal(main, a).is_ok());
    }

    #[test]
    fn needs_statements() {
        let need = |id: &str, priority| CustomerNeed {
            need_id: id.to_owned(),
            category: "financing".to_owned(),
            description: "working capital for suppliers".to_owned(),
            priority,
            product_ids: vec!["P-SCF".to_owned()],
        };
        let good = NeedsStatement {
            summary: "needs supplier finance".to_owned(),
            needs: vec![need("n1", 1), need("n2", 5)],
        };
        good.validate().unwrap();
        assert!(!good.is_empty());
        assert!(NeedsStatement::default().is_empty());
        let mut bad = good.clone();
        bad.needs.push(need("n1", 0));
        bad.needs.push(need(" ", 6));
        bad.needs[0].product_ids.push(String::new());
        bad.needs[1].description.clear();
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            [
                "needs[0].product_ids[1]",
                "needs[1].description",
                "needs[2].need_id",
                "needs[2].priority",
                "needs[3].need_id",
                "needs[3].priority",
            ]
        );
    }

    #[test]
    fn the_solution_quote_must_be_of_the_target_usable_and_timely() {
        let target = CustomerId::new();
        let other = CustomerId::new();
        use OpportunityStage::*;
        assert!(check_solution_quote(Preparation, target, target, QuoteStatus::Draft).is_ok());
        assert!(check_solution_quote(Execution, target, target, QuoteStatus::Approved).is_ok());
        let err =
            check_solution_quote(Execution, target, other, QuoteStatus::Approved).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::QuoteOfAnotherCustomer));
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
        for status in [
            QuoteStatus::Rejected,
            QuoteStatus::Expired,
            QuoteStatus::Superseded,
        ] {
            assert_eq!(
                check_solution_quote(Execution, target, target, status)
                    .unwrap_err()
                    .reason(),
                Some(Reason::QuoteNotUsable)
            );
        }
        assert_eq!(
            check_solution_quote(Won, target, target, QuoteStatus::Approved)
                .unwrap_err()
                .reason(),
            Some(Reason::WrongStage)
        );
        assert_eq!(
            check_solution_quote(Lost, target, target, QuoteStatus::Approved)
                .unwrap_err()
                .reason(),
            Some(Reason::TerminalStage)
        );
    }
}
