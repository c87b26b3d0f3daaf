//! The maker step of tiering (`EvaluateTiers`): evaluates the corporate or the wealth tier of one
//! customer or of every active customer of a subtree (organisations for the corporate scheme,
//! individuals for the wealth scheme) under the rule version in force on the evaluation day, and
//! stores the result as a pending change list — upgrades, downgrades, entries and exits with the
//! domain's reasons, each change remembering the customer's tier and version at evaluation.
//! Nothing changes on the customers until a checker approves ([`super::changes`]).
//!
//! Inputs, for the month evaluated (the latest complete month by default):
//! - corporate: the latest five-dimension score whose window ends in or before the month (total
//!   and dimension scores), the trailing-twelve-month after-risk contribution ending with the
//!   month, and from the organisation details the annual revenue, credit rating and cross-region
//!   flag; a missing fact fails its condition;
//! - wealth: the average daily balances of the rule's AUM categories (deposits and wealth
//!   products by default) per month over the basis months ending with the month, weighted by
//!   days (`bankmkt_domain::tiers::wealth_basis`); a month without holdings counts as zero.

use std::collections::{BTreeMap, HashMap};

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::calendar::Period;
use bankmkt_domain::customer::{CorporateTier, CustomerKind, WealthTier};
use bankmkt_domain::ids::CustomerId;
use bankmkt_domain::money::{Currency, Money};
use bankmkt_domain::org::{BranchCode, Role};
use bankmkt_domain::ownership::ApprovalStatus;
use bankmkt_domain::tiers::{
    ChangeCounts, CorporateFacts, CreditRating, TierChange, change_list, wealth_basis,
    wealth_outcome,
};
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, TransactionTrait};

use super::changes::{find_list, list_to_proto};
use super::entity::{tier_change, tier_change_list};
use super::rules::{self, LoadedRules, WealthRules};
use super::{Scheme, idempotency_key_in, internal};
use crate::convert::branch_code;
use crate::customers::Customers;
use crate::customers::entity::customer;
use crate::error::{RegistryError, Result};
use crate::ingest::entity::holding;
use crate::org::branches::tree_as_of;
use crate::org::require_role;
use crate::value::compute::kind;
use crate::value::entity::value_result;
use crate::value::results::contribution_for;
use crate::value::wire;

/// Roles that may evaluate tiers (the maker).
const MAKER_ROLES: [Role; 4] = [
    Role::BranchHead,
    Role::Admin,
    Role::PerformanceOffice,
    Role::Batch,
];
/// Ids per `IN (...)` list.
pub(crate) const CHUNK: usize = 500;

/// The condition `first ≤ (year, month) ≤ last` on the holding columns.
pub(crate) fn holding_months(first: Period, last: Period) -> Condition {
    use holding::Column as H;
    let from = Condition::any().add(H::PeriodYear.gt(first.year())).add(
        Condition::all()
            .add(H::PeriodYear.eq(first.year()))
            .add(H::PeriodMonth.gte(first.month() as i32)),
    );
    let to = Condition::any().add(H::PeriodYear.lt(last.year())).add(
        Condition::all()
            .add(H::PeriodYear.eq(last.year()))
            .add(H::PeriodMonth.lte(last.month() as i32)),
    );
    Condition::all().add(from).add(to)
}

/// The first month of `months` months ending with `last`.
pub(crate) fn first_month(last: Period, months: u32) -> Period {
    let mut first = last;
    for _ in 1..months {
        first = first.prev().unwrap_or(first);
    }
    first
}

/// Each customer's monthly AUM (the sum of average daily balances of `categories`) over the
/// `months` months ending with `last`, in fen.
pub(crate) async fn monthly_aum<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
    last: Period,
    months: u32,
    categories: &[String],
) -> Result<HashMap<String, BTreeMap<Period, i64>>> {
    let first = first_month(last, months);
    let mut out: HashMap<String, BTreeMap<Period, i64>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        for h in holding::Entity::find()
            .filter(holding::Column::CustomerId.is_in(chunk.to_vec()))
            .filter(holding::Column::ProductCategory.is_in(categories.to_vec()))
            .filter(holding_months(first, last))
            .all(db)
            .await?
        {
            let period = Period::new(h.period_year, h.period_month as u32).map_err(internal)?;
            let slot = out
                .entry(h.customer_id)
                .or_default()
                .entry(period)
                .or_insert(0);
            *slot = slot.saturating_add(h.average_daily_balance);
        }
    }
    Ok(out)
}

