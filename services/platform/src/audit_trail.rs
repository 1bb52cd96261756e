//! The client every service records its actions with. It fills in who acted (from the
//! authenticated [`Caller`]), which service, and the W3C trace id, and it fails closed: an
//! action whose audit record could not be stored must not be reported as done.
//!
//! It never logs PHI: only the action code and the record's sequence.
//!
//! Actions clinical care cannot wait for (storing readings, raising and handling alerts) are
//! recorded with [`AuditTrail::record_or_keep`]: when the audit log cannot take the record, it is
//! kept in the acting service's own store, in the action's transaction, and appended by
//! [`crate::audit_outbox`] once the log is back — a broken audit log never silences alerting.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sentinel_contract::{audit::v1 as pb, common::v1 as common};
use sqlx::{Any, Transaction};
use tonic::Code;

use crate::{
    ServiceError, ServiceKind,
    audit_action::Action,
    audit_outbox,
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

/// How long an action that may keep its record waits for the audit log before keeping it.
const KEEP_AFTER: Duration = Duration::from_secs(5);

/// What became of an action's audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audited {
    /// Appended to the log at this sequence.
    Appended(u64),
    /// Kept in the service's store, to be appended once the log is back.
    Kept,
}

/// A service's handle on the audit log.
#[derive(Clone)]
pub struct AuditTrail {
    audit: Peer,
    service: ServiceKind,
    /// Records are waiting in this service's outbox: later ones wait behind them, so the log
    /// gets this service's records in the order they were taken.
    backlog: Arc<AtomicBool>,
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
        AuditTrail {
            audit,
            service,
            backlog: Arc::new(AtomicBool::new(false)),
        }
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
        let action = event.action.code();
        let entry = self.entry(caller, role, event);
        match self.append(entry).await {
            Ok(sequence) => Ok(sequence),
            Err(status) => {
                tracing::error!(action, code = ?status.code(), "audit record not stored; action refused");
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

    /// Records an action clinical care cannot wait for, in `tx` (the action's own transaction):
    /// appended when the audit log takes it within a few seconds, otherwise kept in this
    /// service's outbox and appended once the log is back. Only a malformed entry fails.
    pub async fn record_or_keep(
        &self,
        tx: &mut Transaction<'static, Any>,
        caller: &Caller,
        role: &str,
        event: AuditEvent,
    ) -> Result<Audited, ServiceError> {
        let action = event.action.code();
        let entry = self.entry(caller, role, event);
        if !self.backlog.load(Ordering::Acquire) {
            match tokio::time::timeout(KEEP_AFTER, self.append(entry.clone())).await {
                Ok(Ok(sequence)) => return Ok(Audited::Appended(sequence)),
                Ok(Err(status)) if status.code() == Code::InvalidArgument => {
                    return Err(ServiceError::Internal(Box::new(status)));
                }
                Ok(Err(status)) => {
                    tracing::warn!(action, code = ?status.code(), "audit log unavailable: record kept to append later");
                }
                Err(_) => {
                    tracing::warn!(
                        action,
                        "audit log did not answer: record kept to append later"
                    );
                }
            }
        }
        audit_outbox::keep(tx, &entry).await?;
        self.backlog.store(true, Ordering::Release);
        Ok(Audited::Kept)
    }

    /// Whether records may be waiting in the outbox (set when one is kept, cleared by the
    /// drain once it finds the outbox empty).
    pub(crate) fn set_backlog(&self, waiting: bool) {
        self.backlog.store(waiting, Ordering::Release);
    }

    /// The entry recording `event` by `caller` acting as `role`, from this service, in the
    /// current trace.
    fn entry(&self, caller: &Caller, role: &str, event: AuditEvent) -> pb::AuditEntry {
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
        pb::AuditEntry {
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
        }
    }

    /// Appends `entry`; its sequence once durable.
    pub(crate) async fn append(&self, entry: pb::AuditEntry) -> Result<u64, tonic::Status> {
        let action = entry.action.clone();
        let request = pb::AppendRequest { entry: Some(entry) };
        let response = self.audit.audit().append(request).await?;
        let sequence = response.into_inner().record.map_or(0, |r| r.sequence);
        tracing::debug!(action, sequence, "action audited");
        Ok(sequence)
    }
}
