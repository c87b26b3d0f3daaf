//! sea-orm entities of the reference data: `reference_rate` and `fx_rate` (points of a series,
//! keyed by series and date) and the versioned `regulatory_limit` and `authority_band` (one row
//! per version, keyed by series id and version).

/// `reference_rate`: one point of an LPR series.
pub mod reference_rate {
    use sea_orm::entity::prelude::*;

    /// One rate point.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "reference_rate")]
    pub struct Model {
        /// Series code (`lpr_1y`, `lpr_5y`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        /// First day the rate applies.
        #[sea_orm(primary_key, auto_increment = false)]
        pub effective_date: Date,
        /// The rate in basis points.
        pub rate_bps: i32,
        /// Who recorded it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `fx_rate`: one point of a currency's series to CNY.
pub mod fx_rate {
    use sea_orm::entity::prelude::*;

    /// One FX point.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "fx_rate")]
    pub struct Model {
        /// ISO 4217 code of the foreign currency.
        #[sea_orm(primary_key, auto_increment = false)]
        pub currency: String,
        /// First day the rate applies.
        #[sea_orm(primary_key, auto_increment = false)]
        pub effective_date: Date,
        /// CNY per unit, a decimal string.
        pub cny_per_unit: String,
        /// Who recorded it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `regulatory_limit`: one version of a limit series.
pub mod regulatory_limit {
    use sea_orm::entity::prelude::*;

    /// One limit version.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "regulatory_limit")]
    pub struct Model {
        /// Series id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub limit_id: String,
        /// Version within the series, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Display name.
        pub name: String,
        /// Limit kind code.
        pub kind: String,
        /// Product kind code.
        pub product_kind: String,
        /// For a bound against a reference: the series code.
        pub reference_kind: Option<String>,
        /// For a bound against a reference: the spread in basis points.
        pub spread_bps: Option<i32>,
        /// For an absolute bound: the rate in basis points.
        pub absolute_rate_bps: Option<i32>,
        /// Shortest term it applies to, months.
        pub min_term_months: Option<i32>,
        /// Longest term it applies to, months.
        pub max_term_months: Option<i32>,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force.
        pub effective_to: Option<Date>,
        /// Who created this version.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Why.
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `authority_band`: one version of a band series.
pub mod authority_band {
    use sea_orm::entity::prelude::*;

    /// One band version.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "authority_band")]
    pub struct Model {
        /// Series id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub band_id: String,
        /// Version within the series, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Authority level code.
        pub level: String,
        /// Product kind code.
        pub product_kind: String,
        /// Listing order: product kind, then level (two digits each).
        pub sort_key: String,
        /// Largest rate concession, basis points.
        pub max_rate_concession_bps: i32,
        /// Largest fee concession, basis points of the relationship fee.
        pub max_fee_concession_bps: i32,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force.
        pub effective_to: Option<Date>,
        /// Who created this version.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Why.
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
