//! Bundles (产品套餐, DOMAIN.md §4): the `CreateBundle`, `GetBundle`, `ListBundles`,
//! `UpdateBundle` and `ListEligibleBundles` RPCs, the `bundle` table ([`entity`]) and [`load`],
//! the current version of a bundle as a quote uses it, read through the versioned catalogue
//! cache. A bundle is versioned like a rule: an update stores the next version under a field mask
//! and `expected_version` (a stale one answers `ABORTED`). A bundle is checked by the domain's
//! `Bundle::validate` against the catalogue (every component a known product, at most once, with
//! a benefit that can apply to it; bundles do not nest, components are always products). Writes
//! need `product_manager`, `pricing_committee` or `admin`, bump the catalogue version and write
//! their audit entry and a `bundle` outbox event in one transaction. `ListEligibleBundles` reads
//! the customer from the registry as the caller ([`crate::facts::read`]) and explains, per
//! active bundle in force today, the domain's `eligibility`: the conditions that fail and the
//! prerequisites not yet met.

pub mod entity;

use std::collections::BTreeMap;

use bankmkt_domain::pricing::bundles::{
    Bundle, BundleComponent, Prerequisite, Requirement, eligibility,
};
use bankmkt_domain::pricing::{EffectiveRange, Product};
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::SubsecRound;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseTransaction, QueryOrder, TransactionTrait};

use crate::PricingService;
use crate::access::{BUNDLE_WRITERS, require_role};
use crate::cache::{bump_catalogue_version, catalogue_version};
use crate::catalogue::{domain_product, entity::product};
use crate::convert;
use crate::error::{Result, ServiceError, add_prefixed};
use crate::facts;
use crate::record::{Change, record};
use crate::rules::wire;
use entity::bundle as row;

/// Cache namespace of bundles (current version).
const BUNDLE_NAMESPACE: &str = "pricing_bundle";

fn range_of(r: &row::Model) -> EffectiveRange {
    EffectiveRange {
        from: r.effective_from,
        to: r.effective_to,
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(ServiceError::internal)
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, id: &str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| {
        ServiceError::internal(format!("stored {what} of bundle {id} is unreadable: {e}"))
    })
}

/// The domain bundle of a stored version.
pub fn to_domain(r: &row::Model) -> Result<Bundle> {
    Ok(Bundle {
        bundle_id: r.bundle_id.clone(),
        version: r.version,
        name: r.name.clone(),
        description: r.description.clone(),
        components: from_json("components", &r.bundle_id, &r.components)?,
        eligibility: from_json("eligibility", &r.bundle_id, &r.eligibility)?,
        prerequisites: from_json("prerequisites", &r.bundle_id, &r.prerequisites)?,
        effective: range_of(r),
        active: r.active,
    })
}

/// A prerequisite for the wire.
pub fn prerequisite_to_proto(p: &Prerequisite) -> v1::Prerequisite {
    let mut out = v1::Prerequisite {
        prerequisite_id: p.prerequisite_id.clone(),
        description: p.description.clone(),
        ..v1::Prerequisite::default()
    };
    match &p.requirement {
        Requirement::HoldsProduct(id) => {
            out.kind = v1::PrerequisiteKind::HoldsProduct as i32;
            out.product_id = id.clone();
        }
        Requirement::HoldsCategory(category) => {
            out.kind = v1::PrerequisiteKind::HoldsCategory as i32;
            out.category = convert::category_to_proto(*category) as i32;
        }
        Requirement::ExecutivePersonalAccounts { min_count } => {
            out.kind = v1::PrerequisiteKind::ExecutivePersonalAccounts as i32;
            out.min_count = i32::try_from(*min_count).unwrap_or(i32::MAX);
        }
    }
    out
}

/// The wire form of a domain bundle stored with `created`.
pub fn bundle_to_proto(b: &Bundle, created: Option<v1::AuditStamp>) -> v1::Bundle {
    v1::Bundle {
        bundle_id: b.bundle_id.clone(),
        name: b.name.clone(),
        description: b.description.clone(),
        components: b
            .components
            .iter()
            .map(|c| v1::BundleComponent {
                component_id: c.component_id.clone(),
                product_id: c.product_id.clone(),
                mandatory: c.mandatory,
                benefit: c.benefit.as_ref().map(wire::benefit_to_proto),
                note: c.note.clone(),
            })
            .collect(),
        eligibility: Some(wire::condition_to_proto(&b.eligibility)),
        prerequisites: b.prerequisites.iter().map(prerequisite_to_proto).collect(),
        effective: Some(convert::effective_to_proto(&b.effective)),
        active: b.active,
        version: b.version,
        created,
    }
}

