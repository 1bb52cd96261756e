//! Proto ↔ domain conversions of the audit contract, in one place.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sentinel_contract::{audit::v1 as pb, common::v1 as common};
use sentinel_platform::{FieldViolation, ServiceError};

use crate::{
    appender::AppendError,
    chain::{ChainError, SignedHead},
    domain::{
        checkpoint::LogVerifier,
        merkle::ProofError,
        record::{ActorKind, AuditEntry, AuditRecord, EntryFields, Outcome},
        verify::StoredRecord,
    },
    storage::StorageError,
};

pub fn entry(entry: Option<pb::AuditEntry>) -> Result<AuditEntry, ServiceError> {
    let entry = entry.ok_or_else(|| ServiceError::field("entry", "is required"))?;
    let actor = entry.actor.unwrap_or_default();
    let subject = entry.subject.unwrap_or_default();
    let outcome = entry.outcome.unwrap_or_default();
    let actor_kind = match common::actor::Kind::try_from(actor.kind) {
        Ok(common::actor::Kind::User) => Some(ActorKind::User),
        Ok(common::actor::Kind::Device) => Some(ActorKind::Device),
        Ok(common::actor::Kind::Service) => Some(ActorKind::Service),
        Ok(common::actor::Kind::Gateway) => Some(ActorKind::Gateway),
        _ => None,
    };
    EntryFields {
        actor_kind,
        actor_id: actor.id,
        actor_role: actor.role,
        action: entry.action,
        subject_type: subject.r#type,
        subject_id: subject.id,
        success: outcome.success,
        reason: outcome.reason,
        service: entry.service,
        trace_id: entry.trace_id,
        detail: entry.detail.into_iter().collect(),
    }
    .parse()
    .map_err(ServiceError::InvalidArgument)
}

pub use sentinel_platform::time::{from_timestamp as micros, to_timestamp as timestamp};

/// A record as the contract carries it (in a proof), back to the domain's, so its leaf hash can
/// be recomputed from what it says.
pub fn audit_record(record: pb::AuditRecord) -> Result<AuditRecord, ServiceError> {
    let recorded_at = record
        .recorded_at
        .as_ref()
        .ok_or_else(|| ServiceError::field("record.recorded_at", "is required"))?;
    Ok(AuditRecord {
        sequence: record.sequence,
        recorded_at: sentinel_platform::time::checked_from_timestamp(
            "record.recorded_at",
            recorded_at,
        )?,
        entry: entry(record.entry)?,
    })
}

pub fn record(stored: &StoredRecord) -> pb::AuditRecord {
    let record = &stored.record;
    let entry = &record.entry;
    let (success, reason) = match &entry.outcome {
        Outcome::Success => (true, String::new()),
        Outcome::Failure(reason) => (false, reason.clone()),
    };
    let kind = match entry.actor.kind {
        ActorKind::User => common::actor::Kind::User,
        ActorKind::Device => common::actor::Kind::Device,
        ActorKind::Service => common::actor::Kind::Service,
        ActorKind::Gateway => common::actor::Kind::Gateway,
    };
    pb::AuditRecord {
        sequence: record.sequence,
        recorded_at: Some(timestamp(record.recorded_at)),
        entry: Some(pb::AuditEntry {
            actor: Some(common::Actor {
                kind: kind.into(),
                id: entry.actor.id.clone(),
                role: entry.actor.role.clone(),
            }),
            action: entry.action.code().to_owned(),
            subject: Some(pb::Subject {
                r#type: entry.subject.kind.clone(),
                id: entry.subject.id.clone(),
            }),
            outcome: Some(pb::Outcome { success, reason }),
            service: entry.service.clone(),
            trace_id: entry.trace_id.clone(),
            detail: entry.detail.clone().into_iter().collect(),
        }),
        leaf_hash: stored.leaf_hash.clone(),
        signature: stored.signature.clone(),
    }
}

pub fn checkpoint(head: &SignedHead, verifier: &LogVerifier) -> pb::Checkpoint {
    pb::Checkpoint {
        tree_size: head.checkpoint.size,
        root_hash: head.checkpoint.root.to_vec(),
        signed_note: head.note.clone(),
        verifier_key: verifier.to_text(),
    }
}

/// Page tokens are opaque to callers: the last sequence returned, encoded.
pub fn page_token(last: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{last}"))
}

pub fn after(token: &str) -> Result<Option<u64>, ServiceError> {
    if token.is_empty() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("after:")?.parse().ok())
        .map(Some)
        .ok_or_else(|| ServiceError::field("page.page_token", "is not a token this service issued"))
}

pub fn chain_error(err: ChainError) -> ServiceError {
    match err {
        ChainError::Storage(StorageError::Database(err)) => err.into(),
        ChainError::Storage(err @ StorageError::Corrupt { .. }) => {
            ServiceError::FailedPrecondition(format!("{err}; run `sentinel audit verify`"))
        }
        ChainError::Tampered { .. } | ChainError::ContentChanged(_) => {
            ServiceError::FailedPrecondition(err.to_string())
        }
        ChainError::NotFound(sequence) => {
            ServiceError::NotFound(format!("audit record {sequence}"))
        }
        ChainError::Proof(err) => ServiceError::InvalidArgument(vec![proof_violation(&err)]),
    }
}

fn proof_violation(err: &ProofError) -> FieldViolation {
    let field = match err {
        ProofError::IndexOutOfRange { .. } => "sequence",
        ProofError::SizeOutOfRange { .. } => "tree_size",
        ProofError::SizesOutOfOrder { .. } => "first_size",
    };
    FieldViolation::new(field, err.to_string())
}

pub fn append_error(err: AppendError) -> ServiceError {
    match err {
        AppendError::Overloaded { retry_after } => ServiceError::ResourceExhausted {
            reason: "audit append queue is full".to_owned(),
            retry_after,
        },
        AppendError::Failed(reason) => {
            ServiceError::Unavailable(format!("the audit record was not stored: {reason}"))
        }
    }
}
