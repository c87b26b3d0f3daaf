//! Relationship pricing rules (DOMAIN.md §4): the `CreatePricingRule`, `GetPricingRule`,
//! `ListPricingRules` and `UpdatePricingRule` RPCs, the `pricing_rule` table ([`entity`]) and
//! [`in_force`], the rules a quote applies on a date, read through the versioned catalogue cache.
//! A rule is a **versioned series**: an update stores the next version under a field mask and
//! `expected_version` (a stale one answers `ABORTED`), and quotes keep the version they used.
//! The version in force on a date is the highest one whose effective range contains it (as for
//! the other series, [`crate::reference::in_force`]); rules of different series may overlap
//! freely — they combine in the domain's stated order. A rule is checked by the domain's
//! `PricingRule::validate`, and each product it names must exist with a kind and currency its
//! benefit can apply to. Writes need `pricing_committee` or `admin`, bump the catalogue version
//! (so every replica's cached rules miss) and write their audit entry and a `pricing_rule`
//! outbox event in the same transaction.

pub mod entity;
pub mod wire;

use std::sync::Arc;

use bankmkt_domain::pricing::EffectiveRange;
use bankmkt_domain::pricing::rules::PricingRule;
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::{NaiveDate, SubsecRound};
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, DatabaseTransaction, QueryOrder, QuerySelect, TransactionTrait};

use crate::PricingService;
use crate::access::{RULE_WRITERS, require_role};
use crate::cache::{bump_catalogue_version, catalogue_version};
use crate::catalogue::{domain_product, entity::product};
use crate::convert;
use crate::error::{Result, ServiceError, add_prefixed};
use crate::record::{Change, record};
use crate::reference::in_force as series_in_force;
use entity::pricing_rule as row;

/// Cache namespace of the rules in force on a date.
const IN_FORCE_NAMESPACE: &str = "pricing_rules_in_force";

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
        ServiceError::internal(format!("stored {what} of rule {id} is unreadable: {e}"))
    })
}

/// The domain rule of a stored version.
pub fn to_domain(r: &row::Model) -> Result<PricingRule> {
    Ok(PricingRule {
        rule_id: r.rule_id.clone(),
        version: r.version,
        name: r.name.clone(),
        priority: r.priority,
        condition: from_json("condition", &r.rule_id, &r.condition)?,
        target: from_json("target", &r.rule_id, &r.target)?,
        benefit: from_json("benefit", &r.rule_id, &r.benefit)?,
        exclusive: r.exclusive,
        effective: range_of(r),
    })
}

/// The wire form of a domain rule stored with `created`.
pub fn rule_to_proto(rule: &PricingRule, created: Option<v1::AuditStamp>) -> v1::PricingRule {
    v1::PricingRule {
        rule_id: rule.rule_id.clone(),
        name: rule.name.clone(),
        priority: rule.priority,
        condition: Some(wire::condition_to_proto(&rule.condition)),
        target: Some(wire::target_to_proto(&rule.target)),
        benefit: Some(wire::benefit_to_proto(&rule.benefit)),
        exclusive: rule.exclusive,
        effective: Some(convert::effective_to_proto(&rule.effective)),
        version: rule.version,
        created,
    }
}

/// The wire form of a stored version.
pub fn to_proto(r: &row::Model) -> Result<v1::PricingRule> {
    let rule = to_domain(r)?;
    Ok(rule_to_proto(
        &rule,
        Some(convert::stamp(&r.created_by, r.create_time, &r.reason)),
    ))
}

/// The rules in force on `date` from `db`, in application order (priority, then rule id).
async fn load_in_force<C: ConnectionTrait>(db: &C, date: NaiveDate) -> Result<Vec<PricingRule>> {
    let candidates = row::Entity::find()
        .filter(row::Column::EffectiveFrom.lte(date))
        .order_by_asc(row::Column::RuleId)
        .order_by_desc(row::Column::Version)
        .all(db)
        .await?;
    let mut rules = series_in_force(&candidates, |r| r.rule_id.as_str(), range_of, date)
        .into_iter()
        .map(to_domain)
        .collect::<Result<Vec<_>>>()?;
    rules.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    Ok(rules)
}

