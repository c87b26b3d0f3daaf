//! The shared-table contract (outbox, idempotency store, audit log), run unchanged against SQLite
//! and a real Postgres (a fresh database per test, cloned from a migrated template).

use bankmkt_platform::audit::{self, AuditEntry};
use bankmkt_platform::db::{self, DbOptions, SharedTablesMigrator};
use bankmkt_platform::idempotency::{self, Outcome};
use bankmkt_platform::outbox::{self, Envelope};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;

fn options(url: String) -> DbOptions {
    DbOptions {
        url,
        schema: Some("platform".to_owned()),
        max_connections: 5,
        busy_timeout: std::time::Duration::from_secs(5),
    }
}

async fn migrate(url: String) -> Result<(), sea_orm::DbErr> {
    let db = db::connect_with(&options(url)).await?;
    db::migrate::<SharedTablesMigrator>(&db).await?;
    db.close().await
}

fn template_key() -> String {
    let names: Vec<String> = SharedTablesMigrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    format!("platform_{}", names.join("_"))
}

async fn sqlite() -> (bankmkt_testkit::TestDatabase, DatabaseConnection) {
    let test_db = bankmkt_testkit::sqlite(migrate).await;
    let conn = db::connect_with(&options(test_db.url.clone()))
        .await
        .expect("connect sqlite");
    (test_db, conn)
}

async fn postgres() -> (bankmkt_testkit::TestDatabase, DatabaseConnection) {
    let test_db = bankmkt_testkit::postgres(&template_key(), migrate).await;
    let conn = db::connect_with(&options(test_db.url.clone()))
        .await
        .expect("connect postgres");
    (test_db, conn)
}

fn envelope(id: &str, version: i64) -> Envelope {
    Envelope {
        aggregate_type: "customer".to_owned(),
        aggregate_id: id.to_owned(),
        aggregate_version: version,
        event_type: "customer.tier_changed".to_owned(),
        occurred_at: Utc::now(),
        payload: vec![8, 1, 16, 2],
    }
}

fn entry(target: &str, action: &str) -> AuditEntry {
    AuditEntry {
        actor: "e1001".to_owned(),
        via_service: Some("service:gateway".to_owned()),
        action: action.to_owned(),
        target_type: "customer".to_owned(),
        target_id: target.to_owned(),
        before: "tier=sub_branch".to_owned(),
        after: "tier=tier2_branch".to_owned(),
        reason: "quarterly re-evaluation".to_owned(),
        request_id: "req-1".to_owned(),
    }
}

async fn outbox_keeps_events_pending_until_published(db: DatabaseConnection) {
    let first = outbox::append(&db, envelope("c1", 1))
        .await
        .expect("append");
    let second = outbox::append(&db, envelope("c1", 2))
        .await
        .expect("append");
    assert_ne!(first, second);
    let pending = outbox::pending(&db, 10).await.expect("pending");
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].event_id, first.to_string(), "oldest first");
    assert_eq!(pending[0].aggregate_version, 1);
    assert_eq!(pending[1].payload, vec![8, 1, 16, 2]);
    let marked = outbox::mark_published(&db, &[first.to_string()], Utc::now())
        .await
        .expect("mark");
    assert_eq!(marked, 1);
    let pending = outbox::pending(&db, 10).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event_id, second.to_string());
    assert_eq!(outbox::count(&db).await.expect("count"), 2);
}

async fn outbox_appends_many_in_order_and_atomically(db: DatabaseConnection) {
    // 2,500 events cross the 1,000-row statement split.
    let events: Vec<Envelope> = (0..2_500).map(|i| envelope("bulk", i)).collect();
    let txn = db.begin().await.expect("begin");
    let ids = outbox::append_many(&txn, events.clone())
        .await
        .expect("append many");
    txn.rollback().await.expect("rollback");
    assert_eq!(ids.len(), 2_500);
    assert_eq!(outbox::count(&db).await.expect("count"), 0, "rolled back");

    let txn = db.begin().await.expect("begin");
    let ids = outbox::append_many(&txn, events)
        .await
        .expect("append many");
    txn.commit().await.expect("commit");
    let pending = outbox::pending(&db, 3_000).await.expect("pending");
    assert_eq!(pending.len(), 2_500);
    for (i, (event, id)) in pending.iter().zip(&ids).enumerate() {
        assert_eq!(event.event_id, id.to_string(), "event {i} in order");
        assert_eq!(event.aggregate_version, i as i64);
    }
    assert!(
        outbox::append_many(&db, Vec::new())
            .await
            .expect("empty")
            .is_empty()
    );
}

async fn statistics_refresh_counts_the_rows_on_postgres(db: DatabaseConnection) {
    let events: Vec<Envelope> = (0..300).map(|i| envelope("stats", i)).collect();
    outbox::append_many(&db, events).await.expect("append");
    db::refresh_statistics(&db, &["outbox_event", "audit_log"])
        .await
        .expect("refresh");
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'outbox_event'::regclass",
            ))
            .await
            .expect("query")
            .expect("a row");
        let n: i64 = row.try_get("", "n").expect("n");
        assert_eq!(n, 300, "ANALYZE recorded the table's rows");
    }
    assert!(
        db::refresh_statistics(&db, &["outbox_event; DROP TABLE audit_log"])
            .await
            .is_err(),
        "only plain identifiers"
    );
}

