//! The transactions stream, for dormancy and RFM: single transactions keyed by (source system,
//! transaction id), or monthly summaries keyed by (customer, month), each with a source version
//! (newer replaces, same is a replay, older is ignored). Each chunk is one multi-row upsert per
//! table.

use std::collections::{BTreeSet, HashMap};

use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::DatabaseConnection;
use sea_orm::TransactionTrait;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;

use super::entity::{customer_transaction, transaction_month};
use super::{Sink, Summary, cny, key_of, resolve_customers, validate_period};
use crate::convert::date_from_proto;
use crate::error::Result;

/// One record of the stream.
pub enum TransactionRecord {
    /// A single transaction.
    Single(v1::Transaction),
    /// A customer's month.
    Month(v1::TransactionMonthSummary),
}

/// Writes transactions and monthly summaries.
pub struct TransactionsSink {
    /// The registry database.
    pub db: DatabaseConnection,
    /// Time.
    pub clock: Clock,
    /// The cache.
    pub cache: ReadThrough,
}

enum Write {
    Single(customer_transaction::Model),
    Month(transaction_month::Model),
}

fn validate_single(
    t: &v1::Transaction,
    today: chrono::NaiveDate,
    v: &mut Violations,
) -> Option<(chrono::NaiveDate, i64, &'static str)> {
    if t.customer.as_ref().and_then(key_of).is_none() {
        v.add(
            "transaction.customer",
            "a customer_id or source_ref is required",
        );
    }
    if t.transaction_id.is_empty()
        || t.transaction_id.len() > 64
        || !t.transaction_id.chars().all(|c| c.is_ascii_graphic())
    {
        v.add(
            "transaction.transaction_id",
            "must be 1 to 64 printable ASCII characters",
        );
    }
    if t.source_version <= 0 {
        v.add("transaction.source_version", "must be positive");
    }
    if t.product_id.len() > 64 {
        v.add("transaction.product_id", "must be at most 64 characters");
    }
    let date = match t.transaction_date.as_ref().map(date_from_proto) {
        None => {
            v.add("transaction.transaction_date", "is required");
            None
        }
        Some(Err(e)) => {
            v.add("transaction.transaction_date", e);
            None
        }
        Some(Ok(d)) if d > today => {
            v.add(
                "transaction.transaction_date",
                format!("{d} is in the future"),
            );
            None
        }
        Some(Ok(d)) => Some(d),
    };
    let amount = match cny(t.amount.as_ref(), false) {
        Ok(Some(a)) if a > 0 => Some(a),
        Ok(_) => {
            v.add("transaction.amount", "must be positive");
            None
        }
        Err(e) => {
            v.add("transaction.amount", e);
            None
        }
    };
    let direction = match v1::TransactionDirection::try_from(t.direction) {
        Ok(v1::TransactionDirection::Credit) => Some("credit"),
        Ok(v1::TransactionDirection::Debit) => Some("debit"),
        _ => {
            v.add("transaction.direction", "must be credit or debit");
            None
        }
    };
    Some((date?, amount?, direction?))
}

fn validate_month(
    m: &v1::TransactionMonthSummary,
    today: chrono::NaiveDate,
    v: &mut Violations,
) -> Option<((i32, i32), i64, Option<chrono::NaiveDate>)> {
    if m.customer.as_ref().and_then(key_of).is_none() {
        v.add(
            "month_summary.customer",
            "a customer_id or source_ref is required",
        );
    }
    if m.source_version <= 0 {
        v.add("month_summary.source_version", "must be positive");
    }
    if m.transaction_count < 0 {
        v.add("month_summary.transaction_count", "must not be negative");
    }
    let period = validate_period("month_summary.period", m.period.as_ref(), today, v);
    let total = match cny(m.total_amount.as_ref(), false) {
        Ok(t) => Some(t.unwrap_or(0)),
        Err(e) => {
            v.add("month_summary.total_amount", e);
            None
        }
    };
    let last = match m.last_transaction_date.as_ref().map(date_from_proto) {
        None => None,
        Some(Ok(d)) => {
            if let Some((y, mo)) = period
                && (
                    chrono::Datelike::year(&d),
                    chrono::Datelike::month(&d) as i32,
                ) != (y, mo)
            {
                v.add(
                    "month_summary.last_transaction_date",
                    "must fall in the summary's month",
                );
            }
            Some(d)
        }
        Some(Err(e)) => {
            v.add("month_summary.last_transaction_date", e);
            None
        }
    };
    Some((period?, total?, last))
}

