//! The customer 360: one answer with the (masked) profile, current ownership, the latest value
//! results (five-dimension score, trailing-twelve-month contribution, GE class, dormancy, RFM),
//! the latest holdings summary, relationship counts and a `data_version`. The data version is derived, not
//! maintained: the highest outbox sequence of any event about the customer plus the branch tree
//! version, so every write that emits a customer event (profile, links, stage, holdings, scores,
//! ownership, merges) or moves a branch makes it grow, with no writer having to remember to bump
//! it. Everything caller-independent (holdings summary, relationship counts, the latest value
//! results) is cached under a key that includes the data version and the day, so a write can never
//! leave a stale 360 behind; the tree version comes with the memoised branch tree; the profile comes from the customer cache and is masked per caller
//! after the cache.

use std::collections::BTreeMap;
use std::time::Duration;

use bankmkt_domain::access::may_read_customer;
use bankmkt_domain::calendar::Period;
use bankmkt_domain::money::{Currency, Money};
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use bankmkt_platform::cache::CacheKey;
use bankmkt_platform::outbox;
use bankmkt_proto::v1;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};

use crate::customers::Customers;
use crate::error::{RegistryError, Result};
use crate::ingest::entity::holding;

/// How long cached aggregates live (a new data version misses anyway).
const CACHE_TTL: Duration = Duration::from_secs(600);
/// Months of deposits and wealth averaged into AUM (DOMAIN.md §2).
const AUM_BASIS_MONTHS: u32 = 3;

/// The cached, caller-independent part of a 360.
#[derive(Clone, PartialEq, prost::Message)]
struct Aggregates {
    #[prost(message, optional, tag = "1")]
    holdings: Option<v1::HoldingsSummary>,
    #[prost(message, repeated, tag = "2")]
    relationship_counts: Vec<v1::RelationshipCount>,
    #[prost(message, optional, tag = "3")]
    latest_value: Option<v1::ValueScore>,
    #[prost(message, optional, tag = "4")]
    ttm_contribution: Option<v1::Contribution>,
    #[prost(message, optional, tag = "5")]
    ge_classification: Option<v1::GeClassification>,
    #[prost(message, optional, tag = "6")]
    dormancy: Option<v1::DormancyScore>,
    #[prost(message, optional, tag = "7")]
    rfm: Option<v1::RfmScore>,
}

impl Aggregates {
    /// Reads every caller-independent part from the database.
    async fn load<C: ConnectionTrait>(db: &C, id: &str, today: NaiveDate) -> Result<Self> {
        use crate::value::compute::kind;
        use crate::value::results::{contribution_for, latest};
        Ok(Self {
            holdings: holdings_summary(db, id).await?,
            relationship_counts: crate::relationships::relationship_counts(db, id, today).await?,
            latest_value: latest(db, kind::VALUE_SCORE, id).await?,
            ttm_contribution: contribution_for(
                db,
                id,
                None,
                v1::ContributionWindow::TrailingTwelveMonths,
            )
            .await?,
            ge_classification: latest(db, kind::GE_CLASS, id).await?,
            dormancy: latest(db, kind::DORMANCY, id).await?,
            rfm: latest(db, kind::RFM, id).await?,
        })
    }
}

/// The data version of a customer's 360 (see the module docs).
pub async fn data_version<C: ConnectionTrait>(db: &C, customer_id: &str) -> Result<i64> {
    let tree_version = crate::org::branches::tree_version(db).await?;
    Ok(latest_customer_event(db, customer_id).await? + tree_version)
}

/// The highest outbox sequence of any event about the customer (0 when none).
async fn latest_customer_event<C: ConnectionTrait>(db: &C, customer_id: &str) -> Result<i64> {
    let latest = outbox::entity::Entity::find()
        .filter(outbox::entity::Column::AggregateType.eq("customer"))
        .filter(outbox::entity::Column::AggregateId.eq(customer_id))
        .order_by_desc(outbox::entity::Column::Seq)
        .one(db)
        .await?
        .map_or(0, |e| e.seq);
    Ok(latest)
}

fn money(minor_units: i64) -> Option<v1::Money> {
    Some(v1::Money {
        currency: "CNY".to_owned(),
        minor_units,
    })
}

