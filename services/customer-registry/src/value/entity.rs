//! sea-orm entities of the value tables (schema in `migration`). Months are stored as a
//! `period_key` (year × 100 + month); decimals as canonical strings; amounts as `BIGINT` fen.

/// `ahp_matrix`: every version of every AHP pairwise-comparison matrix, with its weights.
pub mod ahp_matrix {
    use sea_orm::entity::prelude::*;

    /// One matrix version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ahp_matrix")]
    pub struct Model {
        /// The series: `dimensions` or `factors-<dimension>`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub matrix_id: String,
        /// The version within the series, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Scope code: `dimensions` or `dimension_factors`.
        pub scope: String,
        /// Dimension code for `dimension_factors`; empty otherwise.
        pub dimension: String,
        /// The criteria in row order, a JSON array of codes.
        pub criteria: String,
        /// The upper-triangle judgements, a JSON array of `[row, column, numerator, denominator]`.
        pub judgements: String,
        /// The weights in criteria order, a JSON array of decimal strings.
        pub weights: String,
        /// λmax, canonical decimal.
        pub lambda_max: String,
        /// CI, canonical decimal.
        pub consistency_index: String,
        /// RI, canonical decimal.
        pub random_index: String,
        /// CR, canonical decimal.
        pub consistency_ratio: String,
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

/// `ge_weights`: every version of the GE-matrix weights and cuts.
pub mod ge_weights {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ge_weights")]
    pub struct Model {
        /// The series id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub ge_weights_id: String,
        /// The version, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Attractiveness factors, a JSON array of `{code, weight}`.
        pub attractiveness: String,
        /// Strength factors, a JSON array of `{code, weight}`.
        pub strength: String,
        /// Low/medium cut, canonical decimal.
        pub low_cut: String,
        /// Medium/high cut, canonical decimal.
        pub high_cut: String,
        /// First day in force.
        pub start_date: Date,
        /// First day no longer in force.
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

/// `value_config`: versioned thresholds and parameters of the value computations (hurdle rate,
/// draw ratio, dormancy bands, RFM cuts, CLV, grade bands, defaults, factor scales).
pub mod value_config {
    use sea_orm::entity::prelude::*;

    /// One version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "value_config")]
    pub struct Model {
        /// The series id (`default`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub config_id: String,
        /// The version, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// The parameters, JSON (`value::rules::ValueConfig`).
        pub payload: String,
        /// First day in force.
        pub start_date: Date,
        /// First day no longer in force.
        pub end_date: Option<Date>,
        /// When it was stored.
        pub create_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `factor_assessment`: managers' factor grades per customer, scheme and month.
pub mod factor_assessment {
    use sea_orm::entity::prelude::*;

    /// One assessment.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "factor_assessment")]
    pub struct Model {
        /// Insertion order: the newest-first keyset.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Stable id (UUID v7).
        #[sea_orm(unique)]
        pub assessment_id: String,
        /// The customer.
        pub customer_id: String,
        /// Scheme code: `five_dimension` or `ge_matrix`.
        pub scheme: String,
        /// The month, year × 100 + month.
        pub period_key: i32,
        /// The grades, a JSON array of `{factor_code, grade, note}`.
        pub grades: String,
        /// Who assessed.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Superseded by a later assessment of the same customer, scheme and month.
        pub superseded: bool,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `value_result`: every computed result (contribution month, dormancy, RFM, value score, GE
/// class) with its period and the rule versions it used. One row per (kind, customer, month,
/// rule versions): a recompute with the same versions replaces it, new versions add a row, and
/// the newest row of a (kind, customer, month) is flagged `current`.
pub mod value_result {
    use sea_orm::entity::prelude::*;

    /// One result.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "value_result")]
    pub struct Model {
        /// Insertion order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// `contribution`, `dormancy`, `rfm`, `value_score` or `ge_class`.
        pub kind: String,
        /// The customer.
        pub customer_id: String,
        /// The month (the window's last month for quarterly results), year × 100 + month.
        pub period_key: i32,
        /// SHA-256 of the canonical list of rule versions used.
        pub rule_key: String,
        /// The newest result of its kind, customer and month.
        pub current: bool,
        /// Dormancy: grade order (insufficient −1, active 0, light 1, medium 2, deep 3); GE: class.
        pub grade_rank: i32,
        /// Dormancy: silence depth × 10⁶, for "deepest first".
        pub sort_key: i64,
        /// Contribution: after-risk contribution of the month in fen.
        pub amount: i64,
        /// Contribution: JSON of `bankmkt_domain::contribution::MonthlyContribution`; the other
        /// kinds: the encoded protobuf result message.
        pub payload: Vec<u8>,
        /// The rule versions used, a JSON array of `[kind, id, version]`.
        pub rule_versions: String,
        /// When it was computed.
        pub compute_time: DateTimeUtc,
        /// The re-scoring job that computed it.
        pub job_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `rescoring_job`: re-scoring batch jobs with their scope, cursor and counts.
pub mod rescoring_job {
    use sea_orm::entity::prelude::*;

    /// One job.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rescoring_job")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub job_id: String,
        /// `monthly` or `quarterly`.
        pub kind: String,
        /// The month, year × 100 + month.
        pub period_key: i32,
        /// The subtree root when scoped by branch; empty otherwise.
        pub branch_id: String,
        /// The customers in scope, fixed at the start: a JSON array of ids, in order.
        pub customer_ids: String,
        /// Customers in scope.
        pub customers_total: i64,
        /// Customers scored.
        pub customers_done: i64,
        /// Customers that failed.
        pub customers_failed: i64,
        /// `queued`, `running`, `succeeded` or `failed`.
        pub state: String,
        /// The first error.
        pub error_message: String,
        /// The rule versions used, a JSON array of `[kind, id, version]`.
        pub rule_versions: String,
        /// Who started it.
        pub created_by: String,
        /// When it was created.
        pub create_time: DateTimeUtc,
        /// Heartbeat: the last progress write.
        pub update_time: DateTimeUtc,
        /// When it finished.
        pub finish_time: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
