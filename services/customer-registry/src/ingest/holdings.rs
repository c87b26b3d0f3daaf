//! The holdings stream: monthly snapshots keyed by (customer, product, account, month). A newer
//! source version replaces the stored snapshot and queues the customer for re-scoring; the same
//! version is a replay; an older one is ignored. Each chunk is one multi-row upsert.

use std::collections::{BTreeSet, HashMap};

use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, TransactionTrait};

use super::entity::{holding, rescoring_queue};
use super::{Sink, Summary, cny, key_of, resolve_customers, validate_period};
use crate::error::Result;

/// Writes holdings snapshots.
pub struct HoldingsSink {
    /// The registry database.
    pub db: DatabaseConnection,
    /// Time.
    pub clock: Clock,
    /// The cache, to drop changed customers' entries.
    pub cache: ReadThrough,
    queued: BTreeSet<String>,
}

impl HoldingsSink {
    /// A sink on `db`.
    pub fn new(db: DatabaseConnection, clock: Clock, cache: ReadThrough) -> HoldingsSink {
        HoldingsSink {
            db,
            clock,
            cache,
            queued: BTreeSet::new(),
        }
    }
}

fn product_kind(raw: i32) -> Option<&'static str> {
    match v1::ProductKind::try_from(raw).ok()? {
        v1::ProductKind::Asset => Some("asset"),
        v1::ProductKind::Liability => Some("liability"),
        v1::ProductKind::Fee => Some("fee"),
        v1::ProductKind::Unspecified => None,
    }
}

fn category(raw: i32) -> Option<String> {
    v1::ProductCategory::try_from(raw).ok().map(|c| {
        c.as_str_name()
            .trim_start_matches("PRODUCT_CATEGORY_")
            .to_ascii_lowercase()
    })
}

fn line(raw: i32) -> Option<String> {
    v1::BusinessLine::try_from(raw).ok().map(|c| {
        c.as_str_name()
            .trim_start_matches("BUSINESS_LINE_")
            .to_ascii_lowercase()
    })
}

/// The fields of a snapshot as validated, before the customer is resolved.
fn validate(
    record: &v1::HoldingSnapshot,
    today: chrono::NaiveDate,
    v: &mut Violations,
) -> Option<holding::ActiveModel> {
    let before = v.fields().len();
    if record.customer.as_ref().and_then(key_of).is_none() {
        v.add("customer", "a customer_id or source_ref is required");
    }
    for (field, value) in [
        ("product_id", &record.product_id),
        ("account_id", &record.account_id),
    ] {
        if value.is_empty() || value.len() > 64 || !value.chars().all(|c| c.is_ascii_graphic()) {
            v.add(field, "must be 1 to 64 printable ASCII characters");
        }
    }
    let kind = product_kind(record.product_kind);
    if kind.is_none() {
        v.add("product_kind", "must be asset, liability or fee");
    }
    let cat = category(record.product_category);
    if cat.is_none() {
        v.add("product_category", "must be a known product category");
    }
    let ln = line(record.line);
    if ln.is_none() {
        v.add("line", "must be a known business line");
    }
    let period = validate_period("period", record.period.as_ref(), today, v);
    if record.source_version <= 0 {
        v.add("source_version", "must be positive");
    }
    for (field, bps) in [
        ("customer_rate_bps", record.customer_rate_bps),
        ("ftp_rate_bps", record.ftp_rate_bps),
    ] {
        if !(-10_000..=100_000).contains(&bps) {
            v.add(field, "must be within -10000..=100000 basis points");
        }
    }
    let mut amount = |field: &str, money: Option<&v1::Money>, allow_negative: bool| match cny(
        money,
        allow_negative,
    ) {
        Ok(m) => m.unwrap_or(0),
        Err(e) => {
            v.add(field, e);
            0
        }
    };
    let period_end_balance = amount(
        "period_end_balance",
        record.period_end_balance.as_ref(),
        false,
    );
    let average_daily_balance = amount(
        "average_daily_balance",
        record.average_daily_balance.as_ref(),
        false,
    );
    let settlement_volume = amount(
        "settlement_volume",
        record.settlement_volume.as_ref(),
        false,
    );
    let payroll_volume = amount("payroll_volume", record.payroll_volume.as_ref(), false);
    let fx_volume = amount("fx_volume", record.fx_volume.as_ref(), false);
    let pos_volume = amount("pos_volume", record.pos_volume.as_ref(), false);
    // Fee income may be negative: a reversal in the month.
    let fee_income = amount("fee_income", record.fee_income.as_ref(), true);
    let operating_cost = amount("operating_cost", record.operating_cost.as_ref(), false);
    let expected_loss = amount("expected_loss", record.expected_loss.as_ref(), false);
    let economic_capital = amount("economic_capital", record.economic_capital.as_ref(), false);
    let facility_limit = amount("facility_limit", record.facility_limit.as_ref(), false);
    let undrawn_amount = amount("undrawn_amount", record.undrawn_amount.as_ref(), false);
    if undrawn_amount > facility_limit {
        v.add("undrawn_amount", "must not exceed facility_limit");
    }
    if v.fields().len() != before {
        return None;
    }
    let (year, month) = period?;
    Some(holding::ActiveModel {
        product_id: Set(record.product_id.clone()),
        account_id: Set(record.account_id.clone()),
        period_year: Set(year),
        period_month: Set(month),
        source_version: Set(record.source_version),
        product_kind: Set(kind?.to_owned()),
        product_category: Set(cat?),
        line: Set(ln?),
        period_end_balance: Set(period_end_balance),
        average_daily_balance: Set(average_daily_balance),
        customer_rate_bps: Set(record.customer_rate_bps),
        ftp_rate_bps: Set(record.ftp_rate_bps),
        settlement_volume: Set(settlement_volume),
        payroll_volume: Set(payroll_volume),
        fx_volume: Set(fx_volume),
        pos_volume: Set(pos_volume),
        fee_income: Set(fee_income),
        operating_cost: Set(operating_cost),
        expected_loss: Set(expected_loss),
        economic_capital: Set(economic_capital),
        facility_limit: Set(facility_limit),
        undrawn_amount: Set(undrawn_amount),
        ..Default::default()
    })
}

