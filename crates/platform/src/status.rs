//! Building the rich gRPC errors every service returns. [`Violations`] collects bad fields so a
//! request is answered with all of them at once, as `INVALID_ARGUMENT` carrying
//! `google.rpc.BadRequest` field violations; [`precondition_failed`] and [`already_exists`] add
//! `PreconditionFailure` and `ErrorInfo` details. Each service's own error enum converts into
//! `tonic::Status` through these, so the shapes are the same everywhere.

use std::collections::HashMap;

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// Domain of the `ErrorInfo` details the suite attaches.
pub const ERROR_DOMAIN: &str = "bankmkt.v1";

/// Bad fields found while validating one request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations {
    fields: Vec<(String, String)>,
}

impl Violations {
    /// No violations yet.
    pub fn new() -> Violations {
        Violations::default()
    }

    /// Records that `field` (a path such as `branches[3].parent_id`) is wrong, and why.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.fields.push((field.into(), description.into()));
    }

    /// Records the error of `result` against `field`, returning its value when it is fine.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// True when nothing was wrong.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The violations, in the order found.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// `Ok(())` when empty, else the `INVALID_ARGUMENT` status naming every bad field.
    #[allow(clippy::result_large_err)]
    pub fn into_result(self) -> Result<(), tonic::Status> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_status())
        }
    }

    /// The `INVALID_ARGUMENT` status naming every bad field.
    pub fn into_status(self) -> tonic::Status {
        let message = self
            .fields
            .iter()
            .map(|(f, d)| format!("{f}: {d}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut details = ErrorDetails::new();
        for (field, description) in self.fields {
            details.add_bad_request_violation(field, description);
        }
        tonic::Status::with_error_details(Code::InvalidArgument, message, details)
    }
}

/// `INVALID_ARGUMENT` for one bad field.
pub fn invalid_argument(field: impl Into<String>, description: impl Into<String>) -> tonic::Status {
    let mut v = Violations::new();
    v.add(field, description);
    v.into_status()
}

/// `FAILED_PRECONDITION` with one `PreconditionFailure` violation of `kind` about `subject`.
pub fn precondition_failed(
    kind: &str,
    subject: &str,
    description: impl Into<String>,
) -> tonic::Status {
    let description = description.into();
    tonic::Status::with_error_details(
        Code::FailedPrecondition,
        description.clone(),
        ErrorDetails::with_precondition_failure_violation(kind, subject, description),
    )
}

/// `ALREADY_EXISTS` with an `ErrorInfo` whose metadata may name the holder (only when the caller
/// may see it: the caller decides by passing it or not).
pub fn already_exists(
    reason: &str,
    message: impl Into<String>,
    metadata: HashMap<String, String>,
) -> tonic::Status {
    tonic::Status::with_error_details(
        Code::AlreadyExists,
        message,
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named_in_the_details() {
        let mut v = Violations::new();
        v.add("branches[0].branch_id", "must not be empty");
        assert_eq!(v.check("page_size", "x".parse::<i32>()), None);
        assert_eq!(v.check("name", Ok::<_, String>(3)), Some(3));
        let status = v.into_result().expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let fields: Vec<String> = details
            .bad_request()
            .expect("bad request")
            .field_violations
            .iter()
            .map(|f| f.field.clone())
            .collect();
        assert_eq!(fields, ["branches[0].branch_id", "page_size"]);
        assert!(Violations::new().into_result().is_ok());
    }

    #[test]
    fn preconditions_and_conflicts_carry_their_details() {
        let status = precondition_failed(
            "BRANCH_TREE",
            "BJ01",
            "moving BJ01 under BJ0101 would create a cycle",
        );
        assert_eq!(status.code(), Code::FailedPrecondition);
        let details = status.get_error_details();
        let violation = &details.precondition_failure().expect("pf").violations[0];
        assert_eq!(violation.subject, "BJ01");
        let status = already_exists(
            "IDENTITY_TAKEN",
            "exists",
            HashMap::from([("existing_customer_id".to_owned(), "c1".to_owned())]),
        );
        assert_eq!(status.code(), Code::AlreadyExists);
        let info = status
            .get_error_details()
            .error_info()
            .cloned()
            .expect("info");
        assert_eq!(info.metadata["existing_customer_id"], "c1");
    }
}
