//! The FX-rate RPCs: `CreateFxRate` adds an effective-dated rate of a foreign currency to CNY
//! (one per currency and date: a second one answers `ALREADY_EXISTS`), checked by the domain's
//! `FxRate::validate` (not CNY, a positive rate); `ListFxRates` lists rates newest first,
//! optionally of one currency, in keyset pages. Rates are stored as exact decimal strings. Each
//! rate bumps the catalogue version and writes its audit entry and an `fx_rate` outbox event in
//! one transaction.

use std::collections::HashMap;

use bankmkt_domain::money::Currency;
use bankmkt_domain::pricing::FxRate;
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::fx_rate;
use crate::PricingService;
use crate::access::{REFERENCE_WRITERS, require_role};
use crate::cache::bump_catalogue_version;
use crate::convert::{self, stored_decimal};
use crate::error::{Result, ServiceError, add_prefixed};
use crate::record::{Change, record};

/// The domain rate of a stored row.
pub fn to_domain(row: &fx_rate::Model) -> Result<FxRate> {
    Ok(FxRate {
        currency: Currency::parse(&row.currency).map_err(ServiceError::internal)?,
        effective_date: row.effective_date,
        cny_per_unit: stored_decimal("cny_per_unit", &row.cny_per_unit)
            .map_err(ServiceError::Internal)?,
    })
}

/// The wire form of a stored rate.
pub fn to_proto(row: &fx_rate::Model) -> Result<v1::FxRate> {
    let rate = to_domain(row)?;
    Ok(v1::FxRate {
        currency: rate.currency.as_str().to_owned(),
        effective_date: Some(convert::date_to_proto(rate.effective_date)),
        cny_per_unit: Some(convert::decimal_to_proto(rate.cny_per_unit)),
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
    })
}

/// `CreateFxRate`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateFxRateRequest,
) -> Result<v1::CreateFxRateResponse> {
    require_role(caller, &REFERENCE_WRITERS, "CreateFxRate")?;
    let wire = request
        .rate
        .ok_or_else(|| ServiceError::invalid("rate", "is required"))?;
    let mut v = Violations::new();
    let currency = convert::currency("rate.currency", &wire.currency, &mut v);
    let date = convert::required_date("rate.effective_date", wire.effective_date.as_ref(), &mut v);
    let cny_per_unit = convert::decimal(
        "rate.cny_per_unit",
        wire.cny_per_unit.as_ref(),
        None,
        &mut v,
    );
    let (Some(currency), Some(date), Some(cny_per_unit)) = (currency, date, cny_per_unit) else {
        return Err(ServiceError::Invalid(v));
    };
    let rate = FxRate {
        currency,
        effective_date: date,
        cny_per_unit,
    };
    if let Err(errors) = rate.validate() {
        add_prefixed(&mut v, "rate", errors);
    }
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }

    let now = svc.clock.now();
    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let exists = || ServiceError::AlreadyExists {
        reason: "FX_RATE_EXISTS",
        message: format!("a {currency} rate effective {date} already exists"),
        metadata: HashMap::from([
            ("currency".to_owned(), currency.as_str().to_owned()),
            ("effective_date".to_owned(), date.to_string()),
        ]),
    };
    if fx_rate::Entity::find_by_id((currency.as_str().to_owned(), date))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(exists());
    }
    let row = fx_rate::Model {
        currency: currency.as_str().to_owned(),
        effective_date: date,
        cny_per_unit: rate.cny_per_unit.to_string(),
        created_by: caller.subject.clone(),
        create_time: now,
    };
    let inserted = fx_rate::ActiveModel {
        currency: Set(row.currency.clone()),
        effective_date: Set(row.effective_date),
        cny_per_unit: Set(row.cny_per_unit.clone()),
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
            action: "fx_rate.create",
            target_type: "fx_rate",
            target_id: format!("{currency}:{date}"),
            before: String::new(),
            after: format!("{currency} from {date} = CNY {} per unit", row.cny_per_unit),
            reason: "recorded an FX rate".to_owned(),
            event_type: "fx_rate.created",
            version: 1,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateFxRateResponse { rate: Some(wire) })
}

fn key(row: &fx_rate::Model) -> String {
    format!("{}|{}", row.effective_date, row.currency)
}

fn parse_key(raw: &str) -> Option<(NaiveDate, String)> {
    let (date, currency) = raw.split_once('|')?;
    Some((date.parse().ok()?, currency.to_owned()))
}

/// `ListFxRates`: newest first, then by currency.
pub async fn list(
    svc: &PricingService,
    request: v1::ListFxRatesRequest,
) -> Result<v1::ListFxRatesResponse> {
    let mut v = Violations::new();
    let currency = if request.currency.is_empty() {
        None
    } else {
        convert::currency("currency", &request.currency, &mut v)
    };
    let filters = format!("fx_rates|{currency:?}");
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let after = page.after.as_deref().map(parse_key);
    if after == Some(None) {
        v.add("page_token", "is not a token this service issued");
    }
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let mut query = fx_rate::Entity::find();
    if let Some(currency) = currency {
        query = query.filter(fx_rate::Column::Currency.eq(currency.as_str()));
    }
    if let Some(Some((date, currency))) = after {
        query = query.filter(
            Condition::any()
                .add(fx_rate::Column::EffectiveDate.lt(date))
                .add(
                    Condition::all()
                        .add(fx_rate::Column::EffectiveDate.eq(date))
                        .add(fx_rate::Column::Currency.gt(currency)),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(fx_rate::Column::EffectiveDate)
        .order_by_asc(fx_rate::Column::Currency)
        .limit(page.fetch_limit())
        .all(&svc.db)
        .await?;
    let next_page_token = page.finish(&mut rows, key);
    Ok(v1::ListFxRatesResponse {
        rates: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}
