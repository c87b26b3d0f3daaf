//! The `bankmkt.v1.CustomerRegistry` service: customer master, organisation, relationships, holdings, value, segments and tiers.
//!
//! Layout: [`Registry`] is the tonic service (a thin adapter: protobuf ↔ `bankmkt-domain` ↔ storage
//! and cache); [`Migrator`] holds this service's schema (today only the platform's shared tables);
//! [`run`] serves it on a listener until shutdown, and [`migrate`] applies the schema.
//!
//! Until its own issue builds them, every RPC answers `UNIMPLEMENTED` (the generated default);
//! nothing here returns made-up data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use bankmkt_platform::bootstrap::ServiceContext;
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::db;
use bankmkt_platform::serve::serve_grpc;
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::Shutdown;
use bankmkt_proto::v1::customer_registry_server::{CustomerRegistry, CustomerRegistryServer};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio::net::TcpListener;

/// Which service this is, for settings, schema and metrics.
pub const KIND: ServiceKind = ServiceKind::Registry;

/// The tonic implementation of `bankmkt.v1.CustomerRegistry`.
#[derive(Debug, Clone)]
pub struct Registry {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// The shared cache.
    pub cache: ReadThrough,
}

#[tonic::async_trait]
impl CustomerRegistry for Registry {}

/// This service's migrations, starting with the platform's shared tables.
#[derive(Debug, Clone, Copy)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        db::shared_migrations()
    }
}

/// Connects to this service's database and applies every pending migration.
pub async fn migrate(settings: &Settings) -> Result<(), DbErr> {
    db::open::<Migrator>(settings, KIND).await.map(|_| ())
}

/// Serves the service on `listener` until `shutdown` fires, then drains in-flight calls.
pub async fn run(
    ctx: ServiceContext,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let db = db::open::<Migrator>(&ctx.settings, KIND).await?;
    let limit = ctx.settings.max_message_bytes;
    let service = CustomerRegistryServer::new(Registry {
        db,
        cache: ctx.cache.clone(),
    })
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    serve_grpc(service, ctx.stack_config(KIND), listener, shutdown).await?;
    Ok(())
}
