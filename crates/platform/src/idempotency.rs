//! The idempotency store: `(scope, key)` → the response that was returned the first time, plus a
//! hash of the request it answered. A write RPC that carries an idempotency key calls [`check`]
//! first: a [`Replay`](Outcome::Replay) returns the stored response unchanged; a
//! [`Conflict`](Outcome::Conflict) (same key, different request) is the caller's error. After the
//! write it calls [`remember`] in the same transaction, so the record and the change commit together.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sha2::{Digest, Sha256};

/// The `idempotency_record` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One remembered response.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_record")]
    pub struct Model {
        /// The RPC (or other namespace) the key belongs to, e.g. `Pricing/CreateQuote`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        /// The caller's idempotency key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// Hex SHA-256 of the request the key first came with.
        pub request_hash: String,
        /// The encoded response returned the first time.
        pub response: Vec<u8>,
        /// When it was stored.
        pub created_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a key says about a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Never seen: do the work, then [`remember`] it.
    Fresh,
    /// Seen with the same request: return this stored response.
    Replay(Vec<u8>),
    /// Seen with a different request: refuse.
    Conflict,
}

/// Hex SHA-256 of an encoded request, for [`check`] and [`remember`].
pub fn request_hash(encoded_request: &[u8]) -> String {
    let digest = Sha256::digest(encoded_request);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Looks `(scope, key)` up.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Outcome, DbErr> {
    let found = entity::Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(db)
        .await?;
    Ok(match found {
        None => Outcome::Fresh,
        Some(record) if record.request_hash == request_hash => Outcome::Replay(record.response),
        Some(_) => Outcome::Conflict,
    })
}

/// Stores the response for `(scope, key)`; fails with a unique violation if another writer stored
/// it first (the caller's transaction then rolls back and the retry sees a replay).
pub async fn remember<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    request_hash: &str,
    response: Vec<u8>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    entity::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        response: Set(response),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}
