//! The `bankmkt.v1.Coordination` service: joint opportunities, units and shares, claims, bidding, referrals, activities and SLAs.
//!
//! Layout:
//! - [`CoordinationService`] is the tonic service, a thin adapter: protobuf ↔ `bankmkt-domain` ↔
//!   storage. Every business rule (stages and transitions, shares, amendments, claims, joins,
//!   members, consent for linked use) is the domain's `coordination` module.
//! - [`opportunities`] owns opportunities: create (with claims), read, list, update, linked
//!   targets (suggested from the registry's relationships), stage transitions and follow-ons.
//! - [`shares`] owns share amendments and the as-of reading of shares; [`members`] the
//!   memberships; [`claims`] the claim listing and the join requests of refused units.
//! - [`store`] reads and writes the opportunity aggregate, decides who sees and changes it, and
//!   takes, releases and transfers claims; [`clients`] calls the registry and pricing on behalf
//!   of the end user; [`record`] writes a change's audit entry and outbox event on its
//!   transaction; [`error`] is the one error type and its conversion to `tonic::Status`;
//!   [`convert`] the wire ↔ domain conversions, paging and idempotency helpers; [`entity`] the
//!   sea-orm entities of the tables [`migrations`] creates.
//! - [`Migrator`] applies the schema; [`run`] serves the service until shutdown, and [`migrate`]
//!   applies the schema.
//!
//! RPCs not built yet (tasks, playbooks, needs statement, solution quote, bidding, referrals,
//! activities, cadence and SLA rules, overdue) answer `UNIMPLEMENTED` (the generated default);
//! nothing returns made-up data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod claims;
pub mod clients;
pub mod convert;
pub mod entity;
pub mod error;
pub mod members;
pub mod migrations;
pub mod opportunities;
pub mod record;
pub mod shares;
pub mod store;

use bankmkt_platform::Caller;
use bankmkt_platform::bootstrap::ServiceContext;
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::client::ServiceIdentity;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::db;
use bankmkt_platform::serve::serve_grpc;
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::Shutdown;
use bankmkt_proto::v1;
use bankmkt_proto::v1::coordination_server::{Coordination, CoordinationServer};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

/// Which service this is, for settings, schema and metrics.
pub const KIND: ServiceKind = ServiceKind::Coordination;

/// The tonic implementation of `bankmkt.v1.Coordination`.
#[derive(Debug, Clone)]
pub struct CoordinationService {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// The shared cache.
    pub cache: ReadThrough,
    /// Now and today's business date.
    pub clock: Clock,
    /// The customer registry, called on behalf of the end user.
    pub registry: clients::Registry,
    /// The pricing service, called on behalf of the end user.
    pub pricing: clients::Pricing,
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
impl Coordination for CoordinationService {
    // -- opportunities: methods below, up to the end anchor, belong to opportunities --
    async fn create_opportunity(
        &self,
        request: Request<v1::CreateOpportunityRequest>,
    ) -> Result<Response<v1::CreateOpportunityResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(opportunities::create(self, &caller, &request_id, message).await)
    }

