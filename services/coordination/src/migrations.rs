//! The coordination service's schema, applied after the platform's shared tables, for SQLite and
//! Postgres alike. `m0301_coordination_opportunities` creates `opportunity` (the header, stage,
//! the materialised paths and lines of its units for subtree and line filters),
//! `share_version` (the effective-dated history of units and shares, one row per version),
//! `linked_target`, `member` (effective-dated memberships), `claim` (every claim ever taken, with
//! its state), `active_claim` (one row per **active** claim, primary key `(customer_id, line)`:
//! the unique constraint that decides between concurrent creates — a row exists only while its
//! claim is active), `share_amendment` and `join_request`. Units and acceptances are stored as
//! JSON text, goals and needs statements as their protobuf encoding; money is minor units and
//! shares are integer basis points, never SQL decimals (see ARCHITECTURE.md).

// The identifier enums' variants are the column names, so some repeat the table's name.
#![allow(clippy::enum_variant_names)]

use sea_orm_migration::prelude::*;

/// Every coordination migration, in order (the platform's shared tables first).
pub fn all() -> Vec<Box<dyn MigrationTrait>> {
    let mut migrations = bankmkt_platform::db::shared_migrations();
    migrations.push(Box::new(Opportunities));
    migrations.push(Box::new(crate::m0302::TasksPlaybooksBids));
    migrations.push(Box::new(crate::m0303::ReferralsActivitiesRules));
    migrations
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt.to_owned()).await
}

fn id_col(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().to_owned()
}

fn opt_id(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).null().to_owned()
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

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn opt_time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn opt_date(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).date().null().to_owned()
}

#[derive(DeriveIden)]
enum Opportunity {
    Table,
    OpportunityId,
    Name,
    OpportunityType,
    TargetCustomerId,
    Goal,
    Plan,
    StartDate,
    TargetCloseDate,
    Stage,
    StageReason,
    NeedsStatement,
    SolutionQuoteId,
    AfterSalesPrimary,
    AfterSalesBackup,
    ParentOpportunityId,
    FollowOnOpportunityId,
    HoldsClaims,
    UnitPaths,
    UnitLines,
    CreatedBy,
    CreateTime,
    UpdateTime,
    Version,
}

#[derive(DeriveIden)]
enum ShareVersion {
    Table,
    OpportunityId,
    Seq,
    EffectiveFrom,
    Source,
    Units,
    CreateTime,
}

#[derive(DeriveIden)]
enum LinkedTarget {
    Table,
    OpportunityId,
    CustomerId,
    RelationshipType,
    ViaCustomerId,
    AddedBy,
    AddTime,
}

#[derive(DeriveIden)]
enum Member {
    Table,
    MemberId,
    OpportunityId,
    EmployeeId,
    UnitBranch,
    UnitLine,
    Role,
    ActiveFrom,
    ActiveTo,
    AddedBy,
    AddTime,
}

#[derive(DeriveIden)]
enum Claim {
    Table,
    ClaimId,
    CustomerId,
    Line,
    OpportunityId,
    State,
    CreateTime,
    EndTime,
}

#[derive(DeriveIden)]
enum ActiveClaim {
    Table,
    CustomerId,
    Line,
    ClaimId,
    OpportunityId,
}

#[derive(DeriveIden)]
enum ShareAmendment {
    Table,
    AmendmentId,
    OpportunityId,
    ProposedUnits,
    EffectiveDate,
    Status,
    Acceptances,
    JoinRequestId,
    Proposer,
    Reason,
    ProposeTime,
    Version,
}

#[derive(DeriveIden)]
enum JoinRequest {
    Table,
    JoinRequestId,
    OpportunityId,
    UnitBranch,
    UnitLine,
    RequestedShareBps,
    Message,
    Status,
    AmendmentId,
    CreatedBy,
    CreateTime,
    DecidedBy,
    DecideTime,
    DecideReason,
    Version,
}

struct Opportunities;

