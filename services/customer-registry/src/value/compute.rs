//! The per-customer computations of a re-scoring run, each in one transaction that stores the
//! results (with their month and rule versions), appends a `customer.value_changed` outbox
//! event, drains the customer's `rescoring_queue` entry (only if it was queued before the
//! computation read the data), and is followed by dropping the customer's cache entry.
//!
//! - Monthly: the comprehensive contribution of the month from the `holding` snapshots (own, and
//!   for an organisation the linked-retail line over the holdings of the individuals linked to
//!   it as executives or employees on the month's last day), then dormancy as of the month's
//!   last day from the transaction dates (single transactions; for customers whose source sends
//!   only monthly summaries, each month's last transaction date), then RFM and lifetime value
//!   (monetary = after-risk contribution over the look-back; CLV = a flat projection of the
//!   trailing twelve months: revenue = margin + fees, product cost = operating cost + expected
//!   loss + capital charge, plus the configured retention cost, discounted yearly).
//! - Quarterly: the five-dimension value score and the GE class for the window ending with the
//!   month, from the window's stored monthly contributions (a month not yet computed is computed
//!   on the fly, not stored), holdings, transactions, relationships and the credit rating
//!   (data factors, `bankmkt_domain::scoring`), then the newest assessment in the window, then
//!   the configured default.
//!
//! The math is `bankmkt_domain`'s; this module only gathers inputs and stores outputs.

use std::collections::{BTreeMap, BTreeSet};

use bankmkt_domain::calendar::Period;
use bankmkt_domain::contribution::{
    ContributionConfig, ContributionStatement, CreditFacility, HoldingSnapshot,
    MonthlyContribution, ProductKind, monthly_contribution, trailing_twelve_months,
    window_contribution,
};
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::dormancy::{DormancyGrade, dormancy_from_dates};
use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::relationship::RelationshipType;
use bankmkt_domain::rfm::{ClvYear, lifetime_value};
use bankmkt_domain::scoring::{
    DataFactorInputs, Decimal, data_grades, ge_score_from_grade, is_data_factor,
};
use bankmkt_platform::outbox::{self, Envelope};
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Condition, DatabaseTransaction, QueryOrder, TransactionTrait};

use super::assessments::{self, Scheme};
use super::entity::value_result;
use super::rules::{MonthlyRules, QuarterlyRules};
use super::wire::{self, dec_out, fen_out, internal, money_out};
use crate::customers::entity::customer;
use crate::customers::{Customers, cache_key};
use crate::error::{RegistryError, Result};
use crate::ingest::entity::{customer_transaction, holding, rescoring_queue, transaction_month};
use crate::relationships::customer_relationship;

/// The outbox event of a changed value result.
pub const VALUE_CHANGED: &str = "customer.value_changed";

/// Result kinds of `value_result`.
pub mod kind {
    /// A month's comprehensive contribution.
    pub const CONTRIBUTION: &str = "contribution";
    /// A month's dormancy score.
    pub const DORMANCY: &str = "dormancy";
    /// A month's RFM scores and lifetime value.
    pub const RFM: &str = "rfm";
    /// A window's five-dimension value score.
    pub const VALUE_SCORE: &str = "value_score";
    /// A window's GE class.
    pub const GE_CLASS: &str = "ge_class";
}

/// What became of one customer.
pub type Outcome = std::result::Result<(), String>;

fn cny(fen: i64) -> Money {
    Money::from_minor(Currency::CNY, fen)
}

/// A stored result to write.
struct NewResult<'a> {
    kind: &'static str,
    customer_id: &'a str,
    period: Period,
    refs: &'a [v1::RuleVersionRef],
    grade_rank: i32,
    sort_key: i64,
    amount: i64,
    payload: Vec<u8>,
    at: DateTime<Utc>,
    job_id: &'a str,
}

