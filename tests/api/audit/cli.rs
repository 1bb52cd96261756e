//! `sentinel audit verify` and `export`, as an auditor runs them: with the public key alone.

use std::path::Path;

use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    StoreKind, TestSuite,
    audit::{as_json, tamper},
    process::{run_to_end, store_flags},
};

use super::{keep_appending, logged, stores};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

fn run(args: &[&str]) -> (Option<i32>, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    run_to_end(Path::new(SENTINEL), &args)
}

/// `sentinel audit <command> <args> <the suite's store flags>`.
fn on_store(suite: &TestSuite, command: &[&str]) -> (Option<i32>, String) {
    let mut args: Vec<String> = ["audit"]
        .iter()
        .chain(command)
        .map(|a| (*a).to_owned())
        .collect();
    args.extend(store_flags(suite.config()));
    run_to_end(Path::new(SENTINEL), &args)
}

fn public_key(suite: &TestSuite) -> String {
    suite
        .data_dir()
        .join("audit-signing.pub")
        .display()
        .to_string()
}

/// Exports the suite's log as JSON lines to `file`.
fn export(suite: &TestSuite, key: &str, file: &Path) {
    let (code, out) = on_store(
        suite,
        &[
            "export",
            "--out",
            &file.display().to_string(),
            "--public-key",
            key,
        ],
    );
    assert_eq!(code, Some(0), "{out}");
}

fn verify_export(key: &str, file: &Path) -> (Option<i32>, String) {
    run(&[
        "audit",
        "verify",
        "--public-key",
        key,
        "--export",
        &file.display().to_string(),
    ])
}

#[tokio::test]
async fn verify_passes_an_intact_store_and_its_export() {
    for store in stores() {
        let suite = logged(store).await;
        let key = public_key(&suite);
        let (code, out) = on_store(&suite, &["verify", "--public-key", &key]);
        assert_eq!(code, Some(0), "{}: {out}", store.name());
        assert!(out.starts_with("intact: 10 records, tree size 10"), "{out}");

        let file = suite.data_dir().join("audit.jsonl");
        export(&suite, &key, &file);
        let (code, out) = verify_export(&key, &file);
        assert_eq!(code, Some(0), "{out}");

        // The FHIR export is one AuditEvent per record.
        let fhir = suite.data_dir().join("audit.ndjson");
        let (code, _) = on_store(
            &suite,
            &[
                "export",
                "--format",
                "fhir",
                "--out",
                &fhir.display().to_string(),
            ],
        );
        assert_eq!(code, Some(0));
        let events = std::fs::read_to_string(&fhir).unwrap();
        assert_eq!(events.lines().count(), 10);
        for line in events.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["resourceType"], "AuditEvent");
        }
        suite.stop().await;
    }
}

#[tokio::test]
async fn verify_fails_naming_the_sequence_on_each_tampering_of_a_store() {
    let tamperings = [
        ("changes the actor of record 6", 6),
        ("deletes record 4", 4),
        ("swaps records 4 and 5", 4),
        ("appends a record forged without the key", 10),
        ("deletes every record", 0),
    ];
    for store in stores() {
        for (how, sequence) in tamperings {
            let suite = logged(store).await;
            tamper(suite.store(ServiceKind::Audit), how).await;
            let (code, out) = on_store(&suite, &["verify", "--public-key", &public_key(&suite)]);
            assert_eq!(code, Some(1), "{how} on {}", store.name());
            assert!(
                out.starts_with(&format!("BROKEN at sequence {sequence}:")),
                "{how} on {}: {out}",
                store.name()
            );
            suite.stop().await;
        }
    }
}