impl MigrationName for Opportunities {
    fn name(&self) -> &str {
        "m0301_coordination_opportunities"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Opportunities {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Opportunity::Table)
                    .if_not_exists()
                    .col(id_col(Opportunity::OpportunityId, 36).primary_key())
                    .col(text(Opportunity::Name))
                    .col(id_col(Opportunity::OpportunityType, 32))
                    .col(id_col(Opportunity::TargetCustomerId, 36))
                    .col(ColumnDef::new(Opportunity::Goal).binary().not_null())
                    .col(text(Opportunity::Plan))
                    .col(opt_date(Opportunity::StartDate))
                    .col(opt_date(Opportunity::TargetCloseDate))
                    .col(id_col(Opportunity::Stage, 32))
                    .col(text(Opportunity::StageReason))
                    .col(ColumnDef::new(Opportunity::NeedsStatement).binary().null())
                    .col(opt_id(Opportunity::SolutionQuoteId, 36))
                    .col(opt_id(Opportunity::AfterSalesPrimary, 64))
                    .col(opt_id(Opportunity::AfterSalesBackup, 64))
                    .col(opt_id(Opportunity::ParentOpportunityId, 36))
                    .col(opt_id(Opportunity::FollowOnOpportunityId, 36))
                    .col(
                        ColumnDef::new(Opportunity::HoldsClaims)
                            .boolean()
                            .not_null(),
                    )
                    .col(text(Opportunity::UnitPaths))
                    .col(text(Opportunity::UnitLines))
                    .col(id_col(Opportunity::CreatedBy, 64))
                    .col(time(Opportunity::CreateTime))
                    .col(time(Opportunity::UpdateTime))
                    .col(big(Opportunity::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "opportunity_target",
            Opportunity::Table,
            vec![Opportunity::TargetCustomerId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShareVersion::Table)
                    .if_not_exists()
                    .col(id_col(ShareVersion::OpportunityId, 36))
                    .col(int(ShareVersion::Seq))
                    .col(
                        ColumnDef::new(ShareVersion::EffectiveFrom)
                            .date()
                            .not_null(),
                    )
                    .col(text(ShareVersion::Source))
                    .col(text(ShareVersion::Units))
                    .col(time(ShareVersion::CreateTime))
                    .primary_key(
                        Index::create()
                            .col(ShareVersion::OpportunityId)
                            .col(ShareVersion::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LinkedTarget::Table)
                    .if_not_exists()
                    .col(id_col(LinkedTarget::OpportunityId, 36))
                    .col(id_col(LinkedTarget::CustomerId, 36))
                    .col(int(LinkedTarget::RelationshipType))
                    .col(text(LinkedTarget::ViaCustomerId))
                    .col(id_col(LinkedTarget::AddedBy, 64))
                    .col(time(LinkedTarget::AddTime))
                    .primary_key(
                        Index::create()
                            .col(LinkedTarget::OpportunityId)
                            .col(LinkedTarget::CustomerId),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "linked_target_customer",
            LinkedTarget::Table,
            vec![LinkedTarget::CustomerId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Member::Table)
                    .if_not_exists()
                    .col(id_col(Member::MemberId, 36).primary_key())
                    .col(id_col(Member::OpportunityId, 36))
                    .col(id_col(Member::EmployeeId, 64))
                    .col(id_col(Member::UnitBranch, 32))
                    .col(id_col(Member::UnitLine, 32))
                    .col(id_col(Member::Role, 32))
                    .col(ColumnDef::new(Member::ActiveFrom).date().not_null())
                    .col(opt_date(Member::ActiveTo))
                    .col(id_col(Member::AddedBy, 64))
                    .col(time(Member::AddTime))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "member_opportunity",
            Member::Table,
            vec![Member::OpportunityId.into_iden()],
        )
        .await?;
        index(
            manager,
            "member_employee",
            Member::Table,
            vec![Member::EmployeeId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Claim::Table)
                    .if_not_exists()
                    .col(id_col(Claim::ClaimId, 36).primary_key())
                    .col(id_col(Claim::CustomerId, 36))
                    .col(id_col(Claim::Line, 32))
                    .col(id_col(Claim::OpportunityId, 36))
                    .col(id_col(Claim::State, 32))
                    .col(time(Claim::CreateTime))
                    .col(opt_time(Claim::EndTime))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "claim_opportunity",
            Claim::Table,
            vec![Claim::OpportunityId.into_iden()],
        )
        .await?;
        index(
            manager,
            "claim_customer",
            Claim::Table,
            vec![Claim::CustomerId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActiveClaim::Table)
                    .if_not_exists()
                    .col(id_col(ActiveClaim::CustomerId, 36))
                    .col(id_col(ActiveClaim::Line, 32))
                    .col(id_col(ActiveClaim::ClaimId, 36))
                    .col(id_col(ActiveClaim::OpportunityId, 36))
                    .primary_key(
                        Index::create()
                            .col(ActiveClaim::CustomerId)
                            .col(ActiveClaim::Line),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "active_claim_opportunity",
            ActiveClaim::Table,
            vec![ActiveClaim::OpportunityId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShareAmendment::Table)
                    .if_not_exists()
                    .col(id_col(ShareAmendment::AmendmentId, 36).primary_key())
                    .col(id_col(ShareAmendment::OpportunityId, 36))
                    .col(text(ShareAmendment::ProposedUnits))
                    .col(
                        ColumnDef::new(ShareAmendment::EffectiveDate)
                            .date()
                            .not_null(),
                    )
                    .col(id_col(ShareAmendment::Status, 32))
                    .col(text(ShareAmendment::Acceptances))
                    .col(opt_id(ShareAmendment::JoinRequestId, 36))
                    .col(id_col(ShareAmendment::Proposer, 64))
                    .col(text(ShareAmendment::Reason))
                    .col(time(ShareAmendment::ProposeTime))
                    .col(big(ShareAmendment::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "share_amendment_opportunity",
            ShareAmendment::Table,
            vec![ShareAmendment::OpportunityId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(JoinRequest::Table)
                    .if_not_exists()
                    .col(id_col(JoinRequest::JoinRequestId, 36).primary_key())
                    .col(id_col(JoinRequest::OpportunityId, 36))
                    .col(id_col(JoinRequest::UnitBranch, 32))
                    .col(id_col(JoinRequest::UnitLine, 32))
                    .col(int(JoinRequest::RequestedShareBps))
                    .col(text(JoinRequest::Message))
                    .col(id_col(JoinRequest::Status, 32))
                    .col(opt_id(JoinRequest::AmendmentId, 36))
                    .col(id_col(JoinRequest::CreatedBy, 64))
                    .col(time(JoinRequest::CreateTime))
                    .col(opt_id(JoinRequest::DecidedBy, 64))
                    .col(opt_time(JoinRequest::DecideTime))
                    .col(ColumnDef::new(JoinRequest::DecideReason).text().null())
                    .col(big(JoinRequest::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "join_request_opportunity",
            JoinRequest::Table,
            vec![JoinRequest::OpportunityId.into_iden()],
        )
        .await?;
        Ok(())
    }
}
