//! Migration `m0303_coordination_referrals_activities_rules`, for SQLite and Postgres alike: it
//! creates `referral` (one row per referral with its routing — the receiving branch and its
//! materialised path for queue subtree filters —, the interest and outcome as their protobuf
//! encoding, the decision and an optimistic-concurrency version), `activity` (one row per logged
//! activity, participants and customers as JSON text plus `|…|` columns for the participant,
//! branch-path and customer filters), `activity_customer` (one row per activity and customer:
//! the touchpoint stream's and the overdue check's index by customer and time), and the
//! versioned, effective-dated `cadence_rule` and `sla_rule` (primary key `(rule_id, version)`).
//! The colleague's `m0301` is never edited; this migration only adds tables.

// The identifier enums' variants are the column names, so some repeat the table's name.
#![allow(clippy::enum_variant_names)]

use sea_orm_migration::prelude::*;

fn id_col(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().to_owned()
}

fn opt_id(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).null().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn opt_text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
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

#[derive(DeriveIden)]
enum Referral {
    Table,
    ReferralId,
    CustomerId,
    ReferrerEmployeeId,
    FromBranch,
    FromLine,
    ToLine,
    ToBranch,
    ToBranchPath,
    Interest,
    OpportunityId,
    Status,
    AssigneeEmployeeId,
    CreateTime,
    DecidedBy,
    DecideTime,
    DecideReason,
    Outcome,
    UpdateTime,
    Version,
}

#[derive(DeriveIden)]
enum Activity {
    Table,
    ActivityId,
    ActivityType,
    Channel,
    Subject,
    Record,
    StartTime,
    EndTime,
    Participants,
    ParticipantIds,
    ParticipantPaths,
    CustomerIds,
    OpportunityId,
    CreatedBy,
    CreateTime,
    UpdateTime,
    Version,
}

#[derive(DeriveIden)]
enum ActivityCustomer {
    Table,
    ActivityId,
    CustomerId,
    ActivityType,
    StartTime,
}

#[derive(DeriveIden)]
enum CadenceRule {
    Table,
    RuleId,
    Version,
    Name,
    Kinds,
    CorporateTiers,
    WealthTiers,
    CountedTypes,
    MinActivities,
    WindowMonths,
    EffectiveFrom,
    EffectiveTo,
    CreatedBy,
    CreateTime,
}

#[derive(DeriveIden)]
enum SlaRule {
    Table,
    RuleId,
    Version,
    Name,
    Subject,
    OpportunityType,
    PlaybookStepId,
    WorkingDays,
    EffectiveFrom,
    EffectiveTo,
    CreatedBy,
    CreateTime,
}

/// `m0303_coordination_referrals_activities_rules`.
#[derive(Debug, Clone, Copy)]
pub struct ReferralsActivitiesRules;

