//! Tier rules as versioned, effective-dated data (`CreateTierRuleSet`, `ListTierRuleSets`). Each
//! scheme is one series (`corporate_tier`, `wealth_tier`); a new version must start after every
//! earlier version of its series, an open-ended predecessor is closed on the new start date, and
//! anything else that overlaps is `FAILED_PRECONDITION`. Corporate criteria are listed from head
//! office down, each tier at most once, and become `bankmkt_domain::tiers::CorporateTierRules`;
//! wealth thresholds are VIP, platinum and private banking with strictly increasing AUM minimums
//! (`WealthTierThresholds`), a basis of 1 to 36 months (default 3) and the product categories
//! counted in AUM (default deposit and wealth). The rules are stored encoded with the defaults
//! filled in, so what was evaluated can be read back exactly.

use bankmkt_domain::customer::{CorporateTier, WealthTier, WealthTierThresholds};
use bankmkt_domain::money::{Currency, Money};
use bankmkt_domain::org::Role;
use bankmkt_domain::scoring::Decimal;
use bankmkt_domain::tiers::{
    CorporateTierRules, DEFAULT_BASIS_MONTHS, Tier, TierCondition, TierRule,
};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TransactionTrait};

use super::entity::tier_rule_set;
use super::{RULE_KIND, Scheme, internal, scheme_filter};
use crate::convert;
use crate::customers::Customers;
use crate::error::{RegistryError, Result};
use crate::org::require_role;
use crate::value::wire;

/// Roles that may create tier rule versions.
const RULE_ROLES: [Role; 2] = [Role::Admin, Role::PerformanceOffice];
/// Longest wealth basis, in months.
const MAX_BASIS_MONTHS: i32 = 36;

/// The wealth rules of one version, ready for evaluation.
#[derive(Clone, Debug)]
pub struct WealthRules {
    /// The tier thresholds.
    pub thresholds: WealthTierThresholds,
    /// Months averaged into the basis.
    pub basis_months: u32,
    /// Stored product-category codes counted in AUM (e.g. `deposit`, `wealth`).
    pub categories: Vec<String>,
}

impl Default for WealthRules {
    /// DOMAIN.md defaults: VIP 500k, platinum 3M, private banking 8M over 3 months of deposits
    /// and wealth products.
    fn default() -> Self {
        WealthRules {
            thresholds: WealthTierThresholds::default(),
            basis_months: DEFAULT_BASIS_MONTHS,
            categories: vec!["deposit".to_owned(), "wealth".to_owned()],
        }
    }
}

/// A stored rule version, decoded.
#[derive(Clone, Debug)]
pub enum LoadedRules {
    /// Corporate rules.
    Corporate(CorporateTierRules),
    /// Wealth rules.
    Wealth(WealthRules),
}

/// The stored code of a product category (`PRODUCT_CATEGORY_DEPOSIT` → `deposit`).
pub(crate) fn category_code(c: v1::ProductCategory) -> String {
    c.as_str_name()
        .trim_start_matches("PRODUCT_CATEGORY_")
        .to_ascii_lowercase()
}

/// A CNY amount from the wire that must not be negative (or must be positive).
fn money_in(field: &str, raw: &v1::Money, positive: bool, v: &mut Violations) -> Option<Money> {
    let mut ok = true;
    if raw.currency != "CNY" {
        v.add(format!("{field}.currency"), "must be CNY");
        ok = false;
    }
    if raw.minor_units < 0 || (positive && raw.minor_units == 0) {
        v.add(
            format!("{field}.minor_units"),
            if positive {
                "must be positive"
            } else {
                "must not be negative"
            },
        );
        ok = false;
    }
    ok.then(|| Money::from_minor(Currency::CNY, raw.minor_units))
}

/// A score threshold 0 to 100.
fn score_in(field: &str, raw: &v1::Decimal, v: &mut Violations) -> Option<Decimal> {
    let d = wire::decimal(field, Some(raw), v)?;
    if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
        v.add(field, "must be within 0 to 100");
        return None;
    }
    Some(d)
}

