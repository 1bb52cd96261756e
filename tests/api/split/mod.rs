//! The Kubernetes manifests as shipped, run as separate processes: `sentinel bootstrap`, then
//! `kubectl kustomize`, then each Deployment's container command with its environment and
//! mounted files, several replicas each, against a throwaway PostgreSQL. Devices → readings →
//! alerts → acknowledgement through the Services, with one replica of each service killed
//! (SIGKILL) mid-stream and started again.

mod bounded;
mod cluster;
mod flow;
mod manifests;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use sentinel_testkit::{StoreKind, tls::Pki};
use tonic::transport::ClientTlsConfig;

use cluster::Cluster;

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

/// Replicas a local run starts of a Deployment: what the manifest asks, at most two.
fn local_replicas(container: &manifests::Container) -> usize {
    container.replicas.clamp(1, 2)
}

/// The name every service's certificate carries (`tls.server_name` in the TLS overlays).
const SERVER_NAME: &str = "sentinel.sentinel.svc";

/// A split deployment of one variant of the manifests, running and ready.
struct Deployed {
    _work: tempfile::TempDir,
    database: String,
    secrets: PathBuf,
    cluster: Cluster,
    admin: String,
    /// How clients reach the Services (TLS overlays).
    tls: Option<ClientTlsConfig>,
}

/// Renders `variant` with `pki`'s certificates as the Secret `sentinel-tls`, runs it against a
/// fresh database and waits until every replica is ready.
async fn deploy(variant: &str, pki: Option<&Pki>, mutual: bool) -> Deployed {
    let work = tempfile::tempdir().unwrap();
    let database = StoreKind::Postgres.fresh_database_url().await.unwrap();
    let mut external = manifests::External::new();
    external.insert(
        "sentinel-db-app".into(),
        [("uri".to_owned(), database.clone().into_bytes())].into(),
    );
    if let Some(pki) = pki {
        external.insert(
            "sentinel-tls".into(),
            [
                ("tls.crt".to_owned(), pki.cert.clone().into_bytes()),
                ("tls.key".to_owned(), pki.key.clone().into_bytes()),
                ("ca.crt".to_owned(), pki.ca.clone().into_bytes()),
            ]
            .into(),
        );
    }
    let (rendered, secrets) =
        manifests::render(Path::new(SENTINEL), work.path(), variant, external);
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
    let cluster = Cluster::start(Path::new(SENTINEL), &rendered, work.path(), local_replicas).await;
    cluster.watch_readiness();
    flow::wait_until(Duration::from_secs(60), || cluster.all_ready()).await;
    let admin = std::fs::read_to_string(secrets.join("admin.token"))
        .unwrap()
        .trim()
        .to_owned();
    let tls = pki.map(|pki| pki.client_of(SERVER_NAME, mutual.then_some(pki)));
    Deployed {
        _work: work,
        database,
        secrets,
        cluster,
        admin,
        tls,
    }
}

/// Devices → readings → alerts → acknowledgement with replicas killed mid-stream; then the
/// audit log verifies intact.
async fn device_to_alert(deployed: &mut Deployed, variant: &str) {
    let outcome = flow::run(
        &mut deployed.cluster,
        &deployed.admin,
        &deployed.database,
        deployed.tls.as_ref(),
    )
    .await;
    println!(
        "{variant}: {} readings acknowledged, {} alerts raised, {} acknowledged, replicas killed and restarted: {:?}, rules partitions taken over in {:.1} s",
        outcome.acknowledged,
        outcome.raised,
        outcome.acknowledged_alerts,
        outcome.killed,
        outcome.take_over.as_secs_f64()
    );
    assert!(
        outcome.take_over < Duration::from_secs(10),
        "partitions taken over in {:?}",
        outcome.take_over
    );
    let (code, out) = sentinel_testkit::process::run_to_end(
        Path::new(SENTINEL),
        &[
            "audit".into(),
            "verify".into(),
            "--database-url".into(),
            deployed.database.clone(),
            "--public-key".into(),
            deployed
                .secrets
                .join("audit-signing.pub")
                .display()
                .to_string(),
        ],
    );
    assert_eq!(code, Some(0), "sentinel audit verify: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifests_as_shipped_run_split_and_survive_killed_replicas() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let mut deployed = deploy("base", None, false).await;
    device_to_alert(&mut deployed, "base").await;
    bounded::revoked_audit_credential(&deployed.cluster, &deployed.secrets, &deployed.admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_overlays_run_split_with_server_certificates_and_with_mutual_tls() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let pki = Pki::generate_for(&[SERVER_NAME, "sentinel-registry", "sentinel-ingestion"]);
    for (variant, mutual) in [("tls/server-only", false), ("tls/mutual", true)] {
        let mut deployed = deploy(variant, Some(&pki), mutual).await;
        device_to_alert(&mut deployed, variant).await;
        if mutual {
            // A caller without a certificate is refused at the handshake.
            let registry = deployed.cluster.services["sentinel-registry"];
            let without = pki.client_of(SERVER_NAME, None);
            assert!(
                sentinel_testkit::tls::health(registry, Some(without))
                    .await
                    .is_err(),
                "a client without a certificate was served"
            );
        }
    }
}
