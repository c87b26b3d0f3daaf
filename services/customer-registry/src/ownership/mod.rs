//! Customer ownership (DOMAIN.md §2 "Ownership", §1 maker-checker and effective-dated history;
//! issue 3 items 1 and 5). This module owns the ownership history (`ownership_history`: one
//! effective-dated interval per owner set, read as of any date), the one-customer hand-over
//! ([`handover`]) and the bulk reassignment of a leaving manager's or a closing branch's customers
//! ([`reassignment`]), both maker-checker requests with their own tables (schema:
//! [`OwnershipMigration`]). The current owners stay on the `customer` row: it always carries the
//! latest approved owners (as the `branch` table carries a branch's latest version), while the
//! history answers "who owned it on date D" for attribution. A customer without history rows has
//! one implied first interval (its creation day, branch and managers, `change_source` `create`);
//! that seed is written as a row, closed, by the first change that is applied. Every applied change
//! runs in one transaction: the guarded customer update with a version bump, the closed and opened
//! intervals, an audit entry and a `customer.ownership_changed` outbox event whose payload is the
//! new `bankmkt.v1.Ownership`; the customer's cache entry is dropped after the commit. The
//! decisions themselves (four eyes, pending transitions, A ≠ B, interval arithmetic, reassignment
//! targets) are `bankmkt_domain::ownership`.

pub mod entity;
pub mod handover;
pub mod migration;
pub mod reassignment;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::org::BranchCode;
use bankmkt_domain::ownership::{
    ApprovalStatus, ChangeRefused, Owners, OwnershipInterval, PlannedChange, plan_change,
    position_on,
};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect};

use self::entity::ownership_history;
use crate::convert;
use crate::customers::Customers;
use crate::customers::entity::customer;
use crate::error::{RegistryError, Result};
use crate::org::branches::tree_as_of;
use crate::org::entity::employee;

pub use migration::OwnershipMigration;

/// The outbox event type of an applied ownership change.
pub const OWNERSHIP_CHANGED: &str = "customer.ownership_changed";

/// Most queries in one `BatchGetOwnerships`.
pub const MAX_BATCH: usize = 1000;

/// Longest reason, in characters.
pub(crate) const MAX_REASON: usize = 500;

/// Ids per `IN (...)` list.
const CHUNK: usize = 500;

pub(crate) fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(e.to_string())
}

pub(crate) fn branch_of(code: &str) -> Result<BranchCode> {
    BranchCode::parse(code).map_err(|e| internal(format!("stored branch code: {e}")))
}

pub(crate) fn status_of(code: &str) -> Result<ApprovalStatus> {
    code.parse()
        .map_err(|_| internal(format!("stored approval status {code:?}")))
}

/// The wire status of a domain status.
pub fn status_to_proto(status: ApprovalStatus) -> v1::ApprovalStatus {
    match status {
        ApprovalStatus::Pending => v1::ApprovalStatus::Pending,
        ApprovalStatus::Approved => v1::ApprovalStatus::Approved,
        ApprovalStatus::Rejected => v1::ApprovalStatus::Rejected,
        ApprovalStatus::Cancelled => v1::ApprovalStatus::Cancelled,
        ApprovalStatus::Expired => v1::ApprovalStatus::Expired,
    }
}

/// A status filter from the wire: `None` for unspecified (any); an unknown value is recorded
/// against `field`.
pub(crate) fn status_filter(raw: i32, field: &str, v: &mut Violations) -> Option<ApprovalStatus> {
    match v1::ApprovalStatus::try_from(raw) {
        Ok(v1::ApprovalStatus::Unspecified) => None,
        Ok(v1::ApprovalStatus::Pending) => Some(ApprovalStatus::Pending),
        Ok(v1::ApprovalStatus::Approved) => Some(ApprovalStatus::Approved),
        Ok(v1::ApprovalStatus::Rejected) => Some(ApprovalStatus::Rejected),
        Ok(v1::ApprovalStatus::Cancelled) => Some(ApprovalStatus::Cancelled),
        Ok(v1::ApprovalStatus::Expired) => Some(ApprovalStatus::Expired),
        Err(_) => {
            v.add(field, "must be a known approval status");
            None
        }
    }
}

/// Records a violation unless `raw` is a customer id.
pub(crate) fn validate_customer_id(field: &str, raw: &str, v: &mut Violations) -> bool {
    if raw.is_empty() {
        v.add(field, "is required");
        false
    } else if CustomerId::parse(raw).is_err() {
        v.add(field, "must be a customer id (a UUID)");
        false
    } else {
        true
    }
}

