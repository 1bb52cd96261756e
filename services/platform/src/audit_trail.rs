//! The client every service records its actions with. It fills in who acted (from the
//! authenticated [`Caller`]), which service, and the W3C trace id, and it fails closed: an
//! action whose audit record could not be stored must not be reported as done.
//!
//! It never logs PHI: only the action code and the record's sequence.

use std::collections::BTreeMap;

use sentinel_contract::{audit::v1 as pb, common::v1 as common};
use tonic::Code;

use crate::{
    ServiceError, ServiceKind,
    audit_action::Action,
    auth::{Caller, CallerKind, Role},
    peer::Peer,
    telemetry,
};

/// One action to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// One of the audit log's closed set.
    pub action: Action,
    /// What was acted on: a type such as `device` and an opaque id.
    pub subject_type: &'static str,
    pub subject_id: String,
    /// `Err(reason code)` records a failed or refused action.
    pub outcome: Result<(), String>,
    /// A small detail, at most 16 entries, no PHI.
    pub detail: BTreeMap<String, String>,
}

impl AuditEvent {
    pub fn success(
        action: Action,
        subject_type: &'static str,
        subject_id: impl Into<String>,
    ) -> Self {
        AuditEvent {
            action,
            subject_type,
            subject_id: subject_id.into(),
            outcome: Ok(()),
            detail: BTreeMap::new(),
        }
    }

    pub fn failure(
        action: Action,
        subject_type: &'static str,
        subject_id: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        AuditEvent {
            outcome: Err(reason.into()),
            ..AuditEvent::success(action, subject_type, subject_id)
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.detail.insert(key.to_owned(), value.into());
        self
    }
}

/// A service's handle on the audit log.
#[derive(Clone)]
pub struct AuditTrail {
    audit: Peer,
    service: ServiceKind,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// Records `service`'s actions with the audit service `audit` (in this process or
    /// another).
    pub fn new(audit: Peer, service: ServiceKind) -> Self {
        AuditTrail { audit, service }
    }

    /// Records that `caller`, acting as `role`, did `event`. Returns the record's sequence once
    /// it is durable. Any failure is `UNAVAILABLE`: the caller must not report the action done.
    pub async fn record(
        &self,
        caller: &Caller,
        role: Role,
        event: AuditEvent,
    ) -> Result<u64, ServiceError> {
        self.record_as(caller, role.code(), event).await
    }

    /// Like [`AuditTrail::record`], with the role given as its code (`none` for a caller
    /// that never authenticated).
    pub async fn record_as(
        &self,
        caller: &Caller,
        role: &str,
        event: AuditEvent,
    ) -> Result<u64, ServiceError> {
        let kind = match caller.kind {
            CallerKind::User => common::actor::Kind::User,
            CallerKind::Device => common::actor::Kind::Device,
            CallerKind::Gateway => common::actor::Kind::Gateway,
            CallerKind::Service => common::actor::Kind::Service,
        };
        let (success, reason) = match event.outcome {
            Ok(()) => (true, String::new()),
            Err(reason) => (false, reason),
        };
        let entry = pb::AuditEntry {
            actor: Some(common::Actor {
                kind: kind.into(),
                id: caller.id.clone(),
                role: role.to_owned(),
            }),
            action: event.action.code().to_owned(),
            subject: Some(pb::Subject {
                r#type: event.subject_type.to_owned(),
                id: event.subject_id,
            }),
            outcome: Some(pb::Outcome { success, reason }),
            service: self.service.name().to_owned(),
            trace_id: telemetry::current_trace_id().unwrap_or_default(),
            detail: event.detail.into_iter().collect(),
        };
        let request = pb::AppendRequest { entry: Some(entry) };
        match self.audit.audit().append(request).await {
            Ok(response) => {
                let sequence = response.into_inner().record.map_or(0, |r| r.sequence);
                tracing::debug!(action = event.action.code(), sequence, "action audited");
                Ok(sequence)
            }
            Err(status) => {
                tracing::error!(action = event.action.code(), code = ?status.code(), "audit record not stored; action refused");
                Err(match status.code() {
                    // Our own bug, not the audit log's: still, nothing was recorded.
                    Code::InvalidArgument => ServiceError::Internal(Box::new(status)),
                    _ => ServiceError::Unavailable(
                        "the audit log could not record this action, so it was not done".to_owned(),
                    ),
                })
            }
        }
    }
}