/// The basis AUM of one customer from its monthly figures.
pub(crate) fn basis_of(
    customer_id: &str,
    months: Option<&BTreeMap<Period, i64>>,
    last: Period,
    basis_months: u32,
) -> Result<Money> {
    let monthly: Vec<(Period, Money)> = months
        .map(|m| {
            m.iter()
                .map(|(p, fen)| (*p, Money::from_minor(Currency::CNY, *fen)))
                .collect()
        })
        .unwrap_or_default();
    wealth_basis(last, &monthly, basis_months, Currency::CNY).map_err(|e| {
        RegistryError::FailedPrecondition {
            kind: "TIER_INPUT",
            subject: customer_id.to_owned(),
            message: format!("customer {customer_id}: {e}"),
        }
    })
}

/// The latest five-dimension score of a customer whose window ends in or before `period`.
pub(crate) async fn value_score_as_of<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    period: Period,
) -> Result<Option<v1::ValueScore>> {
    use value_result::Column as R;
    let row = value_result::Entity::find()
        .filter(R::Kind.eq(kind::VALUE_SCORE))
        .filter(R::CustomerId.eq(customer_id))
        .filter(R::Current.eq(true))
        .filter(R::PeriodKey.lte(wire::period_key(period)))
        .order_by_desc(R::PeriodKey)
        .order_by_desc(R::Seq)
        .one(db)
        .await?;
    match row {
        Some(r) => v1::ValueScore::decode(r.payload.as_slice())
            .map(Some)
            .map_err(internal),
        None => Ok(None),
    }
}

/// The trailing-twelve-month after-risk contribution ending with `period`, in CNY.
pub(crate) async fn ttm_contribution<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    period: Period,
) -> Result<Option<Money>> {
    let c = contribution_for(
        db,
        customer_id,
        Some(period),
        v1::ContributionWindow::TrailingTwelveMonths,
    )
    .await?;
    Ok(c.and_then(|c| c.after_risk)
        .map(|m| Money::from_minor(Currency::CNY, m.minor_units)))
}

/// A credit rating as written in the organisation details, e.g. `AA+` or `bbb-`.
fn credit_rating(raw: &str) -> Option<CreditRating> {
    let t = raw.trim();
    let (base, notch) = if let Some(b) = t.strip_suffix('+') {
        (b, "_plus")
    } else if let Some(b) = t.strip_suffix('-') {
        (b, "_minus")
    } else {
        (t, "")
    };
    format!("{}{notch}", base.to_ascii_lowercase()).parse().ok()
}

/// What is known of an organisation for its corporate tier.
async fn corporate_facts<C: ConnectionTrait>(
    db: &C,
    c: &customer::Model,
    period: Period,
) -> Result<CorporateFacts> {
    let details = v1::OrganisationDetails::decode(c.details.as_slice()).map_err(internal)?;
    let mut facts = CorporateFacts {
        credit_rating: credit_rating(&details.credit_rating),
        annual_revenue: details
            .annual_revenue
            .as_ref()
            .filter(|m| m.currency == "CNY")
            .map(|m| Money::from_minor(Currency::CNY, m.minor_units)),
        cross_region: details.cross_region,
        ttm_contribution: ttm_contribution(db, &c.customer_id, period).await?,
        ..CorporateFacts::default()
    };
    if let Some(score) = value_score_as_of(db, &c.customer_id, period).await? {
        facts.value_score = score
            .total
            .as_ref()
            .and_then(|d| wire::parse_decimal(&d.value));
        for d in &score.dimensions {
            if let (Some(dim), Some(s)) = (
                wire::dimension_from_proto(d.dimension),
                d.score.as_ref().and_then(|s| wire::parse_decimal(&s.value)),
            ) {
                facts.dimension_scores.insert(dim, s);
            }
        }
    }
    Ok(facts)
}

