//! The value schema: `ahp_matrix`, `ge_weights` and `value_config` (versioned, effective-dated
//! rule rows; `value_config` is seeded with version 1 of the defaults, in force from 1900-01-01),
//! `factor_assessment`, `value_result` (every computed result, unique per kind, customer, month
//! and rule versions) and `rescoring_job`. Amounts are `BIGINT` fen; decimals canonical strings.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum AhpMatrix {
    Table,
    MatrixId,
    Version,
    Scope,
    Dimension,
    Criteria,
    Judgements,
    Weights,
    LambdaMax,
    ConsistencyIndex,
    RandomIndex,
    ConsistencyRatio,
    StartDate,
    EndDate,
    CreatedBy,
    Reason,
    CreateTime,
}

// Variant names are the column names, so one repeats the table's name.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum GeWeights {
    Table,
    GeWeightsId,
    Version,
    Attractiveness,
    Strength,
    LowCut,
    HighCut,
    StartDate,
    EndDate,
    CreatedBy,
    Reason,
    CreateTime,
}

#[derive(DeriveIden)]
enum ValueConfig {
    Table,
    ConfigId,
    Version,
    Payload,
    StartDate,
    EndDate,
    CreateTime,
}

#[derive(DeriveIden)]
enum FactorAssessment {
    Table,
    Seq,
    AssessmentId,
    CustomerId,
    Scheme,
    PeriodKey,
    Grades,
    CreatedBy,
    CreateTime,
    Superseded,
}

#[derive(DeriveIden)]
enum ValueResult {
    Table,
    Seq,
    Kind,
    CustomerId,
    PeriodKey,
    RuleKey,
    Current,
    GradeRank,
    SortKey,
    Amount,
    Payload,
    RuleVersions,
    ComputeTime,
    JobId,
}

#[derive(DeriveIden)]
enum RescoringJob {
    Table,
    JobId,
    Kind,
    PeriodKey,
    BranchId,
    CustomerIds,
    CustomersTotal,
    CustomersDone,
    CustomersFailed,
    State,
    ErrorMessage,
    RuleVersions,
    CreatedBy,
    CreateTime,
    UpdateTime,
    FinishTime,
}

/// Creates the value tables and seeds version 1 of the value configuration.
#[derive(Debug, Clone, Copy)]
pub struct ValueMigration;

