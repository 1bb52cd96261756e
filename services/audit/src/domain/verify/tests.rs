//! The verifier against each way a log can be tampered with.

use sentinel_platform::audit_action::Action;
use std::collections::BTreeMap;

use super::*;
use crate::domain::{
    checkpoint::LogSigner,
    record::{Actor, ActorKind, AuditEntry, Outcome, Subject},
};

const ORIGIN: &str = "sentinel.test/audit";

fn entry(i: u64) -> AuditEntry {
    AuditEntry {
        actor: Actor {
            kind: ActorKind::User,
            id: format!("user-{i}"),
            role: "clinician".into(),
        },
        action: Action::AlertAcknowledged,
        subject: Subject {
            kind: "alert".into(),
            id: format!("alert-{i}"),
        },
        outcome: Outcome::Success,
        service: "rules".into(),
        trace_id: String::new(),
        detail: BTreeMap::new(),
    }
}

/// A log as the service writes one: each record signed as the head it makes.
fn log(signer: &LogSigner, n: u64) -> (Vec<StoredRecord>, Vec<String>) {
    let mut tree = MerkleTree::new();
    let mut records = Vec::new();
    let mut notes = Vec::new();
    for i in 0..n {
        let record = AuditRecord {
            sequence: i,
            recorded_at: 1_000_000 + i as i64,
            entry: entry(i),
        };
        let leaf = record.leaf_hash();
        tree.push(leaf);
        let head = Checkpoint {
            origin: ORIGIN.into(),
            size: i + 1,
            root: tree.root(i + 1).unwrap(),
        };
        let signature = signer.sign(&head);
        if (i + 1) % 4 == 0 {
            notes.push(signer.note(&head, &signature));
        }
        records.push(StoredRecord {
            record,
            leaf_hash: leaf.to_vec(),
            signature,
        });
    }
    (records, notes)
}

fn verify(signer: &LogSigner, records: &[StoredRecord], notes: &[String]) -> Verdict {
    let verifier = signer.verifier();
    let mut check = LogCheck::new(&verifier, ORIGIN);
    for record in records {
        check.push(record);
    }
    check.finish(notes.iter().map(String::as_str))
}

fn broken_at(verdict: &Verdict) -> (u64, &Problem) {
    match verdict {
        Verdict::Broken { sequence, problem } => (*sequence, problem),
        Verdict::Intact { .. } => panic!("tampering went unnoticed"),
    }
}

#[test]
fn an_untouched_log_is_intact() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (records, notes) = log(&signer, 10);
    let Verdict::Intact { size, .. } = verify(&signer, &records, &notes) else {
        panic!("intact log refused");
    };
    assert_eq!(size, 10);
    assert_eq!(
        verify(&signer, &[], &[]),
        Verdict::Intact {
            size: 0,
            root: crate::domain::merkle::empty_root()
        }
    );
}

#[test]
fn a_modified_field_is_pinned_to_its_record() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    records[6].record.entry.actor.id = "someone-else".into();
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (6, &Problem::ContentChanged)
    );
}

#[test]
fn a_modified_field_with_its_hash_recomputed_fails_the_signature() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    records[6].record.entry.outcome = Outcome::Failure("denied".into());
    records[6].leaf_hash = records[6].record.leaf_hash().to_vec();
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (6, &Problem::BadSignature)
    );
}

#[test]
fn a_deleted_record_is_found() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    records.remove(3);
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (3, &Problem::Missing { next_found: 4 })
    );
}

#[test]
fn a_deleted_record_with_the_rest_renumbered_is_found() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    records.remove(3);
    for (i, stored) in records.iter_mut().enumerate().skip(3) {
        stored.record.sequence = i as u64;
        stored.leaf_hash = stored.record.leaf_hash().to_vec();
    }
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (3, &Problem::BadSignature)
    );
}

#[test]
fn records_removed_from_the_end_are_found_by_the_checkpoint() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    records.truncate(6);
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (6, &Problem::Truncated { checkpoint_size: 8 })
    );
}

#[test]
fn two_swapped_records_are_found() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    // Swap the contents of 4 and 5, keeping each place's sequence number.
    let (four, five) = (records[4].clone(), records[5].clone());
    records[4] = StoredRecord {
        record: AuditRecord {
            sequence: 4,
            ..five.record.clone()
        },
        ..five
    };
    records[5] = StoredRecord {
        record: AuditRecord {
            sequence: 5,
            ..four.record.clone()
        },
        ..four
    };
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (4, &Problem::ContentChanged)
    );
    // ... and with the hashes recomputed by a careful forger.
    for stored in &mut records[4..6] {
        stored.leaf_hash = stored.record.leaf_hash().to_vec();
    }
    let verdict = verify(&signer, &records, &notes);
    let (sequence, problem) = broken_at(&verdict);
    assert_eq!(sequence, 4);
    assert!(matches!(
        problem,
        Problem::BadSignature | Problem::TimeRunsBackwards
    ));
}

