//! Tasks of an opportunity ("five fixes": people, schedule, responsibility; DOMAIN.md §5). A task
//! has a title, an owner who is an active member, a due date and a status. This module owns the
//! status machine (open ↔ in progress, either → done or cancelled; done and cancelled are
//! final; [`check_status_change`]), the task's text limits, and its **due date**
//! ([`resolve_due`]): an explicit date must be a working day and not before the task's creation
//! date (a task due before its creation is refused), or an offset of working days counts from
//! the creation date on the business calendar (holidays skipped, make-up days counted). When an
//! SLA rule times the task, its timer (working days from creation) **caps** the due date: a later
//! requested date is brought forward to the SLA date, and the task records the rule; with no date
//! requested, the SLA date is the due date. A task is overdue once the business date is past its
//! due date while it is open or in progress ([`is_overdue`]).

use chrono::NaiveDate;

use super::rules::{RuleRef, SlaRule};
use super::stage::{OpportunityStage, check_open};
use super::{CoordinationError, Reason, Violations};
use crate::calendar::BusinessCalendar;

/// The most characters of a task title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most characters of a task description.
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
/// The largest due offset, in working days (about four years).
pub const MAX_DUE_OFFSET_WORKING_DAYS: i32 = 1_000;

code_enum! {
    /// The state of a task (proto `TaskStatus`, same order).
    pub enum TaskStatus {
        /// Not started.
        Open => "open",
        /// Being worked on.
        InProgress => "in_progress",
        /// Done; final.
        Done => "done",
        /// Cancelled; final.
        Cancelled => "cancelled",
    }
}

impl TaskStatus {
    /// Whether the task is done or cancelled.
    pub const fn is_final(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Cancelled)
    }

    /// Whether the task is still to do (open or in progress): it can be overdue and it keeps
    /// its owner a member.
    pub const fn is_open(self) -> bool {
        !self.is_final()
    }
}

/// Whether a task may move from `from` to `to`: open ↔ in progress, and either to done or
/// cancelled.
pub const fn can_move(from: TaskStatus, to: TaskStatus) -> bool {
    use TaskStatus::*;
    matches!(
        (from, to),
        (Open, InProgress) | (InProgress, Open) | (Open | InProgress, Done | Cancelled)
    )
}

/// Checks a status change ([`Reason::TaskTransition`]); the same status is no change and passes.
pub fn check_status_change(from: TaskStatus, to: TaskStatus) -> Result<(), CoordinationError> {
    if from == to && !from.is_final() {
        return Ok(());
    }
    if can_move(from, to) {
        return Ok(());
    }
    let message = if from.is_final() {
        format!("the task is {from}, which is final")
    } else {
        format!("a task cannot move from {from} to {to}")
    };
    Err(CoordinationError::refused(Reason::TaskTransition, message))
}

/// Checks a task's `title` (1 to 200 characters) and `description` (at most 5,000).
pub fn check_text(title: &str, description: &str) -> Result<(), CoordinationError> {
    let mut v = Violations::default();
    v.text("title", title, true, MAX_TITLE_CHARS);
    v.text("description", description, false, MAX_DESCRIPTION_CHARS);
    v.finish()
}

/// Checks a new task on an opportunity in `stage`: not terminal; the text; the owner an active
/// member ([`Reason::OwnerNotMember`]).
pub fn check_new_task(
    stage: OpportunityStage,
    title: &str,
    description: &str,
    owner: &str,
    owner_is_member: bool,
) -> Result<(), CoordinationError> {
    check_open(stage)?;
    check_text(title, description)?;
    check_owner(owner, owner_is_member)
}

/// Checks that a task's owner is an active member ([`Reason::OwnerNotMember`]).
pub fn check_owner(owner: &str, owner_is_member: bool) -> Result<(), CoordinationError> {
    if owner.trim().is_empty() {
        return Err(CoordinationError::invalid(
            "owner_employee_id",
            "is required",
        ));
    }
    if !owner_is_member {
        return Err(CoordinationError::refused(
            Reason::OwnerNotMember,
            format!("the owner {owner} is not a member of the opportunity"),
        ));
    }
    Ok(())
}

/// How the due date of a task is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueSpec {
    /// On this date (field `due_date`).
    On(NaiveDate),
    /// This many working days after the creation date (field `due_in_working_days`).
    InWorkingDays(i32),
}

/// A resolved due date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueDate {
    /// The due date.
    pub date: NaiveDate,
    /// The SLA rule that set it, if its timer did.
    pub sla_rule: Option<RuleRef>,
}

