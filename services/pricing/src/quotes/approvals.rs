//! The maker-checker RPCs: `SubmitQuote` (maker step) and `ApproveQuote` / `RejectQuote`
//! (checker step). The rules are the domain's (`submit`, `decide`): a submitted quote that needs
//! no approval (acceptable: EVA not negative, every concession within the customer manager's
//! band) is approved at once; a refused one cannot be submitted; only an approver whose branch is
//! on the quote's branch chain (read from the registry's current tree for each decision) at or
//! above the required level, and who is not the submitter, may decide (`PERMISSION_DENIED`
//! otherwise); an expired, undecidable or already-decided quote is `FAILED_PRECONDITION`; a stale
//! `expected_version` is `ABORTED`. Every step updates the quote under its version, records a
//! decision row (checker steps), and writes its audit entry (actor, time, reason) and outbox
//! event (`quote.submitted`, `quote.approved`, `quote.rejected`) in the same transaction.

use bankmkt_domain::org::Role;
use bankmkt_domain::pricing::{
    ApprovalRefused, AuthorityLevel, Decider, Pending, QuoteDecisionOutcome, QuoteStatus,
    QuoteVerdict, decide, submit as submit_rule,
};
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, TransactionTrait};

use super::create::summary;
use super::entity::{quote, quote_decision};
use super::stored::{quote_to_proto, stored_status};
use super::{QUOTE_MAKERS, branches, load, load_any, quote_id};
use crate::PricingService;
use crate::access::require_role;
use crate::convert::{self, stored_code};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};

/// A refusal of the domain's approval rules as this service's error.
pub fn refused(quote_id: &str, e: ApprovalRefused) -> ServiceError {
    if e.is_permission() {
        return ServiceError::PermissionDenied(e.to_string());
    }
    let kind = match e {
        ApprovalRefused::Expired => "QUOTE_EXPIRED",
        ApprovalRefused::Unsubmittable { .. } => "QUOTE_VERDICT",
        _ => "QUOTE_STATUS",
    };
    ServiceError::FailedPrecondition {
        kind,
        subject: quote_id.to_owned(),
        message: format!("quote {quote_id}: {e}"),
    }
}

fn stale(id: &str, expected: i64, actual: i64) -> ServiceError {
    ServiceError::StaleVersion {
        kind: "quote",
        id: id.to_owned(),
        expected,
        actual,
    }
}

/// Moves quote `row` to `status` at `now` under its version on `txn`, setting the submission
/// fields when `submitted` is given; returns the updated row.
async fn advance<C: ConnectionTrait>(
    txn: &C,
    row: &quote::Model,
    status: QuoteStatus,
    submitted: Option<(&str, Option<String>)>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<quote::Model> {
    let mut update = quote::Entity::update_many()
        .col_expr(quote::Column::Status, Expr::value(status.as_str()))
        .col_expr(quote::Column::Version, Expr::value(row.version + 1))
        .col_expr(quote::Column::UpdateTime, Expr::value(now));
    let mut next = quote::Model {
        status: status.as_str().to_owned(),
        version: row.version + 1,
        update_time: now,
        ..row.clone()
    };
    if let Some((by, reason)) = submitted {
        update = update
            .col_expr(quote::Column::SubmittedBy, Expr::value(by))
            .col_expr(quote::Column::SubmitTime, Expr::value(now))
            .col_expr(quote::Column::SubmitReason, Expr::value(reason.clone()));
        next.submitted_by = Some(by.to_owned());
        next.submit_time = Some(now);
        next.submit_reason = reason;
    }
    let result = update
        .filter(quote::Column::QuoteId.eq(row.quote_id.as_str()))
        .filter(quote::Column::Version.eq(row.version))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(stale(&row.quote_id, row.version, row.version + 1));
    }
    Ok(next)
}