/// Records a violation unless `raw` is a request id (a UUID).
pub(crate) fn validate_request_id(field: &str, raw: &str, v: &mut Violations) {
    if raw.is_empty() {
        v.add(field, "is required");
    } else if Uuid::try_parse(raw).is_err() {
        v.add(field, "must be an id issued by this service (a UUID)");
    }
}

/// Records a violation unless `raw` is an employee id (1 to 64 printable ASCII characters).
pub(crate) fn validate_employee_id(field: &str, raw: &str, required: bool, v: &mut Violations) {
    if raw.is_empty() {
        if required {
            v.add(field, "is required");
        }
    } else if raw.len() > 64 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        v.add(field, "must be 1 to 64 printable ASCII characters");
    }
}

/// The reason of a maker step or a rejection (required), or of an approval (optional).
pub(crate) fn validate_reason(field: &str, raw: &str, required: bool, v: &mut Violations) {
    let n = raw.trim().chars().count();
    if (required && n == 0) || n > MAX_REASON {
        let low = if required { 1 } else { 0 };
        v.add(field, format!("must be {low} to {MAX_REASON} characters"));
    }
}

/// An expected version from the wire (versions start at 1; negative is malformed).
pub(crate) fn validate_version(field: &str, raw: i64, v: &mut Violations) {
    if raw < 0 {
        v.add(field, "must not be negative");
    }
}

/// The effective date of a maker step: today when unset, never in the past.
pub(crate) fn effective_date(
    field: &str,
    raw: Option<&v1::Date>,
    today: NaiveDate,
    v: &mut Violations,
) -> NaiveDate {
    let date = convert::optional_date(field, raw, v).unwrap_or(today);
    if date < today {
        v.add(field, format!("may not be in the past (today is {today})"));
    }
    date
}

/// The tree as of today, or FAILED_PRECONDITION before any tree was loaded.
pub(crate) async fn tree<C: ConnectionTrait>(db: &C, clock: &Clock) -> Result<BranchTree> {
    tree_as_of(db, clock.today())
        .await?
        .ok_or_else(|| RegistryError::FailedPrecondition {
            kind: "BRANCH_TREE",
            subject: "tree".to_owned(),
            message: "no branch tree has been loaded yet".to_owned(),
        })
}

/// Whether the caller may read data of `branch`.
pub(crate) fn visible(caller: &Caller, tree: &BranchTree, branch: &BranchCode) -> bool {
    tree.contains(branch)
        && may_read_customer(&caller.roles, caller.branch.as_ref(), branch, tree, false)
}

/// Postgres keeps microseconds; truncating makes every backend answer the same instant.
pub(crate) fn now(clock: &Clock) -> DateTime<Utc> {
    clock.now().trunc_subsecs(6)
}

pub(crate) fn customer_not_found(id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "customer",
        id: id.to_owned(),
    }
}

/// The current owners on a customer row.
pub(crate) fn owners_of(row: &customer::Model) -> Result<Owners> {
    Ok(Owners {
        branch: branch_of(&row.owning_branch_id)?,
        primary_manager: row.primary_manager_id.clone(),
        backup_manager: row.backup_manager_id.clone(),
    })
}

fn interval_of(row: &ownership_history::Model) -> Result<OwnershipInterval> {
    Ok(OwnershipInterval {
        owners: Owners {
            branch: branch_of(&row.owning_branch_id)?,
            primary_manager: row.primary_manager_id.clone(),
            backup_manager: row.backup_manager_id.clone(),
        },
        valid_from: row.valid_from,
        valid_to: row.valid_to,
    })
}

/// The implied first interval of a customer without history (not stored; `seq` 0).
fn seed_row(clock: &Clock, c: &customer::Model) -> ownership_history::Model {
    ownership_history::Model {
        seq: 0,
        customer_id: c.customer_id.clone(),
        owning_branch_id: c.owning_branch_id.clone(),
        primary_manager_id: c.primary_manager_id.clone(),
        backup_manager_id: c.backup_manager_id.clone(),
        valid_from: clock.calendar().business_date(c.create_time),
        valid_to: None,
        change_source: "create".to_owned(),
        actor: String::new(),
        changed_at: c.create_time,
        reason: String::new(),
    }
}

