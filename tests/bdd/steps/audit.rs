//! Steps of the audit log: appends, queries, verification, proofs, tampering, offline tools.

use std::collections::BTreeSet;

use cucumber::{gherkin::Step, given, then, when};
use sentinel_audit::domain::{
    checkpoint::LogVerifier,
    merkle::{Hash, verify_consistency, verify_inclusion},
};
use sentinel_contract::audit::v1::{self as pb, audit_log_client::AuditLogClient};
use sentinel_platform::{
    ServiceKind,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, CallerKind, Role},
    peer::Peer,
};
use sentinel_testkit::{
    TestSuite,
    audit::{as_json, entry, tamper},
    process,
};
use tonic_types::StatusExt;

use crate::world::{SuiteWorld, store};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

async fn client(world: &SuiteWorld) -> AuditLogClient<sentinel_testkit::Authed> {
    suite(world).audit().await
}

fn sequences(list: &str) -> Vec<u64> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect()
}

async fn audit_actions(world: &mut SuiteWorld, count: usize) {
    let mut client = client(world).await;
    for i in 0..count {
        let record = client
            .append(pb::AppendRequest {
                entry: Some(entry(
                    &format!("user-{i}"),
                    "alert.acknowledged",
                    "alert",
                    &format!("alert-{i}"),
                )),
            })
            .await
            .expect("append")
            .into_inner()
            .record
            .expect("a record");
        world.audit.records.push(record);
    }
}

