//! Database connections and migrations. A service connects with [`connect`], which picks the URL
//! from the settings (per-service URL, else the shared Postgres URL, else a SQLite file in the data
//! dir), caps the pool, and prepares the backend: SQLite in WAL mode with a busy timeout and
//! foreign keys on; Postgres with the service's own schema on the search path. [`migrate`] runs a
//! service's migrator, which always includes the platform's shared tables
//! ([`shared_migrations`]: outbox, idempotency store, audit log).

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
};
use sea_orm_migration::MigratorTrait;

use crate::settings::{ServiceKind, Settings};

pub use crate::migrations::shared_migrations;

/// SQLite serialises writers anyway; one pooled connection avoids `SQLITE_BUSY` when a deferred
/// transaction tries to upgrade from reading to writing while another writer holds the lock.
const SQLITE_MAX_CONNECTIONS: u32 = 1;

/// How a database should be opened.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://...` or `postgres://...`.
    pub url: String,
    /// Postgres schema to create and put on the search path (ignored for SQLite).
    pub schema: Option<String>,
    /// Pool cap (SQLite always uses one connection).
    pub max_connections: u32,
    /// SQLite busy timeout.
    pub busy_timeout: Duration,
}

impl DbOptions {
    /// The options for one service, from the settings.
    pub fn for_service(settings: &Settings, kind: ServiceKind) -> DbOptions {
        DbOptions {
            url: settings.database_url_for(kind),
            schema: Some(kind.short_name().to_owned()),
            max_connections: settings.database_max_connections,
            busy_timeout: settings.sqlite_busy_timeout,
        }
    }
}

/// Connects a service to its database (creating the SQLite data dir when needed).
pub async fn connect(settings: &Settings, kind: ServiceKind) -> Result<DatabaseConnection, DbErr> {
    if settings.database_url_for(kind).starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| DbErr::Custom(format!("data dir {}: {e}", settings.data_dir.display())))?;
    }
    connect_with(&DbOptions::for_service(settings, kind)).await
}

/// Connects with explicit options.
pub async fn connect_with(options: &DbOptions) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(options.url.clone());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if options.url.starts_with("sqlite:") {
        let busy = options.busy_timeout;
        opts.max_connections(SQLITE_MAX_CONNECTIONS)
            .min_connections(1)
            .map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(busy)
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        Database::connect(opts).await
    } else {
        opts.max_connections(options.max_connections.clamp(1, 200))
            .min_connections(0);
        if let Some(schema) = &options.schema {
            opts.set_schema_search_path(schema.clone());
        }
        let db = Database::connect(opts).await?;
        if let Some(schema) = &options.schema
            && db.get_database_backend() == DatabaseBackend::Postgres
        {
            ensure_identifier(schema)?;
            db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await?;
        }
        Ok(db)
    }
}

fn ensure_identifier(name: &str) -> Result<(), DbErr> {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(())
    } else {
        Err(DbErr::Custom(format!(
            "`{name}` is not a plain lower-case identifier"
        )))
    }
}

/// Connects a service to its database and applies its migrations.
///
/// On Postgres the migration runs on its own single connection under an advisory lock named after
/// the schema, so replicas starting together apply each migration once.
pub async fn open<M: MigratorTrait>(
    settings: &Settings,
    kind: ServiceKind,
) -> Result<DatabaseConnection, DbErr> {
    let db = connect(settings, kind).await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let mut options = DbOptions::for_service(settings, kind);
        options.max_connections = 1;
        let lock_id = i64::from(fnv1a(kind.short_name().as_bytes()));
        let session = connect_with(&options).await?;
        session
            .execute_unprepared(&format!("SELECT pg_advisory_lock({lock_id})"))
            .await?;
        let migrated = migrate::<M>(&session).await;
        let unlocked = session
            .execute_unprepared(&format!("SELECT pg_advisory_unlock({lock_id})"))
            .await;
        session.close().await?;
        migrated?;
        unlocked?;
    } else {
        migrate::<M>(&db).await?;
    }
    Ok(db)
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Applies every pending migration of `M`.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbErr> {
    M::up(db, None).await
}

/// A migrator holding only the platform's shared tables (tests, and services with no tables yet).
#[derive(Debug, Clone, Copy)]
pub struct SharedTablesMigrator;

impl MigratorTrait for SharedTablesMigrator {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        shared_migrations()
    }
}

/// Refreshes the planner statistics of `tables` (plain lower-case names in the service's schema)
/// on Postgres; a no-op on SQLite, whose planner takes a matching index without statistics.
///
/// Bulk loads call this as their tables grow. Postgres plans a prepared statement once and then
/// keeps its generic plan, so a lookup planned while a table was empty (or never analysed, as
/// with autovacuum off) keeps using only the leading index column and filters the rest: every
/// chunk then reads the whole table and a large load turns quadratic. `ANALYZE` both corrects
/// the estimates and invalidates the cached plans.
pub async fn refresh_statistics<C: ConnectionTrait>(db: &C, tables: &[&str]) -> Result<(), DbErr> {
    for table in tables {
        ensure_identifier(table)?;
    }
    if db.get_database_backend() != DatabaseBackend::Postgres || tables.is_empty() {
        return Ok(());
    }
    let list = tables
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    db.execute_unprepared(&format!("ANALYZE {list}")).await?;
    Ok(())
}

/// True when the error means the database could not be reached (maps to `UNAVAILABLE`).
pub fn is_unavailable(err: &DbErr) -> bool {
    matches!(err, DbErr::Conn(_) | DbErr::ConnectionAcquire(_))
}