/// The wire form of a history row.
pub fn ownership_to_proto(row: &ownership_history::Model) -> v1::Ownership {
    v1::Ownership {
        customer_id: row.customer_id.clone(),
        owning_branch_id: row.owning_branch_id.clone(),
        primary_manager_id: row.primary_manager_id.clone(),
        backup_manager_id: row.backup_manager_id.clone(),
        effective: Some(v1::EffectiveRange {
            start_date: Some(convert::date_to_proto(row.valid_from)),
            end_date: row.valid_to.map(convert::date_to_proto),
        }),
        change_source: row.change_source.clone(),
        changed: Some(v1::AuditStamp {
            actor_id: row.actor.clone(),
            time: Some(convert::timestamp(row.changed_at)),
            reason: row.reason.clone(),
        }),
    }
}

/// The four-eyes trail of a stored request.
pub(crate) fn approval_trail(
    status: ApprovalStatus,
    maker: &str,
    submit_time: DateTime<Utc>,
    submit_reason: &str,
    checker: Option<&str>,
    decide_time: Option<DateTime<Utc>>,
    decide_reason: &str,
) -> v1::ApprovalTrail {
    v1::ApprovalTrail {
        status: status_to_proto(status) as i32,
        submitted: Some(v1::AuditStamp {
            actor_id: maker.to_owned(),
            time: Some(convert::timestamp(submit_time)),
            reason: submit_reason.to_owned(),
        }),
        decided: checker.map(|checker| v1::AuditStamp {
            actor_id: checker.to_owned(),
            time: decide_time.map(convert::timestamp),
            reason: decide_reason.to_owned(),
        }),
    }
}

/// Maps a refused decision: the four-eyes rule is PERMISSION_DENIED, a decided request
/// FAILED_PRECONDITION.
pub(crate) fn refused(id: &str, e: bankmkt_domain::ownership::DecisionRefused) -> RegistryError {
    use bankmkt_domain::ownership::DecisionRefused as D;
    match e {
        D::MakerMayNotDecide { .. } | D::OnlyMakerMayCancel { .. } => {
            RegistryError::PermissionDenied(e.to_string())
        }
        D::NotPending { .. } => RegistryError::FailedPrecondition {
            kind: "APPROVAL_STATUS",
            subject: id.to_owned(),
            message: e.to_string(),
        },
    }
}

/// Whether a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &RegistryError) -> bool {
    matches!(e, RegistryError::Db(db) if matches!(db.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
}

/// The stored history of each customer, oldest first; a customer without rows gets its seed.
async fn histories<C: ConnectionTrait>(
    db: &C,
    clock: &Clock,
    customers: &[&customer::Model],
) -> Result<HashMap<String, Vec<ownership_history::Model>>> {
    let mut out: HashMap<String, Vec<ownership_history::Model>> = HashMap::new();
    let ids: Vec<String> = customers.iter().map(|c| c.customer_id.clone()).collect();
    for chunk in ids.chunks(CHUNK) {
        for row in ownership_history::Entity::find()
            .filter(ownership_history::Column::CustomerId.is_in(chunk.to_vec()))
            .order_by_asc(ownership_history::Column::Seq)
            .all(db)
            .await?
        {
            out.entry(row.customer_id.clone()).or_default().push(row);
        }
    }
    for c in customers {
        out.entry(c.customer_id.clone())
            .or_insert_with(|| vec![seed_row(clock, c)]);
    }
    Ok(out)
}

/// The row of `history` in force on `date`.
fn row_on(
    history: &[ownership_history::Model],
    date: NaiveDate,
) -> Result<Option<&ownership_history::Model>> {
    let intervals = history
        .iter()
        .map(interval_of)
        .collect::<Result<Vec<_>>>()?;
    Ok(position_on(&intervals, date).map(|i| &history[i]))
}

/// The open (latest) interval of a customer: the one a change closes and a hand-over shows as
/// current. The seed when nothing is stored.
pub(crate) async fn open_row<C: ConnectionTrait>(
    db: &C,
    clock: &Clock,
    c: &customer::Model,
) -> Result<ownership_history::Model> {
    let open = ownership_history::Entity::find()
        .filter(ownership_history::Column::CustomerId.eq(c.customer_id.clone()))
        .filter(ownership_history::Column::ValidTo.is_null())
        .order_by_desc(ownership_history::Column::Seq)
        .one(db)
        .await?;
    match open {
        Some(row) => Ok(row),
        None => {
            let any = ownership_history::Entity::find()
                .filter(ownership_history::Column::CustomerId.eq(c.customer_id.clone()))
                .count(db)
                .await?;
            if any > 0 {
                Err(internal(format!(
                    "customer {} has ownership history but no open interval",
                    c.customer_id
                )))
            } else {
                Ok(seed_row(clock, c))
            }
        }
    }
}

/// Why and by whom a change is applied.
pub(crate) struct ChangeContext<'a> {
    /// The caller that applies it (the checker).
    pub caller: &'a Caller,
    /// The request id of the call.
    pub request_id: &'a str,
    /// `handover:ID` or `reassignment:ID`.
    pub source: String,
    /// The reason recorded on the new interval (the maker's).
    pub reason: &'a str,
    /// The instant of the change.
    pub now: DateTime<Utc>,
    /// Today's business date.
    pub today: NaiveDate,
}

