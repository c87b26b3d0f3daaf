//! Cadence and SLA rules as versioned, effective-dated data (DOMAIN.md §1 "Rules are data", §5):
//! `Create…Rule` and `Update…Rule` (branch heads and admins) convert the wire rule, let the
//! domain's `CadenceRule::validate` / `SlaRule::validate` judge it and refuse an overlap with
//! another series of the same scope (`rules::check_overlap`); an update stores a new version
//! under optimistic concurrency on the series' latest version (the `(rule_id, version)` primary
//! key settles races) and closes the previous version where the new one starts; `List…Rules`
//! answers the versions in force on a date (`rules::in_force`) or every version. Each change
//! writes its audit entry and outbox event on its own transaction.

use bankmkt_domain::coordination::rules::{self as domain, CadenceRule, SlaRule, SlaSubject};
use bankmkt_domain::org::Role;
use bankmkt_domain::pricing::EffectiveRange;
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};

use crate::CoordinationService;
use crate::convert::{self, stored};
use crate::directory::{self, absorb};
use crate::error::{Result, ServiceError};
use crate::record::{Change, record};
use crate::rows::{cadence_rule, sla_rule};
use crate::store;

fn require_rule_maker(caller: &Caller) -> Result<()> {
    if caller.has_role(Role::BranchHead) || caller.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(
            "cadence and SLA rules are changed by a branch_head or an admin".to_owned(),
        ))
    }
}

fn effective(raw: Option<&v1::EffectiveRange>, v: &mut Violations) -> Option<EffectiveRange> {
    let Some(raw) = raw else {
        v.add("rule.effective", "is required");
        return None;
    };
    let from = match &raw.start_date {
        None => {
            v.add("rule.effective.start_date", "is required");
            None
        }
        Some(d) => v.check("rule.effective.start_date", convert::date_from_proto(d)),
    };
    let to = convert::optional_date("rule.effective.end_date", raw.end_date.as_ref(), v);
    from.map(|from| EffectiveRange { from, to })
}

fn effective_to_proto(r: &EffectiveRange) -> v1::EffectiveRange {
    v1::EffectiveRange {
        start_date: Some(convert::date_to_proto(r.from)),
        end_date: r.to.map(convert::date_to_proto),
    }
}

fn list_of<T>(field: &str, raw: &[i32], from: fn(i32) -> Option<T>, v: &mut Violations) -> Vec<T> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, r)| convert::required_enum(&format!("{field}[{i}]"), *r, from, "value", v))
        .collect()
}

fn codes<T: Copy>(items: &[T], code: fn(T) -> &'static str) -> Result<String> {
    serde_json::to_string(&items.iter().map(|i| code(*i)).collect::<Vec<_>>())
        .map_err(ServiceError::internal)
}

fn parse_codes<T: std::str::FromStr>(raw: &str) -> Result<Vec<T>> {
    let items: Vec<String> = serde_json::from_str(raw).map_err(ServiceError::internal)?;
    items.iter().map(|c| stored("rule code", c)).collect()
}

/// Which fields a mask names, refusing unknown ones.
fn mask(raw: Option<&prost_types::FieldMask>, allowed: &[&str], v: &mut Violations) -> Vec<String> {
    let paths: Vec<String> = raw.map(|m| m.paths.clone()).unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field");
    }
    for (i, p) in paths.iter().enumerate() {
        if !allowed.contains(&p.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!("{p} cannot be updated"),
            );
        }
    }
    paths
}

fn page_key(rule_id: &str, version: i64) -> String {
    format!("{rule_id}|{:020}", i64::MAX - version)
}

// ---------------------------------------------------------------------------------------------
// Cadence rules
// ---------------------------------------------------------------------------------------------

fn cadence_from_wire(
    raw: &v1::CadenceRule,
    v: &mut Violations,
    with_effective: bool,
) -> Option<CadenceRule> {
    let kinds = list_of("rule.kinds", &raw.kinds, directory::kind_from_proto, v);
    let corporate_tiers = list_of(
        "rule.corporate_tiers",
        &raw.corporate_tiers,
        directory::corporate_tier_from_proto,
        v,
    );
    let wealth_tiers = list_of(
        "rule.wealth_tiers",
        &raw.wealth_tiers,
        directory::wealth_tier_from_proto,
        v,
    );
    let counted_types = list_of(
        "rule.counted_types",
        &raw.counted_types,
        directory::activity_type_from_proto,
        v,
    );
    let effective = if with_effective {
        effective(raw.effective.as_ref(), v)?
    } else {
        EffectiveRange {
            from: NaiveDate::MIN,
            to: None,
        }
    };
    Some(CadenceRule {
        rule_id: String::new(),
        version: 0,
        name: raw.name.clone(),
        kinds,
        corporate_tiers,
        wealth_tiers,
        counted_types,
        min_activities: raw.min_activities,
        window_months: raw.window_months,
        effective,
    })
}

