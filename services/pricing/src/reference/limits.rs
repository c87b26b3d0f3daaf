//! The regulatory-limit RPCs: `CreateRegulatoryLimit`, `ListRegulatoryLimits` (in force on a
//! date, today by default, or every version; by limit id, then version descending) and
//! `UpdateRegulatoryLimit` (a new version under a field mask and `expected_version`). A limit is
//! a loan-rate floor or deposit-rate cap, against a reference rate or absolute, optionally for a
//! range of terms; the domain's `RegulatoryLimit::validate` decides what a valid one is. The slot
//! of a limit is its kind, product kind and term bounds: two series of one slot never cover the
//! same day (`FAILED_PRECONDITION`, type `REGULATORY_LIMIT_OVERLAP`, naming the other series).
//! Limits of different term bounds may both apply to an item; every applicable limit is checked
//! at quote time. Each write bumps the catalogue version and writes its audit entry and a
//! `regulatory_limit` outbox event in one transaction.

use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::pricing::{
    EffectiveRange, LimitBound, ProductKind, ReferenceRateKind, RegulatoryLimit,
    RegulatoryLimitKind,
};
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, DatabaseTransaction, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::regulatory_limit as row;
use super::{in_force, overlapping_series};
use crate::PricingService;
use crate::access::{REFERENCE_WRITERS, require_role};
use crate::cache::bump_catalogue_version;
use crate::convert::{self, stored_code};
use crate::error::{Result, ServiceError, add_prefixed};
use crate::record::{Change, record};

fn range_of(r: &row::Model) -> EffectiveRange {
    EffectiveRange {
        from: r.effective_from,
        to: r.effective_to,
    }
}

/// The domain limit of a stored version.
pub fn to_domain(r: &row::Model) -> Result<RegulatoryLimit> {
    let internal = ServiceError::Internal;
    let bound = match (&r.reference_kind, r.spread_bps, r.absolute_rate_bps) {
        (Some(kind), Some(spread), None) => LimitBound::ReferenceSpread {
            reference: stored_code("reference rate kind", kind).map_err(internal)?,
            spread: BasisPoints::new(spread),
        },
        (None, None, Some(rate)) => LimitBound::Absolute(BasisPoints::new(rate)),
        _ => {
            return Err(ServiceError::internal(format!(
                "regulatory limit {} version {} has no single bound",
                r.limit_id, r.version
            )));
        }
    };
    let months = |m: Option<i32>| m.and_then(|m| u32::try_from(m).ok());
    Ok(RegulatoryLimit {
        limit_id: r.limit_id.clone(),
        name: r.name.clone(),
        kind: stored_code("regulatory limit kind", &r.kind).map_err(internal)?,
        product_kind: stored_code("product kind", &r.product_kind).map_err(internal)?,
        bound,
        min_term_months: months(r.min_term_months),
        max_term_months: months(r.max_term_months),
        effective: range_of(r),
    })
}

/// The wire form of a stored version.
pub fn to_proto(r: &row::Model) -> Result<v1::RegulatoryLimit> {
    let limit = to_domain(r)?;
    let bound = match limit.bound {
        LimitBound::ReferenceSpread { reference, spread } => {
            v1::regulatory_limit::Bound::ReferenceSpread(v1::ReferenceSpread {
                reference: convert::reference_kind_to_proto(reference) as i32,
                spread_bps: spread.value(),
            })
        }
        LimitBound::Absolute(rate) => v1::regulatory_limit::Bound::AbsoluteRateBps(rate.value()),
    };
    let months = |m: Option<u32>| m.map_or(0, |m| i32::try_from(m).unwrap_or(i32::MAX));
    Ok(v1::RegulatoryLimit {
        limit_id: limit.limit_id,
        name: limit.name,
        kind: convert::limit_kind_to_proto(limit.kind) as i32,
        product_kind: convert::kind_to_proto(limit.product_kind) as i32,
        bound: Some(bound),
        min_term_months: months(limit.min_term_months),
        max_term_months: months(limit.max_term_months),
        effective: Some(convert::effective_to_proto(&limit.effective)),
        version: r.version,
        created: Some(convert::stamp(&r.created_by, r.create_time, &r.reason)),
    })
}