/// Validates corporate criteria into domain rules; `version` names the rule set in reasons.
pub(crate) fn corporate_from_proto(
    prefix: &str,
    rules: &v1::CorporateTierRules,
    version: &str,
    v: &mut Violations,
) -> Option<CorporateTierRules> {
    let before = v.fields().len();
    if rules.criteria.is_empty() || rules.criteria.len() > 4 {
        v.add(
            format!("{prefix}.criteria"),
            "must list 1 to 4 criteria, one per tier",
        );
    }
    let mut out: Vec<TierRule> = Vec::new();
    let mut previous: Option<CorporateTier> = None;
    for (i, c) in rules.criteria.iter().enumerate() {
        let field = |f: &str| format!("{prefix}.criteria[{i}].{f}");
        let tier = convert::corporate_tier_from_proto(c.tier);
        match tier {
            None => v.add(
                field("tier"),
                "must be HEAD_OFFICE, TIER1_BRANCH, TIER2_BRANCH or SUB_BRANCH",
            ),
            Some(t) => {
                if previous.is_some_and(|p| p.seniority() <= t.seniority()) {
                    v.add(
                        field("tier"),
                        "tiers must be listed from head office down, each at most once",
                    );
                }
                previous = Some(t);
            }
        }
        let mut conditions = Vec::new();
        if let Some(d) = &c.min_value_score
            && let Some(min) = score_in(&field("min_value_score"), d, v)
        {
            conditions.push(TierCondition::MinValueScore(min));
        }
        for (j, s) in c.min_dimension_scores.iter().enumerate() {
            let dim_field = field(&format!("min_dimension_scores[{j}].dimension"));
            let dimension = wire::dimension_from_proto(s.dimension);
            match dimension {
                None => v.add(&dim_field, "must be a known value dimension"),
                Some(d)
                    if c.min_dimension_scores[..j]
                        .iter()
                        .any(|o| wire::dimension_from_proto(o.dimension) == Some(d)) =>
                {
                    v.add(&dim_field, format!("dimension {d} is listed twice"))
                }
                Some(_) => {}
            }
            let score_field = field(&format!("min_dimension_scores[{j}].score"));
            let min = match &s.score {
                None => {
                    v.add(&score_field, "is required");
                    None
                }
                Some(d) => score_in(&score_field, d, v),
            };
            if let (Some(dimension), Some(min)) = (dimension, min) {
                conditions.push(TierCondition::MinDimensionScore { dimension, min });
            }
        }
        if let Some(m) = &c.min_ttm_contribution
            && let Some(min) = money_in(&field("min_ttm_contribution"), m, false, v)
        {
            conditions.push(TierCondition::MinTtmContribution(min));
        }
        if let Some(m) = &c.min_annual_revenue
            && let Some(min) = money_in(&field("min_annual_revenue"), m, false, v)
        {
            conditions.push(TierCondition::MinAnnualRevenue(min));
        }
        if c.requires_cross_region {
            conditions.push(TierCondition::CrossRegion);
        }
        if let Some(tier) = tier {
            out.push(TierRule { tier, conditions });
        }
    }
    if v.fields().len() != before {
        return None;
    }
    match CorporateTierRules::new(version, Currency::CNY, out) {
        Ok(r) => Some(r),
        Err(e) => {
            v.add(prefix, e.to_string());
            None
        }
    }
}

