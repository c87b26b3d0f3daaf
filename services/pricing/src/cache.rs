//! The catalogue version and the versioned cache in front of the catalogue and rule tables.
//!
//! `pricing_state` holds the **catalogue version**: a number and a stamp. Every write to a
//! catalogue or rule table (products, price versions, reference rates, regulatory limits, FX
//! rates, authority bands, and later rules and bundles) bumps the number and draws a new stamp
//! (a UUID v7) in its own transaction, which also serialises those writers on Postgres (the bump
//! takes the row lock first, so overlap checks that follow see every committed row).
//! [`catalogue_version`] reads both with one primary-key lookup: a quote checks the number against
//! the database, and every cache key carries the stamp, so a write makes every replica miss its
//! old entries and re-read. The stamp, unlike the number, never repeats across databases, so a
//! restored or recreated database sharing a Redis never meets entries of another.
//! [`CatalogueCache`] is an in-process L1 in front of the shared cache (Redis, or the in-process
//! cache in embedded mode, where the L1 is left out), both keyed by stamp, with the database
//! behind them: entries are never invalidated, they are orphaned by the next write and expire by
//! TTL.

use std::future::Future;
use std::time::Duration;

use bankmkt_platform::cache::{Cache, CacheKey, MemoryCache, ReadThrough};
use sea_orm::QuerySelect;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::ExprTrait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, ServiceError};
use crate::migrations::STATE_ROW;

/// Schema version of every cached pricing value; bump it when a cached shape changes.
pub const CACHE_SCHEMA: u32 = 1;
/// How long the in-process L1 keeps an entry.
const L1_TTL: Duration = Duration::from_secs(60);
/// How long the shared cache keeps an entry.
const SHARED_TTL: Duration = Duration::from_secs(600);
/// Entries the L1 holds at most.
const L1_ENTRIES: u64 = 10_000;

/// `pricing_state`: the single row holding the catalogue version.
pub mod pricing_state {
    use sea_orm::entity::prelude::*;

    /// The state row (id 1).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pricing_state")]
    pub struct Model {
        /// Always 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        /// Grows by one with every catalogue or rule write.
        pub catalogue_version: i64,
        /// A UUID v7 drawn by every catalogue or rule write; cache keys carry it.
        pub catalogue_stamp: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The catalogue version: its number and the stamp of the write that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueVersion {
    /// Grows by one with every catalogue or rule write.
    pub number: i64,
    /// Unique to that write; what cache keys carry.
    pub stamp: String,
}

/// The current catalogue version: one primary-key lookup.
pub async fn catalogue_version<C: ConnectionTrait>(db: &C) -> Result<CatalogueVersion> {
    pricing_state::Entity::find_by_id(STATE_ROW)
        .one(db)
        .await?
        .map(|s| CatalogueVersion {
            number: s.catalogue_version,
            stamp: s.catalogue_stamp,
        })
        .ok_or_else(|| ServiceError::internal("the pricing_state row is missing"))
}

/// [`catalogue_version`] read `FOR SHARE` (Postgres): holds off catalogue writers until the
/// reading transaction ends.
pub async fn catalogue_version_for_share<C: ConnectionTrait>(txn: &C) -> Result<CatalogueVersion> {
    pricing_state::Entity::find_by_id(STATE_ROW)
        .lock_shared()
        .one(txn)
        .await?
        .map(|s| CatalogueVersion {
            number: s.catalogue_version,
            stamp: s.catalogue_stamp,
        })
        .ok_or_else(|| ServiceError::internal("the pricing_state row is missing"))
}

/// Bumps the catalogue version on `txn` (the write's own transaction) and returns the new one.
/// Call it first in a write: it takes the row lock that serialises catalogue writers.
pub async fn bump_catalogue_version<C: ConnectionTrait>(txn: &C) -> Result<CatalogueVersion> {
    let stamp = uuid::Uuid::now_v7().to_string();
    let updated = pricing_state::Entity::update_many()
        .col_expr(
            pricing_state::Column::CatalogueVersion,
            Expr::col(pricing_state::Column::CatalogueVersion).add(1),
        )
        .col_expr(pricing_state::Column::CatalogueStamp, Expr::value(stamp))
        .filter(pricing_state::Column::Id.eq(STATE_ROW))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ServiceError::internal("the pricing_state row is missing"));
    }
    catalogue_version(txn).await
}

/// An in-process L1 in front of the shared cache, for values keyed by catalogue version.
#[derive(Clone, Debug)]
pub struct CatalogueCache {
    l1: Option<MemoryCache>,
    shared: ReadThrough,
}

impl CatalogueCache {
    /// A cache in front of `shared`; the L1 is left out when `shared` is itself in-process.
    pub fn new(shared: ReadThrough) -> CatalogueCache {
        let l1 = (shared.backend() != "memory").then(|| MemoryCache::new(L1_ENTRIES));
        CatalogueCache { l1, shared }
    }

    /// The key of `id` in `namespace` at the catalogue version stamped `stamp`.
    pub fn key(namespace: &str, stamp: &str, id: &str) -> CacheKey {
        CacheKey::new(namespace, CACHE_SCHEMA, &format!("{stamp}:{id}"))
    }

