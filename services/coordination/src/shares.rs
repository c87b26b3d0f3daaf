//! Shares (DOMAIN.md §5 "Shares"): `ProposeShareAmendment` (the domain's `propose`: only the lead
//! proposes, one pending at a time, accepted at once when no share falls), `Accept` / `Reject`
//! (the domain's `Amendment::decide`: every unit whose share falls, never the proposer; when the
//! last one accepts, the new shares go into the effective-dated history and the new units' lines
//! are claimed), `ListShareAmendments`, and the as-of reading of the history (`GetShares`,
//! `BatchGetShares`, the domain's `ShareHistory::as_of`). Amendments are stored with their
//! units and acceptances as JSON text.

use std::collections::{BTreeMap, BTreeSet};

use bankmkt_domain::coordination::amendments::{self, ProposalContext};
use bankmkt_domain::coordination::members;
use bankmkt_domain::coordination::{Amendment, AmendmentStatus, UnitAcceptance, UnitRef};
use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::CoordinationService;
use crate::clients::Chain;
use crate::convert::{self, stored};
use crate::entity::{opportunity, share_amendment};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::store::{self, Loaded};

/// One unit's acceptance as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredAcceptance {
    /// The branch.
    pub branch: String,
    /// The line code.
    pub line: String,
    /// Share before.
    pub from_bps: i32,
    /// Share after.
    pub to_bps: i32,
    /// The state code.
    pub state: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: String,
}

/// The domain amendment of a stored row.
pub fn amendment(row: &share_amendment::Model) -> Result<Amendment> {
    let stored_acc: Vec<StoredAcceptance> =
        serde_json::from_str(&row.acceptances).map_err(ServiceError::internal)?;
    let mut acceptances = Vec::with_capacity(stored_acc.len());
    for a in stored_acc {
        acceptances.push(UnitAcceptance {
            unit: UnitRef::new(
                BranchCode::parse(&a.branch).map_err(ServiceError::internal)?,
                stored("line", &a.line)?,
            ),
            from_share: BasisPoints::new(a.from_bps),
            to_share: BasisPoints::new(a.to_bps),
            state: stored("acceptance", &a.state)?,
            decided_by: a.decided_by,
        });
    }
    Ok(Amendment {
        proposed: convert::units_from_json(&row.proposed_units)?,
        effective_from: row.effective_date,
        status: stored("amendment status", &row.status)?,
        acceptances,
        proposer: row.proposer.clone(),
        reason: row.reason.clone(),
    })
}

/// The stored acceptances of `a`, keeping the times and reasons of `before` and stamping the
/// decision of `decided` (`unit`, now, reason) when given.
fn stored_acceptances(
    a: &Amendment,
    before: &[StoredAcceptance],
    decided: Option<(&UnitRef, DateTime<Utc>, &str)>,
) -> Result<String> {
    let out: Vec<StoredAcceptance> = a
        .acceptances
        .iter()
        .map(|x| {
            let old = before
                .iter()
                .find(|b| b.branch == x.unit.branch.as_str() && b.line == x.unit.line.as_str());
            let (at, reason) = match decided {
                Some((unit, now, reason)) if *unit == x.unit => (Some(now), reason.to_owned()),
                _ => (
                    old.and_then(|o| o.decided_at),
                    old.map(|o| o.reason.clone()).unwrap_or_default(),
                ),
            };
            StoredAcceptance {
                branch: x.unit.branch.as_str().to_owned(),
                line: x.unit.line.as_str().to_owned(),
                from_bps: x.from_share.value(),
                to_bps: x.to_share.value(),
                state: x.state.as_str().to_owned(),
                decided_by: x.decided_by.clone(),
                decided_at: at,
                reason,
            }
        })
        .collect();
    serde_json::to_string(&out).map_err(ServiceError::internal)
}

