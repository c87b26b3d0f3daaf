//! The coordination service's one error type, [`ServiceError`], and its one exhaustive conversion
//! into `tonic::Status`. The domain's [`CoordinationError`] is mapped here, once
//! ([`ServiceError::from_domain`]): violations keep their field paths under the request's prefix
//! (`INVALID_ARGUMENT` with `BadRequest` field violations), refusals take the code their
//! [`bankmkt_domain::coordination::Reason`] decides with the reason as the precondition type or
//! `ErrorInfo` reason, consent problems are `FAILED_PRECONDITION` of type `CONSENT` naming the
//! customer, and claim conflicts are `ALREADY_EXISTS` whose `ErrorInfo` metadata key
//! `holder_opportunity_id` names the holder only when the caller may see it. Storage outages
//! become `UNAVAILABLE`; anything internal is logged and the caller only sees that it failed.

use std::collections::HashMap;

use bankmkt_domain::coordination::{CoordinationError, ErrorKind};
use bankmkt_platform::status::{self, Violations};
use sea_orm::{DbErr, SqlErr};

/// The `ErrorInfo` metadata key naming the opportunity that holds a claim.
pub const HOLDER_KEY: &str = "holder_opportunity_id";

/// Everything a coordination RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input: one violation per bad field.
    #[error("invalid request")]
    Invalid(Violations),
    /// The thing does not exist (or the caller may not see it).
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for.
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
        /// The precondition type, e.g. `TERMINAL_STAGE`, `CONSENT`.
        kind: String,
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
    /// A unique fact already exists (a claim, a member, a pending request).
    #[error("{message}")]
    AlreadyExists {
        /// Machine-readable reason, e.g. `CLAIMED`.
        reason: String,
        /// Human-readable message.
        message: String,
        /// Details the caller may see.
        metadata: HashMap<String, String>,
    },
    /// A service this one depends on cannot be reached; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// A bug or corrupt stored data.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// A single bad field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> ServiceError {
        let mut v = Violations::new();
        v.add(field, description);
        ServiceError::Invalid(v)
    }

    /// Something stored that cannot be read back: a bug or corrupt data.
    pub fn internal(e: impl std::fmt::Display) -> ServiceError {
        ServiceError::Internal(e.to_string())
    }

    /// Not found.
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> ServiceError {
        ServiceError::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// A domain error about the value at `prefix` in the request (empty for the request
    /// itself). A claim conflict names no holder here: use [`ServiceError::claimed`] where the
    /// caller's view of the holder is known.
    pub fn from_domain(err: CoordinationError, prefix: &str) -> ServiceError {
        let kind = err.kind();
        let message = err.to_string();
        match err {
            CoordinationError::Invalid(violations) => {
                let mut v = Violations::new();
                for violation in violations {
                    let violation = if prefix.is_empty() {
                        violation
                    } else {
                        violation.prefixed(prefix)
                    };
                    v.add(violation.field, violation.message);
                }
                ServiceError::Invalid(v)
            }
            CoordinationError::Refused { reason, .. } => {
                let code = reason.as_str().to_uppercase();
                match kind {
                    ErrorKind::PermissionDenied => ServiceError::PermissionDenied(message),
                    ErrorKind::AlreadyExists => ServiceError::AlreadyExists {
                        reason: code,
                        message,
                        metadata: HashMap::new(),
                    },
                    _ => ServiceError::FailedPrecondition {
                        kind: code,
                        subject: String::new(),
                        message,
                    },
                }
            }
            CoordinationError::Claimed(_) => ServiceError::claimed(message, None),
            CoordinationError::Consent(problems) => ServiceError::FailedPrecondition {
                kind: "CONSENT".to_owned(),
                subject: problems
                    .first()
                    .map(|p| p.customer.to_string())
                    .unwrap_or_default(),
                message,
            },
        }
    }

    /// `ALREADY_EXISTS` of a claim conflict, naming `holder` when the caller may see it.
    pub fn claimed(message: String, holder: Option<String>) -> ServiceError {
        let mut metadata = HashMap::new();
        if let Some(holder) = holder {
            metadata.insert(HOLDER_KEY.to_owned(), holder);
        }
        ServiceError::AlreadyExists {
            reason: "CLAIMED".to_owned(),
            message,
            metadata,
        }
    }

    /// Whether this is the database refusing a duplicate key.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, ServiceError::Db(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }
}

impl From<Violations> for ServiceError {
    fn from(v: Violations) -> ServiceError {
        ServiceError::Invalid(v)
    }
}

impl From<ServiceError> for tonic::Status {
    fn from(err: ServiceError) -> tonic::Status {
        match err {
            ServiceError::Invalid(v) => v.into_status(),
            ServiceError::NotFound { kind, id } => {
                tonic::Status::not_found(format!("{kind} {id} not found"))
            }
            ServiceError::PermissionDenied(why) => tonic::Status::permission_denied(why),
            ServiceError::FailedPrecondition {
                kind,
                subject,
                message,
            } => status::precondition_failed(&kind, &subject, message),
            e @ ServiceError::StaleVersion { .. } => tonic::Status::aborted(e.to_string()),
            ServiceError::AlreadyExists {
                reason,
                message,
                metadata,
            } => status::already_exists(&reason, message, metadata),
            ServiceError::Unavailable(what) => {
                tracing::warn!(what = %what, "a dependency of coordination is unavailable");
                tonic::Status::unavailable(format!("{what}; retry later"))
            }
            ServiceError::Db(e) if bankmkt_platform::db::is_unavailable(&e) => {
                tracing::error!(error = %e, "coordination database unavailable");
                tonic::Status::unavailable("the coordination database is unavailable; retry later")
            }
            ServiceError::Db(e) => {
                tracing::error!(error = %e, "coordination database error");
                tonic::Status::internal("internal error")
            }
            ServiceError::Internal(e) => {
                tracing::error!(error = %e, "coordination internal error");
                tonic::Status::internal("internal error")
            }
        }
    }
}

/// Result of a coordination operation.
pub type Result<T> = std::result::Result<T, ServiceError>;

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_domain::coordination::{Reason, Violation};
    use tonic::Code;

    #[test]
    fn domain_errors_map_to_their_codes_with_prefixed_fields() {
        let err = CoordinationError::Invalid(vec![Violation::new("units[1].share_bps", "bad")]);
        let status = tonic::Status::from(ServiceError::from_domain(err, "opportunity"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status
                .message()
                .starts_with("opportunity.units[1].share_bps")
        );
        let refused = CoordinationError::refused(Reason::TerminalStage, "x");
        assert_eq!(
            tonic::Status::from(ServiceError::from_domain(refused, "")).code(),
            Code::FailedPrecondition
        );
        let denied = CoordinationError::refused(Reason::NotLeadMember, "x");
        assert_eq!(
            tonic::Status::from(ServiceError::from_domain(denied, "")).code(),
            Code::PermissionDenied
        );
        let exists = CoordinationError::refused(Reason::AlreadyMember, "x");
        assert_eq!(
            tonic::Status::from(ServiceError::from_domain(exists, "")).code(),
            Code::AlreadyExists
        );
    }
}