    /// The value of `id` in `namespace` at the catalogue version stamped `stamp`: from the L1, else the shared
    /// cache, else `load()` (the database), which then fills both. An entry that does not decode
    /// is dropped and reloaded. Only the loader's errors are returned.
    pub async fn get_or_load<T, F, Fut>(
        &self,
        namespace: &str,
        stamp: &str,
        id: &str,
        load: F,
    ) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let key = CatalogueCache::key(namespace, stamp, id);
        if let Some(l1) = &self.l1
            && let Ok(Some(bytes)) = l1.get(key.as_str()).await
        {
            match serde_json::from_slice(&bytes) {
                Ok(value) => return Ok(Some(value)),
                Err(e) => {
                    tracing::warn!(key = %key, error = %e, "unreadable L1 entry; reloading");
                    let _ = l1.delete(key.as_str()).await;
                }
            }
        }
        if let Some(bytes) = self.shared.get(&key).await {
            match serde_json::from_slice(&bytes) {
                Ok(value) => {
                    self.fill_l1(&key, &bytes).await;
                    return Ok(Some(value));
                }
                Err(e) => {
                    tracing::warn!(key = %key, error = %e, "unreadable cache entry; reloading");
                    self.shared.invalidate(&key).await;
                }
            }
        }
        let Some(value) = load().await? else {
            return Ok(None);
        };
        match serde_json::to_vec(&value) {
            Ok(bytes) => {
                self.shared.put(&key, &bytes, SHARED_TTL).await;
                self.fill_l1(&key, &bytes).await;
            }
            Err(e) => tracing::warn!(key = %key, error = %e, "value not cached: does not encode"),
        }
        Ok(Some(value))
    }

    async fn fill_l1(&self, key: &CacheKey, bytes: &[u8]) {
        if let Some(l1) = &self.l1 {
            let _ = l1.set(key.as_str(), bytes, L1_TTL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_platform::cache::CacheError;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn values_are_loaded_once_per_version() {
        let shared = ReadThrough::new(Arc::new(MemoryCache::new(100)), Duration::from_secs(1));
        let cache = CatalogueCache::new(shared);
        let loads = AtomicUsize::new(0);
        let load = |value: &'static str| {
            loads.fetch_add(1, Ordering::SeqCst);
            async move { Ok(Some(value.to_owned())) }
        };
        let first: Option<String> = cache
            .get_or_load("t", "s1", "a", || load("one"))
            .await
            .ok()
            .flatten();
        let again: Option<String> = cache
            .get_or_load("t", "s1", "a", || load("stale"))
            .await
            .ok()
            .flatten();
        let next: Option<String> = cache
            .get_or_load("t", "s2", "a", || load("two"))
            .await
            .ok()
            .flatten();
        assert_eq!(first.as_deref(), Some("one"));
        assert_eq!(again.as_deref(), Some("one"), "served from the cache");
        assert_eq!(next.as_deref(), Some("two"), "a new version misses");
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        let none: Option<String> = cache
            .get_or_load("t", "s2", "missing", || async { Ok(None) })
            .await
            .ok()
            .flatten();
        assert_eq!(none, None);
        assert_eq!(
            CatalogueCache::key("pricing_product", "0190", "LOAN").as_str(),
            "bankmkt:v1:pricing_product:v1:0190:LOAN"
        );
    }

    /// A shared cache that counts its reads, standing in for Redis.
    #[derive(Debug)]
    struct CountingShared {
        inner: MemoryCache,
        gets: Arc<AtomicUsize>,
    }

    #[async_trait::async_trait]
    impl Cache for CountingShared {
        async fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, CacheError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.inner.get(key).await
        }

        async fn set(
            &self,
            key: &str,
            value: &[u8],
            ttl: Duration,
        ) -> std::result::Result<(), CacheError> {
            self.inner.set(key, value, ttl).await
        }

        async fn delete(&self, key: &str) -> std::result::Result<(), CacheError> {
            self.inner.delete(key).await
        }

        fn backend(&self) -> &'static str {
            "counting"
        }
    }

    #[tokio::test]
    async fn the_l1_answers_before_the_shared_cache() {
        let gets = Arc::new(AtomicUsize::new(0));
        let shared_cache = Arc::new(CountingShared {
            inner: MemoryCache::new(100),
            gets: gets.clone(),
        });
        let shared = ReadThrough::new(shared_cache, Duration::from_secs(1));
        let replica_a = CatalogueCache::new(shared.clone());
        let replica_b = CatalogueCache::new(shared);
        let load = |v: &'static str| async move { Ok(Some(v.to_owned())) };
        let read = |cache: &CatalogueCache, stamp: &'static str, v: &'static str| {
            let cache = cache.clone();
            async move {
                cache
                    .get_or_load::<String, _, _>("t", stamp, "p", || load(v))
                    .await
                    .ok()
                    .flatten()
            }
        };
        assert_eq!(read(&replica_a, "s1", "db").await.as_deref(), Some("db"));
        assert_eq!(
            gets.load(Ordering::SeqCst),
            1,
            "a miss asks the shared cache once"
        );
        assert_eq!(
            read(&replica_a, "s1", "db again").await.as_deref(),
            Some("db")
        );
        assert_eq!(gets.load(Ordering::SeqCst), 1, "the L1 answered");
        // Another replica finds the value in the shared cache, not in the database.
        assert_eq!(
            read(&replica_b, "s1", "db again").await.as_deref(),
            Some("db")
        );
        assert_eq!(gets.load(Ordering::SeqCst), 2);
        // After a write (a new stamp) both replicas re-read.
        assert_eq!(read(&replica_b, "s2", "new").await.as_deref(), Some("new"));
        assert_eq!(
            read(&replica_a, "s2", "newer").await.as_deref(),
            Some("new")
        );
    }
}
