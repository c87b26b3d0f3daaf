//! The product RPCs: `CreateProduct`, `GetProduct` (through the versioned cache), `ListProducts`
//! (keyset pages by product id, with each product's price in force today) and `UpdateProduct`
//! (name, line, category and active flag under a field mask and `expected_version`; kind and
//! currency are immutable). The domain's `Product::validate` decides what a valid product is.
//! Every write bumps the catalogue version and writes its audit entry and a `product` outbox event
//! in one transaction.

use std::collections::HashMap;

use bankmkt_domain::pricing::Product;
use bankmkt_domain::pricing::catalogue::check_product_id;
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::{price_version, product};
use super::{StoredProduct, cached_product, domain_product, load_product, product_summary};
use crate::PricingService;
use crate::access::{CATALOGUE_WRITERS, require_role};
use crate::cache::bump_catalogue_version;
use crate::convert::{self, filter_enum, required_enum};
use crate::error::{Result, ServiceError, add_prefixed};
use crate::record::{Change, record};

/// A product id from the wire at `field`, checked by the domain's rule.
pub(crate) fn product_id(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    match check_product_id(raw) {
        Ok(()) => Some(raw.to_owned()),
        Err(why) => {
            v.add(field, why);
            None
        }
    }
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        kind: "product",
        id: id.to_owned(),
    }
}

/// `CreateProduct`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateProductRequest,
) -> Result<v1::CreateProductResponse> {
    require_role(caller, &CATALOGUE_WRITERS, "CreateProduct")?;
    let wire = request
        .product
        .ok_or_else(|| ServiceError::invalid("product", "is required"))?;
    let mut v = Violations::new();
    let line = required_enum(
        "product.line",
        wire.line,
        convert::line_from_proto,
        "business line",
        &mut v,
    );
    let kind = required_enum(
        "product.kind",
        wire.kind,
        convert::kind_from_proto,
        "product kind",
        &mut v,
    );
    let category = required_enum(
        "product.category",
        wire.category,
        convert::category_from_proto,
        "product category",
        &mut v,
    );
    let currency = convert::currency("product.currency", &wire.currency, &mut v);
    let (Some(line), Some(kind), Some(category), Some(currency)) = (line, kind, category, currency)
    else {
        product_id("product.product_id", &wire.product_id, &mut v);
        return Err(ServiceError::Invalid(v));
    };
    let product = Product {
        product_id: wire.product_id.clone(),
        name: wire.name.trim().to_owned(),
        line,
        kind,
        category,
        currency,
        active: wire.active,
    };
    if let Err(errors) = product.validate() {
        add_prefixed(&mut v, "product", errors);
    }
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }

    let now = svc.clock.now();
    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    if product::Entity::find_by_id(product.product_id.as_str())
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(exists(&product.product_id));
    }
    let row = product::Model {
        product_id: product.product_id.clone(),
        name: product.name.clone(),
        line: product.line.as_str().to_owned(),
        kind: product.kind.as_str().to_owned(),
        category: product.category.as_str().to_owned(),
        currency: product.currency.as_str().to_owned(),
        active: product.active,
        price_version_count: 0,
        version: 1,
        create_time: now,
        update_time: now,
    };
    let inserted = product::ActiveModel {
        product_id: Set(row.product_id.clone()),
        name: Set(row.name.clone()),
        line: Set(row.line.clone()),
        kind: Set(row.kind.clone()),
        category: Set(row.category.clone()),
        currency: Set(row.currency.clone()),
        active: Set(row.active),
        price_version_count: Set(0),
        version: Set(1),
        create_time: Set(now),
        update_time: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(ServiceError::from);
    match inserted {
        Err(e) if e.is_unique_violation() => return Err(exists(&row.product_id)),
        other => other?,
    };
    let wire = super::product_to_proto(&row, None)?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "product.create",
            target_type: "product",
            target_id: row.product_id.clone(),
            before: String::new(),
            after: product_summary(&row),
            reason: "created a catalogue product".to_owned(),
            event_type: "product.created",
            version: row.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateProductResponse {
        product: Some(wire),
    })
}

fn exists(product_id: &str) -> ServiceError {
    ServiceError::AlreadyExists {
        reason: "PRODUCT_EXISTS",
        message: format!("product {product_id} already exists"),
        metadata: HashMap::from([("product_id".to_owned(), product_id.to_owned())]),
    }
}

