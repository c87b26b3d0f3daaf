//! The price-version RPCs: `CreatePriceVersion` and `ListPriceVersions` (newest effective date
//! first, keyset pages). A version's terms are checked by the domain (`PriceTerms::validate_for`:
//! a rate for balance products and a schedule for fee products, tiers from zero and increasing,
//! ratios within 0 to 1, the schedule in the product's currency); a period that overlaps another
//! version of the product is refused with `FAILED_PRECONDITION` of type `PRICE_VERSION_OVERLAP`
//! naming that version (the domain's `first_overlap`). Versions are numbered from 1 within their
//! product: a guarded update of the product's `price_version_count` hands out the number and
//! serialises writers of one product. Each creation bumps the catalogue version and writes its
//! audit entry and a `price_version` outbox event in the same transaction.

use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::pricing::{ListPrice, PriceTerms, first_overlap};
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::{StoredSchedule, price_version, product};
use super::products::product_id;
use super::{domain_product, price_to_proto, range_of};
use crate::PricingService;
use crate::access::{PRICE_WRITERS, require_role};
use crate::cache::bump_catalogue_version;
use crate::convert;
use crate::error::{Result, ServiceError, add_prefixed};
use crate::record::{Change, record};

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        kind: "product",
        id: id.to_owned(),
    }
}

/// `CreatePriceVersion`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreatePriceVersionRequest,
) -> Result<v1::CreatePriceVersionResponse> {
    require_role(caller, &PRICE_WRITERS, "CreatePriceVersion")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.price_version else {
        v.add("price_version", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let id = product_id("price_version.product_id", &wire.product_id, &mut v);
    let effective =
        convert::effective_range("price_version.effective", wire.effective.as_ref(), &mut v);
    if wire.list_price.is_none() {
        v.add(
            "price_version.list_price",
            "a list_rate_bps (balance products) or a fee_schedule (fee products) is required",
        );
    }
    let operating_cost = convert::decimal(
        "price_version.operating_cost_ratio",
        wire.operating_cost_ratio.as_ref(),
        None,
        &mut v,
    );
    // Capital is ignored for fee products and PD/LGD only apply to assets: absent means zero.
    let capital = convert::decimal(
        "price_version.economic_capital_ratio",
        wire.economic_capital_ratio.as_ref(),
        Some(Decimal::ZERO),
        &mut v,
    );
    let pd = convert::decimal(
        "price_version.probability_of_default",
        wire.probability_of_default.as_ref(),
        Some(Decimal::ZERO),
        &mut v,
    );
    let lgd = convert::decimal(
        "price_version.loss_given_default",
        wire.loss_given_default.as_ref(),
        Some(Decimal::ZERO),
        &mut v,
    );
    let (
        Some(reason),
        Some(id),
        Some(effective),
        Some(list_price),
        Some(operating_cost),
        Some(capital),
        Some(pd),
        Some(lgd),
        true,
    ) = (
        reason,
        id,
        effective,
        wire.list_price.as_ref(),
        operating_cost,
        capital,
        pd,
        lgd,
        v.is_empty(),
    )
    else {
        return Err(ServiceError::Invalid(v));
    };
    // Kind and currency are immutable, so reading them before the transaction is safe.
    let stored = product::Entity::find_by_id(id.as_str())
        .one(&svc.db)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let product = domain_product(&stored)?;
    let list_price = match list_price {
        v1::price_version::ListPrice::ListRateBps(rate) => {
            Some(ListPrice::RateBps(BasisPoints::new(*rate)))
        }
        v1::price_version::ListPrice::FeeSchedule(schedule) => convert::fee_schedule(
            "price_version.fee_schedule",
            schedule,
            product.currency,
            &mut v,
        )
        .map(ListPrice::Fees),
    };
    let Some(list_price) = list_price else {
        return Err(ServiceError::Invalid(v));
    };
    let terms = PriceTerms {
        list_price,
        ftp_rate: BasisPoints::new(wire.ftp_rate_bps),
        operating_cost_ratio: operating_cost,
        economic_capital_ratio: capital,
        probability_of_default: pd,
        loss_given_default: lgd,
    };
    if let Err(errors) = terms.validate_for(product.kind, product.currency) {
        add_prefixed(&mut v, "price_version", errors);
        return Err(ServiceError::Invalid(v));
    }

    let now = svc.clock.now();
    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let row = product::Entity::find_by_id(id.as_str())
        .one(&txn)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let existing = price_version::Entity::find()
        .filter(price_version::Column::ProductId.eq(id.as_str()))
        .all(&txn)
        .await?;
    let ranges: Vec<_> = existing.iter().map(|p| (p, range_of(p))).collect();
    if let Some(clash) = first_overlap(ranges.iter().map(|(p, r)| (*p, r)), &effective) {
        return Err(ServiceError::FailedPrecondition {
            kind: "PRICE_VERSION_OVERLAP",
            subject: clash.price_version_id.clone(),
            message: format!(
                "the period {effective} overlaps price version {} (version {}, {}) of product {id}",
                clash.price_version_id,
                clash.version,
                range_of(clash)
            ),
        });
    }
    let number = row.price_version_count + 1;
    let claimed = product::Entity::update_many()
        .col_expr(product::Column::PriceVersionCount, Expr::value(number))
        .filter(product::Column::ProductId.eq(id.as_str()))
        .filter(product::Column::PriceVersionCount.eq(row.price_version_count))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ServiceError::StaleVersion {
            kind: "price versions of product",
            id: id.clone(),
            expected: row.price_version_count,
            actual: row.price_version_count + 1,
        });
    }
    let (list_rate_bps, fee_schedule) = match &terms.list_price {
        ListPrice::RateBps(rate) => (Some(rate.value()), None),
        ListPrice::Fees(schedule) => (
            None,
            Some(
                serde_json::to_string(&StoredSchedule::from_domain(schedule))
                    .map_err(ServiceError::internal)?,
            ),
        ),
    };
    let model = price_version::Model {
        price_version_id: uuid::Uuid::now_v7().to_string(),
        product_id: id.clone(),
        version: number,
        effective_from: effective.from,
        effective_to: effective.to,
        list_rate_bps,
        fee_schedule,
        ftp_rate_bps: terms.ftp_rate.value(),
        operating_cost_ratio: terms.operating_cost_ratio.to_string(),
        economic_capital_ratio: terms.economic_capital_ratio.to_string(),
        probability_of_default: terms.probability_of_default.to_string(),
        loss_given_default: terms.loss_given_default.to_string(),
        created_by: caller.subject.clone(),
        create_time: now,
        reason: reason.clone(),
    };
    price_version::ActiveModel::from(model.clone())
        .insert(&txn)
        .await?;
    let wire = price_to_proto(&model)?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "price_version.create",
            target_type: "price_version",
            target_id: model.price_version_id.clone(),
            before: String::new(),
            after: format!(
                "product={id} version={number} effective={effective} list={} ftp={}bp",
                match &terms.list_price {
                    ListPrice::RateBps(rate) => rate.to_string(),
                    ListPrice::Fees(_) => "fee schedule".to_owned(),
                },
                terms.ftp_rate.value()
            ),
            reason,
            event_type: "price_version.created",
            version: number,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreatePriceVersionResponse {
        price_version: Some(wire),
    })
}

