//! sea-orm entities of the quote tables created by `m0204_pricing_quotes`: `quote` (one row per
//! quote version, the latest state), `quote_item` (its priced items, never updated),
//! `quote_decision` (the approvers' decisions, append-only) and `covenant_observation` (each
//! observed sales-funds return ratio, append-only). JSON columns hold the stored forms of
//! [`super::stored`].

/// `quote`: one stored quote.
pub mod quote {
    use sea_orm::entity::prelude::*;

    /// One quote.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quote")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub quote_id: String,
        /// The customer quoted.
        pub customer_id: String,
        /// The branch the quote is made for.
        pub branch_id: String,
        /// That branch's materialised path, `/HQ/BJ/BJ01/`, for subtree filters.
        pub branch_path: String,
        /// The coordination opportunity, if any.
        pub opportunity_id: Option<String>,
        /// The bundle, if any.
        pub bundle_id: Option<String>,
        /// The bundle version used.
        pub bundle_version: Option<i64>,
        /// The stored state code (expiry is read against `expire_time`).
        pub status: String,
        /// The verdict code.
        pub verdict: String,
        /// The authority level code required.
        pub required_level: String,
        /// Marked strategic.
        pub strategic: bool,
        /// Why it is strategic (empty when not).
        pub strategic_reason: String,
        /// JSON [`super::super::stored::StoredTotals`].
        pub totals: String,
        /// Existing contribution in fen (0 when unknown; the JSON says whether it is known).
        pub existing_contribution_fen: i64,
        /// Existing plus total EVA in fen (0 when unknown).
        pub combined_contribution_fen: i64,
        /// JSON list of missing prerequisites.
        pub missing_prerequisites: String,
        /// JSON list of the rule, band, limit, price-version and bundle versions used.
        pub rule_versions: String,
        /// The registry's customer data version read.
        pub registry_data_version: i64,
        /// The catalogue version the quote was priced at.
        pub catalogue_version: i64,
        /// The hurdle rate used, bp.
        pub hurdle_rate_bps: i32,
        /// Who created it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Who submitted it.
        pub submitted_by: Option<String>,
        /// When.
        pub submit_time: Option<DateTimeUtc>,
        /// The maker's note.
        pub submit_reason: Option<String>,
        /// After this a draft or pending quote is expired.
        pub expire_time: DateTimeUtc,
        /// The quote this one supersedes.
        pub supersedes_quote_id: Option<String>,
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

/// `quote_item`: one priced item of a quote.
pub mod quote_item {
    use sea_orm::entity::prelude::*;

    /// One item.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quote_item")]
    pub struct Model {
        /// The quote.
        #[sea_orm(primary_key, auto_increment = false)]
        pub quote_id: String,
        /// Position-based id, "1", "2", ...
        #[sea_orm(primary_key, auto_increment = false)]
        pub item_id: String,
        /// Position, from 0.
        pub position: i32,
        /// The product.
        pub product_id: String,
        /// The product kind code.
        pub product_kind: String,
        /// The item's currency.
        pub currency: String,
        /// The price version used.
        pub price_version_id: String,
        /// JSON [`super::super::stored::StoredRequest`].
        pub request: String,
        /// JSON price.
        pub list_price: String,
        /// JSON price.
        pub relationship_price: String,
        /// JSON price.
        pub proposed_price: String,
        /// The concession, bp.
        pub concession_bps: i32,
        /// The authority level code its concession requires.
        pub required_level: String,
        /// The year fraction, a decimal string.
        pub year_fraction: String,
        /// JSON economics in the item's currency.
        pub economics: String,
        /// CNY per unit, a decimal string.
        pub fx_rate: String,
        /// JSON rule explanations.
        pub rules: String,
        /// JSON list of the limits checked.
        pub regulatory_limit_ids: String,
        /// The covenant's agreed ratio, bp.
        pub covenant_agreed_ratio_bps: Option<i32>,
        /// The covenant's step-up, bp.
        pub covenant_step_up_bps: Option<i32>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `quote_decision`: one approver's decision.
pub mod quote_decision {
    use sea_orm::entity::prelude::*;

    /// One decision.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quote_decision")]
    pub struct Model {
        /// Surrogate key, in decision order.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The quote.
        pub quote_id: String,
        /// Outcome code.
        pub outcome: String,
        /// The approver.
        pub actor_id: String,
        /// The approver's branch.
        pub approver_branch_id: String,
        /// Why.
        pub reason: String,
        /// When.
        pub decide_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `covenant_observation`: one observed sales-funds return ratio.
pub mod covenant_observation {
    use sea_orm::entity::prelude::*;

    /// One observation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "covenant_observation")]
    pub struct Model {
        /// Surrogate key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The quote observed.
        pub quote_id: String,
        /// The covenanted item.
        pub item_id: String,
        /// The month, `YYYY-MM`.
        pub period: String,
        /// The observed ratio, bp.
        pub observed_ratio_bps: i32,
        /// Below the agreed ratio.
        pub breached: bool,
        /// The step-up applied, bp.
        pub step_up_bps: i32,
        /// The new quote version, when breached.
        pub new_quote_id: Option<String>,
        /// Who recorded it.
        pub recorded_by: String,
        /// When.
        pub record_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
