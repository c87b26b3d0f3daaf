//! The `bankmkt.v1.Pricing` service: catalogue, relationship pricing, bundles, quotes, approvals and simulation.
//!
//! Layout:
//! - [`PricingService`] is the tonic service, a thin adapter: protobuf ↔ `bankmkt-domain` ↔
//!   storage and cache. Every business rule (product and price validation, fee schedules,
//!   effective-range overlap, limits, bands) is the domain's `pricing` module.
//! - [`catalogue`] owns products and their effective-dated price versions.
//! - [`reference`] owns the reference-rate series, regulatory limits, FX rates and authority
//!   bands, and how a versioned series is read on a date.
//! - [`rules`] owns the versioned relationship pricing rules and the rules in force on a date
//!   ([`rules::in_force`], through the catalogue cache); [`bundles`] owns the versioned bundles,
//!   their current version ([`bundles::load`]) and a customer's eligibility for them;
//!   [`versions`] reads one version (or the latest) of such a series.
//! - [`facts`] reads a customer from the customer registry over gRPC, on behalf of the end user
//!   (the registry decides visibility), into the facts rules and bundles test.
//! - [`cache`] owns the catalogue version (bumped by every catalogue or rule write, readable with
//!   one primary-key lookup) and the versioned L1 + shared cache in front of the catalogue.
//! - [`access`] says who may write what; [`record`] writes a change's audit entry and outbox
//!   event on its transaction.
//! - [`error`] is the one error type and its conversion to `tonic::Status`; [`convert`] the
//!   wire ↔ domain conversions.
//! - [`migrations`] is the schema of every pricing table (including those of quotes, bundles and
//!   rules); [`Migrator`] applies it; [`run`] serves the service until shutdown, and [`migrate`]
//!   applies the schema.
//! - [`quotes`] owns quotes (priced by the domain's `price_quote` at one catalogue version and
//!   stored with an expiry), their maker-checker approvals (on the registry's branch chain),
//!   simulation and covenant step-ups, configured by [`quotes::Quoting`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
pub mod bundles;
pub mod cache;
pub mod catalogue;
pub mod convert;
pub mod error;
pub mod facts;
pub mod migrations;
pub mod quotes;
pub mod record;
pub mod reference;
pub mod rules;
pub mod versions;

use bankmkt_platform::Caller;
use bankmkt_platform::bootstrap::ServiceContext;
use bankmkt_platform::cache::ReadThrough;
use bankmkt_platform::clock::Clock;
use bankmkt_platform::db;
use bankmkt_platform::serve::serve_grpc;
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::Shutdown;
use bankmkt_proto::v1;
use bankmkt_proto::v1::pricing_server::{Pricing, PricingServer};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

/// Which service this is, for settings, schema and metrics.
pub const KIND: ServiceKind = ServiceKind::Pricing;

/// The tonic implementation of `bankmkt.v1.Pricing`.
#[derive(Debug, Clone)]
pub struct PricingService {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// The shared cache.
    pub cache: ReadThrough,
    /// Now and today's business date.
    pub clock: Clock,
    /// The L1 + shared cache of catalogue values, keyed by catalogue version.
    pub catalogue: cache::CatalogueCache,
    /// The customer registry, called on behalf of the end user.
    pub registry: facts::RegistryClient,
    /// The configuration of quoting and the registry's branch tree (see [`quotes`]).
    pub quoting: quotes::Quoting,
}

impl PricingService {
    /// A service on `db` with the shared `cache` and `clock`, reading customers from `registry`.
    pub fn new(
        db: DatabaseConnection,
        cache: ReadThrough,
        clock: Clock,
        registry: facts::RegistryClient,
    ) -> PricingService {
        PricingService {
            db,
            catalogue: cache::CatalogueCache::new(cache.clone()),
            cache,
            clock,
            registry,
            quoting: quotes::Quoting::default(),
        }
    }

    /// The same service with `quoting` as the configuration of quotes.
    pub fn with_quoting(mut self, quoting: quotes::Quoting) -> PricingService {
        self.quoting = quoting;
        self
    }
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
impl Pricing for PricingService {
    // -- catalogue: methods below, up to the end anchor, belong to catalogue --
    async fn create_product(
        &self,
        request: Request<v1::CreateProductRequest>,
    ) -> Result<Response<v1::CreateProductResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(catalogue::products::create(self, &caller, &request_id, message).await)
    }

