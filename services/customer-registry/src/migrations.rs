//! The registry's schema, applied after the platform's shared tables. Organisation tables:
//! `branch` (the latest version of each node, for writes and optimistic concurrency),
//! `branch_history` (every version with its effective interval, for reads as of a date),
//! `tree_state` (the tree version caches compare) and `employee` (the staff directory).
//! Dates are `DATE` columns; amounts never use SQL decimals (see ARCHITECTURE.md).

use sea_orm_migration::prelude::*;

/// Every registry migration, in order (the platform's shared tables first).
pub fn all() -> Vec<Box<dyn MigrationTrait>> {
    let mut migrations = bankmkt_platform::db::shared_migrations();
    migrations.push(Box::new(Organisation));
    // -- further migrations, in order --
    migrations.push(Box::new(crate::org::teams::TeamsMigration));
    migrations.push(Box::new(crate::customers::migration::CustomersMigration));
    migrations.push(Box::new(crate::customers::consent::ConsentMigration));
    migrations.push(Box::new(crate::relationships::RelationshipsMigration));
    migrations.push(Box::new(crate::lifecycle::LifecycleMigration));
    migrations.push(Box::new(crate::ingest::migration::IngestMigration));
    migrations.push(Box::new(crate::grants::GrantsMigration));
    migrations.push(Box::new(crate::ownership::OwnershipMigration));
    migrations.push(Box::new(crate::value::ValueMigration));
    migrations.push(Box::new(crate::tiers::TiersMigration));
    migrations
}

// Variant names are the column names, so some repeat the table's name.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Branch {
    Table,
    BranchId,
    Name,
    Level,
    ParentId,
    RegionCode,
    OpenedOn,
    ClosedOn,
    Path,
    Version,
    UpdateTime,
}

#[derive(DeriveIden)]
enum BranchHistory {
    Table,
    Id,
    BranchId,
    ValidFrom,
    ValidTo,
    Name,
    Level,
    ParentId,
    RegionCode,
    OpenedOn,
    ClosedOn,
    Path,
    Version,
}

#[derive(DeriveIden)]
enum TreeState {
    Table,
    Id,
    Version,
}

#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Employee {
    Table,
    EmployeeId,
    Name,
    BranchId,
    Lines,
    Roles,
    ActiveFrom,
    ActiveTo,
    Version,
    UpdateTime,
}

struct Organisation;

impl MigrationName for Organisation {
    fn name(&self) -> &str {
        "m0101_registry_organisation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Organisation {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Branch::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Branch::BranchId)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Branch::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Branch::Level).string_len(16).not_null())
                    .col(ColumnDef::new(Branch::ParentId).string_len(32).null())
                    .col(ColumnDef::new(Branch::RegionCode).string_len(32).not_null())
                    .col(ColumnDef::new(Branch::OpenedOn).date().null())
                    .col(ColumnDef::new(Branch::ClosedOn).date().null())
                    .col(ColumnDef::new(Branch::Path).text().not_null())
                    .col(ColumnDef::new(Branch::Version).big_integer().not_null())
                    .col(
                        ColumnDef::new(Branch::UpdateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BranchHistory::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(BranchHistory::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BranchHistory::BranchId)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BranchHistory::ValidFrom).date().not_null())
                    .col(ColumnDef::new(BranchHistory::ValidTo).date().null())
                    .col(
                        ColumnDef::new(BranchHistory::Name)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BranchHistory::Level)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BranchHistory::ParentId)
                            .string_len(32)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BranchHistory::RegionCode)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BranchHistory::OpenedOn).date().null())
                    .col(ColumnDef::new(BranchHistory::ClosedOn).date().null())
                    .col(ColumnDef::new(BranchHistory::Path).text().not_null())
                    .col(
                        ColumnDef::new(BranchHistory::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("branch_history_as_of")
                    .table(BranchHistory::Table)
                    .col(BranchHistory::ValidFrom)
                    .col(BranchHistory::ValidTo)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("branch_history_branch")
                    .table(BranchHistory::Table)
                    .col(BranchHistory::BranchId)
                    .col(BranchHistory::ValidFrom)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TreeState::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(TreeState::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TreeState::Version).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Employee::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Employee::EmployeeId)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Employee::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Employee::BranchId).string_len(32).not_null())
                    .col(ColumnDef::new(Employee::Lines).string_len(200).not_null())
                    .col(ColumnDef::new(Employee::Roles).string_len(300).not_null())
                    .col(ColumnDef::new(Employee::ActiveFrom).date().not_null())
                    .col(ColumnDef::new(Employee::ActiveTo).date().null())
                    .col(ColumnDef::new(Employee::Version).big_integer().not_null())
                    .col(
                        ColumnDef::new(Employee::UpdateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("employee_branch")
                    .table(Employee::Table)
                    .col(Employee::BranchId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