/// Validates wealth rules; returns them with the defaults filled in, and their domain form.
pub(crate) fn wealth_from_proto(
    prefix: &str,
    rules: &v1::WealthTierRules,
    v: &mut Violations,
) -> Option<(v1::WealthTierRules, WealthRules)> {
    let before = v.fields().len();
    const ORDER: [WealthTier; 3] = [
        WealthTier::Vip,
        WealthTier::Platinum,
        WealthTier::PrivateBanking,
    ];
    if rules.thresholds.len() != ORDER.len() {
        v.add(
            format!("{prefix}.thresholds"),
            "must give the VIP, PLATINUM and PRIVATE_BANKING thresholds, in that order",
        );
    }
    let mut minimums: Vec<Money> = Vec::new();
    for (i, t) in rules.thresholds.iter().enumerate() {
        let field = |f: &str| format!("{prefix}.thresholds[{i}].{f}");
        let tier = convert::wealth_tier_from_proto(t.tier);
        if tier.is_none() || tier != ORDER.get(i).copied() {
            v.add(
                field("tier"),
                "thresholds are VIP, PLATINUM, PRIVATE_BANKING in that order (MASS has none)",
            );
        }
        match &t.min_aum {
            None => v.add(field("min_aum"), "is required"),
            Some(m) => {
                if let Some(min) = money_in(&field("min_aum"), m, true, v) {
                    if minimums
                        .last()
                        .is_some_and(|p| p.minor_units() >= min.minor_units())
                    {
                        v.add(field("min_aum"), "thresholds must increase with the tier");
                    }
                    minimums.push(min);
                }
            }
        }
    }
    let basis_months = match rules.basis_months {
        0 => DEFAULT_BASIS_MONTHS as i32,
        n if (1..=MAX_BASIS_MONTHS).contains(&n) => n,
        _ => {
            v.add(
                format!("{prefix}.basis_months"),
                format!("must be 1 to {MAX_BASIS_MONTHS} (0 means the default of 3)"),
            );
            0
        }
    };
    let mut categories: Vec<v1::ProductCategory> = Vec::new();
    for (i, raw) in rules.aum_categories.iter().enumerate() {
        let field = format!("{prefix}.aum_categories[{i}]");
        match v1::ProductCategory::try_from(*raw) {
            Ok(v1::ProductCategory::Unspecified) | Err(_) => {
                v.add(&field, "must be a known product category")
            }
            Ok(c) if categories.contains(&c) => v.add(&field, "is listed twice"),
            Ok(c) => categories.push(c),
        }
    }
    if categories.is_empty() && rules.aum_categories.is_empty() {
        categories = vec![v1::ProductCategory::Deposit, v1::ProductCategory::Wealth];
    }
    if v.fields().len() != before || minimums.len() != ORDER.len() {
        return None;
    }
    let thresholds = match WealthTierThresholds::new(minimums[0], minimums[1], minimums[2]) {
        Ok(t) => t,
        Err(e) => {
            v.add(format!("{prefix}.thresholds"), e.to_string());
            return None;
        }
    };
    let normalized = v1::WealthTierRules {
        thresholds: rules.thresholds.clone(),
        basis_months,
        aum_categories: categories.iter().map(|c| *c as i32).collect(),
    };
    let domain = WealthRules {
        thresholds,
        basis_months: basis_months as u32,
        categories: categories.iter().map(|c| category_code(*c)).collect(),
    };
    Some((normalized, domain))
}

/// The label of a stored version in reasons, e.g. `v3`.
fn version_label(row: &tier_rule_set::Model) -> String {
    format!("v{}", row.version)
}

/// Decodes a stored version into its evaluation form.
pub fn decode(row: &tier_rule_set::Model) -> Result<LoadedRules> {
    let mut v = Violations::new();
    let loaded = match Scheme::from_code(&row.scheme)? {
        Scheme::Corporate => {
            let wire_rules =
                v1::CorporateTierRules::decode(row.rules.as_slice()).map_err(internal)?;
            corporate_from_proto("rules", &wire_rules, &version_label(row), &mut v)
                .map(LoadedRules::Corporate)
        }
        Scheme::Wealth => {
            let wire_rules = v1::WealthTierRules::decode(row.rules.as_slice()).map_err(internal)?;
            wealth_from_proto("rules", &wire_rules, &mut v).map(|(_, w)| LoadedRules::Wealth(w))
        }
    };
    loaded.ok_or_else(|| {
        internal(format!(
            "stored tier rules {}@{} no longer validate: {:?}",
            row.rule_set_id,
            row.version,
            v.fields()
        ))
    })
}