/// The stored row of version `version` of `limit`.
fn to_row(
    limit: &RegulatoryLimit,
    version: i64,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
    reason: &str,
) -> row::Model {
    let (reference_kind, spread_bps, absolute_rate_bps) = match limit.bound {
        LimitBound::ReferenceSpread { reference, spread } => (
            Some(reference.as_str().to_owned()),
            Some(spread.value()),
            None,
        ),
        LimitBound::Absolute(rate) => (None, None, Some(rate.value())),
    };
    let months = |m: Option<u32>| m.map(|m| i32::try_from(m).unwrap_or(i32::MAX));
    row::Model {
        limit_id: limit.limit_id.clone(),
        version,
        name: limit.name.clone(),
        kind: limit.kind.as_str().to_owned(),
        product_kind: limit.product_kind.as_str().to_owned(),
        reference_kind,
        spread_bps,
        absolute_rate_bps,
        min_term_months: months(limit.min_term_months),
        max_term_months: months(limit.max_term_months),
        effective_from: limit.effective.from,
        effective_to: limit.effective.to,
        created_by: caller.subject.clone(),
        create_time: now,
        reason: reason.to_owned(),
    }
}

/// The bound at `limit.bound` of the wire.
fn bound(wire: &v1::RegulatoryLimit, v: &mut Violations) -> Option<LimitBound> {
    match &wire.bound {
        None => {
            v.add(
                "limit.bound",
                "a reference_spread or an absolute_rate_bps is required",
            );
            None
        }
        Some(v1::regulatory_limit::Bound::ReferenceSpread(spread)) => {
            let reference: Option<ReferenceRateKind> = convert::required_enum(
                "limit.reference_spread.reference",
                spread.reference,
                convert::reference_kind_from_proto,
                "reference rate kind",
                v,
            );
            reference.map(|reference| LimitBound::ReferenceSpread {
                reference,
                spread: BasisPoints::new(spread.spread_bps),
            })
        }
        Some(v1::regulatory_limit::Bound::AbsoluteRateBps(rate)) => {
            Some(LimitBound::Absolute(BasisPoints::new(*rate)))
        }
    }
}

/// A term bound at `field`: 0 means none; negative is refused.
fn months(field: &str, raw: i32, v: &mut Violations) -> Option<u32> {
    match u32::try_from(raw) {
        Ok(0) => None,
        Ok(m) => Some(m),
        Err(_) => {
            v.add(field, "must not be negative (0 means no bound)");
            None
        }
    }
}

/// Refuses `limit` when another series of its slot covers a day of its range.
async fn check_overlap(
    txn: &DatabaseTransaction,
    limit: &RegulatoryLimit,
    own: Option<&str>,
) -> Result<()> {
    let rows: Vec<row::Model> = row::Entity::find()
        .filter(row::Column::Kind.eq(limit.kind.as_str()))
        .filter(row::Column::ProductKind.eq(limit.product_kind.as_str()))
        .order_by_asc(row::Column::LimitId)
        .order_by_desc(row::Column::Version)
        .all(txn)
        .await?;
    let same_slot: Vec<row::Model> = rows
        .into_iter()
        .filter(|r| {
            r.min_term_months.and_then(|m| u32::try_from(m).ok()) == limit.min_term_months
                && r.max_term_months.and_then(|m| u32::try_from(m).ok()) == limit.max_term_months
        })
        .collect();
    if let Some(other) = overlapping_series(
        &same_slot,
        own,
        |r| r.limit_id.as_str(),
        range_of,
        &limit.effective,
    ) {
        return Err(ServiceError::FailedPrecondition {
            kind: "REGULATORY_LIMIT_OVERLAP",
            subject: other.to_owned(),
            message: format!(
                "the period {} overlaps regulatory limit {other}, a {} for {} products with the same terms",
                limit.effective, limit.kind, limit.product_kind
            ),
        });
    }
    Ok(())
}