/// Checks an explicit due date against the creation date (field `due_date`): not before it, and
/// a working day.
pub fn check_due_date(
    due: NaiveDate,
    created_on: NaiveDate,
    calendar: &BusinessCalendar,
) -> Result<(), CoordinationError> {
    if due < created_on {
        return Err(CoordinationError::invalid(
            "due_date",
            format!("{due} is before the task's creation on {created_on}"),
        ));
    }
    if !calendar.is_working_day(due) {
        let next = calendar
            .add_working_days(due, 1)
            .map_or_else(|_| "none".to_owned(), |d| d.to_string());
        return Err(CoordinationError::invalid(
            "due_date",
            format!("{due} is not a working day; the next working day is {next}"),
        ));
    }
    Ok(())
}

/// The due date of a task created on `created_on`, from `spec` (or the SLA timer alone when
/// `None`), capped by the SLA rule `sla` that times it, if any. Fails naming `due_date` or
/// `due_in_working_days`; with neither a spec nor an SLA rule, `due_date` is required.
pub fn resolve_due(
    spec: Option<DueSpec>,
    created_on: NaiveDate,
    calendar: &BusinessCalendar,
    sla: Option<&SlaRule>,
) -> Result<DueDate, CoordinationError> {
    let requested = match spec {
        Some(DueSpec::On(date)) => {
            check_due_date(date, created_on, calendar)?;
            Some(date)
        }
        Some(DueSpec::InWorkingDays(n)) => {
            let days = u32::try_from(n)
                .ok()
                .filter(|d| *d <= MAX_DUE_OFFSET_WORKING_DAYS as u32)
                .ok_or_else(|| {
                    CoordinationError::invalid(
                        "due_in_working_days",
                        format!("must be 0 to {MAX_DUE_OFFSET_WORKING_DAYS}, not {n}"),
                    )
                })?;
            Some(add(calendar, created_on, days, "due_in_working_days")?)
        }
        None => None,
    };
    match requested {
        Some(date) => cap_by_sla(date, created_on, calendar, sla),
        None => match sla {
            Some(rule) => Ok(DueDate {
                date: add(calendar, created_on, rule.days(), "due_date")?,
                sla_rule: Some(rule.rule_ref()),
            }),
            None => Err(CoordinationError::invalid(
                "due_date",
                "is required: give a due date or a due offset in working days",
            )),
        },
    }
}

/// Caps a `requested` due date of a task created on `created_on` by the SLA rule that times
/// it, if any: the SLA date (its working days after creation) when that is earlier, recording
/// the rule; otherwise the requested date.
pub fn cap_by_sla(
    requested: NaiveDate,
    created_on: NaiveDate,
    calendar: &BusinessCalendar,
    sla: Option<&SlaRule>,
) -> Result<DueDate, CoordinationError> {
    if let Some(rule) = sla {
        let cap = add(calendar, created_on, rule.days(), "due_date")?;
        if cap < requested {
            return Ok(DueDate {
                date: cap,
                sla_rule: Some(rule.rule_ref()),
            });
        }
    }
    Ok(DueDate {
        date: requested,
        sla_rule: None,
    })
}

fn add(
    calendar: &BusinessCalendar,
    from: NaiveDate,
    days: u32,
    field: &str,
) -> Result<NaiveDate, CoordinationError> {
    calendar
        .add_working_days(from, days)
        .map_err(|e| CoordinationError::invalid(field, e.to_string()))
}