/// The wire form of a stored version.
pub fn to_proto(r: &row::Model) -> Result<v1::Bundle> {
    Ok(bundle_to_proto(
        &to_domain(r)?,
        Some(convert::stamp(&r.created_by, r.create_time, &r.reason)),
    ))
}

/// The wire components at `field`.
fn components_from_proto(
    field: &str,
    raw: &[v1::BundleComponent],
    v: &mut Violations,
) -> Vec<BundleComponent> {
    raw.iter()
        .enumerate()
        .map(|(i, c)| BundleComponent {
            component_id: c.component_id.trim().to_owned(),
            product_id: c.product_id.clone(),
            mandatory: c.mandatory,
            benefit: c.benefit.as_ref().and_then(|b| {
                wire::benefit_from_proto(&format!("{field}[{i}].benefit"), Some(b), v)
            }),
            note: c.note.clone(),
        })
        .collect()
}

/// The wire prerequisites at `field`: the kind is required and picks the field it reads.
fn prerequisites_from_proto(
    field: &str,
    raw: &[v1::Prerequisite],
    v: &mut Violations,
) -> Vec<Prerequisite> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, p) in raw.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let requirement = match v1::PrerequisiteKind::try_from(p.kind) {
            Ok(v1::PrerequisiteKind::HoldsProduct) => {
                Some(Requirement::HoldsProduct(p.product_id.clone()))
            }
            Ok(v1::PrerequisiteKind::HoldsCategory) => convert::required_enum(
                &at("category"),
                p.category,
                convert::category_from_proto,
                "product category",
                v,
            )
            .map(Requirement::HoldsCategory),
            Ok(v1::PrerequisiteKind::ExecutivePersonalAccounts) => match u32::try_from(p.min_count)
            {
                Ok(min_count) => Some(Requirement::ExecutivePersonalAccounts { min_count }),
                Err(_) => {
                    v.add(at("min_count"), "must be at least 1");
                    None
                }
            },
            Ok(v1::PrerequisiteKind::Unspecified) | Err(_) => {
                v.add(
                    at("kind"),
                    format!("must be a known prerequisite kind ({} is not)", p.kind),
                );
                None
            }
        };
        if let Some(requirement) = requirement {
            out.push(Prerequisite {
                prerequisite_id: p.prerequisite_id.trim().to_owned(),
                requirement,
                description: p.description.clone(),
            });
        }
    }
    out
}

/// The bundle `bundle_id`'s latest version, from `db`.
async fn load_latest<C: ConnectionTrait>(db: &C, bundle_id: &str) -> Result<Option<Bundle>> {
    row::Entity::find()
        .filter(row::Column::BundleId.eq(bundle_id))
        .order_by_desc(row::Column::Version)
        .one(db)
        .await?
        .as_ref()
        .map(to_domain)
        .transpose()
}

/// The current (latest) version of bundle `bundle_id`, read through the versioned catalogue
/// cache (L1, shared cache, database) at the current catalogue version, which every bundle write
/// bumps. `NOT_FOUND` naming the id when there is no such bundle. Whether it is active and in
/// force on a date is the caller's question (`Bundle::in_force`).
pub async fn load(svc: &PricingService, bundle_id: &str) -> Result<Bundle> {
    let not_found = || ServiceError::NotFound {
        kind: "bundle",
        id: bundle_id.to_owned(),
    };
    // Ids are UUIDs this service issued; anything else cannot exist.
    let Ok(id) = uuid::Uuid::try_parse(bundle_id) else {
        return Err(not_found());
    };
    let id = id.to_string();
    let version = catalogue_version(&svc.db).await?;
    let db = svc.db.clone();
    let key = id.clone();
    svc.catalogue
        .get_or_load(BUNDLE_NAMESPACE, &version.stamp, &id, || async move {
            load_latest(&db, &key).await
        })
        .await?
        .ok_or_else(not_found)
}