/// The rules in force on `date`, in application order (priority, then rule id): of each rule
/// series, the highest version whose effective range contains the date. Read through the
/// versioned catalogue cache (L1, then the shared cache, then the database) at the current
/// catalogue version, which every rule write bumps.
pub async fn in_force(svc: &PricingService, date: NaiveDate) -> Result<Arc<Vec<PricingRule>>> {
    let version = catalogue_version(&svc.db).await?;
    let db = svc.db.clone();
    let rules = svc
        .catalogue
        .get_or_load(
            IN_FORCE_NAMESPACE,
            &version.stamp,
            &date.to_string(),
            || async move { load_in_force(&db, date).await.map(Some) },
        )
        .await?
        .unwrap_or_default();
    Ok(Arc::new(rules))
}

fn summary(rule: &PricingRule) -> String {
    format!(
        "version={} name={:?} priority={} benefit={} exclusive={} effective={}",
        rule.version, rule.name, rule.priority, rule.benefit, rule.exclusive, rule.effective
    )
}

/// Validates `rule` (the domain's rules, every problem under `rule.`) and checks that each
/// product it names exists with a kind and currency its benefit can apply to.
async fn check(txn: &DatabaseTransaction, rule: &PricingRule) -> Result<()> {
    let mut v = Violations::new();
    if let Err(errors) = rule.validate() {
        add_prefixed(&mut v, "rule", errors);
        return Err(ServiceError::Invalid(v));
    }
    for (i, id) in rule.target.product_ids.iter().enumerate() {
        let field = format!("rule.target.product_ids[{i}]");
        match product::Entity::find_by_id(id.as_str()).one(txn).await? {
            None => v.add(field, format!("unknown product {id:?}")),
            Some(p) => {
                let p = domain_product(&p)?;
                if !rule.benefit.applies_to(p.kind, p.currency) {
                    v.add(
                        "rule.benefit.benefit_type",
                        format!(
                            "a {} benefit cannot apply to {} (a {} product in {})",
                            rule.benefit, p.product_id, p.kind, p.currency
                        ),
                    );
                }
            }
        }
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(v))
    }
}

/// Writes `rule` (its version included) with its trail; a concurrent writer of the same version
/// answers `ABORTED`.
async fn store(
    txn: &DatabaseTransaction,
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    rule: &PricingRule,
    before: String,
    reason: &str,
) -> Result<v1::PricingRule> {
    // Microseconds, as both databases store them, so the reply equals every later read.
    let now = svc.clock.now().trunc_subsecs(6);
    let model = row::Model {
        rule_id: rule.rule_id.clone(),
        version: rule.version,
        name: rule.name.clone(),
        priority: rule.priority,
        condition: json(&rule.condition)?,
        target: json(&rule.target)?,
        benefit: json(&rule.benefit)?,
        exclusive: rule.exclusive,
        effective_from: rule.effective.from,
        effective_to: rule.effective.to,
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
                kind: "pricing rule",
                id: rule.rule_id.clone(),
                expected: rule.version - 1,
                actual: rule.version,
            });
        }
        other => other?,
    };
    let wire = to_proto(&model)?;
    let (action, event_type) = if rule.version == 1 {
        ("pricing_rule.create", "pricing_rule.created")
    } else {
        ("pricing_rule.update", "pricing_rule.updated")
    };
    record(
        txn,
        now,
        Change {
            caller,
            request_id,
            action,
            target_type: "pricing_rule",
            target_id: rule.rule_id.clone(),
            before,
            after: summary(rule),
            reason: reason.to_owned(),
            event_type,
            version: rule.version,
            payload: wire.encode_to_vec(),
        },
    )
    .await?;
    Ok(wire)
}

