//! The audit log through its gRPC API, on SQLite and on a throwaway PostgreSQL: appends and
//! queries, concurrency, proofs an outside verifier checks with the public key alone, the
//! database's own refusal of UPDATE and DELETE, and tampering done behind its back.

mod api;
mod cli;
mod proofs;
mod tamper;
mod trail;

use sentinel_contract::audit::v1 as pb;
use sentinel_testkit::StoreKind;
use sentinel_testkit::stores;

/// A valid entry: user `actor` acknowledged alert `subject`.
fn entry(actor: &str, subject: &str) -> pb::AuditEntry {
    sentinel_testkit::audit::entry(actor, "alert.acknowledged", "alert", subject)
}

/// A suite running the audit service with ten records in its log.
async fn logged(store: StoreKind) -> sentinel_testkit::TestSuite {
    let suite = sentinel_testkit::TestSuite::start(
        store,
        &[
            sentinel_platform::ServiceKind::Registry,
            sentinel_platform::ServiceKind::Audit,
        ],
    )
    .await;
    let mut client = suite.audit().await;
    for i in 0..10 {
        append(
            &mut client,
            entry(&format!("user-{i}"), &format!("alert-{i}")),
        )
        .await;
    }
    suite
}

async fn append(
    client: &mut pb::audit_log_client::AuditLogClient<sentinel_testkit::Authed>,
    entry: pb::AuditEntry,
) -> pb::AuditRecord {
    client
        .append(pb::AppendRequest { entry: Some(entry) })
        .await
        .expect("append")
        .into_inner()
        .record
        .expect("the stored record")
}

async fn verify(
    client: &mut pb::audit_log_client::AuditLogClient<sentinel_testkit::Authed>,
) -> pb::verify_response::Verdict {
    client
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify answers")
        .into_inner()
        .verdict
        .expect("a verdict")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_log_verifies_intact_while_it_is_appended_to() {
    for store in stores() {
        let (mut config, data_dir) = sentinel_testkit::TestSuite::prepare(
            store,
            &[
                sentinel_platform::ServiceKind::Registry,
                sentinel_platform::ServiceKind::Audit,
            ],
        )
        .await;
        // A checkpoint with every record: the race between reading records and checkpoints
        // is as wide as it gets.
        config.audit.checkpoint_every_records = 1;
        let suite = sentinel_testkit::TestSuite::start_with(config, data_dir).await;
        let writer = suite.audit().await;
        let (stop, appending) = keep_appending(writer);
        let mut client = suite.audit().await;
        for round in 0..100 {
            let verdict = verify(&mut client).await;
            assert!(
                matches!(verdict, pb::verify_response::Verdict::Intact(_)),
                "{}: verification {round} of a live, intact log gave {verdict:?}",
                store.name()
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let appended = appending.await.unwrap();
        assert!(
            appended > 100,
            "{}: only {appended} records were appended while verifying",
            store.name()
        );
        suite.stop().await;
    }
}

/// Appends to the log through `writer` until `stop` is set (at most 20,000 records); the task
/// answers how many it appended.
fn keep_appending(
    mut writer: pb::audit_log_client::AuditLogClient<sentinel_testkit::Authed>,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    tokio::task::JoinHandle<u64>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        let mut appended = 0;
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) && appended < 20_000 {
            append(
                &mut writer,
                entry("user-live", &format!("alert-{appended}")),
            )
            .await;
            appended += 1;
        }
        appended
    });
    (stop, task)
}
