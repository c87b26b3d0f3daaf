//! Test support for the contract suites: where the real servers are, and a fresh database per
//! test. Postgres tests get their own database cloned from a migrated template (created once per
//! migration set, under an advisory lock), so concurrent tests never see each other's rows. SQLite
//! tests get a file in a temporary directory. A test that needs a server which is not there fails
//! with a message saying how to get one; it never skips.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;

use sea_orm::{ConnectionTrait, Database, DbErr};

/// Postgres used when `BANKMKT_TEST_DATABASE_URL` is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Redis used when `BANKMKT_TEST_REDIS_URL` is unset.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The Postgres server tests use (an admin URL to any database on it).
pub fn postgres_url() -> String {
    std::env::var("BANKMKT_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// The Redis server tests use.
pub fn redis_url() -> String {
    std::env::var("BANKMKT_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// A database made for one test. SQLite files live as long as this value.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to connect to.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite database file; `migrate` runs on its URL before it is returned.
pub async fn sqlite<F, Fut>(migrate: F) -> TestDatabase
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), DbErr>>,
{
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    migrate(url.clone())
        .await
        .unwrap_or_else(|e| panic!("migrating the SQLite test database failed: {e}"));
    TestDatabase {
        url,
        backend: "sqlite",
        _dir: Some(dir),
    }
}

/// A fresh Postgres database cloned from the template for `template_key`; the template is created
/// and migrated with `migrate` the first time any test asks for it. Put every migration name in
/// the key, so a changed migration set gets a new template.
///
/// Panics (never skips) when Postgres cannot be reached.
pub async fn postgres<F, Fut>(template_key: &str, migrate: F) -> TestDatabase
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), DbErr>>,
{
    let admin_url = postgres_url();
    let admin = Database::connect(admin_url.as_str())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Postgres is not reachable at {admin_url} ({e}). Run the README's test command \
             (scripts/test), which starts it, or set BANKMKT_TEST_DATABASE_URL."
            )
        });
    let short: String = sanitize(template_key).chars().take(24).collect();
    let template = format!("bankmkt_tpl_{short}_{:08x}", fnv1a(template_key.as_bytes()));
    let lock_id = fnv1a(template.as_bytes()) as i64;
    exec(&admin, &format!("SELECT pg_advisory_lock({lock_id})")).await;
    let exists = admin
        .query_one_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 AS one FROM pg_database WHERE datname = '{template}'"),
        ))
        .await
        .unwrap_or_else(|e| panic!("querying pg_database failed: {e}"))
        .is_some();
    if !exists {
        let building = format!("{template}_building");
        exec(&admin, &format!("DROP DATABASE IF EXISTS {building}")).await;
        exec(&admin, &format!("CREATE DATABASE {building}")).await;
        let url = with_database(&admin_url, &building);
        if let Err(e) = migrate(url).await {
            exec(&admin, &format!("SELECT pg_advisory_unlock({lock_id})")).await;
            panic!("migrating the Postgres template {template} failed: {e}");
        }
        exec(
            &admin,
            &format!("ALTER DATABASE {building} RENAME TO {template}"),
        )
        .await;
    }
    let name = format!("bankmkt_t_{}", uuid::Uuid::new_v4().simple());
    exec(
        &admin,
        &format!("CREATE DATABASE {name} TEMPLATE {template}"),
    )
    .await;
    exec(&admin, &format!("SELECT pg_advisory_unlock({lock_id})")).await;
    let _ = admin.close().await;
    TestDatabase {
        url: with_database(&admin_url, &name),
        backend: "postgres",
        _dir: None,
    }
}

async fn exec(db: &sea_orm::DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
}

/// `url` with its database path replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_swapped_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x1"),
            "postgres://postgres@127.0.0.1:5432/x1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x2"),
            "postgres://u:p@h/x2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "x3"), "postgres://h:1/x3");
    }
}
