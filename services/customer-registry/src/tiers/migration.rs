//! The tier and segment tables: `tier_rule_set` (versions keyed by series and version, so two
//! concurrent creates of one version cannot both land), `tier_change_list` with its
//! `tier_change` rows, `tier_history`, `segmentation_run`, `segment` and `segment_assignment`.
//! Amounts never appear as SQL decimals: rules are stored encoded, decimals as canonical strings.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum TierRuleSet {
    Table,
    RuleSetId,
    Version,
    Scheme,
    Rules,
    StartDate,
    EndDate,
    CreatedBy,
    Reason,
    CreateTime,
}

#[derive(DeriveIden)]
enum TierChangeList {
    Table,
    Seq,
    ChangeListId,
    Scheme,
    BranchId,
    CustomerId,
    ScopeBranchId,
    PeriodKey,
    EvaluatedCount,
    UpgradeCount,
    DowngradeCount,
    EntryCount,
    ExitCount,
    RuleSetId,
    RuleVersion,
    Status,
    Maker,
    SubmitTime,
    SubmitReason,
    Checker,
    DecideTime,
    DecideReason,
    Version,
}

#[derive(DeriveIden)]
enum TierChange {
    Table,
    Id,
    ChangeListId,
    CustomerId,
    CustomerName,
    Kind,
    FromTier,
    ToTier,
    Reason,
    CustomerVersion,
}

#[derive(DeriveIden)]
enum TierHistory {
    Table,
    Seq,
    CustomerId,
    CustomerName,
    Scheme,
    Kind,
    FromTier,
    ToTier,
    Reason,
    ChangeListId,
    RuleSetId,
    RuleVersion,
    EffectiveDate,
    Actor,
    AppliedAt,
    AppliedReason,
}

#[derive(DeriveIden)]
enum SegmentationRun {
    Table,
    Seq,
    RunId,
    PeriodKey,
    BranchId,
    K,
    Seed,
    Features,
    CustomersTotal,
    State,
    ErrorMessage,
    CreatedBy,
    CreateTime,
    UpdateTime,
    FinishTime,
}

// Variant names are the column names.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Segment {
    Table,
    SegmentId,
    RunId,
    Idx,
    Label,
    Centroid,
    StandardizedCentroid,
    Size,
}

#[derive(DeriveIden)]
enum SegmentAssignment {
    Table,
    RunId,
    CustomerId,
    SegmentId,
    Distance,
    Features,
}

fn seq<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn text<T: IntoIden>(col: T, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().to_owned()
}

fn long_text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn int64<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn instant<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

async fn index<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: Vec<T>,
) -> Result<(), DbErr> {
    let mut create = Index::create();
    create.name(name).table(table).if_not_exists();
    for c in cols {
        create.col(c);
    }
    manager.create_index(create.to_owned()).await
}

/// Creates the tier and segment tables.
#[derive(Debug, Clone, Copy)]
pub struct TiersMigration;

impl MigrationName for TiersMigration {
    fn name(&self) -> &str {
        "m0111_registry_tiers_segments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TiersMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use TierRuleSet as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(text(R::RuleSetId, 32))
                    .col(int64(R::Version))
                    .col(text(R::Scheme, 16))
                    .col(ColumnDef::new(R::Rules).binary().not_null())
                    .col(ColumnDef::new(R::StartDate).date().not_null())
                    .col(ColumnDef::new(R::EndDate).date().null())
                    .col(text(R::CreatedBy, 128))
                    .col(long_text(R::Reason))
                    .col(instant(R::CreateTime))
                    .primary_key(Index::create().col(R::RuleSetId).col(R::Version))
                    .to_owned(),
            )
            .await?;

