//! Bulk reassignment (issue 3 item 1, DOMAIN.md §1 "Staff directory"): when a manager leaves or a
//! branch closes, all their customers move in one audited maker-checker step. The maker (a branch
//! head or admin) names the source — a leaving manager with the posts that move, or a closing
//! branch — and the new owners; the maker step freezes the list of active customers it holds
//! (`reassignment_item`, with each customer's owners before and after, checked against the A ≠ B
//! rule and the new managers' activity, role and subtree) and scopes the request to the lowest
//! branch holding the source, every frozen customer and the target branch. A checker (another
//! person: a branch head over the scope, or an admin) approves it, which applies every frozen
//! customer in one transaction with one history interval, one audit entry and one
//! `customer.ownership_changed` event per customer (a customer whose owners changed since the
//! freeze aborts the whole approval), or rejects it, which moves nothing. A source has at most one
//! pending reassignment (a unique column).

use std::collections::{BTreeMap, BTreeSet};

use bankmkt_domain::access::may_act_on_branch;
use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_domain::ownership::{
    ApprovalStatus, CHECKER_ROLES, Decision, ManagerSlot, Owners, ReassignmentSource,
    ReassignmentTargets, TargetField, check_targets, common_ancestor, decide as decide_rule,
    may_check, reassign,
};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use bankmkt_proto::v1::reassignment::Source;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::{handover, reassignment, reassignment_item};
use super::handover::parse_seq;
use super::{
    CHUNK, ChangeContext, apply_change, approval_trail, branch_of, branch_open_on, check_manager,
    effective_date, internal, is_unique_violation, now, owners_of, refused, status_filter,
    status_of, tree, validate_employee_id, validate_reason, validate_request_id, validate_version,
    visible,
};
use crate::convert::{self, branch_code};
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key};
use crate::error::{RegistryError, Result};
use crate::org::entity::employee;
use crate::org::require_role;

/// Roles that may propose a bulk reassignment.
const MAKER_ROLES: [Role; 2] = [Role::BranchHead, Role::Admin];

/// Most customer ids named in a refusal message.
const NAMED: usize = 10;

fn not_found(id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "reassignment",
        id: id.to_owned(),
    }
}

fn slot_from_proto(raw: i32) -> Option<ManagerSlot> {
    match v1::ManagerSlot::try_from(raw).ok()? {
        v1::ManagerSlot::Unspecified => None,
        v1::ManagerSlot::Primary => Some(ManagerSlot::Primary),
        v1::ManagerSlot::Backup => Some(ManagerSlot::Backup),
        v1::ManagerSlot::Both => Some(ManagerSlot::Both),
    }
}

fn slot_to_proto(slot: ManagerSlot) -> v1::ManagerSlot {
    match slot {
        ManagerSlot::Primary => v1::ManagerSlot::Primary,
        ManagerSlot::Backup => v1::ManagerSlot::Backup,
        ManagerSlot::Both => v1::ManagerSlot::Both,
    }
}

fn target_field(field: TargetField) -> &'static str {
    match field {
        TargetField::Branch => "reassignment.to_branch_id",
        TargetField::PrimaryManager => "reassignment.to_primary_manager_id",
        TargetField::BackupManager => "reassignment.to_backup_manager_id",
    }
}

fn some_ids<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    let ids: Vec<&String> = ids.into_iter().collect();
    let mut shown: Vec<&str> = ids.iter().take(NAMED).map(|s| s.as_str()).collect();
    if ids.len() > NAMED {
        shown.push("…");
    }
    shown.join(", ")
}

