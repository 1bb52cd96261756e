//! Verification of a stored or exported log, trusting neither the database nor the server:
//! only the log's public key. Every record's hash is recomputed from its content, every record's
//! signature over the log head at its size is checked, and every published checkpoint must be a
//! head of the recomputed log.
//!
//! Each record is signed as part of the head it creates, so tampering is pinned to the first
//! sequence where the log is no longer what was signed: a changed field, a deleted or swapped
//! record, a record forged without the key.

use std::fmt;

use super::{
    checkpoint::{Checkpoint, LogVerifier},
    merkle::{Hash, MerkleTree},
    record::AuditRecord,
};

/// A record as it was stored or exported, with what the log wrote beside it.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub record: AuditRecord,
    /// The leaf hash stored with the record.
    pub leaf_hash: Vec<u8>,
    /// Signature of the log head at size `sequence + 1`.
    pub signature: Vec<u8>,
}

/// What is wrong at the first broken sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The sequence is absent: the next stored record has a later one.
    Missing { next_found: u64 },
    /// A record with a sequence already seen, or an earlier one.
    OutOfOrder { found: u64 },
    /// The content does not hash to the stored leaf hash.
    ContentChanged,
    /// Recorded earlier than the record before it.
    TimeRunsBackwards,
    /// The signature does not sign the head this record makes.
    BadSignature,
    /// A published checkpoint is for a larger log than is there.
    Truncated { checkpoint_size: u64 },
    /// A published checkpoint does not verify, or is not a head of this log.
    CheckpointMismatch {
        checkpoint_size: u64,
        reason: String,
    },
    /// The log is not an extension of the checkpoint the auditor holds: shorter than it, or
    /// different within it.
    NotAnExtension { trusted_size: u64, reason: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { next_found } => write!(
                f,
                "record missing: the next stored record is sequence {next_found} (deleted records)"
            ),
            Problem::OutOfOrder { found } => write!(
                f,
                "found sequence {found} out of order (duplicated or re-numbered records)"
            ),
            Problem::ContentChanged => {
                f.write_str("record content does not match its hash: a field was changed")
            }
            Problem::TimeRunsBackwards => {
                f.write_str("recorded before the record preceding it: records were reordered")
            }
            Problem::BadSignature => f.write_str(
                "the log head at this record is not the one signed: records were changed, \
                 removed, reordered or forged without the log's key",
            ),
            Problem::Truncated { checkpoint_size } => write!(
                f,
                "the log ends here but a signed checkpoint covers {checkpoint_size} records: \
                 records were removed from the end"
            ),
            Problem::CheckpointMismatch {
                checkpoint_size,
                reason,
            } => write!(f, "checkpoint of size {checkpoint_size}: {reason}"),
            Problem::NotAnExtension {
                trusted_size,
                reason,
            } => write!(
                f,
                "not an extension of the trusted checkpoint of size {trusted_size}: {reason}"
            ),
        }
    }
}

/// The verdict on a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every checked record is as signed; the log of `size` records has root `root`.
    Intact { size: u64, root: Hash },
    /// The first sequence where the log is not what was signed.
    Broken { sequence: u64, problem: Problem },
}

/// Verifies records fed in sequence order, one at a time, so an export of any size streams
/// through in constant memory beside the tree's hashes.
#[derive(Debug)]
pub struct LogCheck<'a> {
    verifier: &'a LogVerifier,
    origin: String,
    tree: MerkleTree,
    last_time: Option<i64>,
    /// Only records at or after this sequence have their signatures checked (a range check);
    /// all records are hashed, since each head covers everything before it.
    check_from: u64,
    /// A head the auditor holds from an earlier verification: the log must extend it.
    trusted: Option<Checkpoint>,
    broken: Option<(u64, Problem)>,
}

impl<'a> LogCheck<'a> {
    pub fn new(verifier: &'a LogVerifier, origin: &str) -> Self {
        LogCheck {
            verifier,
            origin: origin.to_owned(),
            tree: MerkleTree::new(),
            last_time: None,
            check_from: 0,
            trusted: None,
            broken: None,
        }
    }

    /// Checks signatures only from `sequence` on (hashes are still recomputed from 0).
    pub fn from_sequence(mut self, sequence: u64) -> Self {
        self.check_from = sequence;
        self
    }

    /// Requires the log to extend `trusted`, a head the auditor kept (a signed checkpoint, or a
    /// size and root written down): an emptied log, or one cut short with its checkpoints
    /// removed, then fails, however consistent what is left.
    pub fn trusting(mut self, trusted: Option<Checkpoint>) -> Self {
        self.trusted = trusted;
        self
    }

    /// Number of records accepted so far.
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Whether a problem was found (later records are then ignored).
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// Feeds the next record.
    pub fn push(&mut self, stored: &StoredRecord) {
        self.feed(stored, true);
    }

