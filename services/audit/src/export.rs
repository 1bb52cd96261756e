//! Offline tools for auditors: export the log as JSON lines (or as FHIR `AuditEvent` NDJSON,
//! the bulk-data form EHR audit repositories import), and verify a store or an export holding
//! only the log's public key — neither the server nor the database need be trusted.

use sentinel_platform::audit_action::Action;
use std::{
    collections::BTreeMap,
    io::{BufRead, Write},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        checkpoint::{Checkpoint, LogVerifier},
        fhir,
        record::{Actor, ActorKind, AuditEntry, AuditRecord, Outcome, Subject},
        verify::{LogCheck, StoredRecord, Verdict},
    },
    storage::{AuditStore, Snapshot, StorageError},
};

/// The `format` of an export's header line.
pub const FORMAT: &str = "sentinel-audit-export";
const PAGE: u32 = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("line {line} of the export is not valid: {problem}")]
    Malformed { line: usize, problem: String },
}

/// One line of an export.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Header {
        format: String,
        version: u32,
        origin: String,
        /// Informational: verification uses the key the auditor brings, never this one.
        verifier_key: String,
    },
    Record(Box<RecordLine>),
    Checkpoint {
        tree_size: u64,
        note: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct RecordLine {
    sequence: u64,
    recorded_at: i64,
    recorded: String,
    actor_kind: String,
    actor_id: String,
    actor_role: String,
    action: String,
    subject_type: String,
    subject_id: String,
    success: bool,
    reason: String,
    service: String,
    trace_id: String,
    detail: BTreeMap<String, String>,
    leaf_hash: String,
    signature: String,
}

impl RecordLine {
    fn from_stored(stored: &StoredRecord) -> Self {
        let record = &stored.record;
        let entry = &record.entry;
        let (success, reason) = match &entry.outcome {
            Outcome::Success => (true, String::new()),
            Outcome::Failure(reason) => (false, reason.clone()),
        };
        RecordLine {
            sequence: record.sequence,
            recorded_at: record.recorded_at,
            recorded: fhir::instant(record.recorded_at),
            actor_kind: entry.actor.kind.code().to_owned(),
            actor_id: entry.actor.id.clone(),
            actor_role: entry.actor.role.clone(),
            action: entry.action.code().to_owned(),
            subject_type: entry.subject.kind.clone(),
            subject_id: entry.subject.id.clone(),
            success,
            reason,
            service: entry.service.clone(),
            trace_id: entry.trace_id.clone(),
            detail: entry.detail.clone(),
            leaf_hash: STANDARD.encode(&stored.leaf_hash),
            signature: STANDARD.encode(&stored.signature),
        }
    }

    /// Whether the fields the export derives from the record — the readable `recorded` time,
    /// the empty reason of a success — still say what the hashed fields say. They are not
    /// hashed themselves, so without this a reader could be shown an altered time or a reason
    /// for a success that verification never looked at.
    fn derived_fields_agree(&self) -> bool {
        self.recorded == fhir::instant(self.recorded_at)
            && (!self.success || self.reason.is_empty())
    }

    /// Back to a stored record, exactly as exported: nothing is re-validated here, since
    /// verification must see what the export really says.
    fn into_stored(self) -> Result<StoredRecord, String> {
        let decode = |text: &str, what: &str| {
            STANDARD
                .decode(text)
                .map_err(|_| format!("{what} is not base64"))
        };
        Ok(StoredRecord {
            leaf_hash: decode(&self.leaf_hash, "leaf_hash")?,
            signature: decode(&self.signature, "signature")?,
            record: AuditRecord {
                sequence: self.sequence,
                recorded_at: self.recorded_at,
                entry: AuditEntry {
                    actor: Actor {
                        kind: ActorKind::from_code(&self.actor_kind).ok_or("unknown actor_kind")?,
                        id: self.actor_id,
                        role: self.actor_role,
                    },
                    action: Action::from_code(&self.action).ok_or("unknown action")?,
                    subject: Subject {
                        kind: self.subject_type,
                        id: self.subject_id,
                    },
                    outcome: if self.success {
                        Outcome::Success
                    } else {
                        Outcome::Failure(self.reason)
                    },
                    service: self.service,
                    trace_id: self.trace_id,
                    detail: self.detail,
                },
            },
        })
    }
}

fn write_line(out: &mut impl Write, line: &impl Serialize) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Calls `each` with every record of `snapshot`, in order, a page at a time.
async fn for_each_record(
    snapshot: &mut Snapshot,
    mut each: impl FnMut(&StoredRecord) -> Result<bool, ExportError>,
) -> Result<(), ExportError> {
    let mut next = 0;
    loop {
        let page = snapshot.page(next, PAGE).await?;
        for stored in &page {
            if !each(stored)? {
                return Ok(());
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => next = last.record.sequence + 1,
            _ => return Ok(()),
        }
    }
}

/// Writes the whole log as JSON lines: a header, every record, every checkpoint, all as of one
/// instant (a log appended to meanwhile exports whole and verifiable). Returns the number of
/// records written.
pub async fn export_jsonl(
    store: &AuditStore,
    verifier: &LogVerifier,
    out: &mut impl Write,
) -> Result<u64, ExportError> {
    write_line(
        out,
        &Line::Header {
            format: FORMAT.to_owned(),
            version: 1,
            origin: verifier.name().to_owned(),
            verifier_key: verifier.to_text(),
        },
    )?;
    let mut snapshot = store.snapshot().await?;
    let mut count = 0;
    for_each_record(&mut snapshot, |stored| {
        write_line(
            out,
            &Line::Record(Box::new(RecordLine::from_stored(stored))),
        )?;
        count += 1;
        Ok(true)
    })
    .await?;
    for checkpoint in snapshot.checkpoints().await? {
        write_line(
            out,
            &Line::Checkpoint {
                tree_size: checkpoint.tree_size,
                note: checkpoint.note,
            },
        )?;
    }
    out.flush()?;
    Ok(count)
}

/// Writes every record as a FHIR R4 `AuditEvent`, one JSON object per line (NDJSON).
pub async fn export_fhir(
    store: &AuditStore,
    origin: &str,
    out: &mut impl Write,
) -> Result<u64, ExportError> {
    let mut snapshot = store.snapshot().await?;
    let mut count = 0;
    for_each_record(&mut snapshot, |stored| {
        write_line(out, &fhir::audit_event(&stored.record, origin))?;
        count += 1;
        Ok(true)
    })
    .await?;
    out.flush()?;
    Ok(count)
}

/// Verifies the log in `store` with `verifier` alone, checking signatures of the records
/// from `from` to `to` (inclusive) and, for a whole-log check, every published checkpoint and
/// that the log extends the auditor's `trusted` head. Returns the verdict and the number of
/// records read.
pub async fn verify_store(
    store: &AuditStore,
    verifier: &LogVerifier,
    from: u64,
    to: Option<u64>,
    trusted: Option<Checkpoint>,
) -> Result<(Verdict, u64), ExportError> {
    // One snapshot: the log is appended to while it is verified, and records and checkpoints
    // read apart could disagree — a checkpoint covering records committed after the records
    // were read would make an intact live log look cut short.
    let mut snapshot = store.snapshot().await?;
    let checkpoints = match to {
        Some(_) => Vec::new(),
        None => snapshot.checkpoints().await?,
    };
    let mut check = LogCheck::new(verifier, verifier.name())
        .from_sequence(from)
        .trusting(trusted);
    for_each_record(&mut snapshot, |stored| {
        if to.is_some_and(|to| stored.record.sequence > to) {
            return Ok(false);
        }
        check.push(stored);
        Ok(!check.is_broken())
    })
    .await?;
    let read = check.len();
    Ok((
        check.finish(checkpoints.iter().map(|c| c.note.as_str())),
        read,
    ))
}

/// Verifies an export with `verifier` alone, and that it extends the auditor's `trusted` head.
/// Returns the verdict and the records read.
pub fn verify_export(
    export: impl BufRead,
    verifier: &LogVerifier,
    trusted: Option<Checkpoint>,
) -> Result<(Verdict, u64), ExportError> {
    let mut check = LogCheck::new(verifier, verifier.name()).trusting(trusted);
    let mut notes = Vec::new();
    for (index, line) in export.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |problem: String| ExportError::Malformed {
            line: index + 1,
            problem,
        };
        match serde_json::from_str::<Line>(&line).map_err(|e| malformed(e.to_string()))? {
            Line::Header {
                format, version, ..
            } => {
                if format != FORMAT || version != 1 {
                    return Err(malformed(format!("unsupported export {format} v{version}")));
                }
            }
            Line::Record(record) => {
                let agree = record.derived_fields_agree();
                check.push_exported(&record.into_stored().map_err(malformed)?, agree);
            }
            Line::Checkpoint { note, .. } => notes.push(note),
        }
    }
    let read = check.len();
    Ok((check.finish(notes.iter().map(String::as_str)), read))
}