/// Stores a result: replaces the row of the same kind, customer, month and rule versions, and
/// makes it the current one of its kind, customer and month.
async fn put_result<C: ConnectionTrait>(db: &C, r: NewResult<'_>) -> Result<()> {
    use value_result::Column as R;
    let key = wire::period_key(r.period);
    let rule_key = wire::rule_key(r.refs);
    value_result::Entity::delete_many()
        .filter(R::Kind.eq(r.kind))
        .filter(R::CustomerId.eq(r.customer_id))
        .filter(R::PeriodKey.eq(key))
        .filter(R::RuleKey.eq(rule_key.clone()))
        .exec(db)
        .await?;
    value_result::Entity::update_many()
        .col_expr(R::Current, Expr::value(false))
        .filter(R::Kind.eq(r.kind))
        .filter(R::CustomerId.eq(r.customer_id))
        .filter(R::PeriodKey.eq(key))
        .exec(db)
        .await?;
    value_result::ActiveModel {
        kind: Set(r.kind.to_owned()),
        customer_id: Set(r.customer_id.to_owned()),
        period_key: Set(key),
        rule_key: Set(rule_key),
        current: Set(true),
        grade_rank: Set(r.grade_rank),
        sort_key: Set(r.sort_key),
        amount: Set(r.amount),
        payload: Set(r.payload),
        rule_versions: Set(wire::refs_to_json(r.refs)),
        compute_time: Set(r.at),
        job_id: Set(r.job_id.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The current contribution months of a customer within `first ..= last`, oldest first.
pub async fn current_months<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    first: Period,
    last: Period,
) -> Result<Vec<(value_result::Model, MonthlyContribution)>> {
    use value_result::Column as R;
    let rows = value_result::Entity::find()
        .filter(R::Kind.eq(kind::CONTRIBUTION))
        .filter(R::CustomerId.eq(customer_id))
        .filter(R::Current.eq(true))
        .filter(R::PeriodKey.gte(wire::period_key(first)))
        .filter(R::PeriodKey.lte(wire::period_key(last)))
        .order_by_asc(R::PeriodKey)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            let m: MonthlyContribution = serde_json::from_slice(&row.payload).map_err(internal)?;
            Ok((row, m))
        })
        .collect()
}

fn snapshot(row: &holding::Model) -> Result<HoldingSnapshot> {
    let kind: ProductKind = row.product_kind.parse().map_err(internal)?;
    let facility = (kind == ProductKind::Asset
        && (row.facility_limit > 0 || row.undrawn_amount > 0))
        .then(|| CreditFacility {
            limit: cny(row.facility_limit),
            undrawn: cny(row.undrawn_amount),
        });
    Ok(HoldingSnapshot {
        product_id: row.product_id.clone(),
        kind,
        average_daily_balance: cny(row.average_daily_balance),
        customer_rate: BasisPoints::new(row.customer_rate_bps),
        ftp_rate: BasisPoints::new(row.ftp_rate_bps),
        fee_income: cny(row.fee_income),
        operating_cost: cny(row.operating_cost),
        expected_loss: cny(row.expected_loss),
        economic_capital: cny(row.economic_capital),
        facility,
    })
}

async fn holdings_of<C: ConnectionTrait>(
    db: &C,
    customer_ids: &[String],
    period: Period,
) -> Result<Vec<holding::Model>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(holding::Entity::find()
        .filter(holding::Column::CustomerId.is_in(customer_ids.iter().cloned()))
        .filter(holding::Column::PeriodYear.eq(period.year()))
        .filter(holding::Column::PeriodMonth.eq(period.month() as i32))
        .order_by_asc(holding::Column::CustomerId)
        .order_by_asc(holding::Column::ProductId)
        .order_by_asc(holding::Column::AccountId)
        .all(db)
        .await?)
}

/// Links in force on `date`: `start_date ≤ date < end_date` (open end).
fn link_in_force(date: NaiveDate) -> Condition {
    use customer_relationship::Column as L;
    Condition::all().add(L::StartDate.lte(date)).add(
        Condition::any()
            .add(L::EndDate.is_null())
            .add(L::EndDate.gt(date)),
    )
}

