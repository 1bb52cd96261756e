//! Proofs checked as an outside verifier would: with the public key and the proof alone.

use sentinel_audit::domain::{
    checkpoint::LogVerifier,
    merkle::{Hash, verify_consistency, verify_inclusion},
};
use sentinel_contract::audit::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::TestSuite;
use tonic::Code;

use super::{append, entry, stores};

fn hashes(path: &[Vec<u8>]) -> Vec<Hash> {
    path.iter()
        .map(|h| h.as_slice().try_into().unwrap())
        .collect()
}

fn hash(bytes: &[u8]) -> Hash {
    bytes.try_into().unwrap()
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_verify_with_the_public_key_alone() {
    for store in stores() {
        let suite = TestSuite::start(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        let mut client = suite.audit().await;
        let mut records = Vec::new();
        for i in 0..13 {
            records.push(append(&mut client, entry("user-a", &format!("alert-{i}"))).await);
        }
        for (sequence, size) in [(0, 13), (6, 13), (12, 13), (3, 7), (0, 1)] {
            let proof = client
                .prove_inclusion(pb::ProveInclusionRequest {
                    sequence,
                    tree_size: size,
                })
                .await
                .unwrap()
                .into_inner();
            let checkpoint = proof.checkpoint.unwrap();
            let verifier = LogVerifier::from_text(&checkpoint.verifier_key).unwrap();
            let head = verifier
                .open(&checkpoint.signed_note)
                .expect("a checkpoint signed by the log");
            assert_eq!(head.size, size);
            let leaf = hash(&records[sequence as usize].leaf_hash);
            assert_eq!(hash(&proof.leaf_hash), leaf);
            let path = hashes(&proof.path);
            assert!(
                verify_inclusion(sequence, size, &leaf, &path, &head.root),
                "{}",
                store.name()
            );
            // Against a changed root, the same proof fails.
            let mut other = head.root;
            other[0] ^= 0xff;
            assert!(!verify_inclusion(sequence, size, &leaf, &path, &other));
            // A leaf not in the log fails.
            let stranger = hash(&records[(sequence as usize + 1) % 13].leaf_hash);
            assert!(!verify_inclusion(sequence, size, &stranger, &path, &head.root) || size == 1);
        }
        for (first, second) in [(1, 13), (4, 13), (7, 13), (12, 13), (5, 8)] {
            let proof = client
                .prove_consistency(pb::ProveConsistencyRequest {
                    first_size: first,
                    second_size: second,
                })
                .await
                .unwrap()
                .into_inner();
            let first_cp = proof.first.unwrap();
            let second_cp = proof.second.unwrap();
            let verifier = LogVerifier::from_text(&second_cp.verifier_key).unwrap();
            let old = verifier.open(&first_cp.signed_note).unwrap();
            let new = verifier.open(&second_cp.signed_note).unwrap();
            let path = hashes(&proof.path);
            assert!(verify_consistency(
                first, second, &old.root, &new.root, &path
            ));
            // A forked history (another root for the old size) is not consistent.
            let mut forked = old.root;
            forked[31] ^= 1;
            assert!(!verify_consistency(
                first, second, &forked, &new.root, &path
            ));
            // Nor is the proof for a different size.
            assert!(
                !verify_consistency(first, second + 1, &old.root, &new.root, &path) || second == 13
            );
        }
        suite.stop().await;
    }
}

#[tokio::test]
async fn proofs_beyond_the_log_are_refused() {
    let suite = TestSuite::start(
        sentinel_testkit::StoreKind::Sqlite,
        &[ServiceKind::Registry, ServiceKind::Audit],
    )
    .await;
    let mut client = suite.audit().await;
    for i in 0..3 {
        append(&mut client, entry("user-a", &format!("alert-{i}"))).await;
    }
    let status = client
        .prove_inclusion(pb::ProveInclusionRequest {
            sequence: 1,
            tree_size: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .prove_inclusion(pb::ProveInclusionRequest {
            sequence: 5,
            tree_size: 3,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .prove_consistency(pb::ProveConsistencyRequest {
            first_size: 3,
            second_size: 2,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    suite.stop().await;
}

#[tokio::test]
async fn checkpoints_are_published_every_n_records_and_after_t() {
    for store in stores() {
        let (mut config, data) =
            TestSuite::prepare(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        config.audit.checkpoint_every_records = 5;
        config.audit.checkpoint_every_ms = 3_600_000;
        let suite = TestSuite::start_with(config, data).await;
        let mut client = suite.audit().await;
        let none = client
            .latest_checkpoint(pb::LatestCheckpointRequest {})
            .await
            .unwrap_err();
        assert_eq!(none.code(), Code::NotFound);
        for i in 0..12 {
            append(&mut client, entry("user-a", &format!("alert-{i}"))).await;
        }
        let latest = client
            .latest_checkpoint(pb::LatestCheckpointRequest {})
            .await
            .unwrap()
            .into_inner();
        // The first append publishes (no checkpoint yet and the hour since "never" has
        // passed), then every 5 records.
        assert!(
            [5, 6, 10, 11].contains(&latest.tree_size),
            "{}",
            latest.tree_size
        );
        let verifier = LogVerifier::from_text(&latest.verifier_key).unwrap();
        assert_eq!(
            verifier.open(&latest.signed_note).unwrap().size,
            latest.tree_size
        );
        suite.stop().await;

        let (mut config, data) =
            TestSuite::prepare(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        config.audit.checkpoint_every_records = 1_000;
        config.audit.checkpoint_every_ms = 50;
        let suite = TestSuite::start_with(config, data).await;
        let mut client = suite.audit().await;
        for i in 0..3 {
            append(&mut client, entry("user-a", &format!("alert-{i}"))).await;
        }
        let mut size = 0;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            size = client
                .latest_checkpoint(pb::LatestCheckpointRequest {})
                .await
                .map_or(0, |c| c.into_inner().tree_size);
            if size == 3 {
                break;
            }
        }
        assert_eq!(
            size, 3,
            "the timer publishes the head once its time has come"
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn a_proof_is_of_the_content_shown_and_a_changed_record_gets_none() {
    for store in stores() {
        let suite = super::logged(store).await;
        let mut client = suite.audit().await;
        let prove = |sequence| pb::ProveInclusionRequest {
            sequence,
            tree_size: 0,
        };
        let proof = client.prove_inclusion(prove(6)).await.unwrap().into_inner();
        let record = proof.record.expect("the record proved");
        assert_eq!(record.sequence, 6);
        assert_eq!(record.entry.unwrap().actor.unwrap().id, "user-6");
        assert_eq!(record.leaf_hash, proof.leaf_hash);
        // Changed behind the service's back, its stored leaf hash left as it was: no proof.
        sentinel_testkit::audit::tamper(
            suite.store(ServiceKind::Audit),
            "changes the actor of record 6",
        )
        .await;
        let refused = client.prove_inclusion(prove(6)).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{}", store.name());
        assert!(
            refused.message().contains("record 6"),
            "{}",
            refused.message()
        );
        assert!(client.prove_inclusion(prove(5)).await.is_ok());
        suite.stop().await;
    }
}
