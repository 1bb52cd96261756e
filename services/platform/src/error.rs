//! Service errors and their one mapping onto gRPC status codes with `google.rpc` details.
//! Domain code returns [`ServiceError`]; only the transport turns it into a `Status`.

use std::time::Duration;

use tonic::{Code, Status};

use crate::auth::Refusal;

/// The `domain` of the ErrorInfo Sentinel's statuses carry.
pub const ERROR_DOMAIN: &str = "sentinel";
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
    /// A presented credential refused, saying why (never what was presented).
    #[error("unauthenticated: {}", .0.message())]
    Refused(Refusal),
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
            sqlx::Error::Database(db) if busy(db.code().as_deref()) => ServiceError::Unavailable(
                "the store is busy with other writes: retry shortly".to_owned(),
            ),
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
                ServiceError::Unavailable("the store does not answer".to_owned())
            }
            other => ServiceError::internal(other),
        }
    }
}

/// Whether a database error code says "busy, try again": SQLite's BUSY and LOCKED (with their
/// extended codes), PostgreSQL's serialization failure, deadlock, lock not available, too many
/// connections and shutting down.
fn busy(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    // PostgreSQL's SQLSTATEs are five characters; SQLite's codes are numbers, the primary one
    // the low byte of an extended one (517 = BUSY_SNAPSHOT).
    if code.len() == 5 {
        return matches!(
            code,
            "40001" | "40P01" | "55P03" | "53300" | "57P01" | "57P03"
        );
    }
    code.parse::<u32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xFF, 5 | 6))
}

/// How soon a caller told UNAVAILABLE should try again.
const RETRY_UNAVAILABLE: Duration = Duration::from_secs(1);

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
            ServiceError::Refused(refusal) => Status::with_error_details(
                Code::Unauthenticated,
                message,
                ErrorDetails::with_error_info(
                    refusal.code(),
                    ERROR_DOMAIN,
                    std::collections::HashMap::<String, String>::new(),
                ),
            ),
            ServiceError::PermissionDenied(_) => Status::permission_denied(message),
            ServiceError::NotFound(_) => Status::not_found(message),
            ServiceError::AlreadyExists(_) => Status::already_exists(message),
            ServiceError::FailedPrecondition(_) => Status::failed_precondition(message),
            ServiceError::Unavailable(_) => Status::with_error_details(
                Code::Unavailable,
                message,
                ErrorDetails::with_retry_info(Some(RETRY_UNAVAILABLE)),
            ),
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
    fn busy_stores_are_told_apart_from_broken_ones() {
        for code in ["5", "6", "517", "261", "40001", "40P01", "53300", "57P01"] {
            assert!(busy(Some(code)), "{code}");
        }
        for code in ["1", "19", "2067", "23505", "42P01"] {
            assert!(!busy(Some(code)), "{code}");
        }
        assert!(!busy(None));
        let status = Status::from(ServiceError::Unavailable("busy".into()));
        assert!(status.get_details_retry_info().is_some());
    }

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
