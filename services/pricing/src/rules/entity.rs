//! The sea-orm entity of `pricing_rule`: one row per version of a relationship pricing rule,
//! keyed by `(rule_id, version)`; the condition, target and benefit are the domain values as JSON
//! text (money inside them in minor units), so a stored version reads back exactly.

/// `pricing_rule`: one version of a rule series.
pub mod pricing_rule {
    use sea_orm::entity::prelude::*;

    /// One rule version.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "pricing_rule")]
    pub struct Model {
        /// Series id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub rule_id: String,
        /// Version within the series, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Display name.
        pub name: String,
        /// Order of application; lower first.
        pub priority: i32,
        /// The domain `CustomerCondition` as JSON.
        pub condition: String,
        /// The domain `RuleTarget` as JSON.
        pub target: String,
        /// The domain `Benefit` as JSON.
        pub benefit: String,
        /// Whether it stops later rules on the same item.
        pub exclusive: bool,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force; open-ended when `None`.
        pub effective_to: Option<Date>,
        /// Who stored this version.
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
