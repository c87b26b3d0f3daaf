//! sea-orm entities of the organisation tables (see `migrations`).

/// `branch`: the latest version of each node.
pub mod branch {
    use sea_orm::entity::prelude::*;

    /// One branch, latest version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "branch")]
    pub struct Model {
        /// The branch code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub branch_id: String,
        /// Display name.
        pub name: String,
        /// Level code (`head_office`, ...).
        pub level: String,
        /// Parent code; `None` for head office.
        pub parent_id: Option<String>,
        /// Region code (may be empty).
        pub region_code: String,
        /// Opening day.
        pub opened_on: Option<Date>,
        /// Closing day (exclusive).
        pub closed_on: Option<Date>,
        /// Materialised path `/HQ/…/<id>/`.
        pub path: String,
        /// Optimistic-concurrency version.
        pub version: i64,
        /// Last change.
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `branch_history`: every version of every node with its effective interval.
pub mod branch_history {
    use sea_orm::entity::prelude::*;

    /// One version of a branch, in force on `[valid_from, valid_to)`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "branch_history")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The branch code.
        pub branch_id: String,
        /// First day in force.
        pub valid_from: Date,
        /// First day no longer in force; `None` while current.
        pub valid_to: Option<Date>,
        /// Display name.
        pub name: String,
        /// Level code.
        pub level: String,
        /// Parent code.
        pub parent_id: Option<String>,
        /// Region code.
        pub region_code: String,
        /// Opening day.
        pub opened_on: Option<Date>,
        /// Closing day.
        pub closed_on: Option<Date>,
        /// Materialised path in this version.
        pub path: String,
        /// The branch version this row records.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tree_state`: the single row holding the tree version.
pub mod tree_state {
    use sea_orm::entity::prelude::*;

    /// The tree version (row id 1).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tree_state")]
    pub struct Model {
        /// Always 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        /// Grows by one on every change of the tree.
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `employee`: the staff directory.
pub mod employee {
    use sea_orm::entity::prelude::*;

    /// One employee.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "employee")]
    pub struct Model {
        /// Employee id (= JWT sub).
        #[sea_orm(primary_key, auto_increment = false)]
        pub employee_id: String,
        /// Full name.
        pub name: String,
        /// Branch code.
        pub branch_id: String,
        /// Comma-separated line codes.
        pub lines: String,
        /// Comma-separated role codes.
        pub roles: String,
        /// First active day.
        pub active_from: Date,
        /// First inactive day.
        pub active_to: Option<Date>,
        /// Optimistic-concurrency version.
        pub version: i64,
        /// Last change.
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