    async fn get_opportunity(
        &self,
        request: Request<v1::GetOpportunityRequest>,
    ) -> Result<Response<v1::GetOpportunityResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(opportunities::get(self, &caller, message).await)
    }

    async fn list_opportunities(
        &self,
        request: Request<v1::ListOpportunitiesRequest>,
    ) -> Result<Response<v1::ListOpportunitiesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(opportunities::list(self, &caller, message).await)
    }

    async fn update_opportunity(
        &self,
        request: Request<v1::UpdateOpportunityRequest>,
    ) -> Result<Response<v1::UpdateOpportunityResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(opportunities::update(self, &caller, &request_id, message).await)
    }

    async fn suggest_linked_targets(
        &self,
        request: Request<v1::SuggestLinkedTargetsRequest>,
    ) -> Result<Response<v1::SuggestLinkedTargetsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(opportunities::suggest(self, &caller, message).await)
    }

    async fn add_linked_targets(
        &self,
        request: Request<v1::AddLinkedTargetsRequest>,
    ) -> Result<Response<v1::AddLinkedTargetsResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(opportunities::add_targets(self, &caller, &request_id, message).await)
    }

    async fn remove_linked_target(
        &self,
        request: Request<v1::RemoveLinkedTargetRequest>,
    ) -> Result<Response<v1::RemoveLinkedTargetResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(opportunities::remove_target(self, &caller, &request_id, message).await)
    }

    async fn transition_stage(
        &self,
        request: Request<v1::TransitionStageRequest>,
    ) -> Result<Response<v1::TransitionStageResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(opportunities::transition(self, &caller, &request_id, message).await)
    }

    async fn create_follow_on_opportunity(
        &self,
        request: Request<v1::CreateFollowOnOpportunityRequest>,
    ) -> Result<Response<v1::CreateFollowOnOpportunityResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(opportunities::follow_on(self, &caller, &request_id, message).await)
    }

    // -- end opportunities --

    // -- shares: methods below, up to the end anchor, belong to shares --
    async fn propose_share_amendment(
        &self,
        request: Request<v1::ProposeShareAmendmentRequest>,
    ) -> Result<Response<v1::ProposeShareAmendmentResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(shares::propose(self, &caller, &request_id, message).await)
    }

    async fn accept_share_amendment(
        &self,
        request: Request<v1::AcceptShareAmendmentRequest>,
    ) -> Result<Response<v1::AcceptShareAmendmentResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(shares::accept(self, &caller, &request_id, message).await)
    }

    async fn reject_share_amendment(
        &self,
        request: Request<v1::RejectShareAmendmentRequest>,
    ) -> Result<Response<v1::RejectShareAmendmentResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(shares::reject(self, &caller, &request_id, message).await)
    }

    async fn list_share_amendments(
        &self,
        request: Request<v1::ListShareAmendmentsRequest>,
    ) -> Result<Response<v1::ListShareAmendmentsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(shares::list(self, &caller, message).await)
    }

    async fn get_shares(
        &self,
        request: Request<v1::GetSharesRequest>,
    ) -> Result<Response<v1::GetSharesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(shares::get(self, &caller, message).await)
    }

    async fn batch_get_shares(
        &self,
        request: Request<v1::BatchGetSharesRequest>,
    ) -> Result<Response<v1::BatchGetSharesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(shares::batch_get(self, &caller, message).await)
    }

    // -- end shares --

    // -- members: methods below, up to the end anchor, belong to members --
    async fn add_member(
        &self,
        request: Request<v1::AddMemberRequest>,
    ) -> Result<Response<v1::AddMemberResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(members::add(self, &caller, &request_id, message).await)
    }

    async fn remove_member(
        &self,
        request: Request<v1::RemoveMemberRequest>,
    ) -> Result<Response<v1::RemoveMemberResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(members::remove(self, &caller, &request_id, message).await)
    }

    async fn list_members(
        &self,
        request: Request<v1::ListMembersRequest>,
    ) -> Result<Response<v1::ListMembersResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(members::list(self, &caller, message).await)
    }

    // -- end members --

    // -- claims: methods below, up to the end anchor, belong to claims --
    async fn list_claims(
        &self,
        request: Request<v1::ListClaimsRequest>,
    ) -> Result<Response<v1::ListClaimsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(claims::list(self, &caller, message).await)
    }

    async fn create_join_request(
        &self,
        request: Request<v1::CreateJoinRequestRequest>,
    ) -> Result<Response<v1::CreateJoinRequestResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(claims::create_join(self, &caller, &request_id, message).await)
    }

    async fn list_join_requests(
        &self,
        request: Request<v1::ListJoinRequestsRequest>,
    ) -> Result<Response<v1::ListJoinRequestsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(claims::list_joins(self, &caller, message).await)
    }

    async fn accept_join_request(
        &self,
        request: Request<v1::AcceptJoinRequestRequest>,
    ) -> Result<Response<v1::AcceptJoinRequestResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(claims::accept_join(self, &caller, &request_id, message).await)
    }

    async fn decline_join_request(
        &self,
        request: Request<v1::DeclineJoinRequestRequest>,
    ) -> Result<Response<v1::DeclineJoinRequestResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(claims::decline_join(self, &caller, &request_id, message).await)
    }

    // -- end claims --
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
    let identity = || ServiceIdentity::new(KIND.short_name(), ctx.authenticator.clone());
    let deadline = ctx.settings.rpc_default_deadline;
    let registry = clients::Registry::connect_lazy(
        &ctx.settings.service(ServiceKind::Registry).endpoint,
        deadline,
        identity(),
    )?;
    let pricing = clients::Pricing::connect_lazy(
        &ctx.settings.service(ServiceKind::Pricing).endpoint,
        deadline,
        identity(),
    )?;
    let service = CoordinationServer::new(CoordinationService {
        db,
        cache: ctx.cache.clone(),
        clock: ctx.clock.clone(),
        registry,
        pricing,
    })
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    serve_grpc(service, ctx.stack_config(KIND), listener, shutdown).await?;
    Ok(())
}