fn cadence_of(row: &cadence_rule::Model) -> Result<CadenceRule> {
    Ok(CadenceRule {
        rule_id: row.rule_id.clone(),
        version: row.version,
        name: row.name.clone(),
        kinds: parse_codes(&row.kinds)?,
        corporate_tiers: parse_codes(&row.corporate_tiers)?,
        wealth_tiers: parse_codes(&row.wealth_tiers)?,
        counted_types: parse_codes(&row.counted_types)?,
        min_activities: row.min_activities,
        window_months: row.window_months,
        effective: EffectiveRange {
            from: row.effective_from,
            to: row.effective_to,
        },
    })
}

fn cadence_row(
    r: &CadenceRule,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<cadence_rule::Model> {
    Ok(cadence_rule::Model {
        rule_id: r.rule_id.clone(),
        version: r.version,
        name: r.name.trim().to_owned(),
        kinds: codes(&r.kinds, |k| k.as_str())?,
        corporate_tiers: codes(&r.corporate_tiers, |k| k.as_str())?,
        wealth_tiers: codes(&r.wealth_tiers, |k| k.as_str())?,
        counted_types: codes(&r.counted_types, |k| k.as_str())?,
        min_activities: r.min_activities,
        window_months: r.window_months,
        effective_from: r.effective.from,
        effective_to: r.effective.to,
        created_by: caller.subject.clone(),
        create_time: now,
    })
}

fn cadence_to_proto(row: &cadence_rule::Model) -> Result<v1::CadenceRule> {
    let r = cadence_of(row)?;
    Ok(v1::CadenceRule {
        rule_id: r.rule_id.clone(),
        name: r.name.clone(),
        kinds: r
            .kinds
            .iter()
            .map(|k| directory::kind_to_proto(*k) as i32)
            .collect(),
        corporate_tiers: r
            .corporate_tiers
            .iter()
            .map(|k| directory::corporate_tier_to_proto(*k) as i32)
            .collect(),
        wealth_tiers: r
            .wealth_tiers
            .iter()
            .map(|k| directory::wealth_tier_to_proto(*k) as i32)
            .collect(),
        counted_types: r
            .counted_types
            .iter()
            .map(|k| directory::activity_type_to_proto(*k) as i32)
            .collect(),
        min_activities: r.min_activities,
        window_months: r.window_months,
        effective: Some(effective_to_proto(&r.effective)),
        version: r.version,
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
    })
}

/// Every version of every cadence rule, as the domain reads them.
pub async fn all_cadence<C: ConnectionTrait>(db: &C) -> Result<Vec<CadenceRule>> {
    cadence_rule::Entity::find()
        .all(db)
        .await?
        .iter()
        .map(cadence_of)
        .collect()
}

/// Whether a version in force from `from` to `to` (exclusive) is still in force when a new
/// version starts on `start` after it: then it ends there.
fn overlaps_start(from: NaiveDate, to: Option<NaiveDate>, start: NaiveDate) -> bool {
    from < start && to.is_none_or(|to| to > start)
}

/// Stores one rule version in one transaction: ends the previous version (`close`) where the new
/// one starts, inserts `row` (a unique violation means another writer stored this version first:
/// `ABORTED`), and writes the change's audit entry and event.
async fn store_version<E>(
    svc: &CoordinationService,
    kind: &'static str,
    close: Option<E::ActiveModel>,
    row: E::ActiveModel,
    change: Change<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let txn = svc.db.begin().await?;
    if let Some(close) = close {
        close.update(&txn).await?;
    }
    let inserted = E::insert(row)
        .exec_without_returning(&txn)
        .await
        .map_err(ServiceError::from);
    if let Err(e) = inserted {
        return Err(if e.is_unique_violation() {
            ServiceError::StaleVersion {
                kind,
                id: change.target_id.clone(),
                expected: change.version - 1,
                actual: change.version,
            }
        } else {
            e
        });
    }
    record(&txn, now, change).await?;
    txn.commit().await?;
    Ok(())
}

async fn store_cadence(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    rule: CadenceRule,
    previous: Option<cadence_rule::Model>,
) -> Result<v1::CadenceRule> {
    let existing = all_cadence(&svc.db).await?;
    domain::check_overlap(&existing, &rule).map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let row = cadence_row(&rule, caller, now)?;
    let wire = cadence_to_proto(&row)?;
    let close = previous
        .as_ref()
        .filter(|p| overlaps_start(p.effective_from, p.effective_to, rule.effective.from))
        .map(|p| {
            let mut am = p.clone().into_active_model();
            am.effective_to = sea_orm::Set(Some(rule.effective.from));
            am
        });
    let versioned = previous.is_some();
    store_version::<cadence_rule::Entity>(
        svc,
        "cadence rule",
        close,
        row.clone().into_active_model(),
        Change {
            caller,
            request_id,
            action: if versioned {
                "cadence_rule.update"
            } else {
                "cadence_rule.create"
            },
            target_type: "cadence_rule",
            target_id: rule.rule_id.clone(),
            before: previous
                .as_ref()
                .map(|p| format!("version={} {}", p.version, p.name))
                .unwrap_or_default(),
            after: format!(
                "version={} min={} window={} from={}",
                row.version, row.min_activities, row.window_months, row.effective_from
            ),
            reason: format!("cadence rule version {}", row.version),
            event_type: if versioned {
                "cadence_rule.versioned"
            } else {
                "cadence_rule.created"
            },
            version: row.version,
            payload: wire.encode_to_vec(),
        },
        now,
    )
    .await?;
    Ok(wire)
}

/// `CreateCadenceRule`.
pub async fn create_cadence(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateCadenceRuleRequest,
) -> Result<v1::CreateCadenceRuleResponse> {
    let mut v = Violations::new();
    let Some(raw) = request.rule.as_ref() else {
        v.add("rule", "is required");
        return Err(v.into());
    };
    let rule = cadence_from_wire(raw, &mut v, true);
    if let Some(r) = &rule
        && let Err(e) = r.validate()
    {
        absorb(&mut v, e, "rule")?;
    }
    let (Some(mut rule), true) = (rule, v.is_empty()) else {
        return Err(v.into());
    };
    require_rule_maker(caller)?;
    rule.rule_id = convert::new_id();
    rule.version = 1;
    let rule = store_cadence(svc, caller, request_id, rule, None).await?;
    Ok(v1::CreateCadenceRuleResponse { rule: Some(rule) })
}

async fn latest_cadence(svc: &CoordinationService, id: &str) -> Result<cadence_rule::Model> {
    cadence_rule::Entity::find()
        .filter(cadence_rule::Column::RuleId.eq(id))
        .all(&svc.db)
        .await?
        .into_iter()
        .max_by_key(|r| r.version)
        .ok_or_else(|| ServiceError::not_found("cadence rule", id))
}

/// `UpdateCadenceRule`: a new version of the series.
pub async fn update_cadence(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateCadenceRuleRequest,
) -> Result<v1::UpdateCadenceRuleResponse> {
    let mut v = Violations::new();
    let Some(raw) = request.rule.as_ref() else {
        v.add("rule", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("rule.rule_id", &raw.rule_id, &mut v);
    let paths = mask(
        request.update_mask.as_ref(),
        &[
            "name",
            "kinds",
            "corporate_tiers",
            "wealth_tiers",
            "counted_types",
            "min_activities",
            "window_months",
            "effective",
        ],
        &mut v,
    );
    let has = |f: &str| paths.iter().any(|p| p == f);
    let wire_rule = cadence_from_wire(raw, &mut v, has("effective"));
    let (Some(id), Some(wire_rule), true) = (id, wire_rule, v.is_empty()) else {
        return Err(v.into());
    };
    require_rule_maker(caller)?;
    let latest = latest_cadence(svc, &id).await?;
    if latest.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "cadence rule",
            id,
            expected: request.expected_version,
            actual: latest.version,
        });
    }
    let mut rule = cadence_of(&latest)?;
    if has("name") {
        rule.name = wire_rule.name;
    }
    if has("kinds") {
        rule.kinds = wire_rule.kinds;
    }
    if has("corporate_tiers") {
        rule.corporate_tiers = wire_rule.corporate_tiers;
    }
    if has("wealth_tiers") {
        rule.wealth_tiers = wire_rule.wealth_tiers;
    }
    if has("counted_types") {
        rule.counted_types = wire_rule.counted_types;
    }
    if has("min_activities") {
        rule.min_activities = wire_rule.min_activities;
    }
    if has("window_months") {
        rule.window_months = wire_rule.window_months;
    }
    if has("effective") {
        rule.effective = wire_rule.effective;
    }
    rule.validate()
        .map_err(|e| ServiceError::from_domain(e, "rule"))?;
    rule.version = latest.version + 1;
    let rule = store_cadence(svc, caller, request_id, rule, Some(latest)).await?;
    Ok(v1::UpdateCadenceRuleResponse { rule: Some(rule) })
}