impl MigrationName for ReferralsActivitiesRules {
    fn name(&self) -> &str {
        "m0303_coordination_referrals_activities_rules"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReferralsActivitiesRules {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Referral::Table)
                    .if_not_exists()
                    .col(id_col(Referral::ReferralId, 36).primary_key())
                    .col(id_col(Referral::CustomerId, 36))
                    .col(id_col(Referral::ReferrerEmployeeId, 64))
                    .col(id_col(Referral::FromBranch, 32))
                    .col(id_col(Referral::FromLine, 32))
                    .col(id_col(Referral::ToLine, 32))
                    .col(id_col(Referral::ToBranch, 32))
                    .col(text(Referral::ToBranchPath))
                    .col(ColumnDef::new(Referral::Interest).binary().not_null())
                    .col(opt_id(Referral::OpportunityId, 36))
                    .col(id_col(Referral::Status, 32))
                    .col(opt_id(Referral::AssigneeEmployeeId, 64))
                    .col(time(Referral::CreateTime))
                    .col(opt_id(Referral::DecidedBy, 64))
                    .col(opt_time(Referral::DecideTime))
                    .col(opt_text(Referral::DecideReason))
                    .col(ColumnDef::new(Referral::Outcome).binary().null())
                    .col(time(Referral::UpdateTime))
                    .col(big(Referral::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "referral_referrer",
            Referral::Table,
            vec![Referral::ReferrerEmployeeId.into_iden()],
        )
        .await?;
        index(
            manager,
            "referral_customer",
            Referral::Table,
            vec![Referral::CustomerId.into_iden()],
        )
        .await?;
        index(
            manager,
            "referral_create_time",
            Referral::Table,
            vec![Referral::CreateTime.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Activity::Table)
                    .if_not_exists()
                    .col(id_col(Activity::ActivityId, 36).primary_key())
                    .col(id_col(Activity::ActivityType, 32))
                    .col(id_col(Activity::Channel, 32))
                    .col(text(Activity::Subject))
                    .col(text(Activity::Record))
                    .col(time(Activity::StartTime))
                    .col(opt_time(Activity::EndTime))
                    .col(text(Activity::Participants))
                    .col(text(Activity::ParticipantIds))
                    .col(text(Activity::ParticipantPaths))
                    .col(text(Activity::CustomerIds))
                    .col(opt_id(Activity::OpportunityId, 36))
                    .col(id_col(Activity::CreatedBy, 64))
                    .col(time(Activity::CreateTime))
                    .col(time(Activity::UpdateTime))
                    .col(big(Activity::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "activity_start_time",
            Activity::Table,
            vec![Activity::StartTime.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActivityCustomer::Table)
                    .if_not_exists()
                    .col(id_col(ActivityCustomer::ActivityId, 36))
                    .col(id_col(ActivityCustomer::CustomerId, 36))
                    .col(id_col(ActivityCustomer::ActivityType, 32))
                    .col(time(ActivityCustomer::StartTime))
                    .primary_key(
                        Index::create()
                            .col(ActivityCustomer::ActivityId)
                            .col(ActivityCustomer::CustomerId),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "activity_customer_customer",
            ActivityCustomer::Table,
            vec![
                ActivityCustomer::CustomerId.into_iden(),
                ActivityCustomer::StartTime.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CadenceRule::Table)
                    .if_not_exists()
                    .col(id_col(CadenceRule::RuleId, 36))
                    .col(big(CadenceRule::Version))
                    .col(text(CadenceRule::Name))
                    .col(text(CadenceRule::Kinds))
                    .col(text(CadenceRule::CorporateTiers))
                    .col(text(CadenceRule::WealthTiers))
                    .col(text(CadenceRule::CountedTypes))
                    .col(int(CadenceRule::MinActivities))
                    .col(int(CadenceRule::WindowMonths))
                    .col(ColumnDef::new(CadenceRule::EffectiveFrom).date().not_null())
                    .col(ColumnDef::new(CadenceRule::EffectiveTo).date().null())
                    .col(id_col(CadenceRule::CreatedBy, 64))
                    .col(time(CadenceRule::CreateTime))
                    .primary_key(
                        Index::create()
                            .col(CadenceRule::RuleId)
                            .col(CadenceRule::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SlaRule::Table)
                    .if_not_exists()
                    .col(id_col(SlaRule::RuleId, 36))
                    .col(big(SlaRule::Version))
                    .col(text(SlaRule::Name))
                    .col(id_col(SlaRule::Subject, 32))
                    .col(opt_id(SlaRule::OpportunityType, 32))
                    .col(opt_text(SlaRule::PlaybookStepId))
                    .col(int(SlaRule::WorkingDays))
                    .col(ColumnDef::new(SlaRule::EffectiveFrom).date().not_null())
                    .col(ColumnDef::new(SlaRule::EffectiveTo).date().null())
                    .col(id_col(SlaRule::CreatedBy, 64))
                    .col(time(SlaRule::CreateTime))
                    .primary_key(Index::create().col(SlaRule::RuleId).col(SlaRule::Version))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