/// `start ≤ date < end` (open end).
fn in_force_on(date: NaiveDate) -> Condition {
    use tier_rule_set::Column as C;
    Condition::all().add(C::StartDate.lte(date)).add(
        Condition::any()
            .add(C::EndDate.is_null())
            .add(C::EndDate.gt(date)),
    )
}

/// The version of `scheme` in force on `date`.
pub async fn in_force<C: ConnectionTrait>(
    db: &C,
    scheme: Scheme,
    date: NaiveDate,
) -> Result<Option<tier_rule_set::Model>> {
    Ok(tier_rule_set::Entity::find()
        .filter(tier_rule_set::Column::RuleSetId.eq(scheme.series()))
        .filter(in_force_on(date))
        .order_by_desc(tier_rule_set::Column::Version)
        .one(db)
        .await?)
}

/// The wire form of a stored version.
pub fn to_proto(row: &tier_rule_set::Model) -> Result<v1::TierRuleSet> {
    let scheme = Scheme::from_code(&row.scheme)?;
    let rules = match scheme {
        Scheme::Corporate => v1::tier_rule_set::Rules::Corporate(
            v1::CorporateTierRules::decode(row.rules.as_slice()).map_err(internal)?,
        ),
        Scheme::Wealth => v1::tier_rule_set::Rules::Wealth(
            v1::WealthTierRules::decode(row.rules.as_slice()).map_err(internal)?,
        ),
    };
    Ok(v1::TierRuleSet {
        rule_set_id: row.rule_set_id.clone(),
        scheme: scheme.to_proto() as i32,
        rules: Some(rules),
        effective: wire::effective_out(row.start_date, row.end_date),
        version: row.version,
        created: Some(v1::AuditStamp {
            actor_id: row.created_by.clone(),
            time: wire::ts(row.create_time),
            reason: row.reason.clone(),
        }),
    })
}

/// The rule reference of a stored version.
pub fn rule_ref(row: &tier_rule_set::Model) -> v1::RuleVersionRef {
    wire::rule_ref(RULE_KIND, &row.rule_set_id, row.version)
}

