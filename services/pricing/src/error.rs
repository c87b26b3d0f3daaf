//! The pricing service's one error type, [`ServiceError`], and its one exhaustive conversion into
//! `tonic::Status`. Validation problems carry every bad field (as `google.rpc.BadRequest` field
//! violations); the domain's [`PricingError`] is mapped here, once, with the path of the value it
//! validated ([`ServiceError::from_pricing`]); storage outages become `UNAVAILABLE`; anything
//! internal is logged here, with context, and the caller only sees that it failed.

use std::collections::HashMap;

use bankmkt_domain::pricing::{PricingError, PricingViolation};
use bankmkt_platform::status::{self, Violations};
use sea_orm::{DbErr, SqlErr};

/// Everything a pricing RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input: one violation per bad field.
    #[error("invalid request")]
    Invalid(Violations),
    /// The thing does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for (`product`, `authority band`, ...).
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
        /// The precondition type, e.g. `PRICE_VERSION_OVERLAP`, `REGULATORY_LIMIT`.
        kind: &'static str,
        /// What it is about (the id of the conflicting row, the limit id, ...).
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
    /// A unique fact already exists.
    #[error("{message}")]
    AlreadyExists {
        /// Machine-readable reason, e.g. `PRODUCT_EXISTS`.
        reason: &'static str,
        /// Human-readable message.
        message: String,
        /// Details the caller may see.
        metadata: HashMap<String, String>,
    },
    /// A service this one depends on (the customer registry) cannot be reached; retry later.
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

    /// A domain pricing error about the value at `prefix` in the request (e.g.
    /// `price_version`): field violations get the prefix in front of their paths, breaches and
    /// missing rates become `FAILED_PRECONDITION` naming what is missing or breached, and an
    /// arithmetic overflow is a bad value of `prefix` itself.
    pub fn from_pricing(err: PricingError, prefix: &str) -> ServiceError {
        match err {
            PricingError::Invalid(violations) => {
                let mut v = Violations::new();
                add_prefixed(&mut v, prefix, violations);
                ServiceError::Invalid(v)
            }
            PricingError::RegulatoryBreach(breach) => ServiceError::FailedPrecondition {
                kind: "REGULATORY_LIMIT",
                subject: breach.limit_id.clone(),
                message: breach.to_string(),
            },
            e @ PricingError::NoReferenceRate { kind, .. } => ServiceError::FailedPrecondition {
                kind: "REFERENCE_RATE",
                subject: kind.to_string(),
                message: e.to_string(),
            },
            e @ PricingError::NoFxRate { currency, .. } => ServiceError::FailedPrecondition {
                kind: "FX_RATE",
                subject: currency.to_string(),
                message: e.to_string(),
            },
            PricingError::BundleNotEligible { bundle_id, unmet } => {
                let message = PricingError::BundleNotEligible {
                    bundle_id: bundle_id.clone(),
                    unmet,
                }
                .to_string();
                ServiceError::FailedPrecondition {
                    kind: "BUNDLE_ELIGIBILITY",
                    subject: bundle_id,
                    message,
                }
            }
            PricingError::Money(e) => ServiceError::invalid(prefix, e.to_string()),
        }
    }

    /// Whether this is the database refusing a duplicate key.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, ServiceError::Db(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }
}

/// Records domain violations in `v`, each path prefixed with `prefix` (`prefix.field`, or
/// `prefix[i].field` for a position).
pub fn add_prefixed(v: &mut Violations, prefix: &str, violations: Vec<PricingViolation>) {
    for violation in violations {
        let violation = if prefix.is_empty() {
            violation
        } else {
            violation.prefixed(prefix)
        };
        v.add(violation.field, violation.message);
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
            } => status::precondition_failed(kind, &subject, message),
            e @ ServiceError::StaleVersion { .. } => tonic::Status::aborted(e.to_string()),
            ServiceError::AlreadyExists {
                reason,
                message,
                metadata,
            } => status::already_exists(reason, message, metadata),
            ServiceError::Unavailable(what) => {
                tracing::warn!(what = %what, "a dependency of pricing is unavailable");
                tonic::Status::unavailable(format!("{what}; retry later"))
            }
            ServiceError::Db(e) if bankmkt_platform::db::is_unavailable(&e) => {
                tracing::error!(error = %e, "pricing database unavailable");
                tonic::Status::unavailable("the pricing database is unavailable; retry later")
            }
            ServiceError::Db(e) => {
                tracing::error!(error = %e, "pricing database error");
                tonic::Status::internal("internal error")
            }
            ServiceError::Internal(e) => {
                tracing::error!(error = %e, "pricing internal error");
                tonic::Status::internal("internal error")
            }
        }
    }
}

/// Result of a pricing operation.
pub type Result<T> = std::result::Result<T, ServiceError>;

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_domain::money::Currency;
    use tonic::Code;

    #[test]
    fn domain_errors_keep_their_field_paths_under_the_prefix() {
        let err = PricingError::Invalid(vec![
            PricingViolation::new("fee_schedule.tiers[0].volume_from", "starts at 0"),
            PricingViolation::new("", "whole value"),
        ]);
        let status = tonic::Status::from(ServiceError::from_pricing(err, "price_version"));
        assert_eq!(status.code(), Code::InvalidArgument);
        // The message lists every violation as `field: description`.
        assert_eq!(
            status.message(),
            "price_version.fee_schedule.tiers[0].volume_from: starts at 0; price_version: whole value"
        );
    }

    #[test]
    fn missing_rates_and_overflow_map_to_their_codes() {
        let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let no_fx = PricingError::NoFxRate {
            currency: Currency::USD,
            date,
        };
        let status = tonic::Status::from(ServiceError::from_pricing(no_fx, "items[0]"));
        assert_eq!(status.code(), Code::FailedPrecondition);
        let overflow = PricingError::Money(bankmkt_domain::money::MoneyError::Overflow);
        let status = tonic::Status::from(ServiceError::from_pricing(overflow, "items[0].amount"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("items[0].amount:"));
        let stale = ServiceError::StaleVersion {
            kind: "product",
            id: "P".into(),
            expected: 1,
            actual: 2,
        };
        assert_eq!(tonic::Status::from(stale).code(), Code::Aborted);
    }
}