fn parse_tier<T: std::str::FromStr>(what: &str, raw: Option<&str>) -> Result<Option<T>> {
    raw.map(|t| {
        t.parse::<T>()
            .map_err(|_| internal(format!("stored {what} {t:?}")))
    })
    .transpose()
}

/// One change with the customer it is about.
type Proposed<'a> = TierChange<&'a customer::Model, &'static str>;

/// The corporate changes of `rows`.
async fn corporate_changes<'a, C: ConnectionTrait>(
    db: &C,
    rules: &bankmkt_domain::tiers::CorporateTierRules,
    rows: &'a [customer::Model],
    period: Period,
) -> Result<Vec<Proposed<'a>>> {
    let mut outcomes = Vec::with_capacity(rows.len());
    for c in rows {
        let facts = corporate_facts(db, c, period).await?;
        let current = parse_tier::<CorporateTier>("corporate tier", c.corporate_tier.as_deref())?;
        let outcome = rules.outcome(&facts, current).map_err(internal)?;
        outcomes.push((c, outcome));
    }
    Ok(change_list(outcomes)
        .into_iter()
        .map(|ch| TierChange {
            key: ch.key,
            kind: ch.kind,
            from: ch.from.map(CorporateTier::as_str),
            to: ch.to.map(CorporateTier::as_str),
            reason: ch.reason,
        })
        .collect())
}

/// The wealth changes of `rows`.
async fn wealth_changes<'a, C: ConnectionTrait>(
    db: &C,
    rules: &WealthRules,
    rows: &'a [customer::Model],
    period: Period,
) -> Result<Vec<Proposed<'a>>> {
    let ids: Vec<String> = rows.iter().map(|c| c.customer_id.clone()).collect();
    let monthly = monthly_aum(db, &ids, period, rules.basis_months, &rules.categories).await?;
    let mut outcomes = Vec::with_capacity(rows.len());
    for c in rows {
        let basis = basis_of(
            &c.customer_id,
            monthly.get(&c.customer_id),
            period,
            rules.basis_months,
        )?;
        let current = parse_tier::<WealthTier>("wealth tier", c.wealth_tier.as_deref())?;
        let outcome = wealth_outcome(&rules.thresholds, basis, rules.basis_months, current)
            .map_err(internal)?;
        outcomes.push((c, outcome));
    }
    Ok(change_list(outcomes)
        .into_iter()
        .map(|ch| TierChange {
            key: ch.key,
            kind: ch.kind,
            from: ch.from.map(WealthTier::as_str),
            to: ch.to.map(WealthTier::as_str),
            reason: ch.reason,
        })
        .collect())
}

/// Whether a customer of `kind` is evaluated under `scheme`.
fn fits(scheme: Scheme, kind: &str) -> bool {
    (kind == CustomerKind::Individual.as_str()) == (scheme == Scheme::Wealth)
}