/// `CreateTierRuleSet`.
pub async fn create(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::CreateTierRuleSetRequest,
) -> Result<v1::CreateTierRuleSetResponse> {
    require_role(caller, &RULE_ROLES, "CreateTierRuleSet")?;
    let mut v = Violations::new();
    let reason = wire::reason_in(&request.reason, &mut v);
    let Some(r) = request.rule_set.as_ref() else {
        v.add("rule_set", "is required");
        return Err(v.into());
    };
    let scheme = Scheme::from_proto(r.scheme);
    if scheme.is_none() {
        v.add("rule_set.scheme", "must be CORPORATE or WEALTH");
    }
    use v1::tier_rule_set::Rules;
    let encoded = match (scheme, &r.rules) {
        (Some(Scheme::Corporate), Some(Rules::Corporate(c))) => {
            corporate_from_proto("rule_set.corporate", c, "new", &mut v).map(|_| c.encode_to_vec())
        }
        (Some(Scheme::Wealth), Some(Rules::Wealth(w))) => {
            wealth_from_proto("rule_set.wealth", w, &mut v).map(|(n, _)| n.encode_to_vec())
        }
        (Some(Scheme::Corporate), _) => {
            v.add(
                "rule_set.corporate",
                "is required for the CORPORATE scheme (and wealth rules are not allowed)",
            );
            None
        }
        (Some(Scheme::Wealth), _) => {
            v.add(
                "rule_set.wealth",
                "is required for the WEALTH scheme (and corporate rules are not allowed)",
            );
            None
        }
        (None, _) => None,
    };
    let effective = wire::effective_in("rule_set.effective", r.effective.as_ref(), &mut v);
    let (Some(scheme), Some(encoded), Some((start, end))) = (scheme, encoded, effective) else {
        return Err(v.into());
    };
    if !v.is_empty() {
        return Err(v.into());
    }
    let series = scheme.series();
    let now = wire::now_micros(&customers.clock);
    let txn = customers.db.begin().await?;
    let existing = tier_rule_set::Entity::find()
        .filter(tier_rule_set::Column::RuleSetId.eq(series))
        .all(&txn)
        .await?;
    let overlap = |message: String| RegistryError::FailedPrecondition {
        kind: "RULE_VERSION_OVERLAP",
        subject: series.to_owned(),
        message,
    };
    if let Some(later) = existing.iter().find(|e| e.start_date >= start) {
        return Err(overlap(format!(
            "version {} of {series} is in force from {}; a new version must start after it",
            later.version, later.start_date
        )));
    }
    if let Some(latest) = existing.iter().max_by_key(|e| e.start_date) {
        match latest.end_date {
            None => {
                tier_rule_set::Entity::update_many()
                    .col_expr(tier_rule_set::Column::EndDate, Expr::value(Some(start)))
                    .filter(tier_rule_set::Column::RuleSetId.eq(series))
                    .filter(tier_rule_set::Column::Version.eq(latest.version))
                    .exec(&txn)
                    .await?;
            }
            Some(e) if e > start => {
                return Err(overlap(format!(
                    "version {} of {series} is in force until {e}",
                    latest.version
                )));
            }
            Some(_) => {}
        }
    }
    let version = existing.iter().map(|e| e.version).max().unwrap_or(0) + 1;
    let row = tier_rule_set::ActiveModel {
        rule_set_id: Set(series.to_owned()),
        version: Set(version),
        scheme: Set(scheme.code().to_owned()),
        rules: Set(encoded),
        start_date: Set(start),
        end_date: Set(end),
        created_by: Set(caller.subject.clone()),
        reason: Set(reason.clone()),
        create_time: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if matches!(
            e.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ) {
            RegistryError::StaleVersion {
                kind: "rule series",
                id: series.to_owned(),
                expected: version - 1,
                actual: version,
            }
        } else {
            RegistryError::Db(e)
        }
    })?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "tier.rule_set.create".to_owned(),
            target_type: RULE_KIND.to_owned(),
            target_id: series.to_owned(),
            before: format!("versions={}", existing.len()),
            after: format!(
                "version={version} from={start}{}",
                end.map(|e| format!(" to={e}")).unwrap_or_default()
            ),
            reason,
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v1::CreateTierRuleSetResponse {
        rule_set: Some(to_proto(&row)?),
    })
}

/// `ListTierRuleSets`: newest version first (then by series), optionally of one scheme.
pub async fn list(
    customers: &Customers,
    request: v1::ListTierRuleSetsRequest,
) -> Result<v1::ListTierRuleSetsResponse> {
    let mut v = Violations::new();
    let scheme = scheme_filter(request.scheme, "scheme", &mut v);
    let page = PageRequest::parse(
        request.page_size,
        &request.page_token,
        &format!("tier-rules|{scheme:?}"),
        &mut v,
    );
    let after = page.after.as_deref().map(|a| {
        a.split_once('|')
            .and_then(|(ver, id)| Some((ver.parse::<i64>().ok()?, id.to_owned())))
    });
    if matches!(after, Some(None)) {
        v.add("page_token", "is not a token this service issued");
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    use tier_rule_set::Column as C;
    let mut query = tier_rule_set::Entity::find();
    if let Some(s) = scheme {
        query = query.filter(C::RuleSetId.eq(s.series()));
    }
    if let Some(Some((version, id))) = after {
        query = query.filter(
            Condition::any().add(C::Version.lt(version)).add(
                Condition::all()
                    .add(C::Version.eq(version))
                    .add(C::RuleSetId.gt(id)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(C::Version)
        .order_by_asc(C::RuleSetId)
        .limit(page.fetch_limit())
        .all(&customers.db)
        .await?;
    let next_page_token = page.finish(&mut rows, |r| format!("{}|{}", r.version, r.rule_set_id));
    Ok(v1::ListTierRuleSetsResponse {
        rule_sets: rows.iter().map(to_proto).collect::<Result<_>>()?,
        next_page_token,
    })
}