/// The wire form of a stored reassignment.
pub fn to_proto(row: &reassignment::Model) -> Result<v1::Reassignment> {
    let (source, slot) = if row.source_kind == "employee" {
        let slot: ManagerSlot = row
            .slot
            .parse()
            .map_err(|_| internal(format!("stored slot {:?}", row.slot)))?;
        (
            Source::FromEmployeeId(row.from_employee_id.clone()),
            slot_to_proto(slot),
        )
    } else {
        (
            Source::FromBranchId(row.from_branch_id.clone()),
            v1::ManagerSlot::Unspecified,
        )
    };
    Ok(v1::Reassignment {
        reassignment_id: row.reassignment_id.clone(),
        source: Some(source),
        slot: slot as i32,
        to_branch_id: row.to_branch_id.clone(),
        to_primary_manager_id: row.to_primary_manager_id.clone(),
        to_backup_manager_id: row.to_backup_manager_id.clone(),
        effective_date: Some(convert::date_to_proto(row.effective_date)),
        customer_count: row.customer_count,
        approval: Some(approval_trail(
            status_of(&row.status)?,
            &row.maker,
            row.submit_time,
            &row.submit_reason,
            row.checker.as_deref(),
            row.decide_time,
            &row.decide_reason,
        )),
        version: row.version,
    })
}