fn summary(b: &Bundle) -> String {
    let components: Vec<String> = b
        .components
        .iter()
        .map(|c| {
            format!(
                "{}:{}{}",
                c.component_id,
                c.product_id,
                if c.mandatory { "" } else { "?" }
            )
        })
        .collect();
    format!(
        "version={} name={:?} components=[{}] prerequisites={} effective={} active={}",
        b.version,
        b.name,
        components.join(","),
        b.prerequisites.len(),
        b.effective,
        b.active
    )
}

/// Validates `bundle` by the domain's rules against the catalogue products it names (read on
/// `txn`); every problem is named under `bundle.`.
async fn check(txn: &DatabaseTransaction, bundle: &Bundle) -> Result<()> {
    let ids: Vec<&str> = bundle
        .components
        .iter()
        .map(|c| c.product_id.as_str())
        .collect();
    let products: BTreeMap<String, Product> = if ids.is_empty() {
        BTreeMap::new()
    } else {
        product::Entity::find()
            .filter(product::Column::ProductId.is_in(ids))
            .all(txn)
            .await?
            .iter()
            .map(|p| domain_product(p).map(|d| (d.product_id.clone(), d)))
            .collect::<Result<_>>()?
    };
    if let Err(errors) = bundle.validate(|id| products.get(id)) {
        let mut v = Violations::new();
        add_prefixed(&mut v, "bundle", errors);
        return Err(ServiceError::Invalid(v));
    }
    Ok(())
}

