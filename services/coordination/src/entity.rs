//! sea-orm entities of the tables `m0301_coordination_opportunities` creates (see
//! [`crate::migrations`]): the opportunity header, its effective-dated share versions, linked
//! targets, memberships, claims (the history and the active set whose primary key is the unique
//! constraint against internal competition), share amendments and join requests.

/// `opportunity`: one joint opportunity, its latest state.
pub mod opportunity {
    use sea_orm::entity::prelude::*;

    /// One opportunity.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opportunity")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub opportunity_id: String,
        /// Display name.
        pub name: String,
        /// The type code.
        pub opportunity_type: String,
        /// The main target.
        pub target_customer_id: String,
        /// The protobuf encoding of the `Goal`.
        pub goal: Vec<u8>,
        /// The plan.
        pub plan: String,
        /// Planned start.
        pub start_date: Option<Date>,
        /// Planned close.
        pub target_close_date: Option<Date>,
        /// The stage code.
        pub stage: String,
        /// The reason of the last transition.
        pub stage_reason: String,
        /// The protobuf encoding of the `NeedsStatement`, if any.
        pub needs_statement: Option<Vec<u8>>,
        /// The solution quote.
        pub solution_quote_id: Option<String>,
        /// The A-post after-sales owner.
        pub after_sales_primary: Option<String>,
        /// The B-post after-sales owner.
        pub after_sales_backup: Option<String>,
        /// The parent of a follow-on.
        pub parent_opportunity_id: Option<String>,
        /// The follow-on opened from this one.
        pub follow_on_opportunity_id: Option<String>,
        /// Whether it holds its claims.
        pub holds_claims: bool,
        /// `|/HQ/BJ/BJ01/|/HQ/SH/|`: the paths of every unit's branch (latest shares).
        pub unit_paths: String,
        /// `|corporate|retail|`: the lines of the latest shares.
        pub unit_lines: String,
        /// Who created it.
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

/// `share_version`: one version of an opportunity's units and shares.
pub mod share_version {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "share_version")]
    pub struct Model {
        /// The opportunity.
        #[sea_orm(primary_key, auto_increment = false)]
        pub opportunity_id: String,
        /// 1, 2, … in the order set.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        /// The first day in force.
        pub effective_from: Date,
        /// `create`, `amendment:ID` or `bid:ID`.
        pub source: String,
        /// JSON list of stored units.
        pub units: String,
        /// When it was recorded.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `linked_target`: a linked target customer of an opportunity.
pub mod linked_target {
    use sea_orm::entity::prelude::*;

    /// One linked target.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "linked_target")]
    pub struct Model {
        /// The opportunity.
        #[sea_orm(primary_key, auto_increment = false)]
        pub opportunity_id: String,
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// The wire `RelationshipType` it was suggested through (0 when picked directly).
        pub relationship_type: i32,
        /// The customer it relates through (empty when none).
        pub via_customer_id: String,
        /// Who added it.
        pub added_by: String,
        /// When.
        pub add_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `member`: an effective-dated membership of a unit of an opportunity.
pub mod member {
    use sea_orm::entity::prelude::*;

    /// One membership.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "member")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// The opportunity.
        pub opportunity_id: String,
        /// The employee.
        pub employee_id: String,
        /// The unit's branch.
        pub unit_branch: String,
        /// The unit's line code.
        pub unit_line: String,
        /// The member role code.
        pub role: String,
        /// First day a member.
        pub active_from: Date,
        /// First day no longer a member.
        pub active_to: Option<Date>,
        /// Who added the member.
        pub added_by: String,
        /// When.
        pub add_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `claim`: every claim ever taken, with its state.
pub mod claim {
    use sea_orm::entity::prelude::*;

    /// One claim.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claim")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub claim_id: String,
        /// The customer.
        pub customer_id: String,
        /// The line code.
        pub line: String,
        /// The holding opportunity.
        pub opportunity_id: String,
        /// The state code.
        pub state: String,
        /// When it was taken.
        pub create_time: DateTimeUtc,
        /// When it was released or transferred.
        pub end_time: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `active_claim`: one row per active claim; its primary key `(customer_id, line)` is the unique
/// constraint that lets exactly one of concurrent conflicting creates win.
pub mod active_claim {
    use sea_orm::entity::prelude::*;

    /// One active claim.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "active_claim")]
    pub struct Model {
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// The line code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub line: String,
        /// The claim.
        pub claim_id: String,
        /// The holder.
        pub opportunity_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `share_amendment`: a proposed change of an opportunity's units and shares.
pub mod share_amendment {
    use sea_orm::entity::prelude::*;

    /// One amendment.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "share_amendment")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub amendment_id: String,
        /// The opportunity.
        pub opportunity_id: String,
        /// JSON list of stored units.
        pub proposed_units: String,
        /// The first day in force.
        pub effective_date: Date,
        /// The status code.
        pub status: String,
        /// JSON list of stored acceptances.
        pub acceptances: String,
        /// The join request it answers.
        pub join_request_id: Option<String>,
        /// Who proposed it.
        pub proposer: String,
        /// Why.
        pub reason: String,
        /// When.
        pub propose_time: DateTimeUtc,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `join_request`: a refused unit's request to join an opportunity.
pub mod join_request {
    use sea_orm::entity::prelude::*;

    /// One request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "join_request")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub join_request_id: String,
        /// The opportunity.
        pub opportunity_id: String,
        /// The unit's branch.
        pub unit_branch: String,
        /// The unit's line code.
        pub unit_line: String,
        /// The share asked for.
        pub requested_share_bps: i32,
        /// The message to the lead.
        pub message: String,
        /// The status code.
        pub status: String,
        /// The amendment proposed on acceptance.
        pub amendment_id: Option<String>,
        /// Who asked.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Who decided.
        pub decided_by: Option<String>,
        /// When.
        pub decide_time: Option<DateTimeUtc>,
        /// Why.
        pub decide_reason: Option<String>,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
