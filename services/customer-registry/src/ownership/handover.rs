//! The hand-over of one customer to a new branch and/or managers, as a maker-checker request.
//! The maker (a customer manager, branch head or admin who can see the customer) proposes new A
//! and B managers, optionally a new owning branch, an effective date (today or later) and a
//! reason, against the customer version they read; the request freezes the ownership it replaces.
//! A checker — another person, a branch head whose subtree holds both the current and the new
//! branch, or an admin — approves it, which applies the change in one transaction (see
//! [`super::apply_change`]), or rejects it, which changes nothing. A customer has at most one
//! pending hand-over (a unique column), and none while it is frozen in a pending reassignment.

use std::collections::BTreeSet;

use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_domain::ownership::{
    ApprovalStatus, CHECKER_ROLES, Decision, Owners, check_managers, decide as decide_rule,
    may_check,
};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::handover;
use super::{
    ChangeContext, apply_change, approval_trail, branch_of, branch_open_on, check_manager,
    effective_date, internal, is_unique_violation, now, open_row, owners_of, ownership_to_proto,
    refused, status_filter, status_of, tree, validate_customer_id, validate_employee_id,
    validate_reason, validate_request_id, validate_version, visible, visible_customer,
};
use crate::convert::{self, branch_code};
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key};
use crate::error::{RegistryError, Result};
use crate::org::require_role;

/// Roles that may propose a hand-over.
const MAKER_ROLES: [Role; 3] = [Role::CustomerManager, Role::BranchHead, Role::Admin];

fn not_found(id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "handover",
        id: id.to_owned(),
    }
}

