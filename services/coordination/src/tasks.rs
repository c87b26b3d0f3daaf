//! Tasks of an opportunity ("five fixes": people, schedule, responsibility; DOMAIN.md §5):
//! `CreateTask` (text, owner and stage checked by the domain's `tasks` rules; the due date a
//! working day not before today, or an offset in working days counted on the business calendar
//! of the service's clock — a task due before its creation is `INVALID_ARGUMENT` naming
//! `task.due_date` — capped by the SLA rule in force that times the opportunity's tasks), `UpdateTask` (field mask; the domain's status machine, done and cancelled
//! final; the task's own version, a stale one `ABORTED`) and `ListTasks` (by opportunity, owner,
//! status or overdue, ordered by due date then id, keyset paged, only tasks of opportunities the
//! caller may see). A write to a task carries the opportunity's version the caller read: it is
//! checked, and re-checked on the write's transaction ([`guard`]), without bumping it, so a
//! member removed or a stage changed meanwhile makes the write `ABORTED`. Each write is one
//! transaction with its audit entry and `task.*` outbox event. [`insert`] is shared with
//! playbooks, which create tasks in bulk.

use std::collections::HashMap;

use bankmkt_domain::coordination::members;
use bankmkt_domain::coordination::rules::task_sla;
use bankmkt_domain::coordination::tasks::{self as rules, DueSpec, TaskStatus};
use bankmkt_domain::coordination::{CoordinationError, stage};
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::CoordinationService;
use crate::convert::{self, stored};
use crate::entity::opportunity;
use crate::error::{Result, ServiceError};
use crate::m0302::task;
use crate::record::{Change, record};
use crate::store::{self, Loaded};

/// The wire status of a task status.
pub fn status_to_proto(s: TaskStatus) -> v1::TaskStatus {
    match s {
        TaskStatus::Open => v1::TaskStatus::Open,
        TaskStatus::InProgress => v1::TaskStatus::InProgress,
        TaskStatus::Done => v1::TaskStatus::Done,
        TaskStatus::Cancelled => v1::TaskStatus::Cancelled,
    }
}

/// The task status of a wire value; unspecified or unknown is `None`.
pub fn status_from_proto(raw: i32) -> Option<TaskStatus> {
    match v1::TaskStatus::try_from(raw).ok()? {
        v1::TaskStatus::Open => Some(TaskStatus::Open),
        v1::TaskStatus::InProgress => Some(TaskStatus::InProgress),
        v1::TaskStatus::Done => Some(TaskStatus::Done),
        v1::TaskStatus::Cancelled => Some(TaskStatus::Cancelled),
        v1::TaskStatus::Unspecified => None,
    }
}

/// A stored task for the wire.
pub fn to_proto(row: &task::Model) -> Result<v1::Task> {
    let status: TaskStatus = stored("task status", &row.status)?;
    Ok(v1::Task {
        task_id: row.task_id.clone(),
        opportunity_id: row.opportunity_id.clone(),
        title: row.title.clone(),
        description: row.description.clone(),
        owner_employee_id: row.owner_employee_id.clone(),
        due_date: Some(convert::date_to_proto(row.due_date)),
        status: status_to_proto(status) as i32,
        playbook_id: row.playbook_id.clone().unwrap_or_default(),
        playbook_version: row.playbook_version,
        playbook_step_id: row.playbook_step_id.clone(),
        sla_rule_id: row.sla_rule_id.clone().unwrap_or_default(),
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
        finish_time: row.finish_time.map(convert::timestamp),
        version: row.version,
    })
}

fn summary(row: &task::Model) -> String {
    format!(
        "version={} opportunity={} owner={} due={} status={}",
        row.version, row.opportunity_id, row.owner_employee_id, row.due_date, row.status
    )
}

/// A domain error about a task, its fields under `task` (the offset stays top-level).
fn task_error(e: CoordinationError) -> ServiceError {
    match e {
        CoordinationError::Invalid(violations) => {
            let mut v = Violations::new();
            for violation in violations {
                if violation.field == "due_in_working_days" {
                    v.add(violation.field, violation.message);
                } else {
                    v.add(format!("task.{}", violation.field), violation.message);
                }
            }
            ServiceError::Invalid(v)
        }
        other => ServiceError::from_domain(other, "task"),
    }
}