/// The individuals linked to `customer_id` as executives or key employees on `date`.
async fn linked_individuals<C: ConnectionTrait>(
    db: &C,
    customer_id: &str,
    date: NaiveDate,
) -> Result<Vec<String>> {
    use customer_relationship::Column as L;
    let rows = customer_relationship::Entity::find()
        .filter(L::ToCustomerId.eq(customer_id))
        .filter(L::RelationshipType.is_in([
            RelationshipType::ExecutiveOf.as_str(),
            RelationshipType::EmployeeOf.as_str(),
        ]))
        .filter(link_in_force(date))
        .all(db)
        .await?;
    let ids: BTreeSet<String> = rows.into_iter().map(|r| r.from_customer_id).collect();
    Ok(ids.into_iter().collect())
}

/// Relationships of `customer_id` in force on `date`, either direction.
async fn link_count<C: ConnectionTrait>(db: &C, customer_id: &str, date: NaiveDate) -> Result<u64> {
    use customer_relationship::Column as L;
    Ok(customer_relationship::Entity::find()
        .filter(
            Condition::any()
                .add(L::FromCustomerId.eq(customer_id))
                .add(L::ToCustomerId.eq(customer_id)),
        )
        .filter(link_in_force(date))
        .count(db)
        .await?)
}

/// A customer's contribution for `period` from the stored snapshots.
pub async fn month_contribution<C: ConnectionTrait>(
    db: &C,
    customer: &customer::Model,
    period: Period,
    config: &ContributionConfig,
) -> Result<std::result::Result<MonthlyContribution, String>> {
    let own = holdings_of(db, std::slice::from_ref(&customer.customer_id), period).await?;
    let own: Vec<HoldingSnapshot> = own.iter().map(snapshot).collect::<Result<_>>()?;
    let kind: CustomerKind = customer.kind.parse().map_err(internal)?;
    let linked = if kind == CustomerKind::Individual {
        Vec::new()
    } else {
        let people = linked_individuals(db, &customer.customer_id, period.last_day()).await?;
        holdings_of(db, &people, period)
            .await?
            .iter()
            .map(snapshot)
            .collect::<Result<_>>()?
    };
    Ok(monthly_contribution(period, &own, &linked, config).map_err(|e| e.to_string()))
}

/// A customer's transactions: single transactions when the source sends them, else monthly
/// summaries.
struct TxHistory {
    singles: Vec<NaiveDate>,
    months: Vec<transaction_month::Model>,
}

impl TxHistory {
    async fn load<C: ConnectionTrait>(db: &C, customer_id: &str) -> Result<TxHistory> {
        let singles = customer_transaction::Entity::find()
            .filter(customer_transaction::Column::CustomerId.eq(customer_id))
            .all(db)
            .await?
            .into_iter()
            .map(|t| t.transaction_date)
            .collect();
        let months = transaction_month::Entity::find()
            .filter(transaction_month::Column::CustomerId.eq(customer_id))
            .all(db)
            .await?;
        Ok(TxHistory { singles, months })
    }

    fn month_of(m: &transaction_month::Model) -> Option<Period> {
        Period::new(m.period_year, u32::try_from(m.period_month).ok()?).ok()
    }

    /// Transaction dates up to `until`.
    fn dates(&self, until: NaiveDate) -> Vec<NaiveDate> {
        if !self.singles.is_empty() {
            return self
                .singles
                .iter()
                .copied()
                .filter(|d| *d <= until)
                .collect();
        }
        self.months
            .iter()
            .filter(|m| m.transaction_count > 0)
            .filter_map(|m| m.last_transaction_date)
            .filter(|d| *d <= until)
            .collect()
    }

    /// Transactions from `first` to `last`, inclusive.
    fn count(&self, first: NaiveDate, last: NaiveDate) -> u64 {
        if !self.singles.is_empty() {
            return self
                .singles
                .iter()
                .filter(|d| first <= **d && **d <= last)
                .count() as u64;
        }
        let (from, to) = (Period::containing(first), Period::containing(last));
        self.months
            .iter()
            .filter(|m| Self::month_of(m).is_some_and(|p| from <= p && p <= to))
            .map(|m| u64::try_from(m.transaction_count).unwrap_or(0))
            .sum()
    }
}

