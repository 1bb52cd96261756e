//! Replicas of the same services on one PostgreSQL behave as one: starting or restarting one
//! never invalidates the identity another presents to its peers.

use sentinel_platform::{ServiceKind, config::Secret};
use sentinel_testkit::{
    StoreKind, TestSuite,
    registry::{Client, register},
};

async fn admin_of(replica: &TestSuite, token: &str) -> Client {
    replica.registry_as(token).await
}

/// Registers a device through each replica: an audited write, which needs the replica's own
/// service credential to be valid at its audit peer.
async fn writes_through_each(replicas: &[&TestSuite], admin: &str, tag: &str) {
    for (n, replica) in replicas.iter().enumerate() {
        let mut client = admin_of(replica, admin).await;
        register(&mut client, &format!("{tag}-{n}")).await;
    }
}

#[tokio::test]
async fn replicas_on_one_postgres_never_revoke_each_other() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let services = [ServiceKind::Registry, ServiceKind::Audit];
    let (mut config, first_dir) = TestSuite::prepare(StoreKind::Postgres, &services).await;
    // One log, one key: every replica signs with the bootstrap's.
    let files = TestSuite::bootstrap_shared(&mut config);
    let first = TestSuite::start_with(config.clone(), first_dir).await;
    let admin = first.admin_token();
    // A second replica (and then a restart of it) on the same database, each minting the
    // credential its own services present.
    let second_dir = tempfile::tempdir().unwrap();
    let mut second_config = config.clone();
    second_config.data_dir = second_dir.path().to_owned();
    let second = TestSuite::start_with(second_config.clone(), second_dir).await;
    writes_through_each(&[&first, &second], &admin, "minted").await;
    let second_dir = second.stop_keeping_data().await;
    let second = TestSuite::start_with(second_config, second_dir).await;
    writes_through_each(&[&first, &second], &admin, "restarted").await;

    // Replicas that share one bootstrap identity.
    let from_files = |mut config: sentinel_platform::Config| {
        config.registry.identities_file = Some(files.path().join("identities.toml"));
        config.service_token_file = Some(files.path().join("registry.token"));
        config.service_token = None::<Secret>;
        config.read_secret_files().unwrap();
        config
    };
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let mut config = from_files(config.clone());
        config.data_dir = dir.path().to_owned();
        replicas.push(TestSuite::start_with(config, dir).await);
    }
    writes_through_each(
        &[&replicas[0], &replicas[1], &first],
        &admin,
        "bootstrapped",
    )
    .await;
    for replica in replicas {
        replica.stop().await;
    }
    second.stop().await;
    first.stop().await;
}