#[async_trait::async_trait]
impl Sink for TransactionsSink {
    type Record = TransactionRecord;
    const RPC: &'static str = "IngestTransactions";
    const TABLES: &'static [&'static str] = &[
        "customer_transaction",
        "transaction_month",
        "customer",
        "customer_xref",
    ];
    const SUM_FIELDS: &'static [&'static str] = &["amount", "total_amount"];

    fn add_sums(record: &TransactionRecord, summary: &mut Summary) {
        match record {
            TransactionRecord::Single(t) => {
                if let Some(m) = &t.amount {
                    summary.add_sum("amount", m.minor_units);
                }
            }
            TransactionRecord::Month(m) => {
                if let Some(t) = &m.total_amount {
                    summary.add_sum("total_amount", t.minor_units);
                }
            }
        }
    }

    async fn write_chunk(
        &mut self,
        chunk: Vec<(i64, TransactionRecord)>,
        header: &v1::IngestHeader,
        summary: &mut Summary,
    ) -> Result<()> {
        let today = self.clock.today();
        let keys: Vec<&v1::CustomerKey> = chunk
            .iter()
            .filter_map(|(_, r)| match r {
                TransactionRecord::Single(t) => t.customer.as_ref(),
                TransactionRecord::Month(m) => m.customer.as_ref(),
            })
            .collect();
        let customers = resolve_customers(&self.db, &keys).await?;
        let mut singles: HashMap<String, (i64, customer_transaction::Model)> = HashMap::new();
        let mut months: HashMap<(String, i32, i32), (i64, transaction_month::Model)> =
            HashMap::new();
        for (index, record) in chunk {
            let mut v = Violations::new();
            let (write, natural, customer_key) = match &record {
                TransactionRecord::Single(t) => {
                    let valid = validate_single(t, today, &mut v);
                    let natural = t.transaction_id.clone();
                    (
                        valid.map(|(date, amount, direction)| {
                            Write::Single(customer_transaction::Model {
                                source_system: header.source_system.clone(),
                                transaction_id: t.transaction_id.clone(),
                                customer_id: String::new(),
                                source_version: t.source_version,
                                transaction_date: date,
                                amount,
                                direction: direction.to_owned(),
                                product_id: t.product_id.clone(),
                            })
                        }),
                        natural,
                        t.customer.as_ref(),
                    )
                }
                TransactionRecord::Month(m) => {
                    let valid = validate_month(m, today, &mut v);
                    let natural = format!("{:?}", m.period);
                    (
                        valid.map(|((year, month), total, last)| {
                            Write::Month(transaction_month::Model {
                                customer_id: String::new(),
                                period_year: year,
                                period_month: month,
                                source_version: m.source_version,
                                transaction_count: m.transaction_count,
                                total_amount: total,
                                last_transaction_date: last,
                            })
                        }),
                        natural,
                        m.customer.as_ref(),
                    )
                }
            };
            let Some(write) = write.filter(|_| v.is_empty()) else {
                summary.reject_invalid(index, &natural, &v);
                continue;
            };
            let Some(customer_id) = customer_key
                .and_then(key_of)
                .and_then(|k| customers.get(&k))
                .cloned()
            else {
                summary.reject(
                    index,
                    &natural,
                    "customer",
                    "NOT_FOUND",
                    "no such customer (or it was merged)",
                );
                continue;
            };
            match write {
                Write::Single(mut t) => {
                    t.customer_id = customer_id;
                    match singles.get(&t.transaction_id) {
                        Some((_, old)) if old.source_version > t.source_version => {
                            summary.inner.ignored_older += 1
                        }
                        Some((_, old)) if old.source_version == t.source_version => {
                            summary.inner.replayed += 1
                        }
                        _ => {
                            singles.insert(t.transaction_id.clone(), (index, t));
                        }
                    }
                }
                Write::Month(mut m) => {
                    m.customer_id = customer_id;
                    let key = (m.customer_id.clone(), m.period_year, m.period_month);
                    match months.get(&key) {
                        Some((_, old)) if old.source_version > m.source_version => {
                            summary.inner.ignored_older += 1
                        }
                        Some((_, old)) if old.source_version == m.source_version => {
                            summary.inner.replayed += 1
                        }
                        _ => {
                            months.insert(key, (index, m));
                        }
                    }
                }
            }
        }
        // The chunk's rows and their events land together or not at all.
        let txn = self.db.begin().await?;
        let mut touched = BTreeSet::new();
        if !singles.is_empty() {
            let ids: Vec<String> = singles.keys().cloned().collect();
            let stored: HashMap<String, i64> = customer_transaction::Entity::find()
                .filter(customer_transaction::Column::SourceSystem.eq(header.source_system.clone()))
                .filter(customer_transaction::Column::TransactionId.is_in(ids))
                .all(&txn)
                .await?
                .into_iter()
                .map(|t| (t.transaction_id, t.source_version))
                .collect();
            let mut rows = Vec::new();
            for (id, (_, t)) in singles {
                match stored.get(&id) {
                    Some(old) if *old > t.source_version => summary.inner.ignored_older += 1,
                    Some(old) if *old == t.source_version => summary.inner.replayed += 1,
                    other => {
                        if other.is_some() {
                            summary.inner.updated += 1;
                        } else {
                            summary.inner.inserted += 1;
                        }
                        touched.insert(t.customer_id.clone());
                        rows.push(customer_transaction::ActiveModel::from(t));
                    }
                }
            }
            if !rows.is_empty() {
                customer_transaction::Entity::insert_many(rows)
                    .on_conflict(
                        OnConflict::columns([
                            customer_transaction::Column::SourceSystem,
                            customer_transaction::Column::TransactionId,
                        ])
                        .update_columns([
                            customer_transaction::Column::CustomerId,
                            customer_transaction::Column::SourceVersion,
                            customer_transaction::Column::TransactionDate,
                            customer_transaction::Column::Amount,
                            customer_transaction::Column::Direction,
                            customer_transaction::Column::ProductId,
                        ])
                        .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        if !months.is_empty() {
            let customer_ids: BTreeSet<String> = months.keys().map(|k| k.0.clone()).collect();
            let stored: HashMap<(String, i32, i32), i64> = transaction_month::Entity::find()
                .filter(transaction_month::Column::CustomerId.is_in(customer_ids))
                .all(&txn)
                .await?
                .into_iter()
                .map(|m| {
                    (
                        (m.customer_id, m.period_year, m.period_month),
                        m.source_version,
                    )
                })
                .collect();
            let mut rows = Vec::new();
            for (key, (_, m)) in months {
                match stored.get(&key) {
                    Some(old) if *old > m.source_version => summary.inner.ignored_older += 1,
                    Some(old) if *old == m.source_version => summary.inner.replayed += 1,
                    other => {
                        if other.is_some() {
                            summary.inner.updated += 1;
                        } else {
                            summary.inner.inserted += 1;
                        }
                        touched.insert(m.customer_id.clone());
                        rows.push(transaction_month::ActiveModel::from(m));
                    }
                }
            }
            if !rows.is_empty() {
                transaction_month::Entity::insert_many(rows)
                    .on_conflict(
                        OnConflict::columns([
                            transaction_month::Column::CustomerId,
                            transaction_month::Column::PeriodYear,
                            transaction_month::Column::PeriodMonth,
                        ])
                        .update_columns([
                            transaction_month::Column::SourceVersion,
                            transaction_month::Column::TransactionCount,
                            transaction_month::Column::TotalAmount,
                            transaction_month::Column::LastTransactionDate,
                        ])
                        .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        let now = self.clock.now();
        super::customer_events(&txn, &touched, "customer.transactions_changed", now).await?;
        txn.commit().await?;
        for id in &touched {
            self.cache
                .invalidate(&crate::customers::cache_key(id))
                .await;
        }
        Ok(())
    }
}