/// `ListCadenceRules`.
pub async fn list_cadence(
    svc: &CoordinationService,
    _caller: &Caller,
    request: v1::ListCadenceRulesRequest,
) -> Result<v1::ListCadenceRulesResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let as_of = convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let rows = cadence_rule::Entity::find().all(&svc.db).await?;
    let domain_rules = rows.iter().map(cadence_of).collect::<Result<Vec<_>>>()?;
    let date = as_of.unwrap_or_else(|| svc.clock.today());
    let chosen: Vec<(String, i64)> = if request.all_versions {
        domain_rules
            .iter()
            .map(|r| (r.rule_id.clone(), r.version))
            .collect()
    } else {
        domain::in_force(&domain_rules, date)
            .into_iter()
            .map(|r| (r.rule_id.clone(), r.version))
            .collect()
    };
    let mut page: Vec<(String, &cadence_rule::Model)> = rows
        .iter()
        .filter(|r| chosen.contains(&(r.rule_id.clone(), r.version)))
        .map(|r| (page_key(&r.rule_id, r.version), r))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    page.sort_by(|a, b| a.0.cmp(&b.0));
    let more = page.len() > size;
    page.truncate(size);
    let next_page_token = match (more, page.last()) {
        (true, Some((k, _))) => convert::page_token(&filters, k),
        _ => String::new(),
    };
    Ok(v1::ListCadenceRulesResponse {
        rules: page
            .iter()
            .map(|(_, r)| cadence_to_proto(r))
            .collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}

// ---------------------------------------------------------------------------------------------
// SLA rules
// ---------------------------------------------------------------------------------------------

fn subject_from_proto(raw: i32) -> Option<SlaSubject> {
    match v1::SlaSubject::try_from(raw).ok()? {
        v1::SlaSubject::Task => Some(SlaSubject::Task),
        v1::SlaSubject::ReferralResponse => Some(SlaSubject::ReferralResponse),
        v1::SlaSubject::Unspecified => None,
    }
}

fn subject_to_proto(s: SlaSubject) -> v1::SlaSubject {
    match s {
        SlaSubject::Task => v1::SlaSubject::Task,
        SlaSubject::ReferralResponse => v1::SlaSubject::ReferralResponse,
    }
}

fn sla_from_wire(raw: &v1::SlaRule, v: &mut Violations, with_effective: bool) -> Option<SlaRule> {
    let subject = convert::filter_enum(
        "rule.subject",
        raw.subject,
        subject_from_proto,
        "SLA subject",
        v,
    );
    let opportunity_type = convert::filter_enum(
        "rule.opportunity_type",
        raw.opportunity_type,
        convert::type_from_proto,
        "opportunity type",
        v,
    );
    let effective = if with_effective {
        effective(raw.effective.as_ref(), v)?
    } else {
        EffectiveRange {
            from: NaiveDate::MIN,
            to: None,
        }
    };
    Some(SlaRule {
        rule_id: String::new(),
        version: 0,
        name: raw.name.clone(),
        subject,
        opportunity_type,
        playbook_step_id: (!raw.playbook_step_id.is_empty()).then(|| raw.playbook_step_id.clone()),
        working_days: raw.working_days,
        effective,
    })
}

fn sla_of(row: &sla_rule::Model) -> Result<SlaRule> {
    Ok(SlaRule {
        rule_id: row.rule_id.clone(),
        version: row.version,
        name: row.name.clone(),
        subject: Some(stored("SLA subject", &row.subject)?),
        opportunity_type: row
            .opportunity_type
            .as_deref()
            .map(|t| stored("opportunity type", t))
            .transpose()?,
        playbook_step_id: row.playbook_step_id.clone(),
        working_days: row.working_days,
        effective: EffectiveRange {
            from: row.effective_from,
            to: row.effective_to,
        },
    })
}

fn sla_to_proto(row: &sla_rule::Model) -> Result<v1::SlaRule> {
    let r = sla_of(row)?;
    Ok(v1::SlaRule {
        rule_id: r.rule_id.clone(),
        name: r.name.clone(),
        subject: r.subject.map_or(0, |s| subject_to_proto(s) as i32),
        opportunity_type: r
            .opportunity_type
            .map_or(0, |t| convert::type_to_proto(t) as i32),
        playbook_step_id: r.playbook_step_id.clone().unwrap_or_default(),
        working_days: r.working_days,
        effective: Some(effective_to_proto(&r.effective)),
        version: r.version,
        created: Some(convert::stamp(&row.created_by, row.create_time, "")),
    })
}

/// Every version of every SLA rule, as the domain reads them.
pub async fn all_sla<C: ConnectionTrait>(db: &C) -> Result<Vec<SlaRule>> {
    sla_rule::Entity::find()
        .all(db)
        .await?
        .iter()
        .map(sla_of)
        .collect()
}

async fn store_sla(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    rule: SlaRule,
    previous: Option<sla_rule::Model>,
) -> Result<v1::SlaRule> {
    let existing = all_sla(&svc.db).await?;
    domain::check_overlap(&existing, &rule).map_err(|e| ServiceError::from_domain(e, ""))?;
    let now = store::now(svc);
    let row = sla_rule::Model {
        rule_id: rule.rule_id.clone(),
        version: rule.version,
        name: rule.name.trim().to_owned(),
        subject: rule
            .subject
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        opportunity_type: rule.opportunity_type.map(|t| t.as_str().to_owned()),
        playbook_step_id: rule.playbook_step_id.clone(),
        working_days: rule.working_days,
        effective_from: rule.effective.from,
        effective_to: rule.effective.to,
        created_by: caller.subject.clone(),
        create_time: now,
    };
    let wire = sla_to_proto(&row)?;
    let close = previous
        .as_ref()
        .filter(|p| overlaps_start(p.effective_from, p.effective_to, rule.effective.from))
        .map(|p| {
            let mut am = p.clone().into_active_model();
            am.effective_to = sea_orm::Set(Some(rule.effective.from));
            am
        });
    let versioned = previous.is_some();
    store_version::<sla_rule::Entity>(
        svc,
        "SLA rule",
        close,
        row.clone().into_active_model(),
        Change {
            caller,
            request_id,
            action: if versioned {
                "sla_rule.update"
            } else {
                "sla_rule.create"
            },
            target_type: "sla_rule",
            target_id: rule.rule_id.clone(),
            before: previous
                .as_ref()
                .map(|p| format!("version={} {}", p.version, p.name))
                .unwrap_or_default(),
            after: format!(
                "version={} subject={} days={} from={}",
                row.version, row.subject, row.working_days, row.effective_from
            ),
            reason: format!("SLA rule version {}", row.version),
            event_type: if versioned {
                "sla_rule.versioned"
            } else {
                "sla_rule.created"
            },
            version: row.version,
            payload: wire.encode_to_vec(),
        },
        now,
    )
    .await?;
    Ok(wire)
}

/// `CreateSlaRule`.
pub async fn create_sla(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateSlaRuleRequest,
) -> Result<v1::CreateSlaRuleResponse> {
    let mut v = Violations::new();
    let Some(raw) = request.rule.as_ref() else {
        v.add("rule", "is required");
        return Err(v.into());
    };
    let rule = sla_from_wire(raw, &mut v, true);
    if let Some(r) = &rule
        && let Err(e) = r.validate()
    {
        absorb(&mut v, e, "rule")?;
    }
    let (Some(mut rule), true) = (rule, v.is_empty()) else {
        return Err(v.into());
    };
    require_rule_maker(caller)?;
    rule.rule_id = convert::new_id();
    rule.version = 1;
    let rule = store_sla(svc, caller, request_id, rule, None).await?;
    Ok(v1::CreateSlaRuleResponse { rule: Some(rule) })
}

/// `UpdateSlaRule`: a new version of the series.
pub async fn update_sla(
    svc: &CoordinationService,
    caller: &Caller,
    request_id: &str,
    request: v1::UpdateSlaRuleRequest,
) -> Result<v1::UpdateSlaRuleResponse> {
    let mut v = Violations::new();
    let Some(raw) = request.rule.as_ref() else {
        v.add("rule", "is required");
        return Err(v.into());
    };
    let id = convert::issued_id("rule.rule_id", &raw.rule_id, &mut v);
    let paths = mask(
        request.update_mask.as_ref(),
        &[
            "name",
            "opportunity_type",
            "playbook_step_id",
            "working_days",
            "effective",
        ],
        &mut v,
    );
    let has = |f: &str| paths.iter().any(|p| p == f);
    let wire_rule = sla_from_wire(raw, &mut v, has("effective"));
    let (Some(id), Some(wire_rule), true) = (id, wire_rule, v.is_empty()) else {
        return Err(v.into());
    };
    require_rule_maker(caller)?;
    let latest = sla_rule::Entity::find()
        .filter(sla_rule::Column::RuleId.eq(id.clone()))
        .all(&svc.db)
        .await?
        .into_iter()
        .max_by_key(|r| r.version)
        .ok_or_else(|| ServiceError::not_found("SLA rule", id.clone()))?;
    if latest.version != request.expected_version {
        return Err(ServiceError::StaleVersion {
            kind: "SLA rule",
            id,
            expected: request.expected_version,
            actual: latest.version,
        });
    }
    let mut rule = sla_of(&latest)?;
    if has("name") {
        rule.name = wire_rule.name;
    }
    if has("opportunity_type") {
        rule.opportunity_type = wire_rule.opportunity_type;
    }
    if has("playbook_step_id") {
        rule.playbook_step_id = wire_rule.playbook_step_id;
    }
    if has("working_days") {
        rule.working_days = wire_rule.working_days;
    }
    if has("effective") {
        rule.effective = wire_rule.effective;
    }
    rule.validate()
        .map_err(|e| ServiceError::from_domain(e, "rule"))?;
    rule.version = latest.version + 1;
    let rule = store_sla(svc, caller, request_id, rule, Some(latest)).await?;
    Ok(v1::UpdateSlaRuleResponse { rule: Some(rule) })
}

/// `ListSlaRules`.
pub async fn list_sla(
    svc: &CoordinationService,
    _caller: &Caller,
    request: v1::ListSlaRulesRequest,
) -> Result<v1::ListSlaRulesResponse> {
    let mut v = Violations::new();
    let size = convert::page_size(request.page_size, &mut v);
    let filters = {
        let mut f = request.clone();
        f.page_size = 0;
        f.page_token.clear();
        convert::filter_hash(&f.encode_to_vec())
    };
    let after = convert::page_after(&request.page_token, &filters, &mut v);
    let as_of = convert::optional_date("as_of_date", request.as_of_date.as_ref(), &mut v);
    if !v.is_empty() {
        return Err(v.into());
    }
    let rows = sla_rule::Entity::find().all(&svc.db).await?;
    let domain_rules = rows.iter().map(sla_of).collect::<Result<Vec<_>>>()?;
    let date = as_of.unwrap_or_else(|| svc.clock.today());
    let chosen: Vec<(String, i64)> = if request.all_versions {
        domain_rules
            .iter()
            .map(|r| (r.rule_id.clone(), r.version))
            .collect()
    } else {
        domain::in_force(&domain_rules, date)
            .into_iter()
            .map(|r| (r.rule_id.clone(), r.version))
            .collect()
    };
    let mut page: Vec<(String, &sla_rule::Model)> = rows
        .iter()
        .filter(|r| chosen.contains(&(r.rule_id.clone(), r.version)))
        .map(|r| (page_key(&r.rule_id, r.version), r))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    page.sort_by(|a, b| a.0.cmp(&b.0));
    let more = page.len() > size;
    page.truncate(size);
    let next_page_token = match (more, page.last()) {
        (true, Some((k, _))) => convert::page_token(&filters, k),
        _ => String::new(),
    };
    Ok(v1::ListSlaRulesResponse {
        rules: page
            .iter()
            .map(|(_, r)| sla_to_proto(r))
            .collect::<Result<Vec<_>>>()?,
        next_page_token,
    })
}
