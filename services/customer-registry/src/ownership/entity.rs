//! sea-orm entities of the ownership tables (schema in [`super::migration`]):
//! `ownership_history` (effective-dated intervals), `handover` (one-customer maker-checker
//! requests), `reassignment` (bulk maker-checker requests) and `reassignment_item` (the customers
//! a reassignment froze at its maker step, with their owners before and after).

/// `ownership_history`: who owned a customer during `[valid_from, valid_to)`.
pub mod ownership_history {
    use sea_orm::entity::prelude::*;

    /// One interval of one customer's ownership.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ownership_history")]
    pub struct Model {
        /// Insertion order: the keyset of the newest-first listing (0 for a seed not yet stored).
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// The customer.
        pub customer_id: String,
        /// The owning branch.
        pub owning_branch_id: String,
        /// The primary (A) manager.
        pub primary_manager_id: String,
        /// The backup (B) manager.
        pub backup_manager_id: String,
        /// First day in force.
        pub valid_from: Date,
        /// First day no longer in force; `None` while open.
        pub valid_to: Option<Date>,
        /// `create`, `handover:ID`, `reassignment:ID` or `merge:ID`.
        pub change_source: String,
        /// Who applied the change (empty for the creation seed).
        pub actor: String,
        /// When the change was applied (the creation time for the seed).
        pub changed_at: DateTimeUtc,
        /// The reason recorded with the change.
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `handover`: a proposed hand-over of one customer.
pub mod handover {
    use sea_orm::entity::prelude::*;

    /// One hand-over request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "handover")]
    pub struct Model {
        /// Insertion order: the keyset of the newest-first listing.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Stable id (UUID v7).
        #[sea_orm(unique)]
        pub handover_id: String,
        /// The customer.
        pub customer_id: String,
        /// The customer id while pending, `None` once decided: unique, so a customer has at most
        /// one pending hand-over whatever the interleaving.
        #[sea_orm(unique)]
        pub pending_customer: Option<String>,
        /// Owning branch at the maker step.
        pub from_branch_id: String,
        /// A manager at the maker step.
        pub from_primary_manager_id: String,
        /// B manager at the maker step.
        pub from_backup_manager_id: String,
        /// The customer's version at the maker step.
        pub customer_version: i64,
        /// Encoded `bankmkt.v1.Ownership` in force at the maker step.
        pub current: Vec<u8>,
        /// The new owning branch (the current one when the maker left it empty).
        pub to_branch_id: String,
        /// The new A manager.
        pub to_primary_manager_id: String,
        /// The new B manager.
        pub to_backup_manager_id: String,
        /// The first day the maker asked for.
        pub effective_date: Date,
        /// The first day of the new ownership as applied (approved only).
        pub applied_from: Option<Date>,
        /// Approval status code.
        pub status: String,
        /// The maker.
        pub maker: String,
        /// When the maker submitted.
        pub submit_time: DateTimeUtc,
        /// The maker's reason.
        pub submit_reason: String,
        /// The checker, once decided.
        pub checker: Option<String>,
        /// When the checker decided.
        pub decide_time: Option<DateTimeUtc>,
        /// The checker's reason (may be empty on approval).
        pub decide_reason: String,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `reassignment`: a proposed bulk reassignment.
pub mod reassignment {
    use sea_orm::entity::prelude::*;

    /// One bulk reassignment request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reassignment")]
    pub struct Model {
        /// Insertion order: the keyset of the newest-first listing.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Stable id (UUID v7).
        #[sea_orm(unique)]
        pub reassignment_id: String,
        /// `employee` (a leaving manager) or `branch` (a closing branch).
        pub source_kind: String,
        /// The leaving manager (empty for a branch source).
        pub from_employee_id: String,
        /// The closing branch (empty for an employee source).
        pub from_branch_id: String,
        /// Slot code for an employee source (empty for a branch source).
        pub slot: String,
        /// `employee:ID` or `branch:ID`.
        pub source_key: String,
        /// The source key while pending, `None` once decided: unique, so a source has at most
        /// one pending reassignment.
        #[sea_orm(unique)]
        pub pending_source: Option<String>,
        /// The lowest branch whose subtree holds the source, every frozen customer and the
        /// target branch: who may see and decide the request.
        pub scope_branch_id: String,
        /// The new owning branch (empty keeps each customer's branch).
        pub to_branch_id: String,
        /// The new A manager (empty when the slot does not move it).
        pub to_primary_manager_id: String,
        /// The new B manager (empty when the slot does not move it).
        pub to_backup_manager_id: String,
        /// The first day the maker asked for.
        pub effective_date: Date,
        /// How many customers were frozen.
        pub customer_count: i64,
        /// Approval status code.
        pub status: String,
        /// The maker.
        pub maker: String,
        /// When the maker submitted.
        pub submit_time: DateTimeUtc,
        /// The maker's reason.
        pub submit_reason: String,
        /// The checker, once decided.
        pub checker: Option<String>,
        /// When the checker decided.
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

/// `reassignment_item`: one customer frozen into a reassignment.
pub mod reassignment_item {
    use sea_orm::entity::prelude::*;

    /// One frozen customer with its owners before and after.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reassignment_item")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The reassignment.
        pub reassignment_id: String,
        /// The customer.
        pub customer_id: String,
        /// Owning branch when frozen.
        pub from_branch_id: String,
        /// A manager when frozen.
        pub from_primary_manager_id: String,
        /// B manager when frozen.
        pub from_backup_manager_id: String,
        /// The customer's version when frozen.
        pub customer_version: i64,
        /// Owning branch after.
        pub to_branch_id: String,
        /// A manager after.
        pub to_primary_manager_id: String,
        /// B manager after.
        pub to_backup_manager_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
