//! sea-orm entities of the tables `m0303_coordination_referrals_activities_rules` creates (see
//! [`crate::m0303`]): referrals, activities with their per-customer index rows, and the
//! versioned cadence and SLA rules. Codes are the domain's `code_enum!` strings, lists are JSON
//! text, and the interest and outcome of a referral are their protobuf encodings.

/// `referral`: one referral between lines, its latest state.
pub mod referral {
    use sea_orm::entity::prelude::*;

    /// One referral.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        /// The customer referred.
        pub customer_id: String,
        /// The referrer.
        pub referrer_employee_id: String,
        /// The referrer's unit branch.
        pub from_branch: String,
        /// The referrer's unit line code.
        pub from_line: String,
        /// The receiving line code.
        pub to_line: String,
        /// The receiving branch.
        pub to_branch: String,
        /// `/HQ/BJ/BJ01/`: the receiving branch's path, for queue subtree filters.
        pub to_branch_path: String,
        /// The protobuf encoding of the `ExpressedInterest`.
        pub interest: Vec<u8>,
        /// The opportunity it belongs to.
        pub opportunity_id: Option<String>,
        /// The status code.
        pub status: String,
        /// The receiving employee assigned on acceptance.
        pub assignee_employee_id: Option<String>,
        /// When it was created.
        pub create_time: DateTimeUtc,
        /// Who accepted or declined it.
        pub decided_by: Option<String>,
        /// When.
        pub decide_time: Option<DateTimeUtc>,
        /// Why.
        pub decide_reason: Option<String>,
        /// The protobuf encoding of the `ReferralOutcome`, once recorded.
        pub outcome: Option<Vec<u8>>,
        /// Last change.
        pub update_time: DateTimeUtc,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `activity`: one logged marketing activity.
pub mod activity {
    use sea_orm::entity::prelude::*;

    /// One activity.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "activity")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub activity_id: String,
        /// The type code.
        pub activity_type: String,
        /// The channel code.
        pub channel: String,
        /// Subject.
        pub subject: String,
        /// The written record.
        pub record: String,
        /// When it started.
        pub start_time: DateTimeUtc,
        /// When it ended.
        pub end_time: Option<DateTimeUtc>,
        /// The participants as JSON.
        pub participants: String,
        /// `|e1|e2|`: the participants' ids.
        pub participant_ids: String,
        /// `|/HQ/BJ/BJ01/|…|`: the paths of the participants' unit branches.
        pub participant_paths: String,
        /// The customers as a JSON list.
        pub customer_ids: String,
        /// The opportunity it serves.
        pub opportunity_id: Option<String>,
        /// Who logged it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Last change.
        pub update_time: DateTimeUtc,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `activity_customer`: one row per activity and customer.
pub mod activity_customer {
    use sea_orm::entity::prelude::*;

    /// One activity's customer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "activity_customer")]
    pub struct Model {
        /// The activity.
        #[sea_orm(primary_key, auto_increment = false)]
        pub activity_id: String,
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// The activity's type code.
        pub activity_type: String,
        /// The activity's start.
        pub start_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `cadence_rule`: one version of a cadence rule.
pub mod cadence_rule {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cadence_rule")]
    pub struct Model {
        /// The series.
        #[sea_orm(primary_key, auto_increment = false)]
        pub rule_id: String,
        /// The version.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Display name.
        pub name: String,
        /// Customer kind codes, JSON.
        pub kinds: String,
        /// Corporate tier codes, JSON.
        pub corporate_tiers: String,
        /// Wealth tier codes, JSON.
        pub wealth_tiers: String,
        /// Counted activity type codes, JSON.
        pub counted_types: String,
        /// Minimum activities per window.
        pub min_activities: i32,
        /// Window in months.
        pub window_months: i32,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force.
        pub effective_to: Option<Date>,
        /// Who created this version.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `sla_rule`: one version of an SLA rule.
pub mod sla_rule {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sla_rule")]
    pub struct Model {
        /// The series.
        #[sea_orm(primary_key, auto_increment = false)]
        pub rule_id: String,
        /// The version.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Display name.
        pub name: String,
        /// The subject code.
        pub subject: String,
        /// For tasks: the opportunity type code.
        pub opportunity_type: Option<String>,
        /// For tasks: the playbook step.
        pub playbook_step_id: Option<String>,
        /// The timer in working days.
        pub working_days: i32,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force.
        pub effective_to: Option<Date>,
        /// Who created this version.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