    /// Feeds the next record of an export, whose fields derived from the record (see the
    /// export) `agree` with its hashed content or not: if not, its content was changed.
    pub fn push_exported(&mut self, stored: &StoredRecord, agree: bool) {
        self.feed(stored, agree);
    }

    fn feed(&mut self, stored: &StoredRecord, agree: bool) {
        if self.broken.is_some() {
            return;
        }
        let expected = self.tree.len();
        let record = &stored.record;
        let problem = if record.sequence > expected {
            Some(Problem::Missing {
                next_found: record.sequence,
            })
        } else if record.sequence < expected {
            Some(Problem::OutOfOrder {
                found: record.sequence,
            })
        } else if !agree {
            Some(Problem::ContentChanged)
        } else {
            self.check(stored)
        };
        if let Some(problem) = problem {
            self.broken = Some((expected, problem));
        }
    }

    fn check(&mut self, stored: &StoredRecord) -> Option<Problem> {
        let record = &stored.record;
        let leaf = record.leaf_hash();
        if stored.leaf_hash != leaf {
            return Some(Problem::ContentChanged);
        }
        if self.last_time.is_some_and(|last| record.recorded_at < last) {
            return Some(Problem::TimeRunsBackwards);
        }
        self.tree.push(leaf);
        if record.sequence >= self.check_from {
            let head = self.head(self.tree.len());
            if !self.verifier.verify(&head, &stored.signature) {
                return Some(Problem::BadSignature);
            }
        }
        self.last_time = Some(record.recorded_at);
        None
    }

    fn head(&self, size: u64) -> Checkpoint {
        Checkpoint {
            origin: self.origin.clone(),
            size,
            // Sizes up to the tree's length always have a root.
            root: self.tree.root(size).unwrap_or_default(),
        }
    }

    /// The verdict, once every record has been fed, checking the published `checkpoints`
    /// (signed notes) against the recomputed log.
    pub fn finish<'n>(self, checkpoints: impl IntoIterator<Item = &'n str>) -> Verdict {
        if let Some((sequence, problem)) = self.broken {
            return Verdict::Broken { sequence, problem };
        }
        let len = self.tree.len();
        let mut first_problem: Option<(u64, Problem)> = None;
        for note in checkpoints {
            let found = match self.verifier.open(note) {
                Err(err) => Some((
                    len,
                    Problem::CheckpointMismatch {
                        checkpoint_size: claimed_size(note),
                        reason: err.to_string(),
                    },
                )),
                Ok(checkpoint) if checkpoint.size > len => Some((
                    len,
                    Problem::Truncated {
                        checkpoint_size: checkpoint.size,
                    },
                )),
                Ok(checkpoint) if checkpoint != self.head(checkpoint.size) => Some((
                    checkpoint.size.saturating_sub(1),
                    Problem::CheckpointMismatch {
                        checkpoint_size: checkpoint.size,
                        reason: "its origin or root is not the recomputed log's".into(),
                    },
                )),
                Ok(_) => None,
            };
            if let Some((sequence, problem)) = found
                && first_problem.as_ref().is_none_or(|(s, _)| sequence < *s)
            {
                first_problem = Some((sequence, problem));
            }
        }
        if let Some(found) = self.against_trusted()
            && first_problem.as_ref().is_none_or(|(s, _)| found.0 < *s)
        {
            first_problem = Some(found);
        }
        match first_problem {
            Some((sequence, problem)) => Verdict::Broken { sequence, problem },
            None => Verdict::Intact {
                size: len,
                root: self.tree.root(len).unwrap_or_default(),
            },
        }
    }
}

impl LogCheck<'_> {
    /// Where the recomputed log departs from the auditor's trusted head, if it does.
    fn against_trusted(&self) -> Option<(u64, Problem)> {
        let trusted = self.trusted.as_ref()?;
        let len = self.tree.len();
        let problem = |reason: String| Problem::NotAnExtension {
            trusted_size: trusted.size,
            reason,
        };
        if trusted.size > len {
            return Some((
                len,
                problem(format!(
                    "the log holds {len} records: records were removed from the end"
                )),
            ));
        }
        if *trusted != self.head(trusted.size) {
            return Some((
                trusted.size.saturating_sub(1),
                problem(
                    "its first records are not the ones the auditor's checkpoint covers".into(),
                ),
            ));
        }
        None
    }
}

/// The size a note claims, whether or not its signature holds (0 when unreadable).
fn claimed_size(note: &str) -> u64 {
    note.split_once("\n\n")
        .and_then(|(body, _)| Checkpoint::parse_body(&format!("{body}\n")).ok())
        .map_or(0, |checkpoint| checkpoint.size)
}

#[cfg(test)]
mod tests;
