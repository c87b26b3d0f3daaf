//! Migration `m0302_coordination_tasks_playbooks_bids` and the sea-orm entities of the tables it
//! creates, for SQLite and Postgres alike: `task` (an opportunity's tasks with owner, due date,
//! status, the playbook step and SLA rule they came from, and an optimistic-concurrency version),
//! `playbook` (the header of a playbook series: its latest version, type and whether it is
//! active) with `playbook_version` (every version's name, type, active flag and steps — the
//! protobuf encoding of a `Playbook` holding only its steps), `bid` (internal bidding for the
//! lead; its `unfinished_opportunity_id` is set while the bid is open or closed-unawarded and
//! NULL afterwards, so its unique index lets at most one unfinished bid exist per opportunity
//! under concurrency) and `bid_proposal` (one proposal per bid and unit, primary key the
//! proposal id, unique on `(bid_id, unit_branch, unit_line)`; units stored as JSON text like the
//! share versions). Money is minor units, never SQL decimals.

// The identifier enums' variants are the column names, so some repeat the table's name.
#![allow(clippy::enum_variant_names)]

use sea_orm_migration::prelude::*;

/// The migration that creates tasks, playbooks and bids.
#[derive(Debug, Clone, Copy)]
pub struct TasksPlaybooksBids;

impl MigrationName for TasksPlaybooksBids {
    fn name(&self) -> &str {
        "m0302_coordination_tasks_playbooks_bids"
    }
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

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    if unique {
        stmt.unique();
    }
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden)]
enum Task {
    Table,
    TaskId,
    OpportunityId,
    Title,
    Description,
    OwnerEmployeeId,
    DueDate,
    Status,
    PlaybookId,
    PlaybookVersion,
    PlaybookStepId,
    SlaRuleId,
    CreatedBy,
    CreateTime,
    FinishTime,
    Version,
}

#[derive(DeriveIden)]
enum Playbook {
    Table,
    PlaybookId,
    OpportunityType,
    LatestVersion,
    Active,
}

#[derive(DeriveIden)]
enum PlaybookVersion {
    Table,
    PlaybookId,
    Version,
    Name,
    OpportunityType,
    Active,
    Steps,
    CreatedBy,
    CreateTime,
}

#[derive(DeriveIden)]
enum Bid {
    Table,
    BidId,
    OpportunityId,
    UnfinishedOpportunityId,
    Description,
    CloseTime,
    Status,
    AwardingBranch,
    AwardingLevel,
    AwardedProposalId,
    OpenedBy,
    OpenTime,
    AwardedBy,
    AwardTime,
    AwardReason,
    Version,
}

#[derive(DeriveIden)]
enum BidProposal {
    Table,
    ProposalId,
    BidId,
    UnitBranch,
    UnitLine,
    ProposedUnits,
    Plan,
    RevenueCurrency,
    RevenueMinor,
    SubmittedBy,
    SubmitTime,
}

