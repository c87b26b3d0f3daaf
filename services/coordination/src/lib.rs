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
//! - [`solution`] owns the needs statement and the solution quote (checked with pricing);
//!   [`tasks`] the tasks; [`playbooks`] the versioned playbooks and their application;
//!   [`bids`] internal bidding for the lead; [`m0302`] their tables and entities.
//! - [`grants`] keeps the registry's access grants (members read the targets' 360) in step with
//!   every write that changes an opportunity's members, targets or stage, before it commits.
//! - [`Migrator`] applies the schema; [`run`] serves the service until shutdown, and [`migrate`]
//!   applies the schema.
//! - Slice 2b: [`referrals`] (routing, decisions, outcomes, referrer scores), [`activities`]
//!   (activities with per-channel consent, touchpoint stream), [`rules`] (versioned cadence and
//!   SLA rules) and [`overdue`] (`ListOverdue`); [`directory`] reads what they need from the
//!   registry; [`rows`] holds the entities of the tables [`m0303`] creates.
//!
//! Every RPC of the contract is built; nothing returns made-up data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bids;
pub mod claims;
pub mod clients;
pub mod convert;
pub mod entity;
pub mod error;
pub mod grants;
pub mod m0302;
pub mod members;
pub mod migrations;
pub mod opportunities;
pub mod playbooks;
pub mod record;
pub mod shares;
pub mod solution;
pub mod store;
// -- slice 2b modules: referrals, activities, rules, overdue --
pub mod activities;
pub mod directory;
pub mod m0303;
pub mod overdue;
pub mod referrals;
pub mod rows;
pub mod rules;
// -- end slice 2b modules --
pub mod tasks;

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

    // -- referrals: methods below, up to the end anchor, belong to referrals --
    async fn create_referral(
        &self,
        request: Request<v1::CreateReferralRequest>,
    ) -> Result<Response<v1::CreateReferralResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(referrals::create(self, &caller, &request_id, message).await)
    }

    async fn get_referral(
        &self,
        request: Request<v1::GetReferralRequest>,
    ) -> Result<Response<v1::GetReferralResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(referrals::get(self, &caller, message).await)
    }

    async fn list_referrals(
        &self,
        request: Request<v1::ListReferralsRequest>,
    ) -> Result<Response<v1::ListReferralsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(referrals::list(self, &caller, message).await)
    }

    async fn accept_referral(
        &self,
        request: Request<v1::AcceptReferralRequest>,
    ) -> Result<Response<v1::AcceptReferralResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(referrals::accept(self, &caller, &request_id, message).await)
    }

    async fn decline_referral(
        &self,
        request: Request<v1::DeclineReferralRequest>,
    ) -> Result<Response<v1::DeclineReferralResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(referrals::decline(self, &caller, &request_id, message).await)
    }

    async fn record_referral_outcome(
        &self,
        request: Request<v1::RecordReferralOutcomeRequest>,
    ) -> Result<Response<v1::RecordReferralOutcomeResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(referrals::record_outcome(self, &caller, &request_id, message).await)
    }

    async fn get_referrer_score(
        &self,
        request: Request<v1::GetReferrerScoreRequest>,
    ) -> Result<Response<v1::GetReferrerScoreResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(referrals::score(self, &caller, message).await)
    }

    // -- end referrals --

    // -- activities: methods below, up to the end anchor, belong to activities --
    async fn create_activity(
        &self,
        request: Request<v1::CreateActivityRequest>,
    ) -> Result<Response<v1::CreateActivityResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(activities::create(self, &caller, &request_id, message).await)
    }

    async fn get_activity(
        &self,
        request: Request<v1::GetActivityRequest>,
    ) -> Result<Response<v1::GetActivityResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(activities::get(self, &caller, message).await)
    }

    async fn update_activity(
        &self,
        request: Request<v1::UpdateActivityRequest>,
    ) -> Result<Response<v1::UpdateActivityResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(activities::update(self, &caller, &request_id, message).await)
    }

    async fn list_activities(
        &self,
        request: Request<v1::ListActivitiesRequest>,
    ) -> Result<Response<v1::ListActivitiesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(activities::list(self, &caller, message).await)
    }

    async fn stream_touchpoints(
        &self,
        request: Request<v1::StreamTouchpointsRequest>,
    ) -> Result<Response<tonic::codegen::BoxStream<v1::StreamTouchpointsResponse>>, Status> {
        let (caller, _, message) = parts(request)?;
        let items = activities::stream(self, &caller, message)
            .await
            .map_err(Status::from)?;
        let stream = tonic::codegen::tokio_stream::iter(items.into_iter().map(Ok));
        Ok(Response::new(Box::pin(stream)))
    }

    // -- end activities --

    // -- rules: methods below, up to the end anchor, belong to rules --
    async fn create_cadence_rule(
        &self,
        request: Request<v1::CreateCadenceRuleRequest>,
    ) -> Result<Response<v1::CreateCadenceRuleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(rules::create_cadence(self, &caller, &request_id, message).await)
    }

    async fn update_cadence_rule(
        &self,
        request: Request<v1::UpdateCadenceRuleRequest>,
    ) -> Result<Response<v1::UpdateCadenceRuleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(rules::update_cadence(self, &caller, &request_id, message).await)
    }

    async fn list_cadence_rules(
        &self,
        request: Request<v1::ListCadenceRulesRequest>,
    ) -> Result<Response<v1::ListCadenceRulesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(rules::list_cadence(self, &caller, message).await)
    }

    async fn create_sla_rule(
        &self,
        request: Request<v1::CreateSlaRuleRequest>,
    ) -> Result<Response<v1::CreateSlaRuleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(rules::create_sla(self, &caller, &request_id, message).await)
    }

    async fn update_sla_rule(
        &self,
        request: Request<v1::UpdateSlaRuleRequest>,
    ) -> Result<Response<v1::UpdateSlaRuleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(rules::update_sla(self, &caller, &request_id, message).await)
    }

    async fn list_sla_rules(
        &self,
        request: Request<v1::ListSlaRulesRequest>,
    ) -> Result<Response<v1::ListSlaRulesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(rules::list_sla(self, &caller, message).await)
    }

    // -- end rules --

    // -- overdue: methods below, up to the end anchor, belong to overdue --
    async fn list_overdue(
        &self,
        request: Request<v1::ListOverdueRequest>,
    ) -> Result<Response<v1::ListOverdueResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(overdue::list(self, &caller, message).await)
    }

    // -- end overdue --

    // -- tasks: methods below, up to the end anchor, belong to tasks --
    async fn create_task(
        &self,
        request: Request<v1::CreateTaskRequest>,
    ) -> Result<Response<v1::CreateTaskResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(tasks::create(self, &caller, &request_id, message).await)
    }

    async fn update_task(
        &self,
        request: Request<v1::UpdateTaskRequest>,
    ) -> Result<Response<v1::UpdateTaskResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(tasks::update(self, &caller, &request_id, message).await)
    }

    async fn list_tasks(
        &self,
        request: Request<v1::ListTasksRequest>,
    ) -> Result<Response<v1::ListTasksResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tasks::list(self, &caller, message).await)
    }

    // -- end tasks --

    // -- solution: methods below, up to the end anchor, belong to solution --
    async fn update_needs_statement(
        &self,
        request: Request<v1::UpdateNeedsStatementRequest>,
    ) -> Result<Response<v1::UpdateNeedsStatementResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(solution::update_needs(self, &caller, &request_id, message).await)
    }

    async fn set_solution_quote(
        &self,
        request: Request<v1::SetSolutionQuoteRequest>,
    ) -> Result<Response<v1::SetSolutionQuoteResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(solution::set_quote(self, &caller, &request_id, message).await)
    }

    // -- end solution --

    // -- playbooks: methods below, up to the end anchor, belong to playbooks --
    async fn create_playbook(
        &self,
        request: Request<v1::CreatePlaybookRequest>,
    ) -> Result<Response<v1::CreatePlaybookResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(playbooks::create(self, &caller, &request_id, message).await)
    }

    async fn get_playbook(
        &self,
        request: Request<v1::GetPlaybookRequest>,
    ) -> Result<Response<v1::GetPlaybookResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(playbooks::get(self, &caller, message).await)
    }

    async fn list_playbooks(
        &self,
        request: Request<v1::ListPlaybooksRequest>,
    ) -> Result<Response<v1::ListPlaybooksResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(playbooks::list(self, &caller, message).await)
    }

    async fn update_playbook(
        &self,
        request: Request<v1::UpdatePlaybookRequest>,
    ) -> Result<Response<v1::UpdatePlaybookResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(playbooks::update(self, &caller, &request_id, message).await)
    }

    async fn apply_playbook(
        &self,
        request: Request<v1::ApplyPlaybookRequest>,
    ) -> Result<Response<v1::ApplyPlaybookResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(playbooks::apply(self, &caller, &request_id, message).await)
    }

    // -- end playbooks --

    // -- bids: methods below, up to the end anchor, belong to bids --
    async fn open_bid(
        &self,
        request: Request<v1::OpenBidRequest>,
    ) -> Result<Response<v1::OpenBidResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(bids::open(self, &caller, &request_id, message).await)
    }

    async fn submit_bid_proposal(
        &self,
        request: Request<v1::SubmitBidProposalRequest>,
    ) -> Result<Response<v1::SubmitBidProposalResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(bids::submit(self, &caller, &request_id, message).await)
    }

    async fn award_bid(
        &self,
        request: Request<v1::AwardBidRequest>,
    ) -> Result<Response<v1::AwardBidResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(bids::award(self, &caller, &request_id, message).await)
    }

    async fn get_bid(
        &self,
        request: Request<v1::GetBidRequest>,
    ) -> Result<Response<v1::GetBidResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(bids::get(self, &caller, message).await)
    }

    async fn list_bids(
        &self,
        request: Request<v1::ListBidsRequest>,
    ) -> Result<Response<v1::ListBidsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(bids::list(self, &caller, message).await)
    }

    // -- end bids --
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