/// Re-checks, on the write's transaction, that the opportunity is still at the version `row`
/// was read at (without changing it): `ABORTED` when another writer changed it meanwhile.
pub async fn guard<C: ConnectionTrait>(txn: &C, row: &opportunity::Model) -> Result<()> {
    let result = opportunity::Entity::update_many()
        .col_expr(
            opportunity::Column::Version,
            Expr::col(opportunity::Column::Version),
        )
        .filter(opportunity::Column::OpportunityId.eq(row.opportunity_id.clone()))
        .filter(opportunity::Column::Version.eq(row.version))
        .exec(txn)
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "opportunity",
            id: row.opportunity_id.clone(),
            expected: row.version,
            actual: row.version + 1,
        })
    }
}

/// Inserts `rows` and records a `task.created` event for each on `txn`.
pub async fn insert<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    request_id: &str,
    rows: &[task::Model],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<v1::Task>> {
    let mut out = Vec::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok(out);
    }
    task::Entity::insert_many(rows.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(txn)
        .await?;
    for row in rows {
        let wire = to_proto(row)?;
        record(
            txn,
            now,
            Change {
                caller,
                request_id,
                action: "task.create",
                target_type: "task",
                target_id: row.task_id.clone(),
                before: String::new(),
                after: summary(row),
                reason: reason.to_owned(),
                event_type: "task.created",
                version: row.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        out.push(wire);
    }
    Ok(out)
}

/// A new open task row.
#[allow(clippy::too_many_arguments)]
pub fn new_row(
    opportunity_id: &str,
    title: &str,
    description: &str,
    owner: &str,
    due: NaiveDate,
    sla_rule_id: Option<String>,
    playbook: Option<(&str, i64, &str)>,
    caller: &Caller,
    now: DateTime<Utc>,
) -> task::Model {
    task::Model {
        task_id: convert::new_id(),
        opportunity_id: opportunity_id.to_owned(),
        title: title.trim().to_owned(),
        description: description.to_owned(),
        owner_employee_id: owner.to_owned(),
        due_date: due,
        status: TaskStatus::Open.as_str().to_owned(),
        playbook_id: playbook.map(|(id, _, _)| id.to_owned()),
        playbook_version: playbook.map_or(0, |(_, v, _)| v),
        playbook_step_id: playbook.map_or_else(String::new, |(_, _, s)| s.to_owned()),
        sla_rule_id,
        created_by: caller.subject.clone(),
        create_time: now,
        finish_time: None,
        version: 1,
    }
}

fn is_member(loaded: &Loaded, employee: &str, today: NaiveDate) -> Result<bool> {
    Ok(members::is_member(&loaded.memberships()?, employee, today))
}

/// `CreateTask`.
pub async fn create(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateTaskRequest,
) -> Result<v1::CreateTaskResponse> {
    let mut v = Violations::new();
    let Some(t) = request.task.as_ref() else {
        v.add("task", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("task.opportunity_id", &t.opportunity_id, &mut v);
    let owner = convert::employee_id("task.owner_employee_id", &t.owner_employee_id, &mut v);
    let due = convert::optional_date("task.due_date", t.due_date.as_ref(), &mut v);
    if let Err(e) = rules::check_text(&t.title, &t.description) {
        absorb(&mut v, e)?;
    }
    let today = svc.clock.today();
    let spec = match (t.due_date.as_ref(), due) {
        (Some(_), Some(d)) => Some(DueSpec::On(d)),
        (Some(_), None) => None,
        (None, _) => Some(DueSpec::InWorkingDays(request.due_in_working_days)),
    };
    if let Some(spec) = spec
        && let Err(e) = rules::resolve_due(Some(spec), today, svc.clock.calendar(), None)
    {
        absorb(&mut v, e)?;
    }
    let (Some(id), Some(owner), Some(spec), true) = (id, owner, spec, v.is_empty()) else {
        return Err(v.into());
    };
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    rules::check_new_task(
        loaded.stage()?,
        &t.title,
        &t.description,
        &owner,
        is_member(&loaded, &owner, today)?,
    )
    .map_err(task_error)?;
    // The SLA rule in force that times the opportunity's tasks caps the due date.
    let sla_rules = crate::rules::all_sla(&svc.db).await?;
    let sla = task_sla(
        &sla_rules,
        stored("type", &loaded.row.opportunity_type)?,
        None,
        today,
    );
    let due =
        rules::resolve_due(Some(spec), today, svc.clock.calendar(), sla).map_err(task_error)?;
    let now = store::now(svc);
    let row = new_row(
        &id,
        &t.title,
        &t.description,
        &owner,
        due.date,
        due.sla_rule.map(|r| r.rule_id),
        None,
        caller,
        now,
    );
    let txn = svc.db.begin().await?;
    guard(&txn, &loaded.row).await?;
    let mut created = insert(
        &txn,
        caller,
        request_id,
        std::slice::from_ref(&row),
        &format!("task for {owner} due {}", row.due_date),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateTaskResponse {
        task: created.pop(),
    })
}

/// Adds the task violations of `e` to `v`; passes any other error on.
fn absorb(v: &mut Violations, e: CoordinationError) -> Result<()> {
    match task_error(e) {
        ServiceError::Invalid(found) => {
            for (f, m) in found.fields() {
                v.add(f.clone(), m.clone());
            }
            Ok(())
        }
        other => Err(other),
    }
}

/// The fields UpdateTask may change.
const UPDATABLE: [&str; 5] = [
    "title",
    "description",
    "owner_employee_id",
    "due_date",
    "status",
];

/// `UpdateTask`.
pub async fn update(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateTaskRequest,
) -> Result<v1::UpdateTaskResponse> {
    let mut v = Violations::new();
    let Some(t) = request.task.as_ref() else {
        v.add("task", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("task.task_id", &t.task_id, &mut v);
    let paths: Vec<String> = request
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field to change");
    }
    for (i, p) in paths.iter().enumerate() {
        if !UPDATABLE.contains(&p.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!(
                    "`{p}` cannot be updated; use one of {}",
                    UPDATABLE.join(", ")
                ),
            );
        }
    }
    let has = |p: &str| paths.iter().any(|x| x == p);
    let owner = if has("owner_employee_id") {
        convert::employee_id("task.owner_employee_id", &t.owner_employee_id, &mut v)
    } else {
        None
    };
    let due = if has("due_date") {
        if t.due_date.is_none() {
            v.add("task.due_date", "is required when the mask names it");
        }
        convert::optional_date("task.due_date", t.due_date.as_ref(), &mut v)
    } else {
        None
    };
    let status = if has("status") {
        convert::required_enum(
            "task.status",
            t.status,
            status_from_proto,
            "task status",
            &mut v,
        )
    } else {
        None
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let row = task::Entity::find_by_id(id.clone())
        .one(&svc.db)
        .await?
        .ok_or_else(|| ServiceError::not_found("task", id.clone()))?;
    let loaded = match store::load(&svc.db, caller, &row.opportunity_id, today).await {
        Ok(l) => l,
        Err(ServiceError::NotFound { .. }) => return Err(ServiceError::not_found("task", id)),
        Err(e) => return Err(e),
    };
    let title = if has("title") { &t.title } else { &row.title };
    let description = if has("description") {
        &t.description
    } else {
        &row.description
    };
    rules::check_text(title, description).map_err(task_error)?;
    store::require_member(caller, &loaded, today)?;
    if row.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "task",
            id,
            expected: request.expected_version,
            actual: row.version,
        });
    }
    stage::check_open(loaded.stage()?).map_err(task_error)?;
    let from: TaskStatus = stored("task status", &row.status)?;
    let to = status.unwrap_or(from);
    rules::check_status_change(from, to).map_err(task_error)?;
    if let Some(owner) = &owner {
        rules::check_owner(owner, is_member(&loaded, owner, today)?).map_err(task_error)?;
    }
    if let Some(due) = due {
        let created_on = svc.clock.calendar().business_date(row.create_time);
        rules::check_due_date(due, created_on, svc.clock.calendar()).map_err(task_error)?;
    }
    let now = store::now(svc);
    let mut next = row.clone();
    next.title = title.trim().to_owned();
    next.description = description.clone();
    if let Some(owner) = owner {
        next.owner_employee_id = owner;
    }
    if let Some(due) = due {
        next.due_date = due;
    }
    next.status = to.as_str().to_owned();
    if to.is_final() && !from.is_final() {
        next.finish_time = Some(now);
    }
    next.version = row.version + 1;
    let wire = to_proto(&next)?;
    let txn = svc.db.begin().await?;
    guard(&txn, &loaded.row).await?;
    let updated = task::Entity::update_many()
        .set(next.clone().into_active_model().reset_all())
        .filter(task::Column::TaskId.eq(id.clone()))
        .filter(task::Column::Version.eq(row.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ServiceError::StaleVersion {
            kind: "task",
            id,
            expected: row.version,
            actual: row.version + 1,
        });
    }
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "task.update",
            target_type: "task",
            target_id: id.clone(),
            before: summary(&row),
            after: summary(&next),
            reason: format!("updated {}", paths.join(", ")),
            event_type: if from != to {
                "task.status_changed"
            } else {
                "task.updated"
            },
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateTaskResponse { task: Some(wire) })
}

/// `ListTasks`: ordered by due date, then id; keyset paged.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListTasksRequest,
) -> Result<v1::ListTasksResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v).and_then(|key| {
        let parsed = key
            .split_once('|')
            .and_then(|(d, id)| Some((d.parse::<NaiveDate>().ok()?, id.to_owned())));
        if parsed.is_none() {
            v.add(
                "page_token",
                "is not a token this list issued for these filters",
            );
        }
        parsed
    });
    let opportunity = if request.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("opportunity_id", &request.opportunity_id, &mut v)
    };
    let status = convert::filter_enum(
        "status",
        request.status,
        status_from_proto,
        "task status",
        &mut v,
    );
    if !request.owner_employee_id.is_empty() {
        convert::employee_id("owner_employee_id", &request.owner_employee_id, &mut v);
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let today = svc.clock.today();
    if let Some(id) = &opportunity {
        store::load(&svc.db, caller, id, today).await?;
    }
    let mut cond = Condition::all();
    if let Some(id) = &opportunity {
        cond = cond.add(task::Column::OpportunityId.eq(id.clone()));
    }
    if !request.owner_employee_id.is_empty() {
        cond = cond.add(task::Column::OwnerEmployeeId.eq(request.owner_employee_id.trim()));
    }
    if let Some(s) = status {
        cond = cond.add(task::Column::Status.eq(s.as_str()));
    }
    if request.overdue_only {
        cond = cond
            .add(
                task::Column::Status
                    .is_in([TaskStatus::Open.as_str(), TaskStatus::InProgress.as_str()]),
            )
            .add(task::Column::DueDate.lt(today));
    }
    let mut visible: HashMap<String, bool> = HashMap::new();
    let mut out: Vec<task::Model> = Vec::new();
    let mut cursor = after;
    let mut more = false;
    'pages: loop {
        let mut q = task::Entity::find().filter(cond.clone());
        if let Some((d, id)) = &cursor {
            q = q.filter(
                Condition::any().add(task::Column::DueDate.gt(*d)).add(
                    Condition::all()
                        .add(task::Column::DueDate.eq(*d))
                        .add(task::Column::TaskId.gt(id.clone())),
                ),
            );
        }
        let rows = q
            .order_by_asc(task::Column::DueDate)
            .order_by_asc(task::Column::TaskId)
            .limit((size as u64 + 1) * 2)
            .all(&svc.db)
            .await?;
        let exhausted = rows.len() < (size + 1) * 2;
        for row in rows {
            cursor = Some((row.due_date, row.task_id.clone()));
            let seen = match visible.get(&row.opportunity_id) {
                Some(s) => *s,
                None => {
                    let s = match store::load_any(&svc.db, &row.opportunity_id).await {
                        Ok(l) => store::may_see(caller, &l, today),
                        Err(ServiceError::NotFound { .. }) => false,
                        Err(e) => return Err(e),
                    };
                    visible.insert(row.opportunity_id.clone(), s);
                    s
                }
            };
            if !seen {
                continue;
            }
            if out.len() == size {
                more = true;
                break 'pages;
            }
            out.push(row);
        }
        if exhausted {
            break;
        }
    }
    let next_page_token = match (more, out.last()) {
        (true, Some(last)) => {
            convert::page_token(&filters, &format!("{}|{}", last.due_date, last.task_id))
        }
        _ => String::new(),
    };
    Ok(v1::ListTasksResponse {
        tasks: out.iter().map(to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}
