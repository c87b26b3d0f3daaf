//! Tier change lists after the maker step: reads (`GetTierChangeList`, `ListTierChangeLists`,
//! `ListTierChanges`), the checker step (`ApproveTierChangeList`, `RejectTierChangeList`) and the
//! tier history (`ListTierHistory`). The checker is a branch head whose subtree holds the list's
//! scope, or an admin, and never the maker (`bankmkt_domain::ownership::decide`). Approval
//! applies every change in one transaction: the customer's tier column with a version bump,
//! a `tier_history` row with the reason and the rule version, an audit entry and one
//! `customer.tier_changed` event per customer, then the list's decision; the customers' cache
//! entries are dropped after the commit. A customer whose tier changed since the evaluation (or
//! that was merged) refuses the whole approval with `FAILED_PRECONDITION`, naming it; changes
//! to other master data do not. Rejection changes nothing but the list.

use std::collections::BTreeMap;

use bankmkt_domain::branch_tree::BranchTree;
use bankmkt_domain::org::BranchCode;
use bankmkt_domain::ownership::{CHECKER_ROLES, Decision, decide as decide_rule, may_check};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::{tier_change, tier_change_list, tier_history};
use super::evaluate::CHUNK;
use super::{ChangeFields, RULE_KIND, Scheme, TIER_CHANGED, change_to_proto, internal};
use crate::convert::{self, branch_code};
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key};
use crate::error::{RegistryError, Result};
use crate::org::require_role;
use crate::ownership::{
    approval_trail, refused, status_filter, status_of, tree, validate_reason, validate_request_id,
    validate_version, visible,
};
use crate::value::wire;

fn not_found(id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "tier change list",
        id: id.to_owned(),
    }
}

fn branch_of(code: &str) -> Result<BranchCode> {
    BranchCode::parse(code).map_err(|e| internal(format!("stored branch code: {e}")))
}

/// A change list by id, without access checks.
pub(crate) async fn find_list<C: ConnectionTrait>(
    db: &C,
    id: &str,
) -> Result<tier_change_list::Model> {
    tier_change_list::Entity::find()
        .filter(tier_change_list::Column::ChangeListId.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| not_found(id))
}

/// A change list the caller may see, or `NOT_FOUND`.
async fn find_visible<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    tree: &BranchTree,
    id: &str,
) -> Result<tier_change_list::Model> {
    let row = find_list(db, id).await?;
    if visible(caller, tree, &branch_of(&row.scope_branch_id)?) {
        Ok(row)
    } else {
        Err(not_found(id))
    }
}

