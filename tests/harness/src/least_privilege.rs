//! Least privilege on PostgreSQL: the schema owner migrates (a separate step); each service runs
//! as a login role that is only a member of the role its migrations grant — `sentinel_<svc>_rw`
//! (its own tables, no DDL), or for the audit log `sentinel_audit_appender` (SELECT and INSERT
//! only) — and the services, each in a server of its own, still carry a reading to an alert,
//! while each role is refused what it does not need.

use std::{net::SocketAddr, path::Path, time::Duration};

use crate::{
    Bearer, StoreKind, TestSuite, process,
    registry::{issue, patient, register_bound, spec},
};
use sentinel_contract::{ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules};
use sentinel_platform::{Config, ServiceKind};
use tonic::transport::Channel;

/// `url` with `user` instead of its user.
fn as_user(url: &str, user: &str) -> String {
    sentinel_platform::store::with_login(url, Some(user), None).unwrap()
}

async fn owner_runs(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// `sql` run as `url`'s user fails for want of privilege.
async fn refused(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let err = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .expect_err(sql);
    assert!(
        err.to_string().contains("permission denied") || err.to_string().contains("must be owner"),
        "{sql}: {err}"
    );
    pool.close().await;
}

/// One service in a server of its own at `listen`, as `url`'s user, its store migrated before.
async fn service(
    kind: ServiceKind,
    url: &str,
    listen: SocketAddr,
    files: &Path,
    peers: &[(ServiceKind, SocketAddr)],
) -> TestSuite {
    let (mut config, data_dir) = TestSuite::prepare(StoreKind::Sqlite, &[kind]).await;
    config.listen = listen;
    config.database_url = Some(url.to_owned());
    config.migrate_on_start = false;
    config.service_token_file = Some(files.join(format!("{}.token", kind.name())));
    config.health.check_interval_ms = 200;
    if kind == ServiceKind::Registry {
        config.registry.identities_file = Some(files.join("identities.toml"));
    }
    if kind == ServiceKind::Audit {
        config.audit.signing_key_file = Some(files.join("audit-signing.key"));
    }
    for (peer, addr) in peers {
        let url = Some(format!("http://{addr}"));
        match peer {
            ServiceKind::Registry => config.peers.registry = url,
            ServiceKind::Audit => config.peers.audit = url,
            ServiceKind::Ingestion => config.peers.ingestion = url,
            ServiceKind::Rules => {}
        }
    }
    config.read_secret_files().unwrap();
    TestSuite::start_with(config, data_dir).await
}

/// Runs the four services on a fresh PostgreSQL database, each as its own login role; checks
/// that a device's low glucose becomes an alert and that each role is refused what it does not
/// need. Panics (failing the caller) otherwise.
pub async fn each_service_on_its_own_role() {
    let owner = StoreKind::Postgres.fresh_database_url().await.unwrap();
    // The separate migration step, as the schema owner.
    let migrate = Config {
        database_url: Some(owner.clone()),
        ..Config::default()
    };
    for (_, store) in sentinel::suite::open_stores(&migrate).await.unwrap() {
        store.close().await;
    }
    // The DBA's step: a login role per service, member of its service role only.
    let database = owner.rsplit('/').next().unwrap().to_owned();
    let mut urls = std::collections::BTreeMap::new();
    for (kind, role) in [
        (ServiceKind::Registry, "sentinel_registry_rw"),
        (ServiceKind::Ingestion, "sentinel_ingestion_rw"),
        (ServiceKind::Rules, "sentinel_rules_rw"),
        (ServiceKind::Audit, "sentinel_audit_appender"),
    ] {
        let login = format!("{}_{database}", kind.name());
        owner_runs(&owner, &format!("CREATE ROLE {login} LOGIN IN ROLE {role}")).await;
        urls.insert(kind, as_user(&owner, &login));
    }

    let files = tempfile::tempdir().unwrap();
    sentinel::bootstrap::run(&sentinel::bootstrap::Options {
        out: files.path().to_owned(),
        rotate: false,
        origin: "sentinel.local/audit".into(),
        tls: false,
        tls_names: Vec::new(),
    })
    .unwrap();
    let addr: std::collections::BTreeMap<ServiceKind, SocketAddr> = ServiceKind::ALL
        .into_iter()
        .map(|k| (k, process::free_address()))
        .collect();
    let peers: Vec<(ServiceKind, SocketAddr)> = addr.iter().map(|(k, a)| (*k, *a)).collect();
    let mut running = Vec::new();
    for kind in ServiceKind::ALL {
        running.push(service(kind, &urls[&kind], addr[&kind], files.path(), &peers).await);
    }

    // A device's low glucose becomes an alert, every service on its own role.
    let admin = std::fs::read_to_string(files.path().join("admin.token")).unwrap();
    let channel = |kind: ServiceKind, token: &str| {
        let channel = Channel::from_shared(format!("http://{}", addr[&kind]))
            .unwrap()
            .connect_lazy();
        tonic::service::interceptor::InterceptedService::new(channel, Bearer::new(token.trim()))
    };
    let mut registry_client = registry::device_registry_client::DeviceRegistryClient::new(channel(
        ServiceKind::Registry,
        &admin,
    ));
    let device = register_bound(
        &mut registry_client,
        spec("roles-1"),
        "pt-roles",
        3_600_000_000,
    )
    .await;
    let (_, secret) = issue(
        &mut registry_client,
        registry::PrincipalKind::Device,
        &device,
        &["device"],
    )
    .await;
    let (_, nurse) = issue(
        &mut registry_client,
        registry::PrincipalKind::User,
        "nurse",
        &["clinician"],
    )
    .await;
    let reading = crate::split::flow::glucose(&device, 0);
    let mut ingestion_client = ingestion::reading_ingestion_client::ReadingIngestionClient::new(
        channel(ServiceKind::Ingestion, &secret),
    );
    let mut acknowledged = None;
    for _ in 0..100 {
        match ingestion_client
            .ingest(ingestion::IngestRequest {
                batch_id: "roles-b1".into(),
                readings: vec![reading.clone()],
            })
            .await
        {
            Ok(answer) => {
                acknowledged = Some(answer.into_inner());
                break;
            }
            // The peers may still be coming up.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(acknowledged.expect("acknowledged").accepted, 1);
    let mut rules_client =
        rules::clinical_rules_client::ClinicalRulesClient::new(channel(ServiceKind::Rules, &nurse));
    let mut raised = Vec::new();
    for _ in 0..150 {
        raised = rules_client
            .list_alerts(rules::ListAlertsRequest {
                patient: patient("pt-roles"),
                open_only: true,
                limit: 10,
            })
            .await
            .map(|a| a.into_inner().alerts)
            .unwrap_or_default();
        if !raised.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        raised
            .iter()
            .any(|a| a.rule_id == "rule-hypoglycaemia-level-1"),
        "{raised:?}"
    );

    // And no more than that.
    refused(&urls[&ServiceKind::Registry], "DROP TABLE registry.devices").await;
    refused(
        &urls[&ServiceKind::Registry],
        "SELECT * FROM audit.audit_records",
    )
    .await;
    refused(
        &urls[&ServiceKind::Rules],
        "CREATE TABLE rules.extra (id INT)",
    )
    .await;
    refused(
        &urls[&ServiceKind::Audit],
        "DELETE FROM audit.audit_records",
    )
    .await;
    refused(
        &urls[&ServiceKind::Audit],
        "ALTER TABLE audit.audit_records DISABLE TRIGGER USER",
    )
    .await;
    refused(
        &urls[&ServiceKind::Ingestion],
        "DELETE FROM ingestion._sqlx_migrations",
    )
    .await;
    for suite in running {
        suite.stop().await;
    }
}