/// The pending reassignments that froze any of `customer_ids`: customer id → reassignment id.
pub(crate) async fn pending_items_of<C: ConnectionTrait>(
    db: &C,
    customer_ids: &[String],
) -> Result<BTreeMap<String, String>> {
    let mut items = Vec::new();
    for chunk in customer_ids.chunks(CHUNK) {
        items.extend(
            reassignment_item::Entity::find()
                .filter(reassignment_item::Column::CustomerId.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    let ids: BTreeSet<String> = items.iter().map(|i| i.reassignment_id.clone()).collect();
    let ids: Vec<String> = ids.into_iter().collect();
    let mut pending = BTreeSet::new();
    for chunk in ids.chunks(CHUNK) {
        for r in reassignment::Entity::find()
            .filter(reassignment::Column::ReassignmentId.is_in(chunk.to_vec()))
            .filter(reassignment::Column::Status.eq(ApprovalStatus::Pending.as_str()))
            .all(db)
            .await?
        {
            pending.insert(r.reassignment_id);
        }
    }
    Ok(items
        .into_iter()
        .filter(|i| pending.contains(&i.reassignment_id))
        .map(|i| (i.customer_id, i.reassignment_id))
        .collect())
}

/// Checks every manager a set of moves gives a customer: the new managers (named by their target
/// field) must be active customer managers on `on` in the subtree of each new owning branch, and a
/// manager who keeps a post on a customer that changes branch must fit the new branch too (named
/// as `to_branch_id`).
async fn check_moves<C: ConnectionTrait>(
    db: &C,
    tree: &BranchTree,
    prefix: &str,
    moves: &[(Owners, Owners)],
    on: chrono::NaiveDate,
    v: &mut Violations,
) -> Result<()> {
    let mut need: BTreeMap<(String, String), BTreeSet<BranchCode>> = BTreeMap::new();
    for (before, after) in moves {
        let branch_moves = before.branch != after.branch;
        for (field, old, new) in [
            (
                "to_primary_manager_id",
                &before.primary_manager,
                &after.primary_manager,
            ),
            (
                "to_backup_manager_id",
                &before.backup_manager,
                &after.backup_manager,
            ),
        ] {
            let field = if old != new {
                field
            } else if branch_moves {
                "to_branch_id"
            } else {
                continue;
            };
            need.entry((format!("{prefix}{field}"), new.clone()))
                .or_default()
                .insert(after.branch.clone());
        }
    }
    for ((field, manager), branches) in need {
        check_manager(db, tree, &field, &manager, &branches, on, v).await?;
    }
    Ok(())
}

/// `CreateReassignment`: the maker step.
pub async fn create(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateReassignmentRequest,
) -> Result<v1::CreateReassignmentResponse> {
    require_role(caller, &MAKER_ROLES, "CreateReassignment")?;
    let clock = &customers.clock;
    let today = clock.today();
    let mut v = Violations::new();
    validate_reason("reason", &request.reason, true, &mut v);
    let Some(r) = request.reassignment.as_ref() else {
        v.add("reassignment", "is required");
        return Err(v.into());
    };
    let source = match &r.source {
        None => {
            v.add(
                "reassignment.source",
                "set from_employee_id (a leaving manager) or from_branch_id (a closing branch)",
            );
            None
        }
        Some(Source::FromEmployeeId(employee_id)) => {
            validate_employee_id("reassignment.from_employee_id", employee_id, true, &mut v);
            let slot = slot_from_proto(r.slot);
            if slot.is_none() {
                v.add(
                    "reassignment.slot",
                    "must be PRIMARY, BACKUP or BOTH for a leaving manager",
                );
            }
            slot.filter(|_| !employee_id.is_empty())
                .map(|slot| ReassignmentSource::Employee {
                    employee_id: employee_id.clone(),
                    slot,
                })
        }
        Some(Source::FromBranchId(b)) => {
            branch_code("reassignment.from_branch_id", b, &mut v).map(ReassignmentSource::Branch)
        }
    };
    let to_branch = if r.to_branch_id.is_empty() {
        None
    } else {
        branch_code("reassignment.to_branch_id", &r.to_branch_id, &mut v)
    };
    for (field, id) in [
        (
            "reassignment.to_primary_manager_id",
            &r.to_primary_manager_id,
        ),
        ("reassignment.to_backup_manager_id", &r.to_backup_manager_id),
    ] {
        validate_employee_id(field, id, false, &mut v);
    }
    let targets = ReassignmentTargets {
        branch: to_branch,
        primary_manager: Some(r.to_primary_manager_id.clone()).filter(|s| !s.is_empty()),
        backup_manager: Some(r.to_backup_manager_id.clone()).filter(|s| !s.is_empty()),
    };
    let effective = effective_date(
        "reassignment.effective_date",
        r.effective_date.as_ref(),
        today,
        &mut v,
    );
    if let Some(source) = &source {
        for problem in check_targets(source, &targets) {
            let field = target_field(problem.field);
            if !v.fields().iter().any(|(f, _)| f == field) {
                v.add(field, problem.message);
            }
        }
    }
    let Some(source) = source.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };

    let db = &customers.db;
    let tree = tree(db, clock).await?;
    let txn = db.begin().await?;
    let source_branch = match &source {
        ReassignmentSource::Employee { employee_id, .. } => {
            let e = employee::Entity::find_by_id(employee_id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| RegistryError::NotFound {
                    kind: "employee",
                    id: employee_id.clone(),
                })?;
            branch_of(&e.branch_id)?
        }
        ReassignmentSource::Branch(b) => {
            if !tree.contains(b) {
                return Err(RegistryError::NotFound {
                    kind: "branch",
                    id: b.to_string(),
                });
            }
            b.clone()
        }
    };
    let key = source.key();
    if let Some(pending) = reassignment::Entity::find()
        .filter(reassignment::Column::PendingSource.eq(key.clone()))
        .one(&txn)
        .await?
    {
        return Err(RegistryError::FailedPrecondition {
            kind: "REASSIGNMENT_PENDING",
            subject: key,
            message: format!(
                "reassignment {} of the same source is pending; decide it first",
                pending.reassignment_id
            ),
        });
    }
    let mut v = Violations::new();
    if let Some(b) = &targets.branch {
        if !tree.contains(b) {
            v.add("reassignment.to_branch_id", format!("unknown branch {b}"));
        } else if !branch_open_on(&txn, b, effective).await? {
            v.add(
                "reassignment.to_branch_id",
                format!("branch {b} is closed on {effective}"),
            );
        }
    }
    if !v.is_empty() {
        return Err(v.into());
    }

    // Freeze the source's active customers.
    let mut query = customer::Entity::find().filter(customer::Column::Status.eq("active"));
    query = match &source {
        ReassignmentSource::Employee { employee_id, slot } => {
            let mut held = Condition::any();
            if slot.moves_primary() {
                held = held.add(customer::Column::PrimaryManagerId.eq(employee_id.clone()));
            }
            if slot.moves_backup() {
                held = held.add(customer::Column::BackupManagerId.eq(employee_id.clone()));
            }
            query.filter(held)
        }
        ReassignmentSource::Branch(b) => {
            query.filter(customer::Column::OwningBranchId.eq(b.as_str()))
        }
    };
    let rows = query
        .order_by_asc(customer::Column::CustomerId)
        .all(&txn)
        .await?;
    if rows.is_empty() {
        return Err(RegistryError::FailedPrecondition {
            kind: "NOTHING_TO_REASSIGN",
            subject: key,
            message: "the source holds no active customers".to_owned(),
        });
    }
    let mut moves: Vec<(&customer::Model, Owners, Owners)> = Vec::with_capacity(rows.len());
    let mut clashes: BTreeMap<&'static str, (String, Vec<String>)> = BTreeMap::new();
    for c in &rows {
        let before = owners_of(c)?;
        match reassign(&source, &targets, &before) {
            Ok(Some(after)) => moves.push((c, before, after)),
            Ok(None) => {}
            Err(e) => {
                let entry = clashes
                    .entry(target_field(e.field))
                    .or_insert_with(|| (e.message.clone(), Vec::new()));
                entry.1.push(c.customer_id.clone());
            }
        }
    }
    for (field, (message, ids)) in clashes {
        v.add(
            field,
            format!(
                "{message} for {} customer(s): {}",
                ids.len(),
                some_ids(&ids)
            ),
        );
    }
    let pairs: Vec<(Owners, Owners)> = moves
        .iter()
        .map(|(_, b, a)| (b.clone(), a.clone()))
        .collect();
    check_moves(&txn, &tree, "reassignment.", &pairs, effective, &mut v).await?;
    if !v.is_empty() {
        return Err(v.into());
    }
    let ids: Vec<String> = moves
        .iter()
        .map(|(c, _, _)| c.customer_id.clone())
        .collect();
    let mut handed: Vec<String> = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        handed.extend(
            handover::Entity::find()
                .filter(handover::Column::PendingCustomer.is_in(chunk.to_vec()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|h| h.customer_id),
        );
    }
    if !handed.is_empty() {
        return Err(RegistryError::FailedPrecondition {
            kind: "HANDOVER_PENDING",
            subject: key,
            message: format!(
                "{} customer(s) have a pending hand-over; decide them first: {}",
                handed.len(),
                some_ids(&handed)
            ),
        });
    }
    let frozen = pending_items_of(&txn, &ids).await?;
    if !frozen.is_empty() {
        return Err(RegistryError::FailedPrecondition {
            kind: "REASSIGNMENT_PENDING",
            subject: key,
            message: format!(
                "{} customer(s) are frozen in another pending reassignment: {}",
                frozen.len(),
                some_ids(frozen.keys())
            ),
        });
    }
    let mut touched: Vec<BranchCode> = vec![source_branch];
    for (_, before, after) in &moves {
        touched.push(before.branch.clone());
        touched.push(after.branch.clone());
    }
    touched.sort();
    touched.dedup();
    let scope = common_ancestor(&tree, &touched)
        .ok_or_else(|| internal("the reassignment's branches have no common ancestor"))?;
    if !may_act_on_branch(&caller.roles, caller.branch.as_ref(), &scope, &tree) {
        return Err(RegistryError::PermissionDenied(format!(
            "the reassignment touches the subtree of {scope}, outside the caller's own"
        )));
    }

    let at = now(clock);
    let reassignment_id = Uuid::now_v7().to_string();
    let reason = request.reason.trim().to_owned();
    let (kind, from_employee, from_branch, slot) = match &source {
        ReassignmentSource::Employee { employee_id, slot } => (
            "employee",
            employee_id.clone(),
            String::new(),
            slot.as_str().to_owned(),
        ),
        ReassignmentSource::Branch(b) => ("branch", String::new(), b.to_string(), String::new()),
    };
    let count = i64::try_from(moves.len()).map_err(internal)?;
    let inserted = reassignment::ActiveModel {
        reassignment_id: Set(reassignment_id.clone()),
        source_kind: Set(kind.to_owned()),
        from_employee_id: Set(from_employee),
        from_branch_id: Set(from_branch),
        slot: Set(slot),
        source_key: Set(key.clone()),
        pending_source: Set(Some(key.clone())),
        scope_branch_id: Set(scope.as_str().to_owned()),
        to_branch_id: Set(targets
            .branch
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default()),
        to_primary_manager_id: Set(r.to_primary_manager_id.clone()),
        to_backup_manager_id: Set(r.to_backup_manager_id.clone()),
        effective_date: Set(effective),
        customer_count: Set(count),
        status: Set(ApprovalStatus::Pending.as_str().to_owned()),
        maker: Set(caller.subject.clone()),
        submit_time: Set(at),
        submit_reason: Set(reason.clone()),
        checker: Set(None),
        decide_time: Set(None),
        decide_reason: Set(String::new()),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(RegistryError::from);
    let row = match inserted {
        Ok(row) => row,
        Err(e) if is_unique_violation(&e) => {
            return Err(RegistryError::FailedPrecondition {
                kind: "REASSIGNMENT_PENDING",
                subject: key,
                message: "another reassignment of the same source is pending".to_owned(),
            });
        }
        Err(e) => return Err(e),
    };
    let items: Vec<reassignment_item::ActiveModel> = moves
        .iter()
        .map(|(c, before, after)| reassignment_item::ActiveModel {
            reassignment_id: Set(reassignment_id.clone()),
            customer_id: Set(c.customer_id.clone()),
            from_branch_id: Set(before.branch.to_string()),
            from_primary_manager_id: Set(before.primary_manager.clone()),
            from_backup_manager_id: Set(before.backup_manager.clone()),
            customer_version: Set(c.version),
            to_branch_id: Set(after.branch.to_string()),
            to_primary_manager_id: Set(after.primary_manager.clone()),
            to_backup_manager_id: Set(after.backup_manager.clone()),
            ..Default::default()
        })
        .collect();
    for chunk in items.chunks(CHUNK) {
        reassignment_item::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "customer.reassignment.create".to_owned(),
            target_type: "reassignment".to_owned(),
            target_id: reassignment_id.clone(),
            before: format!("source={key} customers={count}"),
            after: format!(
                "branch={} primary={} backup={} from={effective} scope={scope}",
                row.to_branch_id, row.to_primary_manager_id, row.to_backup_manager_id
            ),
            reason,
            request_id: request_id.to_owned(),
        },
        at,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateReassignmentResponse {
        reassignment: Some(to_proto(&row)?),
    })
}

/// `GetReassignment`.
pub async fn get(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetReassignmentRequest,
) -> Result<v1::GetReassignmentResponse> {
    let mut v = Violations::new();
    validate_request_id("reassignment_id", &request.reassignment_id, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    let row = find_visible(db, caller, &tree, &request.reassignment_id).await?;
    Ok(v1::GetReassignmentResponse {
        reassignment: Some(to_proto(&row)?),
    })
}

async fn find_visible<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    tree: &BranchTree,
    id: &str,
) -> Result<reassignment::Model> {
    let row = reassignment::Entity::find()
        .filter(reassignment::Column::ReassignmentId.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| not_found(id))?;
    if visible(caller, tree, &branch_of(&row.scope_branch_id)?) {
        Ok(row)
    } else {
        Err(not_found(id))
    }
}

/// `ListReassignments`: newest first, those scoped inside the subtree, optionally in one state.
pub async fn list(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListReassignmentsRequest,
) -> Result<v1::ListReassignmentsResponse> {
    let mut v = Violations::new();
    let root = if request.branch_id.is_empty() {
        let own = caller.branch.clone();
        if own.is_none() {
            v.add("branch_id", "is required for a caller without a branch");
        }
        own
    } else {
        branch_code("branch_id", &request.branch_id, &mut v)
    };
    let status = status_filter(request.status, "status", &mut v);
    let filters = format!("{root:?}|{status:?}");
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let after = parse_seq(page.after.as_deref(), &mut v);
    let Some(root) = root.filter(|_| v.is_empty()) else {
        return Err(v.into());
    };
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    if !visible(caller, &tree, &root) {
        return Err(RegistryError::NotFound {
            kind: "branch",
            id: root.to_string(),
        });
    }
    let mut query = reassignment::Entity::find();
    if &root != tree.root() {
        let subtree: Vec<String> = tree
            .subtree(&root)
            .map_err(internal)?
            .into_iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        query = query.filter(reassignment::Column::ScopeBranchId.is_in(subtree));
    }
    if let Some(s) = status {
        query = query.filter(reassignment::Column::Status.eq(s.as_str()));
    }
    if let Some(seq) = after {
        query = query.filter(reassignment::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(reassignment::Column::Seq)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    Ok(v1::ListReassignmentsResponse {
        reassignments: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

/// `ApproveReassignment` (`decision` approve) and `RejectReassignment` (`decision` reject).
pub async fn decide(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    reassignment_id: &str,
    expected_version: i64,
    reason: &str,
    decision: Decision,
) -> Result<v1::Reassignment> {
    let approve = decision == Decision::Approve;
    let rpc = if approve {
        "ApproveReassignment"
    } else {
        "RejectReassignment"
    };
    require_role(caller, &CHECKER_ROLES, rpc)?;
    let mut v = Violations::new();
    validate_request_id("reassignment_id", reassignment_id, &mut v);
    validate_version("expected_version", expected_version, &mut v);
    validate_reason("reason", reason, !approve, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let clock = &customers.clock;
    let db = &customers.db;
    let tree = tree(db, clock).await?;
    let txn = db.begin().await?;
    let row = find_visible(&txn, caller, &tree, reassignment_id).await?;
    let scope = branch_of(&row.scope_branch_id)?;
    if !may_check(
        &caller.roles,
        caller.branch.as_ref(),
        std::slice::from_ref(&scope),
        &tree,
    ) {
        return Err(RegistryError::PermissionDenied(format!(
            "{rpc} needs an admin, or a branch head whose subtree holds {scope}"
        )));
    }
    let outcome = decide_rule(
        status_of(&row.status)?,
        decision,
        &row.maker,
        &caller.subject,
    )
    .map_err(|e| refused(reassignment_id, e))?;
    if row.version != expected_version {
        return Err(RegistryError::StaleVersion {
            kind: "reassignment",
            id: reassignment_id.to_owned(),
            expected: expected_version,
            actual: row.version,
        });
    }
    let at = now(clock);
    let today = clock.today();
    let mut moved: Vec<String> = Vec::new();
    if approve {
        let items = reassignment_item::Entity::find()
            .filter(reassignment_item::Column::ReassignmentId.eq(reassignment_id))
            .order_by_asc(reassignment_item::Column::Id)
            .all(&txn)
            .await?;
        let ids: Vec<String> = items.iter().map(|i| i.customer_id.clone()).collect();
        let mut current: BTreeMap<String, customer::Model> = BTreeMap::new();
        for chunk in ids.chunks(CHUNK) {
            for c in customer::Entity::find()
                .filter(customer::Column::CustomerId.is_in(chunk.to_vec()))
                .all(&txn)
                .await?
            {
                current.insert(c.customer_id.clone(), c);
            }
        }
        let mut plan = Vec::with_capacity(items.len());
        for item in &items {
            let c = current
                .get(&item.customer_id)
                .ok_or_else(|| internal(format!("customer {} vanished", item.customer_id)))?;
            if c.status != "active" {
                return Err(RegistryError::FailedPrecondition {
                    kind: "CUSTOMER_STATUS",
                    subject: c.customer_id.clone(),
                    message: "a frozen customer was merged since the maker step".to_owned(),
                });
            }
            let before = Owners {
                branch: branch_of(&item.from_branch_id)?,
                primary_manager: item.from_primary_manager_id.clone(),
                backup_manager: item.from_backup_manager_id.clone(),
            };
            if owners_of(c)? != before {
                return Err(RegistryError::StaleVersion {
                    kind: "customer",
                    id: c.customer_id.clone(),
                    expected: item.customer_version,
                    actual: c.version,
                });
            }
            let after = Owners {
                branch: branch_of(&item.to_branch_id)?,
                primary_manager: item.to_primary_manager_id.clone(),
                backup_manager: item.to_backup_manager_id.clone(),
            };
            plan.push((c, before, after));
        }
        let start = row.effective_date.max(today);
        let mut v = Violations::new();
        if !row.to_branch_id.is_empty() {
            let to = branch_of(&row.to_branch_id)?;
            if !branch_open_on(&txn, &to, start).await? {
                v.add("to_branch_id", format!("branch {to} is closed on {start}"));
            }
        }
        let pairs: Vec<(Owners, Owners)> = plan
            .iter()
            .map(|(_, b, a)| (b.clone(), a.clone()))
            .collect();
        check_moves(&txn, &tree, "", &pairs, start, &mut v).await?;
        if !v.is_empty() {
            let why: Vec<String> = v
                .fields()
                .iter()
                .map(|(f, d)| format!("{f}: {d}"))
                .collect();
            return Err(RegistryError::FailedPrecondition {
                kind: "REASSIGNMENT_TARGET",
                subject: reassignment_id.to_owned(),
                message: format!("the reassignment no longer fits: {}", why.join("; ")),
            });
        }
        let ctx = ChangeContext {
            caller,
            request_id,
            source: format!("reassignment:{reassignment_id}"),
            reason: &row.submit_reason,
            now: at,
            today,
        };
        for (c, _, after) in plan {
            apply_change(&txn, clock, c, after, row.effective_date, &ctx).await?;
            moved.push(c.customer_id.clone());
        }
    }
    let version = row.version + 1;
    let updated = reassignment::Entity::update_many()
        .col_expr(reassignment::Column::Status, Expr::value(outcome.as_str()))
        .col_expr(
            reassignment::Column::PendingSource,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            reassignment::Column::Checker,
            Expr::value(Some(caller.subject.clone())),
        )
        .col_expr(reassignment::Column::DecideTime, Expr::value(Some(at)))
        .col_expr(
            reassignment::Column::DecideReason,
            Expr::value(reason.trim().to_owned()),
        )
        .col_expr(reassignment::Column::Version, Expr::value(version))
        .filter(reassignment::Column::Seq.eq(row.seq))
        .filter(reassignment::Column::Version.eq(row.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(RegistryError::StaleVersion {
            kind: "reassignment",
            id: reassignment_id.to_owned(),
            expected: expected_version,
            actual: version,
        });
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: format!("customer.reassignment.{decision}"),
            target_type: "reassignment".to_owned(),
            target_id: reassignment_id.to_owned(),
            before: format!("status=pending version={}", row.version),
            after: format!(
                "status={outcome} version={version} customers_moved={}",
                moved.len()
            ),
            reason: reason.trim().to_owned(),
            request_id: request_id.to_owned(),
        },
        at,
    )
    .await?;
    txn.commit().await?;
    for id in &moved {
        customers.cache.invalidate(&cache_key(id)).await;
    }
    let fresh = reassignment::Entity::find_by_id(row.seq)
        .one(db)
        .await?
        .ok_or_else(|| internal("decided reassignment vanished"))?;
    to_proto(&fresh)
}