/// The wire form of a stored change list.
pub(crate) fn list_to_proto(row: &tier_change_list::Model) -> Result<v1::TierChangeList> {
    Ok(v1::TierChangeList {
        change_list_id: row.change_list_id.clone(),
        scheme: Scheme::from_code(&row.scheme)?.to_proto() as i32,
        branch_id: row.branch_id.clone(),
        customer_id: row.customer_id.clone(),
        period: Some(wire::period_out(wire::period_of_key(row.period_key)?)),
        evaluated_count: row.evaluated_count,
        upgrade_count: row.upgrade_count,
        downgrade_count: row.downgrade_count,
        entry_count: row.entry_count,
        exit_count: row.exit_count,
        rule_versions: vec![wire::rule_ref(
            RULE_KIND,
            &row.rule_set_id,
            row.rule_version,
        )],
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

fn item_to_proto(scheme: Scheme, row: &tier_change::Model) -> Result<v1::TierChange> {
    change_to_proto(ChangeFields {
        customer_id: &row.customer_id,
        customer_name: &row.customer_name,
        scheme,
        kind: &row.kind,
        from: row.from_tier.as_deref(),
        to: row.to_tier.as_deref(),
        reason: &row.reason,
    })
}

/// `GetTierChangeList`.
pub async fn get(
    customers: &Customers,
    caller: &Caller,
    request: v1::GetTierChangeListRequest,
) -> Result<v1::GetTierChangeListResponse> {
    let mut v = Violations::new();
    validate_request_id("change_list_id", &request.change_list_id, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let tree = tree(&customers.db, &customers.clock).await?;
    let row = find_visible(&customers.db, caller, &tree, &request.change_list_id).await?;
    Ok(v1::GetTierChangeListResponse {
        change_list: Some(list_to_proto(&row)?),
    })
}

/// `ListTierChangeLists`: newest first, those scoped inside the subtree, optionally in one state.
pub async fn list(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListTierChangeListsRequest,
) -> Result<v1::ListTierChangeListsResponse> {
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
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &format!("tier-lists|{root:?}|{status:?}"),
        &mut v,
    );
    let after = match page.after.as_deref() {
        None => None,
        Some(a) => match a.parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                v.add("page_token", "is not a token this service issued");
                None
            }
        },
    };
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
    let mut query = tier_change_list::Entity::find();
    if &root != tree.root() {
        let subtree: Vec<String> = tree
            .subtree(&root)
            .map_err(internal)?
            .into_iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        query = query.filter(tier_change_list::Column::ScopeBranchId.is_in(subtree));
    }
    if let Some(s) = status {
        query = query.filter(tier_change_list::Column::Status.eq(s.as_str()));
    }
    if let Some(seq) = after {
        query = query.filter(tier_change_list::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(tier_change_list::Column::Seq)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    Ok(v1::ListTierChangeListsResponse {
        change_lists: rows.iter().map(list_to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}

/// `ListTierChanges`: the changes of one list in customer order, optionally of one kind.
pub async fn list_changes(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListTierChangesRequest,
) -> Result<v1::ListTierChangesResponse> {
    let mut v = Violations::new();
    validate_request_id("change_list_id", &request.change_list_id, &mut v);
    let kind = match v1::TierChangeKind::try_from(request.kind) {
        Ok(v1::TierChangeKind::Unspecified) => None,
        Ok(_) => super::kind_from_proto(request.kind),
        Err(_) => {
            v.add("kind", "must be a known tier change kind");
            None
        }
    };
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &format!("tier-changes|{}|{kind:?}", request.change_list_id),
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }
    let db = &customers.db;
    let tree = tree(db, &customers.clock).await?;
    let list = find_visible(db, caller, &tree, &request.change_list_id).await?;
    let scheme = Scheme::from_code(&list.scheme)?;
    let mut query = tier_change::Entity::find()
        .filter(tier_change::Column::ChangeListId.eq(request.change_list_id.clone()));
    if let Some(k) = kind {
        query = query.filter(tier_change::Column::Kind.eq(k.as_str()));
    }
    if let Some(after) = &page.after {
        query = query.filter(tier_change::Column::CustomerId.gt(after.clone()));
    }
    let mut rows = query
        .order_by_asc(tier_change::Column::CustomerId)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.customer_id.clone());
    Ok(v1::ListTierChangesResponse {
        changes: rows
            .iter()
            .map(|r| item_to_proto(scheme, r))
            .collect::<Result<_>>()?,
        next_page_token,
    })
}

/// `ApproveTierChangeList` (`decision` approve) and `RejectTierChangeList` (`decision` reject).
pub async fn decide(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    change_list_id: &str,
    expected_version: i64,
    reason: &str,
    decision: Decision,
) -> Result<v1::TierChangeList> {
    let approve = decision == Decision::Approve;
    let rpc = if approve {
        "ApproveTierChangeList"
    } else {
        "RejectTierChangeList"
    };
    require_role(caller, &CHECKER_ROLES, rpc)?;
    let mut v = Violations::new();
    validate_request_id("change_list_id", change_list_id, &mut v);
    validate_version("expected_version", expected_version, &mut v);
    validate_reason("reason", reason, !approve, &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let clock = &customers.clock;
    let db = &customers.db;
    let tree = tree(db, clock).await?;
    let txn = db.begin().await?;
    let row = find_visible(&txn, caller, &tree, change_list_id).await?;
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
    .map_err(|e| refused(change_list_id, e))?;
    if row.version != expected_version {
        return Err(RegistryError::StaleVersion {
            kind: "tier change list",
            id: change_list_id.to_owned(),
            expected: expected_version,
            actual: row.version,
        });
    }
    let at = wire::now_micros(clock);
    let today = clock.today();
    let scheme = Scheme::from_code(&row.scheme)?;
    let reason = reason.trim().to_owned();
    let mut applied: Vec<String> = Vec::new();
    if approve {
        let items = tier_change::Entity::find()
            .filter(tier_change::Column::ChangeListId.eq(change_list_id))
            .order_by_asc(tier_change::Column::CustomerId)
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
        for item in &items {
            let c = current
                .get(&item.customer_id)
                .ok_or_else(|| internal(format!("customer {} vanished", item.customer_id)))?;
            if c.status != "active" {
                return Err(RegistryError::FailedPrecondition {
                    kind: "CUSTOMER_STATUS",
                    subject: c.customer_id.clone(),
                    message: format!(
                        "customer {} was merged since the evaluation; evaluate again",
                        c.customer_id
                    ),
                });
            }
            let now_tier = match scheme {
                Scheme::Corporate => c.corporate_tier.as_deref(),
                Scheme::Wealth => c.wealth_tier.as_deref(),
            };
            if now_tier != item.from_tier.as_deref() {
                return Err(RegistryError::FailedPrecondition {
                    kind: "TIER_CHANGED",
                    subject: c.customer_id.clone(),
                    message: format!(
                        "the {} tier of customer {} changed since the evaluation (was {}, is {}); \
                         evaluate again",
                        scheme.code(),
                        c.customer_id,
                        item.from_tier.as_deref().unwrap_or("none"),
                        now_tier.unwrap_or("none")
                    ),
                });
            }
        }
        for item in &items {
            let Some(c) = current.get(&item.customer_id) else {
                continue;
            };
            apply(
                &txn, caller, request_id, &row, scheme, item, c, at, today, &reason,
            )
            .await?;
            applied.push(c.customer_id.clone());
        }
    }
    let version = row.version + 1;
    let updated = tier_change_list::Entity::update_many()
        .col_expr(
            tier_change_list::Column::Status,
            Expr::value(outcome.as_str()),
        )
        .col_expr(
            tier_change_list::Column::Checker,
            Expr::value(Some(caller.subject.clone())),
        )
        .col_expr(tier_change_list::Column::DecideTime, Expr::value(Some(at)))
        .col_expr(
            tier_change_list::Column::DecideReason,
            Expr::value(reason.clone()),
        )
        .col_expr(tier_change_list::Column::Version, Expr::value(version))
        .filter(tier_change_list::Column::Seq.eq(row.seq))
        .filter(tier_change_list::Column::Version.eq(row.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(RegistryError::StaleVersion {
            kind: "tier change list",
            id: change_list_id.to_owned(),
            expected: expected_version,
            actual: version,
        });
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: format!("tier.change_list.{decision}"),
            target_type: "tier_change_list".to_owned(),
            target_id: change_list_id.to_owned(),
            before: format!("status=pending version={}", row.version),
            after: format!(
                "status={} version={version} customers_changed={}",
                outcome.as_str(),
                applied.len()
            ),
            reason: reason.clone(),
            request_id: request_id.to_owned(),
        },
        at,
    )
    .await?;
    txn.commit().await?;
    for id in &applied {
        customers.cache.invalidate(&cache_key(id)).await;
    }
    let fresh = find_list(db, change_list_id).await?;
    list_to_proto(&fresh)
}

/// Applies one change inside the approval's transaction.
#[allow(clippy::too_many_arguments)]
async fn apply<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    request_id: &str,
    list: &tier_change_list::Model,
    scheme: Scheme,
    item: &tier_change::Model,
    c: &customer::Model,
    at: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
    reason: &str,
) -> Result<()> {
    let version = c.version + 1;
    let column = match scheme {
        Scheme::Corporate => customer::Column::CorporateTier,
        Scheme::Wealth => customer::Column::WealthTier,
    };
    let updated = customer::Entity::update_many()
        .col_expr(column, Expr::value(item.to_tier.clone()))
        .col_expr(customer::Column::Version, Expr::value(version))
        .col_expr(customer::Column::UpdateTime, Expr::value(at))
        .filter(customer::Column::CustomerId.eq(c.customer_id.clone()))
        .filter(customer::Column::Version.eq(c.version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(RegistryError::StaleVersion {
            kind: "customer",
            id: c.customer_id.clone(),
            expected: c.version,
            actual: version,
        });
    }
    tier_history::ActiveModel {
        customer_id: Set(c.customer_id.clone()),
        customer_name: Set(c.name.clone()),
        scheme: Set(scheme.code().to_owned()),
        kind: Set(item.kind.clone()),
        from_tier: Set(item.from_tier.clone()),
        to_tier: Set(item.to_tier.clone()),
        reason: Set(item.reason.clone()),
        change_list_id: Set(list.change_list_id.clone()),
        rule_set_id: Set(list.rule_set_id.clone()),
        rule_version: Set(list.rule_version),
        effective_date: Set(today),
        actor: Set(caller.subject.clone()),
        applied_at: Set(at),
        applied_reason: Set(reason.to_owned()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let tier = |t: Option<&str>| t.unwrap_or("none").to_owned();
    audit::record(
        txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "customer.tier.change".to_owned(),
            target_type: "customer".to_owned(),
            target_id: c.customer_id.clone(),
            before: format!(
                "{}_tier={} version={}",
                scheme.code(),
                tier(item.from_tier.as_deref()),
                c.version
            ),
            after: format!(
                "{}_tier={} version={version} list={} rules={}@{}",
                scheme.code(),
                tier(item.to_tier.as_deref()),
                list.change_list_id,
                list.rule_set_id,
                list.rule_version
            ),
            reason: item.reason.clone(),
            request_id: request_id.to_owned(),
        },
        at,
    )
    .await?;
    let payload = item_to_proto(scheme, item)?;
    outbox::append(
        txn,
        Envelope {
            aggregate_type: "customer".to_owned(),
            aggregate_id: c.customer_id.clone(),
            aggregate_version: version,
            event_type: TIER_CHANGED.to_owned(),
            occurred_at: at,
            payload: payload.encode_to_vec(),
        },
    )
    .await?;
    Ok(())
}

/// `ListTierHistory`: a visible customer's applied changes, newest first.
pub async fn history(
    customers: &Customers,
    caller: &Caller,
    request: v1::ListTierHistoryRequest,
) -> Result<v1::ListTierHistoryResponse> {
    let mut v = Violations::new();
    wire::customer_id_in("customer_id", &request.customer_id, &mut v);
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &format!("tier-history|{}", request.customer_id),
        &mut v,
    );
    let after = match page.after.as_deref() {
        None => None,
        Some(a) => match a.parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                v.add("page_token", "is not a token this service issued");
                None
            }
        },
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    crate::value::visible_customer(customers, caller, &request.customer_id).await?;
    let mut query = tier_history::Entity::find()
        .filter(tier_history::Column::CustomerId.eq(request.customer_id.clone()));
    if let Some(seq) = after {
        query = query.filter(tier_history::Column::Seq.lt(seq));
    }
    let mut rows = query
        .order_by_desc(tier_history::Column::Seq)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.seq.to_string());
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let change = change_to_proto(ChangeFields {
            customer_id: &r.customer_id,
            customer_name: &r.customer_name,
            scheme: Scheme::from_code(&r.scheme)?,
            kind: &r.kind,
            from: r.from_tier.as_deref(),
            to: r.to_tier.as_deref(),
            reason: &r.reason,
        })?;
        entries.push(v1::TierHistoryEntry {
            change: Some(change),
            change_list_id: r.change_list_id.clone(),
            effective_date: Some(convert::date_to_proto(r.effective_date)),
            applied: Some(v1::AuditStamp {
                actor_id: r.actor.clone(),
                time: wire::ts(r.applied_at),
                reason: r.applied_reason.clone(),
            }),
        });
    }
    Ok(v1::ListTierHistoryResponse {
        entries,
        next_page_token,
    })
}