/// `CreatePricingRule`: version 1 of a new rule series (its id is drawn here).
pub async fn create(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreatePricingRuleRequest,
) -> Result<v1::CreatePricingRuleResponse> {
    require_role(caller, &RULE_WRITERS, "CreatePricingRule")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.rule else {
        v.add("rule", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let condition = wire::condition_from_proto("rule.condition", wire.condition.as_ref(), &mut v);
    let target = wire::target_from_proto("rule.target", wire.target.as_ref(), &mut v);
    let benefit = wire::benefit_from_proto("rule.benefit", wire.benefit.as_ref(), &mut v);
    let effective = convert::effective_range("rule.effective", wire.effective.as_ref(), &mut v);
    let (Some(reason), Some(benefit), Some(effective), true) =
        (reason, benefit, effective, v.is_empty())
    else {
        return Err(ServiceError::Invalid(v));
    };
    let rule = PricingRule {
        rule_id: uuid::Uuid::now_v7().to_string(),
        version: 1,
        name: wire.name.trim().to_owned(),
        priority: wire.priority,
        condition,
        target,
        benefit,
        exclusive: wire.exclusive,
        effective,
    };
    if let Err(errors) = rule.validate() {
        add_prefixed(&mut v, "rule", errors);
        return Err(ServiceError::Invalid(v));
    }

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    check(&txn, &rule).await?;
    let wire = store(&txn, svc, caller, request_id, &rule, String::new(), &reason).await?;
    txn.commit().await?;
    Ok(v1::CreatePricingRuleResponse { rule: Some(wire) })
}

/// The fields `UpdatePricingRule` may change.
const UPDATABLE: [&str; 7] = [
    "name",
    "priority",
    "condition",
    "target",
    "benefit",
    "exclusive",
    "effective",
];

/// `UpdatePricingRule`: stores the next version of the series.
pub async fn update(
    svc: &PricingService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdatePricingRuleRequest,
) -> Result<v1::UpdatePricingRuleResponse> {
    require_role(caller, &RULE_WRITERS, "UpdatePricingRule")?;
    let mut v = Violations::new();
    let reason = convert::reason("reason", &request.reason, &mut v);
    let Some(wire) = request.rule else {
        v.add("rule", "is required");
        return Err(ServiceError::Invalid(v));
    };
    let paths = convert::update_mask(request.update_mask.as_ref(), &UPDATABLE, &mut v);
    let masked = |f: &str| paths.iter().any(|p| p == f);
    let id = convert::series_id("rule.rule_id", &wire.rule_id, &mut v);
    if request.expected_version < 1 {
        v.add(
            "expected_version",
            "is required: the latest version you read",
        );
    }
    let condition = masked("condition")
        .then(|| wire::condition_from_proto("rule.condition", wire.condition.as_ref(), &mut v));
    let target = masked("target")
        .then(|| wire::target_from_proto("rule.target", wire.target.as_ref(), &mut v));
    let benefit = if masked("benefit") {
        wire::benefit_from_proto("rule.benefit", wire.benefit.as_ref(), &mut v)
    } else {
        None
    };
    let effective = if masked("effective") {
        convert::effective_range("rule.effective", wire.effective.as_ref(), &mut v)
    } else {
        None
    };
    let (Some(reason), Some(id), true) = (reason, id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };

    let txn = svc.db.begin().await?;
    bump_catalogue_version(&txn).await?;
    let latest = row::Entity::find()
        .filter(row::Column::RuleId.eq(id.as_str()))
        .order_by_desc(row::Column::Version)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            kind: "pricing rule",
            id: id.clone(),
        })?;
    if latest.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "pricing rule",
            id,
            expected: request.expected_version,
            actual: latest.version,
        });
    }
    let before = to_domain(&latest)?;
    let mut next = before.clone();
    next.version = latest.version + 1;
    if masked("name") {
        next.name = wire.name.trim().to_owned();
    }
    if masked("priority") {
        next.priority = wire.priority;
    }
    if let Some(condition) = condition {
        next.condition = condition;
    }
    if let Some(target) = target {
        next.target = target;
    }
    if let Some(benefit) = benefit {
        next.benefit = benefit;
    }
    if masked("exclusive") {
        next.exclusive = wire.exclusive;
    }
    if let Some(effective) = effective {
        next.effective = effective;
    }
    check(&txn, &next).await?;
    let wire = store(
        &txn,
        svc,
        caller,
        request_id,
        &next,
        summary(&before),
        &reason,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::UpdatePricingRuleResponse { rule: Some(wire) })
}

/// `GetPricingRule`: the latest version, or the one asked for.
pub async fn get(
    svc: &PricingService,
    request: v1::GetPricingRuleRequest,
) -> Result<v1::GetPricingRuleResponse> {
    let mut v = Violations::new();
    let id = convert::series_id("rule_id", &request.rule_id, &mut v);
    if request.version < 0 {
        v.add("version", "must not be negative (0 means the latest)");
    }
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let found = crate::versions::find::<row::Entity, _>(
        &svc.db,
        row::Column::RuleId,
        row::Column::Version,
        "pricing rule",
        &id,
        request.version,
    )
    .await?;
    Ok(v1::GetPricingRuleResponse {
        rule: Some(to_proto(&found)?),
    })
}

/// The sort key of a listed row: priority (offset to sort as text), rule id, and with every
/// version the version.
fn key(r: &row::Model, all_versions: bool) -> String {
    let priority = i64::from(r.priority) - i64::from(i32::MIN);
    if all_versions {
        format!("{priority:010}|{}|{}", r.rule_id, r.version)
    } else {
        format!("{priority:010}|{}", r.rule_id)
    }
}