/// Writes version `version` of `limit` with its trail; a concurrent writer of the same version
/// answers `ABORTED`.
#[allow(clippy::too_many_arguments)]
async fn store(
    txn: &DatabaseTransaction,
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    limit: &RegulatoryLimit,
    version: i64,
    before: String,
    reason: &str,
) -> Result<v1::RegulatoryLimit> {
    let now = svc.clock.now();
    let model = to_row(limit, version, caller, now, reason);
    let inserted = row::ActiveModel::from(model.clone())
        .insert(txn)
        .await
        .map_err(ServiceError::from);
    match inserted {
        Err(e) if e.is_unique_violation() => {
            return Err(ServiceError::StaleVersion {
                kind: "regulatory limit",
                id: limit.limit_id.clone(),
                expected: version - 1,
                actual: version,
            });
        }
        other => other?,
    };
    let wire = to_proto(&model)?;
    let (action, event_type) = if version == 1 {
        ("regulatory_limit.create", "regulatory_limit.created")
    } else {
        ("regulatory_limit.update", "regulatory_limit.updated")
    };
    record(
        txn,
        now,
        Change {
            caller,
            request_id,
            action,
            target_type: "regulatory_limit",
            target_id: limit.limit_id.clone(),
            before,
            after: summary(limit, version),
            reason: reason.to_owned(),
            event_type,
            version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    Ok(wire)
}

fn summary(limit: &RegulatoryLimit, version: i64) -> String {
    format!(
        "version={version} name={:?} kind={} product_kind={} bound={} terms={:?}..={:?} effective={}",
        limit.name,
        limit.kind,
        limit.product_kind,
        limit.bound,
        limit.min_term_months,
        limit.max_term_months,
        limit.effective
    )
}

/// `CreateRegulatoryLimit`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateRegulatoryLimitRequest,
) -> Result<v1::CreateRegulatoryLimitResponse> {
    require_role(caller, &REFERENCE_WRITERS, "CreateRegulatoryLimit")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.limit else {
        v.add("limit", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let kind: Option<RegulatoryLimitKind> = convert::required_enum(
        "limit.kind",
        wire.kind,
        convert::limit_kind_from_proto,
        "regulatory limit kind",
        &mut v,
    );
    let product_kind: Option<ProductKind> = convert::required_enum(
        "limit.product_kind",
        wire.product_kind,
        convert::kind_from_proto,
        "product kind",
        &mut v,
    );
    let bound = bound(&wire, &mut v);
    let min_term = months("limit.min_term_months", wire.min_term_months, &mut v);
    let max_term = months("limit.max_term_months", wire.max_term_months, &mut v);
    let effective = convert::effective_range("limit.effective", wire.effective.as_ref(), &mut v);
    let (Some(reason), Some(kind), Some(product_kind), Some(bound), Some(effective), true) =
        (reason, kind, product_kind, bound, effective, v.is_empty())
    else {
        return Err(ServiceError::Invalid(v));
    };
    let limit = RegulatoryLimit {
        limit_id: uuid::Uuid::now_v7().to_string(),
        name: wire.name.trim().to_owned(),
        kind,
        product_kind,
        bound,
        min_term_months: min_term,
        max_term_months: max_term,
        effective,
    };
    if let Err(errors) = limit.validate() {
        add_prefixed(&mut v, "limit", errors);
        return Err(ServiceError::Invalid(v));
    }

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    check_overlap(&txn, &limit, None).await?;
    let wire = store(
        &txn,
        svc,
        caller,
        request_id,
        &limit,
        1,
        String::new(),
        &reason,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateRegulatoryLimitResponse { limit: Some(wire) })
}

/// The fields `UpdateRegulatoryLimit` may change.
const UPDATABLE: [&str; 5] = [
    "name",
    "bound",
    "min_term_months",
    "max_term_months",
    "effective",
];

/// `UpdateRegulatoryLimit`: stores the next version of the series.
pub async fn update(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateRegulatoryLimitRequest,
) -> Result<v1::UpdateRegulatoryLimitResponse> {
    require_role(caller, &REFERENCE_WRITERS, "UpdateRegulatoryLimit")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.limit else {
        v.add("limit", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let paths = convert::update_mask(request.update_mask.as_ref(), &UPDATABLE, &mut v);
    let masked = |f: &str| paths.iter().any(|p| p == f);
    let id = convert::series_id("limit.limit_id", &wire.limit_id, &mut v);
    let bound = if masked("bound") {
        bound(&wire, &mut v)
    } else {
        None
    };
    let min_term = if masked("min_term_months") {
        months("limit.min_term_months", wire.min_term_months, &mut v)
    } else {
        None
    };
    let max_term = if masked("max_term_months") {
        months("limit.max_term_months", wire.max_term_months, &mut v)
    } else {
        None
    };
    let effective = if masked("effective") {
        convert::effective_range("limit.effective", wire.effective.as_ref(), &mut v)
    } else {
        None
    };
    let (Some(reason), Some(id), true) = (reason, id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let latest = row::Entity::find()
        .filter(row::Column::LimitId.eq(id.as_str()))
        .order_by_desc(row::Column::Version)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            kind: "regulatory limit",
            id: id.clone(),
        })?;
    if latest.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "regulatory limit",
            id,
            expected: request.expected_version,
            actual: latest.version,
        });
    }
    let before_limit = to_domain(&latest)?;
    let mut next = before_limit.clone();
    if masked("name") {
        next.name = wire.name.trim().to_owned();
    }
    if let Some(bound) = bound {
        next.bound = bound;
    }
    if masked("min_term_months") {
        next.min_term_months = min_term;
    }
    if masked("max_term_months") {
        next.max_term_months = max_term;
    }
    if let Some(effective) = effective {
        next.effective = effective;
    }
    if let Err(errors) = next.validate() {
        add_prefixed(&mut v, "limit", errors);
        return Err(ServiceError::Invalid(v));
    }
    check_overlap(&txn, &next, Some(&id)).await?;
    let version = latest.version + 1;
    let wire = store(
        &txn,
        svc,
        caller,
        request_id,
        &next,
        version,
        summary(&before_limit, latest.version),
        &reason,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateRegulatoryLimitResponse { limit: Some(wire) })
}

fn all_versions_key(r: &row::Model) -> String {
    format!("{}|{}", r.limit_id, r.version)
}

/// `ListRegulatoryLimits`: the limits in force on a date (today by default) or every version,
/// by limit id, then version descending.
pub async fn list(
    svc: &PricingService,
    request: v1::ListRegulatoryLimitsRequest,
) -> Result<v1::ListRegulatoryLimitsResponse> {
    let mut v = Violations::new();
    let as_of = if request.all_versions {
        None
    } else {
        Some(
            convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v)
                .unwrap_or_else(|| svc.clock.today()),
        )
    };
    let filters = format!("regulatory_limits|{as_of:?}|{}", request.all_versions);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let mut rows = match as_of {
        None => {
            let mut query = row::Entity::find();
            if let Some(after) = &page.after {
                let Some((id, version)) = after
                    .split_once('|')
                    .and_then(|(id, ver)| Some((id.to_owned(), ver.parse::<i64>().ok()?)))
                else {
                    return Err(ServiceError::invalid(
                        "page_token",
                        "is not a token this service issued",
                    ));
                };
                query = query.filter(
                    Condition::any()
                        .add(row::Column::LimitId.gt(id.as_str()))
                        .add(
                            Condition::all()
                                .add(row::Column::LimitId.eq(id.as_str()))
                                .add(row::Column::Version.lt(version)),
                        ),
                );
            }
            query
                .order_by_asc(row::Column::LimitId)
                .order_by_desc(row::Column::Version)
                .limit(page.fetch_limit())
                .all(&svc.db)
                .await?
        }
        Some(date) => {
            // Limits are reference data (tens of series): every version starting by the date
            // is read and the one in force per series kept.
            let mut query = row::Entity::find().filter(row::Column::EffectiveFrom.lte(date));
            if let Some(after) = &page.after {
                query = query.filter(row::Column::LimitId.gt(after.as_str()));
            }
            let candidates = query
                .order_by_asc(row::Column::LimitId)
                .order_by_desc(row::Column::Version)
                .all(&svc.db)
                .await?;
            in_force(&candidates, |r| r.limit_id.as_str(), range_of, date)
                .into_iter()
                .take(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX))
                .cloned()
                .collect()
        }
    };
    let next_page_token = if as_of.is_some() {
        page.finish(&mut rows, |r| r.limit_id.clone())
    } else {
        page.finish(&mut rows, all_versions_key)
    };
    Ok(v1::ListRegulatoryLimitsResponse {
        limits: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}
