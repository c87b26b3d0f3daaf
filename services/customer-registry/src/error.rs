//! The registry's one error type and its one exhaustive conversion into `tonic::Status`.
//! Validation problems carry every bad field; storage outages become `UNAVAILABLE`; anything
//! internal is logged here, once, with context, and the caller only sees that it failed.

use std::collections::HashMap;

use bankmkt_platform::status::{self, Violations};
use sea_orm::DbErr;

/// Everything a registry RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Bad input: one violation per bad field.
    #[error("invalid request")]
    Invalid(Violations),
    /// The thing does not exist, or the caller may not see it.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for (`branch`, `employee`, ...).
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The caller may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The request is valid but the current state forbids it.
    #[error("{message}")]
    FailedPrecondition {
        /// The precondition type, e.g. `BRANCH_TREE`.
        kind: &'static str,
        /// What it is about.
        subject: String,
        /// Why.
        message: String,
    },
    /// Optimistic concurrency: the caller read an older version.
    #[error("{kind} {id} changed: expected version {expected}, found {actual}")]
    StaleVersion {
        /// What was updated.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The version the caller read.
        expected: i64,
        /// The version stored now.
        actual: i64,
    },
    /// A unique fact already belongs to something else.
    #[error("{message}")]
    AlreadyExists {
        /// Machine-readable reason.
        reason: &'static str,
        /// Human-readable message.
        message: String,
        /// Details the caller may see.
        metadata: HashMap<String, String>,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// A bug or corrupt data.
    #[error("internal: {0}")]
    Internal(String),
}

impl RegistryError {
    /// A single bad field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> RegistryError {
        let mut v = Violations::new();
        v.add(field, description);
        RegistryError::Invalid(v)
    }
}

impl From<Violations> for RegistryError {
    fn from(v: Violations) -> RegistryError {
        RegistryError::Invalid(v)
    }
}

impl From<RegistryError> for tonic::Status {
    fn from(err: RegistryError) -> tonic::Status {
        match err {
            RegistryError::Invalid(v) => v.into_status(),
            RegistryError::NotFound { kind, id } => {
                tonic::Status::not_found(format!("{kind} {id} not found"))
            }
            RegistryError::PermissionDenied(why) => tonic::Status::permission_denied(why),
            RegistryError::FailedPrecondition {
                kind,
                subject,
                message,
            } => status::precondition_failed(kind, &subject, message),
            e @ RegistryError::StaleVersion { .. } => tonic::Status::aborted(e.to_string()),
            RegistryError::AlreadyExists {
                reason,
                message,
                metadata,
            } => status::already_exists(reason, message, metadata),
            RegistryError::Db(e) if bankmkt_platform::db::is_unavailable(&e) => {
                tracing::error!(error = %e, "registry database unavailable");
                tonic::Status::unavailable("the registry database is unavailable; retry later")
            }
            RegistryError::Db(e) => {
                tracing::error!(error = %e, "registry database error");
                tonic::Status::internal("internal error")
            }
            RegistryError::Internal(e) => {
                tracing::error!(error = %e, "registry internal error");
                tonic::Status::internal("internal error")
            }
        }
    }
}

/// Result of a registry operation.
pub type Result<T> = std::result::Result<T, RegistryError>;