/// Whether a task in `status` due on `due` is overdue on `today`: still open or in progress and
/// `today` after the due date.
pub fn is_overdue(status: TaskStatus, due: NaiveDate, today: NaiveDate) -> bool {
    status.is_open() && today > due
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::calendar::DEFAULT_TIMEZONE;
    use crate::coordination::ErrorKind;
    use crate::coordination::rules::SlaSubject;
    use crate::coordination::rules::tests::{d, sla};

    /// National Day 2025: Oct 1–8 off; Sun Sep 28 and Sat Oct 11 worked.
    pub(crate) fn calendar() -> BusinessCalendar {
        BusinessCalendar::new(
            DEFAULT_TIMEZONE,
            (1..=8).map(|day| d(2025, 10, day)),
            [d(2025, 9, 28), d(2025, 10, 11)],
        )
        .unwrap()
    }

    #[test]
    fn status_machine() {
        use TaskStatus::*;
        let mut allowed = Vec::new();
        for &from in TaskStatus::ALL {
            for &to in TaskStatus::ALL {
                if can_move(from, to) {
                    allowed.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed,
            [
                (Open, InProgress),
                (Open, Done),
                (Open, Cancelled),
                (InProgress, Open),
                (InProgress, Done),
                (InProgress, Cancelled),
            ]
        );
        assert!(check_status_change(Open, Open).is_ok());
        let err = check_status_change(Done, Open).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::TaskTransition));
        assert!(err.to_string().contains("final"));
        assert!(check_status_change(Cancelled, Cancelled).is_err());
        assert!(Open.is_open() && InProgress.is_open() && Done.is_final());
    }

    #[test]
    fn new_task_checks() {
        use OpportunityStage::*;
        assert!(check_new_task(Execution, "Visit CFO", "", "alice", true).is_ok());
        assert_eq!(
            check_new_task(Closed, "Visit CFO", "", "alice", true)
                .unwrap_err()
                .reason(),
            Some(Reason::TerminalStage)
        );
        let err = check_new_task(Execution, "", &"x".repeat(5001), "alice", true).unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["title", "description"]);
        let err = check_new_task(Execution, "t", "", "mallory", false).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::OwnerNotMember));
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
        assert_eq!(
            check_new_task(Execution, "t", "", " ", true)
                .unwrap_err()
                .violations()[0]
                .field,
            "owner_employee_id"
        );
    }

    #[test]
    fn a_task_due_before_its_creation_is_refused() {
        let cal = calendar();
        let err = resolve_due(
            Some(DueSpec::On(d(2025, 9, 29))),
            d(2025, 9, 30),
            &cal,
            None,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(err.violations()[0].field, "due_date");
        assert!(
            err.violations()[0]
                .message
                .contains("before the task's creation")
        );
        // Due on the day of creation is fine.
        assert_eq!(
            resolve_due(
                Some(DueSpec::On(d(2025, 9, 30))),
                d(2025, 9, 30),
                &cal,
                None
            )
            .unwrap()
            .date,
            d(2025, 9, 30)
        );
    }

    #[test]
    fn explicit_due_dates_are_working_days() {
        let cal = calendar();
        let err = resolve_due(
            Some(DueSpec::On(d(2025, 10, 3))),
            d(2025, 9, 30),
            &cal,
            None,
        )
        .unwrap_err();
        assert!(
            err.violations()[0]
                .message
                .contains("next working day is 2025-10-09"),
            "{err}"
        );
        // The make-up Saturday is a working day.
        assert!(
            resolve_due(
                Some(DueSpec::On(d(2025, 10, 11))),
                d(2025, 9, 30),
                &cal,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn offsets_count_working_days_over_holidays_and_make_up_days() {
        let cal = calendar();
        let due = |n| {
            resolve_due(Some(DueSpec::InWorkingDays(n)), d(2025, 9, 30), &cal, None)
                .unwrap()
                .date
        };
        assert_eq!(due(0), d(2025, 9, 30));
        assert_eq!(due(1), d(2025, 10, 9));
        assert_eq!(due(3), d(2025, 10, 11));
        assert_eq!(due(4), d(2025, 10, 13));
        let err =
            resolve_due(Some(DueSpec::InWorkingDays(-1)), d(2025, 9, 30), &cal, None).unwrap_err();
        assert_eq!(err.violations()[0].field, "due_in_working_days");
        assert!(
            resolve_due(
                Some(DueSpec::InWorkingDays(1001)),
                d(2025, 9, 30),
                &cal,
                None
            )
            .is_err()
        );
        let err = resolve_due(None, d(2025, 9, 30), &cal, None).unwrap_err();
        assert_eq!(err.violations()[0].field, "due_date");
    }

    #[test]
    fn an_sla_timer_caps_the_due_date() {
        let cal = calendar();
        let green = sla("green", SlaSubject::Task, 3);
        // Sep 26 (Fri) + 3 working days: Sep 28 (make-up Sunday), 29, 30.
        let created = d(2025, 9, 26);
        let capped = resolve_due(
            Some(DueSpec::InWorkingDays(10)),
            created,
            &cal,
            Some(&green),
        )
        .unwrap();
        assert_eq!(capped.date, d(2025, 9, 30));
        assert_eq!(capped.sla_rule.unwrap().rule_id, "green");
        let earlier = resolve_due(
            Some(DueSpec::On(d(2025, 9, 29))),
            created,
            &cal,
            Some(&green),
        )
        .unwrap();
        assert_eq!(earlier.date, d(2025, 9, 29));
        assert_eq!(earlier.sla_rule, None);
        let from_sla = resolve_due(None, created, &cal, Some(&green)).unwrap();
        assert_eq!(from_sla.date, d(2025, 9, 30));
        assert!(from_sla.sla_rule.is_some());
    }

    #[test]
    fn overdue_only_past_the_due_date_while_open() {
        let due = d(2025, 3, 14);
        assert!(!is_overdue(TaskStatus::Open, due, d(2025, 3, 14)));
        assert!(is_overdue(TaskStatus::Open, due, d(2025, 3, 15)));
        assert!(is_overdue(TaskStatus::InProgress, due, d(2025, 3, 17)));
        assert!(!is_overdue(TaskStatus::Done, due, d(2025, 3, 17)));
        assert!(!is_overdue(TaskStatus::Cancelled, due, d(2025, 3, 17)));
    }
}
