//! The sea-orm entity of `bundle`: one row per version of a bundle, keyed by
//! `(bundle_id, version)`; components, eligibility and prerequisites are the domain values as JSON
//! text (money inside them in minor units), so a stored version reads back exactly.

/// `bundle`: one version of a bundle.
pub mod bundle {
    use sea_orm::entity::prelude::*;

    /// One bundle version.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "bundle")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub bundle_id: String,
        /// Version, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Display name.
        pub name: String,
        /// Description.
        pub description: String,
        /// The domain `Vec<BundleComponent>` as JSON.
        pub components: String,
        /// The domain `CustomerCondition` as JSON.
        pub eligibility: String,
        /// The domain `Vec<Prerequisite>` as JSON.
        pub prerequisites: String,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force; open-ended when `None`.
        pub effective_to: Option<Date>,
        /// Whether it can be quoted.
        pub active: bool,
        /// Who stored this version.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// What the write was (bundle RPCs take no reason).
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