impl MigrationName for ValueMigration {
    fn name(&self) -> &str {
        "m0109_registry_value"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ValueMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AhpMatrix as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(A::MatrixId).string_len(64).not_null())
                    .col(ColumnDef::new(A::Version).big_integer().not_null())
                    .col(ColumnDef::new(A::Scope).string_len(32).not_null())
                    .col(ColumnDef::new(A::Dimension).string_len(32).not_null())
                    .col(ColumnDef::new(A::Criteria).text().not_null())
                    .col(ColumnDef::new(A::Judgements).text().not_null())
                    .col(ColumnDef::new(A::Weights).text().not_null())
                    .col(ColumnDef::new(A::LambdaMax).string_len(64).not_null())
                    .col(
                        ColumnDef::new(A::ConsistencyIndex)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(A::RandomIndex).string_len(64).not_null())
                    .col(
                        ColumnDef::new(A::ConsistencyRatio)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(A::StartDate).date().not_null())
                    .col(ColumnDef::new(A::EndDate).date().null())
                    .col(ColumnDef::new(A::CreatedBy).string_len(128).not_null())
                    .col(ColumnDef::new(A::Reason).text().not_null())
                    .col(
                        ColumnDef::new(A::CreateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(A::MatrixId).col(A::Version))
                    .to_owned(),
            )
            .await?;
        use GeWeights as G;
        manager
            .create_table(
                Table::create()
                    .table(G::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(G::GeWeightsId).string_len(64).not_null())
                    .col(ColumnDef::new(G::Version).big_integer().not_null())
                    .col(ColumnDef::new(G::Attractiveness).text().not_null())
                    .col(ColumnDef::new(G::Strength).text().not_null())
                    .col(ColumnDef::new(G::LowCut).string_len(64).not_null())
                    .col(ColumnDef::new(G::HighCut).string_len(64).not_null())
                    .col(ColumnDef::new(G::StartDate).date().not_null())
                    .col(ColumnDef::new(G::EndDate).date().null())
                    .col(ColumnDef::new(G::CreatedBy).string_len(128).not_null())
                    .col(ColumnDef::new(G::Reason).text().not_null())
                    .col(
                        ColumnDef::new(G::CreateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(G::GeWeightsId).col(G::Version))
                    .to_owned(),
            )
            .await?;
        use ValueConfig as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(C::ConfigId).string_len(64).not_null())
                    .col(ColumnDef::new(C::Version).big_integer().not_null())
                    .col(ColumnDef::new(C::Payload).text().not_null())
                    .col(ColumnDef::new(C::StartDate).date().not_null())
                    .col(ColumnDef::new(C::EndDate).date().null())
                    .col(
                        ColumnDef::new(C::CreateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(C::ConfigId).col(C::Version))
                    .to_owned(),
            )
            .await?;
        let payload = serde_json::to_string(&super::rules::ValueConfig::default())
            .map_err(|e| DbErr::Custom(format!("default value configuration: {e}")))?;
        let seed_date = chrono::NaiveDate::from_ymd_opt(1900, 1, 1)
            .ok_or_else(|| DbErr::Custom("seed date".to_owned()))?;
        let mut seed = Query::insert();
        seed.into_table(C::Table)
            .columns([
                C::ConfigId,
                C::Version,
                C::Payload,
                C::StartDate,
                C::CreateTime,
            ])
            .values([
                super::rules::CONFIG_ID.into(),
                1_i64.into(),
                payload.into(),
                seed_date.into(),
                chrono::DateTime::<chrono::Utc>::UNIX_EPOCH.into(),
            ])
            .map_err(|e| DbErr::Custom(format!("seed value configuration: {e}")))?
            .on_conflict(
                sea_query::OnConflict::columns([C::ConfigId, C::Version])
                    .do_nothing()
                    .to_owned(),
            );
        manager.exec_stmt(seed).await?;
        use FactorAssessment as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(F::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(F::AssessmentId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(F::CustomerId).string_len(36).not_null())
                    .col(ColumnDef::new(F::Scheme).string_len(32).not_null())
                    .col(ColumnDef::new(F::PeriodKey).integer().not_null())
                    .col(ColumnDef::new(F::Grades).text().not_null())
                    .col(ColumnDef::new(F::CreatedBy).string_len(128).not_null())
                    .col(
                        ColumnDef::new(F::CreateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(F::Superseded).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("factor_assessment_customer")
                    .table(F::Table)
                    .col(F::CustomerId)
                    .col(F::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        use ValueResult as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(R::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(R::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(R::CustomerId).string_len(36).not_null())
                    .col(ColumnDef::new(R::PeriodKey).integer().not_null())
                    .col(ColumnDef::new(R::RuleKey).string_len(64).not_null())
                    .col(ColumnDef::new(R::Current).boolean().not_null())
                    .col(ColumnDef::new(R::GradeRank).integer().not_null())
                    .col(ColumnDef::new(R::SortKey).big_integer().not_null())
                    .col(ColumnDef::new(R::Amount).big_integer().not_null())
                    .col(ColumnDef::new(R::Payload).binary().not_null())
                    .col(ColumnDef::new(R::RuleVersions).text().not_null())
                    .col(
                        ColumnDef::new(R::ComputeTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(R::JobId).string_len(36).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("value_result_unique")
                    .table(R::Table)
                    .col(R::Kind)
                    .col(R::CustomerId)
                    .col(R::PeriodKey)
                    .col(R::RuleKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("value_result_listing")
                    .table(R::Table)
                    .col(R::Kind)
                    .col(R::PeriodKey)
                    .col(R::Current)
                    .col(R::SortKey)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        use RescoringJob as J;
        manager
            .create_table(
                Table::create()
                    .table(J::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(J::JobId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(J::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(J::PeriodKey).integer().not_null())
                    .col(ColumnDef::new(J::BranchId).string_len(32).not_null())
                    .col(ColumnDef::new(J::CustomerIds).text().not_null())
                    .col(ColumnDef::new(J::CustomersTotal).big_integer().not_null())
                    .col(ColumnDef::new(J::CustomersDone).big_integer().not_null())
                    .col(ColumnDef::new(J::CustomersFailed).big_integer().not_null())
                    .col(ColumnDef::new(J::State).string_len(16).not_null())
                    .col(ColumnDef::new(J::ErrorMessage).text().not_null())
                    .col(ColumnDef::new(J::RuleVersions).text().not_null())
                    .col(ColumnDef::new(J::CreatedBy).string_len(128).not_null())
                    .col(
                        ColumnDef::new(J::CreateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(J::UpdateTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(J::FinishTime)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
