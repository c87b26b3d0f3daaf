//! The pricing service's schema, applied after the platform's shared tables, for SQLite and
//! Postgres alike. Every pricing table is created here, including those only the quote work
//! writes, so later work adds code and no tables:
//!
//! - `m0201_pricing_state_and_catalogue`: `pricing_state` (the one row holding the catalogue
//!   version that every catalogue or rule write bumps, with the unique stamp of that write that
//!   every cache key carries), `product` and `price_version`.
//! - `m0202_pricing_reference_data`: `reference_rate`, `regulatory_limit` (versioned),
//!   `fx_rate` and `authority_band` (versioned).
//! - `m0203_pricing_rules_and_bundles`: `pricing_rule` and `bundle` (versioned; conditions,
//!   targets, benefits, components and prerequisites as JSON text).
//! - `m0204_pricing_quotes`: `quote`, `quote_item`, `quote_decision` and
//!   `covenant_observation`.
//!
//! Versioned tables keep one row per version under the primary key `(id, version)`, so two
//! writers racing to store the same next version collide on the key. Dates are `DATE` columns.
//! Money is `i64` minor units or JSON holding minor units, rates are integer basis points, and
//! ratios are canonical decimal strings: never SQL decimals (see ARCHITECTURE.md).

// The identifier enums' variants are the column names, so some repeat the table's name.
#![allow(clippy::enum_variant_names)]

use sea_orm_migration::prelude::*;

/// Every pricing migration, in order (the platform's shared tables first).
pub fn all() -> Vec<Box<dyn MigrationTrait>> {
    let mut migrations = bankmkt_platform::db::shared_migrations();
    migrations.push(Box::new(Catalogue));
    migrations.push(Box::new(ReferenceData));
    migrations.push(Box::new(RulesAndBundles));
    migrations.push(Box::new(Quotes));
    migrations
}

/// The single row id of `pricing_state`.
pub const STATE_ROW: i32 = 1;

/// The catalogue stamp before the first write (nothing is cached under it: there is no data).
pub const INITIAL_STAMP: &str = "initial";

/// Creates `table` unless it exists.
async fn create(manager: &SchemaManager<'_>, table: TableCreateStatement) -> Result<(), DbErr> {
    manager.create_table(table).await
}

