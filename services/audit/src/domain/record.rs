//! Audit records: what a caller reports ([`AuditEntry`]), how it is checked, and how a stored
//! record ([`AuditRecord`]) is encoded canonically for hashing.

use sentinel_platform::audit_action::Action;
use std::collections::BTreeMap;

use sentinel_platform::FieldViolation;

use super::merkle::{Hash, leaf_hash};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    User,
    Device,
    Gateway,
    Service,
}

impl ActorKind {
    pub fn code(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Device => "device",
            ActorKind::Gateway => "gateway",
            ActorKind::Service => "service",
        }
    }

    pub fn from_code(code: &str) -> Option<ActorKind> {
        match code {
            "user" => Some(ActorKind::User),
            "device" => Some(ActorKind::Device),
            "gateway" => Some(ActorKind::Gateway),
            "service" => Some(ActorKind::Service),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// Opaque id of the user, device or service; never a patient's name or identifier.
    pub id: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Failed, with a reason code such as `permission_denied`.
    Failure(String),
}

/// The services that may record actions.
pub const SERVICES: [&str; 4] = ["registry", "ingestion", "rules", "audit"];

/// An action as reported, before the log gives it a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: Actor,
    pub action: Action,
    pub subject: Subject,
    pub outcome: Outcome,
    pub service: String,
    /// W3C trace id (32 lowercase hex digits), or empty.
    pub trace_id: String,
    pub detail: BTreeMap<String, String>,
}

/// A record in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub sequence: u64,
    /// Microseconds since the Unix epoch, UTC.
    pub recorded_at: i64,
    pub entry: AuditEntry,
}

/// The version byte of the canonical encoding (docs/audit.md describes version 1).
pub const ENCODING_VERSION: u8 = 1;

impl AuditRecord {
    /// The canonical, versioned byte encoding that is hashed: the version byte, the sequence
    /// and time as big-endian 64-bit integers, then every text field as a big-endian 32-bit
    /// length and its UTF-8 bytes, in a fixed order, and the detail sorted by key.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let entry = &self.entry;
        let mut out = Vec::with_capacity(256);
        out.push(ENCODING_VERSION);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.recorded_at.to_be_bytes());
        let reason = match &entry.outcome {
            Outcome::Success => "",
            Outcome::Failure(reason) => reason,
        };
        for text in [
            entry.actor.kind.code(),
            &entry.actor.id,
            &entry.actor.role,
            entry.action.code(),
            &entry.subject.kind,
            &entry.subject.id,
            if entry.outcome == Outcome::Success {
                "success"
            } else {
                "failure"
            },
            reason,
            &entry.service,
            &entry.trace_id,
        ] {
            put_text(&mut out, text);
        }
        out.extend_from_slice(&(entry.detail.len() as u32).to_be_bytes());
        for (key, value) in &entry.detail {
            put_text(&mut out, key);
            put_text(&mut out, value);
        }
        out
    }

    /// RFC 6962 leaf hash of the canonical encoding.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.canonical_bytes())
    }
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

const MAX_ID: usize = 128;
const MAX_DETAIL_ENTRIES: usize = 16;
const MAX_DETAIL_VALUE: usize = 256;

/// An identifier-like text: printable, no spaces, at most `max` bytes.
fn check_token(field: &str, value: &str, max: usize, violations: &mut Vec<FieldViolation>) {
    if value.is_empty() {
        violations.push(FieldViolation::new(field, "must not be empty"));
    } else if value.len() > max {
        violations.push(FieldViolation::new(
            field,
            format!("must be at most {max} bytes"),
        ));
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        violations.push(FieldViolation::new(
            field,
            "must not contain spaces or control characters",
        ));
    }
}

/// A lowercase code such as a subject type or a failure reason: `[a-z0-9_.-]`.
fn check_code(field: &str, value: &str, violations: &mut Vec<FieldViolation>) {
    if value.is_empty() {
        violations.push(FieldViolation::new(field, "must not be empty"));
    } else if value.len() > 64
        || !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
    {
        violations.push(FieldViolation::new(
            field,
            "must be a lowercase code of at most 64 characters from a-z, 0-9, _ . -",
        ));
    }
}

