//! Integration tests of the platform crate, in one test binary: the contract suites for the shared
//! tables (run unchanged against SQLite and Postgres) and for the cache (run unchanged against the
//! in-process cache and Redis).

mod cache_contract;
mod store_contract;