/// `months` months ending with `last`, as (first, last).
fn span(last: Period, months: u32) -> Period {
    let mut first = last;
    for _ in 1..months {
        match first.prev() {
            Some(p) => first = p,
            None => break,
        }
    }
    first
}

/// The wire form of a contribution statement pair.
pub struct ContributionView<'a> {
    /// The customer.
    pub customer_id: &'a str,
    /// The window kind.
    pub window: v1::ContributionWindow,
    /// First month.
    pub first: Period,
    /// Last month.
    pub last: Period,
    /// Months with data.
    pub months_with_data: u32,
    /// Own statement.
    pub own: &'a ContributionStatement,
    /// Linked retail statement.
    pub linked: &'a ContributionStatement,
    /// Hurdle rate used.
    pub hurdle: BasisPoints,
    /// Draw ratio used.
    pub draw: BasisPoints,
    /// Rule versions used.
    pub refs: Vec<v1::RuleVersionRef>,
    /// When computed.
    pub at: DateTime<Utc>,
}

/// Builds the wire `Contribution`.
pub fn contribution_to_proto(c: ContributionView<'_>) -> v1::Contribution {
    v1::Contribution {
        customer_id: c.customer_id.to_owned(),
        window: c.window as i32,
        months: Some(v1::PeriodRange {
            first: Some(wire::period_out(c.first)),
            last: Some(wire::period_out(c.last)),
        }),
        months_with_data: i32::try_from(c.months_with_data).unwrap_or(i32::MAX),
        margin: money_out(c.own.margin),
        fee_income: money_out(c.own.fee_income),
        operating_cost: money_out(c.own.operating_cost),
        expected_loss: money_out(c.own.expected_loss),
        capital_charge: money_out(c.own.capital_charge),
        before_risk: money_out(c.own.before_risk),
        after_risk: money_out(c.own.after_risk),
        potential: money_out(c.own.potential),
        linked_retail: money_out(c.linked.after_risk),
        items: c
            .own
            .items
            .iter()
            .map(|i| v1::ContributionItem {
                product_id: i.product_id.clone(),
                product_kind: wire::product_kind_to_proto(i.kind) as i32,
                margin: money_out(i.margin),
                fee_income: money_out(i.fee_income),
                operating_cost: money_out(i.operating_cost),
                expected_loss: money_out(i.expected_loss),
                capital_charge: money_out(i.capital_charge),
                after_risk: money_out(i.after_risk),
            })
            .collect(),
        hurdle_rate_bps: c.hurdle.value(),
        draw_ratio_bps: c.draw.value(),
        rule_versions: c.refs,
        compute_time: wire::ts(c.at),
    }
}

/// Finishes a customer's transaction: the outbox event, the queue drain and the commit, then
/// drops the cache entry.
async fn finish(
    customers: &Customers,
    txn: DatabaseTransaction,
    customer: &customer::Model,
    payload: Vec<u8>,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    outbox::append(
        &txn,
        Envelope {
            aggregate_type: "customer".to_owned(),
            aggregate_id: customer.customer_id.clone(),
            aggregate_version: customer.version,
            event_type: VALUE_CHANGED.to_owned(),
            occurred_at: now,
            payload,
        },
    )
    .await?;
    rescoring_queue::Entity::delete_many()
        .filter(rescoring_queue::Column::CustomerId.eq(customer.customer_id.clone()))
        .filter(rescoring_queue::Column::QueuedAt.lte(started))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    customers
        .cache
        .invalidate(&cache_key(&customer.customer_id))
        .await;
    Ok(())
}

async fn active_customer(
    txn: &DatabaseTransaction,
    customer_id: &str,
) -> Result<std::result::Result<customer::Model, String>> {
    Ok(
        match customer::Entity::find_by_id(customer_id.to_owned())
            .one(txn)
            .await?
        {
            None => Err("the customer no longer exists".to_owned()),
            Some(c) if c.status != "active" => Err("the customer was merged".to_owned()),
            Some(c) => Ok(c),
        },
    )
}

