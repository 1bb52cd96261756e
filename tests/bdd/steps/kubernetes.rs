//! Steps of the manifests as shipped, run as separate processes (`sentinel_testkit::split`).

use std::{path::Path, time::Duration};

use cucumber::{given, then, when};
use sentinel_testkit::split::{self, bounded};

use crate::world::SuiteWorld;

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

#[given(expr = "the {string} manifests deployed as separate processes")]
async fn deployed(world: &mut SuiteWorld, variant: String) {
    world.kubernetes.deployed = Some(split::deploy(Path::new(SENTINEL), &variant).await);
    world.kubernetes.variant = variant;
}

fn deployment(world: &mut SuiteWorld) -> &mut split::Deployed {
    world.kubernetes.deployed.as_mut().expect("a deployment")
}

#[when(
    "devices send glucose readings through the Services while one replica of each service is killed and started again"
)]
async fn flow(world: &mut SuiteWorld) {
    let variant = world.kubernetes.variant.clone();
    let outcome = split::device_to_alert(deployment(world), &variant).await;
    world.kubernetes.outcome = Some(outcome);
}

fn outcome(world: &SuiteWorld) -> &split::flow::Outcome {
    world.kubernetes.outcome.as_ref().expect("the flow ran")
}

#[then(
    "every acknowledged reading is stored and every expected alert was raised exactly once and acknowledged"
)]
async fn delivered(world: &mut SuiteWorld) {
    let outcome = outcome(world);
    // The flow read every acknowledged reading back; here the counts it found.
    assert!(outcome.acknowledged > 0, "{outcome:?}");
    assert_eq!(outcome.raised, outcome.expected, "{outcome:?}");
    assert_eq!(outcome.killed.len(), 4, "{outcome:?}");
    assert!(outcome.acknowledged_alerts > 0, "{outcome:?}");
}

#[then(
    expr = "the partitions of patients of the killed rules replica were taken over within {int} seconds"
)]
async fn taken_over(world: &mut SuiteWorld, seconds: u64) {
    let outcome = outcome(world);
    assert!(
        outcome.take_over < Duration::from_secs(seconds),
        "{outcome:?}"
    );
}

#[then("the deployment's audit log verifies intact")]
async fn verifies(world: &mut SuiteWorld) {
    let (intact, out) = split::audit_verifies(Path::new(SENTINEL), deployment(world));
    assert!(intact, "sentinel audit verify: {out}");
}

#[then(
    expr = "the audit log's credential revoked, every process stays bounded while callers knock for {int} seconds, and the audit replicas report NOT_SERVING"
)]
async fn bounded_when_revoked(world: &mut SuiteWorld, seconds: u64) {
    let deployed = deployment(world);
    bounded::revoked_audit_credential(
        &deployed.cluster,
        &deployed.secrets,
        &deployed.admin,
        Duration::from_secs(seconds),
    )
    .await;
}

#[given(
    "a PostgreSQL database migrated by its owner, and a login role per service that is a member of only that service's role"
)]
async fn roles_prepared(_world: &mut SuiteWorld) {
    // Prepared and checked in one go by the step below (sentinel_testkit::least_privilege).
}

#[then(
    "the services, each in a server of its own on its own role, carry a device's low glucose to an alert, and each role is refused DDL, other services' tables, deleting audit records and rewriting the migration history"
)]
async fn least_privilege(_world: &mut SuiteWorld) {
    sentinel_testkit::least_privilege::each_service_on_its_own_role().await;
}

#[then("every service is connected to the database as its own login role, not as the owner")]
async fn own_logins(world: &mut SuiteWorld) {
    let deployed = deployment(world);
    let pool = sqlx::PgPool::connect(&deployed.database)
        .await
        .expect("the database");
    let database = deployed
        .database
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_owned();
    let users: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT usename::text FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY 1",
    )
    .bind(&database)
    .fetch_all(&pool)
    .await
    .expect("connections");
    pool.close().await;
    assert_eq!(
        users,
        [
            "sentinel_audit",
            "sentinel_ingestion",
            "sentinel_registry",
            "sentinel_rules"
        ],
        "who is connected to {database}"
    );
}

#[then(
    expr = "a clinician watching one rules replica is told of each alert another replica raised within {int} ms of its reading's acknowledgement"
)]
async fn told_across_replicas(world: &mut SuiteWorld, millis: u64) {
    let latencies = split::told::alerts_across_replicas(deployment(world)).await;
    println!("acknowledged → told through the other rules replica: {latencies:?}");
    let slowest = latencies.iter().max().copied().unwrap_or_default();
    // Looking again (every 30 s) at each of two hops would miss this bound most of the time.
    assert!(
        slowest < Duration::from_millis(millis),
        "slowest {slowest:?}: told by looking again, not by notification ({latencies:?})"
    );
}