type NaturalKey = (String, String, String, i32, i32);

fn natural_key(m: &holding::ActiveModel) -> NaturalKey {
    let get = |v: &sea_orm::ActiveValue<String>| match v {
        Set(s) | sea_orm::ActiveValue::Unchanged(s) => s.clone(),
        sea_orm::ActiveValue::NotSet => String::new(),
    };
    let num = |v: &sea_orm::ActiveValue<i32>| match v {
        Set(n) | sea_orm::ActiveValue::Unchanged(n) => *n,
        sea_orm::ActiveValue::NotSet => 0,
    };
    (
        get(&m.customer_id),
        get(&m.product_id),
        get(&m.account_id),
        num(&m.period_year),
        num(&m.period_month),
    )
}

fn upsert() -> OnConflict {
    OnConflict::columns([
        holding::Column::CustomerId,
        holding::Column::ProductId,
        holding::Column::AccountId,
        holding::Column::PeriodYear,
        holding::Column::PeriodMonth,
    ])
    .update_columns([
        holding::Column::SourceSystem,
        holding::Column::SourceVersion,
        holding::Column::ProductKind,
        holding::Column::ProductCategory,
        holding::Column::Line,
        holding::Column::PeriodEndBalance,
        holding::Column::AverageDailyBalance,
        holding::Column::CustomerRateBps,
        holding::Column::FtpRateBps,
        holding::Column::SettlementVolume,
        holding::Column::PayrollVolume,
        holding::Column::FxVolume,
        holding::Column::PosVolume,
        holding::Column::FeeIncome,
        holding::Column::OperatingCost,
        holding::Column::ExpectedLoss,
        holding::Column::EconomicCapital,
        holding::Column::FacilityLimit,
        holding::Column::UndrawnAmount,
        holding::Column::UpdateTime,
    ])
    .to_owned()
}