/// Monthly: contribution, dormancy and RFM of one customer for `period`.
pub async fn score_month(
    customers: &Customers,
    rules: &MonthlyRules,
    customer_id: &str,
    period: Period,
    job_id: &str,
) -> Result<Outcome> {
    let started = wire::now_micros(&customers.clock);
    let txn = customers.db.begin().await?;
    let c = match active_customer(&txn, customer_id).await? {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let month = match month_contribution(&txn, &c, period, &rules.contribution).await? {
        Ok(m) => m,
        Err(why) => return Ok(Err(why)),
    };
    let now = wire::now_micros(&customers.clock);
    let refs = rules.refs.as_slice();
    put_result(
        &txn,
        NewResult {
            kind: kind::CONTRIBUTION,
            customer_id,
            period,
            refs,
            grade_rank: 0,
            sort_key: 0,
            amount: month.own.after_risk.minor_units(),
            payload: serde_json::to_vec(&month).map_err(internal)?,
            at: now,
            job_id,
        },
    )
    .await?;

    // Dormancy as of the month's last day.
    let today = period.last_day();
    let history = TxHistory::load(&txn, customer_id).await?;
    let dormancy = match dormancy_from_dates(&history.dates(today), today, &rules.dormancy) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let depth = dormancy.silence_depth.unwrap_or(Decimal::ZERO);
    let dormancy_proto = v1::DormancyScore {
        customer_id: customer_id.to_owned(),
        period: Some(wire::period_out(period)),
        last_transaction_date: dormancy.last_transaction.map(wire::date_out),
        recency_days: dormancy
            .recency_days
            .map_or(0, |d| i32::try_from(d).unwrap_or(i32::MAX)),
        max_gap_days: dormancy
            .max_gap_days
            .map_or(0, |d| i32::try_from(d).unwrap_or(i32::MAX)),
        silence_score: dormancy.silence_score.and_then(dec_out),
        silence_depth: dormancy.silence_depth.and_then(dec_out),
        rank_ratio: dormancy.rank_ratio.and_then(dec_out),
        transaction_count: i64::try_from(dormancy.transaction_count).unwrap_or(i64::MAX),
        grade: wire::grade_to_proto(dormancy.grade) as i32,
        rule_versions: rules.refs.clone(),
        compute_time: wire::ts(now),
    };
    let sort_key = if dormancy.grade == DormancyGrade::InsufficientHistory {
        -1
    } else {
        (depth * Decimal::from(1_000_000))
            .trunc()
            .to_string()
            .parse::<i64>()
            .unwrap_or(i64::MAX)
    };
    put_result(
        &txn,
        NewResult {
            kind: kind::DORMANCY,
            customer_id,
            period,
            refs,
            grade_rank: wire::grade_rank(dormancy.grade),
            sort_key,
            amount: 0,
            payload: dormancy_proto.encode_to_vec(),
            at: now,
            job_id,
        },
    )
    .await?;

    // RFM over the look-back, and CLV from the trailing twelve months.
    let config = &rules.config;
    let first = span(period, config.rfm_lookback_months);
    let lookback = current_months(&txn, customer_id, first, period).await?;
    let monetary = lookback
        .iter()
        .try_fold(0_i64, |acc, (row, _)| acc.checked_add(row.amount))
        .ok_or_else(|| internal("monetary overflow"))?;
    let frequency = history.count(first.first_day(), today);
    let scores = match rules
        .rfm
        .score(dormancy.recency_days, frequency, cny(monetary))
    {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let ttm_months: Vec<MonthlyContribution> =
        current_months(&txn, customer_id, span(period, 12), period)
            .await?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
    let ttm = match trailing_twelve_months(period, &ttm_months, Currency::CNY) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let add = |a: Money, b: Money| a.checked_add(b);
    let year = (|| {
        Ok::<_, bankmkt_domain::money::MoneyError>(ClvYear {
            revenue: add(ttm.own.margin, ttm.own.fee_income)?,
            product_cost: add(
                add(ttm.own.operating_cost, ttm.own.expected_loss)?,
                ttm.own.capital_charge,
            )?,
            retention_cost: cny(config.clv_retention_cost_fen),
        })
    })();
    let year = match year {
        Ok(y) => y,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let years = vec![year; config.clv_horizon_years as usize];
    let clv = match lifetime_value(
        &years,
        BasisPoints::new(config.clv_discount_rate_bps),
        Currency::CNY,
    ) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let rfm_proto = v1::RfmScore {
        customer_id: customer_id.to_owned(),
        period: Some(wire::period_out(period)),
        recency_days: dormancy_proto.recency_days,
        frequency: i64::try_from(frequency).unwrap_or(i64::MAX),
        monetary: fen_out(monetary),
        recency_score: i32::from(scores.recency),
        frequency_score: i32::from(scores.frequency),
        monetary_score: i32::from(scores.monetary),
        lifetime_value: money_out(clv),
        discount_rate_bps: config.clv_discount_rate_bps,
        horizon_years: i32::try_from(config.clv_horizon_years).unwrap_or(i32::MAX),
        rule_versions: rules.refs.clone(),
        compute_time: wire::ts(now),
    };
    put_result(
        &txn,
        NewResult {
            kind: kind::RFM,
            customer_id,
            period,
            refs,
            grade_rank: 0,
            sort_key: 0,
            amount: monetary,
            payload: rfm_proto.encode_to_vec(),
            at: now,
            job_id,
        },
    )
    .await?;
    let event = contribution_to_proto(ContributionView {
        customer_id,
        window: v1::ContributionWindow::Month,
        first: period,
        last: period,
        months_with_data: 1,
        own: &month.own,
        linked: &month.linked_retail,
        hurdle: month.hurdle_rate,
        draw: month.draw_ratio,
        refs: rules.refs.clone(),
        at: now,
    });
    finish(customers, txn, &c, event.encode_to_vec(), started, now).await?;
    Ok(Ok(()))
}

/// The data-factor inputs of a window.
async fn data_inputs(
    txn: &DatabaseTransaction,
    c: &customer::Model,
    rules: &QuarterlyRules,
) -> Result<std::result::Result<DataFactorInputs, String>> {
    let (Some(&first), Some(&last)) = (rules.window.first(), rules.window.last()) else {
        return Ok(Err("empty evaluation window".to_owned()));
    };
    let id = c.customer_id.as_str();
    // The window's monthly figures: stored, or computed on the fly for months not yet scored.
    let stored = current_months(txn, id, first, last).await?;
    let mut months: Vec<MonthlyContribution> = stored.into_iter().map(|(_, m)| m).collect();
    let rows = holding::Entity::find()
        .filter(holding::Column::CustomerId.eq(id))
        .filter(holding::Column::PeriodYear.gte(first.year()))
        .filter(holding::Column::PeriodYear.lte(last.year()))
        .all(txn)
        .await?;
    let mut by_month: BTreeMap<Period, Vec<&holding::Model>> = BTreeMap::new();
    for r in &rows {
        if let Ok(p) = Period::new(r.period_year, r.period_month as u32)
            && rules.window.contains(&p)
        {
            by_month.entry(p).or_default().push(r);
        }
    }
    for p in by_month.keys() {
        if !months.iter().any(|m| m.period == *p) {
            match month_contribution(txn, c, *p, &rules.monthly.contribution).await? {
                Ok(m) => months.push(m),
                Err(why) => return Ok(Err(why)),
            }
        }
    }
    let mut inputs = DataFactorInputs::default();
    if !months.is_empty() {
        let w = match window_contribution(first, last, &months, Currency::CNY) {
            Ok(w) => w,
            Err(e) => return Ok(Err(e.to_string())),
        };
        inputs.after_risk = Some(w.own.after_risk);
        inputs.revenue = w.own.margin.checked_add(w.own.fee_income).ok();
    }
    if !by_month.is_empty() {
        let balance = |rows: &[&holding::Model]| -> i64 {
            rows.iter()
                .filter(|r| r.product_kind != ProductKind::Fee.as_str())
                .map(|r| r.average_daily_balance)
                .fold(0_i64, i64::saturating_add)
        };
        let totals: Vec<i64> = by_month.values().map(|r| balance(r)).collect();
        let sum: i128 = totals.iter().map(|t| i128::from(*t)).sum();
        let mean = Decimal::from_i128_with_scale(sum, 2) / Decimal::from(totals.len());
        inputs.average_balance = Money::from_decimal(Currency::CNY, mean).ok();
        inputs.first_balance = totals.first().map(|t| cny(*t));
        inputs.last_balance = totals.last().map(|t| cny(*t));
        inputs.product_count = by_month.values().last().map(|rows| {
            let products: BTreeSet<&str> = rows.iter().map(|r| r.product_id.as_str()).collect();
            u32::try_from(products.len()).unwrap_or(u32::MAX)
        });
        let volume = by_month
            .values()
            .flatten()
            .map(|r| {
                r.settlement_volume
                    .saturating_add(r.payroll_volume)
                    .saturating_add(r.fx_volume)
                    .saturating_add(r.pos_volume)
            })
            .fold(0_i64, i64::saturating_add);
        inputs.settlement_volume = Some(cny(volume));
    }
    let history = TxHistory::load(txn, id).await?;
    inputs.transaction_count = Some(history.count(first.first_day(), last.last_day()));
    inputs.linked_customers =
        Some(u32::try_from(link_count(txn, id, last.last_day()).await?).unwrap_or(u32::MAX));
    let kind: CustomerKind = c.kind.parse().map_err(internal)?;
    if kind != CustomerKind::Individual {
        let details = v1::OrganisationDetails::decode(c.details.as_slice()).map_err(internal)?;
        inputs.credit_rating = Some(details.credit_rating).filter(|r| !r.trim().is_empty());
    }
    Ok(Ok(inputs))
}

fn source_of(
    code: &str,
    data: &BTreeMap<String, Decimal>,
    assessed: &BTreeMap<String, Decimal>,
) -> v1::FactorSource {
    if data.contains_key(code) {
        v1::FactorSource::Data
    } else if assessed.contains_key(code) {
        v1::FactorSource::Assessment
    } else {
        v1::FactorSource::Default
    }
}

/// Quarterly: the five-dimension value score and the GE class of one customer for the window
/// ending with `period`.
pub async fn score_quarter(
    customers: &Customers,
    rules: &QuarterlyRules,
    customer_id: &str,
    period: Period,
    job_id: &str,
) -> Result<Outcome> {
    let started = wire::now_micros(&customers.clock);
    let txn = customers.db.begin().await?;
    let c = match active_customer(&txn, customer_id).await? {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let inputs = match data_inputs(&txn, &c, rules).await? {
        Ok(i) => i,
        Err(why) => return Ok(Err(why)),
    };
    let data = data_grades(&inputs, &rules.monthly.config.scales);
    let window = v1::PeriodRange {
        first: rules.window.first().map(|p| wire::period_out(*p)),
        last: Some(wire::period_out(period)),
    };
    let now = wire::now_micros(&customers.clock);

    // Five dimensions: data, then the newest assessment in the window, then the default.
    let assessed =
        assessments::latest_grades(&txn, customer_id, Scheme::FiveDimension, &rules.window).await?;
    let mut grades = BTreeMap::new();
    for d in rules.model.dimensions() {
        for f in &d.factors {
            let grade = if is_data_factor(&f.code) {
                data.get(&f.code)
            } else {
                assessed.get(&f.code)
            };
            if let Some(g) = grade {
                grades.insert(f.code.clone(), *g);
            }
        }
    }
    let score = match rules.model.score(&grades) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let value_proto = v1::ValueScore {
        customer_id: customer_id.to_owned(),
        window: Some(window),
        dimensions: score
            .dimensions
            .iter()
            .map(|d| v1::DimensionScore {
                dimension: wire::dimension_to_proto(d.dimension) as i32,
                score: dec_out(d.score),
                weight: dec_out(d.weight),
            })
            .collect(),
        total: dec_out(score.total),
        grade: score.grade.clone(),
        factors: score
            .factors
            .iter()
            .map(|f| v1::FactorScore {
                factor_code: f.code.clone(),
                dimension: wire::dimension_to_proto(f.dimension) as i32,
                grade: dec_out(f.grade),
                weight: dec_out(f.weight),
                source: if f.defaulted {
                    v1::FactorSource::Default
                } else {
                    source_of(&f.code, &data, &assessed)
                } as i32,
            })
            .collect(),
        rule_versions: rules.value_refs.clone(),
        compute_time: wire::ts(now),
    };
    put_result(
        &txn,
        NewResult {
            kind: kind::VALUE_SCORE,
            customer_id,
            period,
            refs: &rules.value_refs,
            grade_rank: 0,
            sort_key: (score.total * Decimal::ONE_HUNDRED)
                .trunc()
                .to_string()
                .parse()
                .unwrap_or(0),
            amount: 0,
            payload: value_proto.encode_to_vec(),
            at: now,
            job_id,
        },
    )
    .await?;

    // GE: data grades on the 1–5 scale, then the newest assessment, then the default score.
    let ge_assessed =
        assessments::latest_grades(&txn, customer_id, Scheme::GeMatrix, &rules.window).await?;
    let mut factors = Vec::new();
    let mut axis_scores = [BTreeMap::new(), BTreeMap::new()];
    for (axis, list) in [rules.ge.attractiveness(), rules.ge.strength()]
        .into_iter()
        .enumerate()
    {
        for f in list {
            let (score, source) = match (
                data.get(&f.code).filter(|_| is_data_factor(&f.code)),
                ge_assessed.get(&f.code),
                rules.monthly.config.ge_default_score,
            ) {
                (Some(g), _, _) => (ge_score_from_grade(*g), v1::FactorSource::Data),
                (None, Some(s), _) => (*s, v1::FactorSource::Assessment),
                (None, None, Some(d)) => (d, v1::FactorSource::Default),
                (None, None, None) => {
                    return Ok(Err(format!(
                        "GE factor {:?} has no data, no assessment and no default score",
                        f.code
                    )));
                }
            };
            axis_scores[axis].insert(f.code.clone(), score);
            factors.push(v1::FactorScore {
                factor_code: f.code.clone(),
                dimension: 0,
                grade: dec_out(score),
                weight: dec_out(f.weight),
                source: source as i32,
            });
        }
    }
    let [attractiveness_scores, strength_scores] = axis_scores;
    let class = match rules.ge.classify(&attractiveness_scores, &strength_scores) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let ge_proto = v1::GeClassification {
        customer_id: customer_id.to_owned(),
        window: Some(window),
        attractiveness: dec_out(class.attractiveness),
        strength: dec_out(class.strength),
        attractiveness_band: wire::band_to_proto(class.attractiveness_band) as i32,
        strength_band: wire::band_to_proto(class.strength_band) as i32,
        ge_class: wire::class_to_proto(class.class) as i32,
        factors,
        rule_versions: rules.ge_refs.clone(),
        compute_time: wire::ts(now),
    };
    put_result(
        &txn,
        NewResult {
            kind: kind::GE_CLASS,
            customer_id,
            period,
            refs: &rules.ge_refs,
            grade_rank: wire::class_to_proto(class.class) as i32,
            sort_key: 0,
            amount: 0,
            payload: ge_proto.encode_to_vec(),
            at: now,
            job_id,
        },
    )
    .await?;
    finish(
        customers,
        txn,
        &c,
        value_proto.encode_to_vec(),
        started,
        now,
    )
    .await?;
    Ok(Ok(()))
}

/// Whether an error stops the whole job (the database is failing) rather than one customer.
pub fn stops_the_job(e: &RegistryError) -> bool {
    matches!(e, RegistryError::Db(_))
}
