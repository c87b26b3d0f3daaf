//! Claims and join requests (DOMAIN.md §5 "Claims", "No internal competition"): `ListClaims`
//! lists the claim history newest first, blanking the holder where the caller may not see it
//! (naming an opportunity the caller may not see is `NOT_FOUND`, as `GetOpportunity` answers);
//! a unit refused by a claim asks the holder to let it in (`CreateJoinRequest`, the domain's
//! `check_join_request`: someone working in the unit asks, the unit is not yet a unit, no other
//! request of it is pending); the lead answers — accepting proposes a share amendment that
//! includes the unit (the domain's `check_join_acceptance` and `propose`; the unit joins when
//! the amendment is accepted), declining needs a reason (`check_join_decline`). Moving the
//! opportunity to lost or closed declines its pending requests in the same transaction.

use std::collections::BTreeSet;

use bankmkt_domain::coordination::joins::{self, JoinAsk};
use bankmkt_domain::coordination::{
    AmendmentStatus, JoinRequestStatus, ShareSet, UnitRef, members,
};
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::CoordinationService;
use crate::convert::{self, stored};
use crate::entity::{claim, join_request, opportunity};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::shares;
use crate::store;

/// `ListClaims`: newest first.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListClaimsRequest,
) -> Result<v1::ListClaimsResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let customer = if request.customer_id.is_empty() {
        None
    } else {
        convert::customer_id("customer_id", &request.customer_id, &mut v)
    };
    let line = convert::filter_enum(
        "line",
        request.line,
        convert::line_from_proto,
        "business line",
        &mut v,
    );
    let opp = if request.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("opportunity_id", &request.opportunity_id, &mut v)
    };
    if customer.is_none() && opp.is_none() && v.is_empty() {
        v.add("customer_id", "name a customer or an opportunity");
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let mut q = claim::Entity::find();
    if let Some(c) = customer {
        q = q.filter(claim::Column::CustomerId.eq(c.to_string()));
    }
    if let Some(l) = line {
        q = q.filter(claim::Column::Line.eq(l.as_str()));
    }
    if let Some(o) = &opp {
        // Naming an opportunity lists its claims only to those who may see it, answered as
        // `GetOpportunity` answers.
        store::load(&svc.db, caller, o, svc.clock.today()).await?;
        q = q.filter(claim::Column::OpportunityId.eq(o.clone()));
    }
    if request.active_only {
        q = q.filter(
            claim::Column::State.eq(bankmkt_domain::coordination::ClaimState::Active.as_str()),
        );
    }
    if let Some(a) = after {
        q = q.filter(claim::Column::ClaimId.lt(a));
    }
    let mut rows = q
        .order_by_desc(claim::Column::ClaimId)
        .limit(size as u64 + 1)
        .all(&svc.db)
        .await?;
    let more = rows.len() > size;
    rows.truncate(size);
    let ids: BTreeSet<String> = rows.iter().map(|r| r.opportunity_id.clone()).collect();
    let visible = store::visible_ids(&svc.db, caller, &ids, svc.clock.today()).await?;
    let mut claims = Vec::with_capacity(rows.len());
    for r in &rows {
        let state: bankmkt_domain::coordination::ClaimState = stored("claim state", &r.state)?;
        let line: bankmkt_domain::org::BusinessLine = stored("line", &r.line)?;
        claims.push(v1::Claim {
            claim_id: r.claim_id.clone(),
            customer_id: r.customer_id.clone(),
            line: convert::line_to_proto(line) as i32,
            opportunity_id: if visible.contains(&r.opportunity_id) {
                r.opportunity_id.clone()
            } else {
                String::new()
            },
            state: convert::claim_state_to_proto(state) as i32,
            create_time: Some(convert::timestamp(r.create_time)),
            end_time: r.end_time.map(convert::timestamp),
        });
    }
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => convert::page_token(&filters, &last.claim_id),
        _ => String::new(),
    };
    Ok(v1::ListClaimsResponse {
        claims,
        next_page_token,
    })
}

fn unit_of(row: &join_request::Model) -> Result<UnitRef> {
    Ok(UnitRef::new(
        BranchCode::parse(&row.unit_branch).map_err(ServiceError::internal)?,
        stored("line", &row.unit_line)?,
    ))
}

/// A join request for the wire.
pub fn to_proto(row: &join_request::Model) -> Result<v1::JoinRequest> {
    let status: JoinRequestStatus = stored("join request status", &row.status)?;
    Ok(v1::JoinRequest {
        join_request_id: row.join_request_id.clone(),
        opportunity_id: row.opportunity_id.clone(),
        unit: Some(convert::unit_to_proto(&unit_of(row)?)),
        requested_share_bps: row.requested_share_bps,
        message: row.message.clone(),
        status: convert::join_status_to_proto(status) as i32,
        amendment_id: row.amendment_id.clone().unwrap_or_default(),
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
        decided: match (&row.decided_by, row.decide_time) {
            (Some(by), Some(at)) => Some(convert::stamp(
                by,
                at,
                row.decide_reason.as_deref().unwrap_or(""),
            )),
            _ => None,
        },
        version: row.version,
    })
}

