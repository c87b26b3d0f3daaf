//! The end-to-end harness: [`TestSuite::start`] runs the real suite (four services and the
//! gateway, exactly as `bankmkt up` does) on port 0 with a fresh data dir, and hands out typed
//! clients and tokens signed with that suite's secret. Nothing is mocked.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod coordination;
pub mod fingerprint;
pub mod pricing;
pub mod quotes;
pub mod registry;

use std::net::SocketAddr;
use std::time::Duration;

use bankmkt::Suite;
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::Shutdown;
use tonic::transport::Channel;

/// A running suite on ephemeral ports with its own data dir.
#[derive(Debug)]
pub struct TestSuite {
    suite: Suite,
    _data_dir: tempfile::TempDir,
    _database: Option<bankmkt_testkit::TestDatabase>,
}

/// Where the suite keeps its data in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite files and the in-process cache.
    Embedded,
    /// A fresh Postgres database (cloned from a migrated template) and the real Redis.
    PostgresRedis,
}

/// Applies every service's migrations to the database at `url`.
async fn migrate_all(url: String) -> Result<(), sea_orm::DbErr> {
    let dir = tempfile::tempdir().map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    let mut settings = test_settings(dir.path());
    settings.database_url = Some(url);
    bankmkt_customer_registry::migrate(&settings).await?;
    bankmkt_pricing::migrate(&settings).await?;
    bankmkt_coordination::migrate(&settings).await?;
    bankmkt_attribution::migrate(&settings).await?;
    Ok(())
}

/// A template key that changes whenever any service's migration list changes.
fn template_key() -> String {
    use sea_orm_migration::MigratorTrait;
    let names: Vec<String> = [
        bankmkt_customer_registry::Migrator::migrations(),
        bankmkt_pricing::Migrator::migrations(),
        bankmkt_coordination::Migrator::migrations(),
        bankmkt_attribution::Migrator::migrations(),
    ]
    .iter()
    .flatten()
    .map(|m| m.name().to_owned())
    .collect();
    format!("suite_{}", names.join("_"))
}

/// Settings for a test: defaults, a temporary data dir, every port 0 on loopback.
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    let mut settings = Settings::defaults();
    settings.data_dir = data_dir.to_path_buf();
    for kind in ServiceKind::ALL {
        settings.service_mut(kind).listen = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    settings.gateway_listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings
}

impl TestSuite {
    /// Starts the suite with test settings.
    pub async fn start() -> TestSuite {
        TestSuite::start_with(|_| {}).await
    }

    /// Starts the suite after `adjust` has changed the test settings.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestSuite {
        TestSuite::start_on(Backend::Embedded, adjust).await
    }

    /// Starts the suite on `backend` after `adjust` has changed the test settings.
    pub async fn start_on(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestSuite {
        let data_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let mut settings = test_settings(data_dir.path());
        let database = match backend {
            Backend::Embedded => None,
            Backend::PostgresRedis => {
                let db = bankmkt_testkit::postgres(&template_key(), migrate_all).await;
                settings.database_url = Some(db.url.clone());
                settings.redis_url = Some(bankmkt_testkit::redis_url());
                Some(db)
            }
        };
        adjust(&mut settings);
        let (trigger, shutdown) = Shutdown::new();
        let suite = Suite::start(settings, trigger, shutdown)
            .await
            .unwrap_or_else(|e| panic!("suite did not start: {e:#}"));
        TestSuite {
            suite,
            _data_dir: data_dir,
            _database: database,
        }
    }

    /// The bound address of a component (`customer-registry`, `pricing`, `coordination`,
    /// `attribution`, `gateway`).
    pub fn addr(&self, component: &str) -> SocketAddr {
        self.suite
            .addr(component)
            .unwrap_or_else(|| panic!("no component {component}"))
    }

    /// The settings the suite runs with (with the bound endpoints filled in).
    pub fn settings(&self) -> std::sync::Arc<Settings> {
        self.suite.context.settings.clone()
    }

    /// The suite's authenticator (to mint service tokens and the like).
    pub fn authenticator(&self) -> std::sync::Arc<bankmkt_platform::auth::Authenticator> {
        self.suite.context.authenticator.clone()
    }

    /// A connected channel to a component.
    pub async fn channel(&self, component: &str) -> Channel {
        let url = format!("http://{}", self.addr(component));
        tonic::transport::Endpoint::from_shared(url)
            .unwrap_or_else(|e| panic!("endpoint: {e}"))
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connect to {component}: {e}"))
    }

    /// A token for `sub` at `branch` with `roles`, signed with this suite's secret.
    pub fn token(&self, sub: &str, branch: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        self.suite
            .context
            .authenticator
            .mint(
                sub,
                branch,
                &["corporate".to_owned()],
                &roles,
                Duration::from_secs(600),
            )
            .unwrap_or_else(|e| panic!("mint: {e}"))
    }

    /// Wraps `message` with `authorization: Bearer <token>`.
    pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        bankmkt_platform::client::insert_bearer(request.metadata_mut(), "authorization", token)
            .unwrap_or_else(|e| panic!("token header: {e}"));
        request
    }

    /// Stops the suite and waits for every component to drain.
    pub async fn stop(self) {
        self.suite
            .stop()
            .await
            .unwrap_or_else(|e| panic!("suite stopped with an error: {e:#}"));
    }
}
