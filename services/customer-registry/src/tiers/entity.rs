//! sea-orm entities of the tier and segment tables (schema in [`super::migration`]):
//! `tier_rule_set` (effective-dated versions of the corporate and wealth rules),
//! `tier_change_list` and `tier_change` (evaluations awaiting a checker, with their changes),
//! `tier_history` (applied changes), `segmentation_run`, `segment` and `segment_assignment`.

/// `tier_rule_set`: one version of a scheme's tier rules.
pub mod tier_rule_set {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tier_rule_set")]
    pub struct Model {
        /// The series (`corporate_tier` or `wealth_tier`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub rule_set_id: String,
        /// The version within the series, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// `corporate` or `wealth`.
        pub scheme: String,
        /// The encoded `CorporateTierRules` or `WealthTierRules` (defaults filled in).
        pub rules: Vec<u8>,
        /// First day in force.
        pub start_date: Date,
        /// First day no longer in force; `None` while open-ended.
        pub end_date: Option<Date>,
        /// Who created it.
        pub created_by: String,
        /// Why.
        pub reason: String,
        /// When.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tier_change_list`: an evaluation's change list and its maker-checker state.
pub mod tier_change_list {
    use sea_orm::entity::prelude::*;

    /// One change list.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tier_change_list")]
    pub struct Model {
        /// Insertion order: the keyset of the newest-first listing.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Stable id (UUID v7).
        #[sea_orm(unique)]
        pub change_list_id: String,
        /// `corporate` or `wealth`.
        pub scheme: String,
        /// The subtree evaluated (empty when scoped to one customer).
        pub branch_id: String,
        /// The customer evaluated (empty when scoped by branch).
        pub customer_id: String,
        /// The branch whose subtree holds every evaluated customer: visibility and authority.
        pub scope_branch_id: String,
        /// The month whose figures were used (year × 100 + month).
        pub period_key: i32,
        /// Customers evaluated.
        pub evaluated_count: i64,
        /// Upgrades.
        pub upgrade_count: i64,
        /// Downgrades.
        pub downgrade_count: i64,
        /// Entries.
        pub entry_count: i64,
        /// Exits.
        pub exit_count: i64,
        /// The rule series used.
        pub rule_set_id: String,
        /// The rule version used.
        pub rule_version: i64,
        /// Approval status code.
        pub status: String,
        /// The maker (the evaluator).
        pub maker: String,
        /// When it was evaluated.
        pub submit_time: DateTimeUtc,
        /// The maker's reason.
        pub submit_reason: String,
        /// The checker, once decided.
        pub checker: Option<String>,
        /// When decided.
        pub decide_time: Option<DateTimeUtc>,
        /// The checker's reason.
        pub decide_reason: String,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tier_change`: one customer's proposed change in a change list.
pub mod tier_change {
    use sea_orm::entity::prelude::*;

    /// One proposed change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tier_change")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The change list.
        pub change_list_id: String,
        /// The customer.
        pub customer_id: String,
        /// The customer's name at evaluation, for review.
        pub customer_name: String,
        /// `upgrade`, `downgrade`, `entry` or `exit`.
        pub kind: String,
        /// The tier code before (`None`: unlisted, or no tier yet).
        pub from_tier: Option<String>,
        /// The tier code after (`None`: unlisted).
        pub to_tier: Option<String>,
        /// Why, from the rules.
        pub reason: String,
        /// The customer's version at evaluation.
        pub customer_version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tier_history`: every applied tier change.
pub mod tier_history {
    use sea_orm::entity::prelude::*;

    /// One applied change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tier_history")]
    pub struct Model {
        /// Insertion order: the keyset of the newest-first listing.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// The customer.
        pub customer_id: String,
        /// The customer's name when applied.
        pub customer_name: String,
        /// `corporate` or `wealth`.
        pub scheme: String,
        /// Kind code.
        pub kind: String,
        /// Tier code before.
        pub from_tier: Option<String>,
        /// Tier code after.
        pub to_tier: Option<String>,
        /// Why.
        pub reason: String,
        /// The change list that applied it.
        pub change_list_id: String,
        /// The rule series used.
        pub rule_set_id: String,
        /// The rule version used.
        pub rule_version: i64,
        /// The first day of the new tier.
        pub effective_date: Date,
        /// The checker who applied it.
        pub actor: String,
        /// When.
        pub applied_at: DateTimeUtc,
        /// The checker's comment.
        pub applied_reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `segmentation_run`: one segmentation batch run.
pub mod segmentation_run {
    use sea_orm::entity::prelude::*;

    /// One run.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "segmentation_run")]
    pub struct Model {
        /// Insertion order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Stable id (UUID v7).
        #[sea_orm(unique)]
        pub run_id: String,
        /// The month clustered (year × 100 + month).
        pub period_key: i32,
        /// The subtree clustered.
        pub branch_id: String,
        /// The number of clusters.
        pub k: i32,
        /// The seed.
        pub seed: i64,
        /// The feature codes, as a JSON array.
        pub features: String,
        /// Customers clustered.
        pub customers_total: i64,
        /// `queued`, `running`, `succeeded` or `failed`.
        pub state: String,
        /// The first error, without PII.
        pub error_message: String,
        /// Who started it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Last progress.
        pub update_time: DateTimeUtc,
        /// When it finished.
        pub finish_time: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `segment`: a segment found by a run.
pub mod segment {
    use sea_orm::entity::prelude::*;

    /// One segment.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "segment")]
    pub struct Model {
        /// Stable id: `RUN_ID:INDEX`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub segment_id: String,
        /// The run.
        pub run_id: String,
        /// The index in the run (0 = the largest).
        pub idx: i32,
        /// The generated label.
        pub label: String,
        /// The centroid in original units: a JSON array of `[feature, decimal]`.
        pub centroid: String,
        /// The standardised centroid: a JSON array of decimals.
        pub standardized_centroid: String,
        /// Members.
        pub size: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `segment_assignment`: each clustered customer's segment and distance to its centre.
pub mod segment_assignment {
    use sea_orm::entity::prelude::*;

    /// One customer in one run.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "segment_assignment")]
    pub struct Model {
        /// The run.
        #[sea_orm(primary_key, auto_increment = false)]
        pub run_id: String,
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// The segment.
        pub segment_id: String,
        /// Euclidean distance to the centre in standardised units (decimal string).
        pub distance: String,
        /// The customer's feature values in original units: a JSON array of decimals.
        pub features: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