#[test]
fn a_record_forged_without_the_key_is_found() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, notes) = log(&signer, 10);
    let forger = LogSigner::generate(ORIGIN).unwrap();
    let mut tree = MerkleTree::new();
    for stored in &records {
        tree.push(stored.record.leaf_hash());
    }
    let forged = AuditRecord {
        sequence: 10,
        recorded_at: 2_000_000,
        entry: entry(99),
    };
    tree.push(forged.leaf_hash());
    let head = Checkpoint {
        origin: ORIGIN.into(),
        size: 11,
        root: tree.root(11).unwrap(),
    };
    records.push(StoredRecord {
        leaf_hash: forged.leaf_hash().to_vec(),
        signature: forger.sign(&head),
        record: forged,
    });
    let mut notes = notes;
    notes.push(forger.note(&head, &forger.sign(&head)));
    assert_eq!(
        broken_at(&verify(&signer, &records, &notes)),
        (10, &Problem::BadSignature)
    );
}

#[test]
fn a_checkpoint_not_signed_by_the_log_is_refused() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (records, mut notes) = log(&signer, 8);
    notes[0] = notes[0].replacen("\n4\n", "\n3\n", 1);
    let verdict = verify(&signer, &records, &notes);
    let (_, problem) = broken_at(&verdict);
    assert!(
        matches!(
            problem,
            Problem::CheckpointMismatch {
                checkpoint_size: 3,
                ..
            }
        ),
        "{problem:?}"
    );
}

#[test]
fn a_range_check_still_hashes_everything_before_it() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (mut records, _) = log(&signer, 10);
    records[2].record.entry.subject.id = "changed".into();
    let verifier = signer.verifier();
    let mut check = LogCheck::new(&verifier, ORIGIN).from_sequence(5);
    for record in &records {
        check.push(record);
    }
    assert_eq!(broken_at(&check.finish([])), (2, &Problem::ContentChanged));
}

fn verify_trusting(signer: &LogSigner, records: &[StoredRecord], trusted: Checkpoint) -> Verdict {
    let verifier = signer.verifier();
    let mut check = LogCheck::new(&verifier, ORIGIN).trusting(Some(trusted));
    for record in records {
        check.push(record);
    }
    check.finish([])
}

/// The head of `records`' first `size` records, as an auditor would have kept it.
fn head_of(records: &[StoredRecord], size: u64) -> Checkpoint {
    let mut tree = MerkleTree::new();
    for stored in &records[..size as usize] {
        tree.push(stored.record.leaf_hash());
    }
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root(size).unwrap(),
    }
}

#[test]
fn a_log_that_extends_the_auditors_checkpoint_is_intact() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (records, _) = log(&signer, 10);
    for size in [1, 6, 10] {
        let verdict = verify_trusting(&signer, &records, head_of(&records, size));
        assert!(
            matches!(verdict, Verdict::Intact { size: 10, .. }),
            "{verdict:?}"
        );
    }
}

#[test]
fn a_log_cut_short_or_emptied_with_its_checkpoints_fails_against_the_auditors() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (records, _) = log(&signer, 10);
    let trusted = head_of(&records, 8);
    // Records 6 to 9 removed, and every published checkpoint with them: consistent in itself.
    assert!(matches!(
        verify(&signer, &records[..6], &[]),
        Verdict::Intact { .. }
    ));
    let cut = verify_trusting(&signer, &records[..6], trusted.clone());
    let (sequence, problem) = broken_at(&cut);
    assert_eq!(sequence, 6);
    assert!(
        matches!(
            problem,
            Problem::NotAnExtension {
                trusted_size: 8,
                ..
            }
        ),
        "{problem}"
    );
    let emptied = verify_trusting(&signer, &[], trusted);
    assert_eq!(broken_at(&emptied).0, 0);
}

#[test]
fn a_log_rewritten_under_a_new_key_fails_against_the_auditors_checkpoint() {
    let signer = LogSigner::generate(ORIGIN).unwrap();
    let (records, _) = log(&signer, 10);
    let trusted = head_of(&records, 5);
    // The whole log signed again by an intruder's key, one record changed: consistent in
    // itself under that key, but not the log the auditor saw.
    let forger = LogSigner::generate(ORIGIN).unwrap();
    let (mut forged, _) = log(&forger, 10);
    forged[2].record.entry.actor.id = "intruder".into();
    let mut tree = MerkleTree::new();
    for (i, stored) in forged.iter_mut().enumerate() {
        let leaf = stored.record.leaf_hash();
        tree.push(leaf);
        stored.leaf_hash = leaf.to_vec();
        let size = i as u64 + 1;
        stored.signature = forger.sign(&Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: tree.root(size).unwrap(),
        });
    }
    let verdict = verify_trusting(&forger, &forged, trusted);
    assert_eq!(broken_at(&verdict).0, 4, "{verdict:?}");
}
