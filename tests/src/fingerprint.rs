//! A fingerprint of a service database: every table's row count and a SHA-256 over its rows in a
//! stable order. Bad-input tests take one before and after a barrage of refused requests and
//! compare them, proving that nothing at all was written — on SQLite and on Postgres alike.

use std::collections::BTreeMap;

use bankmkt_platform::db::{self, DbOptions};
use bankmkt_platform::settings::{ServiceKind, Settings};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use sha2::{Digest, Sha256};

/// Table name → (row count, hex SHA-256 of the sorted rows).
pub type Fingerprint = BTreeMap<String, (i64, String)>;

/// Fingerprints every table of `kind`'s database.
pub async fn fingerprint(settings: &Settings, kind: ServiceKind) -> Fingerprint {
    let conn = db::connect_with(&DbOptions::for_service(settings, kind))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let backend = conn.get_database_backend();
    let query = |sql: String| {
        let conn = conn.clone();
        async move {
            conn.query_all_raw(Statement::from_string(backend, sql.clone()))
                .await
                .unwrap_or_else(|e| panic!("`{sql}`: {e}"))
        }
    };
    let tables: Vec<String> = match backend {
        DatabaseBackend::Sqlite => query("SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name".into()).await,
        _ => query(format!("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '{}' ORDER BY table_name", kind.short_name())).await,
    }
    .into_iter()
    .map(|r| r.try_get::<String>("", "t").unwrap_or_else(|e| panic!("table name: {e}")))
    .collect();
    let mut out = Fingerprint::new();
    for table in tables {
        let rows: Vec<String> = match backend {
            DatabaseBackend::Sqlite => {
                let columns: Vec<String> =
                    query(format!("SELECT name FROM pragma_table_info('{table}')"))
                        .await
                        .into_iter()
                        .map(|r| {
                            r.try_get::<String>("", "name")
                                .unwrap_or_else(|e| panic!("column: {e}"))
                        })
                        .collect();
                let expr = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                query(format!("SELECT {expr} AS r FROM \"{table}\" ORDER BY 1"))
                    .await
                    .into_iter()
                    .map(|r| r.try_get::<String>("", "r").unwrap_or_default())
                    .collect()
            }
            _ => query(format!("SELECT t::text AS r FROM \"{table}\" t ORDER BY 1"))
                .await
                .into_iter()
                .map(|r| r.try_get::<String>("", "r").unwrap_or_default())
                .collect(),
        };
        let mut hash = Sha256::new();
        for row in &rows {
            hash.update(row.as_bytes());
            hash.update(b"\n");
        }
        let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        out.insert(table, (rows.len() as i64, digest));
    }
    let _ = conn.close().await;
    out
}
