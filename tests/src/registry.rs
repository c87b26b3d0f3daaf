//! Helpers shared by the registry's end-to-end tests: the field names a refusal carries, and the
//! `on_both_backends!` macro that runs each test once on the embedded default (SQLite, in-process
//! cache) and once on Postgres with Redis.

use tonic_types::StatusExt;

/// The field paths named by an `INVALID_ARGUMENT`'s `BadRequest` details (empty when none).
pub fn fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default()
}

/// Declares `mod embedded` and `mod postgres_redis`, each with one `#[tokio::test]` per named
/// `async fn name(backend: Backend)` of the calling module.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::Embedded).await;
                }
            )*
        }
        mod postgres_redis {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::PostgresRedis).await;
                }
            )*
        }
    };
}
