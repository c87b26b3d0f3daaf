//! The product catalogue: products ([`products`]: create, get, list, update) and their
//! effective-dated price versions ([`prices`]: create, list). This module owns the `product` and
//! `price_version` tables ([`entity`]), the stored form of a product with its price versions that
//! the cache holds ([`StoredProduct`], read through [`crate::cache::CatalogueCache`] at the current
//! catalogue version), and the conversions of both to the wire. The price in force on a date is
//! the version whose effective range contains it (the domain's `EffectiveRange::contains`; ranges
//! of one product never overlap, which [`prices`] enforces).

pub mod entity;
pub mod prices;
pub mod products;

use bankmkt_domain::money::{BasisPoints, Currency};
use bankmkt_domain::org::BusinessLine;
use bankmkt_domain::pricing::{
    EffectiveRange, ListPrice, PriceTerms, Product, ProductCategory, ProductKind,
};
use bankmkt_proto::v1;
use chrono::NaiveDate;
use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::PricingService;
use crate::cache::{CatalogueVersion, catalogue_version};
use crate::convert::{self, stored_code, stored_decimal};
use crate::error::{Result, ServiceError};
use entity::{StoredSchedule, price_version, product};

/// Cache namespace of [`StoredProduct`] values.
const PRODUCT_NAMESPACE: &str = "pricing_product";

/// A product with every price version, as stored and cached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProduct {
    /// The product row.
    pub product: product::Model,
    /// Its price versions, oldest version first.
    pub prices: Vec<price_version::Model>,
}

impl StoredProduct {
    /// The domain product.
    pub fn domain(&self) -> Result<Product> {
        domain_product(&self.product)
    }

    /// The price version in force on `date`, if any.
    pub fn price_on(&self, date: NaiveDate) -> Option<&price_version::Model> {
        self.prices.iter().find(|p| range_of(p).contains(date))
    }

    /// The wire product with the price version in force on `today`.
    pub fn to_proto(&self, today: NaiveDate) -> Result<v1::Product> {
        let current = self.price_on(today).map(price_to_proto).transpose()?;
        product_to_proto(&self.product, current)
    }
}

/// The product row `product_id` with its price versions, from `db`.
pub async fn load_product<C: ConnectionTrait>(
    db: &C,
    product_id: &str,
) -> Result<Option<StoredProduct>> {
    let Some(product) = product::Entity::find_by_id(product_id).one(db).await? else {
        return Ok(None);
    };
    let prices = price_version::Entity::find()
        .filter(price_version::Column::ProductId.eq(product_id))
        .order_by_asc(price_version::Column::Version)
        .all(db)
        .await?;
    Ok(Some(StoredProduct { product, prices }))
}

/// The product `product_id` with its price versions, through the cache at the current catalogue
/// version (one primary-key read of the version's stamp, then L1, shared cache, database).
pub async fn cached_product(
    svc: &PricingService,
    product_id: &str,
) -> Result<Option<StoredProduct>> {
    let version = catalogue_version(&svc.db).await?;
    cached_product_at(svc, &version, product_id).await
}

/// The product `product_id` with its price versions at catalogue `version` (read by the caller
/// from the database), through the cache: a caller reading several products checks the version
/// once.
pub async fn cached_product_at(
    svc: &PricingService,
    version: &CatalogueVersion,
    product_id: &str,
) -> Result<Option<StoredProduct>> {
    let db = svc.db.clone();
    let id = product_id.to_owned();
    svc.catalogue
        .get_or_load(
            PRODUCT_NAMESPACE,
            &version.stamp,
            product_id,
            || async move { load_product(&db, &id).await },
        )
        .await
}

/// The effective range of a stored price version.
pub fn range_of(row: &price_version::Model) -> EffectiveRange {
    EffectiveRange {
        from: row.effective_from,
        to: row.effective_to,
    }
}