/// The wire form of a stored hand-over.
pub fn to_proto(row: &handover::Model) -> Result<v1::Handover> {
    Ok(v1::Handover {
        handover_id: row.handover_id.clone(),
        customer_id: row.customer_id.clone(),
        current: Some(v1::Ownership::decode(row.current.as_slice()).map_err(internal)?),
        to_branch_id: row.to_branch_id.clone(),
        to_primary_manager_id: row.to_primary_manager_id.clone(),
        to_backup_manager_id: row.to_backup_manager_id.clone(),
        effective_date: Some(convert::date_to_proto(row.effective_date)),
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

/// Whether the caller may see a hand-over: it sees the branch it leaves or the one it goes to.
fn may_see(
    caller: &Caller,
    tree: &bankmkt_domain::branch_tree::BranchTree,
    row: &handover::Model,
) -> bool {
    [&row.from_branch_id, &row.to_branch_id]
        .into_iter()
        .filter_map(|b| BranchCode::parse(b).ok())
        .any(|b| visible(caller, tree, &b))
}

/// The reassignment (if any) that froze `customer_id` and is still pending.
async fn frozen_by<C: ConnectionTrait>(db: &C, customer_id: &str) -> Result<Option<String>> {
    let pending = super::reassignment::pending_items_of(db, &[customer_id.to_owned()]).await?;
    Ok(pending.into_values().next())
}

/// `CreateHandover`.
pub async fn create(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateHandoverRequest,
) -> Result<v1::CreateHandoverResponse> {
    require_role(caller, &MAKER_ROLES, "CreateHandover")?;
    let clock = &customers.clock;
    let today = clock.today();
    let mut v = Violations::new();
    validate_reason("reason", &request.reason, true, &mut v);
    validate_version(
        "expected_customer_version",
        request.expected_customer_version,
        &mut v,
    );
    let Some(h) = request.handover.as_ref() else {
        v.add("handover", "is required");
        return Err(v.into());
    };
    validate_customer_id("handover.customer_id", &h.customer_id, &mut v);
    let to_branch = if h.to_branch_id.is_empty() {
        None
    } else {
        branch_code("handover.to_branch_id", &h.to_branch_id, &mut v)
    };
    validate_employee_id(
        "handover.to_primary_manager_id",
        &h.to_primary_manager_id,
        true,
        &mut v,
    );
    validate_employee_id(
        "handover.to_backup_manager_id",
        &h.to_backup_manager_id,
        true,
        &mut v,
    );
    if let Err(e) = check_managers(&h.to_primary_manager_id, &h.to_backup_manager_id) {
        v.add("handover.to_backup_manager_id", e.to_string());
    }
    let effective = effective_date(
        "handover.effective_date",
        h.effective_date.as_ref(),
        today,
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }

    let db = &customers.db;
    let tree = tree(db, clock).await?;
    let txn = db.begin().await?;
    let c = visible_customer(&txn, caller, &tree, &h.customer_id).await?;
    if c.status != "active" {
        return Err(RegistryError::FailedPrecondition {
            kind: "CUSTOMER_STATUS",
            subject: c.customer_id.clone(),
            message: "a merged record cannot be handed over".to_owned(),
        });
    }
    if c.version != request.expected_customer_version {
        return Err(RegistryError::StaleVersion {
            kind: "customer",
            id: c.customer_id.clone(),
            expected: request.expected_customer_version,
            actual: c.version,
        });
    }
    if let Some(pending) = handover::Entity::find()
        .filter(handover::Column::PendingCustomer.eq(c.customer_id.clone()))
        .one(&txn)
        .await?
    {
        return Err(RegistryError::FailedPrecondition {
            kind: "HANDOVER_PENDING",
            subject: c.customer_id.clone(),
            message: format!(
                "hand-over {} of this customer is pending; decide it first",
                pending.handover_id
            ),
        });
    }
    if let Some(reassignment) = frozen_by(&txn, &c.customer_id).await? {
        return Err(RegistryError::FailedPrecondition {
            kind: "REASSIGNMENT_PENDING",
            subject: c.customer_id.clone(),
            message: format!(
                "the customer is frozen in pending reassignment {reassignment}; decide it first"
            ),
        });
    }
    let current = owners_of(&c)?;
    let mut v = Violations::new();
    if let Some(b) = &to_branch {
        if !tree.contains(b) {
            v.add("handover.to_branch_id", format!("unknown branch {b}"));
        } else if !branch_open_on(&txn, b, effective).await? {
            v.add(
                "handover.to_branch_id",
                format!("branch {b} is closed on {effective}"),
            );
        }
    }
    let proposed = Owners {
        branch: to_branch.clone().unwrap_or_else(|| current.branch.clone()),
        primary_manager: h.to_primary_manager_id.clone(),
        backup_manager: h.to_backup_manager_id.clone(),
    };
    if proposed == current {
        v.add(
            "handover",
            "changes nothing: the branch and both managers are already the customer's",
        );
    }
    if v.is_empty() {
        let branches = BTreeSet::from([proposed.branch.clone()]);
        for (field, id) in [
            ("handover.to_primary_manager_id", &proposed.primary_manager),
            ("handover.to_backup_manager_id", &proposed.backup_manager),
        ] {
            check_manager(&txn, &tree, field, id, &branches, effective, &mut v).await?;
        }
    }
    if !v.is_empty() {
        return Err(v.into());
    }

    let open = open_row(&txn, clock, &c).await?;
    let at = now(clock);
    let handover_id = Uuid::now_v7().to_string();
    let reason = request.reason.trim().to_owned();
    let inserted = handover::ActiveModel {
        handover_id: Set(handover_id.clone()),
        customer_id: Set(c.customer_id.clone()),
        pending_customer: Set(Some(c.customer_id.clone())),
        from_branch_id: Set(current.branch.as_str().to_owned()),
        from_primary_manager_id: Set(current.primary_manager.clone()),
        from_backup_manager_id: Set(current.backup_manager.clone()),
        customer_version: Set(c.version),
        current: Set(ownership_to_proto(&open).encode_to_vec()),
        to_branch_id: Set(proposed.branch.as_str().to_owned()),
        to_primary_manager_id: Set(proposed.primary_manager.clone()),
        to_backup_manager_id: Set(proposed.backup_manager.clone()),
        effective_date: Set(effective),
        applied_from: Set(None),
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
                kind: "HANDOVER_PENDING",
                subject: c.customer_id.clone(),
                message: "another hand-over of this customer is pending".to_owned(),
            });
        }
        Err(e) => return Err(e),
    };
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "customer.handover.create".to_owned(),
            target_type: "customer".to_owned(),
            target_id: c.customer_id.clone(),
            before: format!(
                "branch={} primary={} backup={}",
                current.branch, current.primary_manager, current.backup_manager
            ),
            after: format!(
                "handover={handover_id} branch={} primary={} backup={} from={effective}",
                proposed.branch, proposed.primary_manager, proposed.backup_manager
            ),
            reason,
            request_id: request_id.to_owned(),
        },
        at,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateHandoverResponse {
        handover: Some(to_proto(&row)?),
    })
}

