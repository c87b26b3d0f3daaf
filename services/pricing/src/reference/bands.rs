//! The authority-band RPCs: `CreateAuthorityBand`, `ListAuthorityBands` (in force on a date,
//! today by default, or every version; by product kind, then level) and `UpdateAuthorityBand` (a
//! new version of the rate and fee limits or the range, under a field mask and
//! `expected_version`; level and kind are immutable). A band is checked alone by the domain's
//! `AuthorityBand::validate`; a band overlapping another series of its level and kind answers
//! `FAILED_PRECONDITION` (type `AUTHORITY_BAND_OVERLAP`, naming it); and on every day of its
//! range where the bands in force change, the set it would join is checked by the domain's
//! `validate_bands`, so a band narrower than a lower level's (or wider than a higher one's) is
//! `INVALID_ARGUMENT`. Each write bumps the catalogue version and writes its audit entry and an
//! `authority_band` outbox event in one transaction.

use std::collections::BTreeSet;

use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::pricing::{
    AuthorityBand, AuthorityLevel, EffectiveRange, ProductKind, validate_bands,
};
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, DatabaseTransaction, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::authority_band as row;
use super::{in_force, overlapping_series};
use crate::PricingService;
use crate::access::{RULE_WRITERS, require_role};
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

/// The listing order of a band: its product kind, then its level, in the domain's order.
fn sort_key(kind: ProductKind, level: AuthorityLevel) -> String {
    let kind = ProductKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(0);
    let level = AuthorityLevel::ALL
        .iter()
        .position(|l| *l == level)
        .unwrap_or(0);
    format!("{kind:02}{level:02}")
}

/// The domain band of a stored version.
pub fn to_domain(r: &row::Model) -> Result<AuthorityBand> {
    Ok(AuthorityBand {
        band_id: r.band_id.clone(),
        level: stored_code("authority level", &r.level).map_err(ServiceError::Internal)?,
        product_kind: stored_code("product kind", &r.product_kind)
            .map_err(ServiceError::Internal)?,
        max_rate_concession: BasisPoints::new(r.max_rate_concession_bps),
        max_fee_concession: BasisPoints::new(r.max_fee_concession_bps),
        effective: range_of(r),
    })
}

/// The wire form of a stored version.
pub fn to_proto(r: &row::Model) -> Result<v1::AuthorityBand> {
    let band = to_domain(r)?;
    Ok(v1::AuthorityBand {
        band_id: band.band_id,
        level: convert::level_to_proto(band.level) as i32,
        product_kind: convert::kind_to_proto(band.product_kind) as i32,
        max_rate_concession_bps: band.max_rate_concession.value(),
        max_fee_concession_bps: band.max_fee_concession.value(),
        effective: Some(convert::effective_to_proto(&band.effective)),
        version: r.version,
        created: Some(convert::stamp(&r.created_by, r.create_time, &r.reason)),
    })
}

fn summary(band: &AuthorityBand, version: i64) -> String {
    format!(
        "version={version} level={} kind={} max_rate={} max_fee={} effective={}",
        band.level,
        band.product_kind,
        band.max_rate_concession,
        band.max_fee_concession,
        band.effective
    )
}

/// Checks `band` against the other series of its product kind: no overlap with a series of its
/// level (`FAILED_PRECONDITION`), and on each day its range starts or the others change, the set
/// in force with it must satisfy the domain's `validate_bands` (`INVALID_ARGUMENT`).
async fn check_against_others(
    txn: &DatabaseTransaction,
    band: &AuthorityBand,
    own: Option<&str>,
) -> Result<()> {
    let rows: Vec<row::Model> = row::Entity::find()
        .filter(row::Column::ProductKind.eq(band.product_kind.as_str()))
        .order_by_asc(row::Column::BandId)
        .order_by_desc(row::Column::Version)
        .all(txn)
        .await?;
    let same_level: Vec<row::Model> = rows
        .iter()
        .filter(|r| r.level == band.level.as_str())
        .cloned()
        .collect();
    if let Some(other) = overlapping_series(
        &same_level,
        own,
        |r| r.band_id.as_str(),
        range_of,
        &band.effective,
    ) {
        return Err(ServiceError::FailedPrecondition {
            kind: "AUTHORITY_BAND_OVERLAP",
            subject: other.to_owned(),
            message: format!(
                "the period {} overlaps authority band {other} of the {} level for {} products",
                band.effective, band.level, band.product_kind
            ),
        });
    }
    let others: Vec<row::Model> = rows
        .into_iter()
        .filter(|r| Some(r.band_id.as_str()) != own)
        .collect();
    // The days on which the set the band joins can change: its start, and every start and end of
    // another band inside its range.
    let mut days: BTreeSet<NaiveDate> = BTreeSet::from([band.effective.from]);
    for r in &others {
        for day in [Some(r.effective_from), r.effective_to]
            .into_iter()
            .flatten()
        {
            if band.effective.contains(day) {
                days.insert(day);
            }
        }
    }
    for day in days {
        let mut set = in_force(&others, |r| r.band_id.as_str(), range_of, day)
            .into_iter()
            .map(to_domain)
            .collect::<Result<Vec<_>>>()?;
        set.push(band.clone());
        if let Err(errors) = validate_bands(&set) {
            let mut v = Violations::new();
            for e in errors {
                let field = match e.field.split_once("].") {
                    Some((_, rest)) => format!("band.{rest}"),
                    None => "band".to_owned(),
                };
                v.add(field, format!("on {day}: {}", e.message));
            }
            return Err(ServiceError::Invalid(v));
        }
    }
    Ok(())
}