#[async_trait::async_trait]
impl MigrationTrait for TasksPlaybooksBids {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Task::Table)
                    .if_not_exists()
                    .col(id_col(Task::TaskId, 36).primary_key())
                    .col(id_col(Task::OpportunityId, 36))
                    .col(text(Task::Title))
                    .col(text(Task::Description))
                    .col(id_col(Task::OwnerEmployeeId, 64))
                    .col(ColumnDef::new(Task::DueDate).date().not_null())
                    .col(id_col(Task::Status, 32))
                    .col(opt_id(Task::PlaybookId, 36))
                    .col(big(Task::PlaybookVersion))
                    .col(text(Task::PlaybookStepId))
                    .col(opt_id(Task::SlaRuleId, 64))
                    .col(id_col(Task::CreatedBy, 64))
                    .col(time(Task::CreateTime))
                    .col(opt_time(Task::FinishTime))
                    .col(big(Task::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "task_opportunity",
            Task::Table,
            vec![Task::OpportunityId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "task_owner",
            Task::Table,
            vec![Task::OwnerEmployeeId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Playbook::Table)
                    .if_not_exists()
                    .col(id_col(Playbook::PlaybookId, 36).primary_key())
                    .col(id_col(Playbook::OpportunityType, 32))
                    .col(big(Playbook::LatestVersion))
                    .col(ColumnDef::new(Playbook::Active).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlaybookVersion::Table)
                    .if_not_exists()
                    .col(id_col(PlaybookVersion::PlaybookId, 36))
                    .col(big(PlaybookVersion::Version))
                    .col(text(PlaybookVersion::Name))
                    .col(id_col(PlaybookVersion::OpportunityType, 32))
                    .col(ColumnDef::new(PlaybookVersion::Active).boolean().not_null())
                    .col(ColumnDef::new(PlaybookVersion::Steps).binary().not_null())
                    .col(id_col(PlaybookVersion::CreatedBy, 64))
                    .col(time(PlaybookVersion::CreateTime))
                    .primary_key(
                        Index::create()
                            .col(PlaybookVersion::PlaybookId)
                            .col(PlaybookVersion::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bid::Table)
                    .if_not_exists()
                    .col(id_col(Bid::BidId, 36).primary_key())
                    .col(id_col(Bid::OpportunityId, 36))
                    .col(opt_id(Bid::UnfinishedOpportunityId, 36))
                    .col(text(Bid::Description))
                    .col(time(Bid::CloseTime))
                    .col(id_col(Bid::Status, 32))
                    .col(opt_id(Bid::AwardingBranch, 32))
                    .col(ColumnDef::new(Bid::AwardingLevel).integer().not_null())
                    .col(opt_id(Bid::AwardedProposalId, 36))
                    .col(id_col(Bid::OpenedBy, 64))
                    .col(time(Bid::OpenTime))
                    .col(opt_id(Bid::AwardedBy, 64))
                    .col(opt_time(Bid::AwardTime))
                    .col(ColumnDef::new(Bid::AwardReason).text().null())
                    .col(big(Bid::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "bid_opportunity",
            Bid::Table,
            vec![Bid::OpportunityId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "bid_one_unfinished",
            Bid::Table,
            vec![Bid::UnfinishedOpportunityId.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(BidProposal::Table)
                    .if_not_exists()
                    .col(id_col(BidProposal::ProposalId, 36).primary_key())
                    .col(id_col(BidProposal::BidId, 36))
                    .col(id_col(BidProposal::UnitBranch, 32))
                    .col(id_col(BidProposal::UnitLine, 32))
                    .col(text(BidProposal::ProposedUnits))
                    .col(text(BidProposal::Plan))
                    .col(opt_id(BidProposal::RevenueCurrency, 3))
                    .col(
                        ColumnDef::new(BidProposal::RevenueMinor)
                            .big_integer()
                            .null(),
                    )
                    .col(id_col(BidProposal::SubmittedBy, 64))
                    .col(time(BidProposal::SubmitTime))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "bid_proposal_unit",
            BidProposal::Table,
            vec![
                BidProposal::BidId.into_iden(),
                BidProposal::UnitBranch.into_iden(),
                BidProposal::UnitLine.into_iden(),
            ],
            true,
        )
        .await?;
        Ok(())
    }
}

/// `task`: one task of an opportunity.
pub mod task {
    use sea_orm::entity::prelude::*;

    /// One task.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "task")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub task_id: String,
        /// The opportunity.
        pub opportunity_id: String,
        /// Title.
        pub title: String,
        /// Description.
        pub description: String,
        /// The owner, a member.
        pub owner_employee_id: String,
        /// The due date (a working day).
        pub due_date: Date,
        /// The status code.
        pub status: String,
        /// The playbook it came from.
        pub playbook_id: Option<String>,
        /// The playbook version (0 when none).
        pub playbook_version: i64,
        /// The playbook step (empty when none).
        pub playbook_step_id: String,
        /// The SLA rule that set the due date.
        pub sla_rule_id: Option<String>,
        /// Who created it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// When it was done or cancelled.
        pub finish_time: Option<DateTimeUtc>,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `playbook`: the header of a playbook series.
pub mod playbook {
    use sea_orm::entity::prelude::*;

    /// One playbook series.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "playbook")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub playbook_id: String,
        /// The latest version's type code.
        pub opportunity_type: String,
        /// The latest version.
        pub latest_version: i64,
        /// Whether the latest version is active.
        pub active: bool,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `playbook_version`: one version of a playbook.
pub mod playbook_version {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "playbook_version")]
    pub struct Model {
        /// The series.
        #[sea_orm(primary_key, auto_increment = false)]
        pub playbook_id: String,
        /// 1, 2, …
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Display name.
        pub name: String,
        /// The type code.
        pub opportunity_type: String,
        /// Whether it can be applied.
        pub active: bool,
        /// The protobuf encoding of a `Playbook` holding only the steps.
        pub steps: Vec<u8>,
        /// Who created the version.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `bid`: internal bidding for the lead of an opportunity.
pub mod bid {
    use sea_orm::entity::prelude::*;

    /// One bid.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bid")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub bid_id: String,
        /// The opportunity.
        pub opportunity_id: String,
        /// The opportunity while the bid is open or closed-unawarded (unique), else NULL.
        pub unfinished_opportunity_id: Option<String>,
        /// What is bid for.
        pub description: String,
        /// When proposals close.
        pub close_time: DateTimeUtc,
        /// The stored status code (an open bid past its close time reads as closed).
        pub status: String,
        /// The awarding branch, once a proposal is in.
        pub awarding_branch: Option<String>,
        /// Its wire `BranchLevel` (0 when none).
        pub awarding_level: i32,
        /// The winning proposal.
        pub awarded_proposal_id: Option<String>,
        /// Who opened it.
        pub opened_by: String,
        /// When.
        pub open_time: DateTimeUtc,
        /// Who awarded it.
        pub awarded_by: Option<String>,
        /// When.
        pub award_time: Option<DateTimeUtc>,
        /// Why.
        pub award_reason: Option<String>,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `bid_proposal`: one unit's proposal to lead.
pub mod bid_proposal {
    use sea_orm::entity::prelude::*;

    /// One proposal.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bid_proposal")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub proposal_id: String,
        /// The bid.
        pub bid_id: String,
        /// The proposing unit's branch.
        pub unit_branch: String,
        /// The proposing unit's line code.
        pub unit_line: String,
        /// JSON list of stored units.
        pub proposed_units: String,
        /// The plan.
        pub plan: String,
        /// The expected revenue's currency.
        pub revenue_currency: Option<String>,
        /// The expected revenue in minor units.
        pub revenue_minor: Option<i64>,
        /// Who submitted it.
        pub submitted_by: String,
        /// When.
        pub submit_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
