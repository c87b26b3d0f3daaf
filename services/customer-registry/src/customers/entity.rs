//! sea-orm entities of the customer master: `customer`, `customer_identity` (encrypted numbers
//! with a unique blind index per type) and `customer_xref` (source-system cross-references, unique
//! per source).

/// `customer`: one customer record.
pub mod customer {
    use sea_orm::entity::prelude::*;

    /// One customer.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "customer")]
    pub struct Model {
        /// Stable id (UUID v7, time-ordered).
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// Kind code.
        pub kind: String,
        /// Legal name.
        pub name: String,
        /// Key id of the sealed phone.
        pub phone_key_id: Option<String>,
        /// Sealed phone (nonce ‖ ciphertext).
        pub phone_sealed: Option<Vec<u8>>,
        /// Owning branch code.
        pub owning_branch_id: String,
        /// Primary (A) manager.
        pub primary_manager_id: String,
        /// Backup (B) manager.
        pub backup_manager_id: String,
        /// Industry code.
        pub industry_code: String,
        /// Lifecycle stage code.
        pub stage: String,
        /// Corporate tier code, for organisations.
        pub corporate_tier: Option<String>,
        /// Wealth tier code, for individuals.
        pub wealth_tier: Option<String>,
        /// Segment id.
        pub segment_id: String,
        /// Segment label.
        pub segment_label: String,
        /// `active` or `merged`.
        pub status: String,
        /// Survivor of a merge.
        pub merged_into: Option<String>,
        /// Encoded `IndividualDetails` or `OrganisationDetails`.
        pub details: Vec<u8>,
        /// Created.
        pub create_time: DateTimeUtc,
        /// Last changed.
        pub update_time: DateTimeUtc,
        /// Optimistic-concurrency version.
        pub version: i64,
    }

    /// No relations declared.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `customer_identity`: identity documents, sealed, with a blind index unique per type.
pub mod customer_identity {
    use sea_orm::entity::prelude::*;

    /// One identity document.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "customer_identity")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The customer.
        pub customer_id: String,
        /// Identity type code.
        pub identity_type: String,
        /// HMAC blind index of the normalised number.
        pub blind_index: String,
        /// Key id of the sealed number.
        pub key_id: String,
        /// Sealed number.
        pub sealed: Vec<u8>,
        /// Issuing country (ISO alpha-3), may be empty.
        pub issuing_country: String,
        /// Expiry date.
        pub expiry_date: Option<Date>,
    }

    /// No relations declared.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `customer_xref`: cross-references to source systems.
pub mod customer_xref {
    use sea_orm::entity::prelude::*;

    /// One cross-reference.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "customer_xref")]
    pub struct Model {
        /// Source system code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub source_system: String,
        /// The customer's id there.
        #[sea_orm(primary_key, auto_increment = false)]
        pub source_id: String,
        /// The customer.
        pub customer_id: String,
        /// Created.
        pub create_time: DateTimeUtc,
    }

    /// No relations declared.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