#[given(expr = "the suite runs with the audit service publishing a checkpoint every {int} records")]
async fn audit_with_cadence(world: &mut SuiteWorld, every: u64) {
    let (mut config, data_dir) =
        TestSuite::prepare(store(), &[ServiceKind::Registry, ServiceKind::Audit]).await;
    config.audit.checkpoint_every_records = every;
    config.audit.checkpoint_every_ms = 3_600_000;
    // The auditor's witness file (in the scenario's own directory, so it goes with it).
    let witness = config.data_dir.join("auditor-witness.jsonl");
    config.audit.witness_file = Some(witness);
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[given(expr = "{int} actions have been audited")]
#[when(expr = "{int} actions are audited one after another")]
async fn n_actions(world: &mut SuiteWorld, count: usize) {
    audit_actions(world, count).await;
}

#[when("these actions are audited:")]
async fn these_actions(world: &mut SuiteWorld, step: &Step) {
    let table = step.table.as_ref().expect("a table");
    let mut client = client(world).await;
    for row in table.rows.iter().skip(1) {
        let record = client
            .append(pb::AppendRequest {
                entry: Some(entry(&row[0], &row[1], &row[2], &row[3])),
            })
            .await
            .expect("append")
            .into_inner()
            .record
            .expect("a record");
        world.audit.records.push(record);
    }
}

#[when("an action is audited")]
async fn one_action(world: &mut SuiteWorld) {
    let mut client = client(world).await;
    world.audit.refused = client
        .append(pb::AppendRequest {
            entry: Some(entry("user-z", "alert.acknowledged", "alert", "alert-z")),
        })
        .await
        .err();
}

#[then(expr = "the audited records have the sequences {string} in time order")]
async fn audited_sequences(world: &mut SuiteWorld, list: String) {
    let got: Vec<u64> = world.audit.records.iter().map(|r| r.sequence).collect();
    assert_eq!(got, sequences(&list));
    let times: Vec<(i64, i32)> = world
        .audit
        .records
        .iter()
        .map(|r| r.recorded_at.map(|t| (t.seconds, t.nanos)).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

async fn list(world: &SuiteWorld, request: pb::ListRequest) -> Vec<u64> {
    let mut client = client(world).await;
    let records = client
        .list(request)
        .await
        .expect("list")
        .into_inner()
        .records;
    records.iter().map(|r| r.sequence).collect()
}

#[then(expr = "listing by actor {string} gives the sequences {string}")]
async fn list_by_actor(world: &mut SuiteWorld, actor: String, expected: String) {
    let got = list(
        world,
        pb::ListRequest {
            actor_id: actor,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got, sequences(&expected));
}

#[then(expr = "listing by action {string} gives the sequences {string}")]
async fn list_by_action(world: &mut SuiteWorld, action: String, expected: String) {
    let got = list(
        world,
        pb::ListRequest {
            action,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got, sequences(&expected));
}

#[then(expr = "listing by subject {string} {string} gives the sequences {string}")]
async fn list_by_subject(world: &mut SuiteWorld, kind: String, id: String, expected: String) {
    let request = pb::ListRequest {
        subject: Some(pb::Subject { r#type: kind, id }),
        ..Default::default()
    };
    assert_eq!(list(world, request).await, sequences(&expected));
}

#[then(expr = "record {int} renders as a FHIR AuditEvent with action {string} by agent {string}")]
async fn fhir_rendering(world: &mut SuiteWorld, sequence: u64, action: String, agent: String) {
    let mut client = client(world).await;
    let got = client
        .get(pb::GetRequest { sequence })
        .await
        .expect("get")
        .into_inner();
    let event: serde_json::Value = serde_json::from_str(&got.fhir_audit_event).expect("JSON");
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(event["action"], action.as_str());
    assert_eq!(
        event["agent"][0]["who"]["identifier"]["value"],
        agent.as_str()
    );
    assert_eq!(event["agent"][0]["requestor"], true);
    assert!(event["recorded"].as_str().unwrap().ends_with('Z'));
}

#[when(expr = "an entry by actor {string} with action {string} is appended")]
async fn append_bad(world: &mut SuiteWorld, actor: String, action: String) {
    let mut client = client(world).await;
    world.audit.refused = client
        .append(pb::AppendRequest {
            entry: Some(entry(&actor, &action, "alert", "alert-1")),
        })
        .await
        .err();
}

#[then(expr = "the append is refused as INVALID_ARGUMENT naming {string} and {string}")]
async fn refused_naming(world: &mut SuiteWorld, first: String, second: String) {
    let status = world
        .audit
        .refused
        .as_ref()
        .expect("the append was refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, [first, second]);
}

#[then(regex = r"^the (?:append|action) is refused as UNAVAILABLE$")]
async fn refused_unavailable(world: &mut SuiteWorld) {
    let status = world.audit.refused.as_ref().expect("it was refused");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
}

#[then(expr = "the audit log holds {int} records")]
async fn holds(world: &mut SuiteWorld, count: usize) {
    assert_eq!(list(world, pb::ListRequest::default()).await.len(), count);
}

#[when(expr = "{int} callers each audit {int} actions at once")]
async fn concurrent(world: &mut SuiteWorld, callers: usize, each: usize) {
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let mut client = client(world).await;
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                client
                    .append(pb::AppendRequest {
                        entry: Some(entry(
                            &format!("user-{caller}"),
                            "alert.acknowledged",
                            "alert",
                            &format!("alert-{i}"),
                        )),
                    })
                    .await
                    .expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.expect("caller finished");
    }
}

#[then(expr = "the audit log holds the sequences {int} to {int} without a gap")]
async fn gap_free(world: &mut SuiteWorld, first: u64, last: u64) {
    let mut seen = BTreeSet::new();
    let mut token = String::new();
    loop {
        let mut client = client(world).await;
        let page = client
            .list(pb::ListRequest {
                page: Some(sentinel_contract::common::v1::PageRequest {
                    page_size: 1000,
                    page_token: token,
                }),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        for record in page.records {
            assert!(
                seen.insert(record.sequence),
                "sequence {} twice",
                record.sequence
            );
        }
        token = page.page.unwrap_or_default().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, (first..=last).collect::<BTreeSet<u64>>());
}

#[when("the audit log is verified")]
async fn verified(world: &mut SuiteWorld) {
    let mut client = client(world).await;
    world.audit.verdict = client
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner()
        .verdict;
}

#[then("verification reports the log intact")]
async fn intact_any_size(world: &mut SuiteWorld) {
    assert!(
        matches!(
            world.audit.verdict,
            Some(pb::verify_response::Verdict::Intact(_))
        ),
        "not intact: {:?}",
        world.audit.verdict
    );
}

#[then(expr = "verification reports the log intact with tree size {int}")]
async fn intact(world: &mut SuiteWorld, size: u64) {
    verified(world).await;
    match &world.audit.verdict {
        Some(pb::verify_response::Verdict::Intact(intact)) => {
            assert_eq!(intact.tree_size, size);
            assert_eq!(intact.up_to_sequence, size.saturating_sub(1));
            assert_eq!(intact.head_hash.len(), 32);
        }
        other => panic!("not intact: {other:?}"),
    }
}

#[then(expr = "verification reports the log broken at sequence {int} because {string}")]
async fn broken(world: &mut SuiteWorld, sequence: u64, because: String) {
    match &world.audit.verdict {
        Some(pb::verify_response::Verdict::Broken(broken)) => {
            assert_eq!(broken.sequence, sequence, "{}", broken.problem);
            assert!(broken.problem.contains(&because), "{}", broken.problem);
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

#[when(regex = r"^someone with direct access to the database (.+)$")]
async fn tampered(world: &mut SuiteWorld, how: String) {
    world.audit.tampered = true;
    tamper(suite(world).store(ServiceKind::Audit), &how).await;
}

#[then("the database refuses each of:")]
async fn database_refuses(world: &mut SuiteWorld, step: &Step) {
    use sqlx::Executor;
    let pool = suite(world).store(ServiceKind::Audit).pool();
    let table = step.table.as_ref().expect("a table");
    for row in table.rows.iter().skip(1) {
        let err = pool
            .execute(sqlx::AssertSqlSafe(row[0].clone()))
            .await
            .expect_err(&row[0]);
        assert!(err.to_string().contains("append-only"), "{}: {err}", row[0]);
    }
}

fn hash(bytes: &[u8]) -> Hash {
    bytes.try_into().expect("a 32-byte hash")
}

fn hashes(path: &[Vec<u8>]) -> Vec<Hash> {
    path.iter().map(|h| hash(h)).collect()
}

/// Opens a checkpoint with the verifier key it names, checking the signature.
fn open(checkpoint: &pb::Checkpoint) -> sentinel_audit::domain::checkpoint::Checkpoint {
    let verifier = LogVerifier::from_text(&checkpoint.verifier_key).expect("a verifier key");
    verifier
        .open(&checkpoint.signed_note)
        .expect("signed by the log")
}

async fn signed_checkpoint(
    world: &SuiteWorld,
    size: u64,
) -> sentinel_audit::domain::checkpoint::Checkpoint {
    let mut client = client(world).await;
    let proof = client
        .prove_consistency(pb::ProveConsistencyRequest {
            first_size: size,
            second_size: size,
        })
        .await
        .expect("a checkpoint")
        .into_inner();
    open(&proof.second.expect("a checkpoint"))
}

#[when(expr = "a client asks for proof that record {int} is in the log of size {int}")]
async fn ask_inclusion(world: &mut SuiteWorld, sequence: u64, size: u64) {
    let mut client = client(world).await;
    match client
        .prove_inclusion(pb::ProveInclusionRequest {
            sequence,
            tree_size: size,
        })
        .await
    {
        Ok(proof) => world.audit.inclusion = Some(proof.into_inner()),
        Err(status) => world.audit.refused = Some(status),
    }
}

#[then(expr = "the proof is refused as FAILED_PRECONDITION naming record {int}")]
async fn proof_refused(world: &mut SuiteWorld, sequence: u64) {
    assert!(world.audit.inclusion.is_none(), "a proof was given");
    let status = world.audit.refused.as_ref().expect("the proof was refused");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains(&format!("record {sequence}")),
        "{}",
        status.message()
    );
}

fn inclusion_holds(proof: &pb::InclusionProof, size: u64, root: &Hash) -> bool {
    verify_inclusion(
        proof.sequence,
        size,
        &hash(&proof.leaf_hash),
        &hashes(&proof.path),
        root,
    )
}

#[then(
    expr = "the proof verifies against the signed checkpoint of size {int} with the log's public key"
)]
async fn inclusion_verifies(world: &mut SuiteWorld, size: u64) {
    let proof = world.audit.inclusion.as_ref().expect("a proof");
    let head = open(proof.checkpoint.as_ref().expect("its checkpoint"));
    assert_eq!(head.size, size);
    // The leaf is the record's own hash, as the log returned it when appended.
    let record = &world.audit.records[proof.sequence as usize];
    assert_eq!(proof.leaf_hash, record.leaf_hash);
    assert!(inclusion_holds(proof, size, &head.root));
}

#[then("the proof fails against a changed root")]
async fn inclusion_changed_root(world: &mut SuiteWorld) {
    let proof = world.audit.inclusion.as_ref().expect("a proof");
    let mut head = open(proof.checkpoint.as_ref().expect("its checkpoint"));
    head.root[7] ^= 0x20;
    assert!(!inclusion_holds(proof, head.size, &head.root));
}

#[then(expr = "the proof fails against the signed checkpoint of size {int}")]
async fn inclusion_other_size(world: &mut SuiteWorld, size: u64) {
    let other = signed_checkpoint(world, size).await;
    let proof = world.audit.inclusion.as_ref().expect("a proof");
    assert!(!inclusion_holds(proof, other.size, &other.root));
}

#[when(
    expr = "a client asks for proof that the log of size {int} is a prefix of the log of size {int}"
)]
async fn ask_consistency(world: &mut SuiteWorld, first: u64, second: u64) {
    let mut client = client(world).await;
    world.audit.consistency = Some(
        client
            .prove_consistency(pb::ProveConsistencyRequest {
                first_size: first,
                second_size: second,
            })
            .await
            .expect("a proof")
            .into_inner(),
    );
}

fn consistency_parts(
    world: &SuiteWorld,
) -> (
    sentinel_audit::domain::checkpoint::Checkpoint,
    sentinel_audit::domain::checkpoint::Checkpoint,
    Vec<Hash>,
) {
    let proof = world.audit.consistency.as_ref().expect("a proof");
    (
        open(proof.first.as_ref().expect("the older checkpoint")),
        open(proof.second.as_ref().expect("the newer checkpoint")),
        hashes(&proof.path),
    )
}

#[then("the proof verifies against both signed checkpoints with the log's public key")]
async fn consistency_verifies(world: &mut SuiteWorld) {
    let (old, new, path) = consistency_parts(world);
    assert!(verify_consistency(
        old.size, new.size, &old.root, &new.root, &path
    ));
}

#[then("the proof fails against a changed root of the older log")]
async fn consistency_fork(world: &mut SuiteWorld) {
    let (mut old, new, path) = consistency_parts(world);
    old.root[0] ^= 1;
    assert!(!verify_consistency(
        old.size, new.size, &old.root, &new.root, &path
    ));
}

#[then(expr = "the proof fails against the signed checkpoint of size {int} as the newer log")]
async fn consistency_other_size(world: &mut SuiteWorld, size: u64) {
    let other = signed_checkpoint(world, size).await;
    let (old, _, path) = consistency_parts(world);
    assert!(!verify_consistency(
        old.size,
        other.size,
        &old.root,
        &other.root,
        &path
    ));
}

#[then(
    expr = "the latest checkpoint is a signed note for size {int} that verifies with the log's public key"
)]
async fn latest_checkpoint(world: &mut SuiteWorld, size: u64) {
    let mut client = client(world).await;
    let latest = client
        .latest_checkpoint(pb::LatestCheckpointRequest {})
        .await
        .expect("a checkpoint")
        .into_inner();
    assert_eq!(latest.tree_size, size);
    let head = open(&latest);
    assert_eq!(head.size, size);
    assert!(
        latest.signed_note.contains("\n\n\u{2014} "),
        "{}",
        latest.signed_note
    );
}

fn run(args: &[String]) -> (Option<i32>, String) {
    process::run_to_end(std::path::Path::new(SENTINEL), args)
}

fn public_key(world: &SuiteWorld) -> String {
    suite(world)
        .data_dir()
        .join("audit-signing.pub")
        .display()
        .to_string()
}

fn store_flags(world: &SuiteWorld) -> Vec<String> {
    process::store_flags(suite(world).config())
}

#[when("an auditor runs sentinel audit verify on the store with the log's public key")]
async fn auditor_verifies_store(world: &mut SuiteWorld) {
    let mut args = vec![
        "audit".into(),
        "verify".into(),
        "--public-key".into(),
        public_key(world),
    ];
    args.extend(store_flags(world));
    world.audit.command = Some(run(&args));
}

/// `sentinel audit verify` of the store, or of an export made of it to `file`.
fn verify_command(world: &SuiteWorld, export: Option<&std::path::Path>) -> Vec<Vec<String>> {
    let key = public_key(world);
    let Some(file) = export else {
        let mut verify = vec!["audit".into(), "verify".into(), "--public-key".into(), key];
        verify.extend(store_flags(world));
        return vec![verify];
    };
    let file = file.display().to_string();
    let mut export = vec![
        "audit".into(),
        "export".into(),
        "--out".into(),
        file.clone(),
        "--public-key".into(),
        key.clone(),
    ];
    export.extend(store_flags(world));
    let verify = vec![
        "audit".into(),
        "verify".into(),
        "--public-key".into(),
        key,
        "--export".into(),
        file,
    ];
    vec![export, verify]
}

/// Runs `commands` in order, stopping at the first that fails: the last one's outcome.
fn run_all(commands: &[Vec<String>]) -> (Option<i32>, String) {
    let mut outcome = (None, String::new());
    for command in commands {
        outcome = run(command);
        if outcome.0 != Some(0) {
            break;
        }
    }
    outcome
}

#[when("an auditor exports the log and verifies the export with the log's public key")]
async fn auditor_verifies_export(world: &mut SuiteWorld) {
    let file = suite(world).data_dir().join("audit-export.jsonl");
    world.audit.command = Some(run_all(&verify_command(world, Some(&file))));
    world.audit.export = Some(file);
}

#[when(
    expr = "an auditor verifies the store and an export of it {int} times while actions are audited"
)]
async fn verify_while_appending(world: &mut SuiteWorld, rounds: usize) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let appending = {
        let stop = stop.clone();
        let mut client = client(world).await;
        tokio::spawn(async move {
            let mut appended = 0_usize;
            // Bounded, and paced so each verification reads a log in the hundreds.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && appended < 5_000 {
                let live = entry(
                    "user-live",
                    "alert.acknowledged",
                    "alert",
                    &format!("alert-{appended}"),
                );
                client
                    .append(pb::AppendRequest { entry: Some(live) })
                    .await
                    .expect("append");
                appended += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            appended
        })
    };
    let file = suite(world).data_dir().join("live-export.jsonl");
    let checks = [
        verify_command(world, None),
        verify_command(world, Some(&file)),
    ];
    let mut outcomes = Vec::new();
    for _ in 0..rounds {
        for commands in &checks {
            let commands = commands.clone();
            let outcome = tokio::task::spawn_blocking(move || run_all(&commands))
                .await
                .expect("the command ran");
            outcomes.push(outcome);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let appended = appending.await.expect("the appender");
    assert!(
        appended > rounds,
        "only {appended} actions audited meanwhile"
    );
    world.audit.outcomes = outcomes;
}

#[given(
    regex = r"^the auditor keeps (the latest signed checkpoint|the tree size and head hash verify reports|the witness file the service writes)$"
)]
async fn auditor_keeps_head(world: &mut SuiteWorld, how: String) {
    world.audit.trusted_note = client(world)
        .await
        .latest_checkpoint(pb::LatestCheckpointRequest {})
        .await
        .expect("a checkpoint")
        .into_inner()
        .signed_note;
    world.audit.kept = if how.contains("witness") {
        let file = suite(world)
            .config()
            .audit
            .witness_file
            .clone()
            .expect("a witness file");
        let witnessed = std::fs::read_to_string(&file).expect("checkpoints witnessed");
        assert!(witnessed.lines().count() >= 3, "{witnessed}");
        vec!["--trusted-checkpoint".into(), file.display().to_string()]
    } else if how.contains("signed") {
        let file = suite(world).data_dir().join("kept-checkpoint.note");
        std::fs::write(&file, &world.audit.trusted_note).unwrap();
        vec!["--trusted-checkpoint".into(), file.display().to_string()]
    } else {
        let (code, report) = run_all(&verify_command(world, None));
        assert_eq!(code, Some(0), "{report}");
        // "intact: N records, tree size N, head hash H"
        let size = report
            .split("tree size ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .expect("a tree size");
        let root = report
            .split("head hash ")
            .nth(1)
            .map(str::trim)
            .expect("a head hash");
        vec![
            "--trusted-size".into(),
            size.to_owned(),
            "--trusted-root".into(),
            root.to_owned(),
        ]
    };
}

#[when("an auditor runs sentinel audit verify on the store against the head they kept")]
async fn auditor_verifies_against_kept(world: &mut SuiteWorld) {
    let mut command = verify_command(world, None).remove(0);
    command.extend(world.audit.kept.clone());
    world.audit.command = Some(run(&command));
}

#[when(expr = "a client saves the proof that record {int} is in the log as JSON")]
async fn save_inclusion_proof(world: &mut SuiteWorld, sequence: u64) {
    let proof = client(world)
        .await
        .prove_inclusion(pb::ProveInclusionRequest {
            sequence,
            tree_size: 0,
        })
        .await
        .expect("a proof")
        .into_inner();
    let file = suite(world).data_dir().join("inclusion-proof.json");
    std::fs::write(&file, as_json("sentinel.audit.v1.InclusionProof", &proof)).unwrap();
    world.audit.export = Some(file);
}

#[when("an auditor runs sentinel audit verify-proof on it with the log's public key")]
async fn auditor_verifies_proof(world: &mut SuiteWorld) {
    let file = world.audit.export.clone().expect("a saved proof");
    world.audit.command = Some(run(&[
        "audit".into(),
        "verify-proof".into(),
        "--public-key".into(),
        public_key(world),
        "--inclusion".into(),
        file.display().to_string(),
    ]));
}

#[when(expr = "the saved proof's record is changed from {string} to {string} and checked again")]
async fn alter_proof(world: &mut SuiteWorld, from: String, to: String) {
    let file = world.audit.export.clone().expect("a saved proof");
    let json = std::fs::read_to_string(&file).unwrap();
    assert!(json.contains(&from), "{json}");
    std::fs::write(&file, json.replace(&from, &to)).unwrap();
    auditor_verifies_proof(world).await;
}

#[then(expr = "every verification exits with status 0 and reports {string}")]
async fn every_verification(world: &mut SuiteWorld, report: String) {
    assert!(!world.audit.outcomes.is_empty());
    for (round, (code, stdout)) in world.audit.outcomes.iter().enumerate() {
        assert_eq!(*code, Some(0), "verification {round}: {stdout}");
        assert!(
            stdout.starts_with(&report),
            "verification {round}: {stdout}"
        );
    }
}

#[when(expr = "the export's record {int} is altered and the export verified again")]
async fn alter_export(world: &mut SuiteWorld, sequence: usize) {
    let file = world.audit.export.clone().expect("an export");
    let mut lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // Line 0 is the header; record n is line n + 1.
    let line = &mut lines[sequence + 1];
    *line = line.replace("alert.acknowledged", "alert.resolved");
    std::fs::write(&file, lines.join("\n")).unwrap();
    world.audit.command = Some(run(&[
        "audit".into(),
        "verify".into(),
        "--public-key".into(),
        public_key(world),
        "--export".into(),
        file.display().to_string(),
    ]));
}

#[then(expr = "it exits with status {int} and reports {string}")]
async fn command_reports(world: &mut SuiteWorld, status: i32, report: String) {
    let (code, stdout) = world.audit.command.as_ref().expect("a command ran");
    assert_eq!(*code, Some(status), "{stdout}");
    assert!(stdout.starts_with(&report), "{stdout}");
}

#[when(expr = "the suite starts the audit service with the signing key file {string}")]
async fn start_with_key_file(world: &mut SuiteWorld, file: String) {
    let (mut config, data_dir) =
        TestSuite::prepare(store(), &[ServiceKind::Registry, ServiceKind::Audit]).await;
    config.audit.signing_key_file = Some(data_dir.path().join(file));
    world.audit.start_error = match sentinel::Suite::start(&config).await {
        Ok(_) => None,
        Err(err) => Some(err.to_string()),
    };
}

#[then(expr = "it refuses to start naming {string}")]
async fn refuses_to_start(world: &mut SuiteWorld, name: String) {
    let error = world
        .audit
        .start_error
        .as_ref()
        .expect("the suite refused to start");
    assert!(error.contains(&name), "{error}");
    assert!(!error.contains('\n'), "{error}");
}

#[then("the data directory holds an audit signing key only its owner can read")]
async fn key_generated(world: &mut SuiteWorld) {
    use std::os::unix::fs::PermissionsExt;
    let dir = world
        .scratch
        .as_ref()
        .expect("the binary's data dir")
        .path();
    let mode = std::fs::metadata(dir.join("audit-signing.key"))
        .expect("a key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[then("once stopped, its log showed the audit log's public key")]
async fn key_printed(world: &mut SuiteWorld) {
    let dir = world
        .scratch
        .as_ref()
        .expect("the binary's data dir")
        .path()
        .to_owned();
    let public = std::fs::read_to_string(dir.join("audit-signing.pub")).expect("a public key file");
    let Some(sentinel_testkit::process::Started::Serving(process)) = world.started.take() else {
        panic!("sentinel is not serving");
    };
    let (status, log) = process.terminate().await;
    assert!(status.success());
    assert!(
        log.contains(public.trim()),
        "public key not in the log:\n{log}"
    );
}

fn approver() -> Caller {
    Caller {
        kind: CallerKind::User,
        id: "user-7f3a".into(),
        roles: vec![Role::RuleApprover],
        credential_id: String::new(),
    }
}

#[when(expr = "the rules service records that user {string} approved rule {string}")]
async fn trail_records(world: &mut SuiteWorld, user: String, rule: String) {
    let trail = suite(world).running().peers().trail(ServiceKind::Rules);
    let caller = Caller {
        id: user,
        ..approver()
    };
    trail
        .record(
            &caller,
            Role::RuleApprover,
            AuditEvent::success(Action::RuleApproved, "rule", rule),
        )
        .await
        .expect("recorded");
}

#[then(expr = "the audit log's record {int} names actor {string} as {string} in service {string}")]
async fn record_names(
    world: &mut SuiteWorld,
    sequence: u64,
    actor: String,
    role: String,
    service: String,
) {
    let mut client = client(world).await;
    let entry = client
        .get(pb::GetRequest { sequence })
        .await
        .expect("get")
        .into_inner()
        .record
        .and_then(|r| r.entry)
        .expect("an entry");
    let who = entry.actor.expect("an actor");
    assert_eq!((who.id, who.role, entry.service), (actor, role, service));
}

#[when("the rules service records an action while the audit log is unreachable")]
async fn trail_unreachable(world: &mut SuiteWorld) {
    let dead = tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    let trail = AuditTrail::new(Peer::new(dead, "").expect("a peer"), ServiceKind::Rules);
    let outcome = trail
        .record(
            &approver(),
            Role::RuleApprover,
            AuditEvent::success(Action::RuleApproved, "rule", "rule-02"),
        )
        .await;
    world.audit.refused = outcome.err().map(tonic::Status::from);
}
