//! Referrals (转介; DOMAIN.md §5 "Referrals"): `CreateReferral` checks the referral with the
//! domain's `check_new` (a referral to the referrer's own line is bad input), the customer's
//! linked-use consent with `contact::check_linked_use` (an individual without cross-line consent
//! or marked do-not-contact is refused), and routes it with the domain's `route` over the owning
//! branch's chain from the registry and the branches with active staff in the receiving line;
//! `AcceptReferral` and `DeclineReferral` let the domain's `may_receive` and `decide` judge the
//! caller and the assignee; `RecordReferralOutcome` lets `record_outcome` decide (the same
//! outcome again changes nothing, another is refused) and is idempotent by key; `GetReferrerScore`
//! is the domain's `ReferrerScore` over the referrer's referrals, read by the employee themself,
//! bank-wide readers and callers whose subtree holds the employee's branch (else
//! `PERMISSION_DENIED`). Every change writes its audit
//! entry and outbox event on its own transaction under optimistic concurrency.

use std::collections::BTreeMap;

use bankmkt_domain::access::BANK_WIDE_READ_ROLES;
use bankmkt_domain::coordination::contact::{self, ContactFacts};
use bankmkt_domain::coordination::referrals::{
    self as rules, Interest, NewReferral, OutcomeEffect, ReferralStatus, ReferrerScore,
};
use bankmkt_domain::coordination::{ReferralOutcome, UnitRef};
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::org::{BranchCode, BusinessLine, Role};
use bankmkt_platform::Caller;
use bankmkt_platform::idempotency;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{DateTime, Datelike, Utc};
use prost::Message;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    TransactionTrait,
};

use crate::CoordinationService;
use crate::clients::{self, Chain};
use crate::convert::{self, stored};
use crate::directory::{self, absorb};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::rows::referral;
use crate::store;

/// A stored referral for the wire.
pub fn to_proto(row: &referral::Model) -> Result<v1::Referral> {
    let status: ReferralStatus = stored("referral status", &row.status)?;
    let from_line: BusinessLine = stored("line", &row.from_line)?;
    let to_line: BusinessLine = stored("line", &row.to_line)?;
    let interest =
        v1::ExpressedInterest::decode(row.interest.as_slice()).map_err(ServiceError::internal)?;
    let outcome = row
        .outcome
        .as_deref()
        .map(v1::ReferralOutcome::decode)
        .transpose()
        .map_err(ServiceError::internal)?;
    Ok(v1::Referral {
        referral_id: row.referral_id.clone(),
        customer_id: row.customer_id.clone(),
        referrer_employee_id: row.referrer_employee_id.clone(),
        from_unit: Some(v1::UnitRef {
            branch_id: row.from_branch.clone(),
            line: convert::line_to_proto(from_line) as i32,
        }),
        to_line: convert::line_to_proto(to_line) as i32,
        to_branch_id: row.to_branch.clone(),
        interest: Some(interest),
        opportunity_id: row.opportunity_id.clone().unwrap_or_default(),
        status: status_to_proto(status) as i32,
        assignee_employee_id: row.assignee_employee_id.clone().unwrap_or_default(),
        created: Some(convert::stamp(
            &row.referrer_employee_id,
            row.create_time,
            "",
        )),
        decided: match (&row.decided_by, row.decide_time) {
            (Some(by), Some(at)) => Some(convert::stamp(
                by,
                at,
                row.decide_reason.as_deref().unwrap_or(""),
            )),
            _ => None,
        },
        outcome,
        version: row.version,
    })
}

/// The wire status of a referral status.
pub fn status_to_proto(s: ReferralStatus) -> v1::ReferralStatus {
    match s {
        ReferralStatus::Pending => v1::ReferralStatus::Pending,
        ReferralStatus::Accepted => v1::ReferralStatus::Accepted,
        ReferralStatus::Declined => v1::ReferralStatus::Declined,
        ReferralStatus::Converted => v1::ReferralStatus::Converted,
        ReferralStatus::NotConverted => v1::ReferralStatus::NotConverted,
    }
}