/// Writes `bundle` (its version included) with its trail; a concurrent writer of the same
/// version answers `ABORTED`.
async fn store(
    txn: &DatabaseTransaction,
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    bundle: &Bundle,
    before: String,
) -> Result<v1::Bundle> {
    // Microseconds, as both databases store them, so the reply equals every later read.
    let now = svc.clock.now().trunc_subsecs(6);
    let (action, event_type, reason) = if bundle.version == 1 {
        ("bundle.create", "bundle.created", "CreateBundle")
    } else {
        ("bundle.update", "bundle.updated", "UpdateBundle")
    };
    let model = row::Model {
        bundle_id: bundle.bundle_id.clone(),
        version: bundle.version,
        name: bundle.name.clone(),
        description: bundle.description.clone(),
        components: json(&bundle.components)?,
        eligibility: json(&bundle.eligibility)?,
        prerequisites: json(&bundle.prerequisites)?,
        effective_from: bundle.effective.from,
        effective_to: bundle.effective.to,
        active: bundle.active,
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
                kind: "bundle",
                id: bundle.bundle_id.clone(),
                expected: bundle.version - 1,
                actual: bundle.version,
            });
        }
        other => other?,
    };
    let wire = to_proto(&model)?;
    record(
        txn,
        now,
        Change {
            caller,
            request_id,
            action,
            target_type: "bundle",
            target_id: bundle.bundle_id.clone(),
            before,
            after: summary(bundle),
            reason: reason.to_owned(),
            event_type,
            version: bundle.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    Ok(wire)
}

/// `CreateBundle`: version 1 of a new bundle (its id is drawn here).
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateBundleRequest,
) -> Result<v1::CreateBundleResponse> {
    require_role(caller, &BUNDLE_WRITERS, "CreateBundle")?;
    let mut v = Violations::new();
    let Some(wire) = request.bundle else {
        v.add("bundle", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let components = components_from_proto("bundle.components", &wire.components, &mut v);
    let eligibility =
        wire::condition_from_proto("bundle.eligibility", wire.eligibility.as_ref(), &mut v);
    let prerequisites =
        prerequisites_from_proto("bundle.prerequisites", &wire.prerequisites, &mut v);
    let effective = convert::effective_range("bundle.effective", wire.effective.as_ref(), &mut v);
    let (Some(effective), true) = (effective, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let bundle = Bundle {
        bundle_id: uuid::Uuid::now_v7().to_string(),
        version: 1,
        name: wire.name.trim().to_owned(),
        description: wire.description.clone(),
        components,
        eligibility,
        prerequisites,
        effective,
        active: wire.active,
    };

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    check(&txn, &bundle).await?;
    let wire = store(&txn, svc, caller, request_id, &bundle, String::new()).await?;
    txn.commit().await?;
    Ok(v1::CreateBundleResponse { bundle: Some(wire) })
}

/// The fields `UpdateBundle` may change.
const UPDATABLE: [&str; 7] = [
    "name",
    "description",
    "components",
    "eligibility",
    "prerequisites",
    "effective",
    "active",
];

/// `UpdateBundle`: stores the next version.
pub async fn update(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateBundleRequest,
) -> Result<v1::UpdateBundleResponse> {
    require_role(caller, &BUNDLE_WRITERS, "UpdateBundle")?;
    let mut v = Violations::new();
    let Some(wire) = request.bundle else {
        v.add("bundle", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let paths = convert::update_mask(request.update_mask.as_ref(), &UPDATABLE, &mut v);
    let masked = |f: &str| paths.iter().any(|p| p == f);
    let id = convert::series_id("bundle.bundle_id", &wire.bundle_id, &mut v);
    if request.expected_version < 1 {
        v.add(
            "expected_version",
            "is required: the latest version you read",
        );
    }
    let components = masked("components")
        .then(|| components_from_proto("bundle.components", &wire.components, &mut v));
    let eligibility = masked("eligibility").then(|| {
        wire::condition_from_proto("bundle.eligibility", wire.eligibility.as_ref(), &mut v)
    });
    let prerequisites = masked("prerequisites")
        .then(|| prerequisites_from_proto("bundle.prerequisites", &wire.prerequisites, &mut v));
    let effective = if masked("effective") {
        convert::effective_range("bundle.effective", wire.effective.as_ref(), &mut v)
    } else {
        None
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let latest = load_latest(&txn, &id)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            kind: "bundle",
            id: id.clone(),
        })?;
    if latest.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "bundle",
            id,
            expected: request.expected_version,
            actual: latest.version,
        });
    }
    let mut next = latest.clone();
    next.version = latest.version + 1;
    if masked("name") {
        next.name = wire.name.trim().to_owned();
    }
    if masked("description") {
        next.description = wire.description.clone();
    }
    if let Some(components) = components {
        next.components = components;
    }
    if let Some(eligibility) = eligibility {
        next.eligibility = eligibility;
    }
    if let Some(prerequisites) = prerequisites {
        next.prerequisites = prerequisites;
    }
    if let Some(effective) = effective {
        next.effective = effective;
    }
    if masked("active") {
        next.active = wire.active;
    }
    check(&txn, &next).await?;
    let wire = store(&txn, svc, caller, request_id, &next, summary(&latest)).await?;
    txn.commit().await?;
    Ok(v1::UpdateBundleResponse { bundle: Some(wire) })
}

/// `GetBundle`: the latest version, or the one asked for.
pub async fn get(
    svc: &PricingService,
    request: v1::GetBundleRequest,
) -> Result<v1::GetBundleResponse> {
    let mut v = Violations::new();
    let id = convert::series_id("bundle_id", &request.bundle_id, &mut v);
    if request.version < 0 {
        v.add("version", "must not be negative (0 means the latest)");
    }
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let found = crate::versions::find::<row::Entity, _>(
        &svc.db,
        row::Column::BundleId,
        row::Column::Version,
        "bundle",
        &id,
        request.version,
    )
    .await?;
    Ok(v1::GetBundleResponse {
        bundle: Some(to_proto(&found)?),
    })
}

/// The latest version of every bundle after `after` (by id), ordered by id. Bundles are reference
/// data (tens, not millions), so every version past the key is read and the latest kept.
async fn latest_versions<C: ConnectionTrait>(
    db: &C,
    after: Option<&str>,
) -> Result<Vec<row::Model>> {
    let mut query = row::Entity::find();
    if let Some(after) = after {
        query = query.filter(row::Column::BundleId.gt(after));
    }
    let rows = query
        .order_by_asc(row::Column::BundleId)
        .order_by_desc(row::Column::Version)
        .all(db)
        .await?;
    let mut out: Vec<row::Model> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|l| l.bundle_id != r.bundle_id) {
            out.push(r);
        }
    }
    Ok(out)
}