/// `GetHandover`.
pub async fn get(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetHandoverRequest,
) -> Result<v1::GetHandoverResponse> {
    let mut v = Violations::new();
    validate_request_id("handover_id", &request.handover_id, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    let row = handover::Entity::find()
        .filter(handover::Column::HandoverId.eq(request.handover_id.clone()))
        .one(db)
        .await?
        .filter(|row| may_see(caller, &tree, row))
        .ok_or_else(|| not_found(&request.handover_id))?;
    Ok(v1::GetHandoverResponse {
        handover: Some(to_proto(&row)?),
    })
}

/// `ListHandovers`: newest first; those leaving or entering the subtree, optionally of one
/// customer and in one state.
pub async fn list(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListHandoversRequest,
) -> Result<v1::ListHandoversResponse> {
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
    if !request.customer_id.is_empty() {
        validate_customer_id("customer_id", &request.customer_id, &mut v);
    }
    let status = status_filter(request.status, "status", &mut v);
    let filters = format!("{root:?}|{}|{status:?}", request.customer_id);
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
    let mut query = handover::Entity::find();
    if &root != tree.root() {
        let subtree: Vec<String> = tree
            .subtree(&root)
            .map_err(internal)?
            .into_iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        query = query.filter(
            Condition::any()
                .add(handover::Column::FromBranchId.is_in(subtree.clone()))
                .add(handover::Column::ToBranchId.is_in(subtree)),
        );
    }
    if !request.customer_id.is_empty() {
        query = query.filter(handover::Column::CustomerId.eq(request.customer_id.clone()));
    }
    if let Some(s) = status {
        query = query.filter(handover::Column::Status.eq(s.as_str()));
    }
    if let Some(seq) = after {
        query = query.filter(handover::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(handover::Column::Seq)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    Ok(v1::ListHandoversResponse {
        handovers: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

/// The sequence number in a page token.
pub(crate) fn parse_seq(after: Option<&str>, v: &mut Violations) -> Option<i64> {
    let raw = after?;
    match raw.parse::<i64>() {
        Ok(seq) => Some(seq),
        Err(_) => {
            v.add("page_token", "is not a token this service issued");
            None
        }
    }
}

/// `ApproveHandover` (`decision` approve) and `RejectHandover` (`decision` reject).
pub async fn decide(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    handover_id: &str,
    expected_version: i64,
    reason: &str,
    decision: Decision,
) -> Result<v1::Handover> {
    let approve = decision == Decision::Approve;
    let rpc = if approve {
        "ApproveHandover"
    } else {
        "RejectHandover"
    };
    require_role(caller, &CHECKER_ROLES, rpc)?;
    let mut v = Violations::new();
    validate_request_id("handover_id", handover_id, &mut v);
    validate_version("expected_version", expected_version, &mut v);
    validate_reason("reason", reason, !approve, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let clock = &customers.clock;
    let db = &customers.db;
    let tree = tree(db, clock).await?;
    let txn = db.begin().await?;
    let row = handover::Entity::find()
        .filter(handover::Column::HandoverId.eq(handover_id))
        .one(&txn)
        .await?
        .filter(|row| may_see(caller, &tree, row))
        .ok_or_else(|| not_found(handover_id))?;
    let from = branch_of(&row.from_branch_id)?;
    let to = branch_of(&row.to_branch_id)?;
    if !may_check(
        &caller.roles,
        caller.branch.as_ref(),
        &[from.clone(), to.clone()],
        &tree,
    ) {
        return Err(RegistryError::PermissionDenied(format!(
            "{rpc} needs an admin, or a branch head whose subtree holds {from} and {to}"
        )));
    }
    let outcome = decide_rule(
        status_of(&row.status)?,
        decision,
        &row.maker,
        &caller.subject,
    )
    .map_err(|e| refused(handover_id, e))?;
    if row.version != expected_version {
        return Err(RegistryError::StaleVersion {
            kind: "handover",
            id: handover_id.to_owned(),
            expected: expected_version,
            actual: row.version,
        });
    }
    let at = now(clock);
    let today = clock.today();
    let mut applied_from = None;
    if approve {
        let c = customer::Entity::find_by_id(row.customer_id.clone())
            .one(&txn)
            .await?
            .ok_or_else(|| internal(format!("customer {} vanished", row.customer_id)))?;
        if c.status != "active" {
            return Err(RegistryError::FailedPrecondition {
                kind: "CUSTOMER_STATUS",
                subject: c.customer_id.clone(),
                message: "the customer was merged since the hand-over was proposed".to_owned(),
            });
        }
        let frozen = Owners {
            branch: from.clone(),
            primary_manager: row.from_primary_manager_id.clone(),
            backup_manager: row.from_backup_manager_id.clone(),
        };
        if owners_of(&c)? != frozen {
            return Err(RegistryError::StaleVersion {
                kind: "customer",
                id: c.customer_id.clone(),
                expected: row.customer_version,
                actual: c.version,
            });
        }
        let proposed = Owners {
            branch: to.clone(),
            primary_manager: row.to_primary_manager_id.clone(),
            backup_manager: row.to_backup_manager_id.clone(),
        };
        let start = row.effective_date.max(today);
        let mut v = Violations::new();
        if !branch_open_on(&txn, &to, start).await? {
            v.add("to_branch_id", format!("branch {to} is closed on {start}"));
        }
        let branches = BTreeSet::from([to.clone()]);
        for (field, id) in [
            ("to_primary_manager_id", &proposed.primary_manager),
            ("to_backup_manager_id", &proposed.backup_manager),
        ] {
            check_manager(&txn, &tree, field, id, &branches, start, &mut v).await?;
        }
        if !v.is_empty() {
            let why: Vec<String> = v
                .fields()
                .iter()
                .map(|(f, d)| format!("{f}: {d}"))
                .collect();
            return Err(RegistryError::FailedPrecondition {
                kind: "HANDOVER_TARGET",
                subject: handover_id.to_owned(),
                message: format!("the hand-over no longer fits: {}", why.join("; ")),
            });
        }
        let ctx = ChangeContext {
            caller,
            request_id,
            source: format!("handover:{handover_id}"),
            reason: &row.submit_reason,
            now: at,
            today,
        };
        let (opened, _) = apply_change(&txn, clock, &c, proposed, row.effective_date, &ctx).await?;
        applied_from = Some(opened.valid_from);
    }
    let version = row.version + 1;
    let updated = handover::Entity::update_many()
        .col_expr(handover::Column::Status, Expr::value(outcome.as_str()))
        .col_expr(
            handover::Column::PendingCustomer,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            handover::Column::Checker,
            Expr::value(Some(caller.subject.clone())),
        )
        .col_expr(handover::Column::DecideTime, Expr::value(Some(at)))
        .col_expr(
            handover::Column::DecideReason,
            Expr::value(reason.trim().to_owned()),
        )
        .col_expr(handover::Column::AppliedFrom, Expr::value(applied_from))
        .col_expr(handover::Column::Version, Expr::value(version))
        .filter(handover::Column::Seq.eq(row.seq))
        .filter(handover::Column::Version.eq(row.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(RegistryError::StaleVersion {
            kind: "handover",
            id: handover_id.to_owned(),
            expected: expected_version,
            actual: version,
        });
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: format!("customer.handover.{decision}"),
            target_type: "customer".to_owned(),
            target_id: row.customer_id.clone(),
            before: format!(
                "handover={handover_id} status=pending version={}",
                row.version
            ),
            after: format!(
                "handover={handover_id} status={outcome} version={version}{}",
                applied_from
                    .map(|d| format!(" from={d}"))
                    .unwrap_or_default()
            ),
            reason: reason.trim().to_owned(),
            request_id: request_id.to_owned(),
        },
        at,
    )
    .await?;
    txn.commit().await?;
    if approve {
        customers
            .cache
            .invalidate(&cache_key(&row.customer_id))
            .await;
    }
    let fresh = handover::Entity::find_by_id(row.seq)
        .one(db)
        .await?
        .ok_or_else(|| internal("decided hand-over vanished"))?;
    to_proto(&fresh)
}