        use TierChangeList as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .if_not_exists()
                    .col(seq(L::Seq))
                    .col(
                        ColumnDef::new(L::ChangeListId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(L::Scheme, 16))
                    .col(text(L::BranchId, 32))
                    .col(text(L::CustomerId, 36))
                    .col(text(L::ScopeBranchId, 32))
                    .col(ColumnDef::new(L::PeriodKey).integer().not_null())
                    .col(int64(L::EvaluatedCount))
                    .col(int64(L::UpgradeCount))
                    .col(int64(L::DowngradeCount))
                    .col(int64(L::EntryCount))
                    .col(int64(L::ExitCount))
                    .col(text(L::RuleSetId, 32))
                    .col(int64(L::RuleVersion))
                    .col(text(L::Status, 16))
                    .col(text(L::Maker, 128))
                    .col(instant(L::SubmitTime))
                    .col(long_text(L::SubmitReason))
                    .col(ColumnDef::new(L::Checker).string_len(128).null())
                    .col(
                        ColumnDef::new(L::DecideTime)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(long_text(L::DecideReason))
                    .col(int64(L::Version))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "tier_change_list_scope",
            L::Table,
            vec![L::ScopeBranchId, L::Seq],
        )
        .await?;

        use TierChange as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .if_not_exists()
                    .col(seq(C::Id))
                    .col(text(C::ChangeListId, 36))
                    .col(text(C::CustomerId, 36))
                    .col(text(C::CustomerName, 200))
                    .col(text(C::Kind, 16))
                    .col(ColumnDef::new(C::FromTier).string_len(24).null())
                    .col(ColumnDef::new(C::ToTier).string_len(24).null())
                    .col(long_text(C::Reason))
                    .col(int64(C::CustomerVersion))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "tier_change_list_customer",
            C::Table,
            vec![C::ChangeListId, C::CustomerId],
        )
        .await?;

        use TierHistory as H;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .if_not_exists()
                    .col(seq(H::Seq))
                    .col(text(H::CustomerId, 36))
                    .col(text(H::CustomerName, 200))
                    .col(text(H::Scheme, 16))
                    .col(text(H::Kind, 16))
                    .col(ColumnDef::new(H::FromTier).string_len(24).null())
                    .col(ColumnDef::new(H::ToTier).string_len(24).null())
                    .col(long_text(H::Reason))
                    .col(text(H::ChangeListId, 36))
                    .col(text(H::RuleSetId, 32))
                    .col(int64(H::RuleVersion))
                    .col(ColumnDef::new(H::EffectiveDate).date().not_null())
                    .col(text(H::Actor, 128))
                    .col(instant(H::AppliedAt))
                    .col(long_text(H::AppliedReason))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "tier_history_customer",
            H::Table,
            vec![H::CustomerId, H::Seq],
        )
        .await?;

        use SegmentationRun as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .if_not_exists()
                    .col(seq(S::Seq))
                    .col(
                        ColumnDef::new(S::RunId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(S::PeriodKey).integer().not_null())
                    .col(text(S::BranchId, 32))
                    .col(ColumnDef::new(S::K).integer().not_null())
                    .col(int64(S::Seed))
                    .col(long_text(S::Features))
                    .col(int64(S::CustomersTotal))
                    .col(text(S::State, 16))
                    .col(long_text(S::ErrorMessage))
                    .col(text(S::CreatedBy, 128))
                    .col(instant(S::CreateTime))
                    .col(instant(S::UpdateTime))
                    .col(
                        ColumnDef::new(S::FinishTime)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "segmentation_run_state",
            S::Table,
            vec![S::State, S::Seq],
        )
        .await?;

        use Segment as G;
        manager
            .create_table(
                Table::create()
                    .table(G::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(G::SegmentId)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(G::RunId, 36))
                    .col(ColumnDef::new(G::Idx).integer().not_null())
                    .col(text(G::Label, 200))
                    .col(long_text(G::Centroid))
                    .col(long_text(G::StandardizedCentroid))
                    .col(int64(G::Size))
                    .to_owned(),
            )
            .await?;
        index(manager, "segment_run", G::Table, vec![G::RunId, G::Idx]).await?;

        use SegmentAssignment as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(text(A::RunId, 36))
                    .col(text(A::CustomerId, 36))
                    .col(text(A::SegmentId, 64))
                    .col(text(A::Distance, 64))
                    .col(long_text(A::Features))
                    .primary_key(Index::create().col(A::RunId).col(A::CustomerId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "segment_assignment_customer",
            A::Table,
            vec![A::CustomerId],
        )
        .await?;
        Ok(())
    }
}
