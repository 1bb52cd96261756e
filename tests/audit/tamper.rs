//! What the database refuses, and what verification finds when someone with access to the
//! files or a superuser goes around the refusal.

use sentinel_contract::audit::v1 as pb;
use sentinel_platform::{Backend, ServiceKind, Store};
use sentinel_testkit::{StoreKind, TestSuite};
use sqlx::Executor;
use tonic::Code;

use crate::{append, entry, stores, verify};

/// A suite with ten audit records in it.
async fn logged(store: StoreKind) -> TestSuite {
    let suite = TestSuite::start(store, &[ServiceKind::Audit]).await;
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

#[tokio::test]
async fn the_database_refuses_update_and_delete_of_audit_records() {
    for store in stores() {
        let suite = logged(store).await;
        let pool = suite.store(ServiceKind::Audit).pool();
        for statement in [
            "UPDATE audit_records SET actor_id = 'someone-else' WHERE sequence = 3",
            "DELETE FROM audit_records WHERE sequence = 3",
            "UPDATE audit_checkpoints SET note = 'x'",
            "DELETE FROM audit_checkpoints",
        ] {
            let err = pool.execute(statement).await.expect_err(statement);
            assert!(
                err.to_string().contains("append-only"),
                "{statement} on {}: {err}",
                store.name()
            );
        }
        if store == StoreKind::Postgres {
            let err = pool.execute("TRUNCATE audit_records").await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        let mut client = suite.audit().await;
        assert!(matches!(
            verify(&mut client).await,
            pb::verify_response::Verdict::Intact(_)
        ));
        suite.stop().await;
    }
}

/// Runs `statements` with the append-only guards out of the way, as an attacker with the
/// SQLite file or a PostgreSQL superuser could.
pub(crate) async fn behind_the_guards(store: &Store, statements: &[&str]) {
    let mut conn = store.pool().acquire().await.unwrap();
    match store.backend() {
        Backend::Sqlite => {
            for trigger in [
                "audit_records_no_update",
                "audit_records_no_delete",
                "audit_checkpoints_no_update",
                "audit_checkpoints_no_delete",
            ] {
                conn.execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
                    .await
                    .unwrap();
            }
        }
        Backend::Postgres => {
            conn.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
                .await
                .unwrap();
            conn.execute("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER")
                .await
                .unwrap();
        }
    }
    for statement in statements {
        conn.execute(sqlx::AssertSqlSafe(statement.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

async fn broken_at(suite: &TestSuite) -> (u64, String) {
    let mut client = suite.audit().await;
    match verify(&mut client).await {
        pb::verify_response::Verdict::Broken(broken) => (broken.sequence, broken.problem),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

#[tokio::test]
async fn verify_names_the_first_record_changed_behind_the_databases_back() {
    for store in stores() {
        let suite = logged(store).await;
        behind_the_guards(
            suite.store(ServiceKind::Audit),
            &["UPDATE audit_records SET outcome = 'failure', reason = 'denied' WHERE sequence = 6"],
        )
        .await;
        let (sequence, problem) = broken_at(&suite).await;
        assert_eq!(sequence, 6, "{}", store.name());
        assert!(problem.contains("a field was changed"), "{problem}");
        suite.stop().await;
    }
}

#[tokio::test]
async fn verify_names_a_deleted_record() {
    for store in stores() {
        let suite = logged(store).await;
        behind_the_guards(
            suite.store(ServiceKind::Audit),
            &["DELETE FROM audit_records WHERE sequence = 4"],
        )
        .await;
        let (sequence, problem) = broken_at(&suite).await;
        assert_eq!(sequence, 4, "{}", store.name());
        assert!(problem.contains("record missing"), "{problem}");
        suite.stop().await;
    }
}

#[tokio::test]
async fn verify_names_two_swapped_records() {
    for store in stores() {
        let suite = logged(store).await;
        behind_the_guards(
            suite.store(ServiceKind::Audit),
            &[
                "UPDATE audit_records SET sequence = -1 WHERE sequence = 4",
                "UPDATE audit_records SET sequence = 4 WHERE sequence = 5",
                "UPDATE audit_records SET sequence = 5 WHERE sequence = -1",
            ],
        )
        .await;
        let (sequence, _) = broken_at(&suite).await;
        assert_eq!(sequence, 4, "{}", store.name());
        suite.stop().await;
    }
}

#[tokio::test]
async fn a_record_forged_without_the_key_is_found_and_appends_stop() {
    for store in stores() {
        let suite = logged(store).await;
        let audit = suite.store(ServiceKind::Audit);
        // Copy record 9 as a new record 10: a well-formed row, but no signature of the log's.
        behind_the_guards(
            audit,
            &["INSERT INTO audit_records (sequence, recorded_at, actor_kind, actor_id, actor_role, \
               action, subject_type, subject_id, outcome, reason, service, trace_id, detail, \
               leaf_hash, signature) \
               SELECT 10, recorded_at, actor_kind, 'intruder', actor_role, action, subject_type, \
               subject_id, outcome, reason, service, trace_id, detail, leaf_hash, signature \
               FROM audit_records WHERE sequence = 9"],
        )
        .await;
        let (sequence, _) = broken_at(&suite).await;
        assert_eq!(sequence, 10, "{}", store.name());

        // The service will not append onto a history it did not sign: fail closed.
        let mut client = suite.audit().await;
        let refused = client
            .append(pb::AppendRequest {
                entry: Some(entry("user-z", "alert-z")),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
        assert!(
            refused.message().contains("not stored"),
            "{}",
            refused.message()
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn records_removed_from_the_end_are_found_by_the_checkpoint() {
    for store in stores() {
        let suite = logged(store).await;
        behind_the_guards(
            suite.store(ServiceKind::Audit),
            &["DELETE FROM audit_records WHERE sequence >= 0"],
        )
        .await;
        let (sequence, problem) = broken_at(&suite).await;
        assert_eq!(sequence, 0, "{}", store.name());
        assert!(problem.contains("removed from the end"), "{problem}");
        suite.stop().await;
    }
}
