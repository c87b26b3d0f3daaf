//! Bulk ingestion from core banking: client-streaming upserts of customers, holdings snapshots
//! and transactions. Every stream is `header, record…, trailer`; records are validated one by
//! one (a bad record gets a capped per-record error and never aborts the batch), then written in
//! chunks with one multi-row `INSERT … ON CONFLICT` per table, falling back to row-by-row only to
//! isolate a record the database refuses. Idempotency is by natural key plus source version
//! (newer replaces, same is a replay, older is ignored) and, for the whole stream, by the header's
//! idempotency key. The trailer's control totals (record count and named amount sums) are
//! reconciled and a mismatch is reported and audited.

pub mod customers;
pub mod entity;
pub mod holdings;
pub mod migration;
pub mod transactions;

use std::collections::BTreeMap;

use bankmkt_domain::org::Role;
use bankmkt_platform::Caller;
use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::clock::Clock;
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use prost::Message;
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::error::{RegistryError, Result};

/// Records validated and written together.
pub const CHUNK: usize = 1_000;
/// Per-record errors returned in full; the rest are counted.
pub const MAX_ERRORS: usize = 100;

/// One message of an ingestion stream.
pub enum Part<T> {
    /// The first message.
    Header(v1::IngestHeader),
    /// A record.
    Record(T),
    /// The last message.
    Trailer(v1::IngestTrailer),
}

/// Builds an [`v1::IngestSummary`]: counts, capped errors and control-total sums.
#[derive(Debug, Default)]
pub struct Summary {
    /// The summary so far.
    pub inner: v1::IngestSummary,
    sums: BTreeMap<&'static str, i64>,
}

impl Summary {
    /// Records a refused record.
    pub fn reject(
        &mut self,
        index: i64,
        natural_key: &str,
        field: &str,
        code: &str,
        message: &str,
    ) {
        self.inner.rejected += 1;
        if self.inner.errors.len() < MAX_ERRORS {
            self.inner.errors.push(v1::RecordError {
                index,
                natural_key: natural_key.to_owned(),
                field: field.to_owned(),
                code: code.to_owned(),
                message: message.to_owned(),
            });
        } else {
            self.inner.errors_truncated += 1;
        }
    }

    /// Records the first violation of a refused record.
    pub fn reject_invalid(&mut self, index: i64, natural_key: &str, v: &Violations) {
        let (field, message) = v.fields().first().cloned().unwrap_or_default();
        self.reject(index, natural_key, &field, "INVALID_ARGUMENT", &message);
    }

    /// Adds a record's amount to a control-total field.
    pub fn add_sum(&mut self, field: &'static str, minor_units: i64) {
        let slot = self.sums.entry(field).or_insert(0);
        *slot = slot.saturating_add(minor_units);
    }
}

/// What a stream kind must provide.
#[async_trait::async_trait]
pub trait Sink: Send {
    /// The record type.
    type Record: Send;
    /// The RPC name, for idempotency scopes and audit.
    const RPC: &'static str;
    /// The tables the sink writes and looks up, whose planner statistics are refreshed as a
    /// stream grows them (see [`bankmkt_platform::db::refresh_statistics`]).
    const TABLES: &'static [&'static str];
    /// The amount fields the trailer may sum.
    const SUM_FIELDS: &'static [&'static str];
    /// Adds the record's amounts to the summary's control totals (valid or not).
    fn add_sums(record: &Self::Record, summary: &mut Summary);
    /// Validates and writes a chunk; `index` is each record's position in the stream.
    async fn write_chunk(
        &mut self,
        chunk: Vec<(i64, Self::Record)>,
        header: &v1::IngestHeader,
        summary: &mut Summary,
    ) -> Result<()>;
    /// Anything to report beyond the summary (e.g. customers queued for re-scoring).
    fn extra(&self) -> i64 {
        0
    }
}

/// Where the stream's messages come from (a tonic `Streaming`, or a vector in tests).
#[async_trait::async_trait]
pub trait Source<T>: Send {
    /// The next message, `None` at the end.
    async fn next(&mut self) -> std::result::Result<Option<Part<T>>, tonic::Status>;
}