/// Applies a change of `c` to `owners` from `requested` inside the caller's transaction: the
/// guarded customer update, the closed and opened intervals (writing the seed first when the
/// customer had no history), the audit entry and the outbox event. Returns the new interval and
/// the customer's new version. The caller drops the cache entry after committing.
pub(crate) async fn apply_change<C: ConnectionTrait>(
    txn: &C,
    clock: &Clock,
    c: &customer::Model,
    owners: Owners,
    requested: NaiveDate,
    ctx: &ChangeContext<'_>,
) -> Result<(ownership_history::Model, i64)> {
    let open = open_row(txn, clock, c).await?;
    let before = interval_of(&open)?;
    let PlannedChange { closed, opened } = plan_change(&before, owners, requested, ctx.today)
        .map_err(|e| match e {
            ChangeRefused::NotOpen { .. } => internal(e),
            other => RegistryError::FailedPrecondition {
                kind: "OWNERSHIP_CHANGE",
                subject: c.customer_id.clone(),
                message: other.to_string(),
            },
        })?;
    let version = c.version + 1;
    let updated = customer::Entity::update_many()
        .col_expr(
            customer::Column::OwningBranchId,
            Expr::value(opened.owners.branch.as_str()),
        )
        .col_expr(
            customer::Column::PrimaryManagerId,
            Expr::value(opened.owners.primary_manager.clone()),
        )
        .col_expr(
            customer::Column::BackupManagerId,
            Expr::value(opened.owners.backup_manager.clone()),
        )
        .col_expr(customer::Column::Version, Expr::value(version))
        .col_expr(customer::Column::UpdateTime, Expr::value(ctx.now))
        .filter(customer::Column::CustomerId.eq(c.customer_id.clone()))
        .filter(customer::Column::Version.eq(c.version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        let actual = customer::Entity::find_by_id(c.customer_id.clone())
            .one(txn)
            .await?
            .map_or(c.version, |row| row.version);
        return Err(RegistryError::StaleVersion {
            kind: "customer",
            id: c.customer_id.clone(),
            expected: c.version,
            actual,
        });
    }
    if open.seq == 0 {
        ownership_history::ActiveModel {
            valid_to: Set(closed.valid_to),
            ..seed_active(&open)
        }
        .insert(txn)
        .await?;
    } else {
        let closed_rows = ownership_history::Entity::update_many()
            .col_expr(
                ownership_history::Column::ValidTo,
                Expr::value(closed.valid_to),
            )
            .filter(ownership_history::Column::Seq.eq(open.seq))
            .filter(ownership_history::Column::ValidTo.is_null())
            .exec(txn)
            .await?;
        if closed_rows.rows_affected != 1 {
            return Err(RegistryError::StaleVersion {
                kind: "customer",
                id: c.customer_id.clone(),
                expected: c.version,
                actual: version,
            });
        }
    }
    let row = ownership_history::ActiveModel {
        customer_id: Set(c.customer_id.clone()),
        owning_branch_id: Set(opened.owners.branch.as_str().to_owned()),
        primary_manager_id: Set(opened.owners.primary_manager.clone()),
        backup_manager_id: Set(opened.owners.backup_manager.clone()),
        valid_from: Set(opened.valid_from),
        valid_to: Set(None),
        change_source: Set(ctx.source.clone()),
        actor: Set(ctx.caller.subject.clone()),
        changed_at: Set(ctx.now),
        reason: Set(ctx.reason.trim().to_owned()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let ownership = ownership_to_proto(&row);
    let describe = |o: &Owners| {
        format!(
            "branch={} primary={} backup={}",
            o.branch, o.primary_manager, o.backup_manager
        )
    };
    audit::record(
        txn,
        AuditEntry {
            actor: ctx.caller.subject.clone(),
            via_service: ctx.caller.via_service.clone(),
            action: "customer.ownership.change".to_owned(),
            target_type: "customer".to_owned(),
            target_id: c.customer_id.clone(),
            before: format!("{} version={}", describe(&closed.owners), c.version),
            after: format!(
                "{} version={version} from={} source={}",
                describe(&opened.owners),
                opened.valid_from,
                ctx.source
            ),
            reason: ctx.reason.trim().to_owned(),
            request_id: ctx.request_id.to_owned(),
        },
        ctx.now,
    )
    .await?;
    outbox::append(
        txn,
        Envelope {
            aggregate_type: "customer".to_owned(),
            aggregate_id: c.customer_id.clone(),
            aggregate_version: version,
            event_type: OWNERSHIP_CHANGED.to_owned(),
            occurred_at: ctx.now,
            payload: ownership.encode_to_vec(),
        },
    )
    .await?;
    Ok((row, version))
}

fn seed_active(seed: &ownership_history::Model) -> ownership_history::ActiveModel {
    ownership_history::ActiveModel {
        customer_id: Set(seed.customer_id.clone()),
        owning_branch_id: Set(seed.owning_branch_id.clone()),
        primary_manager_id: Set(seed.primary_manager_id.clone()),
        backup_manager_id: Set(seed.backup_manager_id.clone()),
        valid_from: Set(seed.valid_from),
        valid_to: Set(seed.valid_to),
        change_source: Set(seed.change_source.clone()),
        actor: Set(seed.actor.clone()),
        changed_at: Set(seed.changed_at),
        reason: Set(seed.reason.clone()),
        ..Default::default()
    }
}

/// Checks that `employee_id` is an active customer manager on `on` whose branch lies in the
/// subtree of every branch of `branches`, recording a violation against `field` otherwise.
/// `context` is appended to the description (e.g. which customer needs it).
pub(crate) async fn check_manager<C: ConnectionTrait>(
    db: &C,
    tree: &BranchTree,
    field: &str,
    employee_id: &str,
    branches: &BTreeSet<BranchCode>,
    on: NaiveDate,
    v: &mut Violations,
) -> Result<()> {
    let Some(e) = employee::Entity::find_by_id(employee_id.to_owned())
        .one(db)
        .await?
    else {
        v.add(field, format!("unknown employee {employee_id}"));
        return Ok(());
    };
    let active = e.active_from <= on && e.active_to.is_none_or(|to| to > on);
    if !active {
        v.add(field, format!("{employee_id} is not active on {on}"));
        return Ok(());
    }
    if !e.roles.contains(",customer_manager,") {
        v.add(
            field,
            format!("{employee_id} does not hold the customer_manager role"),
        );
        return Ok(());
    }
    let home = BranchCode::parse(&e.branch_id).ok();
    let outside: Vec<&str> = branches
        .iter()
        .filter(|b| !home.as_ref().is_some_and(|h| tree.is_in_subtree(h, b)))
        .map(|b| b.as_str())
        .collect();
    if !outside.is_empty() {
        v.add(
            field,
            format!(
                "{employee_id} (at {}) is not in the subtree of the owning branch {}",
                e.branch_id,
                outside.join(", ")
            ),
        );
    }
    Ok(())
}

/// Whether `branch` is open (not closed) on `on`; unknown branches count as closed.
pub(crate) async fn branch_open_on<C: ConnectionTrait>(
    db: &C,
    branch: &BranchCode,
    on: NaiveDate,
) -> Result<bool> {
    let row = crate::org::entity::branch::Entity::find_by_id(branch.as_str().to_owned())
        .one(db)
        .await?;
    Ok(row.is_some_and(|b| b.closed_on.is_none_or(|c| c > on)))
}

/// Loads visible customers by id (chunked); unknown and invisible ids are left out.
async fn visible_customers<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    tree: &BranchTree,
    ids: &BTreeSet<String>,
) -> Result<BTreeMap<String, customer::Model>> {
    let mut out = BTreeMap::new();
    let ids: Vec<String> = ids.iter().cloned().collect();
    for chunk in ids.chunks(CHUNK) {
        for row in customer::Entity::find()
            .filter(customer::Column::CustomerId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if visible(caller, tree, &branch_of(&row.owning_branch_id)?) {
                out.insert(row.customer_id.clone(), row);
            }
        }
    }
    Ok(out)
}

/// Loads one customer the caller may read, or NOT_FOUND.
async fn visible_customer<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    tree: &BranchTree,
    customer_id: &str,
) -> Result<customer::Model> {
    let ids = BTreeSet::from([customer_id.to_owned()]);
    visible_customers(db, caller, tree, &ids)
        .await?
        .remove(customer_id)
        .ok_or_else(|| customer_not_found(customer_id))
}

/// `GetOwnership`: the interval in force on the date (today when unset).
pub async fn get(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetOwnershipRequest,
) -> Result<v1::GetOwnershipResponse> {
    let mut v = Violations::new();
    validate_customer_id("customer_id", &request.customer_id, &mut v);
    let date = convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v)
        .unwrap_or_else(|| customers.clock.today());
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    let c = visible_customer(db, caller, &tree, &request.customer_id).await?;
    let histories = histories(db, &customers.clock, &[&c]).await?;
    let history = histories
        .get(&c.customer_id)
        .ok_or_else(|| internal("history vanished"))?;
    let row = row_on(history, date)?.ok_or_else(|| RegistryError::NotFound {
        kind: "ownership",
        id: format!("{} on {date}", c.customer_id),
    })?;
    Ok(v1::GetOwnershipResponse {
        ownership: Some(ownership_to_proto(row)),
    })
}

