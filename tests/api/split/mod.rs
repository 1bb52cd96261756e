//! The Kubernetes manifests as shipped, run as separate processes: `sentinel bootstrap`, then
//! `kubectl kustomize`, then each Deployment's container command with its environment and
//! mounted files, several replicas each, against a throwaway PostgreSQL. Devices → readings →
//! alerts → acknowledgement through the Services, with one replica of each service killed
//! (SIGKILL) mid-stream and started again.

mod bounded;
mod cluster;
mod flow;
mod manifests;

use std::path::Path;

use sentinel_testkit::StoreKind;

use cluster::Cluster;

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

/// Replicas a local run starts of a Deployment: what the manifest asks, at most two.
fn local_replicas(container: &manifests::Container) -> usize {
    container.replicas.clamp(1, 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifests_as_shipped_run_split_and_survive_killed_replicas() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let database = StoreKind::Postgres.fresh_database_url().await.unwrap();
    let (rendered, secrets) = manifests::render(Path::new(SENTINEL), work.path(), &database);
    for kind in [
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ServiceAccount",
        "Job",
    ] {
        assert!(
            rendered.kinds.iter().any(|k| k == kind),
            "no {kind} rendered"
        );
    }
    let mut cluster =
        Cluster::start(Path::new(SENTINEL), &rendered, work.path(), local_replicas).await;
    cluster.watch_readiness();
    flow::wait_until(std::time::Duration::from_secs(60), || cluster.all_ready()).await;

    let admin = std::fs::read_to_string(secrets.join("admin.token")).unwrap();
    let outcome = flow::run(&mut cluster, admin.trim()).await;
    println!(
        "split run: {} readings acknowledged, {} alerts raised, {} acknowledged, replicas killed and restarted: {:?}",
        outcome.acknowledged, outcome.raised, outcome.acknowledged_alerts, outcome.killed
    );

    let (code, out) = sentinel_testkit::process::run_to_end(
        Path::new(SENTINEL),
        &[
            "audit".into(),
            "verify".into(),
            "--database-url".into(),
            database.clone(),
            "--public-key".into(),
            secrets.join("audit-signing.pub").display().to_string(),
        ],
    );
    assert_eq!(code, Some(0), "sentinel audit verify: {out}");

    bounded::revoked_audit_credential(&cluster, &secrets, admin.trim()).await;
}