#[tokio::test]
async fn verify_fails_naming_the_sequence_on_each_tampering_of_an_export() {
    let suite = logged(StoreKind::Sqlite).await;
    let key = public_key(&suite);
    let file = suite.data_dir().join("audit.jsonl");
    export(&suite, &key, &file);
    let original: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // Line 0 is the header; line n+1 is record n.
    type Tampering = Box<dyn Fn(&mut Vec<String>)>;
    let tamperings: Vec<(&str, Tampering, u64)> = vec![
        (
            "modified field",
            Box::new(|lines| lines[4] = lines[4].replace("user-3", "user-X")),
            3,
        ),
        (
            "deleted record",
            Box::new(|lines| {
                lines.remove(6);
            }),
            5,
        ),
        ("swapped records", Box::new(|lines| lines.swap(3, 4)), 2),
        (
            // Readable fields beside the hashed ones are checked against them.
            "readable time changed",
            Box::new(|lines| {
                let recorded =
                    serde_json::from_str::<serde_json::Value>(&lines[5]).unwrap()["recorded"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                lines[5] = lines[5].replace(&recorded, "2020-01-01T00:00:00Z");
            }),
            4,
        ),
        (
            "reason given to a success",
            Box::new(|lines| {
                lines[7] =
                    lines[7].replace("\"reason\":\"\"", "\"reason\":\"overridden by admin\"");
            }),
            6,
        ),
        (
            "forged append",
            Box::new(|lines| {
                let forged = lines[10]
                    .replace("\"sequence\":9", "\"sequence\":10")
                    .replace("user-9", "intruder");
                lines.insert(11, forged);
            }),
            10,
        ),
    ];
    let tampered = suite.data_dir().join("tampered.jsonl");
    for (name, tamper, sequence) in tamperings {
        let mut lines = original.clone();
        tamper(&mut lines);
        std::fs::write(&tampered, lines.join("\n")).unwrap();
        let (code, out) = verify_export(&key, &tampered);
        assert_eq!(code, Some(1), "{name} passed");
        assert!(
            out.starts_with(&format!("BROKEN at sequence {sequence}:")),
            "{name}: {out}"
        );
    }
    // The wrong key verifies nothing.
    let other =
        sentinel_audit::domain::checkpoint::LogSigner::generate("sentinel.local/audit").unwrap();
    let (code, out) = verify_export(&other.verifier().to_text(), &file);
    assert_eq!(code, Some(1));
    assert!(out.starts_with("BROKEN at sequence 0:"), "{out}");
    suite.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_log_exports_whole_and_verifies_intact_while_it_is_appended_to() {
    for store in stores() {
        let (mut config, data_dir) =
            TestSuite::prepare(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        // A checkpoint with every record: an export that read its checkpoints apart from its
        // records would hold a checkpoint over records it does not have.
        config.audit.checkpoint_every_records = 1;
        let suite = TestSuite::start_with(config, data_dir).await;
        let (stop, appending) = keep_appending(suite.audit().await);
        let key = public_key(&suite);
        let file = suite.data_dir().join("live.jsonl");
        for round in 0..20 {
            let (code, out) = on_store(&suite, &["verify", "--public-key", &key]);
            assert_eq!(
                code,
                Some(0),
                "{}: verification {round}: {out}",
                store.name()
            );
            export(&suite, &key, &file);
            let (code, out) = verify_export(&key, &file);
            assert_eq!(code, Some(0), "{}: export {round}: {out}", store.name());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(appending.await.unwrap() > 20, "{}", store.name());
        suite.stop().await;
    }
}

fn verify_proof(key: &str, kind: &str, json: &str, file: &Path) -> (Option<i32>, String) {
    std::fs::write(file, json).unwrap();
    run(&[
        "audit",
        "verify-proof",
        "--public-key",
        key,
        kind,
        &file.display().to_string(),
    ])
}

#[tokio::test]
async fn verify_proof_checks_a_proof_offline_from_the_record_it_carries() {
    use sentinel_contract::audit::v1 as pb;
    for store in stores() {
        let suite = logged(store).await;
        let key = public_key(&suite);
        let file = suite.data_dir().join("proof.json");
        let mut client = suite.audit().await;
        let inclusion = client
            .prove_inclusion(pb::ProveInclusionRequest {
                sequence: 4,
                tree_size: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let json = as_json("sentinel.audit.v1.InclusionProof", &inclusion);
        let (code, out) = verify_proof(&key, "--inclusion", &json, &file);
        assert_eq!(code, Some(0), "{}: {out}", store.name());
        assert!(
            out.starts_with("valid: record 4 is in the log of size 10"),
            "{out}"
        );
        // The record's content changed, its leaf hash left as it was: the re-hashed record is
        // not in the log, whatever the proof's leaf hash field says.
        let forged = json.replace("user-4", "user-X");
        assert_ne!(forged, json);
        let (code, out) = verify_proof(&key, "--inclusion", &forged, &file);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.starts_with("INVALID: record 4 as given is not in the log"),
            "{out}"
        );
        // Another log's key verifies nothing.
        let other = sentinel_audit::domain::checkpoint::LogSigner::generate("sentinel.local/audit")
            .unwrap()
            .verifier()
            .to_text();
        let (code, out) = verify_proof(&other, "--inclusion", &json, &file);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.starts_with("INVALID: the checkpoint is not signed"),
            "{out}"
        );

        let consistency = client
            .prove_consistency(pb::ProveConsistencyRequest {
                first_size: 3,
                second_size: 10,
            })
            .await
            .unwrap()
            .into_inner();
        let json = as_json("sentinel.audit.v1.ConsistencyProof", &consistency);
        let (code, out) = verify_proof(&key, "--consistency", &json, &file);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.starts_with("valid: the log of size 3 is a prefix of the log of size 10"));
        // A path hash altered.
        let mut bent = consistency.clone();
        bent.path[0][0] ^= 0xff;
        let json = as_json("sentinel.audit.v1.ConsistencyProof", &bent);
        let (code, out) = verify_proof(&key, "--consistency", &json, &file);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.starts_with("INVALID: the log of size 3 is not a prefix"),
            "{out}"
        );
        suite.stop().await;
    }
}