/// The keyset key of a price version in newest-first order: its start date and version.
fn key(row: &price_version::Model) -> String {
    format!("{}|{}", row.effective_from, row.version)
}

fn parse_key(raw: &str) -> Option<(NaiveDate, i64)> {
    let (date, version) = raw.split_once('|')?;
    Some((date.parse().ok()?, version.parse().ok()?))
}

/// `ListPriceVersions`: newest effective date first.
pub async fn list(
    svc: &PricingService,
    request: v1::ListPriceVersionsRequest,
) -> Result<v1::ListPriceVersionsResponse> {
    let mut v = Violations::new();
    let id = product_id("product_id", &request.product_id, &mut v);
    let filters = format!("price_versions|{}", request.product_id);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let after = match &page.after {
        None => None,
        Some(raw) => {
            let parsed = parse_key(raw);
            if parsed.is_none() {
                v.add("page_token", "is not a token this service issued");
            }
            parsed
        }
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    if product::Entity::find_by_id(id.as_str())
        .one(&svc.db)
        .await?
        .is_none()
    {
        return Err(not_found(&id));
    }
    let mut query =
        price_version::Entity::find().filter(price_version::Column::ProductId.eq(id.as_str()));
    if let Some((date, version)) = after {
        query = query.filter(
            Condition::any()
                .add(price_version::Column::EffectiveFrom.lt(date))
                .add(
                    Condition::all()
                        .add(price_version::Column::EffectiveFrom.eq(date))
                        .add(price_version::Column::Version.lt(version)),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(price_version::Column::EffectiveFrom)
        .order_by_desc(price_version::Column::Version)
        .limit(page.fetch_limit())
        .all(&svc.db)
        .await?;
    let next_page_token = page.finish(&mut rows, key);
    Ok(v1::ListPriceVersionsResponse {
        price_versions: rows
            .iter()
            .map(price_to_proto)
            .collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}