/// An amendment for the wire.
pub fn to_proto(row: &share_amendment::Model) -> Result<v1::ShareAmendment> {
    let a = amendment(row)?;
    let stored_acc: Vec<StoredAcceptance> =
        serde_json::from_str(&row.acceptances).map_err(ServiceError::internal)?;
    Ok(v1::ShareAmendment {
        amendment_id: row.amendment_id.clone(),
        opportunity_id: row.opportunity_id.clone(),
        proposed_units: convert::share_set_to_proto(&a.proposed),
        effective_date: Some(convert::date_to_proto(row.effective_date)),
        status: convert::amendment_status_to_proto(a.status) as i32,
        acceptances: a
            .acceptances
            .iter()
            .zip(&stored_acc)
            .map(|(x, s)| v1::UnitAcceptance {
                unit_id: convert::unit_id(&x.unit),
                unit: Some(convert::unit_to_proto(&x.unit)),
                from_share_bps: x.from_share.value(),
                to_share_bps: x.to_share.value(),
                state: convert::acceptance_to_proto(x.state) as i32,
                decided: match (&x.decided_by, s.decided_at) {
                    (Some(by), Some(at)) => Some(convert::stamp(by, at, &s.reason)),
                    _ => None,
                },
            })
            .collect(),
        join_request_id: row.join_request_id.clone().unwrap_or_default(),
        proposed: Some(convert::stamp(&row.proposer, row.propose_time, &row.reason)),
        version: row.version,
    })
}