fn status_from_proto(raw: i32) -> Option<ReferralStatus> {
    Some(match v1::ReferralStatus::try_from(raw).ok()? {
        v1::ReferralStatus::Pending => ReferralStatus::Pending,
        v1::ReferralStatus::Accepted => ReferralStatus::Accepted,
        v1::ReferralStatus::Declined => ReferralStatus::Declined,
        v1::ReferralStatus::Converted => ReferralStatus::Converted,
        v1::ReferralStatus::NotConverted => ReferralStatus::NotConverted,
        v1::ReferralStatus::Unspecified => return None,
    })
}

fn summary(row: &referral::Model) -> String {
    format!(
        "version={} status={} customer={} to={}/{} assignee={}",
        row.version,
        row.status,
        row.customer_id,
        row.to_branch,
        row.to_line,
        row.assignee_employee_id.as_deref().unwrap_or("")
    )
}

/// Whether `caller` sees the referral: bank-wide readers, the referrer, the assignee, and the
/// branches on the receiving branch's path or the referrer's unit branch.
pub fn may_see(caller: &Caller, row: &referral::Model) -> bool {
    BANK_WIDE_READ_ROLES.iter().any(|r| caller.has_role(*r))
        || caller.has_role(Role::Service)
        || caller.has_role(Role::Batch)
        || row.referrer_employee_id == caller.subject
        || row.assignee_employee_id.as_deref() == Some(caller.subject.as_str())
        || caller.branch.as_ref().is_some_and(|b| {
            row.to_branch_path.contains(&format!("/{}/", b.as_str()))
                || row.from_branch == b.as_str()
        })
}

async fn load<C: ConnectionTrait>(db: &C, caller: &Caller, id: &str) -> Result<referral::Model> {
    referral::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| may_see(caller, r))
        .ok_or_else(|| ServiceError::not_found("referral", id))
}

/// Writes `next` over the stored row of version `expected`; `ABORTED` when another writer got
/// there first.
async fn save<C: ConnectionTrait>(txn: &C, next: referral::Model, expected: i64) -> Result<()> {
    let id = next.referral_id.clone();
    let result = referral::Entity::update_many()
        .set(next.into_active_model().reset_all())
        .filter(referral::Column::ReferralId.eq(id.clone()))
        .filter(referral::Column::Version.eq(expected))
        .exec(txn)
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "referral",
            id,
            expected,
            actual: expected + 1,
        })
    }
}

fn check_version(row: &referral::Model, expected: i64) -> Result<()> {
    if row.version == expected {
        Ok(())
    } else {
        Err(ServiceError::StaleVersion {
            kind: "referral",
            id: row.referral_id.clone(),
            expected,
            actual: row.version,
        })
    }
}

/// The path `/HQ/…/branch/` of `branch` on `chain` (which runs down to or past it).
fn path_to(chain: &Chain, branch: &BranchCode) -> String {
    let mut path = String::from("/");
    for (b, _) in &chain.0 {
        path.push_str(b.as_str());
        path.push('/');
        if b == branch {
            break;
        }
    }
    path
}

