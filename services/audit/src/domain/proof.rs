//! Proofs checked offline, as a client or an auditor holding only the log's public key checks
//! them: an inclusion proof from the record's own content (re-hashed here, never taken from the
//! proof's `leaf_hash`), a consistency proof between two signed checkpoints. The checkpoints are
//! opened with the key the checker brings, never the one a proof names.

use super::{
    checkpoint::{Checkpoint, LogVerifier},
    merkle::{Hash, verify_consistency, verify_inclusion},
    record::AuditRecord,
};

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofProblem {
    #[error("the checkpoint is not signed by this log's key: {0}")]
    NotSignedByLog(String),
    #[error("the record is sequence {record}, the proof is for sequence {proof}")]
    OtherRecord { record: u64, proof: u64 },
    #[error(
        "record {sequence} as given is not in the log of size {size}: its content, or the path, \
         is not what the log holds"
    )]
    NotIncluded { sequence: u64, size: u64 },
    #[error("the log of size {first} is not a prefix of the log of size {second}")]
    NotConsistent { first: u64, second: u64 },
}

/// Checks that `record`, re-hashed from its content, is leaf `sequence` of the log whose signed
/// checkpoint is `note`, by the audit `path`; answers the checkpoint it is included in.
pub fn check_inclusion(
    verifier: &LogVerifier,
    record: &AuditRecord,
    sequence: u64,
    path: &[Hash],
    note: &str,
) -> Result<Checkpoint, ProofProblem> {
    let head = open(verifier, note)?;
    if record.sequence != sequence {
        return Err(ProofProblem::OtherRecord {
            record: record.sequence,
            proof: sequence,
        });
    }
    if !verify_inclusion(sequence, head.size, &record.leaf_hash(), path, &head.root) {
        return Err(ProofProblem::NotIncluded {
            sequence,
            size: head.size,
        });
    }
    Ok(head)
}

/// Checks that the log of the signed checkpoint `first` is a prefix of that of `second`, by
/// the consistency `path`; answers both checkpoints.
pub fn check_consistency(
    verifier: &LogVerifier,
    path: &[Hash],
    first: &str,
    second: &str,
) -> Result<(Checkpoint, Checkpoint), ProofProblem> {
    let (first, second) = (open(verifier, first)?, open(verifier, second)?);
    if !verify_consistency(first.size, second.size, &first.root, &second.root, path) {
        return Err(ProofProblem::NotConsistent {
            first: first.size,
            second: second.size,
        });
    }
    Ok((first, second))
}

fn open(verifier: &LogVerifier, note: &str) -> Result<Checkpoint, ProofProblem> {
    verifier
        .open(note)
        .map_err(|err| ProofProblem::NotSignedByLog(err.to_string()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sentinel_platform::audit_action::Action;

    use super::*;
    use crate::domain::{
        checkpoint::LogSigner,
        merkle::MerkleTree,
        record::{Actor, ActorKind, AuditEntry, Outcome, Subject},
    };

    const ORIGIN: &str = "sentinel.test/audit";

    fn record(sequence: u64) -> AuditRecord {
        AuditRecord {
            sequence,
            recorded_at: 1_000 + sequence as i64,
            entry: AuditEntry {
                actor: Actor {
                    kind: ActorKind::User,
                    id: format!("user-{sequence}"),
                    role: "clinician".into(),
                },
                action: Action::AlertAcknowledged,
                subject: Subject {
                    kind: "alert".into(),
                    id: format!("alert-{sequence}"),
                },
                outcome: Outcome::Success,
                service: "rules".into(),
                trace_id: String::new(),
                detail: BTreeMap::new(),
            },
        }
    }

    /// A log of `n` records, with the signed note of its head at each size.
    fn log(signer: &LogSigner, n: u64) -> (Vec<AuditRecord>, MerkleTree, Vec<String>) {
        let mut tree = MerkleTree::new();
        let mut records = Vec::new();
        let mut notes = vec![String::new()];
        for sequence in 0..n {
            records.push(record(sequence));
            tree.push(records[sequence as usize].leaf_hash());
            let head = Checkpoint {
                origin: ORIGIN.into(),
                size: sequence + 1,
                root: tree.root(sequence + 1).unwrap(),
            };
            notes.push(signer.note(&head, &signer.sign(&head)));
        }
        (records, tree, notes)
    }

    #[test]
    fn an_inclusion_proof_holds_for_the_record_as_logged_and_for_nothing_else() {
        let signer = LogSigner::generate(ORIGIN).unwrap();
        let verifier = signer.verifier();
        let (records, tree, notes) = log(&signer, 9);
        let path = tree.inclusion_proof(4, 9).unwrap();
        let head = check_inclusion(&verifier, &records[4], 4, &path, &notes[9]).unwrap();
        assert_eq!(head.size, 9);
        // The content changed: the re-hashed leaf is not in the log.
        let mut changed = records[4].clone();
        changed.entry.actor.id = "someone-else".into();
        assert_eq!(
            check_inclusion(&verifier, &changed, 4, &path, &notes[9]),
            Err(ProofProblem::NotIncluded {
                sequence: 4,
                size: 9
            })
        );
        // Another record, another size's checkpoint, a checkpoint by another key.
        assert!(check_inclusion(&verifier, &records[5], 4, &path, &notes[9]).is_err());
        assert!(check_inclusion(&verifier, &records[4], 4, &path, &notes[8]).is_err());
        let forger = LogSigner::generate(ORIGIN).unwrap();
        let (_, _, forged) = log(&forger, 9);
        assert!(matches!(
            check_inclusion(&verifier, &records[4], 4, &path, &forged[9]),
            Err(ProofProblem::NotSignedByLog(_))
        ));
    }

    #[test]
    fn a_consistency_proof_holds_between_heads_of_one_log_only() {
        let signer = LogSigner::generate(ORIGIN).unwrap();
        let verifier = signer.verifier();
        let (_, tree, notes) = log(&signer, 9);
        let path = tree.consistency_proof(3, 9).unwrap();
        let (first, second) = check_consistency(&verifier, &path, &notes[3], &notes[9]).unwrap();
        assert_eq!((first.size, second.size), (3, 9));
        assert!(check_consistency(&verifier, &path, &notes[4], &notes[9]).is_err());
        // The same key, a different history (records with other times): not a prefix.
        let mut tree2 = MerkleTree::new();
        for sequence in 0..9 {
            let mut r = record(sequence);
            r.recorded_at += 1;
            tree2.push(r.leaf_hash());
        }
        let head = Checkpoint {
            origin: ORIGIN.into(),
            size: 9,
            root: tree2.root(9).unwrap(),
        };
        let rewritten = signer.note(&head, &signer.sign(&head));
        assert_eq!(
            check_consistency(&verifier, &path, &notes[3], &rewritten),
            Err(ProofProblem::NotConsistent {
                first: 3,
                second: 9
            })
        );
    }
}