#[async_trait::async_trait]
impl Sink for HoldingsSink {
    type Record = v1::HoldingSnapshot;
    const RPC: &'static str = "IngestHoldings";
    const TABLES: &'static [&'static str] =
        &["holding", "rescoring_queue", "customer", "customer_xref"];
    const SUM_FIELDS: &'static [&'static str] =
        &["period_end_balance", "average_daily_balance", "fee_income"];

    fn add_sums(record: &v1::HoldingSnapshot, summary: &mut Summary) {
        for (field, money) in [
            ("period_end_balance", &record.period_end_balance),
            ("average_daily_balance", &record.average_daily_balance),
            ("fee_income", &record.fee_income),
        ] {
            if let Some(m) = money {
                summary.add_sum(field, m.minor_units);
            }
        }
    }

    async fn write_chunk(
        &mut self,
        chunk: Vec<(i64, v1::HoldingSnapshot)>,
        header: &v1::IngestHeader,
        summary: &mut Summary,
    ) -> Result<()> {
        let today = self.clock.today();
        let now = self.clock.now();
        let keys: Vec<&v1::CustomerKey> = chunk
            .iter()
            .filter_map(|(_, r)| r.customer.as_ref())
            .collect();
        let customers = resolve_customers(&self.db, &keys).await?;
        // Validate, resolve, and keep the newest version of each natural key within the chunk.
        let mut candidates: HashMap<NaturalKey, (i64, i64, holding::ActiveModel)> = HashMap::new();
        for (index, record) in &chunk {
            let mut v = Violations::new();
            let natural = format!(
                "{}/{}/{:?}",
                record.product_id, record.account_id, record.period
            );
            let Some(mut model) = validate(record, today, &mut v) else {
                summary.reject_invalid(*index, &natural, &v);
                continue;
            };
            let Some(customer_id) = record
                .customer
                .as_ref()
                .and_then(key_of)
                .and_then(|k| customers.get(&k))
            else {
                summary.reject(
                    *index,
                    &natural,
                    "customer",
                    "NOT_FOUND",
                    "no such customer (or it was merged)",
                );
                continue;
            };
            model.customer_id = Set(customer_id.clone());
            model.source_system = Set(header.source_system.clone());
            model.update_time = Set(now);
            let key = natural_key(&model);
            match candidates.get(&key) {
                Some((_, version, _)) if *version > record.source_version => {
                    summary.inner.ignored_older += 1
                }
                Some((_, version, _)) if *version == record.source_version => {
                    summary.inner.replayed += 1
                }
                _ => {
                    candidates.insert(key, (*index, record.source_version, model));
                }
            }
        }
        if candidates.is_empty() {
            return Ok(());
        }
        // Compare with what is stored.
        let customer_ids: BTreeSet<String> = candidates.keys().map(|k| k.0.clone()).collect();
        let stored: HashMap<NaturalKey, i64> = holding::Entity::find()
            .filter(holding::Column::CustomerId.is_in(customer_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| {
                (
                    (
                        h.customer_id,
                        h.product_id,
                        h.account_id,
                        h.period_year,
                        h.period_month,
                    ),
                    h.source_version,
                )
            })
            .collect();
        let mut writes = Vec::new();
        let mut restated = BTreeSet::new();
        for (key, (index, version, model)) in candidates {
            match stored.get(&key) {
                Some(old) if *old > version => summary.inner.ignored_older += 1,
                Some(old) if *old == version => summary.inner.replayed += 1,
                Some(_) => {
                    summary.inner.updated += 1;
                    restated.insert(key.0.clone());
                    writes.push((index, key, model, true));
                }
                None => {
                    summary.inner.inserted += 1;
                    restated.insert(key.0.clone());
                    writes.push((index, key, model, false));
                }
            }
        }
        if writes.is_empty() {
            return Ok(());
        }
        // The bulk upsert, the events and the re-scoring queue land together or not at all.
        let txn = self.db.begin().await?;
        let models: Vec<holding::ActiveModel> =
            writes.iter().map(|(_, _, m, _)| m.clone()).collect();
        let bulk = holding::Entity::insert_many(models)
            .on_conflict(upsert())
            .exec_without_returning(&txn)
            .await;
        match bulk {
            Ok(_) => {
                restated_side_effects(&txn, &restated, now).await?;
                txn.commit().await?;
            }
            Err(e) => {
                // Isolate the record(s) the database refuses; the rest still land, each with its
                // own event and queue entry in its own transaction.
                tracing::warn!(error = %e, "multi-row holdings upsert failed; retrying row by row");
                drop(txn);
                restated.clear();
                for (index, key, model, was_update) in writes {
                    let txn = self.db.begin().await?;
                    let written = holding::Entity::insert(model)
                        .on_conflict(upsert())
                        .exec_without_returning(&txn)
                        .await;
                    match written {
                        Ok(_) => {
                            let one = BTreeSet::from([key.0.clone()]);
                            restated_side_effects(&txn, &one, now).await?;
                            txn.commit().await?;
                            restated.insert(key.0.clone());
                        }
                        Err(e) => {
                            drop(txn);
                            if was_update {
                                summary.inner.updated -= 1;
                            } else {
                                summary.inner.inserted -= 1;
                            }
                            summary.reject(
                                index,
                                &format!("{}/{}", key.1, key.2),
                                "",
                                "INTERNAL",
                                &format!("the database refused the record: {e}"),
                            );
                        }
                    }
                }
            }
        }
        for id in &restated {
            self.cache
                .invalidate(&crate::customers::cache_key(id))
                .await;
        }
        self.queued.extend(restated);
        Ok(())
    }

    fn extra(&self) -> i64 {
        self.queued.len() as i64
    }
}

/// Tells consumers (and the 360's data version) that the holdings of `customers` changed, and
/// queues them for re-scoring, on the transaction of the change.
async fn restated_side_effects<C: ConnectionTrait>(
    txn: &C,
    customers: &BTreeSet<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    super::customer_events(txn, customers, "customer.holdings_changed", now).await?;
    let queue: Vec<rescoring_queue::ActiveModel> = customers
        .iter()
        .map(|id| rescoring_queue::ActiveModel {
            customer_id: Set(id.clone()),
            queued_at: Set(now),
            reason: Set("holdings".to_owned()),
        })
        .collect();
    if !queue.is_empty() {
        rescoring_queue::Entity::insert_many(queue)
            .on_conflict(
                OnConflict::column(rescoring_queue::Column::CustomerId)
                    .update_columns([
                        rescoring_queue::Column::QueuedAt,
                        rescoring_queue::Column::Reason,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
