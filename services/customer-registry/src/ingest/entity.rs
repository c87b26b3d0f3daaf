//! sea-orm entities of the ingestion tables (see `migration`).

/// `customer_source`: the latest source version of each ingested customer record.
pub mod customer_source {
    use sea_orm::entity::prelude::*;

    /// One source record's latest version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_source")]
    pub struct Model {
        /// Source system.
        #[sea_orm(primary_key, auto_increment = false)]
        pub source_system: String,
        /// Id in the source.
        #[sea_orm(primary_key, auto_increment = false)]
        pub source_id: String,
        /// The registry customer.
        pub customer_id: String,
        /// Latest applied source version.
        pub source_version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `holding`: monthly holdings snapshots.
pub mod holding {
    use sea_orm::entity::prelude::*;

    /// One snapshot; amounts in fen, rates in basis points.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "holding")]
    #[allow(missing_docs)]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub customer_id: String,
        pub product_id: String,
        pub account_id: String,
        pub period_year: i32,
        pub period_month: i32,
        pub source_system: String,
        pub source_version: i64,
        pub product_kind: String,
        pub product_category: String,
        pub line: String,
        pub period_end_balance: i64,
        pub average_daily_balance: i64,
        pub customer_rate_bps: i32,
        pub ftp_rate_bps: i32,
        pub settlement_volume: i64,
        pub payroll_volume: i64,
        pub fx_volume: i64,
        pub pos_volume: i64,
        pub fee_income: i64,
        pub operating_cost: i64,
        pub expected_loss: i64,
        pub economic_capital: i64,
        pub facility_limit: i64,
        pub undrawn_amount: i64,
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `customer_transaction`: single transactions.
pub mod customer_transaction {
    use sea_orm::entity::prelude::*;

    /// One transaction.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_transaction")]
    #[allow(missing_docs)]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub source_system: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub transaction_id: String,
        pub customer_id: String,
        pub source_version: i64,
        pub transaction_date: Date,
        pub amount: i64,
        pub direction: String,
        pub product_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `transaction_month`: monthly transaction summaries.
pub mod transaction_month {
    use sea_orm::entity::prelude::*;

    /// One customer's month.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "transaction_month")]
    #[allow(missing_docs)]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub period_year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub period_month: i32,
        pub source_version: i64,
        pub transaction_count: i64,
        pub total_amount: i64,
        pub last_transaction_date: Option<Date>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `rescoring_queue`: customers whose value must be recomputed.
pub mod rescoring_queue {
    use sea_orm::entity::prelude::*;

    /// One queued customer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rescoring_queue")]
    #[allow(missing_docs)]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        pub queued_at: DateTimeUtc,
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