/// `CreateReferral`.
pub async fn create(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateReferralRequest,
) -> Result<v1::CreateReferralResponse> {
    let mut v = Violations::new();
    convert::idempotency_key(&request.idempotency_key, &mut v);
    let Some(r) = request.referral.as_ref() else {
        v.add("referral", "is required");
        return Err(v.into());
    };
    let customer = convert::customer_id("referral.customer_id", &r.customer_id, &mut v);
    let from_unit = convert::unit_ref("referral.from_unit", r.from_unit.as_ref(), &mut v);
    let to_line = convert::filter_enum(
        "referral.to_line",
        r.to_line,
        convert::line_from_proto,
        "business line",
        &mut v,
    );
    let raw_interest = r.interest.clone().unwrap_or_default();
    let interest = Interest {
        product_ids: raw_interest.product_ids.clone(),
        category: convert::filter_enum(
            "referral.interest.category",
            raw_interest.category,
            directory::category_from_proto,
            "product category",
            &mut v,
        ),
        expected_amount: directory::money(
            "referral.interest.expected_amount",
            raw_interest.expected_amount.as_ref(),
            &mut v,
        ),
        description: raw_interest.description.clone(),
    };
    let opportunity = if r.opportunity_id.is_empty() {
        None
    } else {
        convert::issued_id("referral.opportunity_id", &r.opportunity_id, &mut v)
    };
    if let Some(from) = &from_unit
        && let Err(e) = rules::check_new(NewReferral {
            from_unit: from,
            referrer_lines: &caller.lines,
            to_line,
            interest: &interest,
        })
    {
        absorb(&mut v, e, "referral")?;
    }
    let (Some(customer), Some(from_unit), Some(to_line), true) =
        (customer, from_unit, to_line, v.is_empty())
    else {
        return Err(v.into());
    };
    let scope = convert::scope("CreateReferral", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    let today = svc.clock.today();
    if let Some(o) = &opportunity {
        store::load(&svc.db, caller, o, today).await?;
    }
    let detail = directory::customer(svc, caller, &customer.to_string()).await?;
    let consent = if detail.kind == CustomerKind::Individual {
        directory::consent(svc, caller, &detail.customer_id).await?
    } else {
        None
    };
    contact::check_linked_use(&[ContactFacts {
        customer,
        kind: detail.kind,
        consent,
    }])
    .map_err(|e| ServiceError::from_domain(e, ""))?;
    let chain = svc.registry.chain(caller, &detail.owning_branch).await?;
    let tree = clients::tree_of(std::slice::from_ref(&chain))?;
    // The staff directory answers for the part of the chain the caller may see: the highest
    // branch of the chain whose subtree the directory shows the caller.
    let mut staffed = std::collections::BTreeSet::new();
    for (b, _) in &chain.0 {
        match directory::staffed_branches(svc, caller, b, to_line, today).await {
            Ok(found) => {
                staffed = found;
                break;
            }
            Err(ServiceError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    let to_branch = rules::route(&tree, &detail.owning_branch, |b| staffed.contains(b))
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let row = referral::Model {
        referral_id: convert::new_id(),
        customer_id: customer.to_string(),
        referrer_employee_id: caller.subject.clone(),
        from_branch: from_unit.branch.as_str().to_owned(),
        from_line: from_unit.line.as_str().to_owned(),
        to_line: to_line.as_str().to_owned(),
        to_branch: to_branch.as_str().to_owned(),
        to_branch_path: path_to(&chain, &to_branch),
        interest: raw_interest.encode_to_vec(),
        opportunity_id: opportunity,
        status: ReferralStatus::Pending.as_str().to_owned(),
        assignee_employee_id: None,
        create_time: now,
        decided_by: None,
        decide_time: None,
        decide_reason: None,
        outcome: None,
        update_time: now,
        version: 1,
    };
    let wire = to_proto(&row)?;
    let response = v1::CreateReferralResponse {
        referral: Some(wire.clone()),
    };
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        referral::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "referral.create",
                target_type: "referral",
                target_id: row.referral_id.clone(),
                before: String::new(),
                after: summary(&row),
                reason: format!("referred to {to_line} at {to_branch}"),
                event_type: "referral.created",
                version: 1,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        idempotency::remember(
            &txn,
            &scope,
            &request.idempotency_key,
            &hash,
            response.encode_to_vec(),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    convert::settle(
        &svc.db,
        written,
        response,
        &scope,
        &request.idempotency_key,
        &hash,
    )
    .await
}

/// `GetReferral`.
pub async fn get(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::GetReferralRequest,
) -> Result<v1::GetReferralResponse> {
    let mut v = Violations::new();
    let Some(id) = convert::issued_id("referral_id", &request.referral_id, &mut v) else {
        return Err(v.into());
    };
    let row = load(&svc.db, caller, &id).await?;
    Ok(v1::GetReferralResponse {
        referral: Some(to_proto(&row)?),
    })
}

/// The paging key of a referral: pending ones first, oldest first; then the others newest first
/// (ids are time-ordered UUID v7, inverted digit by digit for descending order).
fn list_key(row: &referral::Model) -> String {
    if row.status == ReferralStatus::Pending.as_str() {
        format!("0{}", row.referral_id)
    } else {
        let inverted: String = row
            .referral_id
            .chars()
            .map(|c| match c.to_digit(16) {
                Some(d) => std::char::from_digit(15 - d, 16).unwrap_or(c),
                None => c,
            })
            .collect();
        format!("1{inverted}")
    }
}

/// `ListReferrals`: a receiving queue (branch subtree and line), a referrer's or a customer's;
/// the caller's branch queue when none is named.
pub async fn list(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::ListReferralsRequest,
) -> Result<v1::ListReferralsResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let to_branch = if request.to_branch_id.is_empty() {
        None
    } else {
        v.check("to_branch_id", BranchCode::parse(&request.to_branch_id))
    };
    let to_line = convert::filter_enum(
        "to_line",
        request.to_line,
        convert::line_from_proto,
        "business line",
        &mut v,
    );
    let customer = if request.customer_id.is_empty() {
        None
    } else {
        convert::customer_id("customer_id", &request.customer_id, &mut v)
    };
    let status = convert::filter_enum(
        "status",
        request.status,
        status_from_proto,
        "referral status",
        &mut v,
    );
    if request.referrer_employee_id.chars().count() > 64 {
        v.add("referrer_employee_id", "at most 64 characters");
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let to_branch = match to_branch {
        Some(b) => Some(b),
        None if customer.is_none() && request.referrer_employee_id.is_empty() => {
            match caller.branch.clone() {
                Some(b) => Some(b),
                None => return Err(ServiceError::invalid("to_branch_id", "name a queue branch")),
            }
        }
        None => None,
    };
    let mut q = referral::Entity::find();
    if let Some(b) = &to_branch {
        q = q.filter(referral::Column::ToBranchPath.contains(format!("/{}/", b.as_str())));
    }
    if let Some(l) = to_line {
        q = q.filter(referral::Column::ToLine.eq(l.as_str()));
    }
    if !request.referrer_employee_id.is_empty() {
        q = q.filter(referral::Column::ReferrerEmployeeId.eq(request.referrer_employee_id.trim()));
    }
    if let Some(c) = customer {
        q = q.filter(referral::Column::CustomerId.eq(c.to_string()));
    }
    if let Some(s) = status {
        q = q.filter(referral::Column::Status.eq(s.as_str()));
    }
    let mut rows: Vec<(String, referral::Model)> = q
        .all(&svc.db)
        .await?
        .into_iter()
        .filter(|r| may_see(caller, r))
        .map(|r| (list_key(&r), r))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match (more, rows.last()) {
        (true, Some((k, _))) => convert::page_token(&filters, k),
        _ => String::new(),
    };
    let referrals = rows
        .iter()
        .map(|(_, r)| to_proto(r))
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::ListReferralsResponse {
        referrals,
        next_page_token,
    })
}

/// Whether `staff` may act for the referral's queue, by the domain's `may_receive`.
async fn receives(
    svc: &CoordinationService,
    caller: &Caller,
    row: &referral::Model,
    staff: &bankmkt_domain::coordination::StaffFacts,
) -> Result<bool> {
    let to_branch = BranchCode::parse(&row.to_branch).map_err(ServiceError::internal)?;
    let to_line: BusinessLine = stored("line", &row.to_line)?;
    let chains = [
        svc.registry.chain(caller, &to_branch).await?,
        svc.registry.chain(caller, &staff.branch).await?,
    ];
    let tree = clients::tree_of(&chains)?;
    Ok(rules::may_receive(staff, &to_branch, to_line, &tree))
}

async fn decide(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    id_raw: &str,
    assignee_raw: Option<&str>,
    reason: &str,
    expected_version: i64,
) -> Result<v1::Referral> {
    let accept = assignee_raw.is_some();
    let mut v = Violations::new();
    let id = convert::issued_id("referral_id", id_raw, &mut v);
    let assignee = match assignee_raw {
        Some(a) if !a.is_empty() => convert::employee_id("assignee_employee_id", a, &mut v),
        _ => None,
    };
    convert::reason("reason", reason, !accept, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let row = load(&svc.db, caller, &id).await?;
    check_version(&row, expected_version)?;
    let status: ReferralStatus = stored("referral status", &row.status)?;
    let decider_receives = match directory::caller_staff(caller, today) {
        Some(staff) if status == ReferralStatus::Pending => {
            receives(svc, caller, &row, &staff).await?
        }
        _ => false,
    };
    let assignee_receives = match (&assignee, accept && status == ReferralStatus::Pending) {
        (Some(a), true) if a != &caller.subject => {
            let staff = svc.registry.employee(caller, a).await?;
            Some(staff.is_active_on(today) && receives(svc, caller, &row, &staff).await?)
        }
        _ => None,
    };
    let next_status = rules::decide(status, accept, decider_receives, assignee_receives, reason)
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let mut next = row.clone();
    next.status = next_status.as_str().to_owned();
    next.decided_by = Some(caller.subject.clone());
    next.decide_time = Some(now);
    next.decide_reason = Some(reason.trim().to_owned());
    if accept {
        next.assignee_employee_id = Some(assignee.unwrap_or_else(|| caller.subject.clone()));
    }
    next.update_time = now;
    next.version += 1;
    let wire = to_proto(&next)?;
    let txn = svc.db.begin().await?;
    save(&txn, next.clone(), row.version).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: if accept {
                "referral.accept"
            } else {
                "referral.decline"
            },
            target_type: "referral",
            target_id: id,
            before: summary(&row),
            after: summary(&next),
            reason: reason.trim().to_owned(),
            event_type: if accept {
                "referral.accepted"
            } else {
                "referral.declined"
            },
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(wire)
}

/// `AcceptReferral`.
pub async fn accept(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::AcceptReferralRequest,
) -> Result<v1::AcceptReferralResponse> {
    let referral = decide(
        svc,
        caller,
        request_id,
        &request.referral_id,
        Some(&request.assignee_employee_id),
        &request.reason,
        request.expected_version,
    )
    .await?;
    Ok(v1::AcceptReferralResponse {
        referral: Some(referral),
    })
}

/// `DeclineReferral`.
pub async fn decline(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::DeclineReferralRequest,
) -> Result<v1::DeclineReferralResponse> {
    let referral = decide(
        svc,
        caller,
        request_id,
        &request.referral_id,
        None,
        &request.reason,
        request.expected_version,
    )
    .await?;
    Ok(v1::DeclineReferralResponse {
        referral: Some(referral),
    })
}

fn domain_outcome(raw: &v1::ReferralOutcome) -> ReferralOutcome {
    let id = raw.conversion_id.trim();
    ReferralOutcome {
        converted: raw.converted,
        conversion_id: (!id.is_empty()).then(|| id.to_owned()),
    }
}

/// `RecordReferralOutcome`: attribution (a system caller), an admin, the assignee or the
/// receiving line records it.
pub async fn record_outcome(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::RecordReferralOutcomeRequest,
) -> Result<v1::RecordReferralOutcomeResponse> {
    let mut v = Violations::new();
    convert::idempotency_key(&request.idempotency_key, &mut v);
    let id = convert::issued_id("referral_id", &request.referral_id, &mut v);
    let raw = request.outcome.clone().unwrap_or_default();
    if request.outcome.is_none() {
        v.add("outcome", "is required");
    }
    if raw.conversion_id.chars().count() > 128 {
        v.add("outcome.conversion_id", "at most 128 characters");
    }
    directory::money("outcome.revenue", raw.revenue.as_ref(), &mut v);
    let converted_at =
        directory::instant("outcome.converted_at", raw.converted_at.as_ref(), &mut v);
    let outcome = domain_outcome(&raw);
    if let Err(e) = outcome.validate() {
        absorb(&mut v, e, "outcome")?;
    }
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let scope = convert::scope("RecordReferralOutcome", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = convert::replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    let today = svc.clock.today();
    let row = load(&svc.db, caller, &id).await?;
    let system = [Role::Service, Role::Batch, Role::Admin]
        .iter()
        .any(|r| caller.has_role(*r));
    let allowed = system
        || row.assignee_employee_id.as_deref() == Some(caller.subject.as_str())
        || match directory::caller_staff(caller, today) {
            Some(staff) => receives(svc, caller, &row, &staff).await?,
            None => false,
        };
    if !allowed {
        return Err(ServiceError::PermissionDenied(format!(
            "{} is neither of the receiving line of referral {id} nor a system caller",
            caller.subject
        )));
    }
    let status: ReferralStatus = stored("referral status", &row.status)?;
    let existing = row
        .outcome
        .as_deref()
        .map(v1::ReferralOutcome::decode)
        .transpose()
        .map_err(ServiceError::internal)?
        .map(|o| domain_outcome(&o));
    let effect = rules::record_outcome(status, existing.as_ref(), &outcome)
        .map_err(|e| ServiceError::from_domain(e, ""))?;
    let OutcomeEffect::Recorded(next_status) = effect else {
        return Ok(v1::RecordReferralOutcomeResponse {
            referral: Some(to_proto(&row)?),
        });
    };
    let now = store::now(svc);
    let stored_outcome = v1::ReferralOutcome {
        converted: outcome.converted,
        conversion_id: outcome.conversion_id.clone().unwrap_or_default(),
        revenue: raw.revenue.clone(),
        converted_at: converted_at.map(convert::timestamp),
        recorded: Some(convert::stamp(&caller.subject, now, "")),
    };
    let mut next = row.clone();
    next.status = next_status.as_str().to_owned();
    next.outcome = Some(stored_outcome.encode_to_vec());
    next.update_time = now;
    next.version += 1;
    let wire = to_proto(&next)?;
    let response = v1::RecordReferralOutcomeResponse {
        referral: Some(wire.clone()),
    };
    let written: Result<()> = async {
        let txn = svc.db.begin().await?;
        save(&txn, next.clone(), row.version).await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "referral.record_outcome",
                target_type: "referral",
                target_id: id.clone(),
                before: summary(&row),
                after: summary(&next),
                reason: match &outcome.conversion_id {
                    Some(c) => format!("converted as {c}"),
                    None => "not converted".to_owned(),
                },
                event_type: "referral.outcome_recorded",
                version: next.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        idempotency::remember(
            &txn,
            &scope,
            &request.idempotency_key,
            &hash,
            response.encode_to_vec(),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    convert::settle(
        &svc.db,
        written,
        response,
        &scope,
        &request.idempotency_key,
        &hash,
    )
    .await
}

/// `GetReferrerScore`: the domain's score over the referrer's referrals (created in the given
/// months, when set); an employee unknown to the staff directory is `NOT_FOUND`; a caller who is
/// not the employee, not a bank-wide reader and whose subtree does not hold the employee's branch
/// is `PERMISSION_DENIED`.
pub async fn score(
    svc: &CoordinationService,
    caller: &Caller,
    request: v1::GetReferrerScoreRequest,
) -> Result<v1::GetReferrerScoreResponse> {
    let mut v = Violations::new();
    let employee = convert::employee_id("employee_id", &request.employee_id, &mut v);
    let months = match &request.months {
        None => None,
        Some(range) => {
            let month = |field: &str, p: Option<&v1::Period>, v: &mut Violations| match p {
                Some(p) if (1900..=9999).contains(&p.year) && (1..=12).contains(&p.month) => {
                    Some(p.year * 12 + p.month - 1)
                }
                _ => {
                    v.add(field, "must be a month (year 1900 to 9999, month 1 to 12)");
                    None
                }
            };
            let first = month("months.first", range.first.as_ref(), &mut v);
            let last = month("months.last", range.last.as_ref(), &mut v);
            if let (Some(f), Some(l)) = (first, last)
                && l < f
            {
                v.add("months.last", "is before months.first");
            }
            first.zip(last)
        }
    };
    let (Some(employee), true) = (employee, v.is_empty()) else {
        return Err(v.into());
    };
    // The employee themself, bank-wide readers, and callers whose subtree holds the employee's
    // branch (the domain's reading rule over the employee's branch).
    let bank_wide = BANK_WIDE_READ_ROLES.iter().any(|r| caller.has_role(*r));
    if caller.subject != employee && !bank_wide {
        let staff = svc.registry.employee(caller, &employee).await?;
        let chain = svc.registry.chain(caller, &staff.branch).await?;
        let tree = clients::tree_of(std::slice::from_ref(&chain))?;
        if !bankmkt_domain::access::may_read_customer(
            &caller.roles,
            caller.branch.as_ref(),
            &staff.branch,
            &tree,
            false,
        ) {
            return Err(ServiceError::PermissionDenied(format!(
                "{} may not read the referrer score of {employee}",
                caller.subject
            )));
        }
    }
    let rows = referral::Entity::find()
        .filter(referral::Column::ReferrerEmployeeId.eq(employee.clone()))
        .all(&svc.db)
        .await?;
    if rows.is_empty() {
        svc.registry.employee(caller, &employee).await?;
    }
    let calendar = svc.clock.calendar();
    let in_months = |at: DateTime<Utc>| {
        months.is_none_or(|(f, l)| {
            let d = calendar.business_date(at);
            let m = d.year() * 12 + d.month0() as i32;
            (f..=l).contains(&m)
        })
    };
    let mut statuses = Vec::with_capacity(rows.len());
    for r in rows.iter().filter(|r| in_months(r.create_time)) {
        statuses.push(stored::<ReferralStatus>("referral status", &r.status)?);
    }
    let s = ReferrerScore::from_statuses(statuses);
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(v1::GetReferrerScoreResponse {
        score: Some(v1::ReferrerScore {
            employee_id: employee,
            referral_count: count(s.referral_count),
            accepted_count: count(s.accepted_count),
            declined_count: count(s.declined_count),
            converted_count: count(s.converted_count),
            conversion_rate: s.conversion_rate().map(|d| v1::Decimal {
                value: d.to_string(),
            }),
        }),
    })
}

/// The referral touchpoints of the rows (one per referral: the referrer's contact).
pub fn touchpoints(
    rows: &[referral::Model],
) -> Result<BTreeMap<(DateTime<Utc>, String), v1::Touchpoint>> {
    let mut out = BTreeMap::new();
    for r in rows {
        let id = bankmkt_domain::ids::ReferralId::parse(&r.referral_id)
            .map_err(ServiceError::internal)?;
        let tp_id = bankmkt_domain::coordination::activities::referral_touchpoint_id(id);
        let from_line: BusinessLine = stored("line", &r.from_line)?;
        let unit = UnitRef::new(
            BranchCode::parse(&r.from_branch).map_err(ServiceError::internal)?,
            from_line,
        );
        out.insert(
            (r.create_time, tp_id.clone()),
            v1::Touchpoint {
                touchpoint_id: tp_id,
                source_version: r.version,
                source: v1::TouchpointSource::Referral as i32,
                source_id: r.referral_id.clone(),
                customer: Some(v1::CustomerKey {
                    key: Some(v1::customer_key::Key::CustomerId(r.customer_id.clone())),
                }),
                employee_id: r.referrer_employee_id.clone(),
                unit: Some(convert::unit_to_proto(&unit)),
                team_id: String::new(),
                channel: v1::ContactChannel::Unspecified as i32,
                activity_type: v1::ActivityType::Unspecified as i32,
                occurred_at: Some(convert::timestamp(r.create_time)),
                opportunity_id: r.opportunity_id.clone().unwrap_or_default(),
            },
        );
    }
    Ok(out)
}

/// Every referral, for the overdue check.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<referral::Model>> {
    Ok(referral::Entity::find().all(db).await?)
}
