//! What the database refuses, and what verification finds when someone with access to the
//! files or a superuser goes around the refusal.

use sentinel_contract::audit::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    StoreKind, TestSuite,
    audit::{behind_the_guards, forge_append, tampering},
};
use sqlx::Executor;
use tonic::Code;

use super::{entry, logged, stores, verify};

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
            tampering("changes the outcome of record 6"),
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
            tampering("deletes record 4"),
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
            tampering("swaps records 4 and 5"),
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
        forge_append(audit).await;
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
            tampering("deletes every record"),
        )
        .await;
        let (sequence, problem) = broken_at(&suite).await;
        assert_eq!(sequence, 0, "{}", store.name());
        assert!(problem.contains("removed from the end"), "{problem}");
        suite.stop().await;
    }
}
