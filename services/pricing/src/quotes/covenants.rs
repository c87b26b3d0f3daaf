//! `RecordCovenantObservation`: an observed sales-funds return ratio (销售资金归行率) for a
//! covenanted loan item of an approved quote. The domain's `observe` decides: at or above the
//! agreed ratio nothing changes; below it the item's rate steps up by the covenant's spread (taken
//! from configuration when the quote was created), and a **new quote version** supersedes the old
//! one: the same items, the stepped item at its new rate with its concession and required level
//! recomputed (bands in force today), every figure restated exactly by the domain's `restate`
//! from the stored inputs and price versions, approved (the step-up is contractual), while the
//! old quote becomes superseded. One observation per item and month along a quote's versions. The
//! observation row, the new quote, the old quote's state, their audit entries and outbox events
//! and the idempotency record are written in one transaction.

use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::pricing::economics::Term;
use bankmkt_domain::pricing::{
    AuthorityLevel, Covenant, EconomicsConfig, Price, ProductKind, QuoteStatus, RestateItem,
    concession, observe, required_level, restate,
};
use bankmkt_platform::Caller;
use bankmkt_platform::idempotency;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::Datelike;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, TransactionTrait};

use super::context::{pricing_error, reference};
use super::create::{Rows, expiry, insert, summary};
use super::entity::{covenant_observation, quote, quote_item};
use super::stored::{
    StoredEconomics, StoredMoney, StoredPrice, StoredRequest, StoredTotals, decimal_of, from_json,
    quote_to_proto, status_at, to_json,
};
use super::{COVENANT_RECORDERS, idempotency_key, load, quote_id, replay, scope};
use crate::PricingService;
use crate::access::require_role;
use crate::cache::catalogue_version;
use crate::catalogue::domain_terms;
use crate::catalogue::entity::price_version;
use crate::convert::stored_code;
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};

/// How many versions back a quote's lineage is followed, at most.
const MAX_LINEAGE: usize = 1_000;

fn precondition(kind: &'static str, subject: &str, message: String) -> ServiceError {
    ServiceError::FailedPrecondition {
        kind,
        subject: subject.to_owned(),
        message,
    }
}

/// The ids of `row` and every quote it supersedes, newest first.
async fn lineage<C: ConnectionTrait>(txn: &C, row: &quote::Model) -> Result<Vec<String>> {
    let mut ids = vec![row.quote_id.clone()];
    let mut next = row.supersedes_quote_id.clone();
    while let Some(id) = next {
        if ids.len() >= MAX_LINEAGE || ids.contains(&id) {
            break;
        }
        next = quote::Entity::find_by_id(id.as_str())
            .one(txn)
            .await?
            .and_then(|q| q.supersedes_quote_id);
        ids.push(id);
    }
    Ok(ids)
}

