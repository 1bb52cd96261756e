//! The Kubernetes manifests as shipped, run as separate processes: `sentinel bootstrap`, then
//! `kubectl kustomize`, then each Deployment's container command with its environment and
//! mounted files, several replicas each, against a throwaway PostgreSQL ([`deploy`]); and what a
//! hospital does through its Services, with one replica of each service killed (SIGKILL)
//! mid-stream and started again ([`device_to_alert`]), or with the audit log's credential
//! revoked ([`bounded`]); and whether a clinician watching one rules replica is told at once of
//! what another raised ([`told`]).

pub mod bounded;
pub mod cluster;
pub mod flow;
pub mod manifests;
pub mod told;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::StoreKind;
use cluster::Cluster;

/// Replicas a local run starts of a Deployment: what the manifest asks, at most two.
fn local_replicas(container: &manifests::Container) -> usize {
    container.replicas.clamp(1, 2)
}

/// The name every service's certificate carries (`tls.server_name` in the TLS overlays).
pub const SERVER_NAME: &str = "sentinel.sentinel.svc";

/// A split deployment of one variant of the manifests, running and ready.
#[derive(Debug)]
pub struct Deployed {
    _work: tempfile::TempDir,
    pub database: String,
    /// What `sentinel bootstrap` wrote.
    pub secrets: PathBuf,
    pub cluster: Cluster,
    /// The first admin's credential.
    pub admin: String,
    /// How clients reach the Services (TLS overlays).
    pub tls: Option<ClientTlsConfig>,
}

/// How to run one variant of the manifests.
pub struct Plan<'a> {
    /// `base`, `tls/server-only` or `tls/mutual` (certificates from `sentinel bootstrap --tls`).
    pub variant: &'a str,
    /// Replicas started of each Deployment.
    pub replicas: &'a dyn Fn(&manifests::Container) -> usize,
    /// A PostgreSQL that syncs its commits (benchmarks) rather than the tests' fast one.
    pub durable: bool,
    /// Environment added to (or replacing in) one Deployment's containers: (deployment, name, value).
    pub env: Vec<(&'a str, &'a str, String)>,
}

impl std::fmt::Debug for Plan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("variant", &self.variant)
            .field("durable", &self.durable)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

impl<'a> Plan<'a> {
    /// The manifests as shipped, at most two replicas of each Deployment.
    pub fn as_shipped(variant: &'a str) -> Self {
        Plan {
            variant,
            replicas: &local_replicas,
            durable: false,
            env: Vec::new(),
        }
    }
}

/// Renders `variant`, runs it against a fresh database and waits until every replica is ready.
pub async fn deploy(binary: &Path, variant: &str) -> Deployed {
    deploy_with(binary, Plan::as_shipped(variant)).await
}

/// Runs `plan` against a fresh database and waits until every replica is ready.
pub async fn deploy_with(binary: &Path, plan: Plan<'_>) -> Deployed {
    let work = tempfile::tempdir().unwrap();
    let database = if plan.durable {
        StoreKind::Postgres.fresh_durable_database_url().await
    } else {
        StoreKind::Postgres.fresh_database_url().await
    }
    .unwrap();
    let mut external = manifests::External::new();
    external.insert(
        "sentinel-db-app".into(),
        [("uri".to_owned(), database.clone().into_bytes())].into(),
    );
    let (mut rendered, secrets) = manifests::render(binary, work.path(), plan.variant, external);
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
    for (deployment, name, value) in &plan.env {
        let container = rendered
            .deployments
            .iter_mut()
            .find(|c| c.name == *deployment)
            .expect("a Deployment of that name");
        container.env.retain(|(n, _)| n != name);
        container.env.push(((*name).to_owned(), value.clone()));
    }
    create_roles(&database, &rendered.database_roles).await;
    let cluster = Cluster::start(binary, &rendered, work.path(), &database, plan.replicas).await;
    cluster.watch_readiness();
    flow::wait_until(Duration::from_secs(60), || cluster.all_ready()).await;
    let admin = std::fs::read_to_string(secrets.join("admin.token"))
        .unwrap()
        .trim()
        .to_owned();
    let tls = plan
        .variant
        .starts_with("tls/")
        .then(|| client_tls(&secrets.join("tls"), plan.variant == "tls/mutual"));
    Deployed {
        _work: work,
        database,
        secrets,
        cluster,
        admin,
        tls,
    }
}

/// How a client reaches the Services of a TLS overlay: trusting the bootstrap's CA and, for
/// mutual TLS, presenting the certificate it made (a hospital would issue its clients their own
/// from the same CA).
fn client_tls(dir: &Path, mutual: bool) -> ClientTlsConfig {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let config = ClientTlsConfig::new()
        .domain_name(SERVER_NAME)
        .ca_certificate(Certificate::from_pem(read("ca.crt")));
    match mutual {
        true => config.identity(Identity::from_pem(read("tls.crt"), read("tls.key"))),
        false => config,
    }
}

/// Creates the database's managed roles as CloudNativePG would (roles are per server: kept when
/// an earlier deployment on the same server made them).
async fn create_roles(owner: &str, roles: &[manifests::DatabaseRole]) {
    let pool = sqlx::PgPool::connect(owner).await.unwrap();
    for role in roles {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(&role.name)
                .fetch_one(&pool)
                .await
                .unwrap();
        let login = if role.login { "LOGIN" } else { "NOLOGIN" };
        let password = role
            .password
            .as_ref()
            .map(|p| format!(" PASSWORD '{}'", p.replace('\'', "''")))
            .unwrap_or_default();
        let verb = if exists { "ALTER" } else { "CREATE" };
        let statement = format!("{verb} ROLE {} {login}{password}", role.name);
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .unwrap();
        for group in &role.in_roles {
            let grant = format!("GRANT {group} TO {}", role.name);
            sqlx::query(sqlx::AssertSqlSafe(grant))
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    pool.close().await;
}

/// Devices → readings → alerts → acknowledgement with a replica of each service killed
/// mid-stream (the flow checks that every acknowledged reading is stored and every expected alert
/// raised once); what it found, printed.
pub async fn device_to_alert(deployed: &mut Deployed, variant: &str) -> flow::Outcome {
    let outcome = flow::run(
        &mut deployed.cluster,
        &deployed.admin,
        &deployed.database,
        deployed.tls.as_ref(),
    )
    .await;
    println!(
        "{variant}: {} readings acknowledged, {} alerts raised (expected {}), {} acknowledged, replicas killed and restarted: {:?}, rules partitions taken over in {:.1} s",
        outcome.acknowledged,
        outcome.raised,
        outcome.expected,
        outcome.acknowledged_alerts,
        outcome.killed,
        outcome.take_over.as_secs_f64()
    );
    outcome
}

/// Whether `sentinel audit verify` finds the deployment's audit log intact; what it printed.
pub fn audit_verifies(binary: &Path, deployed: &Deployed) -> (bool, String) {
    let (code, out) = crate::process::run_to_end(
        binary,
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
    (code == Some(0), out)
}
