//! The `bankmkt.v1.CustomerRegistry` service: customer master, organisation, relationships, holdings, value, segments and tiers.
//!
//! Layout:
//! - [`Registry`] is the tonic service, a thin adapter: protobuf ↔ `bankmkt-domain` ↔ storage.
//! - [`org`] owns the organisation: the branch tree with its history, and the staff directory.
//! - [`ingest`] owns the client-streaming bulk upserts from core banking (customers, holdings,
//!   transactions) with per-record errors and control totals.
//! - [`customers`] owns the customer master: identity (sealed, blind-indexed), search, cross-references.
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
pub mod customers;
pub mod error;
pub mod grants;
pub mod ingest;
pub mod lifecycle;
pub mod migrations;
pub mod org;
pub mod ownership;
pub mod relationships;
pub mod tiers;
pub mod value;
pub mod view360;
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
    /// The customer master.
    pub customers: customers::Customers,
    /// The configured problem-customer alert rule.
    pub problem_alert: bankmkt_domain::lifecycle::ProblemAlertRule,
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
    // -- teams: methods below, up to the end anchor, belong to org::teams --
    async fn create_team(
        &self,
        request: Request<v1::CreateTeamRequest>,
    ) -> Result<Response<v1::CreateTeamResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::teams::create(&self.db, &self.clock, &caller, &request_id, message).await)
    }

    async fn get_team(
        &self,
        request: Request<v1::GetTeamRequest>,
    ) -> Result<Response<v1::GetTeamResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(org::teams::get(&self.db, &self.clock, &caller, message).await)
    }

    async fn list_teams(
        &self,
        request: Request<v1::ListTeamsRequest>,
    ) -> Result<Response<v1::ListTeamsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(org::teams::list(&self.db, &self.clock, &caller, message).await)
    }

    async fn update_team(
        &self,
        request: Request<v1::UpdateTeamRequest>,
    ) -> Result<Response<v1::UpdateTeamResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::teams::update(&self.db, &self.clock, &caller, &request_id, message).await)
    }

    async fn add_team_member(
        &self,
        request: Request<v1::AddTeamMemberRequest>,
    ) -> Result<Response<v1::AddTeamMemberResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::teams::add_member(&self.db, &self.clock, &caller, &request_id, message).await)
    }

    async fn remove_team_member(
        &self,
        request: Request<v1::RemoveTeamMemberRequest>,
    ) -> Result<Response<v1::RemoveTeamMemberResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(org::teams::remove_member(&self.db, &self.clock, &caller, &request_id, message).await)
    }
    // -- end teams --

    // -- relationships: methods below, up to the end anchor, belong to relationships --
    async fn link_customers(
        &self,
        request: Request<v1::LinkCustomersRequest>,
    ) -> Result<Response<v1::LinkCustomersResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(self.customers.link(&caller, &request_id, message).await)
    }

    async fn unlink_customers(
        &self,
        request: Request<v1::UnlinkCustomersRequest>,
    ) -> Result<Response<v1::UnlinkCustomersResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(self.customers.unlink(&caller, &request_id, message).await)
    }

    async fn list_relationships(
        &self,
        request: Request<v1::ListRelationshipsRequest>,
    ) -> Result<Response<v1::ListRelationshipsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.list_relationships(&caller, message).await)
    }

    async fn traverse_relationships(
        &self,
        request: Request<v1::TraverseRelationshipsRequest>,
    ) -> Result<Response<v1::TraverseRelationshipsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(
            self.customers
                .traverse_relationships(&caller, message)
                .await,
        )
    }
    // -- end relationships --

    // -- lifecycle: methods below, up to the end anchor, belong to lifecycle --
    async fn transition_lifecycle_stage(
        &self,
        request: Request<v1::TransitionLifecycleStageRequest>,
    ) -> Result<Response<v1::TransitionLifecycleStageResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(lifecycle::transition(&self.customers, &caller, &request_id, message).await)
    }

    async fn list_lifecycle_transitions(
        &self,
        request: Request<v1::ListLifecycleTransitionsRequest>,
    ) -> Result<Response<v1::ListLifecycleTransitionsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(lifecycle::list(&self.customers, &caller, message).await)
    }

    async fn list_problem_customer_ratios(
        &self,
        request: Request<v1::ListProblemCustomerRatiosRequest>,
    ) -> Result<Response<v1::ListProblemCustomerRatiosResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        // The alert threshold is configuration (DOMAIN.md §2); the default is 3% = 300 bp.
        let rule = self.problem_alert;
        reply(lifecycle::problem_ratios(&self.customers, rule, &caller, message).await)
    }
    // -- end lifecycle --

    // -- ownership: methods below, up to the end anchor, belong to ownership --
    async fn get_ownership(
        &self,
        request: Request<v1::GetOwnershipRequest>,
    ) -> Result<Response<v1::GetOwnershipResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::get(&self.customers, &caller, message).await)
    }

    async fn batch_get_ownerships(
        &self,
        request: Request<v1::BatchGetOwnershipsRequest>,
    ) -> Result<Response<v1::BatchGetOwnershipsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::batch_get(&self.customers, &caller, message).await)
    }

    async fn list_ownership_history(
        &self,
        request: Request<v1::ListOwnershipHistoryRequest>,
    ) -> Result<Response<v1::ListOwnershipHistoryResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::list_history(&self.customers, &caller, message).await)
    }

    async fn create_handover(
        &self,
        request: Request<v1::CreateHandoverRequest>,
    ) -> Result<Response<v1::CreateHandoverResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(ownership::handover::create(&self.customers, &caller, &request_id, message).await)
    }

    async fn get_handover(
        &self,
        request: Request<v1::GetHandoverRequest>,
    ) -> Result<Response<v1::GetHandoverResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::handover::get(&self.customers, &caller, message).await)
    }

    async fn list_handovers(
        &self,
        request: Request<v1::ListHandoversRequest>,
    ) -> Result<Response<v1::ListHandoversResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::handover::list(&self.customers, &caller, message).await)
    }

    async fn approve_handover(
        &self,
        request: Request<v1::ApproveHandoverRequest>,
    ) -> Result<Response<v1::ApproveHandoverResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let decided = ownership::handover::decide(
            &self.customers,
            &caller,
            &request_id,
            &m.handover_id,
            m.expected_version,
            &m.reason,
            bankmkt_domain::ownership::Decision::Approve,
        )
        .await;
        reply(decided.map(|h| v1::ApproveHandoverResponse { handover: Some(h) }))
    }

    async fn reject_handover(
        &self,
        request: Request<v1::RejectHandoverRequest>,
    ) -> Result<Response<v1::RejectHandoverResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let decided = ownership::handover::decide(
            &self.customers,
            &caller,
            &request_id,
            &m.handover_id,
            m.expected_version,
            &m.reason,
            bankmkt_domain::ownership::Decision::Reject,
        )
        .await;
        reply(decided.map(|h| v1::RejectHandoverResponse { handover: Some(h) }))
    }

    async fn create_reassignment(
        &self,
        request: Request<v1::CreateReassignmentRequest>,
    ) -> Result<Response<v1::CreateReassignmentResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(ownership::reassignment::create(&self.customers, &caller, &request_id, message).await)
    }

    async fn get_reassignment(
        &self,
        request: Request<v1::GetReassignmentRequest>,
    ) -> Result<Response<v1::GetReassignmentResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::reassignment::get(&self.customers, &caller, message).await)
    }

    async fn list_reassignments(
        &self,
        request: Request<v1::ListReassignmentsRequest>,
    ) -> Result<Response<v1::ListReassignmentsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(ownership::reassignment::list(&self.customers, &caller, message).await)
    }

    async fn approve_reassignment(
        &self,
        request: Request<v1::ApproveReassignmentRequest>,
    ) -> Result<Response<v1::ApproveReassignmentResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let decided = ownership::reassignment::decide(
            &self.customers,
            &caller,
            &request_id,
            &m.reassignment_id,
            m.expected_version,
            &m.reason,
            bankmkt_domain::ownership::Decision::Approve,
        )
        .await;
        reply(decided.map(|r| v1::ApproveReassignmentResponse {
            reassignment: Some(r),
        }))
    }

    async fn reject_reassignment(
        &self,
        request: Request<v1::RejectReassignmentRequest>,
    ) -> Result<Response<v1::RejectReassignmentResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let decided = ownership::reassignment::decide(
            &self.customers,
            &caller,
            &request_id,
            &m.reassignment_id,
            m.expected_version,
            &m.reason,
            bankmkt_domain::ownership::Decision::Reject,
        )
        .await;
        reply(decided.map(|r| v1::RejectReassignmentResponse {
            reassignment: Some(r),
        }))
    }
    // -- end ownership --

    // -- ingest: methods below, up to the end anchor, belong to ingest --
    async fn ingest_customers(
        &self,
        request: Request<tonic::Streaming<v1::IngestCustomersRequest>>,
    ) -> Result<Response<v1::IngestCustomersResponse>, Status> {
        use v1::ingest_customers_request::Part as P;
        let (caller, request_id, stream) = parts(request)?;
        let source = ingest::GrpcSource::new(stream, |m: v1::IngestCustomersRequest| {
            m.part.map(|p| match p {
                P::Header(h) => ingest::Part::Header(h),
                P::Record(r) => ingest::Part::Record(r),
                P::Trailer(t) => ingest::Part::Trailer(t),
            })
        });
        let sink = ingest::customers::CustomersSink {
            db: self.db.clone(),
            clock: self.clock.clone(),
            cache: self.cache.clone(),
            pii: self.customers.pii.clone(),
            tree: None,
        };
        let (summary, _) =
            ingest::run(&self.db, &self.clock, &caller, &request_id, source, sink).await?;
        Ok(Response::new(v1::IngestCustomersResponse {
            summary: Some(summary),
        }))
    }

    async fn ingest_holdings(
        &self,
        request: Request<tonic::Streaming<v1::IngestHoldingsRequest>>,
    ) -> Result<Response<v1::IngestHoldingsResponse>, Status> {
        use v1::ingest_holdings_request::Part as P;
        let (caller, request_id, stream) = parts(request)?;
        let source = ingest::GrpcSource::new(stream, |m: v1::IngestHoldingsRequest| {
            m.part.map(|p| match p {
                P::Header(h) => ingest::Part::Header(h),
                P::Record(r) => ingest::Part::Record(r),
                P::Trailer(t) => ingest::Part::Trailer(t),
            })
        });
        let sink = ingest::holdings::HoldingsSink::new(
            self.db.clone(),
            self.clock.clone(),
            self.cache.clone(),
        );
        let (summary, queued) =
            ingest::run(&self.db, &self.clock, &caller, &request_id, source, sink).await?;
        Ok(Response::new(v1::IngestHoldingsResponse {
            summary: Some(summary),
            customers_queued_for_rescoring: queued,
        }))
    }

    async fn ingest_transactions(
        &self,
        request: Request<tonic::Streaming<v1::IngestTransactionsRequest>>,
    ) -> Result<Response<v1::IngestTransactionsResponse>, Status> {
        use ingest::transactions::TransactionRecord as R;
        use v1::ingest_transactions_request::Part as P;
        let (caller, request_id, stream) = parts(request)?;
        let source = ingest::GrpcSource::new(stream, |m: v1::IngestTransactionsRequest| {
            m.part.map(|p| match p {
                P::Header(h) => ingest::Part::Header(h),
                P::Transaction(t) => ingest::Part::Record(R::Single(t)),
                P::MonthSummary(s) => ingest::Part::Record(R::Month(s)),
                P::Trailer(t) => ingest::Part::Trailer(t),
            })
        });
        let sink = ingest::transactions::TransactionsSink {
            db: self.db.clone(),
            clock: self.clock.clone(),
            cache: self.cache.clone(),
        };
        let (summary, _) =
            ingest::run(&self.db, &self.clock, &caller, &request_id, source, sink).await?;
        Ok(Response::new(v1::IngestTransactionsResponse {
            summary: Some(summary),
        }))
    }

    async fn list_holdings(
        &self,
        request: Request<v1::ListHoldingsRequest>,
    ) -> Result<Response<v1::ListHoldingsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.list_holdings(&caller, message).await)
    }

    async fn list_transactions(
        &self,
        request: Request<v1::ListTransactionsRequest>,
    ) -> Result<Response<v1::ListTransactionsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.list_transactions(&caller, message).await)
    }
    // -- end ingest --

    // -- value: methods below, up to the end anchor, belong to value --
    async fn create_ahp_matrix(
        &self,
        request: Request<v1::CreateAhpMatrixRequest>,
    ) -> Result<Response<v1::CreateAhpMatrixResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(value::rules::create_ahp_matrix(&self.customers, &caller, &request_id, message).await)
    }

    async fn get_ahp_matrix(
        &self,
        request: Request<v1::GetAhpMatrixRequest>,
    ) -> Result<Response<v1::GetAhpMatrixResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(value::rules::get_ahp_matrix(&self.customers, message).await)
    }

    async fn list_ahp_matrices(
        &self,
        request: Request<v1::ListAhpMatricesRequest>,
    ) -> Result<Response<v1::ListAhpMatricesResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(value::rules::list_ahp_matrices(&self.customers, message).await)
    }

    async fn create_factor_assessment(
        &self,
        request: Request<v1::CreateFactorAssessmentRequest>,
    ) -> Result<Response<v1::CreateFactorAssessmentResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(value::assessments::create(&self.customers, &caller, &request_id, message).await)
    }

    async fn list_factor_assessments(
        &self,
        request: Request<v1::ListFactorAssessmentsRequest>,
    ) -> Result<Response<v1::ListFactorAssessmentsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::assessments::list(&self.customers, &caller, message).await)
    }

    async fn get_value_score(
        &self,
        request: Request<v1::GetValueScoreRequest>,
    ) -> Result<Response<v1::GetValueScoreResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::get_value_score(&self.customers, &caller, message).await)
    }

    async fn list_value_scores(
        &self,
        request: Request<v1::ListValueScoresRequest>,
    ) -> Result<Response<v1::ListValueScoresResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::list_value_scores(&self.customers, &caller, message).await)
    }

    async fn get_contribution(
        &self,
        request: Request<v1::GetContributionRequest>,
    ) -> Result<Response<v1::GetContributionResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::get_contribution(&self.customers, &caller, message).await)
    }

    async fn list_contributions(
        &self,
        request: Request<v1::ListContributionsRequest>,
    ) -> Result<Response<v1::ListContributionsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::list_contributions(&self.customers, &caller, message).await)
    }

    async fn create_ge_weights(
        &self,
        request: Request<v1::CreateGeWeightsRequest>,
    ) -> Result<Response<v1::CreateGeWeightsResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(value::rules::create_ge_weights(&self.customers, &caller, &request_id, message).await)
    }

    async fn list_ge_weights(
        &self,
        request: Request<v1::ListGeWeightsRequest>,
    ) -> Result<Response<v1::ListGeWeightsResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(value::rules::list_ge_weights(&self.customers, message).await)
    }

    async fn get_ge_classification(
        &self,
        request: Request<v1::GetGeClassificationRequest>,
    ) -> Result<Response<v1::GetGeClassificationResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::get_ge_classification(&self.customers, &caller, message).await)
    }

    async fn get_dormancy(
        &self,
        request: Request<v1::GetDormancyRequest>,
    ) -> Result<Response<v1::GetDormancyResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::get_dormancy(&self.customers, &caller, message).await)
    }

    async fn list_dormant_customers(
        &self,
        request: Request<v1::ListDormantCustomersRequest>,
    ) -> Result<Response<v1::ListDormantCustomersResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::list_dormant(&self.customers, &caller, message).await)
    }

    async fn get_rfm(
        &self,
        request: Request<v1::GetRfmRequest>,
    ) -> Result<Response<v1::GetRfmResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(value::results::get_rfm(&self.customers, &caller, message).await)
    }

    async fn start_rescoring(
        &self,
        request: Request<v1::StartRescoringRequest>,
    ) -> Result<Response<v1::StartRescoringResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(value::jobs::start(&self.customers, &caller, &request_id, message).await)
    }

    async fn get_rescoring_job(
        &self,
        request: Request<v1::GetRescoringJobRequest>,
    ) -> Result<Response<v1::GetRescoringJobResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(value::jobs::get(&self.customers, message).await)
    }
    // -- end value --

    // -- view360: methods below, up to the end anchor, belong to view360 --
    async fn get_customer360(
        &self,
        request: Request<v1::GetCustomer360Request>,
    ) -> Result<Response<v1::GetCustomer360Response>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.get_360(&caller, message).await)
    }

    async fn set_customer_access_grants(
        &self,
        request: Request<v1::SetCustomerAccessGrantsRequest>,
    ) -> Result<Response<v1::SetCustomerAccessGrantsResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(grants::set(&self.db, &self.clock, &caller, &request_id, message).await)
    }
    async fn merge_customers(
        &self,
        request: Request<v1::MergeCustomersRequest>,
    ) -> Result<Response<v1::MergeCustomersResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(self.customers.merge(&caller, &request_id, message).await)
    }
    // -- end view360 --

    // -- tiers: methods below, up to the end anchor, belong to tiers --
    async fn create_tier_rule_set(
        &self,
        request: Request<v1::CreateTierRuleSetRequest>,
    ) -> Result<Response<v1::CreateTierRuleSetResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(tiers::rules::create(&self.customers, &caller, &request_id, message).await)
    }

    async fn list_tier_rule_sets(
        &self,
        request: Request<v1::ListTierRuleSetsRequest>,
    ) -> Result<Response<v1::ListTierRuleSetsResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(tiers::rules::list(&self.customers, message).await)
    }

    async fn evaluate_tiers(
        &self,
        request: Request<v1::EvaluateTiersRequest>,
    ) -> Result<Response<v1::EvaluateTiersResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(tiers::evaluate::evaluate(&self.customers, &caller, &request_id, message).await)
    }

    async fn get_tier_change_list(
        &self,
        request: Request<v1::GetTierChangeListRequest>,
    ) -> Result<Response<v1::GetTierChangeListResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tiers::changes::get(&self.customers, &caller, message).await)
    }

    async fn list_tier_change_lists(
        &self,
        request: Request<v1::ListTierChangeListsRequest>,
    ) -> Result<Response<v1::ListTierChangeListsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tiers::changes::list(&self.customers, &caller, message).await)
    }

    async fn list_tier_changes(
        &self,
        request: Request<v1::ListTierChangesRequest>,
    ) -> Result<Response<v1::ListTierChangesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tiers::changes::list_changes(&self.customers, &caller, message).await)
    }

    async fn approve_tier_change_list(
        &self,
        request: Request<v1::ApproveTierChangeListRequest>,
    ) -> Result<Response<v1::ApproveTierChangeListResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let decided = tiers::changes::decide(
            &self.customers,
            &caller,
            &request_id,
            &m.change_list_id,
            m.expected_version,
            &m.reason,
            bankmkt_domain::ownership::Decision::Approve,
        )
        .await;
        reply(decided.map(|l| v1::ApproveTierChangeListResponse {
            change_list: Some(l),
        }))
    }

    async fn reject_tier_change_list(
        &self,
        request: Request<v1::RejectTierChangeListRequest>,
    ) -> Result<Response<v1::RejectTierChangeListResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let decided = tiers::changes::decide(
            &self.customers,
            &caller,
            &request_id,
            &m.change_list_id,
            m.expected_version,
            &m.reason,
            bankmkt_domain::ownership::Decision::Reject,
        )
        .await;
        reply(decided.map(|l| v1::RejectTierChangeListResponse {
            change_list: Some(l),
        }))
    }

    async fn list_tier_history(
        &self,
        request: Request<v1::ListTierHistoryRequest>,
    ) -> Result<Response<v1::ListTierHistoryResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tiers::changes::history(&self.customers, &caller, message).await)
    }

    async fn start_segmentation(
        &self,
        request: Request<v1::StartSegmentationRequest>,
    ) -> Result<Response<v1::StartSegmentationResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(tiers::segments::start(&self.customers, &caller, &request_id, message).await)
    }

    async fn get_segmentation_run(
        &self,
        request: Request<v1::GetSegmentationRunRequest>,
    ) -> Result<Response<v1::GetSegmentationRunResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tiers::segments::get(&self.customers, &caller, message).await)
    }

    async fn list_segments(
        &self,
        request: Request<v1::ListSegmentsRequest>,
    ) -> Result<Response<v1::ListSegmentsResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(tiers::segments::list(&self.customers, &caller, message).await)
    }
    // -- end tiers --

    // -- customers: methods below, up to the end anchor, belong to customers --
    async fn create_customer(
        &self,
        request: Request<v1::CreateCustomerRequest>,
    ) -> Result<Response<v1::CreateCustomerResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(self.customers.create(&caller, &request_id, message).await)
    }

    async fn get_customer(
        &self,
        request: Request<v1::GetCustomerRequest>,
    ) -> Result<Response<v1::GetCustomerResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.get(&caller, message).await)
    }

    async fn batch_get_customers(
        &self,
        request: Request<v1::BatchGetCustomersRequest>,
    ) -> Result<Response<v1::BatchGetCustomersResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.batch_get(&caller, message).await)
    }

    async fn update_customer(
        &self,
        request: Request<v1::UpdateCustomerRequest>,
    ) -> Result<Response<v1::UpdateCustomerResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(self.customers.update(&caller, &request_id, message).await)
    }

    async fn search_customers(
        &self,
        request: Request<v1::SearchCustomersRequest>,
    ) -> Result<Response<v1::SearchCustomersResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.search(&caller, message).await)
    }

    async fn add_cross_reference(
        &self,
        request: Request<v1::AddCrossReferenceRequest>,
    ) -> Result<Response<v1::AddCrossReferenceResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let customer = self
            .customers
            .change_xref(
                &caller,
                &request_id,
                &m.customer_id,
                m.source_ref.as_ref(),
                m.expected_version,
                true,
            )
            .await;
        reply(customer.map(|c| v1::AddCrossReferenceResponse { customer: Some(c) }))
    }

    async fn remove_cross_reference(
        &self,
        request: Request<v1::RemoveCrossReferenceRequest>,
    ) -> Result<Response<v1::RemoveCrossReferenceResponse>, Status> {
        let (caller, request_id, m) = parts(request)?;
        let customer = self
            .customers
            .change_xref(
                &caller,
                &request_id,
                &m.customer_id,
                m.source_ref.as_ref(),
                m.expected_version,
                false,
            )
            .await;
        reply(customer.map(|c| v1::RemoveCrossReferenceResponse { customer: Some(c) }))
    }
    async fn get_consent(
        &self,
        request: Request<v1::GetConsentRequest>,
    ) -> Result<Response<v1::GetConsentResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(self.customers.get_consent(&caller, message).await)
    }

    async fn update_consent(
        &self,
        request: Request<v1::UpdateConsentRequest>,
    ) -> Result<Response<v1::UpdateConsentResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(
            self.customers
                .update_consent(&caller, &request_id, message)
                .await,
        )
    }

    async fn check_contact_permission(
        &self,
        request: Request<v1::CheckContactPermissionRequest>,
    ) -> Result<Response<v1::CheckContactPermissionResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(
            self.customers
                .check_contact_permission(&caller, message)
                .await,
        )
    }
    // -- end customers --

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
    let problem_alert =
        bankmkt_domain::lifecycle::ProblemAlertRule::new(ctx.settings.problem_ratio_alert_bps)
            .map_err(|e| anyhow::anyhow!(e))?;
    let customers = customers::Customers {
        db: db.clone(),
        cache: ctx.cache.clone(),
        clock: ctx.clock.clone(),
        pii: ctx.pii.clone(),
        trees: Default::default(),
    };
    let service = CustomerRegistryServer::new(Registry {
        db,
        cache: ctx.cache.clone(),
        clock: ctx.clock.clone(),
        customers,
        problem_alert,
    })
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    serve_grpc(service, ctx.stack_config(KIND), listener, shutdown).await?;
    Ok(())
}