/// `BatchGetOwnerships`: one answer per query, in order; unknown, invisible or unowned on the
/// date answer without an ownership.
pub async fn batch_get(
    customers: &Customers,
    caller: &Caller,
    request: v1::BatchGetOwnershipsRequest,
) -> Result<v1::BatchGetOwnershipsResponse> {
    let mut v = Violations::new();
    if request.queries.is_empty() || request.queries.len() > MAX_BATCH {
        v.add("queries", format!("must hold 1 to {MAX_BATCH} queries"));
        return Err(v.into());
    }
    let mut dates = Vec::with_capacity(request.queries.len());
    for (i, q) in request.queries.iter().enumerate() {
        validate_customer_id(&format!("queries[{i}].customer_id"), &q.customer_id, &mut v);
        let field = format!("queries[{i}].as_of_date");
        match &q.as_of_date {
            None => {
                v.add(field, "is required");
                dates.push(None);
            }
            Some(d) => dates.push(v.check(field, convert::date_from_proto(d))),
        }
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    let ids: BTreeSet<String> = request
        .queries
        .iter()
        .map(|q| q.customer_id.clone())
        .collect();
    let found = visible_customers(db, caller, &tree, &ids).await?;
    let rows: Vec<&customer::Model> = found.values().collect();
    let histories = histories(db, &customers.clock, &rows).await?;
    let mut answers = Vec::with_capacity(request.queries.len());
    for (q, date) in request.queries.into_iter().zip(dates) {
        let ownership = match (histories.get(&q.customer_id), date) {
            (Some(history), Some(date)) => row_on(history, date)?.map(ownership_to_proto),
            _ => None,
        };
        answers.push(v1::OwnershipAnswer {
            query: Some(q),
            ownership,
        });
    }
    Ok(v1::BatchGetOwnershipsResponse { answers })
}

/// `ListOwnershipHistory`: newest first (insertion order, which is also date order); a customer
/// without stored history lists its seed.
pub async fn list_history(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListOwnershipHistoryRequest,
) -> Result<v1::ListOwnershipHistoryResponse> {
    let mut v = Violations::new();
    validate_customer_id("customer_id", &request.customer_id, &mut v);
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &request.customer_id,
        &mut v,
    );
    let after = match &page.after {
        Some(raw) => match raw.parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                v.add("page_token", "is not a token this service issued");
                None
            }
        },
        None => None,
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    let c = visible_customer(db, caller, &tree, &request.customer_id).await?;
    let mut query = ownership_history::Entity::find()
        .filter(ownership_history::Column::CustomerId.eq(c.customer_id.clone()));
    if let Some(seq) = after {
        query = query.filter(ownership_history::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(ownership_history::Column::Seq)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    if rows.is_empty() && after.is_none() {
        let stored = ownership_history::Entity::find()
            .filter(ownership_history::Column::CustomerId.eq(c.customer_id.clone()))
            .count(db)
            .await?;
        if stored == 0 {
            rows.push(seed_row(&customers.clock, &c));
        }
    }
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    Ok(v1::ListOwnershipHistoryResponse {
        ownerships: rows.iter().map(ownership_to_proto).collect(),
        next_page_token,
    })
}