/// Whether `unit` has a pending join request on opportunity `id`.
async fn pending_join<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: &str,
    unit: &UnitRef,
) -> Result<bool> {
    Ok(join_request::Entity::find()
        .filter(join_request::Column::OpportunityId.eq(id))
        .filter(join_request::Column::UnitBranch.eq(unit.branch.as_str()))
        .filter(join_request::Column::UnitLine.eq(unit.line.as_str()))
        .filter(join_request::Column::Status.eq(JoinRequestStatus::Pending.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// `CreateJoinRequest`. The requester may not see the holder's data; knowing its id (from the
/// refusal) is enough to ask.
pub async fn create_join(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateJoinRequestRequest,
) -> Result<v1::CreateJoinRequestResponse> {
    let mut v = Violations::new();
    let Some(j) = request.join_request.as_ref() else {
        v.add("join_request", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("join_request.opportunity_id", &j.opportunity_id, &mut v);
    let unit = convert::unit_ref("join_request.unit", j.unit.as_ref(), &mut v);
    let (Some(id), Some(unit), true) = (id, unit, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load_any(&svc.db, &id).await?;
    let in_unit = match &caller.branch {
        Some(own) => {
            let chains =
                store::chains(svc, caller, &[], &[own.clone(), unit.branch.clone()]).await?;
            let tree = crate::clients::tree_of(&chains.values().cloned().collect::<Vec<_>>())?;
            let staff = bankmkt_domain::coordination::StaffFacts {
                employee_id: caller.subject.clone(),
                branch: own.clone(),
                lines: caller.lines.clone(),
                active_from: today,
                active_to: None,
            };
            members::fits(&staff, &unit, &tree)
        }
        None => false,
    };
    let check = |pending: bool| {
        joins::check_join_request(
            loaded.stage()?,
            loaded.latest(),
            JoinAsk {
                unit: &unit,
                requester_in_unit: in_unit,
                pending_exists: pending,
                requested_share_bps: j.requested_share_bps,
                message: &j.message,
            },
        )
        .map_err(|e| ServiceError::from_domain(e, "join_request"))
    };
    check(pending_join(&svc.db, &id, &unit).await?)?;
    let now = store::now(svc);
    let row = join_request::Model {
        join_request_id: convert::new_id(),
        opportunity_id: id.clone(),
        unit_branch: unit.branch.as_str().to_owned(),
        unit_line: unit.line.as_str().to_owned(),
        requested_share_bps: j.requested_share_bps,
        message: j.message.clone(),
        status: JoinRequestStatus::Pending.as_str().to_owned(),
        amendment_id: None,
        created_by: caller.subject.clone(),
        create_time: now,
        decided_by: None,
        decide_time: None,
        decide_reason: None,
        version: 1,
    };
    let wire = to_proto(&row)?;
    let txn = svc.db.begin().await?;
    // Again under the opportunity's row lock, so that of concurrent requests of one unit only
    // the first stays pending.
    opportunity::Entity::update_many()
        .col_expr(
            opportunity::Column::Version,
            Expr::col(opportunity::Column::Version),
        )
        .filter(opportunity::Column::OpportunityId.eq(id.clone()))
        .exec(&txn)
        .await?;
    check(pending_join(&txn, &id, &unit).await?)?;
    join_request::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "join_request.create",
            target_type: "join_request",
            target_id: row.join_request_id.clone(),
            before: String::new(),
            after: format!("opportunity={id} unit={unit} status=pending"),
            reason: format!("unit {unit} asks to join opportunity {id}"),
            event_type: "join_request.created",
            version: 1,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateJoinRequestResponse {
        join_request: Some(wire),
    })
}

/// `ListJoinRequests`: those of an opportunity the caller sees, or the caller's own; newest
/// first.
pub async fn list_joins(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListJoinRequestsRequest,
) -> Result<v1::ListJoinRequestsResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let opp = if request.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("opportunity_id", &request.opportunity_id, &mut v)
    };
    let status = convert::filter_enum(
        "status",
        request.status,
        convert::join_status_from_proto,
        "join request status",
        &mut v,
    );
    if !v.is_empty() {
        return Err(v.into());
    }
    let mut q = join_request::Entity::find();
    match &opp {
        Some(o) => {
            store::load(&svc.db, caller, o, svc.clock.today()).await?;
            q = q.filter(join_request::Column::OpportunityId.eq(o.clone()));
        }
        None => {
            let mut mine =
                Condition::any().add(join_request::Column::CreatedBy.eq(caller.subject.clone()));
            if let Some(b) = &caller.branch {
                mine = mine.add(
                    Condition::all()
                        .add(join_request::Column::UnitBranch.eq(b.as_str()))
                        .add(
                            join_request::Column::UnitLine
                                .is_in(caller.lines.iter().map(|l| l.as_str().to_owned())),
                        ),
                );
            }
            q = q.filter(mine);
        }
    }
    if let Some(s) = status {
        q = q.filter(join_request::Column::Status.eq(s.as_str()));
    }
    if let Some(a) = after {
        q = q.filter(join_request::Column::JoinRequestId.lt(a));
    }
    let mut rows = q
        .order_by_desc(join_request::Column::JoinRequestId)
        .limit(size as u64 + 1)
        .all(&svc.db)
        .await?;
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => convert::page_token(&filters, &last.join_request_id),
        _ => String::new(),
    };
    Ok(v1::ListJoinRequestsResponse {
        join_requests: rows.iter().map(to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}

async fn load_join(
    svc: &CoordinationService,
    caller: &Caller,
    raw: &str,
    expected: i64,
) -> Result<(join_request::Model, store::Loaded)> {
    let row = join_request::Entity::find_by_id(raw.to_owned())
        .one(&svc.db)
        .await?
        .ok_or_else(|| ServiceError::not_found("join request", raw))?;
    let loaded = store::load(&svc.db, caller, &row.opportunity_id, svc.clock.today())
        .await
        .map_err(|e| match e {
            ServiceError::NotFound { .. } => ServiceError::not_found("join request", raw),
            other => other,
        })?;
    if row.version != expected {
        return Err(ServiceError::StaleVersion {
            kind: "join request",
            id: raw.to_owned(),
            expected,
            actual: row.version,
        });
    }
    Ok((row, loaded))
}

async fn save_join<C: sea_orm::ConnectionTrait>(
    txn: &C,
    next: &join_request::Model,
    expected: i64,
) -> Result<()> {
    let updated = join_request::Entity::update_many()
        .set(next.clone().into_active_model().reset_all())
        .filter(join_request::Column::JoinRequestId.eq(next.join_request_id.clone()))
        .filter(join_request::Column::Version.eq(expected))
        .exec(txn)
        .await?;
    if updated.rows_affected == 1 {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "join request",
            id: next.join_request_id.clone(),
            expected,
            actual: expected + 1,
        })
    }
}

/// `AcceptJoinRequest`: the lead proposes an amendment including the unit.
pub async fn accept_join(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::AcceptJoinRequestRequest,
) -> Result<v1::AcceptJoinRequestResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("join_request_id", &request.join_request_id, &mut v);
    let units = convert::units("proposed_units", &request.proposed_units, &mut v);
    let effective =
        convert::optional_date("effective_date", request.effective_date.as_ref(), &mut v);
    convert::reason("reason", &request.reason, false, &mut v);
    let (Some(id), Some(units), true) = (id, units, v.is_empty()) else {
        return Err(v.into());
    };
    let (row, loaded) = load_join(svc, caller, &id, request.expected_version).await?;
    let today = svc.clock.today();
    let unit = unit_of(&row)?;
    let memberships = loaded.memberships()?;
    let in_lead = members::is_member_of(
        &memberships,
        &caller.subject,
        &loaded.latest().lead().unit,
        today,
    );
    let status: JoinRequestStatus = stored("join request status", &row.status)?;
    let set = ShareSet::parse(units.clone(), "proposed_units")
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    joins::check_join_acceptance(status, in_lead, &unit, &set)
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let reason = if request.reason.trim().is_empty() {
        format!("accepting join request {id} of unit {unit}")
    } else {
        request.reason.trim().to_owned()
    };
    let proposed = shares::prepare(
        svc,
        caller,
        &loaded,
        units,
        effective,
        &reason,
        Some(id.clone()),
    )
    .await?;
    let now = proposed.row.propose_time;
    let mut next = row.clone();
    next.status = JoinRequestStatus::Accepted.as_str().to_owned();
    next.amendment_id = Some(proposed.row.amendment_id.clone());
    next.decided_by = Some(caller.subject.clone());
    next.decide_time = Some(now);
    next.decide_reason = Some(reason.clone());
    next.version += 1;
    let wire = to_proto(&next)?;
    let amendment = shares::to_proto(&proposed.row)?;
    let applied_at_once = proposed.row.status == AmendmentStatus::Accepted.as_str();
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        save_join(&txn, &next, row.version).await?;
        let header = shares::store_proposal(&txn, &loaded, &proposed, now).await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "join_request.accept",
                target_type: "join_request",
                target_id: id.clone(),
                before: format!("status={} version={}", row.status, row.version),
                after: format!(
                    "status=accepted amendment={} opportunity_version={}",
                    proposed.row.amendment_id, header.version
                ),
                reason: reason.clone(),
                event_type: "join_request.accepted",
                version: next.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        // The amendment's own trail, as `ProposeShareAmendment` records it.
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "share_amendment.propose",
                target_type: "opportunity",
                target_id: loaded.row.opportunity_id.clone(),
                before: store::summary(&loaded.row),
                after: store::summary(&header),
                reason: format!(
                    "amendment {}: {}",
                    proposed.row.amendment_id, proposed.row.reason
                ),
                event_type: "share_amendment.proposed",
                version: header.version,
                payload: amendment.encode_to_vec(),
            },
        )
        .await?;
        if applied_at_once {
            // No share falls: the new shares are in force, as when the last unit accepts.
            record(
                &txn,
                now,
                Change {
                    caller,
                    request_id,
                    action: "share_amendment.accept",
                    target_type: "share_amendment",
                    target_id: proposed.row.amendment_id.clone(),
                    before: "status=proposed".to_owned(),
                    after: format!(
                        "status={} version={} opportunity_version={}",
                        proposed.row.status, proposed.row.version, header.version
                    ),
                    reason: reason.clone(),
                    event_type: "share_amendment.accepted",
                    version: proposed.row.version,
                    payload: amendment.encode_to_vec(),
                },
            )
            .await?;
        }
        crate::grants::sync(svc, caller, &txn, &loaded.row.opportunity_id, Some(&loaded)).await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => {}
        Err(e) if e.is_unique_violation() => {
            let a = shares::amendment(&proposed.row)?;
            let wanted = loaded.wanted_claims(&a.proposed)?;
            return Err(store::lost_race(svc, caller, &wanted, Some(loaded.id()?)).await);
        }
        Err(e) => return Err(e),
    }
    Ok(v1::AcceptJoinRequestResponse {
        join_request: Some(wire),
        amendment: Some(amendment),
    })
}

