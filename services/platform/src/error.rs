//! Service errors and their one mapping onto gRPC status codes with `google.rpc` details.
//! Domain code returns [`ServiceError`]; only the transport turns it into a `Status`.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A request field that broke a rule, e.g. `device.serial` / `must not be empty`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub rule: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        FieldViolation {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// The small set of outcomes every service error maps onto. Messages are lowercase, carry
/// no PHI, and are safe to return to the caller.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    #[error("overloaded: {reason}")]
    ResourceExhausted {
        reason: String,
        retry_after: Duration,
    },
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Details stay in the server's log (without PHI); the caller sees only "internal error".
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.rule))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError {
    /// One field that broke one rule.
    pub fn field(field: impl Into<String>, rule: impl Into<String>) -> Self {
        ServiceError::InvalidArgument(vec![FieldViolation::new(field, rule)])
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Box::new(err))
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut => ServiceError::ResourceExhausted {
                reason: "no database connection free".to_owned(),
                retry_after: Duration::from_secs(1),
            },
            sqlx::Error::PoolClosed => ServiceError::Unavailable("store is closed".to_owned()),
            other => ServiceError::internal(other),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(err: ServiceError) -> Self {
        let message = err.to_string();
        match err {
            ServiceError::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for violation in &violations {
                    details.add_bad_request_violation(&violation.field, &violation.rule);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ServiceError::ResourceExhausted { retry_after, .. } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                ErrorDetails::with_retry_info(Some(retry_after)),
            ),
            ServiceError::Unauthenticated(_) => Status::unauthenticated(message),
            ServiceError::PermissionDenied(_) => Status::permission_denied(message),
            ServiceError::NotFound(_) => Status::not_found(message),
            ServiceError::AlreadyExists(_) => Status::already_exists(message),
            ServiceError::FailedPrecondition(_) => Status::failed_precondition(message),
            ServiceError::Unavailable(_) => Status::unavailable(message),
            ServiceError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                Status::internal(message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_each_field_violation() {
        let status = Status::from(ServiceError::InvalidArgument(vec![
            FieldViolation::new("device.serial", "must not be empty"),
            FieldViolation::new("device.kind", "must be a known kind"),
        ]));
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad_request = status.get_details_bad_request().unwrap();
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| (v.field.as_str(), v.description.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("device.serial", "must not be empty"),
                ("device.kind", "must be a known kind")
            ]
        );
        assert!(
            status
                .message()
                .contains("device.serial: must not be empty")
        );
    }

    #[test]
    fn overload_tells_the_caller_when_to_retry() {
        let status = Status::from(ServiceError::ResourceExhausted {
            reason: "ingestion queue full".into(),
            retry_after: Duration::from_millis(250),
        });
        assert_eq!(status.code(), Code::ResourceExhausted);
        let retry = status.get_details_retry_info().unwrap();
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(250)));
    }

    #[test]
    fn internal_errors_hide_their_cause_from_the_caller() {
        let cause = std::io::Error::other("disk says patient 1234 is sad");
        let status = Status::from(ServiceError::internal(cause));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