/// `RecordCovenantObservation`.
pub async fn record_observation(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::RecordCovenantObservationRequest,
) -> Result<v1::RecordCovenantObservationResponse> {
    require_role(caller, &COVENANT_RECORDERS, "RecordCovenantObservation")?;
    let mut v = Violations::new();
    idempotency_key(&request.idempotency_key, &mut v);
    let id = quote_id("quote_id", &request.quote_id, &mut v);
    let item_id = request.item_id.trim().to_owned();
    if item_id.is_empty() || item_id.len() > 8 {
        v.add("item_id", "is required, e.g. \"1\"");
    }
    let today = svc.clock.today();
    let period = match &request.period {
        None => {
            v.add("period", "is required");
            None
        }
        Some(p) if !(1900..=9999).contains(&p.year) || !(1..=12).contains(&p.month) => {
            v.add("period", "must be a year 1900 to 9999 and a month 1 to 12");
            None
        }
        Some(p) if (p.year, p.month) > (today.year(), today.month() as i32) => {
            v.add("period", "must not be in the future");
            None
        }
        Some(p) => Some(format!("{:04}-{:02}", p.year, p.month)),
    };
    if !(0..=10_000).contains(&request.observed_ratio_bps) {
        v.add(
            "observed_ratio_bps",
            format!("{} is outside 0 to 10000 bp", request.observed_ratio_bps),
        );
    }
    let (Some(id), Some(period), true) = (id, period, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let scope = scope("RecordCovenantObservation", caller);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(stored) = replay(&svc.db, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }

    let now = super::now(svc);
    let txn = svc.db.begin().await?;
    if let Some(stored) = replay(&txn, &scope, &request.idempotency_key, &hash).await? {
        return Ok(stored);
    }
    let loaded = load(&txn, caller, &id).await?;
    let row = &loaded.quote;
    let status = status_at(row, now)?;
    if status != QuoteStatus::Approved {
        return Err(precondition(
            "QUOTE_STATUS",
            &id,
            format!("quote {id} is {status}; covenants are observed on approved quotes"),
        ));
    }
    let item = loaded
        .items
        .iter()
        .find(|i| i.item_id == item_id)
        .ok_or_else(|| ServiceError::NotFound {
            kind: "quote item",
            id: format!("{id}/{item_id}"),
        })?;
    let (Some(agreed), Some(step_up)) = (item.covenant_agreed_ratio_bps, item.covenant_step_up_bps)
    else {
        return Err(precondition(
            "COVENANT",
            &item_id,
            format!("item {item_id} of quote {id} carries no covenant"),
        ));
    };
    let ids = lineage(&txn, row).await?;
    let seen = covenant_observation::Entity::find()
        .filter(covenant_observation::Column::QuoteId.is_in(ids))
        .filter(covenant_observation::Column::ItemId.eq(item_id.as_str()))
        .filter(covenant_observation::Column::Period.eq(period.as_str()))
        .one(&txn)
        .await?;
    if let Some(seen) = seen {
        return Err(precondition(
            "COVENANT_PERIOD",
            &period,
            format!(
                "item {item_id} was already observed for {period} (on quote {})",
                seen.quote_id
            ),
        ));
    }
    let current: StoredPrice = from_json("proposed price", &item.proposed_price)?;
    let StoredPrice::Rate { rate_bps } = current else {
        return Err(ServiceError::internal(format!(
            "covenanted item {item_id} of quote {id} is not priced by a rate"
        )));
    };
    let covenant = Covenant {
        agreed_ratio: BasisPoints::new(agreed),
        step_up: BasisPoints::new(step_up),
    };
    let outcome = observe(
        &covenant,
        BasisPoints::new(rate_bps),
        BasisPoints::new(request.observed_ratio_bps),
    )
    .map_err(|e| pricing_error(e, "observed_ratio_bps"))?;

    let mut response = v1::RecordCovenantObservationResponse {
        breached: outcome.breached,
        step_up_bps: outcome.step_up.value(),
        new_quote: None,
    };
    let mut new_quote_id = None;
    if outcome.breached {
        let (rows, wire) =
            stepped_version(svc, &txn, &loaded, &item_id, outcome.new_rate, caller, now).await?;
        new_quote_id = Some(rows.quote.quote_id.clone());
        // The old version is superseded, under its version.
        let superseded = quote::Entity::update_many()
            .col_expr(
                quote::Column::Status,
                Expr::value(QuoteStatus::Superseded.as_str()),
            )
            .col_expr(quote::Column::Version, Expr::value(row.version + 1))
            .col_expr(quote::Column::UpdateTime, Expr::value(now))
            .filter(quote::Column::QuoteId.eq(id.as_str()))
            .filter(quote::Column::Version.eq(row.version))
            .exec(&txn)
            .await?;
        if superseded.rows_affected != 1 {
            return Err(ServiceError::StaleVersion {
                kind: "quote",
                id: id.clone(),
                expected: row.version,
                actual: row.version + 1,
            });
        }
        let old = quote::Model {
            status: QuoteStatus::Superseded.as_str().to_owned(),
            version: row.version + 1,
            update_time: now,
            ..row.clone()
        };
        insert(&txn, &rows).await?;
        let old_wire = quote_to_proto(&old, &loaded.items, &loaded.decisions, now)?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "quote.supersede",
                target_type: "quote",
                target_id: id.clone(),
                before: summary(row),
                after: format!("{} superseded_by={}", summary(&old), rows.quote.quote_id),
                reason: format!(
                    "covenant of item {item_id}: observed {} bp for {period} below the agreed {agreed} bp; rate +{step_up} bp",
                    request.observed_ratio_bps
                ),
                event_type: "quote.superseded",
                version: old.version,
                payload: old_wire.encode_to_vec(),
            },
        )
        .await?;
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "quote.create",
                target_type: "quote",
                target_id: rows.quote.quote_id.clone(),
                before: String::new(),
                after: summary(&rows.quote),
                reason: format!(
                    "covenant step-up of item {item_id} to {} bp, superseding quote {id}",
                    outcome.new_rate.value()
                ),
                event_type: "quote.created",
                version: rows.quote.version,
                payload: wire.encode_to_vec(),
            },
        )
        .await?;
        response.new_quote = Some(wire);
    } else {
        record(
            &txn,
            now,
            Change {
                caller,
                request_id,
                action: "covenant.observe",
                target_type: "quote",
                target_id: id.clone(),
                before: String::new(),
                after: format!(
                    "item={item_id} period={period} observed={}bp agreed={agreed}bp breached=false",
                    request.observed_ratio_bps
                ),
                reason: "covenant observation".to_owned(),
                event_type: "covenant.observed",
                version: row.version,
                payload: response.encode_to_vec(),
            },
        )
        .await?;
    }
    covenant_observation::ActiveModel {
        id: NotSet,
        quote_id: Set(id.clone()),
        item_id: Set(item_id.clone()),
        period: Set(period),
        observed_ratio_bps: Set(request.observed_ratio_bps),
        breached: Set(outcome.breached),
        step_up_bps: Set(outcome.step_up.value()),
        new_quote_id: Set(new_quote_id),
        recorded_by: Set(caller.subject.clone()),
        record_time: Set(now),
    }
    .insert(&txn)
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
    Ok(response)
}