/// `DeclineJoinRequest`.
pub async fn decline_join(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::DeclineJoinRequestRequest,
) -> Result<v1::DeclineJoinRequestResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("join_request_id", &request.join_request_id, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let (row, loaded) = load_join(svc, caller, &id, request.expected_version).await?;
    let today = svc.clock.today();
    let memberships = loaded.memberships()?;
    let in_lead = members::is_member_of(
        &memberships,
        &caller.subject,
        &loaded.latest().lead().unit,
        today,
    );
    let status: JoinRequestStatus = stored("join request status", &row.status)?;
    joins::check_join_decline(status, in_lead, &request.reason)
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let mut next = row.clone();
    next.status = JoinRequestStatus::Declined.as_str().to_owned();
    next.decided_by = Some(caller.subject.clone());
    next.decide_time = Some(now);
    next.decide_reason = Some(request.reason.trim().to_owned());
    next.version += 1;
    let wire = to_proto(&next)?;
    let txn = svc.db.begin().await?;
    save_join(&txn, &next, row.version).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "join_request.decline",
            target_type: "join_request",
            target_id: id.clone(),
            before: format!("status={} version={}", row.status, row.version),
            after: "status=declined".to_owned(),
            reason: request.reason.trim().to_owned(),
            event_type: "join_request.declined",
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::DeclineJoinRequestResponse {
        join_request: Some(wire),
    })
}

