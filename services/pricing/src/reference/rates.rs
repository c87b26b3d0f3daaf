//! The reference-rate RPCs: `CreateReferenceRate` adds a point of an LPR series (one per series
//! and date: a second one answers `ALREADY_EXISTS`), checked by the domain's
//! `ReferenceRate::validate`; `ListReferenceRates` lists points newest first, optionally of one
//! series, in keyset pages. Each point bumps the catalogue version and writes its audit entry and
//! a `reference_rate` outbox event in one transaction.

use std::collections::HashMap;

use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::pricing::{ReferenceRate, ReferenceRateKind};
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::reference_rate;
use crate::PricingService;
use crate::access::{REFERENCE_WRITERS, require_role};
use crate::cache::bump_catalogue_version;
use crate::convert::{self, stored_code};
use crate::error::{Result, ServiceError, add_prefixed};
use crate::record::{Change, record};

/// The wire form of a stored point.
pub fn to_proto(row: &reference_rate::Model) -> Result<v1::ReferenceRate> {
    let kind: ReferenceRateKind =
        stored_code("reference rate kind", &row.kind).map_err(ServiceError::Internal)?;
    Ok(v1::ReferenceRate {
        kind: convert::reference_kind_to_proto(kind) as i32,
        effective_date: Some(convert::date_to_proto(row.effective_date)),
        rate_bps: row.rate_bps,
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
    })
}

/// The domain point of a stored row.
pub fn to_domain(row: &reference_rate::Model) -> Result<ReferenceRate> {
    Ok(ReferenceRate {
        kind: stored_code("reference rate kind", &row.kind).map_err(ServiceError::Internal)?,
        effective_date: row.effective_date,
        rate: BasisPoints::new(row.rate_bps),
    })
}

/// `CreateReferenceRate`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateReferenceRateRequest,
) -> Result<v1::CreateReferenceRateResponse> {
    require_role(caller, &REFERENCE_WRITERS, "CreateReferenceRate")?;
    let wire = request
        .rate
        .ok_or_else(|| ServiceError::invalid("rate", "is required"))?;
    let mut v = Violations::new();
    let kind = convert::required_enum(
        "rate.kind",
        wire.kind,
        convert::reference_kind_from_proto,
        "reference rate kind",
        &mut v,
    );
    let date = convert::required_date("rate.effective_date", wire.effective_date.as_ref(), &mut v);
    let (Some(kind), Some(date)) = (kind, date) else {
        return Err(ServiceError::Invalid(v));
    };
    let point = ReferenceRate {
        kind,
        effective_date: date,
        rate: BasisPoints::new(wire.rate_bps),
    };
    if let Err(errors) = point.validate() {
        add_prefixed(&mut v, "rate", errors);
    }
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }

    let now = svc.clock.now();
    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let exists = || ServiceError::AlreadyExists {
        reason: "REFERENCE_RATE_EXISTS",
        message: format!("a {} rate effective {date} already exists", kind.label()),
        metadata: HashMap::from([
            ("kind".to_owned(), kind.as_str().to_owned()),
            ("effective_date".to_owned(), date.to_string()),
        ]),
    };
    if reference_rate::Entity::find_by_id((kind.as_str().to_owned(), date))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(exists());
    }
    let row = reference_rate::Model {
        kind: kind.as_str().to_owned(),
        effective_date: date,
        rate_bps: point.rate.value(),
        created_by: caller.subject.clone(),
        create_time: now,
    };
    let inserted = reference_rate::ActiveModel {
        kind: Set(row.kind.clone()),
        effective_date: Set(row.effective_date),
        rate_bps: Set(row.rate_bps),
        created_by: Set(row.created_by.clone()),
        create_time: Set(row.create_time),
    }
    .insert(&txn)
    .await
    .map_err(ServiceError::from);
    match inserted {
        Err(e) if e.is_unique_violation() => return Err(exists()),
        other => other?,
    };
    let wire = to_proto(&row)?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "reference_rate.create",
            target_type: "reference_rate",
            target_id: format!("{}:{date}", kind.as_str()),
            before: String::new(),
            after: format!("{} from {date} = {}", kind.label(), point.rate),
            reason: "recorded a reference rate".to_owned(),
            event_type: "reference_rate.created",
            version: 1,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateReferenceRateResponse { rate: Some(wire) })
}

fn key(row: &reference_rate::Model) -> String {
    format!("{}|{}", row.effective_date, row.kind)
}

fn parse_key(raw: &str) -> Option<(NaiveDate, String)> {
    let (date, kind) = raw.split_once('|')?;
    Some((date.parse().ok()?, kind.to_owned()))
}

/// `ListReferenceRates`: newest first, then by series.
pub async fn list(
    svc: &PricingService,
    request: v1::ListReferenceRatesRequest,
) -> Result<v1::ListReferenceRatesResponse> {
    let mut v = Violations::new();
    let kind = convert::filter_enum(
        "kind",
        request.kind,
        convert::reference_kind_from_proto,
        "reference rate kind",
        &mut v,
    );
    let filters = format!("reference_rates|{kind:?}");
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let after = page.after.as_deref().map(parse_key);
    if after == Some(None) {
        v.add("page_token", "is not a token this service issued");
    }
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let mut query = reference_rate::Entity::find();
    if let Some(kind) = kind {
        query = query.filter(reference_rate::Column::Kind.eq(kind.as_str()));
    }
    if let Some(Some((date, kind))) = after {
        query = query.filter(
            Condition::any()
                .add(reference_rate::Column::EffectiveDate.lt(date))
                .add(
                    Condition::all()
                        .add(reference_rate::Column::EffectiveDate.eq(date))
                        .add(reference_rate::Column::Kind.gt(kind)),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(reference_rate::Column::EffectiveDate)
        .order_by_asc(reference_rate::Column::Kind)
        .limit(page.fetch_limit())
        .all(&svc.db)
        .await?;
    let next_page_token = page.finish(&mut rows, key);
    Ok(v1::ListReferenceRatesResponse {
        rates: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}
