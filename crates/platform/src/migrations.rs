//! The platform's own migrations: the outbox, the idempotency store and the append-only audit log.
//! Every service's migrator starts with these, so each service database carries its own copies
//! (one database or schema per service; no service reads another's tables).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

/// The shared-table migrations, in order.
pub fn shared_migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(CreateSharedTables), Box::new(OutboxByAggregate)]
}

/// Lets a service find the latest event of one aggregate (e.g. a customer's data version).
struct OutboxByAggregate;

impl MigrationName for OutboxByAggregate {
    fn name(&self) -> &str {
        "m0002_platform_outbox_by_aggregate"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxByAggregate {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("outbox_event_by_aggregate")
                    .table(OutboxEvent::Table)
                    .col(OutboxEvent::AggregateType)
                    .col(OutboxEvent::AggregateId)
                    .col(OutboxEvent::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OutboxEvent {
    Table,
    EventId,
    AggregateType,
    AggregateId,
    AggregateVersion,
    EventType,
    OccurredAt,
    Payload,
    PublishedAt,
    Seq,
}

#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    Scope,
    Key,
    RequestHash,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    ViaService,
    Action,
    TargetType,
    TargetId,
    Before,
    After,
    Reason,
    RequestId,
}

struct CreateSharedTables;

impl MigrationName for CreateSharedTables {
    fn name(&self) -> &str {
        "m0001_platform_shared_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSharedTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvent::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(OutboxEvent::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OutboxEvent::EventId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(OutboxEvent::AggregateType)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutboxEvent::AggregateId).string().not_null())
                    .col(
                        ColumnDef::new(OutboxEvent::AggregateVersion)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutboxEvent::EventType).string().not_null())
                    .col(
                        ColumnDef::new(OutboxEvent::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutboxEvent::Payload).binary().not_null())
                    .col(
                        ColumnDef::new(OutboxEvent::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_event_unpublished")
                    .table(OutboxEvent::Table)
                    .col(OutboxEvent::PublishedAt)
                    .col(OutboxEvent::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyRecord::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(IdempotencyRecord::Scope).string().not_null())
                    .col(ColumnDef::new(IdempotencyRecord::Key).string().not_null())
                    .col(
                        ColumnDef::new(IdempotencyRecord::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyRecord::Response)
                            .binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyRecord::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(IdempotencyRecord::Scope)
                            .col(IdempotencyRecord::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditLog::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::Actor).string().not_null())
                    .col(ColumnDef::new(AuditLog::ViaService).string().null())
                    .col(ColumnDef::new(AuditLog::Action).string().not_null())
                    .col(ColumnDef::new(AuditLog::TargetType).string().not_null())
                    .col(ColumnDef::new(AuditLog::TargetId).string().not_null())
                    .col(ColumnDef::new(AuditLog::Before).text().not_null())
                    .col(ColumnDef::new(AuditLog::After).text().not_null())
                    .col(ColumnDef::new(AuditLog::Reason).text().not_null())
                    .col(ColumnDef::new(AuditLog::RequestId).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_target")
                    .table(AuditLog::Table)
                    .col(AuditLog::TargetType)
                    .col(AuditLog::TargetId)
                    .col(AuditLog::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // The audit log is append-only in the database itself, not just by convention.
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
                )
                .await?;
            }
            DatabaseBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                )
                .await?;
            }
            other => {
                return Err(DbErr::Custom(format!("unsupported backend {other:?}")));
            }
        }
        Ok(())
    }
}
