//! The device registry and caller identity through the gRPC API, on SQLite and PostgreSQL.

mod access;
mod bindings;
mod devices;
mod logs;
mod sign_in;

use sentinel_platform::ServiceKind;
use sentinel_testkit::stores;
use sentinel_testkit::{StoreKind, TestSuite};

async fn suite(store: StoreKind) -> TestSuite {
    TestSuite::start(store, &[ServiceKind::Registry, ServiceKind::Audit]).await
}

/// The audit records about `subject_id`, as (action, actor, outcome reason).
async fn audited(suite: &TestSuite, subject_id: &str) -> Vec<(String, String, String)> {
    sentinel_testkit::audit::about(suite, subject_id)
        .await
        .into_iter()
        .map(|e| {
            (
                e.action,
                e.actor.map(|a| a.id).unwrap_or_default(),
                e.outcome.map(|o| o.reason).unwrap_or_default(),
            )
        })
        .collect()
}