/// The raw fields of an entry as a caller sends them, checked into an [`AuditEntry`].
#[derive(Debug, Clone, Default)]
pub struct EntryFields {
    pub actor_kind: Option<ActorKind>,
    pub actor_id: String,
    pub actor_role: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub success: bool,
    pub reason: String,
    pub service: String,
    pub trace_id: String,
    pub detail: BTreeMap<String, String>,
}

impl EntryFields {
    /// Checks every field and names each one that breaks a rule.
    pub fn parse(self) -> Result<AuditEntry, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let action = self.check_who_did_what(&mut violations);
        let outcome = self.check_outcome(&mut violations);
        self.check_context(&mut violations);
        match (self.actor_kind, action) {
            (Some(kind), Some(action)) if violations.is_empty() => Ok(AuditEntry {
                actor: Actor {
                    kind,
                    id: self.actor_id,
                    role: self.actor_role,
                },
                action,
                subject: Subject {
                    kind: self.subject_type,
                    id: self.subject_id,
                },
                outcome,
                service: self.service,
                trace_id: self.trace_id,
                detail: self.detail,
            }),
            _ => Err(violations),
        }
    }

    /// The actor, the action (one of the closed set) and its subject.
    fn check_who_did_what(&self, violations: &mut Vec<FieldViolation>) -> Option<Action> {
        if self.actor_kind.is_none() {
            violations.push(FieldViolation::new(
                "entry.actor.kind",
                "must be user, device or service",
            ));
        }
        check_token("entry.actor.id", &self.actor_id, MAX_ID, violations);
        check_code("entry.actor.role", &self.actor_role, violations);
        let action = Action::from_code(&self.action);
        if action.is_none() {
            violations.push(FieldViolation::new(
                "entry.action",
                format!(
                    "unknown action `{}`: must be one of the audited actions",
                    self.action
                ),
            ));
        }
        check_code("entry.subject.type", &self.subject_type, violations);
        check_token("entry.subject.id", &self.subject_id, MAX_ID, violations);
        action
    }

    /// Success with no reason, or failure with a reason code.
    fn check_outcome(&self, violations: &mut Vec<FieldViolation>) -> Outcome {
        if !self.success {
            check_code("entry.outcome.reason", &self.reason, violations);
            return Outcome::Failure(self.reason.clone());
        }
        if !self.reason.is_empty() {
            violations.push(FieldViolation::new(
                "entry.outcome.reason",
                "must be empty on success",
            ));
        }
        Outcome::Success
    }

    /// Which service recorded it, its trace, and a small detail without control characters.
    fn check_context(&self, violations: &mut Vec<FieldViolation>) {
        if !SERVICES.contains(&self.service.as_str()) {
            violations.push(FieldViolation::new(
                "entry.service",
                "must be one of registry, ingestion, rules, audit",
            ));
        }
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        let trace = &self.trace_id;
        if !trace.is_empty()
            && (trace.len() != 32 || !trace.chars().all(hex) || trace.chars().all(|c| c == '0'))
        {
            violations.push(FieldViolation::new(
                "entry.trace_id",
                "must be empty or a W3C trace id: 32 lowercase hex digits, not all zero",
            ));
        }
        if self.detail.len() > MAX_DETAIL_ENTRIES {
            violations.push(FieldViolation::new(
                "entry.detail",
                format!("must have at most {MAX_DETAIL_ENTRIES} entries"),
            ));
        }
        for (key, value) in &self.detail {
            check_code(&format!("entry.detail[{key}]"), key, violations);
            if value.len() > MAX_DETAIL_VALUE || value.chars().any(char::is_control) {
                violations.push(FieldViolation::new(
                    format!("entry.detail[{key}]"),
                    format!(
                        "value must be at most {MAX_DETAIL_VALUE} bytes without control characters"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
