//! The needs statement and the solution of an opportunity ("five fixes"; DOMAIN.md §5):
//! `UpdateNeedsStatement` replaces the customer needs statement (客户需求说明书) after the domain's
//! `NeedsStatement::validate` (fields under `needs_statement`), outside a terminal stage;
//! `SetSolutionQuote` reads the quote from pricing's `GetQuote` **on the caller's behalf** (so a
//! quote the caller may not see is `NOT_FOUND`) and lets the domain's `check_solution_quote`
//! decide: preparation or execution only, the quote of the opportunity's main target (a quote of
//! another customer is `FAILED_PRECONDITION` `QUOTE_OF_ANOTHER_CUSTOMER` naming `quote_id`), and
//! not rejected, expired or superseded. Both are member-only writes under the opportunity's
//! optimistic concurrency, one transaction each with the audit entry and the outbox event.

use bankmkt_domain::coordination::opportunity::{CustomerNeed, check_solution_quote};
use bankmkt_domain::coordination::{NeedsStatement, stage};
use bankmkt_domain::ids::CustomerId;
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::TransactionTrait;

use crate::CoordinationService;
use crate::convert;
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::store::{self, Loaded};

/// `UpdateNeedsStatement`.
pub async fn update_needs(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateNeedsStatementRequest,
) -> Result<v1::UpdateNeedsStatementResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let Some(raw) = request.needs_statement.as_ref() else {
        v.add("needs_statement", "is required");
        return Err(v.into());
    };
    let statement = NeedsStatement {
        summary: raw.summary.clone(),
        needs: raw
            .needs
            .iter()
            .map(|n| CustomerNeed {
                need_id: n.need_id.clone(),
                category: n.category.clone(),
                description: n.description.clone(),
                priority: n.priority,
                product_ids: n.product_ids.clone(),
            })
            .collect(),
    };
    if let Err(e) = statement.validate() {
        match ServiceError::from_domain(e, "needs_statement") {
            ServiceError::Invalid(found) => {
                for (f, m) in found.fields() {
                    v.add(f.clone(), m.clone());
                }
            }
            other => return Err(other),
        }
    }
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let stored = v1::NeedsStatement {
        summary: raw.summary.clone(),
        needs: raw.needs.clone(),
        updated: Some(convert::stamp(&caller.subject, now, "")),
    };
    let mut next = loaded.row.clone();
    next.needs_statement = Some(stored.encode_to_vec());
    next.version += 1;
    next.update_time = now;
    write(
        svc,
        caller,
        request_id,
        &loaded,
        next,
        "opportunity.update_needs_statement",
        "opportunity.needs_statement_updated",
        format!("needs statement with {} need(s)", raw.needs.len()),
    )
    .await
    .map(|o| v1::UpdateNeedsStatementResponse {
        opportunity: Some(o),
    })
}

/// `SetSolutionQuote`.
pub async fn set_quote(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::SetSolutionQuoteRequest,
) -> Result<v1::SetSolutionQuoteResponse> {
    let mut v = Violations::new();
    let id = convert::issued_id("opportunity_id", &request.opportunity_id, &mut v);
    let quote_id = convert::issued_id("quote_id", &request.quote_id, &mut v);
    let (Some(id), Some(quote_id), true) = (id, quote_id, v.is_empty()) else {
        return Err(v.into());
    };
    let today = svc.clock.today();
    let loaded = store::load(&svc.db, caller, &id, today).await?;
    store::require_member(caller, &loaded, today)?;
    store::check_version(&loaded.row, request.expected_version)?;
    stage::check_open(loaded.stage()?).map_err(|e| ServiceError::from_domain(e, ""))?;
    let quote = svc.pricing.quote(caller, &quote_id).await?;
    let quote_customer = CustomerId::parse(&quote.customer_id).map_err(ServiceError::internal)?;
    check_solution_quote(
        loaded.stage()?,
        loaded.target()?,
        quote_customer,
        quote.status,
    )
    .map_err(|e| match ServiceError::from_domain(e, "") {
        ServiceError::FailedPrecondition { kind, message, .. } => {
            ServiceError::FailedPrecondition {
                kind,
                subject: "quote_id".to_owned(),
                message,
            }
        }
        other => other,
    })?;
    let now = store::now(svc);
    let mut next = loaded.row.clone();
    next.solution_quote_id = Some(quote_id.clone());
    next.version += 1;
    next.update_time = now;
    write(
        svc,
        caller,
        request_id,
        &loaded,
        next,
        "opportunity.set_solution_quote",
        "opportunity.solution_quote_set",
        format!("solution quote {quote_id} ({})", quote.status),
    )
    .await
    .map(|o| v1::SetSolutionQuoteResponse {
        opportunity: Some(o),
    })
}

/// Saves `next` over `loaded` with its audit entry and event; returns the opportunity for the
/// wire.
#[allow(clippy::too_many_arguments)]
async fn write(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    loaded: &Loaded,
    next: crate::entity::opportunity::Model,
    action: &'static str,
    event_type: &'static str,
    reason: String,
) -> Result<v1::Opportunity> {
    let today = svc.clock.today();
    let now = next.update_time;
    let after = Loaded {
        row: next.clone(),
        ..loaded.clone()
    };
    let wire = store::to_proto(&after, today)?;
    let txn = svc.db.begin().await?;
    store::save(&txn, next.clone(), loaded.row.version).await?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action,
            target_type: "opportunity",
            target_id: next.opportunity_id.clone(),
            before: store::summary(&loaded.row),
            after: store::summary(&next),
            reason,
            event_type,
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(wire)
}