/// Runs a whole stream into `sink`. Returns the summary and the sink's extra figure.
pub async fn run<S: Sink, Src: Source<S::Record>>(
    db: &DatabaseConnection,
    clock: &Clock,
    caller: &Caller,
    request_id: &str,
    mut source: Src,
    mut sink: S,
) -> std::result::Result<(v1::IngestSummary, i64), tonic::Status> {
    if !caller.has_role(Role::CoreBanking) && !caller.has_role(Role::Batch) {
        return Err(RegistryError::PermissionDenied(format!(
            "{} accepts core_banking or batch callers only",
            S::RPC
        ))
        .into());
    }
    let header = match source.next().await? {
        Some(Part::Header(h)) => h,
        _ => {
            return Err(RegistryError::invalid(
                "header",
                "the first message of the stream must be a header",
            )
            .into());
        }
    };
    let mut v = Violations::new();
    if header.idempotency_key.is_empty()
        || header.idempotency_key.len() > 128
        || !header.idempotency_key.chars().all(|c| c.is_ascii_graphic())
    {
        v.add(
            "header.idempotency_key",
            "must be 1 to 128 printable ASCII characters",
        );
    }
    let system = header.source_system.trim();
    if system.is_empty()
        || system.len() > 32
        || !system
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        v.add(
            "header.source_system",
            "must be 1 to 32 letters, digits, '-' or '_'",
        );
    }
    if header.batch_id.len() > 64 {
        v.add("header.batch_id", "must be at most 64 characters");
    }
    if !v.is_empty() {
        return Err(v.into_status());
    }
    let scope = format!("CustomerRegistry/{}/{}", S::RPC, caller.subject);
    let hash = idempotency::request_hash(&header.encode_to_vec());
    match idempotency::check(db, &scope, &header.idempotency_key, &hash)
        .await
        .map_err(RegistryError::from)?
    {
        Outcome::Replay(bytes) => {
            // A completed batch: drain what the sender still sends and answer as before.
            while source.next().await?.is_some() {}
            let stored = StoredOutcome::decode(bytes.as_slice())
                .map_err(|e| RegistryError::Internal(e.to_string()))?;
            return Ok((stored.summary.unwrap_or_default(), stored.extra));
        }
        Outcome::Conflict => {
            return Err(RegistryError::invalid(
                "header.idempotency_key",
                "was already used for a different batch",
            )
            .into());
        }
        Outcome::Fresh => {}
    }

    let mut summary = Summary::default();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut trailer = None;
    let mut index = 0i64;
    // Statistics are refreshed when the rows written reach the first chunk, then each doubling:
    // a handful of cheap ANALYZEs per stream keep every lookup on its full index.
    let mut analyse_at = CHUNK as i64;
    while let Some(part) = source.next().await? {
        match part {
            Part::Header(_) => {
                return Err(RegistryError::invalid("header", "a second header arrived").into());
            }
            Part::Record(_) | Part::Trailer(_) if trailer.is_some() => {
                return Err(
                    RegistryError::invalid("trailer", "nothing may follow the trailer").into(),
                );
            }
            Part::Record(record) => {
                summary.inner.received += 1;
                S::add_sums(&record, &mut summary);
                chunk.push((index, record));
                index += 1;
                if chunk.len() >= CHUNK {
                    sink.write_chunk(std::mem::take(&mut chunk), &header, &mut summary)
                        .await?;
                    let written = summary.inner.inserted + summary.inner.updated;
                    if written >= analyse_at {
                        bankmkt_platform::db::refresh_statistics(db, S::TABLES)
                            .await
                            .map_err(RegistryError::from)?;
                        analyse_at = written.saturating_mul(2);
                    }
                    tracing::debug!(
                        rpc = S::RPC,
                        received = summary.inner.received,
                        "ingestion progress"
                    );
                }
            }
            Part::Trailer(t) => trailer = Some(t),
        }
    }
    if !chunk.is_empty() {
        sink.write_chunk(chunk, &header, &mut summary).await?;
    }
    let check = reconcile::<S>(&summary, trailer.as_ref())?;
    let matched = check.matched;
    summary.inner.control_totals = Some(check);
    let extra = sink.extra();
    let outcome = StoredOutcome {
        summary: Some(summary.inner.clone()),
        extra,
    };
    let txn = db.begin().await.map_err(RegistryError::from)?;
    audit::record(
        &txn,
        AuditEntry {
            actor: caller.subject.clone(),
            via_service: caller.via_service.clone(),
            action: format!("ingest.{}", S::RPC),
            target_type: "ingest_batch".to_owned(),
            target_id: format!("{}/{}", header.source_system, header.batch_id),
            before: String::new(),
            after: format!(
                "received={} inserted={} updated={} replayed={} ignored_older={} rejected={} control_totals_matched={matched}",
                summary.inner.received, summary.inner.inserted, summary.inner.updated, summary.inner.replayed, summary.inner.ignored_older, summary.inner.rejected
            ),
            reason: if matched { String::new() } else { "control totals mismatch".to_owned() },
            request_id: request_id.to_owned(),
        },
        clock.now(),
    )
    .await
    .map_err(RegistryError::from)?;
    idempotency::remember(
        &txn,
        &scope,
        &header.idempotency_key,
        &hash,
        outcome.encode_to_vec(),
        clock.now(),
    )
    .await
    .map_err(RegistryError::from)?;
    txn.commit().await.map_err(RegistryError::from)?;
    if !matched {
        tracing::warn!(rpc = S::RPC, batch = %header.batch_id, "control totals do not match");
    }
    tracing::info!(
        rpc = S::RPC,
        received = summary.inner.received,
        rejected = summary.inner.rejected,
        "ingestion finished"
    );
    Ok((summary.inner, extra))
}

