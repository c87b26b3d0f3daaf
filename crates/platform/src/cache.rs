//! The shared cache. One [`Cache`] trait with two backends: [`RedisCache`] when `redis_url` is set,
//! and [`MemoryCache`] (moka, in-process) for the embedded default. Keys are built with
//! [`CacheKey`], which always carries a versioned prefix, and every entry has a TTL. Services use
//! the [`ReadThrough`] wrapper: a cache error or a call slower than `cache_timeout` is logged and
//! treated as a miss, so the read falls through to the database and the call never fails because
//! of the cache. The cache is never the source of truth.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// Prefix shared by every key the suite writes; bump the version to orphan every old entry.
pub const KEY_PREFIX: &str = "bankmkt:v1";

/// A cache operation failed (the caller treats it as a miss).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend answered with an error.
    #[error("cache backend: {0}")]
    Backend(String),
    /// The backend did not answer within the timeout.
    #[error("cache timed out after {0:?}")]
    Timeout(Duration),
}

/// A byte cache with per-entry TTLs.
#[async_trait]
pub trait Cache: Send + Sync + fmt::Debug {
    /// The value under `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Stores `value` under `key` for `ttl`.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// Removes `key` (absent is fine).
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// `memory` or `redis`, for logs and tests.
    fn backend(&self) -> &'static str;
}

/// A cache key: `bankmkt:v1:<namespace>:v<schema_version>:<id>`. The namespace names the kind of
/// value (`customer`, `branch_tree`), and its schema version changes whenever the encoded shape of
/// that value changes, so old entries are never misread.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// Builds a key.
    pub fn new(namespace: &str, schema_version: u32, id: &str) -> CacheKey {
        CacheKey(format!("{KEY_PREFIX}:{namespace}:v{schema_version}:{id}"))
    }

    /// The full key string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------

/// In-process cache (embedded default, and an L1 for hot immutable data).
#[derive(Clone)]
pub struct MemoryCache {
    inner: moka::future::Cache<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    ttl: Duration,
}

struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Entry,
        _at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _at: std::time::Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl MemoryCache {
    /// A cache holding at most `max_entries` values.
    pub fn new(max_entries: u64) -> MemoryCache {
        MemoryCache {
            inner: moka::future::Cache::builder()
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .build(),
        }
    }
}

impl fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.inner.get(key).await.map(|e| e.bytes.to_vec()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.inner
            .insert(
                key.to_owned(),
                Entry {
                    bytes: Arc::from(value),
                    ttl,
                },
            )
            .await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.invalidate(key).await;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

// ---------------------------------------------------------------------------------------------

/// Redis-backed cache. Connects lazily and reconnects by itself, so a Redis that is down at
/// start-up or goes away later only turns reads into misses.
#[derive(Clone)]
pub struct RedisCache {
    manager: redis::aio::ConnectionManager,
    timeout: Duration,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisCache {
    /// A cache on `url` whose every operation gives up after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<RedisCache, CacheError> {
        let client = redis::Client::open(url).map_err(|e| CacheError::Backend(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout.max(Duration::from_millis(200))))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let manager = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| CacheError::Backend(e.to_string()))?;
        Ok(RedisCache { manager, timeout })
    }

    async fn run<T, F>(&self, op: F) -> Result<T, CacheError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CacheError::Backend(e.to_string())),
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.manager.clone();
        self.run(async move {
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<Vec<u8>>>(&mut conn)
                .await
        })
        .await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.manager.clone();
        let millis = ttl.as_millis().clamp(1, u128::from(u64::MAX)) as u64;
        self.run(async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.manager.clone();
        self.run(async move {
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

// ---------------------------------------------------------------------------------------------

/// The cache as services use it: reads fall through to the loader on a miss, an error or a
/// timeout; writes and invalidations are best effort. Cache trouble is logged, never returned.
#[derive(Clone, Debug)]
pub struct ReadThrough {
    cache: Arc<dyn Cache>,
    timeout: Duration,
}

impl ReadThrough {
    /// Wraps `cache`, giving each call at most `timeout`.
    pub fn new(cache: Arc<dyn Cache>, timeout: Duration) -> ReadThrough {
        ReadThrough { cache, timeout }
    }

    /// Redis when `redis_url` is set, in-process otherwise.
    pub fn from_settings(settings: &crate::settings::Settings) -> Result<ReadThrough, CacheError> {
        let cache: Arc<dyn Cache> = match &settings.redis_url {
            Some(url) => Arc::new(RedisCache::new(url, settings.cache_timeout)?),
            None => Arc::new(MemoryCache::new(100_000)),
        };
        Ok(ReadThrough::new(cache, settings.cache_timeout))
    }

    /// The backend name.
    pub fn backend(&self) -> &'static str {
        self.cache.backend()
    }

    /// The cached bytes under `key`, or `None` on a miss or any cache trouble.
    pub async fn get(&self, key: &CacheKey) -> Option<Vec<u8>> {
        match tokio::time::timeout(self.timeout, self.cache.get(key.as_str())).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(key = %key, error = %e, "cache read failed; falling through");
                None
            }
            Err(_) => {
                tracing::warn!(key = %key, timeout_ms = self.timeout.as_millis() as u64, "cache read timed out; falling through");
                None
            }
        }
    }

    /// Stores `value` under `key` for `ttl`, best effort.
    pub async fn put(&self, key: &CacheKey, value: &[u8], ttl: Duration) {
        match tokio::time::timeout(self.timeout, self.cache.set(key.as_str(), value, ttl)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(key = %key, error = %e, "cache write failed"),
            Err(_) => tracing::warn!(key = %key, "cache write timed out"),
        }
    }

    /// Drops `key`, best effort (entries also expire by TTL).
    pub async fn invalidate(&self, key: &CacheKey) {
        match tokio::time::timeout(self.timeout, self.cache.delete(key.as_str())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(key = %key, error = %e, "cache invalidation failed"),
            Err(_) => tracing::warn!(key = %key, "cache invalidation timed out"),
        }
    }

    /// The value under `key`, else `load()`'s value, which is then cached for `ttl` when `Some`.
    /// Only the loader's own error is returned.
    pub async fn get_or_load<E, F, Fut>(
        &self,
        key: &CacheKey,
        ttl: Duration,
        load: F,
    ) -> Result<Option<Vec<u8>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Vec<u8>>, E>>,
    {
        if let Some(hit) = self.get(key).await {
            return Ok(Some(hit));
        }
        let loaded = load().await?;
        if let Some(bytes) = &loaded {
            self.put(key, bytes, ttl).await;
        }
        Ok(loaded)
    }
}