/// Declines every pending join request of opportunity `id` on `txn`, with their audit entries
/// and events, because the opportunity moved to the terminal stage `to` (a join request to a
/// lost or closed opportunity is refused by the domain's `check_join_request`, so none may stay
/// pending).
pub async fn decline_pending_on_close<C: sea_orm::ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    request_id: &str,
    id: &str,
    to: bankmkt_domain::coordination::OpportunityStage,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if !to.is_terminal() {
        return Ok(());
    }
    let reason = format!("opportunity {}", to.as_str());
    let pending = join_request::Entity::find()
        .filter(join_request::Column::OpportunityId.eq(id))
        .filter(join_request::Column::Status.eq(JoinRequestStatus::Pending.as_str()))
        .all(txn)
        .await?;
    for row in pending {
        let mut next = row.clone();
        next.status = JoinRequestStatus::Declined.as_str().to_owned();
        next.decided_by = Some(caller.subject.clone());
        next.decide_time = Some(now);
        next.decide_reason = Some(reason.clone());
        next.version += 1;
        let wire = to_proto(&next)?;
        save_join(txn, &next, row.version).await?;
        record(
            txn,
            now,
            Change {
                caller,
                request_id,
                action: "join_request.decline",
                target_type: "join_request",
                target_id: row.join_request_id.clone(),
                before: format!("status={} version={}", row.status, row.version),
                after: "status=declined".to_owned(),
                reason: reason.clone(),
                event_type: "join_request.declined",
                version: next.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
    }
    Ok(())
}