/// `SubmitQuote`.
pub async fn submit(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::SubmitQuoteRequest,
) -> Result<v1::SubmitQuoteResponse> {
    require_role(caller, &QUOTE_MAKERS, "SubmitQuote")?;
    let mut v = Violations::new();
    let id = quote_id("quote_id", &request.quote_id, &mut v);
    let note = request.reason.trim();
    if note.chars().count() > convert::MAX_REASON {
        v.add(
            "reason",
            format!("must be at most {} characters", convert::MAX_REASON),
        );
    }
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let note = (!note.is_empty()).then(|| note.to_owned());
    let now = super::now(svc);
    let txn = svc.db.begin().await?;
    let loaded = load(&txn, caller, &id).await?;
    let row = &loaded.quote;
    let verdict: QuoteVerdict =
        stored_code("quote verdict", &row.verdict).map_err(ServiceError::Internal)?;
    let status = submit_rule(stored_status(row)?, verdict, now >= row.expire_time)
        .map_err(|e| refused(&id, e))?;
    if row.version != request.expected_version {
        return Err(stale(&id, request.expected_version, row.version));
    }
    let next = advance(
        &txn,
        row,
        status,
        Some((caller.subject.as_str(), note.clone())),
        now,
    )
    .await?;
    let wire = quote_to_proto(&next, &loaded.items, &loaded.decisions, now)?;
    let approved = status == QuoteStatus::Approved;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "quote.submit",
            target_type: "quote",
            target_id: id.clone(),
            before: summary(row),
            after: summary(&next),
            reason: match (&note, approved) {
                (Some(n), _) => n.clone(),
                (None, true) => "submitted; within the customer manager's band, approved".into(),
                (None, false) => "submitted for approval".into(),
            },
            event_type: if approved {
                "quote.approved"
            } else {
                "quote.submitted"
            },
            version: next.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::SubmitQuoteResponse { quote: Some(wire) })
}

/// The checker step shared by approve and reject.
async fn decide_quote(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    raw_id: &str,
    expected_version: i64,
    raw_reason: &str,
    outcome: QuoteDecisionOutcome,
) -> Result<v1::Quote> {
    let mut v = Violations::new();
    let id = quote_id("quote_id", raw_id, &mut v);
    let reason = convert::reason("reason", raw_reason, &mut v);
    let (Some(id), Some(reason), true) = (id, reason, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let Some(own) = caller.branch.as_ref().map(|b| b.as_str().to_owned()) else {
        return Err(ServiceError::PermissionDenied(
            "deciding a quote needs an approver with a branch".to_owned(),
        ));
    };
    // Anyone but an approver on the quote's chain is refused by the domain's rule, so the quote
    // is read whoever asks (an approver off the chain is PERMISSION_DENIED, as the contract says).
    let before = load_any(&svc.db, &id).await?;
    let chain = branches::chain_for_decision(svc, caller, &before.quote.branch_id).await?;

    let now = super::now(svc);
    let txn = svc.db.begin().await?;
    let loaded = load_any(&txn, &id).await?;
    let row = &loaded.quote;
    if row.branch_id != before.quote.branch_id {
        return Err(stale(&id, expected_version, row.version));
    }
    let required: AuthorityLevel =
        stored_code("authority level", &row.required_level).map_err(ServiceError::Internal)?;
    let status = decide(
        Decider {
            actor: &caller.subject,
            branch: &own,
            is_approver: caller.has_role(Role::Approver),
        },
        &chain.pairs(),
        Pending {
            status: stored_status(row)?,
            expired: now >= row.expire_time,
            submitted_by: row.submitted_by.as_deref(),
            required_level: required,
        },
        outcome,
    )
    .map_err(|e| refused(&id, e))?;
    if row.version != expected_version {
        return Err(stale(&id, expected_version, row.version));
    }
    let next = advance(&txn, row, status, None, now).await?;
    let decision = quote_decision::ActiveModel {
        id: NotSet,
        quote_id: Set(id.clone()),
        outcome: Set(outcome.as_str().to_owned()),
        actor_id: Set(caller.subject.clone()),
        approver_branch_id: Set(own.clone()),
        reason: Set(reason.clone()),
        decide_time: Set(now),
    }
    .insert(&txn)
    .await?;
    let mut decisions = loaded.decisions.clone();
    decisions.push(decision);
    let wire = quote_to_proto(&next, &loaded.items, &decisions, now)?;
    let (action, event_type) = match outcome {
        QuoteDecisionOutcome::Approved => ("quote.approve", "quote.approved"),
        QuoteDecisionOutcome::Rejected => ("quote.reject", "quote.rejected"),
    };
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action,
            target_type: "quote",
            target_id: id.clone(),
            before: summary(row),
            after: format!("{} approver_branch={own}", summary(&next)),
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

/// `ApproveQuote`.
pub async fn approve(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::ApproveQuoteRequest,
) -> Result<v1::ApproveQuoteResponse> {
    let quote = decide_quote(
        svc,
        caller,
        request_id,
        &request.quote_id,
        request.expected_version,
        &request.reason,
        QuoteDecisionOutcome::Approved,
    )
    .await?;
    Ok(v1::ApproveQuoteResponse { quote: Some(quote) })
}

/// `RejectQuote`.
pub async fn reject(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::RejectQuoteRequest,
) -> Result<v1::RejectQuoteResponse> {
    let quote = decide_quote(
        svc,
        caller,
        request_id,
        &request.quote_id,
        request.expected_version,
        &request.reason,
        QuoteDecisionOutcome::Rejected,
    )
    .await?;
    Ok(v1::RejectQuoteResponse { quote: Some(quote) })
}