async fn rolled_back_transaction_leaves_no_outbox_and_no_audit_row(db: DatabaseConnection) {
    let txn = db.begin().await.expect("begin");
    outbox::append(&txn, envelope("c2", 1))
        .await
        .expect("append in txn");
    audit::record(&txn, entry("c2", "customer.update"), Utc::now())
        .await
        .expect("audit in txn");
    assert_eq!(
        outbox::count(&txn).await.expect("count"),
        1,
        "visible inside the transaction"
    );
    txn.rollback().await.expect("rollback");
    assert_eq!(outbox::count(&db).await.expect("count"), 0);
    assert_eq!(audit::count(&db).await.expect("count"), 0);

    let txn = db.begin().await.expect("begin");
    outbox::append(&txn, envelope("c2", 1))
        .await
        .expect("append in txn");
    audit::record(&txn, entry("c2", "customer.update"), Utc::now())
        .await
        .expect("audit in txn");
    txn.commit().await.expect("commit");
    assert_eq!(outbox::count(&db).await.expect("count"), 1);
    assert_eq!(audit::count(&db).await.expect("count"), 1);
}

async fn idempotency_replays_the_first_response_and_refuses_a_changed_request(
    db: DatabaseConnection,
) {
    let hash = idempotency::request_hash(b"create quote for c1");
    let other = idempotency::request_hash(b"create quote for c2");
    assert_eq!(hash.len(), 64);
    assert_eq!(
        idempotency::check(&db, "Pricing/CreateQuote", "k1", &hash)
            .await
            .expect("check"),
        Outcome::Fresh
    );
    idempotency::remember(
        &db,
        "Pricing/CreateQuote",
        "k1",
        &hash,
        b"quote-7".to_vec(),
        Utc::now(),
    )
    .await
    .expect("remember");
    assert_eq!(
        idempotency::check(&db, "Pricing/CreateQuote", "k1", &hash)
            .await
            .expect("check"),
        Outcome::Replay(b"quote-7".to_vec())
    );
    assert_eq!(
        idempotency::check(&db, "Pricing/CreateQuote", "k1", &other)
            .await
            .expect("check"),
        Outcome::Conflict
    );
    // The same key in another scope is independent.
    assert_eq!(
        idempotency::check(&db, "Registry/IngestCustomers", "k1", &hash)
            .await
            .expect("check"),
        Outcome::Fresh
    );
    // A second writer of the same key loses on the primary key.
    let again = idempotency::remember(
        &db,
        "Pricing/CreateQuote",
        "k1",
        &hash,
        b"quote-8".to_vec(),
        Utc::now(),
    )
    .await;
    assert!(again.is_err(), "duplicate key must be refused");
    assert_eq!(
        idempotency::check(&db, "Pricing/CreateQuote", "k1", &hash)
            .await
            .expect("check"),
        Outcome::Replay(b"quote-7".to_vec()),
        "the first response survives"
    );
}

async fn audit_log_is_append_only_and_ordered(db: DatabaseConnection) {
    let first = audit::record(&db, entry("c3", "customer.handover.submit"), Utc::now())
        .await
        .expect("record");
    let second = audit::record(&db, entry("c3", "customer.handover.approve"), Utc::now())
        .await
        .expect("record");
    assert!(second > first);
    audit::record(&db, entry("c4", "customer.update"), Utc::now())
        .await
        .expect("record");
    let history = audit::history(&db, "customer", "c3")
        .await
        .expect("history");
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["customer.handover.submit", "customer.handover.approve"]
    );
    assert_eq!(history[0].via_service.as_deref(), Some("service:gateway"));

    let update = db
        .execute_unprepared("UPDATE audit_log SET reason = 'rewritten'")
        .await;
    assert!(update.is_err(), "UPDATE must be refused");
    let delete = db.execute_unprepared("DELETE FROM audit_log").await;
    assert!(delete.is_err(), "DELETE must be refused");
    assert_eq!(audit::count(&db).await.expect("count"), 3);
    let history = audit::history(&db, "customer", "c3")
        .await
        .expect("history");
    assert_eq!(history[0].reason, "quarterly re-evaluation");
}

async fn migrations_are_idempotent(db: DatabaseConnection) {
    db::migrate::<SharedTablesMigrator>(&db)
        .await
        .expect("second migrate is a no-op");
    outbox::append(&db, envelope("c5", 1))
        .await
        .expect("tables still usable");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_a_busy_timeout() {
    let (_keep, db) = sqlite().await;
    let row = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .expect("pragma")
            .expect("a row")
        }
    };
    let mode: String = row("PRAGMA journal_mode")
        .await
        .try_get_by_index(0)
        .expect("text");
    assert_eq!(mode, "wal");
    let timeout: i64 = row("PRAGMA busy_timeout")
        .await
        .try_get_by_index(0)
        .expect("int");
    assert_eq!(timeout, 5000);
    let fk: i64 = row("PRAGMA foreign_keys")
        .await
        .try_get_by_index(0)
        .expect("int");
    assert_eq!(fk, 1);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_keep, db) = super::sqlite().await;
                    super::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_keep, db) = super::postgres().await;
                    super::$name(db).await;
                }
            )*
        }
    };
}

contract!(
    outbox_keeps_events_pending_until_published,
    outbox_appends_many_in_order_and_atomically,
    statistics_refresh_counts_the_rows_on_postgres,
    rolled_back_transaction_leaves_no_outbox_and_no_audit_row,
    idempotency_replays_the_first_response_and_refuses_a_changed_request,
    audit_log_is_append_only_and_ordered,
    migrations_are_idempotent,
);