/// Whether an amendment of `id` is pending.
async fn pending_exists<C: ConnectionTrait>(db: &C, id: &str) -> Result<bool> {
    Ok(share_amendment::Entity::find()
        .filter(share_amendment::Column::OpportunityId.eq(id))
        .filter(share_amendment::Column::Status.eq(AmendmentStatus::Proposed.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// A proposal ready to store, with what accepting it at once needs.
pub struct Proposed {
    /// The row to insert.
    pub row: share_amendment::Model,
    /// The chains of the proposed units' branches.
    pub chains: BTreeMap<BranchCode, Chain>,
}

/// Proposes `units` for `loaded` by `caller` through the domain's `propose`; unit shapes are
/// named under `field`.
pub async fn prepare(
    svc: &CoordinationService,
    caller: &Caller,
    loaded: &Loaded,
    units: Vec<bankmkt_domain::coordination::UnitShare>,
    effective: Option<NaiveDate>,
    reason: &str,
    join_request_id: Option<String>,
) -> Result<Proposed> {
    let today = svc.clock.today();
    let memberships = loaded.memberships()?;
    let lead = &loaded.latest().lead().unit;
    let a = amendments::propose(
        ProposalContext {
            stage: loaded.stage()?,
            history: &loaded.history,
            pending_exists: pending_exists(&svc.db, &loaded.row.opportunity_id).await?,
            proposer: &caller.subject,
            proposer_in_lead: members::is_member_of(&memberships, &caller.subject, lead, today),
            today,
        },
        units,
        effective,
        reason,
    )
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let chains = store::chains(svc, caller, &[&a.proposed], &[]).await?;
    let now = store::now(svc);
    let id = convert::new_id();
    if a.status == AmendmentStatus::Accepted {
        let wanted = loaded.wanted_claims(&a.proposed)?;
        store::check_free(svc, caller, &wanted, Some(loaded.id()?)).await?;
    }
    Ok(Proposed {
        row: share_amendment::Model {
            amendment_id: id,
            opportunity_id: loaded.row.opportunity_id.clone(),
            proposed_units: convert::units_to_json(&a.proposed)?,
            effective_date: a.effective_from,
            status: a.status.as_str().to_owned(),
            acceptances: stored_acceptances(&a, &[], None)?,
            join_request_id,
            proposer: caller.subject.clone(),
            reason: a.reason.clone(),
            propose_time: now,
            version: 1,
        },
        chains,
    })
}

/// Stores a prepared proposal on `txn` (and applies it when accepted at once); returns the
/// opportunity's header after it.
pub async fn store_proposal<C: ConnectionTrait>(
    txn: &C,
    loaded: &Loaded,
    proposed: &Proposed,
    now: DateTime<Utc>,
) -> Result<opportunity::Model> {
    let mut next = loaded.row.clone();
    next.version += 1;
    next.update_time = now;
    store::save(txn, next.clone(), loaded.row.version).await?;
    share_amendment::Entity::insert(proposed.row.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    let a = amendment(&proposed.row)?;
    if let Some(version) = a.to_version(&proposed.row.amendment_id) {
        let current = Loaded {
            row: next.clone(),
            ..loaded.clone()
        };
        let mut applied =
            store::apply_shares(txn, &current, version, &proposed.chains, now).await?;
        applied.version = next.version;
        store::save(txn, applied.clone(), next.version).await?;
        return Ok(applied);
    }
    Ok(next)
}

/// `ProposeShareAmendment`.
pub async fn propose(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::ProposeShareAmendmentRequest,
) -> Result<v1::ProposeShareAmendmentResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let units = convert::units("proposed_units", &request.proposed_units, &mut v);
    let effective =
        convert::optional_date("effective_date", request.effective_date.as_ref(), &mut v);
    let (Some(id), Some(units), true) = (id, units, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::check_version(&loaded.row, request.expected_version)?;
    let proposed = prepare(
        svc,
        caller,
        &loaded,
        units,
        effective,
        &request.reason,
        None,
    )
    .await?;
    let now = proposed.row.propose_time;
    let wire = to_proto(&proposed.row)?;
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        let next = store_proposal(&txn, &loaded, &proposed, now).await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "share_amendment.propose",
                target_type: "opportunity",
                target_id: id.clone(),
                before: store::summary(&loaded.row),
                after: store::summary(&next),
                reason: format!(
                    "amendment {}: {}",
                    proposed.row.amendment_id, proposed.row.reason
                ),
                event_type: "share_amendment.proposed",
                version: next.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        crate::grants::sync(svc, caller, &txn, &id, Some(&loaded)).await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(v1::ProposeShareAmendmentResponse {
            amendment: Some(wire),
        }),
        Err(e) if e.is_unique_violation() => {
            let a = amendment(&proposed.row)?;
            let wanted = loaded.wanted_claims(&a.proposed)?;
            Err(store::lost_race(svc, caller, &wanted, Some(loaded.id()?)).await)
        }
        Err(e) => Err(e),
    }
}

/// `AcceptShareAmendment`.
pub async fn accept(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::AcceptShareAmendmentRequest,
) -> Result<v1::AcceptShareAmendmentResponse> {
    let amendment = decide(
        svc,
        caller,
        request_id,
        &request.amendment_id,
        &request.unit_id,
        request.expected_version,
        &request.reason,
        true,
    )
    .await?;
    Ok(v1::AcceptShareAmendmentResponse {
        amendment: Some(amendment),
    })
}

/// `RejectShareAmendment`.
pub async fn reject(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::RejectShareAmendmentRequest,
) -> Result<v1::RejectShareAmendmentResponse> {
    let amendment = decide(
        svc,
        caller,
        request_id,
        &request.amendment_id,
        &request.unit_id,
        request.expected_version,
        &request.reason,
        false,
    )
    .await?;
    Ok(v1::RejectShareAmendmentResponse {
        amendment: Some(amendment),
    })
}

#[allow(clippy::too_many_arguments)]
async fn decide(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    amendment_id: &str,
    unit_id: &str,
    expected_version: i64,
    reason: &str,
    accept: bool,
) -> Result<v1::ShareAmendment> {
    let mut v = Violations::new();
    let id = convert::issued_id("amendment_id", amendment_id, &mut v);
    let unit = if unit_id.is_empty() {
        v.add("unit_id", "is required");
        None
    } else {
        let u = convert::parse_unit_id(unit_id);
        if u.is_none() {
            v.add("unit_id", "is not a unit id (BRANCH/line)");
        }
        u
    };
    convert::reason("reason", reason, !accept, &mut v);
    let (Some(id), Some(unit), true) = (id, unit, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let row = share_amendment::Entity::find_by_id(id.clone())
        .one(&svc.db)
        .await?
        .ok_or_else(|| ServiceError::not_found("share amendment", id.clone()))?;
    let loaded = store::load(&svc.db, caller, &row.opportunity_id, today)
        .await
        .map_err(|e| match e {
            ServiceError::NotFound { .. } => ServiceError::not_found("share amendment", id.clone()),
            other => other,
        })?;
    if row.version != expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "share amendment",
            id,
            expected: expected_version,
            actual: row.version,
        });
    }
    let current = amendment(&row)?;
    let memberships = loaded.memberships()?;
    let in_unit = members::is_member_of(&memberships, &caller.subject, &unit, today);
    let next = current
        .decide(&unit, accept, &caller.subject, in_unit, reason)
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let before: Vec<StoredAcceptance> =
        serde_json::from_str(&row.acceptances).map_err(ServiceError::internal)?;
    let mut next_row = row.clone();
    next_row.status = next.status.as_str().to_owned();
    next_row.acceptances = stored_acceptances(&next, &before, Some((&unit, now, reason.trim())))?;
    next_row.version += 1;
    let version = next.to_version(&row.amendment_id);
    let chains = match &version {
        Some(v) => {
            let wanted = loaded.wanted_claims(&v.shares)?;
            store::check_free(svc, caller, &wanted, Some(loaded.id()?)).await?;
            Some(store::chains(svc, caller, &[&v.shares], &[]).await?)
        }
        None => None,
    };
    let wire = to_proto(&next_row)?;
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        let updated = share_amendment::Entity::update_many()
            .set(next_row.clone().into_active_model().reset_all())
            .filter(share_amendment::Column::AmendmentId.eq(id.clone()))
            .filter(share_amendment::Column::Version.eq(row.version))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(ServiceError::StaleVersion {
                kind: "share amendment",
                id: id.clone(),
                expected: row.version,
                actual: row.version + 1,
            });
        }
        let mut header = loaded.row.clone();
        if let (Some(version), Some(chains)) = (version.clone(), &chains) {
            header = store::apply_shares(&txn, &loaded, version, chains, now).await?;
            header.version = loaded.row.version + 1;
            header.update_time = now;
            store::save(&txn, header.clone(), loaded.row.version).await?;
        }
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: if accept {
                    "share_amendment.accept"
                } else {
                    "share_amendment.reject"
                },
                target_type: "share_amendment",
                target_id: id.clone(),
                before: format!("status={} version={}", row.status, row.version),
                after: format!(
                    "status={} version={} unit={unit} opportunity_version={}",
                    next_row.status, next_row.version, header.version
                ),
                reason: reason.trim().to_owned(),
                event_type: match next.status {
                    AmendmentStatus::Accepted => "share_amendment.accepted",
                    AmendmentStatus::Rejected => "share_amendment.rejected",
                    _ => "share_amendment.unit_accepted",
                },
                version: next_row.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        crate::grants::sync(svc, caller, &txn, &loaded.row.opportunity_id, Some(&loaded)).await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => Ok(wire),
        Err(e) if e.is_unique_violation() => {
            let wanted = match &version {
                Some(v) => loaded.wanted_claims(&v.shares)?,
                None => BTreeSet::new(),
            };
            Err(store::lost_race(svc, caller, &wanted, Some(loaded.id()?)).await)
        }
        Err(e) => Err(e),
    }
}