    async fn get_product(
        &self,
        request: Request<v1::GetProductRequest>,
    ) -> Result<Response<v1::GetProductResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(catalogue::products::get(self, message).await)
    }

    async fn list_products(
        &self,
        request: Request<v1::ListProductsRequest>,
    ) -> Result<Response<v1::ListProductsResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(catalogue::products::list(self, message).await)
    }

    async fn update_product(
        &self,
        request: Request<v1::UpdateProductRequest>,
    ) -> Result<Response<v1::UpdateProductResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(catalogue::products::update(self, &caller, &request_id, message).await)
    }

    async fn create_price_version(
        &self,
        request: Request<v1::CreatePriceVersionRequest>,
    ) -> Result<Response<v1::CreatePriceVersionResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(catalogue::prices::create(self, &caller, &request_id, message).await)
    }

    async fn list_price_versions(
        &self,
        request: Request<v1::ListPriceVersionsRequest>,
    ) -> Result<Response<v1::ListPriceVersionsResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(catalogue::prices::list(self, message).await)
    }
    // -- end catalogue --

    // -- rules: methods below, up to the end anchor, belong to rules --
    async fn create_pricing_rule(
        &self,
        request: Request<v1::CreatePricingRuleRequest>,
    ) -> Result<Response<v1::CreatePricingRuleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(rules::create(self, &caller, &request_id, message).await)
    }

    async fn get_pricing_rule(
        &self,
        request: Request<v1::GetPricingRuleRequest>,
    ) -> Result<Response<v1::GetPricingRuleResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(rules::get(self, message).await)
    }

    async fn list_pricing_rules(
        &self,
        request: Request<v1::ListPricingRulesRequest>,
    ) -> Result<Response<v1::ListPricingRulesResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(rules::list(self, message).await)
    }

    async fn update_pricing_rule(
        &self,
        request: Request<v1::UpdatePricingRuleRequest>,
    ) -> Result<Response<v1::UpdatePricingRuleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(rules::update(self, &caller, &request_id, message).await)
    }
    // -- end rules --

    // -- reference: methods below, up to the end anchor, belong to reference --
    async fn create_authority_band(
        &self,
        request: Request<v1::CreateAuthorityBandRequest>,
    ) -> Result<Response<v1::CreateAuthorityBandResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(reference::bands::create(self, &caller, &request_id, message).await)
    }

    async fn list_authority_bands(
        &self,
        request: Request<v1::ListAuthorityBandsRequest>,
    ) -> Result<Response<v1::ListAuthorityBandsResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(reference::bands::list(self, message).await)
    }

    async fn update_authority_band(
        &self,
        request: Request<v1::UpdateAuthorityBandRequest>,
    ) -> Result<Response<v1::UpdateAuthorityBandResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(reference::bands::update(self, &caller, &request_id, message).await)
    }

    async fn create_reference_rate(
        &self,
        request: Request<v1::CreateReferenceRateRequest>,
    ) -> Result<Response<v1::CreateReferenceRateResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(reference::rates::create(self, &caller, &request_id, message).await)
    }

    async fn list_reference_rates(
        &self,
        request: Request<v1::ListReferenceRatesRequest>,
    ) -> Result<Response<v1::ListReferenceRatesResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(reference::rates::list(self, message).await)
    }

    async fn create_regulatory_limit(
        &self,
        request: Request<v1::CreateRegulatoryLimitRequest>,
    ) -> Result<Response<v1::CreateRegulatoryLimitResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(reference::limits::create(self, &caller, &request_id, message).await)
    }

    async fn list_regulatory_limits(
        &self,
        request: Request<v1::ListRegulatoryLimitsRequest>,
    ) -> Result<Response<v1::ListRegulatoryLimitsResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(reference::limits::list(self, message).await)
    }

    async fn update_regulatory_limit(
        &self,
        request: Request<v1::UpdateRegulatoryLimitRequest>,
    ) -> Result<Response<v1::UpdateRegulatoryLimitResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(reference::limits::update(self, &caller, &request_id, message).await)
    }

    async fn create_fx_rate(
        &self,
        request: Request<v1::CreateFxRateRequest>,
    ) -> Result<Response<v1::CreateFxRateResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(reference::fx::create(self, &caller, &request_id, message).await)
    }

    async fn list_fx_rates(
        &self,
        request: Request<v1::ListFxRatesRequest>,
    ) -> Result<Response<v1::ListFxRatesResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(reference::fx::list(self, message).await)
    }
    // -- end reference --

    // -- bundles: methods below, up to the end anchor, belong to bundles --
    async fn create_bundle(
        &self,
        request: Request<v1::CreateBundleRequest>,
    ) -> Result<Response<v1::CreateBundleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(bundles::create(self, &caller, &request_id, message).await)
    }

    async fn get_bundle(
        &self,
        request: Request<v1::GetBundleRequest>,
    ) -> Result<Response<v1::GetBundleResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(bundles::get(self, message).await)
    }

    async fn list_bundles(
        &self,
        request: Request<v1::ListBundlesRequest>,
    ) -> Result<Response<v1::ListBundlesResponse>, Status> {
        let (_caller, _, message) = parts(request)?;
        reply(bundles::list(self, message).await)
    }

    async fn update_bundle(
        &self,
        request: Request<v1::UpdateBundleRequest>,
    ) -> Result<Response<v1::UpdateBundleResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(bundles::update(self, &caller, &request_id, message).await)
    }

    async fn list_eligible_bundles(
        &self,
        request: Request<v1::ListEligibleBundlesRequest>,
    ) -> Result<Response<v1::ListEligibleBundlesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(bundles::list_eligible(self, &caller, message).await)
    }
    // -- end bundles --

    // -- quotes: methods below, up to the end anchor, belong to quotes --
    async fn create_quote(
        &self,
        request: Request<v1::CreateQuoteRequest>,
    ) -> Result<Response<v1::CreateQuoteResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(quotes::create::create(self, &caller, &request_id, message).await)
    }

    async fn get_quote(
        &self,
        request: Request<v1::GetQuoteRequest>,
    ) -> Result<Response<v1::GetQuoteResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(quotes::read::get(self, &caller, message).await)
    }

    async fn list_quotes(
        &self,
        request: Request<v1::ListQuotesRequest>,
    ) -> Result<Response<v1::ListQuotesResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(quotes::read::list(self, &caller, message).await)
    }

    async fn submit_quote(
        &self,
        request: Request<v1::SubmitQuoteRequest>,
    ) -> Result<Response<v1::SubmitQuoteResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(quotes::approvals::submit(self, &caller, &request_id, message).await)
    }

    async fn approve_quote(
        &self,
        request: Request<v1::ApproveQuoteRequest>,
    ) -> Result<Response<v1::ApproveQuoteResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(quotes::approvals::approve(self, &caller, &request_id, message).await)
    }

    async fn reject_quote(
        &self,
        request: Request<v1::RejectQuoteRequest>,
    ) -> Result<Response<v1::RejectQuoteResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(quotes::approvals::reject(self, &caller, &request_id, message).await)
    }

    async fn simulate_pricing(
        &self,
        request: Request<v1::SimulatePricingRequest>,
    ) -> Result<Response<v1::SimulatePricingResponse>, Status> {
        let (caller, _, message) = parts(request)?;
        reply(quotes::simulate::simulate(self, &caller, message).await)
    }

    async fn record_covenant_observation(
        &self,
        request: Request<v1::RecordCovenantObservationRequest>,
    ) -> Result<Response<v1::RecordCovenantObservationResponse>, Status> {
        let (caller, request_id, message) = parts(request)?;
        reply(quotes::covenants::record_observation(self, &caller, &request_id, message).await)
    }
    // -- end quotes --
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
    let registry = facts::RegistryClient::connect_lazy(
        &ctx.settings.service(ServiceKind::Registry).endpoint,
        ctx.settings.rpc_default_deadline,
        bankmkt_platform::client::ServiceIdentity::new(
            KIND.short_name(),
            ctx.authenticator.clone(),
        ),
    )?;
    let quoting = quotes::Quoting::from_context(&ctx)?;
    let service = PricingServer::new(
        PricingService::new(db, ctx.cache.clone(), ctx.clock.clone(), registry)
            .with_quoting(quoting),
    )
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    serve_grpc(service, ctx.stack_config(KIND), listener, shutdown).await?;
    Ok(())
}