/// `GetProduct`: served from the cache at the current catalogue version.
pub async fn get(
    svc: &PricingService,
    request: v1::GetProductRequest,
) -> Result<v1::GetProductResponse> {
    let mut v = Violations::new();
    let Some(id) = product_id("product_id", &request.product_id, &mut v) else {
        return Err(ServiceError::Invalid(v));
    };
    let stored = cached_product(svc, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(v1::GetProductResponse {
        product: Some(stored.to_proto(svc.clock.today())?),
    })
}

/// `ListProducts`: ordered by product id, with each product's price in force today.
pub async fn list(
    svc: &PricingService,
    request: v1::ListProductsRequest,
) -> Result<v1::ListProductsResponse> {
    let mut v = Violations::new();
    let line = filter_enum(
        "line",
        request.line,
        convert::line_from_proto,
        "business line",
        &mut v,
    );
    let kind = filter_enum(
        "kind",
        request.kind,
        convert::kind_from_proto,
        "product kind",
        &mut v,
    );
    let category = filter_enum(
        "category",
        request.category,
        convert::category_from_proto,
        "product category",
        &mut v,
    );
    let filters = format!(
        "products|{line:?}|{kind:?}|{category:?}|{}",
        request.include_inactive
    );
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let mut query = product::Entity::find();
    if let Some(line) = line {
        query = query.filter(product::Column::Line.eq(line.as_str()));
    }
    if let Some(kind) = kind {
        query = query.filter(product::Column::Kind.eq(kind.as_str()));
    }
    if let Some(category) = category {
        query = query.filter(product::Column::Category.eq(category.as_str()));
    }
    if !request.include_inactive {
        query = query.filter(product::Column::Active.eq(true));
    }
    if let Some(after) = &page.after {
        query = query.filter(product::Column::ProductId.gt(after.as_str()));
    }
    let mut rows = query
        .order_by_asc(product::Column::ProductId)
        .limit(page.fetch_limit())
        .all(&svc.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.product_id.clone());
    let mut prices: HashMap<String, Vec<price_version::Model>> = HashMap::new();
    if !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|r| r.product_id.clone()).collect();
        for p in price_version::Entity::find()
            .filter(price_version::Column::ProductId.is_in(ids))
            .order_by_asc(price_version::Column::Version)
            .all(&svc.db)
            .await?
        {
            prices.entry(p.product_id.clone()).or_default().push(p);
        }
    }
    let today = svc.clock.today();
    let products = rows
        .into_iter()
        .map(|product| {
            let prices = prices.remove(&product.product_id).unwrap_or_default();
            StoredProduct { product, prices }.to_proto(today)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(v1::ListProductsResponse {
        products,
        next_page_token,
    })
}

/// The fields `UpdateProduct` may change.
const UPDATABLE: [&str; 4] = ["name", "line", "category", "active"];

/// `UpdateProduct`: name, line, category, active; kind and currency are immutable.
pub async fn update(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateProductRequest,
) -> Result<v1::UpdateProductResponse> {
    require_role(caller, &CATALOGUE_WRITERS, "UpdateProduct")?;
    let wire = request
        .product
        .ok_or_else(|| ServiceError::invalid("product", "is required"))?;
    let mut v = Violations::new();
    let paths = convert::update_mask(request.update_mask.as_ref(), &UPDATABLE, &mut v);
    let masked = |f: &str| paths.iter().any(|p| p == f);
    let id = product_id("product.product_id", &wire.product_id, &mut v);
    let line = if masked("line") {
        required_enum(
            "product.line",
            wire.line,
            convert::line_from_proto,
            "business line",
            &mut v,
        )
    } else {
        None
    };
    let category = if masked("category") {
        required_enum(
            "product.category",
            wire.category,
            convert::category_from_proto,
            "product category",
            &mut v,
        )
    } else {
        None
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };

    let now = svc.clock.now();
    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let stored = load_product(&txn, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let row = stored.product.clone();
    if row.version != request.expected_version {
        return Err(stale(&id, request.expected_version, row.version));
    }
    let mut next = domain_product(&row)?;
    if masked("name") {
        next.name = wire.name.trim().to_owned();
    }
    if let Some(line) = line {
        next.line = line;
    }
    if let Some(category) = category {
        next.category = category;
    }
    if masked("active") {
        next.active = wire.active;
    }
    if let Err(errors) = next.validate() {
        add_prefixed(&mut v, "product", errors);
        return Err(ServiceError::Invalid(v));
    }
    let updated = product::Model {
        name: next.name.clone(),
        line: next.line.as_str().to_owned(),
        category: next.category.as_str().to_owned(),
        active: next.active,
        version: row.version + 1,
        update_time: now,
        ..row.clone()
    };
    let result = product::Entity::update_many()
        .col_expr(product::Column::Name, Expr::value(updated.name.clone()))
        .col_expr(product::Column::Line, Expr::value(updated.line.clone()))
        .col_expr(
            product::Column::Category,
            Expr::value(updated.category.clone()),
        )
        .col_expr(product::Column::Active, Expr::value(updated.active))
        .col_expr(product::Column::Version, Expr::value(updated.version))
        .col_expr(
            product::Column::UpdateTime,
            Expr::value(updated.update_time),
        )
        .filter(product::Column::ProductId.eq(id.as_str()))
        .filter(product::Column::Version.eq(row.version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(stale(&id, request.expected_version, row.version + 1));
    }
    let after = StoredProduct {
        product: updated.clone(),
        prices: stored.prices,
    };
    let wire = after.to_proto(svc.clock.today())?;
    record(
        &txn,
        now,
        Change {
            caller,
            request_id,
            action: "product.update",
            target_type: "product",
            target_id: id.clone(),
            before: product_summary(&row),
            after: product_summary(&updated),
            reason: format!("fields: {}", paths.join(",")),
            event_type: "product.updated",
            version: updated.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateProductResponse {
        product: Some(wire),
    })
}

fn stale(id: &str, expected: i64, actual: i64) -> ServiceError {
    ServiceError::StaleVersion {
        kind: "product",
        id: id.to_owned(),
        expected,
        actual,
    }
}