/// `EvaluateTiers`.
pub async fn evaluate(
    customers: &Customers,
    caller: &Caller,
    request_id: &str,
    request: v1::EvaluateTiersRequest,
) -> Result<v1::EvaluateTiersResponse> {
    require_role(caller, &MAKER_ROLES, "EvaluateTiers")?;
    let today = customers.clock.today();
    let mut v = Violations::new();
    idempotency_key_in(&request.idempotency_key, &mut v);
    let scheme = Scheme::from_proto(request.scheme);
    if scheme.is_none() {
        v.add("scheme", "must be CORPORATE or WEALTH");
    }
    let by_branch = !request.branch_id.is_empty();
    let by_customer = !request.customer_id.is_empty();
    if by_branch == by_customer {
        v.add(
            "branch_id",
            "exactly one of branch_id and customer_id must be given",
        );
    }
    let root = if by_branch {
        branch_code("branch_id", &request.branch_id, &mut v)
    } else {
        None
    };
    if by_customer && CustomerId::parse(&request.customer_id).is_err() {
        v.add("customer_id", "must be a customer id (a UUID)");
    }
    let period = match &request.period {
        None => Some(
            Period::containing(today)
                .prev()
                .unwrap_or(Period::containing(today)),
        ),
        Some(p) => wire::period_in("period", p, today, &mut v),
    };
    let reason = wire::reason_in(&request.reason, &mut v);
    let (Some(scheme), Some(period)) = (scheme, period) else {
        return Err(v.into());
    };
    if !v.is_empty() {
        return Err(v.into());
    }

    let db = &customers.db;
    let scope_key = format!("CustomerRegistry/EvaluateTiers/{}", caller.subject);
    let hash = idempotency::request_hash(&request.encode_to_vec());
    if let Some(done) = replayed(customers, &scope_key, &request.idempotency_key, &hash).await? {
        return Ok(done);
    }
    let tree = tree_as_of(db, today)
        .await?
        .ok_or_else(|| RegistryError::FailedPrecondition {
            kind: "BRANCH_TREE",
            subject: "tree".to_owned(),
            message: "no branch tree has been loaded yet".to_owned(),
        })?;
    let visible =
        |b: &BranchCode| may_read_customer(&caller.roles, caller.branch.as_ref(), b, &tree, false);
    let (scope, rows): (BranchCode, Vec<customer::Model>) = if let Some(root) = root {
        if !tree.contains(&root) || !visible(&root) {
            return Err(RegistryError::NotFound {
                kind: "branch",
                id: root.to_string(),
            });
        }
        let subtree: Vec<String> = tree
            .subtree(&root)
            .map_err(internal)?
            .into_iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        let kind_filter = if scheme == Scheme::Wealth {
            customer::Column::Kind.eq(CustomerKind::Individual.as_str())
        } else {
            customer::Column::Kind.ne(CustomerKind::Individual.as_str())
        };
        let rows = customer::Entity::find()
            .filter(customer::Column::OwningBranchId.is_in(subtree))
            .filter(customer::Column::Status.eq("active"))
            .filter(kind_filter)
            .order_by_asc(customer::Column::CustomerId)
            .all(db)
            .await?;
        (root, rows)
    } else {
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: request.customer_id.clone(),
        };
        let row = customer::Entity::find_by_id(request.customer_id.clone())
            .one(db)
            .await?
            .ok_or_else(not_found)?;
        let owning = BranchCode::parse(&row.owning_branch_id).map_err(internal)?;
        if !visible(&owning) {
            return Err(not_found());
        }
        if row.status != "active" {
            return Err(RegistryError::FailedPrecondition {
                kind: "CUSTOMER_STATUS",
                subject: row.customer_id.clone(),
                message: "a merged record is not tiered; evaluate the survivor".to_owned(),
            });
        }
        if !fits(scheme, &row.kind) {
            return Err(RegistryError::invalid(
                "customer_id",
                if scheme == Scheme::Wealth {
                    "the WEALTH scheme evaluates individuals; this customer is an organisation"
                } else {
                    "the CORPORATE scheme evaluates organisations; this customer is an individual"
                },
            ));
        }
        (owning, vec![row])
    };
    let rule_row = rules::in_force(db, scheme, today).await?.ok_or_else(|| {
        RegistryError::FailedPrecondition {
            kind: "TIER_RULES",
            subject: scheme.series().to_owned(),
            message: format!("no {} tier rule set is in force on {today}", scheme.code()),
        }
    })?;
    let changes = match rules::decode(&rule_row)? {
        LoadedRules::Corporate(r) => corporate_changes(db, &r, &rows, period).await?,
        LoadedRules::Wealth(r) => wealth_changes(db, &r, &rows, period).await?,
    };
    let counts = ChangeCounts::of(&changes);

    let now = wire::now_micros(&customers.clock);
    let change_list_id = Uuid::now_v7().to_string();
    let txn = db.begin().await?;
    match idempotency::check(&txn, &scope_key, &request.idempotency_key, &hash).await? {
        Outcome::Fresh => {}
        _ => {
            // A concurrent retry stored it first.
            drop(txn);
            return replayed(customers, &scope_key, &request.idempotency_key, &hash)
                .await?
                .ok_or_else(|| internal("idempotency record vanished"));
        }
    }
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    tier_change_list::ActiveModel {
        change_list_id: Set(change_list_id.clone()),
        scheme: Set(scheme.code().to_owned()),
        branch_id: Set(if by_branch {
            scope.as_str().to_owned()
        } else {
            String::new()
        }),
        customer_id: Set(if by_customer {
            request.customer_id.clone()
        } else {
            String::new()
        }),
        scope_branch_id: Set(scope.as_str().to_owned()),
        period_key: Set(wire::period_key(period)),
        evaluated_count: Set(count(rows.len())),
        upgrade_count: Set(count(counts.upgrades)),
        downgrade_count: Set(count(counts.downgrades)),
        entry_count: Set(count(counts.entries)),
        exit_count: Set(count(counts.exits)),
        rule_set_id: Set(rule_row.rule_set_id.clone()),
        rule_version: Set(rule_row.version),
        status: Set(ApprovalStatus::Pending.as_str().to_owned()),
        maker: Set(caller.subject.clone()),
        submit_time: Set(now),
        submit_reason: Set(reason.clone()),
        checker: Set(None),
        decide_time: Set(None),
        decide_reason: Set(String::new()),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let items: Vec<tier_change::ActiveModel> = changes
        .iter()
        .map(|ch| tier_change::ActiveModel {
            change_list_id: Set(change_list_id.clone()),
            customer_id: Set(ch.key.customer_id.clone()),
            customer_name: Set(ch.key.name.clone()),
            kind: Set(ch.kind.as_str().to_owned()),
            from_tier: Set(ch.from.map(str::to_owned)),
            to_tier: Set(ch.to.map(str::to_owned)),
            reason: Set(ch.reason.clone()),
            customer_version: Set(ch.key.version),
            ..Default::default()
        })
        .collect();
    for chunk in items.chunks(CHUNK) {
        tier_change::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: "tier.evaluate".to_owned(),
            target_type: "tier_change_list".to_owned(),
            target_id: change_list_id.clone(),
            before: String::new(),
            after: format!(
                "scheme={} scope={scope} period={period} rules={}@{} evaluated={} upgrades={} \
                 downgrades={} entries={} exits={}",
                scheme.code(),
                rule_row.rule_set_id,
                rule_row.version,
                rows.len(),
                counts.upgrades,
                counts.downgrades,
                counts.entries,
                counts.exits
            ),
            reason,
            request_id: request_id.to_owned(),
        },
        now,
    )
    .await?;
    let remembered = v1::EvaluateTiersResponse {
        change_list: Some(v1::TierChangeList {
            change_list_id: change_list_id.clone(),
            ..Default::default()
        }),
    };
    idempotency::remember(
        &txn,
        &scope_key,
        &request.idempotency_key,
        &hash,
        remembered.encode_to_vec(),
        now,
    )
    .await?;
    txn.commit().await?;
    let row = find_list(db, &change_list_id).await?;
    Ok(v1::EvaluateTiersResponse {
        change_list: Some(list_to_proto(&row)?),
    })
}