/// Writes version `version` of `band` with its trail; a concurrent writer of the same version
/// answers `ABORTED`.
#[allow(clippy::too_many_arguments)]
async fn store(
    txn: &DatabaseTransaction,
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    band: &AuthorityBand,
    version: i64,
    before: String,
    reason: &str,
) -> Result<v1::AuthorityBand> {
    let now = svc.clock.now();
    let model = row::Model {
        band_id: band.band_id.clone(),
        version,
        level: band.level.as_str().to_owned(),
        product_kind: band.product_kind.as_str().to_owned(),
        sort_key: sort_key(band.product_kind, band.level),
        max_rate_concession_bps: band.max_rate_concession.value(),
        max_fee_concession_bps: band.max_fee_concession.value(),
        effective_from: band.effective.from,
        effective_to: band.effective.to,
        created_by: caller.subject.clone(),
        create_time: now,
        reason: reason.to_owned(),
    };
    let inserted = row::ActiveModel::from(model.clone())
        .insert(txn)
        .await
        .map_err(ServiceError::from);
    match inserted {
        Err(e) if e.is_unique_violation() => {
            return Err(ServiceError::StaleVersion {
                kind: "authority band",
                id: band.band_id.clone(),
                expected: version - 1,
                actual: version,
            });
        }
        other => other?,
    };
    let wire = to_proto(&model)?;
    let (action, event_type) = if version == 1 {
        ("authority_band.create", "authority_band.created")
    } else {
        ("authority_band.update", "authority_band.updated")
    };
    record(
        txn,
        now,
        Change {
            caller,
            request_id,
            action,
            target_type: "authority_band",
            target_id: band.band_id.clone(),
            before,
            after: summary(band, version),
            reason: reason.to_owned(),
            event_type,
            version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    Ok(wire)
}

/// `CreateAuthorityBand`.
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateAuthorityBandRequest,
) -> Result<v1::CreateAuthorityBandResponse> {
    require_role(caller, &RULE_WRITERS, "CreateAuthorityBand")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.band else {
        v.add("band", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let level = convert::required_enum(
        "band.level",
        wire.level,
        convert::level_from_proto,
        "authority level",
        &mut v,
    );
    let kind = convert::required_enum(
        "band.product_kind",
        wire.product_kind,
        convert::kind_from_proto,
        "product kind",
        &mut v,
    );
    let effective = convert::effective_range("band.effective", wire.effective.as_ref(), &mut v);
    let (Some(reason), Some(level), Some(product_kind), Some(effective), true) =
        (reason, level, kind, effective, v.is_empty())
    else {
        return Err(ServiceError::Invalid(v));
    };
    let band = AuthorityBand {
        band_id: uuid::Uuid::now_v7().to_string(),
        level,
        product_kind,
        max_rate_concession: BasisPoints::new(wire.max_rate_concession_bps),
        max_fee_concession: BasisPoints::new(wire.max_fee_concession_bps),
        effective,
    };
    if let Err(errors) = band.validate() {
        add_prefixed(&mut v, "band", errors);
        return Err(ServiceError::Invalid(v));
    }

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    check_against_others(&txn, &band, None).await?;
    let wire = store(
        &txn,
        svc,
        caller,
        request_id,
        &band,
        1,
        String::new(),
        &reason,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateAuthorityBandResponse { band: Some(wire) })
}

/// The fields `UpdateAuthorityBand` may change.
const UPDATABLE: [&str; 3] = [
    "max_rate_concession_bps",
    "max_fee_concession_bps",
    "effective",
];

/// `UpdateAuthorityBand`: stores the next version of the series.
pub async fn update(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateAuthorityBandRequest,
) -> Result<v1::UpdateAuthorityBandResponse> {
    require_role(caller, &RULE_WRITERS, "UpdateAuthorityBand")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.band else {
        v.add("band", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let paths = convert::update_mask(request.update_mask.as_ref(), &UPDATABLE, &mut v);
    let masked = |f: &str| paths.iter().any(|p| p == f);
    let id = convert::series_id("band.band_id", &wire.band_id, &mut v);
    let effective = if masked("effective") {
        convert::effective_range("band.effective", wire.effective.as_ref(), &mut v)
    } else {
        None
    };
    let (Some(reason), Some(id), true) = (reason, id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let latest = row::Entity::find()
        .filter(row::Column::BandId.eq(id.as_str()))
        .order_by_desc(row::Column::Version)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            kind: "authority band",
            id: id.clone(),
        })?;
    if latest.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "authority band",
            id,
            expected: request.expected_version,
            actual: latest.version,
        });
    }
    let before = to_domain(&latest)?;
    let mut next = before.clone();
    if masked("max_rate_concession_bps") {
        next.max_rate_concession = BasisPoints::new(wire.max_rate_concession_bps);
    }
    if masked("max_fee_concession_bps") {
        next.max_fee_concession = BasisPoints::new(wire.max_fee_concession_bps);
    }
    if let Some(effective) = effective {
        next.effective = effective;
    }
    if let Err(errors) = next.validate() {
        add_prefixed(&mut v, "band", errors);
        return Err(ServiceError::Invalid(v));
    }
    check_against_others(&txn, &next, Some(&id)).await?;
    let version = latest.version + 1;
    let wire = store(
        &txn,
        svc,
        caller,
        request_id,
        &next,
        version,
        summary(&before, latest.version),
        &reason,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdateAuthorityBandResponse { band: Some(wire) })
}

fn key(r: &row::Model, all_versions: bool) -> String {
    if all_versions {
        format!("{}|{}|{}", r.sort_key, r.band_id, r.version)
    } else {
        format!("{}|{}", r.sort_key, r.band_id)
    }
}

/// `ListAuthorityBands`: the bands in force on a date (today by default) or every version, by
/// product kind, then level (then band id, version descending).
pub async fn list(
    svc: &PricingService,
    request: v1::ListAuthorityBandsRequest,
) -> Result<v1::ListAuthorityBandsResponse> {
    let mut v = Violations::new();
    let as_of = if request.all_versions {
        None
    } else {
        Some(
            convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v)
                .unwrap_or_else(|| svc.clock.today()),
        )
    };
    let filters = format!("authority_bands|{as_of:?}|{}", request.all_versions);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    let after: Option<(String, String, i64)> = match &page.after {
        None => None,
        Some(raw) => {
            let mut parts = raw.split('|');
            let parsed = match (parts.next(), parts.next(), parts.next()) {
                (Some(sort), Some(id), version) => {
                    let version = match version {
                        Some(s) => s.parse::<i64>().ok(),
                        None => Some(i64::MAX),
                    };
                    version.map(|ver| (sort.to_owned(), id.to_owned(), ver))
                }
                _ => None,
            };
            if parsed.is_none() {
                v.add("page_token", "is not a token this service issued");
            }
            parsed
        }
    };
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let after_filter = |(sort, id, version): &(String, String, i64)| {
        Condition::any()
            .add(row::Column::SortKey.gt(sort.as_str()))
            .add(
                Condition::all()
                    .add(row::Column::SortKey.eq(sort.as_str()))
                    .add(row::Column::BandId.gt(id.as_str())),
            )
            .add(
                Condition::all()
                    .add(row::Column::SortKey.eq(sort.as_str()))
                    .add(row::Column::BandId.eq(id.as_str()))
                    .add(row::Column::Version.lt(*version)),
            )
    };
    let ordered = |query: sea_orm::Select<row::Entity>| {
        query
            .order_by_asc(row::Column::SortKey)
            .order_by_asc(row::Column::BandId)
            .order_by_desc(row::Column::Version)
    };
    let mut rows = match as_of {
        None => {
            let mut query = row::Entity::find();
            if let Some(after) = &after {
                query = query.filter(after_filter(after));
            }
            ordered(query)
                .limit(page.fetch_limit())
                .all(&svc.db)
                .await?
        }
        Some(date) => {
            // Bands are reference data (a few per level and kind): every version starting by the
            // date is read and the one in force per series kept.
            let mut query = row::Entity::find().filter(row::Column::EffectiveFrom.lte(date));
            if let Some((sort, id, _)) = &after {
                // Past the last series of the previous page entirely.
                query = query.filter(after_filter(&(sort.clone(), id.clone(), i64::MIN)));
            }
            let candidates = ordered(query).all(&svc.db).await?;
            in_force(&candidates, |r| r.band_id.as_str(), range_of, date)
                .into_iter()
                .take(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX))
                .cloned()
                .collect()
        }
    };
    let all_versions = as_of.is_none();
    let next_page_token = page.finish(&mut rows, |r| key(r, all_versions));
    Ok(v1::ListAuthorityBandsResponse {
        bands: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}
