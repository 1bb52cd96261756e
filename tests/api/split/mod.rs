//! The Kubernetes manifests as shipped, run as separate processes against a throwaway
//! PostgreSQL (`sentinel_testkit::split`), watched for a minute with the audit log's credential
//! revoked: every process stays bounded in memory and CPU (printed). The device → alert flows in
//! plaintext and under both TLS overlays are scenarios (`tests/features/kubernetes.feature`).

use std::path::Path;

use sentinel_testkit::{
    StoreKind,
    split::{bounded, deploy},
};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_audit_credential_leaves_every_process_bounded_for_a_minute() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let deployed = deploy(Path::new(SENTINEL), "base").await;
    bounded::revoked_audit_credential(
        &deployed.cluster,
        &deployed.secrets,
        &deployed.admin,
        bounded::WATCH,
    )
    .await;
}