/// A page token's key: priority, rule id and (with every version) version.
fn parse_key(raw: &str) -> Option<(i32, String, i64)> {
    let mut parts = raw.split('|');
    let priority = parts.next()?.parse::<i64>().ok()? + i64::from(i32::MIN);
    let priority = i32::try_from(priority).ok()?;
    let id = parts.next()?.to_owned();
    let version = match parts.next() {
        Some(s) => s.parse::<i64>().ok()?,
        None => i64::MAX,
    };
    Some((priority, id, version))
}

/// `ListPricingRules`: the rules in force on a date (today by default) or every version, in
/// application order (priority, rule id), then version descending.
pub async fn list(
    svc: &PricingService,
    request: v1::ListPricingRulesRequest,
) -> Result<v1::ListPricingRulesResponse> {
    let mut v = Violations::new();
    let as_of = if request.all_versions {
        None
    } else {
        Some(
            convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v)
                .unwrap_or_else(|| svc.clock.today()),
        )
    };
    let filters = format!("pricing_rules|{as_of:?}|{}", request.all_versions);
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
    if !v.is_empty() {
        return Err(ServiceError::Invalid(v));
    }
    let limit = usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX);
    let mut rows: Vec<row::Model> = match as_of {
        None => {
            let mut query = row::Entity::find();
            if let Some((priority, id, version)) = &after {
                query = query.filter(
                    Condition::any()
                        .add(row::Column::Priority.gt(*priority))
                        .add(
                            Condition::all()
                                .add(row::Column::Priority.eq(*priority))
                                .add(row::Column::RuleId.gt(id.as_str())),
                        )
                        .add(
                            Condition::all()
                                .add(row::Column::Priority.eq(*priority))
                                .add(row::Column::RuleId.eq(id.as_str()))
                                .add(row::Column::Version.lt(*version)),
                        ),
                );
            }
            query
                .order_by_asc(row::Column::Priority)
                .order_by_asc(row::Column::RuleId)
                .order_by_desc(row::Column::Version)
                .limit(page.fetch_limit())
                .all(&svc.db)
                .await?
        }
        Some(date) => {
            // Rules are reference data (tens, not millions): every version starting by the date
            // is read, the one in force per series kept, and those ordered for application.
            let candidates = row::Entity::find()
                .filter(row::Column::EffectiveFrom.lte(date))
                .order_by_asc(row::Column::RuleId)
                .order_by_desc(row::Column::Version)
                .all(&svc.db)
                .await?;
            let mut current: Vec<row::Model> =
                series_in_force(&candidates, |r| r.rule_id.as_str(), range_of, date)
                    .into_iter()
                    .cloned()
                    .collect();
            current.sort_by(|a, b| {
                a.priority
                    .cmp(&b.priority)
                    .then_with(|| a.rule_id.cmp(&b.rule_id))
            });
            current
                .into_iter()
                .filter(|r| {
                    after.as_ref().is_none_or(|(priority, id, _)| {
                        (r.priority, r.rule_id.as_str()) > (*priority, id.as_str())
                    })
                })
                .take(limit)
                .collect()
        }
    };
    let all_versions = as_of.is_none();
    let next_page_token = page.finish(&mut rows, |r| key(r, all_versions));
    Ok(v1::ListPricingRulesResponse {
        rules: rows.iter().map(to_proto).collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_sort_like_the_rows_and_read_back() {
        let row = |priority: i32, id: &str, version: i64| row::Model {
            rule_id: id.into(),
            version,
            name: String::new(),
            priority,
            condition: String::new(),
            target: String::new(),
            benefit: String::new(),
            exclusive: false,
            effective_from: NaiveDate::default(),
            effective_to: None,
            created_by: String::new(),
            create_time: chrono::DateTime::default(),
            reason: String::new(),
        };
        let negative = key(&row(-5, "b", 1), true);
        let zero = key(&row(0, "a", 2), true);
        let high = key(&row(i32::MAX, "a", 1), false);
        assert!(negative < zero && zero < high);
        assert_eq!(parse_key(&negative), Some((-5, "b".into(), 1)));
        assert_eq!(parse_key(&high), Some((i32::MAX, "a".into(), i64::MAX)));
        assert_eq!(
            parse_key(&key(&row(i32::MIN, "z", 3), true)),
            Some((i32::MIN, "z".into(), 3))
        );
        assert_eq!(parse_key("x|y"), None);
    }
}