/// The latest month's holdings summary, with AUM over the basis months.
async fn holdings_summary<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
) -> Result<Option<v1::HoldingsSummary>> {
    let Some(latest) = holding::Entity::find()
        .filter(holding::Column::CustomerId.eq(customer_id))
        .order_by_desc(holding::Column::PeriodYear)
        .order_by_desc(holding::Column::PeriodMonth)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let period = Period::new(latest.period_year, latest.period_month as u32)
        .map_err(|e| RegistryError::Internal(e.to_string()))?;
    let mut first = period;
    for _ in 1..AUM_BASIS_MONTHS {
        first = first.prev().unwrap_or(first);
    }
    let rows = holding::Entity::find()
        .filter(holding::Column::CustomerId.eq(customer_id))
        .filter(
            sea_orm::Condition::any()
                .add(holding::Column::PeriodYear.gt(first.year()))
                .add(
                    sea_orm::Condition::all()
                        .add(holding::Column::PeriodYear.eq(first.year()))
                        .add(holding::Column::PeriodMonth.gte(first.month() as i32)),
                ),
        )
        .limit(10_000)
        .all(db)
        .await?;
    let mut monthly_aum: BTreeMap<Period, i64> = BTreeMap::new();
    let mut categories: BTreeMap<(String, String), v1::CategoryHolding> = BTreeMap::new();
    let mut summary = v1::HoldingsSummary {
        period: Some(v1::Period {
            year: period.year(),
            month: period.month() as i32,
        }),
        ..Default::default()
    };
    let (mut liability, mut asset, mut fees) = (0i64, 0i64, 0i64);
    let mut products = std::collections::BTreeSet::new();
    for h in &rows {
        let month = Period::new(h.period_year, h.period_month as u32)
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
        if h.product_category == "deposit" || h.product_category == "wealth" {
            *monthly_aum.entry(month).or_insert(0) += h.average_daily_balance;
        }
        if month != period {
            continue;
        }
        match h.product_kind.as_str() {
            "liability" => liability += h.average_daily_balance,
            "asset" => asset += h.average_daily_balance,
            _ => {}
        }
        fees += h.fee_income;
        products.insert(h.product_id.clone());
        let entry = categories
            .entry((h.product_category.clone(), h.product_kind.clone()))
            .or_insert_with(|| v1::CategoryHolding {
                category: v1::ProductCategory::from_str_name(&format!(
                    "PRODUCT_CATEGORY_{}",
                    h.product_category.to_ascii_uppercase()
                ))
                .map_or(0, |c| c as i32),
                product_kind: v1::ProductKind::from_str_name(&format!(
                    "PRODUCT_KIND_{}",
                    h.product_kind.to_ascii_uppercase()
                ))
                .map_or(0, |k| k as i32),
                period_end_balance: money(0),
                average_daily_balance: money(0),
                fee_income: money(0),
                account_count: 0,
            });
        entry.account_count += 1;
        for (slot, add) in [
            (&mut entry.period_end_balance, h.period_end_balance),
            (&mut entry.average_daily_balance, h.average_daily_balance),
            (&mut entry.fee_income, h.fee_income),
        ] {
            if let Some(m) = slot.as_mut() {
                m.minor_units += add;
            }
        }
    }
    let monthly: Vec<(Period, Money)> = monthly_aum
        .into_iter()
        .map(|(p, v)| (p, Money::from_minor(Currency::CNY, v)))
        .collect();
    let aum =
        bankmkt_domain::tiers::wealth_basis(period, &monthly, AUM_BASIS_MONTHS, Currency::CNY)
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
    summary.liability_balance = money(liability);
    summary.asset_balance = money(asset);
    summary.fee_income = money(fees);
    summary.aum = money(aum.minor_units());
    summary.product_count = products.len() as i32;
    summary.categories = categories.into_values().collect();
    Ok(Some(summary))
}

impl Customers {
    /// Whether an access grant lets the caller read the customer.
    pub async fn granted(&self, caller: &Caller, customer_id: &str) -> Result<bool> {
        crate::grants::is_granted(&self.db, &caller.subject, customer_id).await
    }

    /// `GetCustomer360`.
    pub async fn get_360(
        &self,
        caller: &Caller,
        request: v1::GetCustomer360Request,
    ) -> Result<v1::GetCustomer360Response> {
        if request.customer_id.is_empty() || request.customer_id.len() > 36 {
            return Err(RegistryError::invalid(
                "customer_id",
                "must be 1 to 36 characters",
            ));
        }
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: request.customer_id.clone(),
        };
        let stored = self
            .stored(&request.customer_id)
            .await?
            .ok_or_else(not_found)?;
        let (tree, tree_version) = self.trees.current(&self.db, self.clock.today()).await?;
        let tree = tree.ok_or_else(not_found)?;
        let owning = BranchCode::parse(&stored.customer.owning_branch_id)
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
        let granted =
            !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false)
                && self.granted(caller, &request.customer_id).await?;
        if !may_read_customer(
            &caller.roles,
            caller.branch.as_ref(),
            &owning,
            &tree,
            granted,
        ) {
            return Err(not_found());
        }
        let customer = self.view_unchecked(caller, &stored)?;
        let version = latest_customer_event(&self.db, &request.customer_id).await? + tree_version;
        let today = self.clock.today();
        let key = CacheKey::new(
            "customer360",
            2,
            &format!("{}@{version}@{today}", request.customer_id),
        );
        let db = self.db.clone();
        let id = request.customer_id.clone();
        let bytes = self
            .cache
            .get_or_load(&key, CACHE_TTL, || async move {
                let aggregates = Aggregates::load(&db, &id, today).await?;
                Ok::<_, RegistryError>(Some(aggregates.encode_to_vec()))
            })
            .await?
            .unwrap_or_default();
        let aggregates = Aggregates::decode(bytes.as_slice())
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
        let c = &stored.customer;
        Ok(v1::GetCustomer360Response {
            latest_value: aggregates.latest_value,
            ttm_contribution: aggregates.ttm_contribution,
            ge_classification: aggregates.ge_classification,
            dormancy: aggregates.dormancy,
            rfm: aggregates.rfm,
            ownership: Some(v1::Ownership {
                customer_id: c.customer_id.clone(),
                owning_branch_id: c.owning_branch_id.clone(),
                primary_manager_id: c.primary_manager_id.clone(),
                backup_manager_id: c.backup_manager_id.clone(),
                ..Default::default()
            }),
            customer: Some(customer),
            holdings: aggregates.holdings,
            relationship_counts: aggregates.relationship_counts,
            data_version: version,
        })
    }
}