/// The domain product of a stored row.
pub fn domain_product(row: &product::Model) -> Result<Product> {
    let line: BusinessLine =
        stored_code("business line", &row.line).map_err(ServiceError::Internal)?;
    let kind: ProductKind =
        stored_code("product kind", &row.kind).map_err(ServiceError::Internal)?;
    let category: ProductCategory =
        stored_code("product category", &row.category).map_err(ServiceError::Internal)?;
    let currency = Currency::parse(&row.currency).map_err(ServiceError::internal)?;
    Ok(Product {
        product_id: row.product_id.clone(),
        name: row.name.clone(),
        line,
        kind,
        category,
        currency,
        active: row.active,
    })
}

/// The domain terms of a stored price version.
pub fn domain_terms(row: &price_version::Model) -> Result<PriceTerms> {
    let list_price = match (&row.list_rate_bps, &row.fee_schedule) {
        (Some(rate), None) => ListPrice::RateBps(BasisPoints::new(*rate)),
        (None, Some(json)) => {
            let stored: StoredSchedule =
                serde_json::from_str(json).map_err(ServiceError::internal)?;
            ListPrice::Fees(stored.to_domain().map_err(ServiceError::Internal)?)
        }
        _ => {
            return Err(ServiceError::internal(format!(
                "price version {} has neither or both of a rate and a schedule",
                row.price_version_id
            )));
        }
    };
    let dec = |what: &str, raw: &str| stored_decimal(what, raw).map_err(ServiceError::Internal);
    Ok(PriceTerms {
        list_price,
        ftp_rate: BasisPoints::new(row.ftp_rate_bps),
        operating_cost_ratio: dec("operating_cost_ratio", &row.operating_cost_ratio)?,
        economic_capital_ratio: dec("economic_capital_ratio", &row.economic_capital_ratio)?,
        probability_of_default: dec("probability_of_default", &row.probability_of_default)?,
        loss_given_default: dec("loss_given_default", &row.loss_given_default)?,
    })
}

/// The wire form of a stored price version.
pub fn price_to_proto(row: &price_version::Model) -> Result<v1::PriceVersion> {
    let terms = domain_terms(row)?;
    let list_price = match &terms.list_price {
        ListPrice::RateBps(rate) => v1::price_version::ListPrice::ListRateBps(rate.value()),
        ListPrice::Fees(schedule) => {
            v1::price_version::ListPrice::FeeSchedule(convert::fee_schedule_to_proto(schedule))
        }
    };
    Ok(v1::PriceVersion {
        price_version_id: row.price_version_id.clone(),
        product_id: row.product_id.clone(),
        effective: Some(convert::effective_to_proto(&range_of(row))),
        list_price: Some(list_price),
        ftp_rate_bps: terms.ftp_rate.value(),
        operating_cost_ratio: Some(convert::decimal_to_proto(terms.operating_cost_ratio)),
        economic_capital_ratio: Some(convert::decimal_to_proto(terms.economic_capital_ratio)),
        probability_of_default: Some(convert::decimal_to_proto(terms.probability_of_default)),
        loss_given_default: Some(convert::decimal_to_proto(terms.loss_given_default)),
        version: row.version,
        created: Some(convert::stamp(
            &row.created_by,
            row.create_time,
            &row.reason,
        )),
    })
}

/// The wire form of a stored product with its current price (if any).
pub fn product_to_proto(
    row: &product::Model,
    current_price: Option<v1::PriceVersion>,
) -> Result<v1::Product> {
    let p = domain_product(row)?;
    Ok(v1::Product {
        product_id: p.product_id,
        name: p.name,
        line: convert::line_to_proto(p.line) as i32,
        kind: convert::kind_to_proto(p.kind) as i32,
        category: convert::category_to_proto(p.category) as i32,
        currency: p.currency.as_str().to_owned(),
        active: p.active,
        current_price,
        version: row.version,
        update_time: Some(convert::timestamp(row.update_time)),
    })
}

/// A one-line summary of a product for the audit log.
fn product_summary(row: &product::Model) -> String {
    format!(
        "version={} name={:?} line={} kind={} category={} currency={} active={}",
        row.version, row.name, row.line, row.kind, row.category, row.currency, row.active
    )
}
