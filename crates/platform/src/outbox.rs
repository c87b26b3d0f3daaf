//! The transactional outbox. A service that changes state writes an [`Envelope`] with
//! [`append`] on the same connection or transaction as the change, so the event exists exactly when
//! the change does. A relay later reads [`pending`] events in order, publishes them (to a Redis
//! Stream) and marks them with [`mark_published`]; until then they wait here, so nothing is lost
//! while Redis is down.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect};

/// The `outbox_event` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One stored event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_event")]
    pub struct Model {
        /// Insertion order; the relay publishes in this order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Globally unique event id (UUID v7), used by consumers to de-duplicate.
        #[sea_orm(unique)]
        pub event_id: String,
        /// Kind of aggregate that changed, e.g. `customer`.
        pub aggregate_type: String,
        /// Id of the aggregate that changed.
        pub aggregate_id: String,
        /// The aggregate's version after the change.
        pub aggregate_version: i64,
        /// What happened, e.g. `customer.tier_changed`.
        pub event_type: String,
        /// When the change happened.
        pub occurred_at: DateTimeUtc,
        /// The protobuf-encoded event body.
        pub payload: Vec<u8>,
        /// When the relay published it; `None` while pending.
        pub published_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Kind of aggregate that changed.
    pub aggregate_type: String,
    /// Id of the aggregate.
    pub aggregate_id: String,
    /// The aggregate's version after the change.
    pub aggregate_version: i64,
    /// What happened.
    pub event_type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Protobuf-encoded body.
    pub payload: Vec<u8>,
}

/// Appends `event` on `db` (pass the transaction of the change). Returns the new event id.
pub async fn append<C: ConnectionTrait>(db: &C, event: Envelope) -> Result<Uuid, DbErr> {
    let event_id = Uuid::now_v7();
    entity::ActiveModel {
        event_id: Set(event_id.to_string()),
        aggregate_type: Set(event.aggregate_type),
        aggregate_id: Set(event.aggregate_id),
        aggregate_version: Set(event.aggregate_version),
        event_type: Set(event.event_type),
        occurred_at: Set(event.occurred_at),
        payload: Set(event.payload),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(event_id)
}

/// Appends `events` on `db` with multi-row inserts (pass the transaction of the change), in
/// order. Returns their event ids.
pub async fn append_many<C: ConnectionTrait>(
    db: &C,
    events: Vec<Envelope>,
) -> Result<Vec<Uuid>, DbErr> {
    let mut ids = Vec::with_capacity(events.len());
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let event_id = Uuid::now_v7();
        ids.push(event_id);
        rows.push(entity::ActiveModel {
            event_id: Set(event_id.to_string()),
            aggregate_type: Set(event.aggregate_type),
            aggregate_id: Set(event.aggregate_id),
            aggregate_version: Set(event.aggregate_version),
            event_type: Set(event.event_type),
            occurred_at: Set(event.occurred_at),
            payload: Set(event.payload),
            published_at: Set(None),
            ..Default::default()
        });
    }
    // Eight parameters a row: 1,000 rows stay well under SQLite's bound-parameter limit.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<entity::ActiveModel> = rows.by_ref().take(1_000).collect();
        entity::Entity::insert_many(part)
            .exec_without_returning(db)
            .await?;
    }
    Ok(ids)
}

/// Up to `limit` unpublished events, oldest first.
pub async fn pending<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<entity::Model>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .order_by_asc(entity::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Marks events as published at `at`.
pub async fn mark_published<C: ConnectionTrait>(
    db: &C,
    event_ids: &[String],
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if event_ids.is_empty() {
        return Ok(0);
    }
    let result = entity::Entity::update_many()
        .col_expr(entity::Column::PublishedAt, Expr::value(at))
        .filter(entity::Column::EventId.is_in(event_ids.iter().cloned()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Number of stored events (published or not).
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    entity::Entity::find().count(db).await
}
