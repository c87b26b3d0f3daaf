//! The append-only audit log: who did what to which target, when, why, with a before/after
//! summary and the request id. Entries are written with [`record`] in the transaction of the change
//! they describe; the database refuses UPDATE and DELETE on the table (triggers created by the
//! platform migration), so history cannot be rewritten.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;

/// The `audit_log` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One audit entry.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        /// Insertion order.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// When the action happened.
        pub at: DateTimeUtc,
        /// The end user who acted.
        pub actor: String,
        /// The service that relayed the call, if any.
        pub via_service: Option<String>,
        /// What was done, e.g. `customer.handover.approve`.
        pub action: String,
        /// Kind of target, e.g. `customer`.
        pub target_type: String,
        /// Id of the target.
        pub target_id: String,
        /// Summary of the state before.
        pub before: String,
        /// Summary of the state after.
        pub after: String,
        /// The reason the actor gave.
        pub reason: String,
        /// The request id of the call that did it.
        pub request_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An entry to record.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AuditEntry {
    /// The end user who acted.
    pub actor: String,
    /// The service that relayed the call, if any.
    pub via_service: Option<String>,
    /// What was done.
    pub action: String,
    /// Kind of target.
    pub target_type: String,
    /// Id of the target.
    pub target_id: String,
    /// Summary before.
    pub before: String,
    /// Summary after.
    pub after: String,
    /// The actor's reason.
    pub reason: String,
    /// The request id.
    pub request_id: String,
}

/// Appends `entry` at `at` on `db` (pass the transaction of the change).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    entry: AuditEntry,
    at: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let model = entity::ActiveModel {
        at: Set(at),
        actor: Set(entry.actor),
        via_service: Set(entry.via_service),
        action: Set(entry.action),
        target_type: Set(entry.target_type),
        target_id: Set(entry.target_id),
        before: Set(entry.before),
        after: Set(entry.after),
        reason: Set(entry.reason),
        request_id: Set(entry.request_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model.id)
}

/// The history of one target, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    target_type: &str,
    target_id: &str,
) -> Result<Vec<entity::Model>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::TargetType.eq(target_type))
        .filter(entity::Column::TargetId.eq(target_id))
        .order_by_asc(entity::Column::Id)
        .all(db)
        .await
}

/// Number of entries.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    entity::Entity::find().count(db).await
}