/// Creates an index unless it exists.
async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    for col in cols {
        stmt.col(col);
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

fn id_col(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn int(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().to_owned()
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn date(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).date().not_null().to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn flag(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().to_owned()
}

// ---------------------------------------------------------------------------------------------

#[derive(DeriveIden)]
enum PricingState {
    Table,
    Id,
    CatalogueVersion,
    CatalogueStamp,
}

#[derive(DeriveIden)]
enum Product {
    Table,
    ProductId,
    Name,
    Line,
    Kind,
    Category,
    Currency,
    Active,
    PriceVersionCount,
    Version,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum PriceVersion {
    Table,
    PriceVersionId,
    ProductId,
    Version,
    EffectiveFrom,
    EffectiveTo,
    ListRateBps,
    FeeSchedule,
    FtpRateBps,
    OperatingCostRatio,
    EconomicCapitalRatio,
    ProbabilityOfDefault,
    LossGivenDefault,
    CreatedBy,
    CreateTime,
    Reason,
}

struct Catalogue;

impl MigrationName for Catalogue {
    fn name(&self) -> &str {
        "m0201_pricing_state_and_catalogue"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Catalogue {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            Table::create()
                .table(PricingState::Table)
                .if_not_exists()
                .col(int(PricingState::Id).primary_key())
                .col(big(PricingState::CatalogueVersion))
                .col(id_col(PricingState::CatalogueStamp, 36))
                .to_owned(),
        )
        .await?;
        let mut seed = Query::insert();
        seed.into_table(PricingState::Table)
            .columns([
                PricingState::Id,
                PricingState::CatalogueVersion,
                PricingState::CatalogueStamp,
            ])
            .values([STATE_ROW.into(), 0i64.into(), INITIAL_STAMP.into()])
            .map_err(|e| DbErr::Custom(format!("pricing_state seed: {e}")))?
            .on_conflict(OnConflict::column(PricingState::Id).do_nothing().to_owned());
        manager.exec_stmt(seed).await?;
        create(
            manager,
            Table::create()
                .table(Product::Table)
                .if_not_exists()
                .col(id_col(Product::ProductId, 32).primary_key())
                .col(id_col(Product::Name, 200))
                .col(id_col(Product::Line, 32))
                .col(id_col(Product::Kind, 16))
                .col(id_col(Product::Category, 32))
                .col(id_col(Product::Currency, 3))
                .col(flag(Product::Active))
                .col(big(Product::PriceVersionCount))
                .col(big(Product::Version))
                .col(time(Product::CreateTime))
                .col(time(Product::UpdateTime))
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "product_kind",
            Product::Table,
            vec![Product::Kind.into_iden(), Product::ProductId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "product_category",
            Product::Table,
            vec![
                Product::Category.into_iden(),
                Product::ProductId.into_iden(),
            ],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(PriceVersion::Table)
                .if_not_exists()
                .col(id_col(PriceVersion::PriceVersionId, 36).primary_key())
                .col(id_col(PriceVersion::ProductId, 32))
                .col(big(PriceVersion::Version))
                .col(date(PriceVersion::EffectiveFrom))
                .col(ColumnDef::new(PriceVersion::EffectiveTo).date().null())
                .col(ColumnDef::new(PriceVersion::ListRateBps).integer().null())
                .col(ColumnDef::new(PriceVersion::FeeSchedule).text().null())
                .col(int(PriceVersion::FtpRateBps))
                .col(id_col(PriceVersion::OperatingCostRatio, 40))
                .col(id_col(PriceVersion::EconomicCapitalRatio, 40))
                .col(id_col(PriceVersion::ProbabilityOfDefault, 40))
                .col(id_col(PriceVersion::LossGivenDefault, 40))
                .col(id_col(PriceVersion::CreatedBy, 64))
                .col(time(PriceVersion::CreateTime))
                .col(id_col(PriceVersion::Reason, 2000))
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "price_version_product_version",
            PriceVersion::Table,
            vec![
                PriceVersion::ProductId.into_iden(),
                PriceVersion::Version.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "price_version_product_from",
            PriceVersion::Table,
            vec![
                PriceVersion::ProductId.into_iden(),
                PriceVersion::EffectiveFrom.into_iden(),
            ],
            false,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(DeriveIden)]
enum ReferenceRate {
    Table,
    Kind,
    EffectiveDate,
    RateBps,
    CreatedBy,
    CreateTime,
}

#[derive(DeriveIden)]
enum FxRate {
    Table,
    Currency,
    EffectiveDate,
    CnyPerUnit,
    CreatedBy,
    CreateTime,
}

#[derive(DeriveIden)]
enum RegulatoryLimit {
    Table,
    LimitId,
    Version,
    Name,
    Kind,
    ProductKind,
    ReferenceKind,
    SpreadBps,
    AbsoluteRateBps,
    MinTermMonths,
    MaxTermMonths,
    EffectiveFrom,
    EffectiveTo,
    CreatedBy,
    CreateTime,
    Reason,
}

#[derive(DeriveIden)]
enum AuthorityBand {
    Table,
    BandId,
    Version,
    Level,
    ProductKind,
    SortKey,
    MaxRateConcessionBps,
    MaxFeeConcessionBps,
    EffectiveFrom,
    EffectiveTo,
    CreatedBy,
    CreateTime,
    Reason,
}

struct ReferenceData;

impl MigrationName for ReferenceData {
    fn name(&self) -> &str {
        "m0202_pricing_reference_data"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReferenceData {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            Table::create()
                .table(ReferenceRate::Table)
                .if_not_exists()
                .col(id_col(ReferenceRate::Kind, 16))
                .col(date(ReferenceRate::EffectiveDate))
                .col(int(ReferenceRate::RateBps))
                .col(id_col(ReferenceRate::CreatedBy, 64))
                .col(time(ReferenceRate::CreateTime))
                .primary_key(
                    Index::create()
                        .col(ReferenceRate::Kind)
                        .col(ReferenceRate::EffectiveDate),
                )
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "reference_rate_date",
            ReferenceRate::Table,
            vec![
                ReferenceRate::EffectiveDate.into_iden(),
                ReferenceRate::Kind.into_iden(),
            ],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(FxRate::Table)
                .if_not_exists()
                .col(id_col(FxRate::Currency, 3))
                .col(date(FxRate::EffectiveDate))
                .col(id_col(FxRate::CnyPerUnit, 40))
                .col(id_col(FxRate::CreatedBy, 64))
                .col(time(FxRate::CreateTime))
                .primary_key(
                    Index::create()
                        .col(FxRate::Currency)
                        .col(FxRate::EffectiveDate),
                )
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "fx_rate_date",
            FxRate::Table,
            vec![
                FxRate::EffectiveDate.into_iden(),
                FxRate::Currency.into_iden(),
            ],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(RegulatoryLimit::Table)
                .if_not_exists()
                .col(id_col(RegulatoryLimit::LimitId, 36))
                .col(big(RegulatoryLimit::Version))
                .col(id_col(RegulatoryLimit::Name, 200))
                .col(id_col(RegulatoryLimit::Kind, 32))
                .col(id_col(RegulatoryLimit::ProductKind, 16))
                .col(
                    ColumnDef::new(RegulatoryLimit::ReferenceKind)
                        .string_len(16)
                        .null(),
                )
                .col(ColumnDef::new(RegulatoryLimit::SpreadBps).integer().null())
                .col(
                    ColumnDef::new(RegulatoryLimit::AbsoluteRateBps)
                        .integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(RegulatoryLimit::MinTermMonths)
                        .integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(RegulatoryLimit::MaxTermMonths)
                        .integer()
                        .null(),
                )
                .col(date(RegulatoryLimit::EffectiveFrom))
                .col(ColumnDef::new(RegulatoryLimit::EffectiveTo).date().null())
                .col(id_col(RegulatoryLimit::CreatedBy, 64))
                .col(time(RegulatoryLimit::CreateTime))
                .col(id_col(RegulatoryLimit::Reason, 2000))
                .primary_key(
                    Index::create()
                        .col(RegulatoryLimit::LimitId)
                        .col(RegulatoryLimit::Version),
                )
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "regulatory_limit_kind",
            RegulatoryLimit::Table,
            vec![
                RegulatoryLimit::Kind.into_iden(),
                RegulatoryLimit::ProductKind.into_iden(),
            ],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(AuthorityBand::Table)
                .if_not_exists()
                .col(id_col(AuthorityBand::BandId, 36))
                .col(big(AuthorityBand::Version))
                .col(id_col(AuthorityBand::Level, 32))
                .col(id_col(AuthorityBand::ProductKind, 16))
                .col(id_col(AuthorityBand::SortKey, 16))
                .col(int(AuthorityBand::MaxRateConcessionBps))
                .col(int(AuthorityBand::MaxFeeConcessionBps))
                .col(date(AuthorityBand::EffectiveFrom))
                .col(ColumnDef::new(AuthorityBand::EffectiveTo).date().null())
                .col(id_col(AuthorityBand::CreatedBy, 64))
                .col(time(AuthorityBand::CreateTime))
                .col(id_col(AuthorityBand::Reason, 2000))
                .primary_key(
                    Index::create()
                        .col(AuthorityBand::BandId)
                        .col(AuthorityBand::Version),
                )
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "authority_band_order",
            AuthorityBand::Table,
            vec![
                AuthorityBand::SortKey.into_iden(),
                AuthorityBand::BandId.into_iden(),
                AuthorityBand::Version.into_iden(),
            ],
            false,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(DeriveIden)]
enum PricingRule {
    Table,
    RuleId,
    Version,
    Name,
    Priority,
    Condition,
    Target,
    Benefit,
    Exclusive,
    EffectiveFrom,
    EffectiveTo,
    CreatedBy,
    CreateTime,
    Reason,
}

#[derive(DeriveIden)]
enum Bundle {
    Table,
    BundleId,
    Version,
    Name,
    Description,
    Components,
    Eligibility,
    Prerequisites,
    EffectiveFrom,
    EffectiveTo,
    Active,
    CreatedBy,
    CreateTime,
    Reason,
}

struct RulesAndBundles;

impl MigrationName for RulesAndBundles {
    fn name(&self) -> &str {
        "m0203_pricing_rules_and_bundles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RulesAndBundles {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            Table::create()
                .table(PricingRule::Table)
                .if_not_exists()
                .col(id_col(PricingRule::RuleId, 36))
                .col(big(PricingRule::Version))
                .col(id_col(PricingRule::Name, 200))
                .col(int(PricingRule::Priority))
                .col(text(PricingRule::Condition))
                .col(text(PricingRule::Target))
                .col(text(PricingRule::Benefit))
                .col(flag(PricingRule::Exclusive))
                .col(date(PricingRule::EffectiveFrom))
                .col(ColumnDef::new(PricingRule::EffectiveTo).date().null())
                .col(id_col(PricingRule::CreatedBy, 64))
                .col(time(PricingRule::CreateTime))
                .col(id_col(PricingRule::Reason, 2000))
                .primary_key(
                    Index::create()
                        .col(PricingRule::RuleId)
                        .col(PricingRule::Version),
                )
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "pricing_rule_order",
            PricingRule::Table,
            vec![
                PricingRule::Priority.into_iden(),
                PricingRule::RuleId.into_iden(),
                PricingRule::Version.into_iden(),
            ],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(Bundle::Table)
                .if_not_exists()
                .col(id_col(Bundle::BundleId, 36))
                .col(big(Bundle::Version))
                .col(id_col(Bundle::Name, 200))
                .col(text(Bundle::Description))
                .col(text(Bundle::Components))
                .col(text(Bundle::Eligibility))
                .col(text(Bundle::Prerequisites))
                .col(date(Bundle::EffectiveFrom))
                .col(ColumnDef::new(Bundle::EffectiveTo).date().null())
                .col(flag(Bundle::Active))
                .col(id_col(Bundle::CreatedBy, 64))
                .col(time(Bundle::CreateTime))
                .col(id_col(Bundle::Reason, 2000))
                .primary_key(Index::create().col(Bundle::BundleId).col(Bundle::Version))
                .to_owned(),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(DeriveIden)]
enum Quote {
    Table,
    QuoteId,
    CustomerId,
    BranchId,
    BranchPath,
    OpportunityId,
    BundleId,
    BundleVersion,
    Status,
    Verdict,
    RequiredLevel,
    Strategic,
    StrategicReason,
    Totals,
    ExistingContributionFen,
    CombinedContributionFen,
    MissingPrerequisites,
    RuleVersions,
    RegistryDataVersion,
    CatalogueVersion,
    HurdleRateBps,
    CreatedBy,
    CreateTime,
    SubmittedBy,
    SubmitTime,
    SubmitReason,
    ExpireTime,
    SupersedesQuoteId,
    Version,
    UpdateTime,
}

#[derive(DeriveIden)]
enum QuoteItem {
    Table,
    QuoteId,
    ItemId,
    Position,
    ProductId,
    ProductKind,
    Currency,
    PriceVersionId,
    Request,
    ListPrice,
    RelationshipPrice,
    ProposedPrice,
    ConcessionBps,
    RequiredLevel,
    YearFraction,
    Economics,
    FxRate,
    Rules,
    RegulatoryLimitIds,
    CovenantAgreedRatioBps,
    CovenantStepUpBps,
}

#[derive(DeriveIden)]
enum QuoteDecision {
    Table,
    Id,
    QuoteId,
    Outcome,
    ActorId,
    ApproverBranchId,
    Reason,
    DecideTime,
}

#[derive(DeriveIden)]
enum CovenantObservation {
    Table,
    Id,
    QuoteId,
    ItemId,
    Period,
    ObservedRatioBps,
    Breached,
    StepUpBps,
    NewQuoteId,
    RecordedBy,
    RecordTime,
}

struct Quotes;

impl MigrationName for Quotes {
    fn name(&self) -> &str {
        "m0204_pricing_quotes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Quotes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            Table::create()
                .table(Quote::Table)
                .if_not_exists()
                .col(id_col(Quote::QuoteId, 36).primary_key())
                .col(id_col(Quote::CustomerId, 36))
                .col(id_col(Quote::BranchId, 32))
                .col(text(Quote::BranchPath))
                .col(ColumnDef::new(Quote::OpportunityId).string_len(36).null())
                .col(ColumnDef::new(Quote::BundleId).string_len(36).null())
                .col(ColumnDef::new(Quote::BundleVersion).big_integer().null())
                .col(id_col(Quote::Status, 32))
                .col(id_col(Quote::Verdict, 32))
                .col(id_col(Quote::RequiredLevel, 32))
                .col(flag(Quote::Strategic))
                .col(id_col(Quote::StrategicReason, 2000))
                .col(text(Quote::Totals))
                .col(big(Quote::ExistingContributionFen))
                .col(big(Quote::CombinedContributionFen))
                .col(text(Quote::MissingPrerequisites))
                .col(text(Quote::RuleVersions))
                .col(big(Quote::RegistryDataVersion))
                .col(big(Quote::CatalogueVersion))
                .col(int(Quote::HurdleRateBps))
                .col(id_col(Quote::CreatedBy, 64))
                .col(time(Quote::CreateTime))
                .col(ColumnDef::new(Quote::SubmittedBy).string_len(64).null())
                .col(
                    ColumnDef::new(Quote::SubmitTime)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(Quote::SubmitReason).string_len(2000).null())
                .col(time(Quote::ExpireTime))
                .col(
                    ColumnDef::new(Quote::SupersedesQuoteId)
                        .string_len(36)
                        .null(),
                )
                .col(big(Quote::Version))
                .col(time(Quote::UpdateTime))
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "quote_customer",
            Quote::Table,
            vec![Quote::CustomerId.into_iden(), Quote::CreateTime.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "quote_opportunity",
            Quote::Table,
            vec![Quote::OpportunityId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "quote_status",
            Quote::Table,
            vec![Quote::Status.into_iden(), Quote::CreateTime.into_iden()],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(QuoteItem::Table)
                .if_not_exists()
                .col(id_col(QuoteItem::QuoteId, 36))
                .col(id_col(QuoteItem::ItemId, 8))
                .col(int(QuoteItem::Position))
                .col(id_col(QuoteItem::ProductId, 32))
                .col(id_col(QuoteItem::ProductKind, 16))
                .col(id_col(QuoteItem::Currency, 3))
                .col(id_col(QuoteItem::PriceVersionId, 36))
                .col(text(QuoteItem::Request))
                .col(text(QuoteItem::ListPrice))
                .col(text(QuoteItem::RelationshipPrice))
                .col(text(QuoteItem::ProposedPrice))
                .col(int(QuoteItem::ConcessionBps))
                .col(id_col(QuoteItem::RequiredLevel, 32))
                .col(id_col(QuoteItem::YearFraction, 40))
                .col(text(QuoteItem::Economics))
                .col(id_col(QuoteItem::FxRate, 40))
                .col(text(QuoteItem::Rules))
                .col(text(QuoteItem::RegulatoryLimitIds))
                .col(
                    ColumnDef::new(QuoteItem::CovenantAgreedRatioBps)
                        .integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(QuoteItem::CovenantStepUpBps)
                        .integer()
                        .null(),
                )
                .primary_key(
                    Index::create()
                        .col(QuoteItem::QuoteId)
                        .col(QuoteItem::ItemId),
                )
                .to_owned(),
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(QuoteDecision::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(QuoteDecision::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(id_col(QuoteDecision::QuoteId, 36))
                .col(id_col(QuoteDecision::Outcome, 16))
                .col(id_col(QuoteDecision::ActorId, 64))
                .col(id_col(QuoteDecision::ApproverBranchId, 32))
                .col(id_col(QuoteDecision::Reason, 2000))
                .col(time(QuoteDecision::DecideTime))
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "quote_decision_quote",
            QuoteDecision::Table,
            vec![
                QuoteDecision::QuoteId.into_iden(),
                QuoteDecision::Id.into_iden(),
            ],
            false,
        )
        .await?;
        create(
            manager,
            Table::create()
                .table(CovenantObservation::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(CovenantObservation::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(id_col(CovenantObservation::QuoteId, 36))
                .col(id_col(CovenantObservation::ItemId, 8))
                .col(id_col(CovenantObservation::Period, 7))
                .col(int(CovenantObservation::ObservedRatioBps))
                .col(flag(CovenantObservation::Breached))
                .col(int(CovenantObservation::StepUpBps))
                .col(
                    ColumnDef::new(CovenantObservation::NewQuoteId)
                        .string_len(36)
                        .null(),
                )
                .col(id_col(CovenantObservation::RecordedBy, 64))
                .col(time(CovenantObservation::RecordTime))
                .to_owned(),
        )
        .await?;
        index(
            manager,
            "covenant_observation_item",
            CovenantObservation::Table,
            vec![
                CovenantObservation::QuoteId.into_iden(),
                CovenantObservation::ItemId.into_iden(),
                CovenantObservation::Period.into_iden(),
            ],
            false,
        )
        .await
    }
}
