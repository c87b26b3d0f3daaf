//! The schema of ownership history, hand-overs and bulk reassignments. "At most one pending
//! request" is a database constraint: a unique, nullable `pending_customer` / `pending_source`
//! column holds the key while the request is pending and is cleared when it is decided (both
//! backends allow any number of NULLs in a unique column).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum OwnershipHistory {
    Table,
    Seq,
    CustomerId,
    OwningBranchId,
    PrimaryManagerId,
    BackupManagerId,
    ValidFrom,
    ValidTo,
    ChangeSource,
    Actor,
    ChangedAt,
    Reason,
}

// Variant names are the column names, so one repeats the table's name.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Handover {
    Table,
    Seq,
    HandoverId,
    CustomerId,
    PendingCustomer,
    FromBranchId,
    FromPrimaryManagerId,
    FromBackupManagerId,
    CustomerVersion,
    Current,
    ToBranchId,
    ToPrimaryManagerId,
    ToBackupManagerId,
    EffectiveDate,
    AppliedFrom,
    Status,
    Maker,
    SubmitTime,
    SubmitReason,
    Checker,
    DecideTime,
    DecideReason,
    Version,
}

// Variant names are the column names, so one repeats the table's name.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Reassignment {
    Table,
    Seq,
    ReassignmentId,
    SourceKind,
    FromEmployeeId,
    FromBranchId,
    Slot,
    SourceKey,
    PendingSource,
    ScopeBranchId,
    ToBranchId,
    ToPrimaryManagerId,
    ToBackupManagerId,
    EffectiveDate,
    CustomerCount,
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
enum ReassignmentItem {
    Table,
    Id,
    ReassignmentId,
    CustomerId,
    FromBranchId,
    FromPrimaryManagerId,
    FromBackupManagerId,
    CustomerVersion,
    ToBranchId,
    ToPrimaryManagerId,
    ToBackupManagerId,
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

fn instant<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// Creates `ownership_history`, `handover`, `reassignment` and `reassignment_item`.
#[derive(Debug, Clone, Copy)]
pub struct OwnershipMigration;

impl MigrationName for OwnershipMigration {
    fn name(&self) -> &str {
        "m0108_registry_ownership"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OwnershipMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use OwnershipHistory as H;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .if_not_exists()
                    .col(seq(H::Seq))
                    .col(text(H::CustomerId, 36))
                    .col(text(H::OwningBranchId, 32))
                    .col(text(H::PrimaryManagerId, 64))
                    .col(text(H::BackupManagerId, 64))
                    .col(ColumnDef::new(H::ValidFrom).date().not_null())
                    .col(ColumnDef::new(H::ValidTo).date().null())
                    .col(text(H::ChangeSource, 80))
                    .col(text(H::Actor, 128))
                    .col(instant(H::ChangedAt))
                    .col(ColumnDef::new(H::Reason).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ownership_history_customer")
                    .table(H::Table)
                    .col(H::CustomerId)
                    .col(H::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        use Handover as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .if_not_exists()
                    .col(seq(O::Seq))
                    .col(
                        ColumnDef::new(O::HandoverId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(O::CustomerId, 36))
                    .col(
                        ColumnDef::new(O::PendingCustomer)
                            .string_len(36)
                            .null()
                            .unique_key(),
                    )
                    .col(text(O::FromBranchId, 32))
                    .col(text(O::FromPrimaryManagerId, 64))
                    .col(text(O::FromBackupManagerId, 64))
                    .col(ColumnDef::new(O::CustomerVersion).big_integer().not_null())
                    .col(ColumnDef::new(O::Current).binary().not_null())
                    .col(text(O::ToBranchId, 32))
                    .col(text(O::ToPrimaryManagerId, 64))
                    .col(text(O::ToBackupManagerId, 64))
                    .col(ColumnDef::new(O::EffectiveDate).date().not_null())
                    .col(ColumnDef::new(O::AppliedFrom).date().null())
                    .col(text(O::Status, 16))
                    .col(text(O::Maker, 128))
                    .col(instant(O::SubmitTime))
                    .col(ColumnDef::new(O::SubmitReason).text().not_null())
                    .col(ColumnDef::new(O::Checker).string_len(128).null())
                    .col(
                        ColumnDef::new(O::DecideTime)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(O::DecideReason).text().not_null())
                    .col(ColumnDef::new(O::Version).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("handover_customer", O::CustomerId),
            ("handover_from_branch", O::FromBranchId),
            ("handover_to_branch", O::ToBranchId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(O::Table)
                        .col(col)
                        .col(O::Seq)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }

        use Reassignment as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(seq(R::Seq))
                    .col(
                        ColumnDef::new(R::ReassignmentId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(R::SourceKind, 16))
                    .col(text(R::FromEmployeeId, 64))
                    .col(text(R::FromBranchId, 32))
                    .col(text(R::Slot, 16))
                    .col(text(R::SourceKey, 80))
                    .col(
                        ColumnDef::new(R::PendingSource)
                            .string_len(80)
                            .null()
                            .unique_key(),
                    )
                    .col(text(R::ScopeBranchId, 32))
                    .col(text(R::ToBranchId, 32))
                    .col(text(R::ToPrimaryManagerId, 64))
                    .col(text(R::ToBackupManagerId, 64))
                    .col(ColumnDef::new(R::EffectiveDate).date().not_null())
                    .col(ColumnDef::new(R::CustomerCount).big_integer().not_null())
                    .col(text(R::Status, 16))
                    .col(text(R::Maker, 128))
                    .col(instant(R::SubmitTime))
                    .col(ColumnDef::new(R::SubmitReason).text().not_null())
                    .col(ColumnDef::new(R::Checker).string_len(128).null())
                    .col(
                        ColumnDef::new(R::DecideTime)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(R::DecideReason).text().not_null())
                    .col(ColumnDef::new(R::Version).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reassignment_scope")
                    .table(R::Table)
                    .col(R::ScopeBranchId)
                    .col(R::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        use ReassignmentItem as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .if_not_exists()
                    .col(seq(I::Id))
                    .col(text(I::ReassignmentId, 36))
                    .col(text(I::CustomerId, 36))
                    .col(text(I::FromBranchId, 32))
                    .col(text(I::FromPrimaryManagerId, 64))
                    .col(text(I::FromBackupManagerId, 64))
                    .col(ColumnDef::new(I::CustomerVersion).big_integer().not_null())
                    .col(text(I::ToBranchId, 32))
                    .col(text(I::ToPrimaryManagerId, 64))
                    .col(text(I::ToBackupManagerId, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reassignment_item_unique")
                    .table(I::Table)
                    .col(I::ReassignmentId)
                    .col(I::CustomerId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reassignment_item_customer")
                    .table(I::Table)
                    .col(I::CustomerId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