/// The new quote version of `loaded` with item `item_id` at `new_rate`, restated.
async fn stepped_version<C: ConnectionTrait>(
    svc: &PricingService,
    txn: &C,
    loaded: &super::Loaded,
    item_id: &str,
    new_rate: BasisPoints,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Rows, v1::Quote)> {
    let row = &loaded.quote;
    let new_id = uuid::Uuid::now_v7().to_string();
    let today = svc.clock.today();
    let version = catalogue_version(txn).await?;
    let bands: Vec<_> = reference(svc, &version, today)
        .await?
        .bands
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    let mut terms = Vec::with_capacity(loaded.items.len());
    for item in &loaded.items {
        let pv = price_version::Entity::find_by_id(item.price_version_id.as_str())
            .one(txn)
            .await?
            .ok_or_else(|| {
                ServiceError::internal(format!(
                    "price version {} of quote {} is missing",
                    item.price_version_id, row.quote_id
                ))
            })?;
        terms.push(domain_terms(&pv)?);
    }
    let mut items = Vec::with_capacity(loaded.items.len());
    let mut inputs = Vec::with_capacity(loaded.items.len());
    for (item, terms) in loaded.items.iter().zip(&terms) {
        let kind: ProductKind =
            stored_code("product kind", &item.product_kind).map_err(ServiceError::Internal)?;
        let mut request: StoredRequest = from_json("item request", &item.request)?;
        let relationship: StoredPrice = from_json("relationship price", &item.relationship_price)?;
        let proposed: StoredPrice = from_json("proposed price", &item.proposed_price)?;
        let mut level: AuthorityLevel =
            stored_code("authority level", &item.required_level).map_err(ServiceError::Internal)?;
        let mut next = quote_item::Model {
            quote_id: new_id.clone(),
            ..item.clone()
        };
        let mut proposed = proposed.to_domain()?;
        if item.item_id == item_id {
            proposed = Price::Rate(new_rate);
            let conceded = concession(kind, &relationship.to_domain()?, &proposed)
                .map_err(|e| pricing_error(e, "observed_ratio_bps"))?;
            level = required_level(&bands, kind, conceded).unwrap_or(level);
            request.proposal = Some(StoredPrice::from_domain(proposed));
            next.request = to_json(&request)?;
            next.proposed_price = to_json(&StoredPrice::from_domain(proposed))?;
            next.concession_bps = conceded.value();
            next.required_level = level.as_str().to_owned();
        }
        inputs.push(RestateItem {
            kind,
            terms,
            amount: request
                .amount
                .as_ref()
                .map(StoredMoney::to_domain)
                .transpose()?,
            proposed,
            term: Term::Months(request.term_months),
            fx_rate: decimal_of("fx rate", &item.fx_rate)?,
            required_level: level,
        });
        items.push(next);
    }
    let old_totals: StoredTotals = from_json("quote totals", &row.totals)?;
    let config = EconomicsConfig {
        hurdle_rate: BasisPoints::new(row.hurdle_rate_bps),
        operational_risk_ratio: old_totals.operational_risk_ratio_bps.map_or(
            svc.quoting.config.economics.operational_risk_ratio,
            BasisPoints::new,
        ),
    };
    let restated = restate(&inputs, row.strategic, &config)
        .map_err(|e| pricing_error(e, "observed_ratio_bps"))?;
    for (item, economics) in items.iter_mut().zip(&restated.items) {
        item.economics = to_json(&StoredEconomics::from_domain(economics))?;
    }
    let existing = old_totals
        .existing_contribution
        .as_ref()
        .map(StoredMoney::to_domain)
        .transpose()?;
    let combined = existing
        .map(|e| e.checked_add(restated.totals.eva))
        .transpose()
        .map_err(|e| ServiceError::internal(format!("combined contribution: {e}")))?;
    let totals = StoredTotals {
        totals: StoredEconomics::from_domain(&restated.totals),
        existing_contribution: existing.map(StoredMoney::from_domain),
        combined_contribution: combined.map(StoredMoney::from_domain),
        operational_risk_ratio_bps: Some(config.operational_risk_ratio.value()),
    };
    let quote = quote::Model {
        quote_id: new_id,
        status: QuoteStatus::Approved.as_str().to_owned(),
        verdict: restated.verdict.as_str().to_owned(),
        required_level: restated.required_level.as_str().to_owned(),
        totals: to_json(&totals)?,
        existing_contribution_fen: existing.map_or(0, |m| m.minor_units()),
        combined_contribution_fen: combined.map_or(0, |m| m.minor_units()),
        catalogue_version: version.number,
        created_by: caller.subject.clone(),
        create_time: now,
        submitted_by: None,
        submit_time: None,
        submit_reason: None,
        expire_time: expiry(svc, now),
        supersedes_quote_id: Some(row.quote_id.clone()),
        version: 1,
        update_time: now,
        ..row.clone()
    };
    let wire = quote_to_proto(&quote, &items, &[], now)?;
    Ok((Rows { quote, items }, wire))
}