/// What is remembered for a completed batch.
#[derive(Clone, PartialEq, prost::Message)]
struct StoredOutcome {
    #[prost(message, optional, tag = "1")]
    summary: Option<v1::IngestSummary>,
    #[prost(int64, tag = "2")]
    extra: i64,
}

fn reconcile<S: Sink>(
    summary: &Summary,
    trailer: Option<&v1::IngestTrailer>,
) -> std::result::Result<v1::ControlTotalsCheck, tonic::Status> {
    let Some(totals) = trailer.and_then(|t| t.control_totals.as_ref()) else {
        return Ok(v1::ControlTotalsCheck {
            trailer_received: trailer.is_some(),
            matched: false,
            actual_record_count: summary.inner.received,
            ..Default::default()
        });
    };
    let mut v = Violations::new();
    let mut checks = Vec::new();
    let mut matched = totals.record_count == summary.inner.received;
    for (i, sum) in totals.amount_sums.iter().enumerate() {
        let Some(field) = S::SUM_FIELDS.iter().find(|f| **f == sum.field) else {
            v.add(
                format!("trailer.control_totals.amount_sums[{i}].field"),
                format!("`{}` is not one of {}", sum.field, S::SUM_FIELDS.join(", ")),
            );
            continue;
        };
        let expected = sum.sum.clone().unwrap_or_default();
        if expected.currency != "CNY" {
            v.add(
                format!("trailer.control_totals.amount_sums[{i}].sum.currency"),
                "must be CNY",
            );
        }
        let actual = summary.sums.get(field).copied().unwrap_or(0);
        let ok = expected.minor_units == actual;
        matched &= ok;
        checks.push(v1::AmountSumCheck {
            field: (*field).to_owned(),
            expected: Some(expected),
            actual: Some(v1::Money {
                currency: "CNY".to_owned(),
                minor_units: actual,
            }),
            matched: ok,
        });
    }
    if !v.is_empty() {
        return Err(v.into_status());
    }
    Ok(v1::ControlTotalsCheck {
        trailer_received: true,
        matched,
        expected_record_count: totals.record_count,
        actual_record_count: summary.inner.received,
        amount_sums: checks,
    })
}

/// A `tonic::Streaming` as a [`Source`], given how to split each message into a [`Part`].
pub struct GrpcSource<M, T> {
    stream: tonic::Streaming<M>,
    split: fn(M) -> Option<Part<T>>,
}

impl<M, T> GrpcSource<M, T> {
    /// Wraps a stream.
    pub fn new(stream: tonic::Streaming<M>, split: fn(M) -> Option<Part<T>>) -> Self {
        GrpcSource { stream, split }
    }
}

#[async_trait::async_trait]
impl<M: Send + 'static, T: Send> Source<T> for GrpcSource<M, T> {
    async fn next(&mut self) -> std::result::Result<Option<Part<T>>, tonic::Status> {
        loop {
            match self.stream.message().await? {
                None => return Ok(None),
                Some(m) => match (self.split)(m) {
                    Some(part) => return Ok(Some(part)),
                    // A message with no part set carries nothing; skip it.
                    None => continue,
                },
            }
        }
    }
}

