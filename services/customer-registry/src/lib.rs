//! The `bankmkt.v1.CustomerRegistry` service: customer master, organisation, relationships, holdings, value, segments and tiers.
//!
//! Layout:
//! - [`Registry`] is the tonic service, a thin adapter: protobuf ↔ `bankmkt-domain` ↔ storage.
//! - [`org`] owns the organisation: the branch tree with its history, and the staff directory.
//! - [`error`] is the one error type and its conversion to `tonic::Status`; [`convert`] the
//!   wire ↔ domain conversions.
//! - [`migrations`] is the schema; [`Migrator`] applies it; [`run`] serves the service until
//!   shutdown.
//!
//! RPCs not built yet answer `UNIMPLEMENTED` (the generated default); nothing returns made-up data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use bankmkt_platform::Caller;
use bankmkt_platform::bootstrap::ServiceContext;
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::db;
use bankmkt_platform::serve::serve_grpc;
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::Shutdown;
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_server::{CustomerRegistry, CustomerRegistryServer};
use tonic::{Request, Response, Status};

pub mod convert;
pub mod error;
pub mod migrations;
pub mod org;
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
    /// Now and today's business date.
    pub clock: Clock,
}

/// The caller, the request id and the message of a request.
#[allow(clippy::result_large_err)]
fn parts<T>(request: Request<T>) -> Result<(Caller, String, T), Status> {
    let caller = Caller::from_request(&request)?.clone();
    let request_id = request
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    Ok((caller, request_id, request.into_inner()))
}

fn reply<T>(result: error::Result<T>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl CustomerRegistry for Registry {
    async fn load_branches(
        &self,
        request: Request<v1::LoadBranchesRequest>,
    ) -> Result<Response<v1::LoadBranchesResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::branches::load(&self.db, &self.clock, &caller, &request_id, message).await)
    }

    async fn get_branch(
        &self,
        request: Request<v1::GetBranchRequest>,
    ) -> Result<Response<v1::GetBranchResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(org::branches::get(&self.db, &self.clock, message).await)
    }

    async fn list_branches(
        &self,
        request: Request<v1::ListBranchesRequest>,
    ) -> Result<Response<v1::ListBranchesResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(org::branches::list(&self.db, &self.clock, message).await)
    }

    async fn move_branch(
        &self,
        request: Request<v1::MoveBranchRequest>,
    ) -> Result<Response<v1::MoveBranchResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(
            org::branches::move_branch(&self.db, &self.clock, &caller, &request_id, message).await,
        )
    }

    async fn get_branch_chain(
        &self,
        request: Request<v1::GetBranchChainRequest>,
    ) -> Result<Response<v1::GetBranchChainResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(org::branches::chain(&self.db, &self.clock, message).await)
    }

    async fn load_employees(
        &self,
        request: Request<v1::LoadEmployeesRequest>,
    ) -> Result<Response<v1::LoadEmployeesResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::employees::load(&self.db, &self.clock, &caller, &request_id, message).await)
    }

    async fn get_employee(
        &self,
        request: Request<v1::GetEmployeeRequest>,
    ) -> Result<Response<v1::GetEmployeeResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(org::employees::get(&self.db, message).await)
    }

    async fn list_employees(
        &self,
        request: Request<v1::ListEmployeesRequest>,
    ) -> Result<Response<v1::ListEmployeesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(org::employees::list(&self.db, &self.clock, &caller, message).await)
    }

    async fn update_employee(
        &self,
        request: Request<v1::UpdateEmployeeRequest>,
    ) -> Result<Response<v1::UpdateEmployeeResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::employees::update(&self.db, &self.clock, &caller, &request_id, message).await)
    }
}

/// This service's migrations, starting with the platform's shared tables.
#[derive(Debug, Clone, Copy)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        migrations::all()
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
        clock: ctx.clock.clone(),
    })
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    serve_grpc(service, ctx.stack_config(KIND), listener, shutdown).await?;
    Ok(())
}