/// `ListBundles`: the latest version of each bundle, by bundle id; inactive ones only when
/// asked.
pub async fn list(
    svc: &PricingService,
    request: v1::ListBundlesRequest,
) -> Result<v1::ListBundlesResponse> {
    let mut v = Violations::new();
    let filters = format!("bundles|{}", request.include_inactive);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let limit = usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX);
    let mut rows: Vec<row::Model> = latest_versions(&svc.db, page.after.as_deref())
        .await?
        .into_iter()
        .filter(|r| request.include_inactive || r.active)
        .take(limit)
        .collect();
    let next_page_token = page.finish(&mut rows, |r| r.bundle_id.clone());
    Ok(v1::ListBundlesResponse {
        bundles: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

/// `ListEligibleBundles`: for the customer (read from the registry as the caller, who must be
/// allowed to see it), every active bundle in force today, by bundle id, with whether it is
/// eligible, the conditions that fail and the prerequisites not yet met.
pub async fn list_eligible(
    svc: &PricingService,
    caller: &Caller,
    request: v1::ListEligibleBundlesRequest,
) -> Result<v1::ListEligibleBundlesResponse> {
    let mut v = Violations::new();
    let customer_id = request.customer_id.trim();
    if customer_id.is_empty() {
        v.add("customer_id", "is required");
    } else if customer_id.chars().count() > 64 {
        v.add("customer_id", "must be at most 64 characters");
    }
    let filters = format!("eligible_bundles|{customer_id}|{}", request.eligible_only);
    let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let snapshot = facts::read(svc, caller, customer_id).await?;
    let today = svc.clock.today();
    let limit = usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX);
    let mut entries: Vec<(String, v1::BundleEligibility)> = Vec::new();
    for r in latest_versions(&svc.db, page.after.as_deref()).await? {
        if entries.len() >= limit {
            break;
        }
        let bundle = to_domain(&r)?;
        if !bundle.in_force(today) {
            continue;
        }
        let e = eligibility(&bundle, &snapshot.facts);
        if request.eligible_only && !e.eligible {
            continue;
        }
        entries.push((
            r.bundle_id.clone(),
            v1::BundleEligibility {
                bundle: Some(bundle_to_proto(
                    &bundle,
                    Some(convert::stamp(&r.created_by, r.create_time, &r.reason)),
                )),
                eligible: e.eligible,
                unmet_conditions: e.unmet.iter().map(wire::unmet_to_proto).collect(),
                missing_prerequisites: e
                    .missing_prerequisites
                    .iter()
                    .map(prerequisite_to_proto)
                    .collect(),
            },
        ));
    }
    let next_page_token = page.finish(&mut entries, |(id, _)| id.clone());
    Ok(v1::ListEligibleBundlesResponse {
        bundles: entries.into_iter().map(|(_, e)| e).collect(),
        next_page_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_domain::pricing::ProductCategory;

    #[test]
    fn prerequisites_round_trip_and_bad_kinds_are_named() {
        let prerequisites = vec![
            Prerequisite {
                prerequisite_id: "payroll".into(),
                requirement: Requirement::HoldsCategory(ProductCategory::Payroll),
                description: "payroll agency with us".into(),
            },
            Prerequisite {
                prerequisite_id: "card".into(),
                requirement: Requirement::HoldsProduct("CARD".into()),
                description: String::new(),
            },
            Prerequisite {
                prerequisite_id: "execs".into(),
                requirement: Requirement::ExecutivePersonalAccounts { min_count: 2 },
                description: String::new(),
            },
        ];
        let wire: Vec<v1::Prerequisite> = prerequisites.iter().map(prerequisite_to_proto).collect();
        let mut v = Violations::new();
        assert_eq!(prerequisites_from_proto("p", &wire, &mut v), prerequisites);
        assert!(v.is_empty());
        let bad = vec![
            v1::Prerequisite::default(),
            v1::Prerequisite {
                kind: v1::PrerequisiteKind::HoldsCategory as i32,
                ..v1::Prerequisite::default()
            },
            v1::Prerequisite {
                kind: v1::PrerequisiteKind::ExecutivePersonalAccounts as i32,
                min_count: -1,
                ..v1::Prerequisite::default()
            },
        ];
        prerequisites_from_proto("bundle.prerequisites", &bad, &mut v);
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "bundle.prerequisites[0].kind",
                "bundle.prerequisites[1].category",
                "bundle.prerequisites[2].min_count"
            ]
        );
    }
}