/// A CNY amount in fen from an optional wire money; `None` when absent, an error text when the
/// currency is not CNY or the amount negative (and `allow_negative` is false).
pub fn cny(
    money: Option<&v1::Money>,
    allow_negative: bool,
) -> std::result::Result<Option<i64>, String> {
    match money {
        None => Ok(None),
        Some(m) if m.currency != "CNY" => Err(format!(
            "currency must be CNY (amounts arrive converted), not `{}`",
            m.currency
        )),
        Some(m) if m.minor_units < 0 && !allow_negative => Err("must not be negative".to_owned()),
        Some(m) => Ok(Some(m.minor_units)),
    }
}

/// Resolves the customer keys of a chunk in two queries: ids that exist (and are not merged), and
/// source references through the cross-reference table. Unknown keys are absent from the map.
pub async fn resolve_customers<C: sea_orm::ConnectionTrait>(
    db: &C,
    keys: &[&v1::CustomerKey],
) -> Result<std::collections::HashMap<String, String>> {
    use crate::customers::entity::{customer, customer_xref};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut ids = Vec::new();
    let mut refs = Vec::new();
    for k in keys {
        match &k.key {
            Some(v1::customer_key::Key::CustomerId(id)) => ids.push(id.clone()),
            Some(v1::customer_key::Key::SourceRef(r)) => {
                refs.push((r.source_system.clone(), r.source_id.clone()))
            }
            None => {}
        }
    }
    let mut out = std::collections::HashMap::new();
    if !ids.is_empty() {
        for row in customer::Entity::find()
            .filter(customer::Column::CustomerId.is_in(ids))
            .filter(customer::Column::Status.eq("active"))
            .all(db)
            .await?
        {
            out.insert(format!("id:{}", row.customer_id), row.customer_id);
        }
    }
    if !refs.is_empty() {
        let systems: Vec<String> = refs.iter().map(|(s, _)| s.clone()).collect();
        let source_ids: Vec<String> = refs.iter().map(|(_, i)| i.clone()).collect();
        for row in customer_xref::Entity::find()
            .filter(customer_xref::Column::SourceSystem.is_in(systems))
            .filter(customer_xref::Column::SourceId.is_in(source_ids))
            .all(db)
            .await?
        {
            out.insert(
                format!("ref:{}/{}", row.source_system, row.source_id),
                row.customer_id,
            );
        }
    }
    Ok(out)
}

/// The lookup key [`resolve_customers`] uses for a customer key.
pub fn key_of(key: &v1::CustomerKey) -> Option<String> {
    match &key.key {
        Some(v1::customer_key::Key::CustomerId(id)) => Some(format!("id:{id}")),
        Some(v1::customer_key::Key::SourceRef(r)) => {
            Some(format!("ref:{}/{}", r.source_system, r.source_id))
        }
        None => None,
    }
}

/// Validates a period: a real month, not after `today`'s month.
pub fn validate_period(
    field: &str,
    period: Option<&v1::Period>,
    today: chrono::NaiveDate,
    v: &mut Violations,
) -> Option<(i32, i32)> {
    use chrono::Datelike;
    let Some(p) = period else {
        v.add(field, "is required");
        return None;
    };
    if !(1900..=9999).contains(&p.year) || !(1..=12).contains(&p.month) {
        v.add(field, "must be a real month");
        return None;
    }
    if (p.year, p.month) > (today.year(), today.month() as i32) {
        v.add(field, format!("{}-{:02} is in the future", p.year, p.month));
        return None;
    }
    Some((p.year, p.month))
}

/// Writes one outbox event per customer in `customer_ids` (on the chunk's transaction), telling
/// consumers (and the 360's data version) that ingested data of each changed.
pub async fn customer_events<C: sea_orm::ConnectionTrait>(
    db: &C,
    customer_ids: &std::collections::BTreeSet<String>,
    event_type: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let events = customer_ids
        .iter()
        .map(|id| bankmkt_platform::outbox::Envelope {
            aggregate_type: "customer".to_owned(),
            aggregate_id: id.clone(),
            aggregate_version: 0,
            event_type: event_type.to_owned(),
            occurred_at: at,
            payload: v1::CustomerKey {
                key: Some(v1::customer_key::Key::CustomerId(id.clone())),
            }
            .encode_to_vec(),
        })
        .collect();
    bankmkt_platform::outbox::append_many(db, events).await?;
    Ok(())
}
