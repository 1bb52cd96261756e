//! The device registry and caller identity through the gRPC API, on SQLite and PostgreSQL.

// A test binary: helpers panic to fail the test that called them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod access;
mod bindings;
mod devices;
mod logs;

use sentinel_platform::ServiceKind;
use sentinel_testkit::{StoreKind, TestSuite};

fn stores() -> impl Iterator<Item = StoreKind> {
    StoreKind::ALL.into_iter().filter(|store| store.available())
}

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