/// `ListShareAmendments`: newest first.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListShareAmendmentsRequest,
) -> Result<v1::ListShareAmendmentsResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let status = convert::filter_enum(
        "status",
        request.status,
        convert::amendment_status_from_proto,
        "amendment status",
        &mut v,
    );
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    store::load(&svc.db, caller, &id, svc.clock.today()).await?;
    let mut q =
        share_amendment::Entity::find().filter(share_amendment::Column::OpportunityId.eq(id));
    if let Some(s) = status {
        q = q.filter(share_amendment::Column::Status.eq(s.as_str()));
    }
    if let Some(a) = after {
        q = q.filter(share_amendment::Column::AmendmentId.lt(a));
    }
    let mut rows = q
        .order_by_desc(share_amendment::Column::AmendmentId)
        .limit(size as u64 + 1)
        .all(&svc.db)
        .await?;
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => convert::page_token(&filters, &last.amendment_id),
        _ => String::new(),
    };
    Ok(v1::ListShareAmendmentsResponse {
        amendments: rows.iter().map(to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}

fn snapshot(loaded: &Loaded, date: NaiveDate) -> Option<v1::ShareSnapshot> {
    let s = loaded.history.as_of(date)?;
    Some(v1::ShareSnapshot {
        opportunity_id: loaded.row.opportunity_id.clone(),
        as_of_date: Some(convert::date_to_proto(date)),
        units: convert::share_set_to_proto(&s.version.shares),
        effective: Some(v1::EffectiveRange {
            start_date: Some(convert::date_to_proto(s.version.effective_from)),
            end_date: s.effective_to.map(convert::date_to_proto),
        }),
        change_source: s.version.source.to_string(),
    })
}

/// `GetShares`.
pub async fn get(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::GetSharesRequest,
) -> Result<v1::GetSharesResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let date = convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    let date = date.unwrap_or(today);
    let shares = snapshot(&loaded, date).ok_or_else(|| {
        ServiceError::not_found("shares", format!("of opportunity {id} on {date}"))
    })?;
    Ok(v1::GetSharesResponse {
        shares: Some(shares),
    })
}

/// The most queries of one `BatchGetShares`.
const MAX_QUERIES: usize = 1_000;

/// `BatchGetShares`.
pub async fn batch_get(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::BatchGetSharesRequest,
) -> Result<v1::BatchGetSharesResponse> {
    let mut v = Violations::new();
    if request.queries.len() > MAX_QUERIES {
        v.add(
            "queries",
            format!(
                "at most {MAX_QUERIES} queries, not {}",
                request.queries.len()
            ),
        );
    }
    let parsed: Vec<(Option<String>, Option<NaiveDate>)> = request
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let id = convert::issued_id(
                &format!("queries[{i}].opportunity_id"),
                &q.opportunity_id,
                &mut v,
            );
            let date = match &q.as_of_date {
                None => {
                    v.add(format!("queries[{i}].as_of_date"), "is required");
                    None
                }
                Some(d) => v.check(
                    format!("queries[{i}].as_of_date"),
                    convert::date_from_proto(d),
                ),
            };
            (id, date)
        })
        .collect();
    if !v.is_empty() {
        return Err(v.into());
    }
    let today = svc.clock.today();
    let mut cache: BTreeMap<String, Option<Loaded>> = BTreeMap::new();
    let mut answers = Vec::with_capacity(parsed.len());
    for (q, (id, date)) in request.queries.iter().zip(parsed) {
        let (Some(id), Some(date)) = (id, date) else {
            continue;
        };
        if !cache.contains_key(&id) {
            let loaded = match store::load_any(&svc.db, &id).await {
                Ok(l) if store::may_see(caller, &l, today) => Some(l),
                Ok(_) | Err(ServiceError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            cache.insert(id.clone(), loaded);
        }
        let shares = cache
            .get(&id)
            .and_then(|l| l.as_ref())
            .and_then(|l| snapshot(l, date));
        answers.push(v1::ShareAnswer {
            query: Some(q.clone()),
            shares,
        });
    }
    Ok(v1::BatchGetSharesResponse { answers })
}
