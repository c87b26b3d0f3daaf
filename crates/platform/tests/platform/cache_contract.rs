//! The cache contract, run unchanged against the in-process cache and a real Redis, plus the
//! fall-through rule: a Redis that is down or slow turns reads into misses and never fails a call.

use std::sync::Arc;
use std::time::Duration;

use bankmkt_platform::cache::{Cache, CacheKey, MemoryCache, ReadThrough, RedisCache};

fn memory() -> Arc<dyn Cache> {
    Arc::new(MemoryCache::new(1_000))
}

async fn redis() -> Arc<dyn Cache> {
    let url = bankmkt_testkit::redis_url();
    let cache = RedisCache::new(&url, Duration::from_millis(500)).expect("redis url");
    // Fail loudly, never skip, when the server is missing.
    cache.set("bankmkt:v1:probe", b"1", Duration::from_secs(5)).await.unwrap_or_else(|e| {
        panic!("Redis is not reachable at {url} ({e}). Run the README's test command (scripts/test), which starts it, or set BANKMKT_TEST_REDIS_URL.")
    });
    Arc::new(cache)
}

fn unique(namespace: &str) -> CacheKey {
    CacheKey::new(namespace, 1, &uuid::Uuid::new_v4().to_string())
}

async fn set_get_delete_round_trip(cache: Arc<dyn Cache>) {
    let key = unique("contract");
    assert_eq!(cache.get(key.as_str()).await.expect("get"), None);
    cache
        .set(key.as_str(), b"\x00binary\xff", Duration::from_secs(30))
        .await
        .expect("set");
    assert_eq!(
        cache.get(key.as_str()).await.expect("get"),
        Some(b"\x00binary\xff".to_vec())
    );
    cache
        .set(key.as_str(), b"v2", Duration::from_secs(30))
        .await
        .expect("overwrite");
    assert_eq!(
        cache.get(key.as_str()).await.expect("get"),
        Some(b"v2".to_vec())
    );
    cache.delete(key.as_str()).await.expect("delete");
    assert_eq!(cache.get(key.as_str()).await.expect("get"), None);
    cache
        .delete(key.as_str())
        .await
        .expect("deleting an absent key is fine");
}

async fn entries_expire_after_their_ttl(cache: Arc<dyn Cache>) {
    let short = unique("ttl");
    let long = unique("ttl");
    cache
        .set(short.as_str(), b"short", Duration::from_millis(150))
        .await
        .expect("set");
    cache
        .set(long.as_str(), b"long", Duration::from_secs(60))
        .await
        .expect("set");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        cache.get(short.as_str()).await.expect("get"),
        None,
        "expired"
    );
    assert_eq!(
        cache.get(long.as_str()).await.expect("get"),
        Some(b"long".to_vec())
    );
}

async fn read_through_loads_once_then_serves_from_cache(cache: Arc<dyn Cache>) {
    let read = ReadThrough::new(cache, Duration::from_millis(500));
    let key = unique("customer");
    let calls = std::sync::atomic::AtomicU32::new(0);
    for _ in 0..3 {
        let value = read
            .get_or_load::<(), _, _>(&key, Duration::from_secs(30), || async {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(Some(b"from-db".to_vec()))
            })
            .await
            .expect("load");
        assert_eq!(value, Some(b"from-db".to_vec()));
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    read.invalidate(&key).await;
    assert_eq!(read.get(&key).await, None);
    // A loader miss is not cached.
    let absent = unique("customer");
    let value = read
        .get_or_load::<(), _, _>(&absent, Duration::from_secs(30), || async { Ok(None) })
        .await
        .expect("load");
    assert_eq!(value, None);
    assert_eq!(read.get(&absent).await, None);
}

async fn keys_are_versioned_and_prefixed(_cache: Arc<dyn Cache>) {
    let key = CacheKey::new("branch_tree", 3, "HQ");
    assert_eq!(key.as_str(), "bankmkt:v1:branch_tree:v3:HQ");
    assert_ne!(CacheKey::new("branch_tree", 4, "HQ"), key);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::redis().await).await;
                }
            )*
        }
    };
}

contract!(
    set_get_delete_round_trip,
    entries_expire_after_their_ttl,
    read_through_loads_once_then_serves_from_cache,
    keys_are_versioned_and_prefixed,
);

#[tokio::test]
async fn redis_down_falls_through_to_the_loader() {
    // Nothing listens on port 1: every cache call fails or times out.
    let dead =
        RedisCache::new("redis://127.0.0.1:1", Duration::from_millis(100)).expect("url parses");
    let read = ReadThrough::new(Arc::new(dead), Duration::from_millis(100));
    let key = unique("customer");
    let value = read
        .get_or_load::<(), _, _>(&key, Duration::from_secs(30), || async {
            Ok(Some(b"from-db".to_vec()))
        })
        .await
        .expect("the loader's value, not a cache error");
    assert_eq!(value, Some(b"from-db".to_vec()));
    read.put(&key, b"x", Duration::from_secs(1)).await;
    read.invalidate(&key).await;
}

#[tokio::test]
async fn a_loader_error_is_returned_unchanged() {
    let read = ReadThrough::new(memory(), Duration::from_millis(100));
    let err = read
        .get_or_load(&unique("customer"), Duration::from_secs(30), || async {
            Err::<Option<Vec<u8>>, _>("db down")
        })
        .await
        .expect_err("loader error");
    assert_eq!(err, "db down");
}