/// The stored answer of a retried evaluation; `None` for a fresh key.
async fn replayed(
    customers: &Customers,
    scope: &str,
    key: &str,
    hash: &str,
) -> Result<Option<v1::EvaluateTiersResponse>> {
    match idempotency::check(&customers.db, scope, key, hash).await? {
        Outcome::Fresh => Ok(None),
        Outcome::Conflict => Err(RegistryError::invalid(
            "idempotency_key",
            "was already used with a different request",
        )),
        Outcome::Replay(bytes) => {
            let stored = v1::EvaluateTiersResponse::decode(bytes.as_slice()).map_err(internal)?;
            let id = stored
                .change_list
                .map(|l| l.change_list_id)
                .unwrap_or_default();
            let row = find_list(&customers.db, &id).await?;
            Ok(Some(v1::EvaluateTiersResponse {
                change_list: Some(list_to_proto(&row)?),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_ratings_parse_as_written() {
        assert_eq!(credit_rating("AA+"), Some(CreditRating::AaPlus));
        assert_eq!(credit_rating(" bbb- "), Some(CreditRating::BbbMinus));
        assert_eq!(credit_rating("A"), Some(CreditRating::A));
        assert_eq!(credit_rating(""), None);
        assert_eq!(credit_rating("Z"), None);
    }

    #[test]
    fn schemes_fit_kinds() {
        assert!(fits(Scheme::Wealth, "individual"));
        assert!(!fits(Scheme::Wealth, "corporate"));
        assert!(fits(Scheme::Corporate, "small_business"));
        assert!(!fits(Scheme::Corporate, "individual"));
    }
}
